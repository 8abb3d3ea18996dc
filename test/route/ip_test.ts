// src/ip.ts: parsing and formatting addresses, prefixes and MACs. Pure; both runtimes.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  formatIP,
  formatMAC,
  formatPrefix,
  ipFamily,
  parseIP,
  parseMAC,
  parsePrefix,
} from "../../src/ip.ts";

const bytes = (...b: number[]) => Uint8Array.from(b);

test("IPv4 parses and formats as a dotted quad", () => {
  assert.deepEqual(parseIP("192.0.2.1"), bytes(192, 0, 2, 1));
  assert.deepEqual(parseIP("0.0.0.0"), bytes(0, 0, 0, 0));
  assert.deepEqual(parseIP("255.255.255.255"), bytes(255, 255, 255, 255));
  assert.equal(formatIP(bytes(10, 0, 0, 1)), "10.0.0.1");
});

test("IPv6 formats in RFC 5952 canonical form (as inet_ntop and ip write it)", () => {
  const cases: [string, string][] = [
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // tie: the first run
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // a single zero group stays
    ["2001:db8:0:0:0:1:0:0", "2001:db8::1:0:0"], // the longest run, not the first
    ["0:0:0:0:0:0:0:0", "::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["fe80:0:0:0:0:0:0:0", "fe80::"],
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1"], // IPv4-mapped: mixed notation
    ["::ffff:c000:201", "::ffff:192.0.2.1"],
    ["::c000:201", "::192.0.2.1"], // IPv4-compatible, as glibc's inet_ntop prints it
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
  ];
  for (const [input, canonical] of cases) {
    assert.equal(formatIP(parseIP(input)), canonical, input);
    assert.deepEqual(parseIP(canonical), parseIP(input), canonical);
  }
});

test("formatted addresses parse back to the same bytes (random)", () => {
  for (let n = 0; n < 2000; n++) {
    const b = new Uint8Array(n % 2 ? 16 : 4);
    // Sparse bytes so zero runs of every length occur.
    for (let i = 0; i < b.length; i++) b[i] = Math.random() < 0.5 ? 0 : (Math.random() * 256) | 0;
    assert.deepEqual(parseIP(formatIP(b)), b, formatIP(b));
  }
});

test("bad addresses throw a TypeError naming the field", () => {
  const badOnes = [
    "",
    "1.2.3",
    "1.2.3.4.5",
    "256.0.0.1",
    "01.2.3.4",
    "1.2.3.-4",
    " 1.2.3.4",
    "1:2:3:4:5:6:7:8:9",
    "1::2::3",
    ":::",
    "12345::",
    "1:2:3:4:5:6:7",
    "fe80::1%eth0",
    "::1.2.3",
    "1:2:3:4:5:6:7:1.2.3.4",
    "g::1",
  ];
  for (const text of badOnes) {
    assert.throws(() => parseIP(text, "gateway"), (e: unknown) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, /^gateway: ".*" is not an IPv4 or IPv6 address$/);
      return true;
    }, text);
  }
  assert.throws(() => parseIP(42 as unknown as string), /^TypeError: address: 42 is not/);
  assert.throws(() => formatIP(new Uint8Array(5)), /4 or 16 bytes, not 5/);
});

test("ipFamily tells v4 from v6 from neither", () => {
  assert.equal(ipFamily("10.0.0.1"), 2);
  assert.equal(ipFamily("fe80::1"), 10);
  assert.equal(ipFamily("eth0"), undefined);
});

test("prefixes parse with and without a length, and format back", () => {
  assert.deepEqual(parsePrefix("10.0.0.0/24"), {
    family: 2,
    address: bytes(10, 0, 0, 0),
    prefixLength: 24,
  });
  assert.equal(parsePrefix("10.0.0.1").prefixLength, 32);
  assert.equal(parsePrefix("2001:db8::").prefixLength, 128);
  const p = parsePrefix("2001:DB8::/32");
  assert.equal(p.family, 10);
  assert.equal(formatPrefix(p.address, p.prefixLength), "2001:db8::/32");
  assert.equal(parsePrefix("0.0.0.0/0").prefixLength, 0);
  for (const text of ["10.0.0.0/", "10.0.0.0/024", "x/8", "10.0.0.0/8/8", "10.0.0.0/-1"]) {
    assert.throws(() => parsePrefix(text, "dst"), /^TypeError: dst: ".*" is not a prefix/, text);
  }
  // A netmask for a length (ifconfig's, which ip takes too) says the length it is.
  assert.throws(() => parsePrefix("10.41.0.1/255.255.255.0", "address"), {
    name: "TypeError",
    message: "address: \"10.41.0.1/255.255.255.0\" is not a prefix: the length must be 0..32 "
      + "(the netmask 255.255.255.0 is /24: \"10.41.0.1/24\")",
  });
  assert.throws(() => parsePrefix("10.0.0.0/255.255.255.255"), /\(the netmask .* is \/32: /);
  assert.throws(() => parsePrefix("10.0.0.0/0.0.0.0"), /\(the netmask .* is \/0: /);
  // Not ones then zeros: no netmask.
  assert.throws(() => parsePrefix("10.0.0.0/255.0.255.0"), /the length must be 0\.\.32$/);
  // A length longer than the address is out of range: a RangeError naming the range.
  assert.throws(() => parsePrefix("10.0.0.0/33", "dst"), {
    name: "RangeError",
    message: "dst: \"10.0.0.0/33\": the prefix length 33 is not from 0 to 32",
  });
  assert.throws(() => parsePrefix("::/1290", "dst"), {
    name: "RangeError",
    message: "dst: \"::/1290\": the prefix length 1290 is not from 0 to 128",
  });
});

test("MACs parse in either case and separator, and format as ip prints them", () => {
  assert.deepEqual(parseMAC("aa:BB:cc:dd:ee:0f"), bytes(0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x0f));
  assert.deepEqual(parseMAC("AA-BB-CC-DD-EE-FF"), bytes(0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff));
  assert.deepEqual(parseMAC("0:1:2:3:4:5"), bytes(0, 1, 2, 3, 4, 5));
  assert.equal(formatMAC(bytes(2, 0, 0, 0, 0, 0xab)), "02:00:00:00:00:ab");
  assert.equal(formatMAC(bytes()), "");
  for (
    const text of [
      "aa:bb:cc:dd:ee",
      "aa:bb:cc:dd:ee:ff:00",
      "aa:bb-cc:dd:ee:ff",
      "aaa:bb:cc:dd:ee:ff",
      "gg:bb:cc:dd:ee:ff",
      "",
    ]
  ) {
    assert.throws(
      () => parseMAC(text, "lladdr"),
      /^TypeError: lladdr: ".*" is not a MAC address/,
      text,
    );
  }
});
