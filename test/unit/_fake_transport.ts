// An in-memory Transport: the "kernel" is a callback that sees every message sent and may
// deliver datagrams back. Lets the socket's matching, streaming and close logic be tested
// deterministically without FFI.

import { AttributeEncoder } from "../../src/attribute.ts";
import {
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
} from "../../src/constants.ts";
import { SyscallError } from "../../src/errors.ts";
import { decodeMessages, encodeMessage, encodeMessages, type Message } from "../../src/message.ts";
import type { Datagram, Transport, TransportOptions, WaitResult } from "../../src/transport.ts";

export interface Sent {
  message: Message;
  portid: number;
  groupMask: number;
}

export class FakeTransport implements Transport {
  readonly protocol: number;
  readonly portid: number;
  fd = 100;
  readonly sent: Sent[] = [];
  /** Datagrams sent: several messages may share one. */
  datagrams = 0;
  readonly options: [number, number, number][] = [];
  readonly inbox: (Datagram | Error)[] = [];
  closed = false;
  waits = 0;
  #wake: ((r: WaitResult) => void) | undefined;
  onSend: (message: Message, transport: FakeTransport) => void = () => {};
  failOption?: (level: number, name: number) => Error | undefined;

  constructor(protocol: number, options: TransportOptions) {
    this.protocol = protocol;
    this.portid = options.portid || 4242;
  }

  get waiting(): boolean {
    return this.#wake !== undefined;
  }

  send(data: Uint8Array, portid: number, groupMask: number): void {
    if (this.closed) throw new Error("fake: send after close");
    this.datagrams++;
    for (const message of decodeMessages(data)) {
      this.sent.push({ message, portid, groupMask });
      this.onSend(message, this);
    }
  }

  receive(): Datagram | undefined {
    if (this.closed) throw new Error("fake: receive after close");
    const next = this.inbox.shift();
    if (next instanceof Error) throw next;
    return next;
  }

  wait(): Promise<WaitResult> {
    if (this.#wake) throw new Error("fake: two waits outstanding");
    this.waits++;
    if (this.inbox.length > 0) return Promise.resolve("readable");
    return new Promise((resolve) => this.#wake = resolve);
  }

  cancelWait(): void {
    this.#resolve("cancelled");
  }

  setOption(level: number, name: number, value: number): void {
    const err = this.failOption?.(level, name);
    if (err) throw err;
    this.options.push([level, name, value]);
  }

  getOption(level: number, name: number): number {
    return this.options.findLast(([l, n]) => l === level && n === name)?.[2] ?? 0;
  }

  close(): void {
    this.closed = true;
    this.fd = -1;
    this.#resolve("closed");
  }

  /** Queues one datagram holding `messages`, as if the kernel (or `sender`) sent it. */
  deliver(messages: Message[], sender = 0, group = 0): void {
    this.inbox.push({ data: encodeMessages(messages), sender, group });
    this.#resolve("readable");
  }

  /** Queues one datagram as it is, bytes and all. */
  deliverDatagram(datagram: Datagram): void {
    this.inbox.push(datagram);
    this.#resolve("readable");
  }

  /** Queues an ENOBUFS from recvmsg. */
  overrun(): void {
    this.inbox.push(new SyscallError("recvmsg", 105));
    this.#resolve("readable");
  }

  #resolve(result: WaitResult): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.(result);
  }
}

/** A message answering `request`: same seq, the requester's portid in the header. */
export function reply(request: Message, type: number, payload: Uint8Array, flags = 0): Message {
  return { type, flags, seq: request.seq, portid: request.portid, payload };
}

/** NLMSG_ERROR answering `request`: errno 0 is an ack. Extended-ack fields optional. */
export function ack(
  request: Message,
  errno = 0,
  ext: { detail?: string; offset?: number } = {},
): Message {
  const header = encodeMessage(request).subarray(0, 16);
  const attrs = new AttributeEncoder();
  if (ext.detail !== undefined) attrs.string(NLMSGERR_ATTR_MSG, ext.detail);
  if (ext.offset !== undefined) attrs.u32(NLMSGERR_ATTR_OFFS, ext.offset);
  const tlvs = attrs.finish();
  const payload = new Uint8Array(4 + 16 + tlvs.length);
  new DataView(payload.buffer).setInt32(0, -errno, true);
  payload.set(header, 4);
  payload.set(tlvs, 20);
  const flags = NLM_F_CAPPED | (tlvs.length ? NLM_F_ACK_TLVS : 0);
  return { type: NLMSG_ERROR, flags, seq: request.seq, portid: request.portid, payload };
}

/** NLMSG_DONE ending a dump, optionally with an error. */
export function done(request: Message, errno = 0, flags = 0): Message {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setInt32(0, -errno, true);
  return { type: NLMSG_DONE, flags, seq: request.seq, portid: request.portid, payload };
}
