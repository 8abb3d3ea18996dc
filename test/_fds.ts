/**
 * Leak checks by descriptor identity rather than by count.
 *
 * Counting /proc/self/fd is flaky: the runtime closes descriptors of its own at any moment (a
 * finished child's pipes once they are garbage-collected, say), so a count taken before can be
 * larger than one taken after a leak. Identity (fd number and what it refers to, which includes
 * the inode) tells exactly which descriptors are new.
 *
 * @module
 */

import { readdirSync, readlinkSync } from "node:fs";

/**
 * This process's descriptors: `"<fd> -> <target>"`, e.g. `"17 -> socket:[90210]"`. Files under
 * /proc are left out: the runtime opens some of its own at any moment (Bun reads
 * /proc/self/statm), and the library opens none there that stays a /proc path (a namespace file
 * shows as `net:[...]`).
 */
export function openDescriptors(): Set<string> {
  const out = new Set<string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (!target.startsWith("/proc/")) out.add(`${fd} -> ${target}`);
    } catch {
      // Closed between the listing and the readlink: the listing's own directory descriptor.
    }
  }
  return out;
}

/** The descriptors open now that were not open in `before`, as the same object. */
export function newDescriptors(before: Set<string>): string[] {
  return [...openDescriptors()].filter((d) => !before.has(d));
}

/**
 * {@linkcode newDescriptors}, once descriptors still being closed asynchronously (Bun closes its
 * own descriptors of a Worker's thread as that thread ends, after `terminate()` has returned) had
 * up to `ms` to go.
 */
export async function settledNewDescriptors(before: Set<string>, ms = 2000): Promise<string[]> {
  const deadline = performance.now() + ms;
  let leaked = newDescriptors(before);
  while (leaked.length > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    leaked = newDescriptors(before);
  }
  return leaked;
}
