/**
 * The netlink {@linkcode Transport}, written once over {@linkcode Libc} and a {@linkcode Waiter}:
 * opening (optionally in another network namespace), struct encoding (sockaddr_nl, msghdr,
 * iovec), whole-datagram receive with the NETLINK_PKTINFO group, send, options and close.
 *
 * @module
 */

import {
  NETLINK_LISTEN_ALL_NSID,
  NETLINK_PKTINFO,
  NLM_F_DUMP,
  NLMSG_HDRLEN,
} from "../src/_constants.ts";
import { withDroppedSource } from "../src/_dropped.ts";
import { HOST_LITTLE_ENDIAN as LE } from "../src/_endian.ts";
import { errnoNumber } from "../src/_errno.ts";
import { methodsOf, perEventClosures, perEventCode } from "../src/_per_event.ts";
import { sharedView, sharedWords } from "../src/_view.ts";
import { SocketClosedError, SyscallError } from "../src/errors.ts";
import type {
  Datagram,
  DatagramInPlace,
  Transport,
  TransportOptions,
  WaitResult,
} from "../src/transport.ts";
import {
  AF_NETLINK,
  BPF_MAXINSNS,
  CMSG_DATA_OFFSET,
  CMSG_LEN_NL_PKTINFO,
  CMSG_SPACE_NL_PKTINFO,
  MSG_DONTWAIT,
  MSG_TRUNC,
  OFFSETOF_CMSGHDR_CMSG_LEN,
  OFFSETOF_CMSGHDR_CMSG_LEVEL,
  OFFSETOF_CMSGHDR_CMSG_TYPE,
  OFFSETOF_IOVEC_IOV_BASE,
  OFFSETOF_IOVEC_IOV_LEN,
  OFFSETOF_MMSGHDR_MSG_HDR,
  OFFSETOF_MMSGHDR_MSG_LEN,
  OFFSETOF_MSGHDR_MSG_CONTROL,
  OFFSETOF_MSGHDR_MSG_CONTROLLEN,
  OFFSETOF_MSGHDR_MSG_IOV,
  OFFSETOF_MSGHDR_MSG_IOVLEN,
  OFFSETOF_MSGHDR_MSG_NAME,
  OFFSETOF_MSGHDR_MSG_NAMELEN,
  OFFSETOF_SOCK_FPROG_FILTER,
  OFFSETOF_SOCK_FPROG_LEN,
  OFFSETOF_SOCKADDR_NL_NL_FAMILY,
  OFFSETOF_SOCKADDR_NL_NL_GROUPS,
  OFFSETOF_SOCKADDR_NL_NL_PID,
  SIZEOF_CMSGHDR,
  SIZEOF_IOVEC,
  SIZEOF_MMSGHDR,
  SIZEOF_MSGHDR,
  SIZEOF_SOCK_FILTER,
  SIZEOF_SOCK_FPROG,
  SIZEOF_SOCKADDR_NL,
  SO_ATTACH_FILTER,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOL_NETLINK,
  SOL_SOCKET,
} from "./_constants.ts";
import type { Libc } from "./_libc.ts";
import { inNetns } from "./_netns.ts";
import type { Waiter, WaiterFactory } from "./_waiter.ts";

const EINTR = errnoNumber("EINTR")!;
const EAGAIN = errnoNumber("EAGAIN")!;
const EPROTONOSUPPORT = errnoNumber("EPROTONOSUPPORT")!;
const EADDRINUSE = errnoNumber("EADDRINUSE")!;
const EMSGSIZE = errnoNumber("EMSGSIZE")!;
const EINVAL = errnoNumber("EINVAL")!;
const ENOBUFS = errnoNumber("ENOBUFS")!;

/** An int control message's cmsg_len: NETLINK_PKTINFO's u32 and NETLINK_LISTEN_ALL_NSID's int. */
const CMSG_LEN_INT = CMSG_LEN_NL_PKTINFO;

/** sizeof(size_t): cmsg_len is the cmsghdr's first field and a size_t. */
const SIZE_T = OFFSETOF_CMSGHDR_CMSG_LEVEL;

/**
 * The room a read gives each datagram. Large enough for any datagram a socket is sent in
 * practice, so a read needs no peek: the kernel's own datagrams stay under 32 KiB for dumps and
 * under 64 KiB for notifications, and a user-space sender's datagram cannot exceed its send
 * buffer, at most 2 x net.core.wmem_max (425,984 bytes by default) unless it forces a larger one
 * as root. A larger datagram is still never truncated silently: MSG_TRUNC makes the read return
 * its real length, it is thrown as EMSGSIZE naming it, and the room grows for the next read.
 * Untouched pages cost no memory.
 */
const RECEIVE_BUFFER = 512 << 10;

/**
 * Small datagrams are copied out of the receive buffer into a shared slab instead of each into
 * an ArrayBuffer of its own: allocating one per datagram (a malloc and a GC-tracked backing
 * store) was the largest user-space cost of a flood of small messages. A message kept alive
 * keeps its slab (at most SLAB_SIZE bytes) alive, as Node's Buffer pool does; datagrams above
 * SLAB_MAX_COPY (dump parts, typically) get their own.
 */
const SLAB_SIZE = 16 << 10;
const SLAB_MAX_COPY = 2 << 10;

/**
 * The most datagrams one read takes from the queue, with one recvmmsg: a flood of small datagrams
 * then costs a syscall per BATCH datagrams instead of one each (entering and leaving the kernel
 * was most of what a one-message datagram cost). The first read after one that found the queue
 * empty takes one (see #fill): an event costs what a recvmsg did. Each gets a slot of
 * RECEIVE_BUFFER bytes of its own.
 */
const BATCH = 16;

/**
 * How many datagrams the reads after a wait take one at a time (in one call each, without a
 * copy: see Receiver.#fillOne) before a read of BATCH: an event is a few datagrams (a link change
 * three), and the batch read, its copies and their helpers are a dozen more functions gone cold
 * since the last event, for a monitor whose code never leaves JavaScriptCore's baseline tiers
 * (Bun). A flood's drain takes BATCH at a time again from its fourth read on.
 */
const WAKE_SINGLES = 4;

/**
 * A socket's read takes up to BATCH datagrams only while its last read's were all at most this
 * long, and not while a dump it asked for may be running: large ones (dump parts, up to 32 KiB) are
 * read one per syscall, as the copy or walk that follows each read then finds it in the cache the
 * kernel just wrote it through. Spread over 16 slots they were not: a cold 100,000-route dump
 * through the transport took 113 -> 133 ms on Bun with 16, against the syscalls saved (the
 * break-even, from a syscall's ~1.5 us and a cold copy's extra ~0.16 ns per byte, is near 9 KiB).
 * And a dump advances only as it is read: each datagram a read takes makes the kernel queue the
 * next part, so a read of 16 would take up to 16 parts (512 KiB) that a paused reader never asked
 * for. The size alone cannot tell: a socket's first dump part is small (NLMSG_GOODSIZE, some 3.7
 * KiB: the kernel sizes parts from the reader's buffer only once it has seen a read). So after a
 * send that may start a dump, reads take one datagram until one finds the queue empty. And a
 * socket that was sent a datagram longer than its slot reads one datagram at a time for good
 * (see NetlinkTransport#oneAtATime).
 */
