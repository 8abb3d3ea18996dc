// Run by errors_test.ts without CAP_NET_ADMIN: prints the error each change gets, one a line.
import { openRoute, TrafficControl } from "../../src/route/mod.ts";
import { ethtool } from "../../src/ynl/ethtool.ts";
import { family } from "../../src/ynl/family.ts";

const netns = (globalThis as { Deno?: { args: string[] } }).Deno?.args[0] ?? process.argv[2];
await using ip = await openRoute({ netns });
await using tc = await TrafficControl.open({ socket: ip.socket });
await using et = await family(ethtool, { netns });
for (
  const change of [
    () => ip.link.add({ name: "nope0", kind: "bridge" }),
    () => tc.addQdisc({ dev: "lo", kind: "pfifo" }),
    () => et.do("channels-set", { header: { devName: "lo" }, rxCount: 1 }),
  ]
) {
  try {
    await change();
    console.log("no error");
  } catch (err) {
    console.log(`${(err as Error).name}: ${(err as Error).message}`);
  }
}
