/**
 * The kernel connector (NETLINK_CONNECTOR) and its process events: struct cn_msg framing, and a
 * typed stream of fork, exec, uid, gid, sid, ptrace, comm, coredump and exit events from the proc
 * connector (what `forkstat` and process accounting daemons read).
 *
 * Connector messages travel inside a netlink message of type NLMSG_DONE, one per datagram, as
 * the kernel sends them. Struct layouts come from <linux/connector.h> and <linux/cn_proc.h>
 * through `scripts/gen_constants.ts`.
 *
 * @example
 * ```ts
 * import { openProcEvents } from "@netlink/netlink/connector";
 *
 * await using events = await openProcEvents(); // root, initial namespaces
 * for await (const event of events) {
 *   if (event.type === "exec") console.log(`exec: process ${event.processTgid}`);
 * }
 * ```
 *
 * @module
 */

import { whenCollected } from "./_collected.ts";
import * as layout from "./_connector_layout.ts";
import {
  CN_IDX_PROC,
  CN_VAL_PROC,
  CONNECTOR_MAX_MSG_SIZE,
  NETLINK_CONNECTOR,
  NLMSG_DONE,
  PROC_CN_MCAST_IGNORE,
  PROC_CN_MCAST_LISTEN,
  PROC_EVENT_COMM,
  PROC_EVENT_COREDUMP,
  PROC_EVENT_EXEC,
  PROC_EVENT_EXIT,
  PROC_EVENT_FORK,
  PROC_EVENT_GID,
  PROC_EVENT_NONE,
  PROC_EVENT_PTRACE,
  PROC_EVENT_SID,
  PROC_EVENT_UID,
} from "./_constants.ts";
import { HOST_LITTLE_ENDIAN } from "./_endian.ts";
import {
  checkInherited,
  checkOptions,
  checkSignal,
  checkTimeout,
  integerFieldError,
  shown,
  unknownKey,
} from "./_options.ts";
import { cnMsgFault } from "./_request.ts";
import { stoppable, STOPPED, withStop } from "./_stoppable.ts";
import { MalformedMessageError, NetlinkError, SyscallError } from "./errors.ts";
import { decodeDatagram, type ReceivedMessage } from "./message.ts";
import { open } from "./open.ts";
import type { NetlinkSocket } from "./socket.ts";
import type { OpenTransport } from "./transport.ts";

/**
 * One connector message: a struct cn_msg and the data after it.
 *
 * @example
 * ```ts
 * import { CN_IDX_PROC, CN_VAL_PROC } from "@netlink/netlink";
 * import type { ConnectorMessage } from "@netlink/netlink/connector";
 * const msg: ConnectorMessage = {
 *   idx: CN_IDX_PROC,
 *   val: CN_VAL_PROC,
 *   seq: 1,
 *   ack: 0,
 *   flags: 0,
 *   data: new Uint8Array(4),
 * };
 * ```
 */
export interface ConnectorMessage {
  /** cb_id.idx: which connector user (CN_IDX_PROC...); also its multicast group. */
  idx: number;
  /** cb_id.val: the user's sub-identifier (CN_VAL_PROC...). */
  val: number;
  /** Sequence number. */
  seq: number;
  /** Acknowledgement number: replies carry the request's plus one. */
  ack: number;
  /** Flags (unused by the kernel's own users). */
  flags: number;
  /** The `len` bytes after the header. When decoded, a view into the received message. */
  data: Uint8Array;
}

/**
 * A connector message to encode: `seq`, `ack` and `flags` default to 0, `data` to empty.
 *
 * @example
 * ```ts
 * import { CN_IDX_PROC, CN_VAL_PROC } from "@netlink/netlink";
 * import type { ConnectorMessageInput } from "@netlink/netlink/connector";
 * const msg: ConnectorMessageInput = { idx: CN_IDX_PROC, val: CN_VAL_PROC };
 * ```
 */
export interface ConnectorMessageInput {
  /** cb_id.idx. */
  idx: number;
  /** cb_id.val. */
  val: number;
  /** Sequence number; default 0. */
  seq?: number;
  /** Acknowledgement number; default 0. */
  ack?: number;
  /** Flags; default 0. */
  flags?: number;
  /**
   * Data after the header; default empty. At most 16364 bytes: the connector takes a cn_msg and
   * its data of CONNECTOR_MAX_MSG_SIZE (16384 bytes) at most, both ways.
   */
  data?: Uint8Array;
}

// Every field of ConnectorMessageInput and nothing else (`satisfies`): a misspelt one is refused.
const CONNECTOR_FIELDS = Object.keys(
  { idx: 0, val: 0, seq: 0, ack: 0, flags: 0, data: 0 } satisfies Record<
    keyof ConnectorMessageInput,
    0
  >,
);

/**
 * The most data a connector message carries: CONNECTOR_MAX_MSG_SIZE (16384) bytes, less the
 * struct cn_msg before it. The kernel drops a longer one unread (cn_rx_skb) and never sends one
 * (cn_netlink_send_mult refuses it).
 */
const MAX_CONNECTOR_DATA = CONNECTOR_MAX_MSG_SIZE - layout.SIZEOF_CN_MSG;