const BATCH_MAX_DATAGRAM = 8 << 10;

/** Room for NETLINK_PKTINFO, NETLINK_LISTEN_ALL_NSID and a few more control messages. */
const CONTROL_SIZE = 4 * CMSG_SPACE_NL_PKTINFO;

// Layout of a batch's arena: BATCH mmsghdrs, then each one's iovec, sockaddr_nl and control
// buffer, BATCH of each in a row.
const BATCH_IOVECS = BATCH * SIZEOF_MMSGHDR;
const BATCH_NAMES = align8(BATCH_IOVECS + BATCH * SIZEOF_IOVEC);
const NAME_SPACE = align8(SIZEOF_SOCKADDR_NL);
const BATCH_CONTROLS = BATCH_NAMES + BATCH * NAME_SPACE;
const BATCH_ARENA_SIZE = BATCH_CONTROLS + BATCH * CONTROL_SIZE;

// Layout of the receiver's one-datagram read (see Receiver.#fillOne, a recvmsg): a msghdr whose
// two iovecs scatter the datagram over the receiver's slab and its spill, then its sockaddr_nl and
// control buffer.
const ONE_MSGHDR = 0; // the arena's start: Receiver's constructor writes its fields at their offsets
const ONE_IOVECS = ONE_MSGHDR + align8(SIZEOF_MSGHDR);
const ONE_NAME = ONE_IOVECS + 2 * SIZEOF_IOVEC;
const ONE_CONTROL = ONE_NAME + NAME_SPACE;
const ONE_ARENA_SIZE = ONE_CONTROL + CONTROL_SIZE;

function align8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * Writes an 8-byte field (a pointer or a size_t) of host memory, seen as host-order words, from a
 * number below 2^53 (exact as a number; user-space addresses are): no BigInt and no DataView,
 * each a call into the runtime in a cold Bun process's baseline code (the Batch's construction,
 * before a one-shot dump's first read).
 */
function set64(words: Uint32Array, offset: number, value: number): void {
  const high = Math.floor(value / 0x100000000);
  const at = offset >> 2;
  words[at + (LE ? 0 : 1)] = value - high * 0x100000000;
  words[at + (LE ? 1 : 0)] = high;
}

/**
 * The index in a Uint32Array over host memory of a size_t field's low half (the field's value is
 * known to be below 2^32), given its byte offset. For the fixed fields below, at load: a read
 * computes its variable ones inline, as `(offset >> 2) + SIZE_LOW` (a call each, 16 per event of
 * a monitor, in Deno's lower tiers).
 */
function sizeWord(offset: number): number {
  return (offset >> 2) + SIZE_LOW;
}

/** Which word of a size_t field holds its low half: see {@linkcode sizeWord}. */
const SIZE_LOW = LE ? 0 : 1;
/** The one-datagram read's size_t fields (see Receiver.#fillOne), written before each read. */
const ONE_FIRST_IOV_LEN = sizeWord(ONE_IOVECS + OFFSETOF_IOVEC_IOV_LEN);
const ONE_SECOND_IOV_LEN = sizeWord(ONE_IOVECS + SIZEOF_IOVEC + OFFSETOF_IOVEC_IOV_LEN);
const ONE_CONTROLLEN = sizeWord(ONE_MSGHDR + OFFSETOF_MSGHDR_MSG_CONTROLLEN);
/** The msg_namelen (a socklen_t) of the one-datagram read. */
const ONE_NAMELEN = (ONE_MSGHDR + OFFSETOF_MSGHDR_MSG_NAMELEN) >> 2;
/** The words of the first iovec's base: the room's address, written before each read. */
const ONE_ROOM_LOW = ((ONE_IOVECS + OFFSETOF_IOVEC_IOV_BASE) >> 2) + (LE ? 0 : 1);
const ONE_ROOM_HIGH = ((ONE_IOVECS + OFFSETOF_IOVEC_IOV_BASE) >> 2) + (LE ? 1 : 0);

const EMPTY = new Uint8Array(0);

/** What a read learns of a datagram besides its bytes. */
interface Source {
  sender: number;
  group: number;
  nsid: number | undefined;
}

/** A datagram where a read left it: the writable {@linkcode DatagramInPlace}. */
interface Described extends Source {
  buffer: Uint8Array;
  length: number;
}

/**
 * Sets `into`'s sender from the sockaddr_nl at `nameAt` in `v`, and its group and nsid from the
 * `controlLength` bytes of control messages at `controlAt`.
 */
function describe(
  w: Uint32Array,
  nameAt: number,
  controlAt: number,
  controlLength: number,
  into: Source,
): void {
  into.sender = w[(nameAt + OFFSETOF_SOCKADDR_NL_NL_PID) >> 2];
  // Groups come only from NETLINK_PKTINFO; 0 (unicast) when absent.
  let group = 0;
  let nsid: number | undefined;
  for (let off = 0; off + SIZEOF_CMSGHDR <= controlLength;) {
    const at = controlAt + off;
    const len = w[((at + OFFSETOF_CMSGHDR_CMSG_LEN) >> 2) + SIZE_LOW];
    if (len < SIZEOF_CMSGHDR || off + len > controlLength) break;
    // int fields: `| 0` reads the word as signed.
    if ((w[(at + OFFSETOF_CMSGHDR_CMSG_LEVEL) >> 2] | 0) === SOL_NETLINK && len >= CMSG_LEN_INT) {
      const type = w[(at + OFFSETOF_CMSGHDR_CMSG_TYPE) >> 2] | 0;
      if (type === NETLINK_PKTINFO) group = w[(at + CMSG_DATA_OFFSET) >> 2];
      else if (type === NETLINK_LISTEN_ALL_NSID) nsid = w[(at + CMSG_DATA_OFFSET) >> 2] | 0;
    }
    off += (len + SIZE_T - 1) & ~(SIZE_T - 1);
  }
  into.group = group;
  into.nsid = nsid;
}

/**
 * Whether a datagram sent may start a dump: one of its messages has a bit of NLM_F_DUMP set (a
 * few other requests share those bits, and unframed data has no headers: reading their answers
 * one at a time costs a syscall or two, never an answer).
 */
function mayStartDump(data: Uint8Array): boolean {
  // Bytes, not a DataView: nothing allocated per send. nlmsg_len and nlmsg_flags are host-endian.
  const flagsHigh = LE ? 7 : 6;
  for (let at = 0; at + NLMSG_HDRLEN <= data.length;) {
    if ((data[at + flagsHigh] & (NLM_F_DUMP >> 8)) !== 0) return true;
    const length = LE
      ? data[at] | data[at + 1] << 8 | data[at + 2] << 16 | data[at + 3] << 24
      : data[at] << 24 | data[at + 1] << 16 | data[at + 2] << 8 | data[at + 3];
    // As int32: a length of 2 GiB or more is negative, and ends the walk like any bad length.
    if (length < NLMSG_HDRLEN || length > data.length - at) return false;
    at += (length + 3) & ~3;
  }
  return false;
}

/** A buffer size of `had` doubled until an `n`-byte datagram fits. */
function grownSize(had: number, n: number): number {
  let size = had;
  while (size < n) size *= 2;
  return size;
}

