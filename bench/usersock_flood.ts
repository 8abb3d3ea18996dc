// The library's side of bench/usersock_flood.c (run by bench/usersock_flood.sh): opens a
// NETLINK_USERSOCK socket, starts the C sender on its port, and receives and decodes COUNT
// messages, checking each index. MODE says how:
//   messages  the socket's message stream, one ReceivedMessage per iteration step
//   batches   the socket's batches(), a run of messages per step
//   listen    sock.listen(handler): the handler called with each message, no iteration step
//   datagrams sock.datagrams() (whole datagrams, copied), each walked with MessageCursor (no
//             object per message)
//   cursor    the allocation-free path: sock.cursor(), one cursor reset over each datagram where
//             the kernel put it (no copy, no object per datagram or message)
//   transport the MessageCursor walk over datagrams straight from transport.receive() (copied)
//   inplace   the same over transport.receiveInPlace() (no copy): the socket layer's floor
// The clock starts at the first message, as in the C receiver (spawning the sender is not the
// receiver's cost). Prints one JSON line.
//
//   bench/usersock_flood.ts COUNT SIZE BATCH [messages|batches|listen|datagrams|cursor|transport|inplace]

import { spawn } from "node:child_process";
import process from "node:process";
import { SO_RCVBUFFORCE, SOL_SOCKET } from "../ffi/_constants.ts";
import { openTransport } from "../ffi/mod.ts";
import { MessageCursor, NETLINK_USERSOCK, open, type ReceivedMessage } from "../mod.ts";

const [count, size, batch] = [200_000, 64, 1].map((d, i) => Number(process.argv[2 + i] ?? d));
const mode = process.argv[5] ?? "messages";
const runtime = "Deno" in globalThis ? "deno" : "bun";

let received = 0, outOfOrder = 0, next = 0;
let overruns = 0;
let t0 = 0;

/** Checks the indices of the messages left in `c`; true once all have arrived. */
function walk(c: MessageCursor): boolean {
  while (c.next()) {
    // The index's low 32 bits (the counts here stay far below 2^32).
    const index = c.view.getUint32(c.byteOffset + c.payloadOffset, true);
    if (index !== next) outOfOrder++;
    next = index + 1;
    if (++received === 1) t0 = performance.now();
    if (received === count) return true;
  }
  return false;
}

function startSender(portid: number) {
  return spawn(new URL("./usersock_flood", import.meta.url).pathname, [
    "send",
    String(portid),
    String(count),
    String(size),
    String(batch),
  ], { stdio: "inherit" });
}

if (mode === "transport" || mode === "inplace") {
  const t = openTransport(NETLINK_USERSOCK, { portid: 0 });
  t.setOption(SOL_SOCKET, SO_RCVBUFFORCE, 1 << 20);
  const sender = startSender(t.portid);
  const c = new MessageCursor();
  const inPlace = mode === "inplace";
  for (;;) {
    if (inPlace) {
      const d = t.receiveInPlace!();
      if (d === undefined) {
        await t.wait();
        continue;
      }
      c.reset(d.buffer, d.length);
    } else {
      const d = t.receive();
      if (d === undefined) {
        await t.wait();
        continue;
      }
      c.reset(d.data);
    }
    if (walk(c)) break;
  }
  report(sender);
  t.close();
} else {
  await using sock = await open(NETLINK_USERSOCK, { receiveBufferSize: 1 << 20 });
  const sender = startSender(sock.portid);
  /** Checks one message's index; true once all have arrived. */
  const take = (msg: ReceivedMessage): boolean => {
    const p = msg.payload;
    const index = new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(0, true);
    if (index !== next) outOfOrder++;
    next = index + 1;
    if (++received === 1) t0 = performance.now();
    return received === count;
  };
  if (mode === "batches") {
    all: for await (const run of sock.batches()) for (const msg of run) if (take(msg)) break all;
  } else if (mode === "listen") {
    const ac = new AbortController();
    await sock.listen((msg) => {
      if (take(msg)) ac.abort();
    }, { signal: ac.signal }).catch((err) => {
      if (!ac.signal.aborted) throw err;
    });
  } else if (mode === "cursor") {
    for await (const c of sock.cursor()) if (walk(c)) break;
  } else if (mode === "datagrams") {
    const c = new MessageCursor();
    for await (const d of sock.datagrams()) if (walk(c.reset(d.data))) break;
  } else {
    for await (const msg of sock) if (take(msg)) break;
  }
  overruns = sock.overruns;
  report(sender);
}

function report(sender: ReturnType<typeof spawn>): void {
  const seconds = (performance.now() - t0) / 1000;
  const done = sender.exitCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => sender.on("exit", resolve));
  void done.then(() =>
    console.log(JSON.stringify({
      bench: runtime + (mode === "messages" ? "" : ` ${mode}`),
      received,
      out_of_order: outOfOrder,
      overruns,
      msgs_per_sec: Math.round((received - 1) / seconds),
    }))
  );
}
