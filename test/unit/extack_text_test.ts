// An extended ack's text (NLMSGERR_ATTR_MSG) is chosen by whoever sent the ack: a kernel module,
// or on NETLINK_USERSOCK any process. Error messages, which programs log, show it with its control
// characters escaped; `detail` keeps it as sent, as iproute2 and ynl.py take it.

import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeAck } from "../../src/ack.ts";
import { NETLINK_ROUTE, NLM_F_ACK, NLM_F_REQUEST, RTM_NEWLINK } from "../../src/constants.ts";
import { NetlinkError } from "../../src/errors.ts";
import { format } from "../../src/format.ts";
import { parseIP } from "../../src/ip.ts";
import { open } from "../../src/open.ts";
import { explain } from "../../src/route/_context.ts";
import { ackMessage, FakeKernel } from "../../src/testing/mod.ts";
import { family, FamilyError } from "../../src/ynl/mod.ts";
import { rtLink } from "../../src/ynl/rt_link.ts";

// An OSC that retitles the terminal, a one-character CSI (U+009B: colours, cursor moves), DEL.
const TEXT = "bad \x1b]0;owned\x07 \u009b2J name\x7f\n";
const ESCAPED = "bad \\u001b]0;owned\\u0007 \\u009b2J name\\u007f\\n";

const request = {
  type: RTM_NEWLINK,
  flags: NLM_F_REQUEST | NLM_F_ACK,
  seq: 7,
  portid: 0,
  payload: new Uint8Array(16),
};
const ack = ackMessage(request, 22, { message: TEXT });

test("NetlinkError.message shows an extended ack's control characters escaped; detail keeps them", () => {
  const err = new NetlinkError(decodeAck(ack));
  assert.equal(err.message, `EINVAL: ${ESCAPED}`);
  assert.equal(err.detail, TEXT);
  // Printable text, quotes and backslashes included, is shown as it is.
  const plain = new NetlinkError({ errno: 22, detail: "Unknown \"foo\\bar\", é ok" });
  assert.equal(plain.message, "EINVAL: Unknown \"foo\\bar\", é ok");
});

test("the typed layer's and the route layer's error messages escape it too", () => {
  const err = new NetlinkError({ ...decodeAck(ack), offset: 20 });
  const family = new FamilyError(err, "ifname");
  assert.equal(family.message, `EINVAL: ${ESCAPED}, at ifname`);
  assert.equal(family.detail, TEXT);
  const explained = explain(err, "link.add(\"v0\")") as NetlinkError;
  assert.equal(explained.message, `EINVAL: link.add("v0"): ${ESCAPED}, at offset 20`);
});

test("format() escapes C1 controls and DEL as well as C0 ones (JSON.stringify leaves them)", () => {
  const line = format(ack, { protocol: NETLINK_ROUTE });
  assert.ok(line.includes(`msg="${ESCAPED}"`), line);
  // deno-lint-ignore no-control-regex
  assert.ok(!/[\x00-\x1f\x7f-\x9f]/.test(line), line);
});

test("format() and error messages escape the characters that reorder or break text: bidirectional controls (U+202E), line and paragraph separators", () => {
  // Left as they were: an ifname with U+202E printed "evil" backwards in a log, U+2028 broke
  // the line in a viewer.
  const text = "a\u202ecba\u2066\u2069\u200f\u2028b\u2029";
  const escaped = "a\\u202ecba\\u2066\\u2069\\u200f\\u2028b\\u2029";
  const line = format(ackMessage(request, 22, { message: text }), { protocol: NETLINK_ROUTE });
  assert.ok(line.includes(`msg="${escaped}"`), line);
  assert.equal(new NetlinkError({ errno: 22, detail: text }).message, `EINVAL: ${escaped}`);
  assert.throws(() => parseIP(text), {
    message: `address: "${escaped}" is not an IPv4 or IPv6 address`,
  });
});

test("a caller's string in an error is quoted with the same escapes: C0, DEL and C1 (U+009B)", () => {
  // shown() (src/_options.ts), which every option error quotes a value with.
  assert.throws(() => parseIP(TEXT), {
    message: `address: "${ESCAPED}" is not an IPv4 or IPv6 address`,
  });
  assert.throws(() => parseIP("\0"), {
    message: `address: "\\u0000" is not an IPv4 or IPv6 address`,
  });
});

test("a caller's name that is no option, field, operation, attribute, enum value or group is quoted with those escapes too", async () => {
  // These errors put the name between quotes raw: an unknown option or message field, and the
  // typed layer's unknown operation, attribute, struct member, enum value and multicast group.
  const kernel = new FakeKernel();
  await using rt = await family(rtLink, { transport: kernel.open });
  await using sock = await open(NETLINK_ROUTE, { transport: kernel.open });
  const calls: (() => unknown)[] = [
    () => open(NETLINK_ROUTE, { [TEXT]: 1 } as never),
    () => sock.send({ type: RTM_NEWLINK, [TEXT]: 1 } as never),
    () => format({ ...request, flags: 0 }, { protocol: NETLINK_ROUTE, [TEXT]: 1 } as never),
    () => rt.encode(TEXT),
    () => rt.encode("getlink", { [TEXT]: 1 }),
    () => rt.encode("newlink", { map: { [TEXT]: 1 } } as never),
    () => rt.encode("newlink", { linkinfo: { kind: "vlan", data: { protocol: TEXT } } }),
    () => rt.monitor({ groups: [TEXT as never] }),
  ];
  for (const call of calls) {
    await assert.rejects(
      (async () => await call())(),
      (err: Error) =>
        err instanceof TypeError && err.message.includes(`"${ESCAPED}"`)
        && ![...err.message].some((c) => c < " " || (c >= "\u007f" && c <= "\u009f")),
    );
  }
});