/** The error for an `n`-byte datagram read into a `had`-byte buffer, now growing to `size`. */
function tooLong(n: number, had: number, size: number): SyscallError {
  return new SyscallError(
    "recvmsg",
    EMSGSIZE,
    `a ${n}-byte datagram was longer than the ${had}-byte receive buffer and was dropped; `
      + `the buffer now holds ${size} bytes and the socket stays usable`,
  );
}

/** Where a read describes a datagram it drops as too long. */
const dropped: Source = { sender: 0, group: 0, nsid: undefined };

/**
 * An `n`-byte datagram was read into `had` bytes, too few: the error naming it and its source
 * (described in `dropped`), and the size the read's first room (`first` bytes long, asked to grow
 * to `growTo` unless 0) grows to at the next read.
 */
function overLong(n: number, had: number, first: number, growTo: number): [SyscallError, number] {
  const size = grownSize(Math.max(first, growTo), n);
  return [withDroppedSource(tooLong(n, had, size), dropped), size > first ? size : growTo];
}

/** What the transport needs from the runtime. */
export interface Runtime {
  /** libc on the calling thread. */
  readonly libc: Libc;
  /** Makes the waiter for a socket, on its first wait(). */
  readonly newWaiter: WaiterFactory;
  /** Runs a function in a later macrotask (see {@linkcode Transport.defer}). */
  readonly defer: (run: () => void) => void;
  /** Called when a read took a full batch (a flood): Bun's keepPerEventCodeFromFTL. */
  readonly flooded?: () => void;
}

/**
 * Opens, binds and configures a netlink socket (see {@linkcode OpenTransport}). Nothing leaks on
 * failure: every descriptor opened here is closed before the error propagates.
 */
export function openSocket(
  runtime: Runtime,
  protocol: number,
  options: TransportOptions,
): Transport {
  if (SIZEOF_IOVEC !== 16 || SIZE_T !== 8) {
    throw new Error("netlink: only 64-bit Linux is supported");
  }
  const { libc } = runtime;
  const fd = options.netns === undefined
    ? newSocket(libc, protocol)
    : inNetns(libc, options.netns, () => newSocket(libc, protocol));
  try {
    const addr = libc.alloc(SIZEOF_SOCKADDR_NL);
    const view = new DataView(addr.buffer, addr.byteOffset, addr.byteLength);
    view.setUint16(OFFSETOF_SOCKADDR_NL_NL_FAMILY, AF_NETLINK, LE);
    view.setUint32(OFFSETOF_SOCKADDR_NL_NL_PID, options.portid, LE);
    if (libc.bind(fd, addr, SIZEOF_SOCKADDR_NL) < 0) throw bindError(libc.errno(), options.portid);
    const len = libc.alloc(4);
    new DataView(len.buffer).setUint32(0, SIZEOF_SOCKADDR_NL, LE);
    if (libc.getsockname(fd, addr, len) < 0) throw new SyscallError("getsockname", libc.errno());
    const portid = view.getUint32(OFFSETOF_SOCKADDR_NL_NL_PID, LE);
    const transport = new NetlinkTransport(runtime, fd, protocol, portid);
    // Every datagram then carries the group it came through, even groups above 32 that
    // sockaddr_nl's 32-bit mask cannot express.
    transport.setOption(SOL_NETLINK, NETLINK_PKTINFO, 1);
    return transport;
  } catch (err) {
    libc.close(fd);
    throw err;
  }
}

function newSocket(libc: Libc, protocol: number): number {
  const fd = libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
  if (fd < 0) throw socketError(libc.errno(), protocol);
  return fd;
}

// The errors of openSocket() and newSocket(), built apart: JavaScriptCore makes a function's
// bytecode whole at its first call, error branches included, and every open() runs both.

function socketError(errno: number, protocol: number): SyscallError {
  return new SyscallError(
    "socket",
    errno,
    errno === EPROTONOSUPPORT
      ? `netlink protocol ${protocol} is not available in this kernel (is the module that provides it loaded?)`
      : undefined,
  );
}

function bindError(errno: number, portid: number): SyscallError {
  return new SyscallError(
    "bind",
    errno,
    errno === EADDRINUSE ? `port ID ${portid} is already in use` : undefined,
  );
}

/**
 * The copying reads' batch and slab, shared by every socket of this thread: module state is per
 * thread (each Worker has its own module instance), and reads are synchronous, so one is enough.
 */
let receiver: Receiver | undefined;

/**
 * Reads of up to BATCH queued datagrams with one recvmmsg, each into a slot of its own, handed
 * out one at a time in the kernel's order by {@linkcode Batch.take}, which describes each in
 * this object: it is the {@linkcode DatagramInPlace} of a transport's in-place reads (each
 * transport has its own, so another socket's read never overwrites a datagram its reader is
 * still walking). The copying reads of every socket of the thread share one, and copy out what
 * each read took at once.
 */
class Batch implements DatagramInPlace {
  buffer: Uint8Array;
  length = 0;
  sender = 0;
  group = 0;
  nsid: number | undefined = undefined;
  readonly #libc: Libc;
  readonly #arena: Uint8Array;
  /**
   * The arena as host-order words, for the fields each read sets and reads: on code gone cold
   * between events (an event loop idle for 10 ms), a DataView method is a call into the runtime
   * where an element of a typed array is not (JavaScriptCore's baseline tier; measured on Bun).
   * The kernel's structs are in host byte order, as these words are.
   */
  readonly #words: Uint32Array;
  /**
   * The slots: the first grows for an over-long datagram (the read after one takes a single
   * datagram, see BATCH_MAX_DATAGRAM), the others stay RECEIVE_BUFFER long.
   */
  readonly #slots: Uint8Array[] = [];
  /** Datagrams the last read took, and the index of the next to hand out. */
  #count = 0;
  #next = 0;
  /** Entries whose lengths the kernel may have rewritten since they were last set. */
  #dirty = BATCH;
  /** The size the first slot grows to at the next read: a datagram was longer than its slot. */
  #growTo = 0;
  /** Whether the last read's datagrams were all at most BATCH_MAX_DATAGRAM long. */
  small = false;
  /** An in-place batch: its slots are shown to callers (a cursor's `data`), who may detach them. */
  readonly #shown: boolean;
  /** The memory under the slots: the first slot's, then the others' (once set up). */
  #memory: ArrayBufferLike[] = [];
  /** The arena's address. */
  readonly #base: number;
  /** The BATCH entries are set up (see #setUpEntries). */
  #entries = false;
  /** Told the size the first slot grows to for an over-long datagram (see #tooLong). */
  readonly #grew: ((size: number) => void) | undefined;

  /**
   * `copiedOut`: the batch of copying reads, which copy exactly what each read wrote, so its
   * slots may start unzeroed (Libc.allocUnzeroed). An in-place batch shows its slots whole (a
   * cursor's `data`): zeroed, never another allocation's leftovers. `grew`: told the size the
   * first slot grows to after an over-long datagram, which the socket then reads one at a time.
   */
  constructor(libc: Libc, copiedOut = false, grew?: (size: number) => void) {
    this.#libc = libc;
    this.#shown = !copiedOut;
    this.#grew = grew;
    const arena = this.#arena = libc.alloc(BATCH_ARENA_SIZE);
    this.#words = new Uint32Array(arena.buffer, arena.byteOffset, BATCH_ARENA_SIZE >> 2);
    this.#base = Number(libc.address(arena));
    this.buffer = this.#allocateSlots();
  }

