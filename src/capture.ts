/**
 * Packet captures of a socket's traffic in the format `tcpdump -i nlmon0 -w` writes: a pcap file
 * of link type LINKTYPE_NETLINK (253), each datagram after the 16-byte "cooked" header libpcap
 * gives nlmon packets (packet type, ARPHRD_NETLINK, the netlink protocol). Wireshark and tshark
 * decode them as they decode an nlmon capture: rtnetlink, generic netlink, netfilter...
 *
 * Unlike nlmon it needs no nlmon device, and sees one socket only, in whatever namespace it is.
 *
 * @module
 */

import { openFile } from "../ffi/mod.ts";
import { captureFullWarning } from "./_capture_warning.ts";
import { whenCollected } from "./_collected.ts";
import { HOST_LITTLE_ENDIAN } from "./_endian.ts";
import { guarded } from "./_guard.ts";
import { checkOptions, checkSignal } from "./_options.ts";
import { checkCaptureTarget } from "./_wire.ts";
import type { NetlinkSocket } from "./socket.ts";
import { type Tap, tapPoint } from "./tap.ts";
import type { Datagram } from "./transport.ts";

/**
 * Where a capture goes: a file path (created or truncated, written through libc: Deno needs only
 * --allow-ffi), a function called with each chunk of the file in order (an async one's promises
 * are waited for by `stop()`, and a rejection stops the capture as a throw does), or a
 * WritableStream (`(await Deno.create(path)).writable`, `Bun.file(path).writer()` wrapped, a
 * socket...).
 *
 * The socket never waits for its capture. An async function or a stream that falls behind holds
 * at most {@linkcode CAPTURE_MAX_PENDING} bytes of unwritten records; datagrams past that are
 * dropped from the capture (not from the socket) and counted in {@linkcode Capture.dropped}, as
 * tcpdump counts the packets its buffer could not hold. So are those a path's pipe or FIFO has
 * no room for (its reader not keeping up): the file gets whole records, never a blocked thread.
 *
 * @example
 * ```ts
 * import type { CaptureTarget } from "@netlink/netlink";
 * const chunks: Uint8Array[] = [];
 * const toMemory: CaptureTarget = (chunk) => chunks.push(chunk);
 * const toFile: CaptureTarget = "/tmp/netlink.pcap";
 * ```
 */
export type CaptureTarget = string | ((chunk: Uint8Array) => void) | WritableStream<Uint8Array>;

/** pcap's magic number for microsecond timestamps, written in host byte order. */
const PCAP_MAGIC = 0xa1b2c3d4;
/** LINKTYPE_NETLINK: what libpcap reports for an nlmon device. */
export const LINKTYPE_NETLINK = 253;
/** libpcap's largest snapshot length; longer datagrams are cut and keep their original length. */
const SNAPLEN = 262144;
/**
 * The most bytes of records an async capture target may have unwritten: 16 MiB. Past it, records
 * are dropped and counted in {@linkcode Capture.dropped}, so a slow target cannot grow the
 * process's memory without bound.
 *
 * @example
 * ```ts
 * import { CAPTURE_MAX_PENDING } from "@netlink/netlink";
 * console.log(CAPTURE_MAX_PENDING / 2 ** 20, "MiB"); // 16 MiB
 * ```
 */
export const CAPTURE_MAX_PENDING = 16 * 2 ** 20;

/** The cooked (LINKTYPE_LINUX_SLL) header before each datagram. */
const SLL_HEADER = 16;
/** ARPHRD_NETLINK, the nlmon device's hardware type, in the cooked header. */
const ARPHRD_NETLINK = 824;
/**
 * Packet types the kernel gives the copies it passes to nlmon (net/netlink/af_netlink.c):
 * PACKET_KERNEL for a datagram to the kernel, PACKET_USER for one to a user socket.
 */
const PACKET_USER = 6, PACKET_KERNEL = 7;

