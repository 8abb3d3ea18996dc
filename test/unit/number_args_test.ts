// The exported functions that take a number (alignments, tc's formatters and calculators)
// refuse what is no number with a TypeError naming the function and argument, and NaN,
// infinities, negatives and fractions (where the value is a whole count) with a RangeError.
// Before, a Symbol or a bigint failed in the engine's words ("Cannot convert a Symbol value to
// a number", "Cannot mix BigInt and other types"), and NaN, -1 or 1.5 gave "NaNbit", 0 or 4.5.

import assert from "node:assert/strict";
import { test } from "node:test";
import { alignAttribute } from "../../src/attribute.ts";
import { alignMessage } from "../../src/message.ts";
import {
  calcXmitsize,
  calcXmittime,
  formatHandle,
  formatRate,
  formatSize,
  formatTime,
  parseRate,
  parseSize,
  parseTime,
  readPsched,
} from "../../src/route/mod.ts";

const clock = { tickInUsec: 15.625, hz: 1e9 };

/** Each function, the argument it is checked for, and whether fractions are whole counts. */
const functions: [string, (value: never) => unknown, boolean][] = [
  ["alignMessage(): length", alignMessage, true],
  ["alignAttribute(): length", alignAttribute, true],
  ["formatRate(): bytesPerSecond", formatRate, true],
  ["formatSize(): bytes", formatSize, true],
  ["formatTime(): usec", formatTime, false],
  ["formatHandle(): handle", formatHandle, true],
  ["calcXmittime(): rate", (v) => calcXmittime(v, 1500, clock), false],
  ["calcXmittime(): size", (v) => calcXmittime(125_000, v, clock), false],
  ["calcXmitsize(): rate", (v) => calcXmitsize(v, 1000, clock), false],
  ["calcXmitsize(): ticks", (v) => calcXmitsize(125_000, v, clock), false],
  ["rate", parseRate, true],
  ["size", parseSize, true],
  ["time", parseTime, true],
];

const escaped = (text: string) => text.replace(/[()]/g, "\\$&");

test("a number argument that is no number is a TypeError naming the function and argument", () => {
  for (const [name, fn] of functions) {
    for (
      const [value, shown] of [[Symbol("s"), "a Symbol"], [10n, "10n"], [null, "null"]] as const
    ) {
      if (name.length < 5 && value === null) continue; // parse*() take a string too: its error
      if (name.length < 5) {
        assert.throws(() => fn(value as never), TypeError, `${name}: ${String(value)}`);
        continue;
      }
      assert.throws(
        () => fn(value as never),
        new RegExp(`^TypeError: ${escaped(name)} must be an? .*, got ${shown}`),
        `${name}: ${String(value)}`,
      );
    }
    if (name.length >= 5) {
      assert.throws(() => fn("12" as never), new RegExp(`^TypeError: ${escaped(name)}.*got "12"`));
    }
  }
});

test("NaN, an infinity and (for whole counts) a fraction are a TypeError, a negative a RangeError, naming the argument: the route layer's rule", () => {
  for (const [name, fn, whole] of functions) {
    for (const value of [NaN, Infinity, -Infinity, ...whole ? [1.5] : []]) {
      assert.throws(
        () => fn(value as never),
        new RegExp(`^TypeError: ${escaped(name)} must be an? `),
        `${name}: ${value}`,
      );
    }
    assert.throws(
      () => fn(-1 as never),
      new RegExp(`^RangeError: ${escaped(name)} must be an? `),
      `${name}: -1`,
    );
  }
  assert.throws(
    () => formatHandle(2 ** 32),
    /^RangeError: formatHandle\(\): handle must be an integer from 0 to 4294967295, got 4294967296/,
  );
  assert.throws(
    () => alignMessage(2 ** 53),
    /^RangeError: alignMessage\(\): length must be an integer from 0 to 2\^53 - 1/,
  );
  // What they take still works.
  assert.deepEqual(
    [
      alignMessage(21),
      alignAttribute(5),
      formatRate(1_250_000),
      formatSize(1600),
      formatTime(1500.5),
    ],
    [24, 8, "10Mbit", "1600b", "1.5ms"],
  );
  assert.equal(formatHandle(0x10010), "1:10");
  assert.equal(calcXmitsize(125_000, calcXmittime(125_000, 10_240, clock), clock), 10_240);
});

test("readPsched(): text that is no string is a TypeError naming it", () => {
  assert.throws(() => readPsched(5 as never), /^TypeError: readPsched\(\): text must be .*, got 5/);
});