  /**
   * Gives every slot new memory. Until the first read of several ({@linkcode fill}), only the
   * first slot has any: reads of one use no other, and the others' 7.5 MiB, most of which no read
   * ever fills, counts towards JavaScriptCore's next collection all the same (Bun.allocUnsafe's
   * memory too): made with the first slot's, it set off a collection some 10,000 routes into a
   * cold dump, and the next, mid-dump, was a full one (bench/cold_dump.sh's cursor layer, with
   * BUN_JSC_logGC=1).
   */
  #allocateSlots(): Uint8Array {
    const first = this.#allocate(RECEIVE_BUFFER);
    this.#setSlot(0, first);
    this.#memory = [first.buffer];
    if (this.#entries) this.#allocateOthers();
    return first;
  }

  /** Gives the slots past the first new memory, in one allocation. */
  #allocateOthers(): void {
    const others = this.#allocate((BATCH - 1) * RECEIVE_BUFFER);
    for (let i = 1; i < BATCH; i++) {
      this.#setSlot(i, others.subarray((i - 1) * RECEIVE_BUFFER, i * RECEIVE_BUFFER));
    }
    this.#memory.push(others.buffer);
  }

  /** Memory for slots: zeroed when they are shown. */
  #allocate(size: number): Uint8Array {
    return this.#shown ? this.#libc.alloc(size) : this.#libc.allocUnzeroed(size);
  }

  /**
   * Sets up the BATCH entries of a read of several (their mmsghdrs, and the slots past the
   * first), at the first: a one-shot dump's reads, all of one, never need them, and a cold Bun
   * process ran their setup, cold code, before its first datagram (the receiver's construction
   * with it: 0.7-0.9 ms, timed in a cold 100,000-route dump).
   */
  #setUpEntries(): void {
    this.#entries = true;
    const w = this.#words;
    const base = this.#base;
    for (let i = 0; i < BATCH; i++) {
      const at = i * SIZEOF_MMSGHDR + OFFSETOF_MMSGHDR_MSG_HDR;
      set64(w, at + OFFSETOF_MSGHDR_MSG_NAME, base + BATCH_NAMES + i * NAME_SPACE);
      set64(w, at + OFFSETOF_MSGHDR_MSG_IOV, base + BATCH_IOVECS + i * SIZEOF_IOVEC);
      set64(w, at + OFFSETOF_MSGHDR_MSG_IOVLEN, 1);
      set64(w, at + OFFSETOF_MSGHDR_MSG_CONTROL, base + BATCH_CONTROLS + i * CONTROL_SIZE);
    }
    this.#allocateOthers();
  }

  /**
   * Whether a caller detached memory the slots use (transferring a cursor's `data.buffer` to
   * another thread, or with structuredClone): the kernel must never write there again, as it
   * belongs to someone else now, or has been freed.
   */
  #detached(): boolean {
    // Indexed, not for-of: this runs once per datagram taken, and until optimized (a flood's
    // first thousands of datagrams) for-of allocated an iterator and a result per element.
    const memory = this.#memory;
    for (let i = 0; i < memory.length; i++) if (memory[i].byteLength === 0) return true;
    return false;
  }

  /** Whether datagrams read before are still to be handed out. */
  get pending(): boolean {
    return this.#next < this.#count;
  }

  /** How many datagrams read before are still to be handed out. */
  get remaining(): number {
    return this.#count - this.#next;
  }

  /** Describes a datagram copied out of a batch before, in this object. */
  describeCopy(d: Datagram): this {
    this.buffer = d.data;
    this.length = d.data.length;
    this.sender = d.sender;
    this.group = d.group;
    this.nsid = d.nsid;
    return this;
  }

  /**
   * Reads what is queued, up to `vlen` (at most BATCH) datagrams, in place of those read before
   * (call it only when none is {@linkcode pending}); false when none is queued. Throws SyscallError
   * as recvmsg does (ENOBUFS: only when it is the first thing the read meets; met later, the kernel
   * keeps it for the next read, so it comes in order).
   */
  fill(fd: number, vlen: number): boolean {
    if (this.#shown && this.#detached()) this.#allocateSlots();
    if (!this.#entries) this.#setUpEntries();
    if (this.#growTo !== 0) this.#grow();
    const w = this.#words;
    for (let i = 0; i < this.#dirty; i++) {
      const at = i * SIZEOF_MMSGHDR + OFFSETOF_MMSGHDR_MSG_HDR;
      w[(at + OFFSETOF_MSGHDR_MSG_NAMELEN) >> 2] = SIZEOF_SOCKADDR_NL;
      // The high half of the size_t stays 0: nothing writes it.
      w[((at + OFFSETOF_MSGHDR_MSG_CONTROLLEN) >> 2) + SIZE_LOW] = CONTROL_SIZE;
    }
    this.#dirty = this.#count = this.#next = 0;
    const libc = this.#libc;
    for (;;) {
      // MSG_TRUNC: each datagram's real length, even when it was longer than its slot.
      const n = libc.recvmmsg(fd, this.#arena, vlen, MSG_DONTWAIT | MSG_TRUNC);
      if (n >= 0) {
        this.#dirty = this.#count = n;
        let largest = 0;
        for (let i = 0; i < n; i++) {
          const length = w[(i * SIZEOF_MMSGHDR + OFFSETOF_MMSGHDR_MSG_LEN) >> 2];
          if (length > largest) largest = length;
        }
        this.small = largest <= BATCH_MAX_DATAGRAM;
        return n > 0;
      }
      const errno = libc.errno();
      if (errno === EAGAIN) return false;
      if (errno !== EINTR) throw new SyscallError("recvmsg", errno);
    }
  }

  /** Gives the first slot the size an over-long datagram asked for (see #growTo). */
  #grow(): void {
    const grown = this.#libc.alloc(this.#growTo);
    this.#setSlot(0, grown);
    this.#memory[0] = grown.buffer;
    this.#growTo = 0;
  }

  /**
   * The error for an `n`-byte datagram read into `slot`, which was too short: it names the
   * datagram's source (described in `dropped`); the first slot grows to fit at the next read.
   */
  #tooLong(n: number, slot: Uint8Array): SyscallError {
    const [error, growTo] = overLong(n, slot.byteLength, this.#slots[0].byteLength, this.#growTo);
    this.#growTo = growTo;
    if (growTo !== 0) this.#grew?.(growTo);
    return error;
  }

  /**
   * Describes the next datagram read (one must be {@linkcode pending}) in `into`, this object
   * unless told otherwise. One that was longer than its slot is handed out as a SyscallError
   * EMSGSIZE naming its length instead, and the first slot grows to fit it at the next read.
   */
  take(into: Described = this): void {
    // The first take after a read follows it at once; before a later one, a caller walking the
    // datagram before may have taken the memory away.
    if (this.#shown && this.#next > 0 && this.#detached()) {
      // Read before the memory was taken away: what those datagrams held went with it.
      const lost = this.#count - this.#next;
      this.#next = this.#count;
      throw new SyscallError(
        "recvmsg",
        ENOBUFS,
        `${lost} datagram${lost === 1 ? " was" : "s were"} lost: the socket's receive memory `
          + "they were read into was transferred away (a cursor()'s data is that memory, valid "
          + "until the next step: copy it, e.g. with slice(), to keep or send it)",
      );
    }
    const i = this.#next++;
    const w = this.#words;
    const at = i * SIZEOF_MMSGHDR;
    const n = w[(at + OFFSETOF_MMSGHDR_MSG_LEN) >> 2];
    const slot = this.#slots[i];
    const controlLength =
      w[((at + OFFSETOF_MMSGHDR_MSG_HDR + OFFSETOF_MSGHDR_MSG_CONTROLLEN) >> 2) + SIZE_LOW];
    // The kernel fills in the sender and group of a datagram it truncates too: for one too long,
    // they say which requests it could have answered.
    const fits = n <= slot.byteLength;
    describe(
      w,
      BATCH_NAMES + i * NAME_SPACE,
      BATCH_CONTROLS + i * CONTROL_SIZE,
      controlLength,
      fits ? into : dropped,
    );
    if (!fits) throw this.#tooLong(n, slot);
    into.buffer = slot;
    into.length = n;
  }

  /** Makes `memory` (from Libc.alloc, or a part of such) slot `i`, pointing its iovec at it. */
  #setSlot(i: number, memory: Uint8Array): void {
    this.#slots[i] = memory;
    const w = this.#words;
    const address = Number(this.#libc.address(memory));
    const at = BATCH_IOVECS + i * SIZEOF_IOVEC;
    set64(w, at + OFFSETOF_IOVEC_IOV_BASE, address);
    set64(w, at + OFFSETOF_IOVEC_IOV_LEN, memory.byteLength);
  }
}

class Receiver {
  /**
   * The batch every socket of this thread reads several datagrams into for receive(), which
   * copies out; made at the first such read (see {@linkcode shared}).
   */
  #shared: Batch | undefined;
  /**
   * Where receive() describes a datagram an in-place read took, before copying it out: the
   * socket's own in-place description stays what its last receiveInPlace() returned.
   */
  readonly scratch: Described = {
    buffer: EMPTY,
    length: 0,
    sender: 0,
    group: 0,
    nsid: undefined,
  };
  readonly #libc: Libc;
  /** Small datagrams' memory (see SLAB_SIZE), from Libc.alloc: reads write there directly. */
  #slab: ArrayBuffer | undefined;
  #slabUsed = 0;
  /** The slab as bytes, for its address. */
  #slabBytes: Uint8Array = EMPTY;
  /**
   * The slab's address, -1 until a read of one needs it (see #newSlab): reads of several, as a
   * request loop makes, never do.
   */
  #slabAddress = -1;
  /** The memory of a large copy its reader gave back (Transport.recycle), for the next one. */
  #spare: ArrayBuffer | undefined;
  /** The spare's address, for a read of one straight into it (see readOne). */
  #spareAddress = 0;
  /**
   * The memory #spareAddress is of: a dump's cursor gives the same memory back again and again,
   * and taking an address costs Deno some 5 us (Deno.UnsafePointer.of, measured per datagram).
   */
  #addressed: ArrayBuffer | undefined;
  /** The memory of every large copy made here: recycle() takes back nothing else. */
  readonly #made = new WeakSet<ArrayBufferLike>();
  /** The one-datagram read's msghdr, iovecs, sockaddr_nl and control buffer (see #fillOne). */
  readonly #one: Uint8Array;
  /** #one as host-order words (see Batch's #words). */
  readonly #oneWords: Uint32Array;
  /**
   * Where a read of one puts what does not fit the room it gives the datagram: RECEIVE_BUFFER
   * bytes, more once a datagram was longer (see #growTo). Never shown: what lands here is copied.
   */
  #spill: Uint8Array;
  /** The size the spill grows to at the next read of one: a datagram was longer than it. */
  #growTo = 0;
  /** The source of the datagram the last read of one took. */
  sender = 0;
  group = 0;
  nsid: number | undefined = undefined;
  /** Whether the last read of one's datagram was at most BATCH_MAX_DATAGRAM long. */
  small = false;

  constructor(libc: Libc) {
    this.#libc = libc;
    const one = this.#one = libc.alloc(ONE_ARENA_SIZE);
    const w = this.#oneWords = new Uint32Array(one.buffer, one.byteOffset, ONE_ARENA_SIZE >> 2);
    const base = Number(libc.address(one));
    // Offsets from the arena's start, where ONE_MSGHDR is.
    set64(w, OFFSETOF_MSGHDR_MSG_NAME, base + ONE_NAME);
    set64(w, OFFSETOF_MSGHDR_MSG_IOV, base + ONE_IOVECS);
    set64(w, OFFSETOF_MSGHDR_MSG_IOVLEN, 2);
    set64(w, OFFSETOF_MSGHDR_MSG_CONTROL, base + ONE_CONTROL);
    this.#spill = this.#newSpill(RECEIVE_BUFFER);
  }

  /**
   * The batch of reads of several, made now if not yet: a one-shot dump's reads all take one
   * (#fillOne), and a cold Bun process made the batch's code (its arena, its entries' and slots'
   * setup: some 2 KB of bytecode) before its first datagram all the same.
   */
  get shared(): Batch {
    // Its reads' over-long datagrams grow the spill too: the socket reads one at a time from
    // then on (NetlinkTransport's #oneAtATime), and the next such datagram must fit.
    return this.#shared ??= new Batch(this.#libc, true, (size) => {
      if (size > this.#spill.byteLength && size > this.#growTo) this.#growTo = size;
    });
  }

  /** New spill memory of `size` bytes (unzeroed: what lands there is copied), its iovec set. */
  #newSpill(size: number): Uint8Array {
    const spill = this.#libc.allocUnzeroed(size);
    const address = Number(this.#libc.address(spill));
    set64(this.#oneWords, ONE_IOVECS + SIZEOF_IOVEC + OFFSETOF_IOVEC_IOV_BASE, address);
    return spill;
  }

  /**
   * Reads one queued datagram (a recvmsg: see #fillOne) into the slab's free room, where it is
   * handed out without a copy when it fits (a small one: up to SLAB_MAX_COPY bytes); one that
   * does not is copied out whole, as receive() copies any. Undefined when none is queued. Throws
   * as #fillOne does.
   */
  readOne(fd: number): Datagram | undefined {
    const spare = this.#spare;
    if (spare !== undefined) {
      if (spare.byteLength > SLAB_MAX_COPY) return this.#readIntoSpare(fd, spare);
      // Detached since it was given back: the kernel must never write there.
      this.#spare = undefined;
    }
    let slab = this.#slab;
    // A slab some caller detached (by transferring a payload's buffer) has length 0: the kernel
    // must never write there.
    if (slab === undefined || slab.byteLength !== SLAB_SIZE) slab = this.#newSlab();
    if (this.#slabAddress < 0) this.#slabAddress = Number(this.#libc.address(this.#slabBytes));
    const at = this.#slabUsed;
    // Up to SLAB_MAX_COPY: a larger datagram gets memory of its own (or given back), as a copy.
    const room = Math.min(SLAB_SIZE - at, SLAB_MAX_COPY);
    const n = this.#fillOne(fd, this.#slabAddress + at, room);
    if (n < 0) return undefined;
    let data: Uint8Array;
    if (n <= room) {
      // 8-byte aligned, so a view over a payload's u64 fields is as aligned as the kernel's own.
      this.#slabUsed = at + ((n + 7) & ~7);
      data = new Uint8Array(slab, at, n);
    } else {
      // Its first `room` bytes landed in the slab, the rest at the start of the spill.
      data = this.#place(n);
      data.set(new Uint8Array(slab, at, room));
      data.set(this.#spill.subarray(0, n - room), room);
    }
    const { sender, group, nsid } = this;
    return nsid === undefined ? { data, sender, group } : { data, sender, group, nsid };
  }

  /**
   * readOne() while a reader has given memory back (a dump's cursor() gives back each datagram
   * as it steps past it): the datagram lands there, where it is handed out without a copy when
   * it is large (a dump's part), and the rest of one longer than the spare in the spill. A
   * small one is copied into the slab, and the spare kept. The copies of each 32 KiB part out of
   * the slot took 0.9-1.2 ms of a cold 100,000-route dump through cursor() on Bun (timed).
   */
  #readIntoSpare(fd: number, spare: ArrayBuffer): Datagram | undefined {
    // At most the spill's least length: the spill takes what does not fit (see #fillOne).
    const room = Math.min(spare.byteLength, RECEIVE_BUFFER);
    const n = this.#fillOne(fd, this.#spareAddress, room);
    if (n < 0) return undefined;
    let data: Uint8Array;
    if (n > room) {
      this.#spare = undefined;
      data = this.#place(n);
      data.set(new Uint8Array(spare, 0, room));
      data.set(this.#spill.subarray(0, n - room), room);
      this.#spare = spare;
    } else if (n > SLAB_MAX_COPY) {
      this.#spare = undefined;
      data = new Uint8Array(spare, 0, n);
    } else {
      data = this.#place(n);
      data.set(new Uint8Array(spare, 0, n));
    }
    const { sender, group, nsid } = this;
    return nsid === undefined ? { data, sender, group } : { data, sender, group, nsid };
  }

  /**
   * Reads one datagram with a recvmsg, describing its source in this object: the read every
   * wake-up starts with, and every read of a dump. The datagram lands in `room` bytes of memory
   * at address `at` (the slab, or a spare, where it is handed out without a copy), and what does
   * not fit there in the spill: this read takes what the spill alone would. Returns its length,
   * or -1 when none is queued. Throws SyscallError as recvmsg does, and EMSGSIZE (naming the
   * datagram's length and source) for one longer than the spill, which grows to fit at the next
   * read.
   *
   * Why one call: right after a wake-up the code is cold (the event loop idled for milliseconds,
   * and a monitor's code runs once an event, too seldom for the optimizing tiers), and each call
   * and each copy costs. A batch's fill() and take() with their helpers, and the copy out, took
   * some 20-30 us more than this on Bun (measured, from the read's return to the datagram handed
   * out).
   */
  #fillOne(fd: number, at: number, room: number): number {
    if (this.#growTo !== 0) {
      this.#spill = this.#newSpill(this.#growTo);
      this.#growTo = 0;
    }
    const w = this.#oneWords;
    const spill = this.#spill;
    // The address as two host-order words (below 2^53: exact as a number).
    const high = Math.floor(at / 0x100000000);
    w[ONE_ROOM_LOW] = at - high * 0x100000000;
    w[ONE_ROOM_HIGH] = high;
    w[ONE_FIRST_IOV_LEN] = room;
    w[ONE_SECOND_IOV_LEN] = spill.byteLength - room;
    w[ONE_NAMELEN] = SIZEOF_SOCKADDR_NL;
    w[ONE_CONTROLLEN] = CONTROL_SIZE;
    const libc = this.#libc;
    let n: number;
    for (;;) {
      // MSG_TRUNC: the datagram's real length, even when it was longer than the room given.
      n = libc.recvmsg(fd, this.#one, MSG_DONTWAIT | MSG_TRUNC);
      if (n >= 0) break;
      const errno = libc.errno();
      if (errno === EAGAIN) return -1;
      if (errno !== EINTR) throw new SyscallError("recvmsg", errno);
    }
    this.small = n <= BATCH_MAX_DATAGRAM;
    const fits = n <= spill.byteLength;
    describe(w, ONE_NAME, ONE_CONTROL, w[ONE_CONTROLLEN], fits ? this : dropped);
    if (!fits) throw this.#tooLong(n);
    return n;
  }

  /** The error for an `n`-byte datagram longer than the spill, which grows to fit at the next read. */
  #tooLong(n: number): SyscallError {
    const had = this.#spill.byteLength;
    const [error, growTo] = overLong(n, had, had, this.#growTo);
    this.#growTo = growTo;
    return error;
  }

  /** A datagram copied out of `from`, which describes it (its buffer is reused by later reads). */
  copy(from: DatagramInPlace): Datagram {
    const data = this.#copyOut(from.buffer, from.length);
    const { sender, group, nsid } = from;
    return nsid === undefined ? { data, sender, group } : { data, sender, group, nsid };
  }

  /**
   * Takes back the memory of `data`, a large datagram's copy made here (a slab's small ones stay
   * with their slab), once its reader says nothing will read it again; the larger of two is kept.
   */
  recycle(data: Uint8Array): void {
    const memory = data.buffer;
    if (!this.#made.has(memory) || !(memory instanceof ArrayBuffer)) return;
    // Only memory a datagram's read may fill: more than a small one's (a detached buffer has none).
    if (memory.byteLength <= SLAB_MAX_COPY) return;
    if (this.#spare === undefined || memory.byteLength > this.#spare.byteLength) {
      this.#spare = memory;
      if (memory !== this.#addressed) {
        this.#addressed = memory;
        this.#spareAddress = Number(this.#libc.address(data)) - data.byteOffset;
      }
    }
  }

  /**
   * Replaces the slab now if the next small datagram might not fit in what is left of it: called
   * when a read finds the queue empty, after whatever was read has been handed out, so that a
   * fresh slab's cost is not paid between a wake-up and its handler. That cost is the memory's
   * first touch more than the allocation: 90-130 us on Bun and 13-90 on Deno, one event in four
   * of a link monitor, measured.
   */
  refill(): void {
    // Called at every empty read, which a flood makes often: a comparison, no getter (a slab
    // detached meanwhile is replaced by the next copy, as it always was).
    if (SLAB_SIZE - this.#slabUsed < SLAB_MAX_COPY || this.#slab === undefined) {
      const slab = this.#newSlab();
      // The next read is most likely a wake-up's read of one: its address now, not then.
      this.#slabAddress = Number(this.#libc.address(this.#slabBytes));
      // And the decode of what it reads asks for the slab's words (decodeDatagram), and a typed
      // or route decode of its payloads for the slab's DataView (src/ynl, attribute.ts): made
      // now, the first event in this slab pays no more than the others (a view made cold costs
      // 4-6 us on Bun; a slab holds three or four link events).
      sharedWords(slab);
      sharedView(slab);
    }
  }

  /**
   * Replaces the slab with new memory, whose address a read of one may store. The address is
   * taken only when needed: on Deno, taking it (Deno.UnsafePointer.of) at each slab slowed a
   * request loop, whose reads take several datagrams, to 0.73-0.89x its CPU speed (three runs of
   * bench/core_compare.sh under load; 1.01x without).
   */
  #newSlab(): ArrayBuffer {
    const memory = this.#slabBytes = this.#libc.alloc(SLAB_SIZE);
    this.#slabAddress = -1;
    this.#slabUsed = 0;
    return this.#slab = memory.buffer as ArrayBuffer;
  }

  /** The first `n` bytes of `buffer`, copied (the buffer is reused by the next read). */
  #copyOut(buffer: Uint8Array, n: number): Uint8Array {
    const data = this.#place(n);
    data.set(buffer.subarray(0, n));
    return data;
  }

  /** Memory for an `n`-byte datagram's copy: in the slab when small, else of its own. */
  #place(n: number): Uint8Array {
    if (n > SLAB_MAX_COPY) {
      const spare = this.#spare;
      if (spare === undefined || spare.byteLength < n) {
        const data = new Uint8Array(n);
        this.#made.add(data.buffer);
        return data;
      }
      this.#spare = undefined;
      return new Uint8Array(spare, 0, n);
    }
    let slab = this.#slab;
    let at = this.#slabUsed;
    // A slab some caller detached (by transferring a payload's buffer) has length 0.
    if (slab === undefined || slab.byteLength !== SLAB_SIZE || at + n > SLAB_SIZE) {
      slab = this.#newSlab();
      at = 0;
    }
    // 8-byte aligned, so a view over a payload's u64 fields is as aligned as the kernel's own.
    this.#slabUsed = at + ((n + 7) & ~7);
    return new Uint8Array(slab, at, n);
  }
}

/**
 * A bound netlink socket. Single-threaded, like every {@linkcode Transport}: all calls come from
 * the thread that opened it.
 */
class NetlinkTransport implements Transport {
  readonly protocol: number;
  readonly portid: number;
  #fd: number;
  readonly #libc: Libc;
  readonly #newWaiter: WaiterFactory;
  readonly #defer: (run: () => void) => void;
  readonly #flooded: (() => void) | undefined;
  #waiter: Waiter | undefined;
  /** This socket's in-place reads, made on the first. */
  #batch: Batch | undefined;
  /**
   * What a copying read took from the queue past the datagram it returned, copied out (an
   * EMSGSIZE among them in its place), handed out before anything else; from #heldNext on.
   */
  #held: (Datagram | SyscallError)[] = [];
  #heldNext = 0;
  /** How many datagrams this socket's next read may take (see BATCH_MAX_DATAGRAM). */
  #vlen = 1;
  /** Reads of one the socket makes before its reads take BATCH again (see WAKE_SINGLES). */
  #singles = 0;
  /** A dump may be running: a send may have started one since a read last found the queue empty. */
  #dumping = false;
  /**
   * A datagram longer than its slot came: a sender of this socket's sends more than 512 KiB at a
   * time, and a read that took several would put its next ones in slots that stay 512 KiB (only
   * the first grows), losing them again and again among small ones. So this socket's reads take
   * one datagram each from then on, into the receiver's spill (an in-place read: its first slot),
   * grown to fit.
   */
  #oneAtATime = false;

  readonly #address: Uint8Array;
  readonly #addressView: DataView;
  readonly #option: Uint8Array;
  readonly #optionView: DataView;
  readonly #optionLength: Uint8Array;

  constructor(runtime: Runtime, fd: number, protocol: number, portid: number) {
    this.#libc = runtime.libc;
    this.#newWaiter = runtime.newWaiter;
    this.#defer = runtime.defer;
    this.#flooded = runtime.flooded;
    this.#fd = fd;
    this.protocol = protocol;
    this.portid = portid;

    const libc = this.#libc;
    this.#address = libc.alloc(SIZEOF_SOCKADDR_NL);
    this.#addressView = new DataView(this.#address.buffer, 0, SIZEOF_SOCKADDR_NL);
    this.#addressView.setUint16(OFFSETOF_SOCKADDR_NL_NL_FAMILY, AF_NETLINK, LE);
    this.#option = libc.alloc(4);
    this.#optionView = new DataView(this.#option.buffer, 0, 4);
    this.#optionLength = libc.alloc(4);
    perEventClosures(
      this.#open,
      this.#emptied,
      this.#startWait,
      this.#take,
      this.#fill,
      this.#receiveSeveral,
    );
  }

  get fd(): number {
    return this.#fd;
  }

  send(data: Uint8Array, portid: number, groupMask: number): void {
    const fd = this.#open();
    this.#addressView.setUint32(OFFSETOF_SOCKADDR_NL_NL_PID, portid >>> 0, LE);
    this.#addressView.setUint32(OFFSETOF_SOCKADDR_NL_NL_GROUPS, groupMask >>> 0, LE);
    for (;;) {
      const n = this.#libc.sendto(fd, data, data.byteLength, 0, this.#address, SIZEOF_SOCKADDR_NL);
      if (n >= 0) {
        // Its parts are read one at a time (see BATCH_MAX_DATAGRAM).
        if (mayStartDump(data)) {
          this.#dumping = true;
          this.#vlen = 1;
        }
        return;
      }
      const errno = this.#libc.errno();
      if (errno !== EINTR) throw new SyscallError("sendto", errno);
    }
  }

  receive(): Datagram | undefined {
    // #open() written out: a call less per read (3.5 per link event of a monitor).
    const fd = this.#fd;
    if (fd < 0) throw new SocketClosedError();
    if (this.#heldNext < this.#held.length) return this.#nextHeld();
    const r = receiver ??= new Receiver(this.#libc);
    // What an in-place read took from the queue before comes first.
    const b = this.#batch;
    if (b !== undefined && b.pending) {
      const d = r.copy(this.#take(b, r.scratch));
      r.scratch.buffer = EMPTY; // it would keep this socket's slots alive
      return d;
    }
    if (this.#vlen === 1) {
      // A read of one (after a read that found the queue empty: a wake-up's first), in one call
      // and without a copy (see Receiver.#fillOne).
      let datagram: Datagram | undefined;
      try {
        datagram = r.readOne(fd);
      } catch (err) {
        if (err instanceof SyscallError && err.errno === EMSGSIZE) this.#oneAtATime = true;
        this.#waiter?.received?.(false);
        throw err;
      }
      if (datagram === undefined) {
        this.#emptied();
        return undefined;
      }
      if (!this.#dumping && !this.#oneAtATime && r.small && --this.#singles <= 0) {
        this.#vlen = BATCH;
      }
      this.#waiter?.received?.(false);
      return datagram;
    }
    return this.#receiveSeveral(r, fd);
  }

  /**
   * receive()'s read of up to BATCH datagrams (a flood's, a request loop's): apart, so that a
   * cold one-shot dump, whose reads all take one, never makes its bytecode (Bun makes a
   * function's whole at its first call).
   */
  #receiveSeveral(r: Receiver, fd: number): Datagram | undefined {
    const shared = r.shared;
    if (!this.#fill(shared, fd)) return undefined;
    if (shared.remaining === 1) return r.copy(this.#take(shared));
    // Every datagram the read took is copied out now: any socket's next read reuses the batch.
    const held = this.#held;
    while (shared.pending) {
      try {
        held.push(r.copy(this.#take(shared)));
      } catch (err) {
        if (!(err instanceof SyscallError)) throw err;
        held.push(err);
      }
    }
    return this.#nextHeld();
  }

  recycle(data: Uint8Array): void {
    receiver?.recycle(data);
  }

  receiveInPlace(): DatagramInPlace | undefined {
    const fd = this.#open();
    const b = this.#batch ??= new Batch(this.#libc);
    // What a copying read took from the queue before comes first, described where it was copied.
    if (this.#heldNext < this.#held.length) return b.describeCopy(this.#nextHeld());
    if (!b.pending && !this.#fill(b, fd)) return undefined;
    return this.#take(b);
  }

  /**
   * Reads what is queued into `b`; false when nothing was. The waiter is told when the read found
   * the queue empty (and of a read that throws, ENOBUFS, as of one that took a datagram).
   */
  #fill(b: Batch, fd: number): boolean {
    let read: boolean;
    try {
      read = b.fill(fd, this.#vlen);
    } catch (err) {
      this.#waiter?.received?.(false);
      throw err;
    }
    if (!read) {
      this.#emptied();
      return false;
    }
    if (!this.#dumping && !this.#oneAtATime) this.#vlen = b.small ? BATCH : 1;
    // Datagrams taken from the queue and not handed out yet: a pending wait (a read while the
    // loop waits, e.g. for a request's answers) may get no signal or poll for them, ever.
    const remaining = b.remaining;
    if (remaining > 1) {
      this.#waiter?.wake();
      if (remaining === BATCH) this.#flooded?.();
    }
    return true;
  }

  /** A read found the queue empty. */
  #emptied(): void {
    this.#dumping = false;
    receiver?.refill();
    // The next read most likely follows a wake-up for one event: a recvmmsg of 16 that finds
    // one datagram costs a second pass through the kernel's receive path for the empty queue,
    // which cold, right after a wake-up, cost an event 5-20 us (measured). A flood's next
    // read takes 16 again.
    this.#vlen = 1;
    this.#waiter?.received?.(true);
  }

  /**
   * Hands out the batch's next datagram, described in `into` (the batch itself unless told
   * otherwise), telling the waiter one was taken from the queue.
   */
  #take(b: Batch, into: Described = b): Described {
    try {
      b.take(into);
      return into;
    } catch (err) {
      if (err instanceof SyscallError && err.errno === EMSGSIZE) {
        this.#oneAtATime = true;
        this.#vlen = 1;
      }
      throw err;
    } finally {
      this.#waiter?.received?.(false);
    }
  }

  /** The next held datagram (one must be), or its EMSGSIZE thrown. */
  #nextHeld(): Datagram {
    const held = this.#held;
    const next = held[this.#heldNext++];
    if (this.#heldNext === held.length) {
      held.length = 0;
      this.#heldNext = 0;
    }
    if (next instanceof SyscallError) throw next;
    return next;
  }

  wait(): Promise<WaitResult> {
    try {
      const waiter = this.#startWait();
      return waiter === undefined ? Promise.resolve("readable") : waiter.wait();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  waitThen(done: (result: WaitResult) => void, fail: (error: unknown) => void): void {
    const waiter = this.#startWait();
    if (waiter === undefined) queueMicrotask(() => done("readable"));
    else if (waiter.waitThen !== undefined) waiter.waitThen(done);
    else waiter.wait().then(done, fail);
  }

  /**
   * What wait() and waitThen() check first: the waiter to wait with, or undefined when the
   * socket is readable now. Throws when the socket is closed or a wait is pending.
   */
  #startWait(): Waiter | undefined {
    if (this.#fd < 0) throw new SocketClosedError();
    const waiter = this.#waiter ??= this.#newWaiter(this.#fd);
    if (waiter.pending) throw new Error("netlink transport: wait() already pending");
    // Taken from the queue by a read, not handed out yet: the kernel's queue may be empty, and
    // nothing would signal them.
    if (this.#heldNext < this.#held.length || this.#batch?.pending) return undefined;
    this.#singles = WAKE_SINGLES;
    return waiter;
  }

  defer(run: () => void): void {
    this.#defer(run);
  }

  cancelWait(): void {
    // After close() a pending wait is already ending with "closed": nothing to cancel.
    if (this.#fd >= 0) this.#waiter?.cancel();
  }

  setOption(level: number, name: number, value: number): void {
    const fd = this.#open();
    this.#optionView.setInt32(0, value, LE);
    if (this.#libc.setsockopt(fd, level, name, this.#option, 4) < 0) {
      throw new SyscallError("setsockopt", this.#libc.errno());
    }
  }

  getOption(level: number, name: number): number {
    const fd = this.#open();
    this.#optionView.setInt32(0, 0, LE);
    new DataView(this.#optionLength.buffer, 0, 4).setUint32(0, 4, LE);
    if (this.#libc.getsockopt(fd, level, name, this.#option, this.#optionLength) < 0) {
      throw new SyscallError("getsockopt", this.#libc.errno());
    }
    return this.#optionView.getInt32(0, LE);
  }

  attachFilter(program: Uint8Array): void {
    const fd = this.#open();
    if (!(program instanceof Uint8Array)) {
      throw new TypeError("a BPF program must be a Uint8Array of struct sock_filter");
    }
    const count = program.byteLength / SIZEOF_SOCK_FILTER;
    if (!Number.isInteger(count) || count < 1 || count > BPF_MAXINSNS) {
      throw new RangeError(
        `a BPF program is 1 to ${BPF_MAXINSNS} instructions of ${SIZEOF_SOCK_FILTER} bytes; `
          + `got ${program.byteLength} bytes`,
      );
    }
    const libc = this.#libc;
    // Both the instructions and the sock_fprog pointing at them must not move while the kernel
    // copies them in: memory from alloc (a small Bun Uint8Array can move, oven-sh/bun#32054).
    const filter = libc.alloc(program.byteLength);
    filter.set(program);
    const fprog = libc.alloc(SIZEOF_SOCK_FPROG);
    const v = new DataView(fprog.buffer, fprog.byteOffset, SIZEOF_SOCK_FPROG);
    v.setUint16(OFFSETOF_SOCK_FPROG_LEN, count, LE);
    v.setBigUint64(OFFSETOF_SOCK_FPROG_FILTER, libc.address(filter), LE);
    if (libc.setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, fprog, SIZEOF_SOCK_FPROG) < 0) {
      const errno = libc.errno();
      throw new SyscallError(
        "setsockopt",
        errno,
        errno === EINVAL ? "the kernel refused the BPF program (SO_ATTACH_FILTER)" : undefined,
      );
    }
  }

  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    this.#batch = undefined;
    this.#held = [];
    this.#heldNext = 0;
    // The waiter owns the descriptor once it exists: it ends a pending wait with "closed".
    if (this.#waiter) this.#waiter.close();
    else this.#libc.close(fd);
  }

  #open(): number {
    if (this.#fd < 0) throw new SocketClosedError();
    return this.#fd;
  }
}

perEventCode(() => [
  describe,
  ...methodsOf(NetlinkTransport.prototype),
  ...methodsOf(Batch.prototype),
  ...methodsOf(Receiver.prototype),
]);
