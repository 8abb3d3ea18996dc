// Helpers for the tests against the project's kernel module (run in the guest, where it is
// loaded): message builders for its classic unit, and module (re)loading.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { NLTEST_UNIT_DEFAULT } from "../../kernel-module/nltest_uapi.ts";
import { AttributeDecoder, AttributeEncoder } from "../../src/attribute.ts";
import type { MessageInput } from "../../src/socket.ts";

export const UNIT = NLTEST_UNIT_DEFAULT;

/** A message of the module's unit: `type` with attributes built by `build`. */
export function nltest(
  type: number,
  build: (attrs: AttributeEncoder) => void = () => {},
  flags = 0,
): MessageInput {
  const attrs = new AttributeEncoder();
  build(attrs);
  return { type, flags, payload: attrs.finish() };
}

/** The attributes of a message of the module's unit, by type (last one wins). */
export function attributes(payload: Uint8Array): Map<number, AttributeDecoder> {
  const byType = new Map<number, AttributeDecoder>();
  for (const a = new AttributeDecoder(payload); a.next();) {
    byType.set(a.type, new AttributeDecoder(a.bytes()));
  }
  return byType;
}

/** Reads attribute `type` of `payload` with `read`, or throws if it is absent. */
export function attr<T>(payload: Uint8Array, type: number, read: (a: AttributeDecoder) => T): T {
  for (const a = new AttributeDecoder(payload); a.next();) {
    if (a.type === type) return read(a);
  }
  throw new Error(`attribute ${type} missing`);
}

const koPath = new URL("../../kernel-module/nltest.ko", import.meta.url).pathname;

export function moduleLoaded(): boolean {
  return readFileSync("/proc/modules", "utf8").split("\n").some((l) => l.startsWith("nltest "));
}

export function unloadModule(): void {
  execFileSync("rmmod", ["nltest"]);
}

export function loadModule(): void {
  if (!moduleLoaded()) execFileSync("insmod", [koPath]);
}

/** Resolves with the next value of `it`, or rejects after `ms`. */
export async function nextWithin<T>(it: AsyncIterator<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const r = await Promise.race([
      it.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`nothing within ${ms} ms`)), ms);
      }),
    ]);
    return r.done ? undefined : r.value;
  } finally {
    clearTimeout(timer);
  }
}
