/**
 * The libc transport: netlink sockets through the runtime's built-in FFI (`Deno.dlopen` on
 * Deno, `bun:ffi` on Bun). The only module that knows which runtime it runs on.
 *
 * Importing it has no effect on either runtime: libc is opened, and the runtime checked, on the
 * first {@linkcode openTransport} call.
 *
 * @module
 */

import type { OpenTransport, Transport, TransportOptions } from "../src/transport.ts";
import { loadBunLibc } from "./_bun_libc.ts";
import { newBunWaiter } from "./_bun_waiter.ts";
import { loadDenoLibc } from "./_deno_libc.ts";
import { newDenoWaiter } from "./_deno_waiter.ts";
import { openSocket, type Runtime } from "./_socket.ts";

let runtime: Runtime | undefined;

function detect(): Runtime {
  const g = globalThis as { Bun?: unknown; Deno?: { dlopen?: unknown } };
  // Bun first: Bun is the one that might someday provide a `Deno` global for compatibility.
  if (g.Bun !== undefined) {
    const libc = loadBunLibc();
    return { libc, newWaiter: (fd) => newBunWaiter(libc, fd) };
  }
  if (typeof g.Deno?.dlopen === "function") {
    const libc = loadDenoLibc();
    return { libc, newWaiter: (fd) => newDenoWaiter(libc, fd) };
  }
  throw new Error(
    "netlink: this runtime has no supported FFI; run on Deno 2 (with --allow-ffi) or Bun",
  );
}

/**
 * Opens and binds a netlink socket through libc (see {@linkcode OpenTransport}). The first call
 * loads libc; on an unsupported runtime (Node.js, browsers) it throws an Error saying so.
 */
export const openTransport: OpenTransport = (
  protocol: number,
  options: TransportOptions,
): Transport => openSocket(runtime ??= detect(), protocol, options);