/** The 24-byte pcap file header. */
function fileHeader(): Uint8Array {
  const bytes = new Uint8Array(24);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, PCAP_MAGIC, HOST_LITTLE_ENDIAN);
  view.setUint16(4, 2, HOST_LITTLE_ENDIAN); // version 2.4
  view.setUint16(6, 4, HOST_LITTLE_ENDIAN);
  // thiszone and sigfigs stay 0.
  view.setUint32(16, SNAPLEN, HOST_LITTLE_ENDIAN);
  view.setUint32(20, LINKTYPE_NETLINK, HOST_LITTLE_ENDIAN);
  return bytes;
}

/** One pcap record: its header, the cooked header, then the datagram (cut at SNAPLEN). */
function record(data: Uint8Array, protocol: number, toKernel: boolean, now: number): Uint8Array {
  const length = SLL_HEADER + data.length;
  const kept = Math.min(length, SNAPLEN);
  const bytes = new Uint8Array(16 + kept);
  const view = new DataView(bytes.buffer);
  const seconds = Math.floor(now / 1000);
  view.setUint32(0, seconds, HOST_LITTLE_ENDIAN);
  view.setUint32(
    4,
    Math.min(999_999, Math.floor((now - seconds * 1000) * 1000)),
    HOST_LITTLE_ENDIAN,
  );
  view.setUint32(8, kept, HOST_LITTLE_ENDIAN);
  view.setUint32(12, length, HOST_LITTLE_ENDIAN);
  // The cooked header is big-endian, as libpcap writes it.
  view.setUint16(16, toKernel ? PACKET_KERNEL : PACKET_USER);
  view.setUint16(18, ARPHRD_NETLINK);
  // Address length 0, 8 address bytes: zero.
  view.setUint16(30, protocol);
  bytes.set(data.subarray(0, kept - SLL_HEADER), 32);
  return bytes;
}

/** Where the bytes go: written in order; close flushes. */
interface Sink {
  /**
   * False when the record was dropped: CAPTURE_MAX_PENDING bytes are still unwritten. `written`
   * is called once the target has written it: at once for a file or a plain function, when its
   * promise resolves for an async function or a stream; never for a write that fails.
   */
  write(bytes: Uint8Array, written?: () => void): boolean;
  close(): Promise<void>;
  /** Gives up on writes not yet made: a stream is aborted. None for a file or a function. */
  readonly abort?: (reason: unknown) => void;
  /**
   * Closes the file or stream once its capture is garbage-collected (its socket dropped without
   * close(), and the capture with it); reaches nothing of the capture. None for a function.
   */
  readonly release?: () => void;
}

/** A stream writer's close for {@linkcode Sink.release}: a scope of its own, and no rejection. */
function closing(writer: WritableStreamDefaultWriter<Uint8Array>): () => void {
  return () => void writer.close().catch(() => {});
}

function sinkOf(target: CaptureTarget, fail: (err: unknown) => void): Sink {
  if (typeof target === "string") {
    const file = openFile(target);
    return {
      write: (bytes, written) => file.write(bytes) && (written?.(), true),
      close: () => Promise.resolve(file.close()),
      release: file.close.bind(file),
    };
  }
  // An async function's or a stream's writes finish later: close() waits for them, a rejection
  // is a failed write (not an unhandled rejection, which would end the program), and the bytes
  // still unwritten are bounded.
  let pendingBytes = 0;
  const pending = new Set<Promise<unknown>>();
  const track = (bytes: Uint8Array, result: Promise<unknown>, written?: () => void) => {
    pendingBytes += bytes.length;
    const settled = result.then(written, fail).finally(() => {
      pendingBytes -= bytes.length;
      pending.delete(settled);
    });
    pending.add(settled);
  };
  const full = (bytes: Uint8Array) =>
    pendingBytes > 0 && pendingBytes + bytes.length > CAPTURE_MAX_PENDING;
  if (typeof target === "function") {
    return {
      write: (bytes, written) => {
        if (full(bytes)) return false;
        const result: unknown = target(bytes);
        if (result instanceof Promise) track(bytes, result, written);
        else written?.();
        return true;
      },
      close: () => Promise.all(pending).then(() => {}),
    };
  }
  const writer = target.getWriter();
  return {
    write: (bytes, written) => {
      if (full(bytes)) return false;
      track(bytes, writer.write(bytes), written);
      return true;
    },
    close: () => Promise.all(pending).then(() => writer.close()).catch(fail),
    // Rejects the queued writes at once; the one under way is the stream's to end.
    abort: (reason) => void writer.abort(reason).catch(() => {}),
    release: closing(writer),
  };
}

