/**
 * SK_MEMINFO: the u32 array of socket memory counters that inet, unix, netlink and packet
 * sock_diag replies carry (what `ss -m` prints as skmem).
 *
 * @module
 */

import { HOST_LITTLE_ENDIAN } from "../_endian.ts";
import {
  SK_MEMINFO_BACKLOG,
  SK_MEMINFO_DROPS,
  SK_MEMINFO_FWD_ALLOC,
  SK_MEMINFO_OPTMEM,
  SK_MEMINFO_RCVBUF,
  SK_MEMINFO_RMEM_ALLOC,
  SK_MEMINFO_SNDBUF,
  SK_MEMINFO_WMEM_ALLOC,
  SK_MEMINFO_WMEM_QUEUED,
} from "./_constants.ts";

/**
 * A socket's memory counters in bytes (SK_MEMINFO_*; `ss -m` prints them as
 * `skmem:(r<rmemAlloc>,rb<rcvbuf>,t<wmemAlloc>,tb<sndbuf>,f<fwdAlloc>,w<wmemQueued>,o<optmem>,
 * bl<backlog>,d<drops>)`). A counter an older kernel does not send is absent.
 *
 * @example
 * ```ts
 * import type { SocketMemory } from "@netlink/netlink/diag";
 * const free = (m: SocketMemory) => (m.rcvbuf ?? 0) - (m.rmemAlloc ?? 0);
 * ```
 */
export interface SocketMemory {
  /** Bytes in the receive queue (sk_rmem_alloc). */
  rmemAlloc?: number;
  /** Receive buffer size (sk_rcvbuf). */
  rcvbuf?: number;
  /** Bytes of sent data not yet freed (sk_wmem_alloc). */
  wmemAlloc?: number;
  /** Send buffer size (sk_sndbuf). */
  sndbuf?: number;
  /** Memory reserved ahead for this socket (sk_forward_alloc). */
  fwdAlloc?: number;
  /** Bytes queued for sending (sk_wmem_queued). */
  wmemQueued?: number;
  /** Option memory (sk_omem_alloc). */
  optmem?: number;
  /** Bytes in the backlog queue. */
  backlog?: number;
  /** Packets dropped (sk_drops). */
  drops?: number;
}

const NAMES: readonly [keyof SocketMemory, number][] = [
  ["rmemAlloc", SK_MEMINFO_RMEM_ALLOC],
  ["rcvbuf", SK_MEMINFO_RCVBUF],
  ["wmemAlloc", SK_MEMINFO_WMEM_ALLOC],
  ["sndbuf", SK_MEMINFO_SNDBUF],
  ["fwdAlloc", SK_MEMINFO_FWD_ALLOC],
  ["wmemQueued", SK_MEMINFO_WMEM_QUEUED],
  ["optmem", SK_MEMINFO_OPTMEM],
  ["backlog", SK_MEMINFO_BACKLOG],
  ["drops", SK_MEMINFO_DROPS],
];

/** Decodes an SK_MEMINFO value: as many counters as it holds. */
export function decodeSocketMemory(bytes: Uint8Array): SocketMemory {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: SocketMemory = {};
  for (const [name, index] of NAMES) {
    if ((index + 1) * 4 <= bytes.length) out[name] = view.getUint32(index * 4, HOST_LITTLE_ENDIAN);
  }
  return out;
}
