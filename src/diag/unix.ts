/**
 * unix_diag: Unix domain sockets, as `ss -x` lists them: path, type, state, peer, pending
 * connections, queues, owner.
 *
 * @module
 */

import { HOST_LITTLE_ENDIAN } from "../_endian.ts";
import { checkOptions } from "../_options.ts";
import { AttributeDecoder } from "../attribute.ts";
import {
  AF_UNIX,
  OFFSETOF_UNIX_DIAG_MSG_UDIAG_COOKIE,
  OFFSETOF_UNIX_DIAG_MSG_UDIAG_INO,
  OFFSETOF_UNIX_DIAG_MSG_UDIAG_STATE,
  OFFSETOF_UNIX_DIAG_MSG_UDIAG_TYPE,
  OFFSETOF_UNIX_DIAG_REQ_SDIAG_FAMILY,
  OFFSETOF_UNIX_DIAG_REQ_UDIAG_SHOW,
  OFFSETOF_UNIX_DIAG_REQ_UDIAG_STATES,
  SIZEOF_UNIX_DIAG_MSG,
  SIZEOF_UNIX_DIAG_REQ,
  UDIAG_SHOW_ICONS,
  UDIAG_SHOW_MEMINFO,
  UDIAG_SHOW_NAME,
  UDIAG_SHOW_PEER,
  UDIAG_SHOW_RQLEN,
  UDIAG_SHOW_UID,
  UDIAG_SHOW_VFS,
  UNIX_DIAG_ICONS,
  UNIX_DIAG_MEMINFO,
  UNIX_DIAG_NAME,
  UNIX_DIAG_PEER,
  UNIX_DIAG_RQLEN,
  UNIX_DIAG_SHUTDOWN,
  UNIX_DIAG_UID,
  UNIX_DIAG_VFS,
  UNIX_DIAG_VFS_LAYOUT,
  type UnixVfs,
} from "./_constants.ts";
import { decodeSocketMemory, type SocketMemory } from "./_meminfo.ts";
import { type SocketType, socketTypeName } from "./_names.ts";
import { DIAG_KEYS, type DiagOptions, dumpAll, listed } from "./_query.ts";
import { checkLength, decodeStruct, readCookie } from "./_struct.ts";
import { type SocketState, type SocketStateGroup, stateMask, stateName } from "./states.ts";

/**
 * Which unix sockets to list.
 *
 * @example
 * ```ts
 * import type { UnixQuery } from "@netlink/netlink/diag";
 * const listeners: UnixQuery = { states: ["listen"] }; // ss -xl
 * ```
 */
export interface UnixQuery extends DiagOptions {
  /**
   * States to list. Default "all". Unix sockets are "listen", "established" (connected),
   * "close" (unconnected; ss: UNCONN) or "syn-sent" (connecting).
   */
  states?: Iterable<SocketState | SocketStateGroup>;
}

/**
 * One unix socket, as `ss -xae` shows it.
 *
 * @example
 * ```ts
 * import type { UnixSocket } from "@netlink/netlink/diag";
 * const line = (s: UnixSocket) => `${s.type} ${s.state} ${s.path ?? "*"} ${s.inode}`;
 * ```
 */
export interface UnixSocket {
  /** "stream", "dgram" or "seqpacket". */
  type: SocketType;
  /** The state by name. */
  state: SocketState | `state-${number}`;
  /** The socket's inode (ss prints it after the path). */
  inode: number;
  /** The kernel's unique socket cookie: a number, exact up to 2^53 (as InetSocket's). */
  cookie: number;
  /**
   * The bound name: a filesystem path, or an abstract name written as ss writes it, `@` and the
   * name with each NUL byte as `@`. Absent for unbound sockets. Read as UTF-8: bytes that are
   * not (a name may hold any byte but NUL) show as U+FFFD, where ss prints them raw; `name` has
   * them as they are.
   */
  path?: string;
  /**
   * The bound name's bytes as the kernel sent them: a path with its NUL terminator, or an
   * abstract name (starting with a NUL byte). `JSON.stringify` writes them as an array of
   * numbers (`[0,97]`), which `new Uint8Array()` takes back.
   */
  name?: Uint8Array;
  /** For a filesystem path: the socket file's inode and device. */
  vfs?: UnixVfs;
  /** The inode of the peer socket, for connected sockets (ss: the peer column). */
  peer?: number;
  /** For a listener: the inodes of connections not accepted yet. */
  pending?: number[];
  /** Recv-Q: bytes (stream) or datagrams queued; for a listener, connections not accepted. */
  receiveQueue?: number;
  /** Send-Q: bytes queued for the peer; for a listener, the accept backlog. */
  sendQueue?: number;
  /** Memory counters (`ss -m`). */
  memory?: SocketMemory;
  /** Shutdown state: bit 0 receive, bit 1 send. */
  shutdown?: number;
  /** The owner's uid (kernel 5.3+). */
  uid?: number;
}

// Every key of UnixQuery and nothing else (`satisfies`): a misspelt one is refused.
const UNIX_KEYS = [
  ...DIAG_KEYS,
  ...Object.keys({ states: 0 } satisfies Record<Exclude<keyof UnixQuery, keyof DiagOptions>, 0>),
];

/**
 * The payload of a unix_diag dump request (struct unix_diag_req) asking for everything this
 * module decodes.
 *
 * @example
 * ```ts
 * import { encodeUnixRequest } from "@netlink/netlink/diag";
 * console.log(encodeUnixRequest({ states: ["listen"] }).length); // 24
 * ```
 */