function checkField(field: string, value: unknown, max: number, bits: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw integerFieldError(
      value,
      `connector message ${field} must be a u${bits}: an integer from 0 to ${max}, got ${
        shown(value)
      }`,
    );
  }
  return value;
}

/**
 * Encodes a struct cn_msg and its data: the payload of the NLMSG_DONE netlink message that
 * carries it. Throws TypeError or RangeError, naming the field, before writing anything (a
 * TypeError for a field it does not have: a misspelt `data` would otherwise be left out).
 *
 * @example
 * ```ts
 * import { CN_IDX_PROC, CN_VAL_PROC, NLMSG_DONE } from "@netlink/netlink";
 * import { encodeConnectorMessage } from "@netlink/netlink/connector";
 * const payload = encodeConnectorMessage({ idx: CN_IDX_PROC, val: CN_VAL_PROC, seq: 1 });
 * console.log(payload.length); // 20: the header alone
 * // To send it: sock.send({ type: NLMSG_DONE, payload }) on a NETLINK_CONNECTOR socket.
 * console.log(NLMSG_DONE); // 3
 * ```
 */
export function encodeConnectorMessage(message: ConnectorMessageInput): Uint8Array {
  if (typeof message !== "object" || message === null) {
    throw new TypeError(`connector message must be an object, got ${String(message)}`);
  }
  checkInherited("connector message", CONNECTOR_FIELDS);
  for (const key in message) {
    if (Object.hasOwn(message, key) && !CONNECTOR_FIELDS.includes(key)) {
      throw unknownKey("connector message", key, CONNECTOR_FIELDS, "field");
    }
  }
  const idx = checkField("idx", message.idx, 0xffff_ffff, 32);
  const val = checkField("val", message.val, 0xffff_ffff, 32);
  const seq = checkField("seq", message.seq ?? 0, 0xffff_ffff, 32);
  const ack = checkField("ack", message.ack ?? 0, 0xffff_ffff, 32);
  const flags = checkField("flags", message.flags ?? 0, 0xffff, 16);
  const data = message.data ?? new Uint8Array(0);
  if (!(data instanceof Uint8Array)) {
    throw new TypeError(`connector message data must be a Uint8Array, got ${typeof data}`);
  }
  if (data.byteLength > MAX_CONNECTOR_DATA) {
    throw new RangeError(
      `connector message data must be at most ${MAX_CONNECTOR_DATA} bytes, got `
        + `${data.byteLength}: the kernel's connector drops a struct cn_msg and its data longer `
        + `than CONNECTOR_MAX_MSG_SIZE (${CONNECTOR_MAX_MSG_SIZE} bytes) unread, and sends none`,
    );
  }
  const bytes = new Uint8Array(layout.SIZEOF_CN_MSG + data.byteLength);
  const view = new DataView(bytes.buffer);
  view.setUint32(layout.CN_MSG_ID_IDX, idx, HOST_LITTLE_ENDIAN);
  view.setUint32(layout.CN_MSG_ID_VAL, val, HOST_LITTLE_ENDIAN);
  view.setUint32(layout.CN_MSG_SEQ, seq, HOST_LITTLE_ENDIAN);
  view.setUint32(layout.CN_MSG_ACK, ack, HOST_LITTLE_ENDIAN);
  view.setUint16(layout.CN_MSG_LEN, data.byteLength, HOST_LITTLE_ENDIAN);
  view.setUint16(layout.CN_MSG_FLAGS, flags, HOST_LITTLE_ENDIAN);
  bytes.set(data, layout.CN_MSG_DATA);
  return bytes;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decodes a struct cn_msg from a netlink message's payload; `data` is a view into it, `len`
 * bytes long. Throws MalformedMessageError when the payload is shorter than the header or than
 * the header's `len` says.
 *
 * @example
 * ```ts
 * import { decodeConnectorMessage, encodeConnectorMessage } from "@netlink/netlink/connector";
 * const bytes = encodeConnectorMessage({ idx: 1, val: 1, ack: 7, data: Uint8Array.of(1, 0, 0, 0) });
 * const msg = decodeConnectorMessage(bytes);
 * console.log(msg.idx, msg.ack, msg.data.length); // 1 7 4
 * ```
 */
export function decodeConnectorMessage(payload: Uint8Array): ConnectorMessage {
  if (!(payload instanceof Uint8Array)) {
    throw new TypeError(`connector payload must be a Uint8Array, got ${typeof payload}`);
  }
  const fault = cnMsgFault(payload);
  if (fault === "header") {
    throw new MalformedMessageError(
      `${payload.byteLength} bytes are too short for a ${layout.SIZEOF_CN_MSG}-byte struct cn_msg`,
      0,
    );
  }
  if (fault !== undefined) {
    throw new MalformedMessageError(
      `cn_msg len ${fault.len} runs past the end of the message (${fault.data} bytes of data)`,
      layout.CN_MSG_LEN,
    );
  }
  const view = viewOf(payload);
  const length = view.getUint16(layout.CN_MSG_LEN, HOST_LITTLE_ENDIAN);
  return {
    idx: view.getUint32(layout.CN_MSG_ID_IDX, HOST_LITTLE_ENDIAN),
    val: view.getUint32(layout.CN_MSG_ID_VAL, HOST_LITTLE_ENDIAN),
    seq: view.getUint32(layout.CN_MSG_SEQ, HOST_LITTLE_ENDIAN),
    ack: view.getUint32(layout.CN_MSG_ACK, HOST_LITTLE_ENDIAN),
    flags: view.getUint16(layout.CN_MSG_FLAGS, HOST_LITTLE_ENDIAN),
    data: payload.subarray(layout.CN_MSG_DATA, layout.CN_MSG_DATA + length),
  };
}

// --- process events --------------------------------------------------------------------------

/**
 * What every process event carries (struct proc_event's header). About IDs: as in
 * <linux/cn_proc.h>, a `…Pid` is the kernel's task ID (a thread ID: what `gettid()` returns)
 * and a `…Tgid` its thread group ID, the process ID that `getpid()` and `ps` show. For the main
 * thread of a process the two are equal.
 *
 * @example
 * ```ts
 * import type { ProcEventHeader } from "@netlink/netlink/connector";
 * const header: ProcEventHeader = { cpu: 0, timestamp: 123_456_789n };
 * ```
 */
export interface ProcEventHeader {
  /** The CPU the event was reported on. */
  cpu: number;
  /**
   * Nanoseconds since boot (CLOCK_MONOTONIC, as `ktime_get_ns()`): a bigint, as a number is no
   * longer exact past 2^53 ns (104 days of uptime). `JSON.stringify` needs a replacer for it:
   * `(_, v) => typeof v === "bigint" ? String(v) : v`.
   */
  timestamp: bigint;
}

/**
 * A process or thread was created (PROC_EVENT_FORK): `childTgid === childPid` for a new
 * process, `childTgid === parentTgid` for a new thread.
 *
 * @example
 * ```ts
 * import type { ProcForkEvent } from "@netlink/netlink/connector";
 * const isThread = (e: ProcForkEvent) => e.childTgid !== e.childPid;
 * ```
 */
export interface ProcForkEvent extends ProcEventHeader {
  /** Discriminant. */
  type: "fork";
  /** Task ID of the thread that forked. */
  parentPid: number;
  /** Process ID of the parent. */
  parentTgid: number;
  /** Task ID of the new task. */
  childPid: number;
  /** Process ID of the new task (its own for a process, the parent's for a thread). */
  childTgid: number;
}

/**
 * A process called execve() (PROC_EVENT_EXEC).
 *
 * @example
 * ```ts
 * import type { ProcExecEvent } from "@netlink/netlink/connector";
 * const pid = (e: ProcExecEvent) => e.processTgid;
 * ```
 */
export interface ProcExecEvent extends ProcEventHeader {
  /** Discriminant. */
  type: "exec";
  /** Task ID. */
  processPid: number;
  /** Process ID. */
  processTgid: number;
}

/**
 * A task's user IDs changed (PROC_EVENT_UID).
 *
 * @example
 * ```ts
 * import type { ProcUidEvent } from "@netlink/netlink/connector";
 * const becameRoot = (e: ProcUidEvent) => e.euid === 0;
 * ```
 */
export interface ProcUidEvent extends ProcEventHeader {
  /** Discriminant. */
  type: "uid";
  /** Task ID. */
  processPid: number;
  /** Process ID. */
  processTgid: number;
  /** Real user ID. */
  ruid: number;
  /** Effective user ID. */
  euid: number;
}

/**
 * A task's group IDs changed (PROC_EVENT_GID).
 *
 * @example
 * ```ts
 * import type { ProcGidEvent } from "@netlink/netlink/connector";
 * const gids = (e: ProcGidEvent) => [e.rgid, e.egid];
 * ```
 */
export interface ProcGidEvent extends ProcEventHeader {
  /** Discriminant. */
  type: "gid";
  /** Task ID. */
  processPid: number;
  /** Process ID. */
  processTgid: number;
  /** Real group ID. */
  rgid: number;
  /** Effective group ID. */
  egid: number;
}

/**
 * A process started a new session, setsid() (PROC_EVENT_SID).
 *
 * @example
 * ```ts
 * import type { ProcSidEvent } from "@netlink/netlink/connector";
 * const leader = (e: ProcSidEvent) => e.processTgid;
 * ```
 */
export interface ProcSidEvent extends ProcEventHeader {
  /** Discriminant. */
  type: "sid";
  /** Task ID. */
  processPid: number;
  /** Process ID. */
  processTgid: number;
}

/**
 * A task was attached to or detached from a tracer (PROC_EVENT_PTRACE): on detach the tracer's
 * IDs are 0.
 *
 * @example
 * ```ts
 * import type { ProcPtraceEvent } from "@netlink/netlink/connector";
 * const detached = (e: ProcPtraceEvent) => e.tracerTgid === 0;
 * ```
 */
export interface ProcPtraceEvent extends ProcEventHeader {
  /** Discriminant. */
  type: "ptrace";
  /** Task ID of the traced task. */
  processPid: number;
  /** Process ID of the traced task. */
  processTgid: number;
  /** Task ID of the tracer, 0 on detach. */
  tracerPid: number;
  /** Process ID of the tracer, 0 on detach. */
  tracerTgid: number;
}

/**
 * A task's name changed, prctl(PR_SET_NAME) or a write to /proc/PID/comm (PROC_EVENT_COMM).
 *
 * @example
 * ```ts
 * import type { ProcCommEvent } from "@netlink/netlink/connector";
 * const describe = (e: ProcCommEvent) => `${e.processPid} is now ${e.comm}`;
 * ```
 */
export interface ProcCommEvent extends ProcEventHeader {
  /** Discriminant. */
  type: "comm";
  /** Task ID. */
  processPid: number;
  /** Process ID. */
  processTgid: number;
  /** The new name (at most 15 bytes: TASK_COMM_LEN less its NUL). */
  comm: string;
}

/**
 * A task is dumping core (PROC_EVENT_COREDUMP); its exit event follows.
 *
 * @example
 * ```ts
 * import type { ProcCoredumpEvent } from "@netlink/netlink/connector";
 * const who = (e: ProcCoredumpEvent) => e.processTgid;
 * ```
 */
export interface ProcCoredumpEvent extends ProcEventHeader {
  /** Discriminant. */
  type: "coredump";
  /** Task ID. */
  processPid: number;
  /** Process ID. */
  processTgid: number;
  /** Task ID of the parent. */
  parentPid: number;
  /** Process ID of the parent. */
  parentTgid: number;
}

/**
 * A task exited (PROC_EVENT_EXIT): every thread reports its own exit. `exitCode` is the raw wait
 * status; `exitStatus` and `termSignal` decode it as WEXITSTATUS and WTERMSIG do.
 *
 * @example
 * ```ts
 * import type { ProcExitEvent } from "@netlink/netlink/connector";
 * const describe = (e: ProcExitEvent) =>
 *   e.termSignal === undefined ? `exited ${e.exitStatus}` : `killed by signal ${e.termSignal}`;
 * ```
 */
export interface ProcExitEvent extends ProcEventHeader {
  /** Discriminant. */
  type: "exit";
  /** Task ID. */
  processPid: number;
  /** Process ID. */
  processTgid: number;
  /** The wait status (task->exit_code): `status << 8` after exit(), the signal when killed. */
  exitCode: number;
  /** The exit status when the task exited normally (WEXITSTATUS), else undefined. */
  exitStatus: number | undefined;
  /** The signal that killed the task (WTERMSIG), else undefined. */
  termSignal: number | undefined;
  /** The signal the parent is sent (SIGCHLD for a process, -1 for a thread). */
  exitSignal: number;
  /** Task ID of the parent. */
  parentPid: number;
  /** Process ID of the parent. */
  parentTgid: number;
}

/**
 * The proc connector's answer to a PROC_CN_MCAST_LISTEN or _IGNORE (PROC_EVENT_NONE): `errno` 0
 * on success. Its `ack` is the request's plus one. The kernel multicasts it to every listener.
 *
 * @example
 * ```ts
 * import type { ProcAckEvent } from "@netlink/netlink/connector";
 * const ok = (e: ProcAckEvent) => e.errno === 0;
 * ```
 */
export interface ProcAckEvent extends ProcEventHeader {
  /** Discriminant. */
  type: "ack";
  /** 0, or the positive errno of the failed request. */
  errno: number;
}

/**
 * An event whose `what` this library does not know (a newer kernel's), with its raw data.
 *
 * @example
 * ```ts
 * import type { ProcUnknownEvent } from "@netlink/netlink/connector";
 * const what = (e: ProcUnknownEvent) => e.what.toString(16);
 * ```
 */
export interface ProcUnknownEvent extends ProcEventHeader {
  /** Discriminant. */
  type: "unknown";
  /** The proc_event `what` value. */
  what: number;
  /** The event_data bytes. */
  data: Uint8Array;
}

/**
 * A decoded struct proc_event, discriminated by `type`.
 *
 * @example
 * ```ts
 * import type { ProcEvent } from "@netlink/netlink/connector";
 * function pidOf(event: ProcEvent): number | undefined {
 *   switch (event.type) {
 *     case "fork":
 *       return event.childTgid;
 *     case "exec":
 *     case "exit":
 *       return event.processTgid;
 *   }
 * }
 * ```
 */
export type ProcEvent =
  | ProcForkEvent
  | ProcExecEvent
  | ProcUidEvent
  | ProcGidEvent
  | ProcSidEvent
  | ProcPtraceEvent
  | ProcCommEvent
  | ProcCoredumpEvent
  | ProcExitEvent
  | ProcAckEvent
  | ProcUnknownEvent;

const EVENT_SIZES = new Map<number, number>([
  [PROC_EVENT_NONE, 4],
  [PROC_EVENT_FORK, layout.SIZEOF_FORK],
  [PROC_EVENT_EXEC, layout.SIZEOF_EXEC],
  [PROC_EVENT_UID, layout.SIZEOF_ID],
  [PROC_EVENT_GID, layout.SIZEOF_ID],
  [PROC_EVENT_SID, layout.SIZEOF_SID],
  [PROC_EVENT_PTRACE, layout.SIZEOF_PTRACE],
  [PROC_EVENT_COMM, layout.SIZEOF_COMM],
  [PROC_EVENT_COREDUMP, layout.SIZEOF_COREDUMP],
  [PROC_EVENT_EXIT, layout.SIZEOF_EXIT],
]);

const commDecoder = new TextDecoder();

/**
 * Decodes a struct proc_event (the data of a proc connector message). Throws
 * MalformedMessageError when the data is shorter than the header or than the event's struct.
 *
 * @example
 * ```ts
 * import { decodeProcEvent } from "@netlink/netlink/connector";
 * const data = new Uint8Array(40);
 * const view = new DataView(data.buffer);
 * view.setUint32(0, 2, true); // PROC_EVENT_EXEC (on a little-endian host)
 * view.setInt32(16, 1234, true); // process_pid
 * view.setInt32(20, 1234, true); // process_tgid
 * const event = decodeProcEvent(data);
 * if (event.type === "exec") console.log(event.processTgid); // 1234
 * ```
 */
export function decodeProcEvent(data: Uint8Array): ProcEvent {
  if (!(data instanceof Uint8Array)) {
    throw new TypeError(`proc event data must be a Uint8Array, got ${typeof data}`);
  }
  const base = layout.PROC_EVENT_EVENT_DATA;
  if (data.byteLength < base) {
    throw new MalformedMessageError(
      `${data.byteLength} bytes are too short for struct proc_event's ${base}-byte header`,
      0,
    );
  }
  const view = viewOf(data);
  const le = HOST_LITTLE_ENDIAN;
  const what = view.getUint32(layout.PROC_EVENT_WHAT, le);
  const cpu = view.getUint32(layout.PROC_EVENT_CPU, le);
  const timestamp = view.getBigUint64(layout.PROC_EVENT_TIMESTAMP_NS, le);
  const size = EVENT_SIZES.get(what);
  if (size === undefined) {
    return { type: "unknown", cpu, timestamp, what, data: data.subarray(base) };
  }
  if (data.byteLength < base + size) {
    throw new MalformedMessageError(
      `proc event 0x${what.toString(16)} needs ${base + size} bytes, got ${data.byteLength}`,
      base,
    );
  }
  const i32 = (offset: number) => view.getInt32(base + offset, le);
  const u32 = (offset: number) => view.getUint32(base + offset, le);
  switch (what) {
    case PROC_EVENT_NONE:
      return {
        type: "ack",
        cpu,
        timestamp,
        errno: view.getUint32(layout.PROC_EVENT_EVENT_DATA_ACK_ERR, le),
      };
    case PROC_EVENT_FORK:
      return {
        type: "fork",
        cpu,
        timestamp,
        parentPid: i32(layout.FORK_PARENT_PID),
        parentTgid: i32(layout.FORK_PARENT_TGID),
        childPid: i32(layout.FORK_CHILD_PID),
        childTgid: i32(layout.FORK_CHILD_TGID),
      };
    case PROC_EVENT_EXEC:
      return {
        type: "exec",
        cpu,
        timestamp,
        processPid: i32(layout.EXEC_PROCESS_PID),
        processTgid: i32(layout.EXEC_PROCESS_TGID),
      };
    case PROC_EVENT_UID:
      return {
        type: "uid",
        cpu,
        timestamp,
        processPid: i32(layout.ID_PROCESS_PID),
        processTgid: i32(layout.ID_PROCESS_TGID),
        ruid: u32(layout.ID_R_RUID),
        euid: u32(layout.ID_E_EUID),
      };
    case PROC_EVENT_GID:
      return {
        type: "gid",
        cpu,
        timestamp,
        processPid: i32(layout.ID_PROCESS_PID),
        processTgid: i32(layout.ID_PROCESS_TGID),
        rgid: u32(layout.ID_R_RUID),
        egid: u32(layout.ID_E_EUID),
      };
    case PROC_EVENT_SID:
      return {
        type: "sid",
        cpu,
        timestamp,
        processPid: i32(layout.SID_PROCESS_PID),
        processTgid: i32(layout.SID_PROCESS_TGID),
      };
    case PROC_EVENT_PTRACE:
      return {
        type: "ptrace",
        cpu,
        timestamp,
        processPid: i32(layout.PTRACE_PROCESS_PID),
        processTgid: i32(layout.PTRACE_PROCESS_TGID),
        tracerPid: i32(layout.PTRACE_TRACER_PID),
        tracerTgid: i32(layout.PTRACE_TRACER_TGID),
      };
    case PROC_EVENT_COMM: {
      const start = base + layout.COMM_COMM;
      const field = data.subarray(start, start + layout.COMM_COMM_SIZE);
      const nul = field.indexOf(0);
      return {
        type: "comm",
        cpu,
        timestamp,
        processPid: i32(layout.COMM_PROCESS_PID),
        processTgid: i32(layout.COMM_PROCESS_TGID),
        comm: commDecoder.decode(nul < 0 ? field : field.subarray(0, nul)),
      };
    }
    case PROC_EVENT_COREDUMP:
      return {
        type: "coredump",
        cpu,
        timestamp,
        processPid: i32(layout.COREDUMP_PROCESS_PID),
        processTgid: i32(layout.COREDUMP_PROCESS_TGID),
        parentPid: i32(layout.COREDUMP_PARENT_PID),
        parentTgid: i32(layout.COREDUMP_PARENT_TGID),
      };
    default: {
      // PROC_EVENT_EXIT: the only size left in EVENT_SIZES.
      const exitCode = u32(layout.EXIT_EXIT_CODE);
      const signal = exitCode & 0x7f;
      return {
        type: "exit",
        cpu,
        timestamp,
        processPid: i32(layout.EXIT_PROCESS_PID),
        processTgid: i32(layout.EXIT_PROCESS_TGID),
        exitCode,
        exitStatus: signal === 0 ? (exitCode >> 8) & 0xff : undefined,
        termSignal: signal !== 0 && signal !== 0x7f ? signal : undefined,
        exitSignal: i32(layout.EXIT_EXIT_SIGNAL),
        parentPid: i32(layout.EXIT_PARENT_PID),
        parentTgid: i32(layout.EXIT_PARENT_TGID),
      };
    }
  }
}

/**
 * Something the process event stream yields besides events: the kernel dropped events for this
 * socket because it was not read fast enough (ENOBUFS). The stream goes on after it.
 *
 * @example
 * ```ts
 * import type { ProcEventOverrun } from "@netlink/netlink/connector";
 * const lost: ProcEventOverrun = { type: "overrun" };
 * ```
 */
export interface ProcEventOverrun {
  /** Discriminant. */
  type: "overrun";
}

/**
 * Options for {@linkcode openProcEvents}.
 *
 * @example
 * ```ts
 * import type { ProcEventsOptions } from "@netlink/netlink/connector";
 * const options: ProcEventsOptions = { receiveBufferSize: 4 << 20, timeout: 2_000 };
 * ```
 */
export interface ProcEventsOptions {
  /**
   * Receive buffer size in bytes, as {@linkcode OpenOptions.receiveBufferSize}: a busy machine
   * forks and exits fast, and a larger buffer makes overruns rarer.
   */
  receiveBufferSize?: number;
  /**
   * Milliseconds to wait for the kernel to acknowledge the subscription, from 1 to 2^31-1
   * (setTimeout's limit). Default 5000.
   */
  timeout?: number;
  /** The transport to use instead of the libc one (tests), as for {@linkcode open}. */
  transport?: OpenTransport;
}

// Every key of ProcEventsOptions and nothing else (`satisfies`): openProcEvents() refuses any other.
const PROC_EVENTS_KEYS = Object.keys(
  { receiveBufferSize: 0, timeout: 0, transport: 0 } satisfies Record<keyof ProcEventsOptions, 0>,
);

/**
 * Options for {@linkcode ProcEventMonitor.events}.
 *
 * @example
 * ```ts
 * import type { ProcEventsIterationOptions } from "@netlink/netlink/connector";
 * const options: ProcEventsIterationOptions = { signal: AbortSignal.timeout(1_000) };
 * ```
 */
export interface ProcEventsIterationOptions {
  /** Aborting ends the iteration by throwing the signal's reason. */
  signal?: AbortSignal;
}

// Every key of ProcEventsIterationOptions and nothing else: events() refuses any other (by its
// own name, not as the socket's datagrams() would).
const ITERATION_KEYS = Object.keys(
  { signal: 0 } satisfies Record<keyof ProcEventsIterationOptions, 0>,
);

const OUTSIDE_INITIAL_NETNS = "the kernel's connector serves only the initial network namespace: "
  + "subscribe from a process in it (not under `ip netns exec`)";

/** The ack number of our next subscription request: a per-process counter from a random start. */
let nextAck = (Math.random() * 0x1_0000_0000) >>> 0;

/** Creates a monitor and subscribes: module-private, so the class has no public constructor. */
let subscribe: (socket: NetlinkSocket, timeout: number) => Promise<ProcEventMonitor>;

/**
 * A subscription to the kernel's process events, from {@linkcode openProcEvents}: iterate it for
 * {@linkcode ProcEvent}s (acks excluded) and {@linkcode ProcEventOverrun}s. Only messages the
 * kernel multicast (sender port 0, group CN_IDX_PROC, connector id CN_IDX_PROC/CN_VAL_PROC) are
 * events; anything else that reaches the socket is counted in {@linkcode rejected} and skipped.
 * Closing unsubscribes (PROC_CN_MCAST_IGNORE) and closes the socket; a monitor dropped without
 * `close()` does the same once garbage-collected (an iteration the program still holds, or a
 * pending step, keeps it from collection). Collection comes late, or never in a short script: close it
 * (`await using`) rather than rely on it.
 *
 * @example
 * ```ts
 * import { openProcEvents } from "@netlink/netlink/connector";
 * await using monitor = await openProcEvents();
 * const signal = AbortSignal.timeout(5_000);
 * try {
 *   for await (const event of monitor.events({ signal })) {
 *     if (event.type === "exit") console.log(event.processTgid, event.exitStatus);
 *   }
 * } catch (err) {
 *   if (!signal.aborted) throw err; // the abort ends the loop by throwing its reason
 * }
 * ```
 */
export class ProcEventMonitor
  implements AsyncIterable<ProcEvent | ProcEventOverrun>, AsyncDisposable
{
  readonly #socket: NetlinkSocket;
  /** Events read while waiting for the subscription's ack: they come first. */
  readonly #early: (ProcEvent | ProcEventOverrun)[] = [];
  #rejected = 0;
  #closed = false;
  /** Cancels the unsubscribing at collection (see the constructor) once closed. */
  readonly #forgetClose: () => void;

  static {
    subscribe = async (socket, timeout) => {
      const monitor = new ProcEventMonitor(socket);
      try {
        await monitor.#listen(timeout);
      } catch (err) {
        socket.close();
        throw err;
      }
      return monitor;
    };
  }

  private constructor(socket: NetlinkSocket) {
    this.#socket = socket;
    // Dropped without close(): once collected, it unsubscribes and closes its socket as close()
    // would (the socket's own collection would close it without unsubscribing). A bound
    // function, not a closure: closures of this scope capture `this`, and would keep it.
    this.#forgetClose = whenCollected(this, unsubscribe.bind(undefined, socket));
  }

  /** The netlink port ID of the subscribed socket. */
  get portid(): number {
    return this.#socket.portid;
  }

  /** Messages skipped because they did not come from the kernel's process events connector. */
  get rejected(): number {
    return this.#rejected;
  }

  /** Overruns so far: each is one `{ type: "overrun" }` in the stream. */
  get overruns(): number {
    return this.#socket.overruns;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Iterates the events as they arrive. Ends when the monitor is closed, at once: the step after
   * close() is done, whatever is still queued (events read while subscribing too), and at once on
   * `return()`, also while a step waits (that step is done); throws (and so ends) on
   * abort, with the signal's reason, and on a message from the kernel that does not decode
   * (MalformedMessageError); a new iteration then goes on with the next message.
   * Its first step rejects with a TypeError for an option other than `signal`.
   */
  events(
    options: ProcEventsIterationOptions = {},
  ): AsyncGenerator<ProcEvent | ProcEventOverrun, void, undefined> {
    return stoppable((stop) => this.#events(options, stop));
  }

  async *#events(
    options: ProcEventsIterationOptions,
    stop: AbortSignal,
  ): AsyncGenerator<ProcEvent | ProcEventOverrun, void, undefined> {
    const where = "events() options";
    const signal = checkSignal(where, checkOptions(where, options, ITERATION_KEYS).signal);
    // The step after close() ends the iteration, as the socket's streams do, whatever is left.
    while (this.#early.length > 0 && !this.#closed) yield this.#early.shift()!;
    if (this.#closed) return;
    try {
      for await (const cn of this.#received({ signal: withStop(signal, stop) })) {
        if (this.#closed) return; // the rest of a datagram read before close()
        if (isOverrun(cn)) {
          yield cn;
          continue;
        }
        const event = decodeProcEvent(cn.data);
        if (event.type !== "ack") yield event;
      }
    } catch (err) {
      if (err !== STOPPED) throw err;
    }
  }

  /**
   * The connector messages the kernel's proc connector multicast, and overruns, in order. Read
   * as whole datagrams, so that one from anyone else is skipped (counted in #rejected) before it
   * is parsed: another process's garbage must not end the stream as MalformedMessageError.
   */
  async *#received(
    options: ProcEventsIterationOptions,
  ): AsyncGenerator<ConnectorMessage | ProcEventOverrun> {
    for await (const datagram of this.#socket.datagrams(options)) {
      if (datagram.overrun) {
        yield { type: "overrun" };
        continue;
      }
      if (datagram.sender !== 0 || datagram.group !== CN_IDX_PROC) {
        let messages = 1;
        try {
          messages = decodeDatagram(datagram).length;
        } catch {
          // Not even netlink messages: one rejected.
        }
        this.#rejected += messages;
        continue;
      }
      for (const msg of decodeDatagram(datagram)) {
        const cn = this.#accept(msg);
        if (cn !== undefined) yield cn;
      }
    }
  }

  /** Same as {@linkcode events} without options: `for await (const event of monitor)`. */
  [Symbol.asyncIterator](): AsyncGenerator<ProcEvent | ProcEventOverrun, void, undefined> {
    return this.events();
  }

  /**
   * Unsubscribes (PROC_CN_MCAST_IGNORE, so the kernel stops producing events nobody reads) and
   * closes the socket; iterations end. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#forgetClose();
    this.#early.length = 0;
    unsubscribe(this.#socket);
  }

  /** Closes: `await using monitor = await openProcEvents()`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /**
   * Sends PROC_CN_MCAST_LISTEN and waits for its ack, which the kernel multicasts to every
   * listener with the request's ack number plus one (it overwrites the sequence number).
   */
  async #listen(timeout: number): Promise<void> {
    const ack = takeAck();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    const received = this.#received({ signal: controller.signal });
    try {
      // Iterate before sending, so the ack cannot arrive with nothing reading.
      const first = received.next();
      try {
        sendProcOp(this.#socket, PROC_CN_MCAST_LISTEN, ack);
      } catch (err) {
        // In another network namespace the socket opens, but no kernel socket receives.
        if (err instanceof SyscallError && err.code === "ECONNREFUSED") {
          throw new SyscallError(err.syscall, err.errno, OUTSIDE_INITIAL_NETNS);
        }
        throw err;
      }
      for (let step = await first; !step.done; step = await received.next()) {
        const cn = step.value;
        if (isOverrun(cn)) {
          this.#early.push(cn);
          continue;
        }
        const event = decodeProcEvent(cn.data);
        if (event.type !== "ack") {
          this.#early.push(event);
        } else if (cn.ack === ((ack + 1) >>> 0)) {
          if (event.errno !== 0) throw new NetlinkError({ errno: event.errno });
          return;
        }
      }
      throw new Error("the socket closed before the process events connector answered");
    } catch (err) {
      if (controller.signal.aborted) {
        throw new Error(
          `the process events connector did not acknowledge PROC_CN_MCAST_LISTEN within ${timeout} ms: `
            + "it ignores requests from outside the initial user and PID namespaces, "
            + "and needs a kernel with CONFIG_PROC_EVENTS",
          { cause: err },
        );
      }
      throw err;
    } finally {
      clearTimeout(timer);
      // Ends the iteration (it may still wait, after a failed send: the socket's close ends it).
      received.return(undefined).catch(() => {});
    }
  }

  /**
   * The connector message a message of the kernel's proc connector multicast carries, else
   * undefined (counted in #rejected).
   */
  #accept(msg: ReceivedMessage): ConnectorMessage | undefined {
    if (msg.type !== NLMSG_DONE) {
      this.#rejected++;
      return undefined;
    }
    const cn = decodeConnectorMessage(msg.payload);
    if (cn.idx !== CN_IDX_PROC || cn.val !== CN_VAL_PROC) {
      this.#rejected++;
      return undefined;
    }
    return cn;
  }
}

/**
 * Whether `#received()` yielded an overrun rather than a message. A type guard, so that it
 * narrows in a consumer's non-strict type-check too (a `type?: undefined` discriminant needs
 * strictNullChecks).
 */
function isOverrun(item: ConnectorMessage | ProcEventOverrun): item is ProcEventOverrun {
  return "type" in item && item.type === "overrun";
}

/** Sends the proc connector operation `op` (PROC_CN_MCAST_LISTEN, _IGNORE) with ack number `ack`. */
function sendProcOp(socket: NetlinkSocket, op: number, ack: number): void {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, op, HOST_LITTLE_ENDIAN);
  const payload = encodeConnectorMessage({ idx: CN_IDX_PROC, val: CN_VAL_PROC, ack, data });
  socket.send({ type: NLMSG_DONE, payload });
}

/**
 * Unsubscribes `socket` (PROC_CN_MCAST_IGNORE, so the kernel stops producing events nobody
 * reads) and closes it; a socket closed already is left as it is.
 */
function unsubscribe(socket: NetlinkSocket): void {
  if (socket.closed) return;
  try {
    sendProcOp(socket, PROC_CN_MCAST_IGNORE, takeAck());
  } catch {
    // The socket failed or the kernel refused: closing it ends the subscription anyway.
  }
  socket.close();
}

function takeAck(): number {
  const ack = nextAck;
  nextAck = (nextAck + 1) >>> 0;
  return ack;
}

/**
 * Subscribes to the kernel's process events (NETLINK_CONNECTOR, the proc connector): opens a
 * socket, joins group CN_IDX_PROC, sends PROC_CN_MCAST_LISTEN and waits for the kernel's ack.
 * Needs CAP_NET_ADMIN (root), the initial user, PID and network namespaces (where the
 * connector lives), and a kernel built with CONFIG_PROC_EVENTS. Events are system-wide: filter
 * by pid. Rejects with a RangeError for a bad `timeout`, before any system call; SyscallError
 * when the socket can't subscribe (EPERM without the privilege, ECONNREFUSED from another
 * network namespace, each with a hint saying so); NetlinkError if the kernel refuses the
 * subscription; an Error saying why when no ack comes within `timeout`.
 *
 * @example
 * ```ts
 * import { spawnSync } from "node:child_process";
 * import { openProcEvents } from "@netlink/netlink/connector";
 *
 * await using events = await openProcEvents();
 * const child = spawnSync("true");
 * for await (const event of events) {
 *   if (event.type === "exit" && event.processTgid === child.pid) {
 *     console.log(`${child.pid} exited with ${event.exitStatus}`);
 *     break;
 *   }
 * }
 * ```
 */
export async function openProcEvents(options: ProcEventsOptions = {}): Promise<ProcEventMonitor> {
  options = checkOptions("openProcEvents() options", options, PROC_EVENTS_KEYS);
  const timeout = checkTimeout(options.timeout, "", "leave it out for the default, 5000 ms")
    ?? 5000;
  let socket: NetlinkSocket;
  try {
    socket = await open(NETLINK_CONNECTOR, {
      groups: [CN_IDX_PROC],
      receiveBufferSize: options.receiveBufferSize,
      transport: options.transport,
    });
  } catch (err) {
    if (err instanceof SyscallError && err.code === "EPERM") {
      throw new SyscallError(
        err.syscall,
        err.errno,
        "process events need CAP_NET_ADMIN (run as root)",
      );
    }
    throw err;
  }
  return await subscribe(socket, timeout);
}
