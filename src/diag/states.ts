/**
 * Socket states by name: the kernel's TCP states (which UDP, raw and unix sockets report too),
 * ss's state groups, and the bit masks sock_diag requests select states with.
 *
 * @module
 */

import { integerFieldError, shown } from "../_options.ts";
import { suggestion } from "../_suggest.ts";
import {
  BPF_TCP_CLOSE,
  BPF_TCP_CLOSE_WAIT,
  BPF_TCP_CLOSING,
  BPF_TCP_ESTABLISHED,
  BPF_TCP_FIN_WAIT1,
  BPF_TCP_FIN_WAIT2,
  BPF_TCP_LAST_ACK,
  BPF_TCP_LISTEN,
  BPF_TCP_NEW_SYN_RECV,
  BPF_TCP_SYN_RECV,
  BPF_TCP_SYN_SENT,
  BPF_TCP_TIME_WAIT,
} from "./_constants.ts";

/**
 * A socket state, named as `ss` filters name them (`ss state time-wait`), except "close", which ss
 * prints as UNCONN for sockets that are not connected (UDP, raw, unix) and calls "closed" in
 * filters.
 *
 * @example
 * ```ts
 * import type { SocketState } from "@netlink/netlink/diag";
 * const wanted: SocketState[] = ["established", "time-wait"];
 * ```
 */
export type SocketState =
  | "established"
  | "syn-sent"
  | "syn-recv"
  | "fin-wait-1"
  | "fin-wait-2"
  | "time-wait"
  | "close"
  | "close-wait"
  | "last-ack"
  | "listen"
  | "closing"
  | "new-syn-recv";

/**
 * ss's state groups: "all"; "connected" (all but listen and close); "synchronized" (connected
 * but not syn-sent); "bucket" (syn-recv and time-wait, the minisockets); "big" (all but bucket).
 *
 * @example
 * ```ts
 * import type { SocketStateGroup } from "@netlink/netlink/diag";
 * const group: SocketStateGroup = "connected";
 * ```
 */
export type SocketStateGroup = "all" | "connected" | "synchronized" | "bucket" | "big";

const STATES: Readonly<Record<SocketState, number>> = {
  "established": BPF_TCP_ESTABLISHED,
  "syn-sent": BPF_TCP_SYN_SENT,
  "syn-recv": BPF_TCP_SYN_RECV,
  "fin-wait-1": BPF_TCP_FIN_WAIT1,
  "fin-wait-2": BPF_TCP_FIN_WAIT2,
  "time-wait": BPF_TCP_TIME_WAIT,
  "close": BPF_TCP_CLOSE,
  "close-wait": BPF_TCP_CLOSE_WAIT,
  "last-ack": BPF_TCP_LAST_ACK,
  "listen": BPF_TCP_LISTEN,
  "closing": BPF_TCP_CLOSING,
  "new-syn-recv": BPF_TCP_NEW_SYN_RECV,
};

const NAMES = new Map<number, SocketState>(
  Object.entries(STATES).map(([name, code]) => [code, name as SocketState]),
);

const bit = (state: SocketState) => 1 << STATES[state];
const ALL = Object.values(STATES).reduce((mask, code) => mask | (1 << code), 0);
const GROUPS: Readonly<Record<SocketStateGroup, number>> = {
  all: ALL,
  connected: ALL & ~(bit("listen") | bit("close")),
  synchronized: ALL & ~(bit("listen") | bit("close") | bit("syn-sent")),
  bucket: bit("syn-recv") | bit("time-wait"),
  big: ALL & ~(bit("syn-recv") | bit("time-wait")),
};

/**
 * The state's name, or `state-N` for a number this library does not know (a newer kernel's); a
 * RangeError for what is no state number (an integer from 0 to 255, as the kernel's u8).
 *
 * @example
 * ```ts
 * import { stateName } from "@netlink/netlink/diag";
 * console.log(stateName(10)); // "listen"
 * ```
 */
export function stateName(code: number): SocketState | `state-${number}` {
  if (!Number.isInteger(code) || code < 0 || code > 255) {
    throw integerFieldError(code, `stateName(): ${shown(code)} is no state number (0 to 255)`);
  }
  return NAMES.get(code) ?? `state-${code}`;
}

/**
 * The kernel's number for a state name.
 *
 * @example
 * ```ts
 * import { stateNumber } from "@netlink/netlink/diag";
 * console.log(stateNumber("established")); // 1
 * ```
 */
export function stateNumber(state: SocketState): number {
  const code = STATES[state];
  if (typeof code !== "number" || !Object.hasOwn(STATES, state)) {
    const names = Object.keys(STATES);
    throw new TypeError(
      `unknown socket state ${shown(state)}; states are ${names.join(", ")}`
        + (typeof state === "string" ? suggestion(state, names) : ""),
    );
  }
  return code;
}

/**
 * The bit mask (bit N for state N) that selects the given states and groups, as sock_diag
 * requests take it (`idiag_states`, `udiag_states`). Throws a TypeError naming the valid states
 * for anything else, and for an empty list (which would select nothing).
 *
 * @example
 * ```ts
 * import { stateMask } from "@netlink/netlink/diag";
 * console.log(stateMask(["listen"]).toString(2)); // "10000000000"
 * ```
 */
export function stateMask(states: Iterable<SocketState | SocketStateGroup>): number {
  if (typeof states === "string" || typeof states?.[Symbol.iterator] !== "function") {
    throw new TypeError(`states must be a list of state names, got ${shown(states)}`);
  }
  let mask = 0;
  let any = false;
  for (const state of states) {
    any = true;
    mask |= Object.hasOwn(GROUPS, state)
      ? GROUPS[state as SocketStateGroup]
      : 1 << stateNumber(state as SocketState);
  }
  if (!any) throw new TypeError("states is empty: it would select no sockets");
  return mask >>> 0;
}