export function encodeUnixRequest(query: UnixQuery = {}): Uint8Array {
  query = checkOptions("unix query", query, UNIX_KEYS);
  const states = stateMask(query.states ?? ["all"]);
  const payload = new Uint8Array(SIZEOF_UNIX_DIAG_REQ);
  const view = new DataView(payload.buffer);
  view.setUint8(OFFSETOF_UNIX_DIAG_REQ_SDIAG_FAMILY, AF_UNIX);
  view.setUint32(OFFSETOF_UNIX_DIAG_REQ_UDIAG_STATES, states, HOST_LITTLE_ENDIAN);
  view.setUint32(
    OFFSETOF_UNIX_DIAG_REQ_UDIAG_SHOW,
    UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN
      | UDIAG_SHOW_MEMINFO | UDIAG_SHOW_UID,
    HOST_LITTLE_ENDIAN,
  );
  return payload;
}

const utf8 = new TextDecoder();

/**
 * ss's way of writing a name: a path up to its NUL terminator; an abstract name (leading NUL,
 * exactly as long as bound) with `@` for each NUL byte.
 */
function nameText(name: Uint8Array): string {
  if (name[0] === 0) return utf8.decode(name).replaceAll("\0", "@");
  const end = name.indexOf(0);
  return utf8.decode(end < 0 ? name : name.subarray(0, end));
}

function u32s(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from(
    { length: bytes.length >> 2 },
    (_, i) => view.getUint32(i * 4, HOST_LITTLE_ENDIAN),
  );
}

/**
 * Decodes one unix_diag reply payload. Throws MalformedMessageError when truncated.
 *
 * @example
 * ```ts
 * import { decodeUnixSocket } from "@netlink/netlink/diag";
 * const msg = new Uint8Array(16);
 * msg.set([1, 1, 10]); // AF_UNIX, SOCK_STREAM, listen
 * console.log(decodeUnixSocket(msg).state); // "listen"
 * ```
 */
export function decodeUnixSocket(payload: Uint8Array): UnixSocket {
  checkLength(payload, SIZEOF_UNIX_DIAG_MSG, "unix_diag_msg");
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const socket: UnixSocket = {
    type: socketTypeName(view.getUint8(OFFSETOF_UNIX_DIAG_MSG_UDIAG_TYPE)),
    state: stateName(view.getUint8(OFFSETOF_UNIX_DIAG_MSG_UDIAG_STATE)),
    inode: view.getUint32(OFFSETOF_UNIX_DIAG_MSG_UDIAG_INO, HOST_LITTLE_ENDIAN),
    cookie: readCookie(view, OFFSETOF_UNIX_DIAG_MSG_UDIAG_COOKIE),
  };
  const attrs = new AttributeDecoder(payload, SIZEOF_UNIX_DIAG_MSG);
  while (attrs.next()) {
    switch (attrs.type) {
      case UNIX_DIAG_NAME:
        socket.name = attrs.bytes().slice();
        socket.path = nameText(socket.name);
        Object.defineProperty(socket, "toJSON", { value: unixSocketJSON });
        break;
      case UNIX_DIAG_VFS:
        socket.vfs = decodeStruct(UNIX_DIAG_VFS_LAYOUT, attrs.bytes());
        break;
      case UNIX_DIAG_PEER:
        socket.peer = attrs.u32();
        break;
      case UNIX_DIAG_ICONS:
        socket.pending = u32s(attrs.bytes());
        break;
      case UNIX_DIAG_RQLEN: {
        const [receive, send] = u32s(attrs.bytes());
        socket.receiveQueue = receive;
        socket.sendQueue = send;
        break;
      }
      case UNIX_DIAG_MEMINFO:
        socket.memory = decodeSocketMemory(attrs.bytes());
        break;
      case UNIX_DIAG_SHUTDOWN:
        socket.shutdown = attrs.u8();
        break;
      case UNIX_DIAG_UID:
        socket.uid = attrs.u32();
        break;
    }
  }
  return socket;
}

/**
 * A named unix socket's JSON (its own `toJSON`, not enumerable): `name` as an array of its bytes,
 * as the route layer writes bytes, where JSON.stringify writes a Uint8Array as an object keyed
 * by index (`{"0":47,"1":116,...}`).
 */
function unixSocketJSON(this: UnixSocket): Record<string, unknown> {
  return { ...this, name: Array.from(this.name!) };
}

/**
 * Streams the unix sockets in the states asked for (default all). See {@linkcode unixSockets}.
 *
 * @example
 * ```ts
 * import { unixSocketStream } from "@netlink/netlink/diag";
 * for await (const s of unixSocketStream({ states: ["listen"] })) console.log(s.path);
 * ```
 */
export async function* unixSocketStream(query: UnixQuery = {}): AsyncGenerator<UnixSocket> {
  const payload = encodeUnixRequest(query);
  for await (const message of dumpAll(query, [payload], "unix", "unix_diag")) {
    yield decodeUnixSocket(message.payload);
  }
}

/**
 * Lists the unix sockets in the states asked for (default all: `ss -xa`). A kernel without
 * unix_diag rejects with a NetlinkError "ENOENT" that says so.
 *
 * @example
 * ```ts
 * import { unixSockets } from "@netlink/netlink/diag";
 * const listening = await unixSockets({ states: ["listen"] });
 * console.log(listening.map((s) => s.path));
 * ```
 */
export function unixSockets(query: UnixQuery = {}): Promise<UnixSocket[]> {
  return listed(query, encodeUnixRequest, unixSocketStream);
}
