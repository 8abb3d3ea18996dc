// The queue under every stream, the dump's runs and the socket's unowned datagrams.

import assert from "node:assert/strict";
import { test } from "node:test";
import { Fifo } from "../../src/_fifo.ts";

test("Fifo: length (a field) and weight follow push, shift, compaction and clear; order holds", () => {
  const q = new Fifo<number>((n) => n % 7);
  let weight = 0;
  assert.equal(q.length, 0);
  assert.equal(q.shift(), undefined);
  assert.equal(q.length, 0, "a shift of nothing leaves it at 0");
  // Past the compaction threshold (a consumed prefix of 1024 and half the array).
  for (let i = 0; i < 3000; i++) {
    q.push(i);
    weight += i % 7;
  }
  assert.equal(q.length, 3000);
  for (let i = 0; i < 2500; i++) {
    assert.equal(q.shift(), i);
    weight -= i % 7;
    assert.equal(q.length, 2999 - i);
  }
  assert.equal(q.weight, weight);
  assert.equal(q.first, 2500);
  assert.equal(q.last, 2999);
  q.push(3000);
  assert.equal(q.length, 501);
  while (q.length > 0) q.shift();
  assert.equal(q.weight, 0);
  assert.equal(q.first, undefined);
  q.push(1);
  q.push(2);
  q.clear();
  assert.equal(q.length, 0);
  assert.equal(q.weight, 0);
  assert.equal(q.shift(), undefined);
});
