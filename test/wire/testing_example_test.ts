import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { test } from "node:test";
import type { OpenOptions } from "../../mod.ts";
import { Recorder, Replayer } from "../../src/testing/mod.ts";
import { family } from "../../src/ynl/mod.ts";
import { rtLink } from "../../src/ynl/rt_link.ts";

// The code under test: the MTU of a link, by name. It takes open() options, so that a test
// can give it a transport.
async function mtuOf(ifname: string, options: OpenOptions = {}): Promise<number | undefined> {
  await using rt = await family(rtLink, options);
  const link = await rt.do("getlink", { ifname });
  return link.mtu;
}

const fixture = new URL("./fixtures/mtu_lo.json", import.meta.url);

test("mtuOf() reads the MTU of lo", async () => {
  if (process.env.NETLINK_RECORD) {
    // Against the real kernel (as root on Linux), to write or refresh the fixture.
    const recorder = new Recorder();
    assert.equal(await mtuOf("lo", { transport: recorder.transport }), 65536);
    mkdirSync(new URL(".", fixture), { recursive: true });
    writeFileSync(fixture, JSON.stringify(recorder.session(), null, 1) + "\n");
  }
  // Without the kernel: the recorded replies answer the same requests.
  const replayer = new Replayer(readFileSync(fixture, "utf8"));
  assert.equal(await mtuOf("lo", { transport: replayer.transport }), 65536);
  replayer.finish();
});
