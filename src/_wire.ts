/**
 * What open() attaches to every socket it makes: its tap point, the `capture` option, and the
 * NETLINK_DEBUG trace (every datagram sent and received, formatted, on stderr).
 *
 * @module
 */

import { environment } from "../ffi/mod.ts";
import { NETLINK_KOBJECT_UEVENT } from "./_constants.ts";
import { checkWellFormed } from "./_options.ts";
import type { CaptureTarget } from "./capture.ts";
import type { FormatOptions, NetlinkFormatter } from "./format.ts";
import { decodeMessages, type Message } from "./message.ts";
import type { NetlinkSocket } from "./socket.ts";
import { registerTapPoint, type Tap, type TapPoint } from "./tap.ts";

let debugStyle: FormatOptions["style"] | null | undefined;

/**
 * NETLINK_DEBUG: unset, empty, "0" or "false" is off; "tree" traces in tree style; anything
 * else in one line per message. Read once per process; unreadable (Deno without --allow-env)
 * counts as unset.
 */
function traceStyle(): FormatOptions["style"] | null {
  if (debugStyle === undefined) {
    const value = environment("NETLINK_DEBUG")?.trim().toLowerCase();
    debugStyle = value === undefined || value === "" || value === "0" || value === "false"
      ? null
      : value === "tree"
      ? "tree"
      : "line";
  }
  return debugStyle;
}

/** The formatter and its module, loaded on the first trace (one per process: generic family
 * ids learned on one socket name them on all). */
let loading: Promise<Formatting> | undefined;

interface Formatting {
  formatter: NetlinkFormatter;
  protocolName: (protocol: number) => string;
}

/**
 * Settles once the NETLINK_DEBUG formatter has loaded (never rejects), or undefined when tracing
 * is off: open() waits for it, so that traces come out in order with the program's own output.
 */
export function traceReady(): Promise<void> | undefined {
  return loading?.then(() => {}, () => {});
}

/** The trace tap: formats each datagram, once the formatter has loaded (on demand). */
function traceTap(socket: NetlinkSocket, style: FormatOptions["style"]): Tap {
  const protocol = socket.protocol;
  const portid = socket.portid;
  const backlog: ((f: Formatting) => string)[] = [];
  let ready: Formatting | undefined;
  loading ??= import("./format.ts").then((m) => ({
    formatter: new m.NetlinkFormatter(),
    protocolName: m.protocolName,
  }));
  loading.then((f) => {
    ready = f;
    for (const line of backlog.splice(0)) console.error(line(f));
  }, (err) => console.error("netlink: NETLINK_DEBUG cannot load the formatter:", err));
  const print = (line: (f: Formatting) => string) => {
    if (ready) console.error(line(ready));
    else backlog.push(line);
  };
  const prefix = (f: Formatting) => `netlink ${f.protocolName(protocol)} ${portid}`;
  return {
    sent: (data, to, groups) => {
      const copy = data.slice();
      const where = `${to ? ` to ${to}` : ""}${groups ? ` groups 0x${groups.toString(16)}` : ""}`;
      print((f) =>
        traceLines(f.formatter, copy, protocol, style, `${prefix(f)} send${where}`, portid)
      );
    },
    received: (d) => {
      const copy = d.data.slice();
      const where = `${d.sender ? ` from ${d.sender}` : ""}${d.group ? ` group ${d.group}` : ""}`;
      const sender = d.sender;
      print((f) =>
        traceLines(f.formatter, copy, protocol, style, `${prefix(f)} recv${where}`, sender)
      );
    },
    receiveFailed: (err) => print((f) => `${prefix(f)} recv failed: ${String(err)}`),
  };
}

function traceLines(
  f: NetlinkFormatter,
  data: Uint8Array,
  protocol: number,
  style: FormatOptions["style"],
  what: string,
  sender: number,
): string {
  if (protocol === NETLINK_KOBJECT_UEVENT) {
    // Uevents are not netlink messages: NUL-separated text.
    return `${what} ${JSON.stringify(new TextDecoder().decode(data).replaceAll("\0", " ").trim())}`;
  }
  let messages;
  try {
    messages = decodeMessages(data);
  } catch (err) {
    return `${what} ${data.length} bytes that are not netlink messages (${String(err)})`;
  }
  // With its sender: the formatter learns family names from the kernel's messages only.
  return messages.map((m) => {
    const from: Message & { sender: number } = { ...m, sender };
    return `${what} ${f.format(from, { protocol, style })}`;
  }).join("\n");
}

/** Throws TypeError for something that is not a {@linkcode CaptureTarget}; no side effects. */
export function checkCaptureTarget(target: unknown): asserts target is CaptureTarget {
  if (typeof target === "string") {
    if (target === "" || target.includes("\0")) {
      throw new TypeError("capture path must be a non-empty path without NUL");
    }
    // Encoded with U+FFFD for a lone surrogate, it would create another file.
    checkWellFormed(target, "capture path");
    return;
  }
  if (typeof target === "function") return;
  if (typeof (target as WritableStream | null)?.getWriter === "function") return;
  throw new TypeError(
    `capture must be a file path, a function taking each chunk, or a WritableStream, got ${
      target === null ? "null" : typeof target
    }`,
  );
}

/**
 * src/capture.ts, loaded at the first open() asked for a capture: a script that captures nothing
 * does not load it (mod.ts, which exports it, does).
 */
let captureModule: Promise<typeof import("./capture.ts")> | undefined;

/**
 * Registers the socket's tap point and attaches what the options and environment ask for: at
 * once, or, with a capture, once src/capture.ts has loaded (the promise; the socket is made and
 * its groups joined before, as without one). On a failure (the capture file cannot be created)
 * nothing more is attached and the error is thrown, or the promise rejects with it.
 */
export function attachOnOpen(
  socket: NetlinkSocket,
  point: TapPoint,
  capture: CaptureTarget | undefined,
): Promise<void> | undefined {
  registerTapPoint(socket, point);
  if (capture === undefined) return attachTrace(socket, point);
  captureModule ??= import("./capture.ts");
  return captureModule.then(({ Capture }) => {
    new Capture(socket, capture);
    attachTrace(socket, point);
  });
}

/** The NETLINK_DEBUG trace, if the environment asks for it. */
function attachTrace(socket: NetlinkSocket, point: TapPoint): undefined {
  const style = traceStyle();
  if (style !== null) point.attach(traceTap(socket, style));
  return undefined;
}