/**
 * Options of {@linkcode Capture.stop}.
 *
 * @example
 * ```ts
 * import type { CaptureStopOptions } from "@netlink/netlink";
 * const withinASecond: CaptureStopOptions = { signal: AbortSignal.timeout(1000) };
 * ```
 */
export interface CaptureStopOptions {
  /**
   * Gives up waiting for the target's writes once aborted (`AbortSignal.timeout(ms)` for a
   * deadline): see {@linkcode Capture.stop}.
   */
  signal?: AbortSignal;
}

// Every key and nothing else (`satisfies`): a misspelt one is refused, not ignored.
const STOP_KEYS = Object.keys({ signal: 0 } satisfies Record<keyof CaptureStopOptions, 0>);

/**
 * A running capture of one socket's traffic; made by {@linkcode capture} or `open()`'s
 * `capture` option. It ends with {@linkcode Capture.stop}, or when the socket closes: its file
 * or stream is closed then, with every record written. A socket dropped without close() is
 * closed once garbage-collected, and its capture ends then too, or once the capture is
 * collected. A function or stream target that refers to the socket does not keep it from
 * collection, unless the program still holds the capture.
 *
 * @example
 * ```ts
 * import { capture, NETLINK_ROUTE, open } from "@netlink/netlink";
 * await using sock = await open(NETLINK_ROUTE);
 * const pcap = capture(sock, "/tmp/rtnl.pcap");
 * // ... requests ...
 * await pcap.stop();
 * console.log(pcap.packets, "datagrams captured");
 * ```
 */
export class Capture {
  #packets = 0;
  #dropped = 0;
  /** Whether a write failed: its error may be any value, undefined too. */
  #failed = false;
  #error: unknown = undefined;
  #sink: Sink | undefined;
  #detach: (() => void) | undefined;
  #closed: Promise<void> | undefined;
  /** The closed sink's abort, for a stop() whose signal gives up on its writes. */
  #abortSink: ((reason: unknown) => void) | undefined;
  /** Cancels the sink's release at collection (see the constructor) once it is closed. */
  #forgetRelease = () => {};

