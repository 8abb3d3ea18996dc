// Run by errors_test.ts without CAP_NET_ADMIN: prints the error a change gets.
import { openRoute } from "../../src/route/mod.ts";

const netns = (globalThis as { Deno?: { args: string[] } }).Deno?.args[0] ?? process.argv[2];
await using ip = await openRoute({ netns });
try {
  await ip.link.add({ name: "nope0", kind: "bridge" });
  console.log("no error");
} catch (err) {
  console.log(`${(err as Error).name}: ${(err as Error).message}`);
}
