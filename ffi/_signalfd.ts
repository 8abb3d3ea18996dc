/**
 * Deno's {@linkcode Signals} for the signal waiter (`_signal_waiter.ts`): SIGURG delivered to a
 * signalfd that Deno's own event loop watches, so that the kernel wakes the waiting thread
 * directly, as it wakes a C program blocked in recv.
 *
 * How: each socket's SIGURG goes to the thread that waits on it (`F_SETOWN_EX`, `F_OWNER_TID`),
 * which has SIGURG blocked, so the signal stays pending on that thread; a signalfd of that thread
 * becomes readable, and a Node pipe handle (`process.binding("pipe_wrap").Pipe`, opened on the
 * signalfd) has Deno 2.9's libuv layer register it with the thread's tokio reactor (an `AsyncFd`,
 * epoll). The handle's `onread` (the pending signals read, 128 bytes each) calls the listener.
 *
 * Why (numbers in ffi/README.md): every other way Deno offers costs two wake-ups per event, the
 * kernel's of some other thread (a pool thread's poll returning, or Deno's signal thread reading
 * the socket its handler writes) and that thread's of the event loop; this one costs one.
 *
 * @module
 */

import { SyscallError } from "../src/errors.ts";
import {
  F_OWNER_TID,
  OFFSETOF_F_OWNER_EX_PID,
  OFFSETOF_F_OWNER_EX_TYPE,
  SFD_CLOEXEC,
  SFD_NONBLOCK,
  SIGURG,
  SIZEOF_F_OWNER_EX,
  SIZEOF_SIGSET_T,
} from "./_constants.ts";
import type { Libc } from "./_libc.ts";
import type { Signals } from "./_signal_waiter.ts";

/** The calls this needs beyond {@linkcode Libc}, on the calling thread. */
export interface SignalfdCalls {
  /** pthread_sigmask(SIG_BLOCK, set, NULL): 0, or an error number. */
  blockSignals(set: Uint8Array): number;
  /** signalfd(-1, set, flags): a new descriptor, or -1 and errno. */
  signalfd(set: Uint8Array, flags: number): number;
  /** The calling thread's ID (gettid). */
  gettid(): number;
  /** fcntl(fd, F_SETOWN_EX, owner): 0, or -1 and errno. */
  setOwnerEx(fd: number, owner: Uint8Array): number;
}

/** Node's pipe handle as Deno 2.9 implements it (a libuv `uv_pipe_t` over tokio). */
interface PipeHandle {
  /** uv_pipe_open: the handle owns `fd` from then on; 0 or a negative libuv error. */
  open(fd: number): number;
  readStart(): number;
  unref(): void;
  /** Closes the handle, and the descriptor it owns. */
  close(): void;
  onread: ((data: ArrayBuffer | undefined) => void) | undefined;
}

type PipeClass = new(type: number) => PipeHandle;

/** Node's pipe_wrap socket type (`constants.SOCKET`). */
const PIPE_SOCKET = 0;

/**
 * Deno's pipe handle class, or undefined when this Deno has none. Loads Deno's Node
 * compatibility layer (the `process` global) on first use.
 */
export function denoPipeClass(): PipeClass | undefined {
  // Deno 2.9's pipe handle is a libuv-style handle over its tokio reactor (libs/core/uv_compat),
  // which is what this relies on; an earlier Deno's pipe_wrap is another implementation, whose
  // open() of a descriptor no test here has run: those take the pool waiter.
  const [major, minor] = Deno.version.deno.split(".").map(Number);
  if (major < 2 || (major === 2 && minor < 9)) return undefined;
  try {
    const process = (globalThis as { process?: { binding?: (name: string) => unknown } }).process;
    const Pipe = (process?.binding?.("pipe_wrap") as { Pipe?: unknown } | undefined)?.Pipe;
    return typeof Pipe === "function" ? Pipe as PipeClass : undefined;
  } catch {
    return undefined;
  }
}

/**
 * {@linkcode Signals} through a signalfd of the waiting thread. `keepAlive` is Deno's far-future
 * timer (see `mod.ts`); the pipe handle itself is unref'd and never keeps the process alive.
 */
export function signalfdSignals(
  libc: Libc,
  calls: SignalfdCalls,
  Pipe: PipeClass,
  keepAlive: () => { ref(): void; unref(): void },
): Signals {
  const set = new Uint8Array(SIZEOF_SIGSET_T);
  new BigUint64Array(set.buffer, 0, 1)[0] = 1n << BigInt(SIGURG - 1);
  let owner: Uint8Array | undefined;
  let pipe: PipeHandle | undefined;
  return {
    listen(listener) {
      const err = calls.blockSignals(set);
      if (err !== 0) throw new SyscallError("pthread_sigmask", err, "SIG_BLOCK SIGURG");
      const fd = calls.signalfd(set, SFD_NONBLOCK | SFD_CLOEXEC);
      if (fd < 0) {
        throw new SyscallError(
          "signalfd",
          libc.errno(),
          "no descriptor left for the signalfd that netlink waits need on Deno: close "
            + "descriptors, or raise the limit (ulimit -n)",
        );
      }
      const handle = new Pipe(PIPE_SOCKET);
      const status = handle.open(fd);
      if (status !== 0) {
        libc.close(fd);
        throw new Error(`netlink: Deno's pipe handle refused the signalfd (libuv error ${status})`);
      }
      // What was read is the pending signals' siginfo: which socket raised one is not needed (the
      // listener checks every armed socket). An error or end (no data) cannot come from a signalfd.
      handle.onread = () => listener();
      handle.readStart();
      handle.unref();
      pipe = handle;
    },
    stop() {
      // SIGURG stays blocked on this thread: a signal raised meanwhile stays pending, and the
      // next signalfd's first read takes it (a spurious wake-up at worst).
      pipe?.close();
      pipe = undefined;
    },
    own(fd) {
      if (owner === undefined) {
        owner = new Uint8Array(SIZEOF_F_OWNER_EX);
        const words = new Int32Array(owner.buffer);
        words[OFFSETOF_F_OWNER_EX_TYPE / 4] = F_OWNER_TID;
        words[OFFSETOF_F_OWNER_EX_PID / 4] = calls.gettid();
      }
      return calls.setOwnerEx(fd, owner);
    },
    keepAlive,
  };
}