  /** @internal Use {@linkcode capture}. */
  constructor(socket: NetlinkSocket, target: CaptureTarget) {
    checkCaptureTarget(target);
    // Refused before the file is created (or truncated) and the target is written.
    const point = tapPoint(socket, "capture");
    const protocol = socket.protocol;
    const sink = sinkOf(target, (err) => this.#fail(err));
    this.#sink = sink;
    // Dropped with its socket: the socket's release closes only the descriptor (it does not hold
    // the taps), so the capture closes its own file once collected.
    if (sink.release) this.#forgetRelease = whenCollected(this, sink.release);
    try {
      sink.write(fileHeader());
      const now = () => performance.timeOrigin + performance.now();
      const written = () => void this.#packets++;
      const write = (bytes: Uint8Array) => {
        if (this.#sink === undefined) return;
        try {
          if (!this.#sink.write(bytes, written) && this.#dropped++ === 0) {
            console.error(
              `${
                typeof target === "string"
                  ? captureFullWarning(target)
                  : `netlink: capture target is ${CAPTURE_MAX_PENDING} bytes behind: dropping datagrams from the capture`
              } (see Capture.dropped)`,
            );
          }
        } catch (err) {
          this.#fail(err);
        }
      };
      const captureTap: Tap = {
        sent: (data, portid, groups) =>
          write(record(data, protocol, portid === 0 && groups === 0, now())),
        received: (datagram: Datagram) => write(record(datagram.data, protocol, false, now())),
        detached: () => void this.#end(),
      };
      this.#detach = point.attach(captureTap);
    } catch (err) {
      this.#sink = undefined;
      this.#forgetRelease();
      void sink.close();
      throw err;
    }
  }

  /**
   * Datagrams written so far: by a file or a plain function at once, by an async function or a
   * stream once its write has resolved (so after `stop()` resolves, every one). A write that
   * failed, and those a failed stream never made, are not counted.
   */
  get packets(): number {
    return this.#packets;
  }

  /**
   * Datagrams left out of the capture because its target was {@linkcode CAPTURE_MAX_PENDING}
   * bytes behind (an async function or a stream slower than the socket), or a path's pipe or
   * FIFO was full (its reader slower than the socket, or not reading). The socket itself
   * received or sent them.
   */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Why the capture stopped early (a write that failed), or why a `stop()` gave up on its writes
   * (its signal's reason), or undefined.
   */
  get error(): unknown {
    return this.#error;
  }

  /**
   * Detaches the capture and closes its file or stream; resolves once everything is written.
   * Idempotent. Rejects with the write error if the capture failed.
   *
   * A stream or an async function whose write never settles would hold it for ever: with
   * `options.signal`, once it aborts, stop() rejects with its reason instead and the capture is
   * given up (a stream target is aborted, `writer.abort(reason)`; the records it had not
   * written are lost and {@linkcode Capture.error} is the reason; a later stop() rejects with it
   * at once). A TypeError, before anything is detached, for options that are not these.
   *
   * @example
   * ```ts
   * import { capture, NETLINK_ROUTE, open } from "@netlink/netlink";
   * await using sock = await open(NETLINK_ROUTE);
   * const pcap = capture(sock, new WritableStream({ write: () => new Promise(() => {}) }));
   * await pcap.stop({ signal: AbortSignal.timeout(100) }).catch((err) => console.log(err.name));
   * ```
   */
  async stop(options: CaptureStopOptions = {}): Promise<void> {
    const where = "Capture.stop() options";
    const signal = checkSignal(where, checkOptions(where, options, STOP_KEYS).signal);
    this.#detach?.();
    const closed = this.#end();
    await (signal === undefined ? closed : guarded(closed, { signal }, () => {
      this.#giveUp(signal.reason);
    }));
    if (this.#failed) throw this.#error;
  }

  #end(): Promise<void> {
    if (this.#closed === undefined) {
      const sink = this.#sink;
      this.#sink = undefined;
      this.#forgetRelease();
      this.#closed = sink === undefined ? Promise.resolve() : sink.close();
      this.#abortSink = sink?.abort;
    }
    return this.#closed;
  }

  /** Ends a stop() that gave up: the target's writes are no longer waited for. */
  #giveUp(reason: unknown): void {
    if (!this.#failed) {
      // Set before the abort, so that the writes it rejects are not logged as a failure.
      this.#failed = true;
      this.#error = reason;
    }
    this.#closed = Promise.resolve();
    this.#abortSink?.(reason);
    this.#abortSink = undefined;
  }

  #fail(err: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#error = err;
    console.error("netlink: capture stopped:", err);
    this.#detach?.();
  }
}

/**
 * Starts capturing every datagram `socket` sends and receives to `target`, as pcap in the nlmon
 * format (`tcpdump -i nlmon0 -w` writes the same): open it with Wireshark, `tshark -r FILE -V`,
 * `tcpdump -r FILE`. Datagrams to the kernel are marked PACKET_KERNEL, the others (received, or
 * sent to another port or to groups) PACKET_USER, as the kernel marks them for nlmon; the cooked
 * header carries the socket's protocol. `socket` must come from `open()` (see `tap()`). Throws
 * TypeError for a bad target or a socket not made by `open()`, SocketClosedError for a closed
 * one, SyscallError when the file cannot be created (ENXIO for a FIFO no process has open for
 * reading: open its reader first, `wireshark -k -i FIFO`). A write that fails later stops the
 * capture (see {@linkcode Capture.error}).
 *
 * @example
 * ```ts
 * import { capture, NETLINK_ROUTE, NLM_F_DUMP, open, RTM_GETLINK } from "@netlink/netlink";
 * await using sock = await open(NETLINK_ROUTE);
 * const pcap = capture(sock, "/tmp/links.pcap");
 * await sock.request({ type: RTM_GETLINK, flags: NLM_F_DUMP, payload: new Uint8Array(16) });
 * await pcap.stop(); // then: tshark -r /tmp/links.pcap -V
 * ```
 */
export function capture(socket: NetlinkSocket, target: CaptureTarget): Capture {
  return new Capture(socket, target);
}
