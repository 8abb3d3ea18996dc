/**
 * Typed access to a netlink family through its generated descriptor: {@linkcode family} opens (or
 * borrows) a socket, resolves a generic netlink family's id, and returns a
 * {@linkcode NetlinkFamily} whose `do`, `dump` and `monitor` take and yield plain objects.
 *
 * @module
 */

import { whenCollected } from "../_collected.ts";
import { GENL_ID_CTRL, NETLINK_GENERIC, NLM_F_DUMP } from "../_constants.ts";
import { remaining } from "../_guard.ts";
import { monitorEnds, monitorStarts, skips } from "../_marker.ts";
import { OPEN_KEYS } from "../_open_keys.ts";
import {
  checkAloneWithSocket,
  checkGivenSocket,
  checkOptions,
  checkSignal,
  integerFieldError,
  shown,
} from "../_options.ts";
import { methodsOf, perEventClosures, perEventCode } from "../_per_event.ts";
import { quoted } from "../_printable.ts";
import { orderedSteps } from "../_steps.ts";
import { type NextThen, nextThen } from "../_stream.ts";
import { suggestion } from "../_suggest.ts";
import { NetlinkError } from "../errors.ts";
import type { GenericFamily } from "../genl.ts";
import type { Message, ReceivedMessage } from "../message.ts";
import { open, type OpenOptions } from "../open.ts";
import type { MessageInput, NetlinkSocket, RequestOptions } from "../socket.ts";
import { mayAckOnly } from "./_ack_only.ts";
import { type Codec, codecOf } from "./_compile.ts";
import { messageDecoder } from "./_decode.ts";
import type {
  AttributeName,
  DoOperation,
  DoReply,
  DoRequest,
  DumpOperation,
  DumpReply,
  DumpRequest,
  FamilyDescriptor,
  GroupName,
  Notification,
  NotificationAttribute,
  OperationDescriptor,
  PickedReply,
} from "./_descriptor.ts";
import { encodePayload } from "./_encode.ts";
import { explainError } from "./_extack.ts";
import {
  announce,
  type FamilyWatcher,
  holdGroup,
  NLCTRL_NOTIFY_GROUP,
  releaseGroup,
  unwatchFamily,
  watchFamily,
} from "./_monitor_groups.ts";
import { decodedParts } from "./_parts.ts";
import { type AttributePick, pickOf } from "./_pick.ts";
import { forgetResolved, resolveCached } from "./_resolved.ts";
import { nlctrl } from "./nlctrl.ts";

/**
 * Options of {@linkcode family}: those of `open()` (netns, receive buffer...), or a socket to use.
 *
 * @example
 * ```ts
 * import type { FamilyOptions } from "@netlink/netlink/ynl";
 * const options: FamilyOptions = { netns: "blue" };
 * ```
 */
export interface FamilyOptions extends OpenOptions {
  /**
   * An open socket of the family's protocol to use instead of opening one; it stays open when
   * the family is closed. Generic netlink families resolved on it are cached with it. A closed
   * one (SocketClosedError), or one of another protocol or opened `unframed` (TypeError), is
   * refused at once.
   */
  socket?: NetlinkSocket;
}

/**
 * Options of {@linkcode NetlinkFamily.do} and {@linkcode NetlinkFamily.dump}.
 *
 * @example
 * ```ts
 * import { NLM_F_CREATE, NLM_F_EXCL } from "@netlink/netlink";
 * import type { OperationOptions } from "@netlink/netlink/ynl";
 * const create: OperationOptions = { flags: NLM_F_CREATE | NLM_F_EXCL, timeout: 5_000 };
 * const namesOnly: OperationOptions = { attrs: ["ifname"] };
 * ```
 */
export interface OperationOptions<A extends string = string> extends RequestOptions {
  /**
   * Decode only these attributes of each reply (named as the reply's properties are, in
   * camelCase; members of the fixed header may be named too, and are always decoded): each
   * reply is still a plain object, in which the attributes not named are absent (not
   * `undefined` properties), and typed so (`Pick`). For the messages a program reads a few
   * attributes of: a veth's RTM_NEWLINK is 1,480 bytes, most of them in nests such as `afSpec`
   * and `stats64` that a program reading `ifname` and `operstate` never looks at. A picked nest
   * is decoded whole. Attributes the spec does not describe are skipped too (none is kept under
   * `unknownAttributes`); a picked one that does not fit the spec is kept there, as without a
   * pick. A name that is no attribute of the operation's set (nor member of its header) is a
   * TypeError naming the set and the closest name, before anything is sent; so is a sub-message
   * picked without the attribute that selects its format (tc's `options` without `kind`). The
   * decoder is generated once per distinct list (in any order), and the last 32 are kept.
   */
  attrs?: readonly A[];
  /**
   * nlmsg_flags to add (NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE...): a u16, else a RangeError
   * before anything is sent. On an operation that can dump, `do()` refuses (TypeError) the bits
   * by which the kernel would answer with a dump (NLM_F_DUMP's: either for rtnetlink and other
   * netlink-raw families, both for generic netlink): use `dump()`.
   */
  flags?: number;
}

/**
 * Options of {@linkcode NetlinkFamily.monitor}.
 *
 * @example
 * ```ts
 * import type { MonitorOptions } from "@netlink/netlink/ynl";
 * import { rtLink } from "@netlink/netlink/ynl/rt-link";
 * const options: MonitorOptions<typeof rtLink> = {
 *   groups: ["rtnlgrp-link"],
 *   attrs: ["ifname", "operstate"], // decode these only
 * };
 * ```
 */
export interface MonitorOptions<
  D extends FamilyDescriptor,
  A extends NotificationAttribute<D> = NotificationAttribute<D>,
> {
  /**
   * Multicast groups to join for the iteration. Default: every group of the family (for generic
   * netlink, also those the kernel has but the spec does not list).
   */
  groups?: readonly GroupName<D>[];
  /** Aborting ends the iteration by throwing the signal's reason. */
  signal?: AbortSignal;
  /**
   * Decode only these attributes of each notification, as {@linkcode OperationOptions.attrs}
   * does for replies: a name must be an attribute (or header member) of at least one of the
   * family's operations, and each notification has those of them its operation's set has (a
   * link monitor's `getstats` message, `stats-attrs`, none of `ifname`). The cost a typed
   * monitor pays per event is mostly decoding (see bench/RESULTS.md): name what you read.
   */
  attrs?: readonly A[];
}

/**
 * The notifications of {@linkcode NetlinkFamily.monitor}: an async iterator whose groups are
 * joined from the start; `return()` (or `await using`) leaves them, ending a pending `next()`.
 *
 * @example
 * ```ts
 * import { family, type Monitor } from "@netlink/netlink/ynl";
 * import { rtLink } from "@netlink/netlink/ynl/rt-link";
 * await using rt = await family(rtLink);
 * await using events: Monitor<typeof rtLink> = rt.monitor({ groups: ["rtnlgrp-link"] });
 * // ... change something: its notification is already on its way ...
 * const { value } = await events.next();
 * console.log(value?.op);
 * ```
 */
export interface Monitor<D extends FamilyDescriptor, A extends string = string>
  extends AsyncIterableIterator<Notification<D, A>, undefined>, AsyncDisposable
{
  /** The next notification; done when the socket closes or the iteration was ended. */
  next(): Promise<IteratorResult<Notification<D, A>, undefined>>;
  /** Ends the iteration and leaves the groups it joined; a pending `next()` ends too. */
  return(): Promise<IteratorResult<Notification<D, A>, undefined>>;
}

/**
 * One operation of a generic netlink family as the running kernel has it
 * ({@linkcode NetlinkFamily.operations}).
 *
 * @example
 * ```ts
 * import type { SupportedOperation } from "@netlink/netlink/ynl";
 * const op: SupportedOperation = { name: "dev-get", id: 1, do: true, dump: true, adminOnly: false };
 * ```
 */
export interface SupportedOperation {
  /** The descriptor's name for it; undefined for a command the spec does not know. */
  name: string | undefined;
  /** The command number. */
  id: number;
  /** It answers a `do` request. */
  do: boolean;
  /** It answers a dump. */
  dump: boolean;
  /** It needs CAP_NET_ADMIN (in the initial user namespace, or in the netns's owner). */
  adminOnly: boolean;
}

/**
 * A netlink family on a socket, typed by its descriptor: requests and replies are objects with
 * the fixed header's members and the attributes as properties (camelCase of the kernel's names).
 *
 * @example
 * ```ts
 * import { family } from "@netlink/netlink/ynl";
 * import { rtLink } from "@netlink/netlink/ynl/rt-link";
 * await using rt = await family(rtLink);
 * for (const link of await rt.dump("getlink")) console.log(link.ifiIndex, link.ifname, link.mtu);
 * ```
 */
export class NetlinkFamily<D extends FamilyDescriptor> implements AsyncDisposable {
  /** The generated descriptor. */
  readonly descriptor: D;
  /** The socket requests go through. */
  readonly socket: NetlinkSocket;
  readonly #codec: Codec;
  #generic: GenericFamily | undefined;
  readonly #ownsSocket: boolean;

  /**
   * Wraps a socket; {@linkcode family} is the usual way to get one.
   *
   * @param descriptor The generated family descriptor.
   * @param socket A socket of the family's protocol.
   * @param generic The resolved generic netlink family, for generic netlink descriptors.
   * @param ownsSocket Whether closing the family closes the socket.
   */
  constructor(descriptor: D, socket: NetlinkSocket, generic?: GenericFamily, ownsSocket = false) {
    this.descriptor = descriptor;
    this.socket = socket;
    this.#generic = generic;
    this.#codec = codecOf(descriptor);
    this.#ownsSocket = ownsSocket;
    if (this.#codec.genetlink && generic === undefined) {
      throw new TypeError(`${descriptor.name} is a generic netlink family: pass its resolved id`);
    }
  }

  /**
   * The generic netlink family as the kernel registered it (undefined for netlink-raw): its id,
   * groups and operations. Replaced by a fresh resolution when a request finds the id stale (the
   * family's module was reloaded: see {@linkcode NetlinkFamily.do}).
   */
  get generic(): GenericFamily | undefined {
    return this.#generic;
  }

  /**
   * Encodes a request of operation `op` (`do` or `dump` shape) as a message for the socket.
   *
   * @example
   * ```ts
   * import { family } from "@netlink/netlink/ynl";
   * import { rtLink } from "@netlink/netlink/ynl/rt-link";
   * await using rt = await family(rtLink);
   * const message = rt.encode("getlink", { ifname: "lo" });
   * console.log(message.type); // 18: RTM_GETLINK
   * ```
   */
  encode(op: string, request: unknown = {}): MessageInput {
    const operation = this.#codec.operation(op);
    if (operation.request === undefined) {
      throw new TypeError(`${this.descriptor.name} operation "${op}" has no request`);
    }
    const payload = encodePayload(
      this.#codec,
      operation,
      operation.request,
      request as Record<string, unknown>,
    );
    return this.generic === undefined
      ? { type: operation.request, payload }
      : { type: this.generic.id, payload };
  }

  /**
   * Decodes a message of this family by its type (or generic netlink command): the operation it
   * belongs to and its contents. Undefined for messages the descriptor does not describe;
   * MalformedMessageError for one it describes that does not parse; TypeError for what is no
   * message (no `payload` Uint8Array).
   *
   * A generic family also applies what nlctrl announces from the kernel on its "notify" group
   * (group 16), whatever the descriptor. CTRL_CMD_DELFAMILY, a family unregistered (its module
   * unloaded), makes the socket forget that family's cached id: the next {@linkcode family}
   * call on the socket resolves it anew. The socket also leaves the family's groups: the kernel
   * dropped those memberships, and `socket.groups` says so again. CTRL_CMD_NEWFAMILY caches the
   * family announced; the monitors of it on the socket join its groups again (see
   * {@linkcode NetlinkFamily.monitor}).
   *
   * @example
   * ```ts
   * import { family } from "@netlink/netlink/ynl";
   * import { rtLink } from "@netlink/netlink/ynl/rt-link";
   * await using rt = await family(rtLink, { groups: [1] });
   * for await (const message of rt.socket) console.log(rt.decode(message)?.op);
   * ```
   */
  decode(message: Message): Notification<D> | undefined {
    if (!(message?.payload instanceof Uint8Array)) throw notAMessage(message);
    return this.#notification(message, this.#codec.notifications, undefined);
  }

  /**
   * decode() of a message as the socket delivers it (its shape is not checked): a typed
   * monitor's, once per event.
   */
  #notification<A extends string = string>(
    message: Message,
    table: Notifying[],
    pick: AttributePick | undefined,
  ): Notification<D, A> | undefined {
    const codec = this.#codec;
    const type = message.type;
    const payload = message.payload;
    let key = type;
    if (codec.genetlink) {
      if (type === GENL_ID_CTRL && ((message as Partial<ReceivedMessage>).sender ?? 0) === 0) {
        announce(this.socket, message);
      }
      const generic = this.#generic!;
      if (type !== generic.id || payload.byteLength < 1) return undefined;
      key = payload[0];
    }
    const notifying = table[key] ?? notifyingOf(codec, key, table, pick);
    if (notifying === null) return undefined;
    const decoded = notifying.decode.decodeAt(payload, 0, payload.byteLength);
    return { op: notifying.op, message: decoded } as unknown as Notification<D, A>;
  }

  /**
   * Whether a monitor skipping up to `marker` skips `message`, sent before its call: not once
   * another monitor on the socket has read the marker's ack, nor the ack itself or an overrun,
   * which may have dropped it (they end the skipping: they are no operation's). nlctrl's
   * announcements skipped are applied all the same: the socket's cache of the family follows.
   */
  #skipped(message: ReceivedMessage, marker: number | undefined): boolean {
    if (!skips(this.socket, message, marker)) return false;
    if (this.#codec.genetlink && message.type === GENL_ID_CTRL && message.sender === 0) {
      announce(this.socket, message);
    }
    return true;
  }

  /**
   * Sends a `do` request and resolves with its reply, decoded (undefined when the operation only
   * acks). Rejects with NetlinkError when the kernel refuses, and with an Error naming the
   * operation when one whose spec says it replies is answered with an ack only (a faulty module
   * or fake), but for the few the kernel does answer so, which resolve with undefined: team's
   * options-set, nftables' batch-begin, ethtool's features-set and tsconfig-set (with
   * ETHTOOL_FLAG_OMIT_REPLY).
   *
   * A generic family's id is resolved once per socket and cached. When a request is answered
   * ENOENT (what the kernel answers to an id no family has, and what families answer for a
   * missing object), nlctrl is asked again: if the family now has another id (its module was
   * reloaded), the request is sent again under the new id, once; that is safe, since nothing
   * ran it under the old one. If the id is unchanged, the ENOENT was the family's own and is
   * thrown as it came; if the family is gone, the ENOENT says so. {@linkcode dump} and
   * {@linkcode dumpStream} (before their first reply) do the same.
   *
   * @example
   * ```ts
   * import { family } from "@netlink/netlink/ynl";
   * import { rtLink } from "@netlink/netlink/ynl/rt-link";
   * await using rt = await family(rtLink);
   * const lo = await rt.do("getlink", { ifname: "lo" });
   * console.log(lo.mtu);
   * ```
   */
  async do<O extends DoOperation<D>, const A extends AttributeName<D, O> = AttributeName<D, O>>(
    op: O,
    request?: DoRequest<D, O>,
    options: OperationOptions<A> = {},
  ): Promise<PickedReply<DoReply<D, O>, D, O, A>> {
    const operation = this.#codec.operation(op);
    const requestOptions = socketOptions(options);
    const pick = this.#pick(op, operation, options);
    const flags = messageFlags(options);
    // The kernel answers these bits on an operation that dumps with a dump, which would be cut
    // to its first reply here: rtnetlink and nfnetlink dump a get on either bit, generic
    // netlink on both.
    const dumpBits = flags & NLM_F_DUMP;
    if (
      (operation.dump !== undefined || operation.do?.reply === true)
      && (this.#codec.genetlink ? dumpBits === NLM_F_DUMP : dumpBits !== 0)
    ) {
      throw new TypeError(
        `${this.descriptor.name} operation "${op}": flags 0x${flags.toString(16)} ask the kernel `
          + "for a dump (NLM_F_DUMP's bits), of which do() would return the first reply: use "
          + "dump() or dumpStream()",
      );
    }
    let message = this.encode(op, request);
    message.flags = flags;
    const started = performance.now();
    let replies: Message[];
    try {
      try {
        replies = await this.socket.request(message, requestOptions);
      } catch (err) {
        if (!await this.#renewed(err, message.type, options, started)) throw err;
        message = this.encode(op, request);
        message.flags = flags;
        replies = await this.socket.request(message, remaining(requestOptions, started));
      }
    } catch (err) {
      throw this.#explain(op, operation, request, message.payload!, err);
    }
    if (!operation.do?.reply) return undefined as PickedReply<DoReply<D, O>, D, O, A>;
    if (replies.length === 0) {
      if (mayAckOnly(this.descriptor.name, op)) {
        return undefined as PickedReply<DoReply<D, O>, D, O, A>;
      }
      // A faulty module or fake: undefined would fail later, as "cannot read ... of undefined".
      throw new Error(
        `${this.descriptor.name} operation "${op}" was answered with an ack only, where its spec `
          + "says it replies: the kernel module (or the fake serving the socket) sent no reply",
      );
    }
    return messageDecoder(this.#codec, operation, pick)(replies[0].payload) as PickedReply<
      DoReply<D, O>,
      D,
      O,
      A
    >;
  }

  /**
   * Sends a dump request and resolves with every reply, decoded (with `options.attrs`, only the
   * attributes named: see {@linkcode OperationOptions.attrs}). An operation with neither a
   * dump nor a `do` that replies is a TypeError before anything is sent (the types refuse it
   * too): NLM_F_DUMP's bits mean NLM_F_REPLACE | NLM_F_EXCL on a new request, NLM_F_BULK on a
   * delete.
   *
   * @example
   * ```ts
   * import { family } from "@netlink/netlink/ynl";
   * import { rtRoute } from "@netlink/netlink/ynl/rt-route";
   * await using rt = await family(rtRoute);
   * const routes = await rt.dump("getroute", { rtmFamily: 2 });
   * console.log(routes.length);
   * const tables = await rt.dump("getroute", {}, { attrs: ["table"] }); // each: rtmsg and table
   * console.log(tables[0]?.table);
   * ```
   */
  async dump<
    O extends DumpOperation<D>,
    const A extends AttributeName<D, O> = AttributeName<D, O>,
  >(
    op: O,
    request?: DumpRequest<D, O>,
    options: OperationOptions<A> = {},
  ): Promise<PickedReply<DumpReply<D, O>, D, O, A>[]> {
    const operation = this.#codec.operation(op);
    const decode = messageDecoder(this.#codec, operation, this.#pick(op, operation, options));
    const replies: PickedReply<DumpReply<D, O>, D, O, A>[] = [];
    const message = this.#dumpRequest(op, request, options);
    const started = performance.now();
    const collect = (message: MessageInput, options: RequestOptions) =>
      decodedParts(this.socket.dump(message, options)[Symbol.asyncIterator](), decode)
        .collect(replies as Record<string, unknown>[]);
    try {
      try {
        await collect(message, socketOptions(options));
      } catch (err) {
        if (
          replies.length !== 0 || !await this.#renewed(err, message.type, options, started)
        ) throw err;
        await collect(
          this.#dumpRequest(op, request, options),
          remaining(socketOptions(options), started),
        );
      }
    } catch (err) {
      throw this.#explain(op, operation, request, message.payload!, err);
    }
    return replies;
  }

  /**
   * Sends a dump request when iteration starts and yields each reply as it arrives, decoded:
   * for dumps too large to hold at once. Each iteration is AsyncDisposable: one stepped by hand
   * and declared with `await using` ends with its scope as `return()` ends it (the socket reads
   * the rest of the dump and discards it). An operation {@linkcode dump} refuses, it refuses
   * when called.
   *
   * @example
   * ```ts
   * import { family } from "@netlink/netlink/ynl";
   * import { rtRoute } from "@netlink/netlink/ynl/rt-route";
   * await using rt = await family(rtRoute);
   * for await (const route of rt.dumpStream("getroute")) console.log(route.rtmTable);
   * ```
   */
  dumpStream<
    O extends DumpOperation<D>,
    const A extends AttributeName<D, O> = AttributeName<D, O>,
  >(
    op: O,
    request?: DumpRequest<D, O>,
    options: OperationOptions<A> = {},
  ): {
    [Symbol.asyncIterator]():
      & AsyncIterableIterator<PickedReply<DumpReply<D, O>, D, O, A>>
      & AsyncDisposable;
  } {
    const operation = this.#codec.operation(op);
    const decode = messageDecoder(this.#codec, operation, this.#pick(op, operation, options));
    const message = this.#dumpRequest(op, request, options);
    const dump = this.socket.dump(message, socketOptions(options));
    const explain = (err: unknown) => this.#explain(op, operation, request, message.payload!, err);
    const reject = (err: unknown) => Promise.reject(explain(err));
    // Decoding in a map over the socket's iterator, not in an async generator: a generator adds
    // a promise and microtask hops per message, as much as the decoding costs. After the first
    // part, each step is the decoder's own (its errors explained there): no promise per part here.
    return {
      [Symbol.asyncIterator]: () => {
        const partsOf = (dump: AsyncIterable<ReceivedMessage>) =>
          decodedParts(dump[Symbol.asyncIterator](), decode, explain);
        let parts = partsOf(dump);
        const started = performance.now();
        // Until the first reply, a stale generic family id may be renewed once (see do()).
        let renewable = this.#generic !== undefined;
        type Step = IteratorResult<PickedReply<DumpReply<D, O>, D, O, A>, undefined>;
        const next = (): Promise<Step> => {
          const step = parts.next() as Promise<Step>;
          if (!renewable) return step;
          return step.then((part) => {
            renewable = false;
            return part;
          }, (err) => {
            if (!renewable) return Promise.reject(err);
            renewable = false;
            return this.#renewed(err, message.type, options, started).then((renewed) => {
              if (!renewed) return Promise.reject(err);
              parts = partsOf(
                this.socket.dump(
                  this.#dumpRequest(op, request, options),
                  remaining(socketOptions(options), started),
                ),
              );
              return next();
            }, reject);
          });
        };
        const end = () => parts.return().then(() => ({ value: undefined, done: true as const }));
        return {
          next,
          return: end,
          [Symbol.asyncIterator]() {
            return this;
          },
          [Symbol.asyncDispose]: () => end().then(() => {}),
        };
      },
    };
  }

  /** The pick of an operation's options (`attrs`), checked before anything is sent. */
  #pick(op: string, operation: OperationDescriptor, options: OperationOptions) {
    return pickOf(
      this.#codec,
      `${this.descriptor.name} ${op}`,
      [operation],
      (options as OperationOptions | null)?.attrs,
    );
  }

  /**
   * After a request sent under id `sent` failed with `err`: whether it failed because that
   * generic family id is stale and the family now has another (then this family uses it and the
   * request may be sent again). Rejects with ENOENT saying so when the family is no longer
   * registered at all. The operation began at `started` (performance.now()): its timeout bounds
   * the lookup too.
   */
  async #renewed(
    err: unknown,
    sent: number,
    options: RequestOptions,
    started: number,
  ): Promise<boolean> {
    const stale = this.#generic;
    // nlctrl's own id is fixed; its ENOENT is about the family asked for.
    if (
      stale === undefined || stale.id === GENL_ID_CTRL || !(err instanceof NetlinkError)
      || err.code !== "ENOENT"
    ) return false;
    // Renewed while the request was out: a monitor on the socket read nlctrl's announcement.
    if (stale.id !== sent) return true;
    const name = stale.name || this.descriptor.name;
    forgetResolved(this.socket, name, stale);
    let fresh: GenericFamily;
    try {
      fresh = await resolveCached(this.socket, name, remaining(options, started));
    } catch (resolveErr) {
      // An abort, a timeout or a close ends the request with its own error, not the stale id's.
      if (!(resolveErr instanceof NetlinkError)) throw resolveErr;
      if (resolveErr.code !== "ENOENT") throw err;
      throw new NetlinkError({
        ...err,
        detail: `generic netlink family "${name}" is no longer registered (was its module `
          + "unloaded?)",
      });
    }
    if (fresh.id === stale.id) return false;
    this.#generic = fresh;
    return true;
  }

  /**
   * A request's error in the request's terms: a FamilyError naming the family and operation,
   * the extended ack's attribute as a path (explainError), and nlctrl's ENOENT for a family it
   * does not know (a bare errno, which reads as a missing file) as what it means, as
   * resolveFamily() says it.
   */
  #explain(
    op: string,
    operation: OperationDescriptor,
    request: unknown,
    payload: Uint8Array,
    err: unknown,
  ): unknown {
    if (
      this.descriptor.name === "nlctrl" && (op === "getfamily" || op === "getpolicy")
      && err instanceof NetlinkError && err.code === "ENOENT" && err.offset === undefined
    ) {
      const { familyName, familyId } = (request ?? {}) as Record<string, unknown>;
      const what = typeof familyName === "string"
        ? `generic netlink family "${familyName}" is not registered`
        : typeof familyId === "number"
        ? `no generic netlink family has id ${familyId}`
        : undefined;
      if (what !== undefined) {
        err = new NetlinkError({ ...err, detail: `${what} (is its module loaded?)` });
      }
    }
    return explainError(this.#codec, operation, payload, err, `${this.descriptor.name} ${op}`);
  }

  #dumpRequest(op: string, request: unknown, options: OperationOptions): MessageInput {
    // As DumpOperation types it, checked for untyped callers too: NLM_F_DUMP's bits are
    // NLM_F_REPLACE | NLM_F_EXCL on a new request and NLM_F_BULK on a delete, so a "dump" of
    // setlink or dellink would change or delete what it names.
    const operation = this.#codec.operation(op);
    if (operation.dump === undefined && operation.do?.reply !== true) {
      throw new TypeError(
        `${this.descriptor.name} operation "${op}" has no dump (nor a do with a reply): use do()`,
      );
    }
    const flags = messageFlags(options);
    const message = this.encode(op, request);
    message.flags = flags | NLM_F_DUMP;
    return message;
  }

  /**
   * Joins the family's multicast groups (all, or those named) before it returns, so nothing sent
   * after the call is missed however late the iteration starts, and yields the notifications that
   * arrive, decoded (with `options.attrs`, only the attributes named); it yields none made before
   * the call (what the socket still holds from earlier, a previous monitor's notifications left
   * unread, is skipped; but on a socket with NETLINK_NO_ENOBUFS, where what marks the call's place
   * could be dropped unseen, and for a netlink-raw family of a protocol other than NETLINK_ROUTE
   * and NETLINK_NETFILTER, whose module may not answer what marks it). The groups it joined are
   * left when the iteration ends (a loop's `break`, `return()`, `await using`, the signal, an
   * error) and no other monitor() on the socket still uses them; a monitor left without any of
   * these leaves them (and its abort listener leaves the signal) once garbage-collected. Messages
   * the descriptor does not describe are skipped, and
   * so is whatever another process sends (to the socket's port, or as root to the groups), parsed
   * or not: only the kernel's are notifications;
   * `socket.overruns` counts lost ones. Like the socket's message stream, two iterations at once
   * on one socket split the notifications between them: for two consumers of every
   * notification, use two clients. Throws at once when there is no group to join or an option
   * it does not know (TypeError), or the signal is already aborted (its reason).
   *
   * A generic family's monitor follows its module's reloads. It also joins nlctrl's "notify"
   * group (16) and reads nlctrl's announcements in order with the notifications, without
   * yielding them:
   * - When the family is unregistered (rmmod), the kernel drops the memberships of its groups.
   *   The socket leaves them too (`socket.groups` no longer lists them). The iteration stays
   *   open and yields nothing: the family is gone and sends nothing.
   * - When the family is registered again (under a new id, its groups perhaps under new
   *   numbers), the monitor takes them ({@linkcode NetlinkFamily.generic} changes), joins its
   *   groups again by name, and carries on yielding.
   * - No marker is yielded for either. What the family multicasts between its registration and
   *   the monitor's reading of the announcement is not received, and `socket.overruns` does not
   *   count it (the socket was in no group then). A consumer that keeps state from a dump
   *   re-reads it when `generic.id` changes.
   * - A monitor started while the family is gone joins the groups' old numbers and follows the
   *   same way once the family is back.
   *
   * @example
   * ```ts
   * import { family } from "@netlink/netlink/ynl";
   * import { rtLink } from "@netlink/netlink/ynl/rt-link";
   * await using rt = await family(rtLink);
   * for await (const event of rt.monitor({ groups: ["rtnlgrp-link"] })) {
   *   // The op tells which message it is: link changes, or statistics (getstats) on this group.
   *   if (event.op === "newlink-ntf" || event.op === "dellink") {
   *     console.log(event.op, event.message.ifname);
   *   }
   * }
   * ```
   */
  monitor<const A extends NotificationAttribute<D> = NotificationAttribute<D>>(
    options: MonitorOptions<D, A> = {},
  ): Monitor<D, A> {
    options = checkOptions("monitor() options", options, MONITOR_KEYS);
    const pick = pickOf(
      this.#codec,
      `${this.descriptor.name} monitor()`,
      Object.values(this.descriptor.ops),
      options.attrs,
    );
    // With a pick, the monitor's own table of decoders (codec.notifications' are whole).
    const table: Notifying[] = pick === undefined ? this.#codec.notifications : [];
    if (options.groups !== undefined && !Array.isArray(options.groups)) {
      throw new TypeError(
        `monitor() options: groups must be an array of group names, got ${shown(options.groups)}`,
      );
    }
    // By default every group that has a number here: the kernel's own list for a generic
    // family (a spec may list a group this kernel lacks, as nl80211's "testmode"), the spec's
    // numbered groups otherwise.
    // A name given twice is one group, held once: each hold is released once, by its name.
    const names = options.groups ? [...new Set(options.groups)] : (this.generic
      ? [...this.generic.groups.keys()] as GroupName<D>[]
      : (Object.keys(this.descriptor.groups) as GroupName<D>[]).filter((name) =>
        this.descriptor.groups[name] !== null
      ));
    if (names.length === 0) {
      throw new TypeError(
        `${this.descriptor.name} has no multicast group to join: name some, or join one by number `
          + "on the socket (socket.join(n))",
      );
    }
    const groups = names.map((name) => this.group(name)); // every name checked before joining
    const { signal } = options;
    checkSignal("monitor() options", signal);
    signal?.throwIfAborted();
    const { socket } = this;
    // Groups this iteration holds (counted per socket: see _monitor_groups.ts), by name; and
    // nlctrl's "notify" group, by which a generic family's monitor follows its module's reloads
    // (nlctrl's own id is fixed).
    const held = new Map<string, number>();
    const follows = this.#generic !== undefined && this.#generic.id !== GENL_ID_CTRL;
    const hold = (name: string, group: number) => {
      if (holdGroup(socket, group)) held.set(name, group);
    };
    const familyName = this.#generic?.name || this.descriptor.name;
    const watcher: FamilyWatcher = {
      removed: (family) => {
        const dropped = new Set(family.groups.values());
        for (const [name, group] of held) {
          if (!dropped.has(group)) continue;
          held.delete(name);
          releaseGroup(socket, group);
        }
      },
      registered: (family, whole) => {
        if (whole) this.#generic = family;
        for (const name of names) {
          const group = family.groups.get(name);
          const holding = held.get(name);
          if (group === undefined || group === holding) continue;
          if (holding !== undefined) {
            held.delete(name);
            releaseGroup(socket, holding);
          }
          hold(name, group);
        }
      },
    };
    let released = false;
    /** Cancels the release at collection (below) once the groups are left. */
    let forget = () => {};
    // Aborting leaves the groups at once, whether or not a next() is waiting.
    const release = () => {
      if (released) return;
      released = true;
      forget();
      monitorEnds(socket);
      signal?.removeEventListener("abort", release);
      if (follows) unwatchFamily(socket, familyName, watcher);
      for (const group of held.values()) releaseGroup(socket, group);
      held.clear();
    };
    // Notifications sent before this call are not its own, yet the socket may hold some: a
    // previous monitor's, read ahead or still in the kernel's queue. A request sent now, before
    // the groups are joined, is answered behind them all: what comes before its ack is skipped.
    // One marker per socket, shared with every monitor on it (the route client's too).
    const marker = monitorStarts(socket);
    let skipping = marker !== undefined;
    warmNotifications(this.#codec, table, pick);
    let messages: AsyncIterator<ReceivedMessage>;
    try {
      // nlctrl's group first: an announcement made while the family's groups are joined is
      // not missed.
      if (follows) {
        hold("", NLCTRL_NOTIFY_GROUP);
        watchFamily(socket, familyName, watcher);
      }
      groups.forEach((group, i) => hold(names[i], group));
      // A datagram that does not parse is no kernel's either (another process wrote it to our
      // port, or as root to the groups): skipped, as their messages are.
      messages = this.socket.messages({ signal, onMalformed: () => {} });
      signal?.addEventListener("abort", release, { once: true });
    } catch (err) {
      release();
      throw err;
    }
    type Step = IteratorResult<Notification<D, A>, undefined>;
    const done: Step = { value: undefined, done: true };
    const end = (): Promise<Step> => {
      release();
      return (messages.return?.() ?? Promise.resolve()).then(() => done);
    };
    // Not an async generator: its return() would wait for a pending next(), that is for the
    // next notification. The socket's iterator ends a pending step at once. One step runs at a
    // time (orderedSteps: a next() asked for while one waits runs once it has settled), and
    // settles itself, saying so (settledNow) as it does: see orderedSteps' waitingOwned. A
    // reaction of orderedSteps' own on the step's promise would run before the consumer's
    // continuation, on the way from a wake-up to its code. The closures are the monitor's, not
    // a step's: made once, they can be listed as per-event code (src/_per_event.ts).
    let resolveStep: ((result: Step) => void) | undefined;
    let rejectStep: ((error: unknown) => void) | undefined;
    const settle = (result: Step): void => {
      const resolve = resolveStep!;
      resolveStep = rejectStep = undefined;
      steps.settledNow();
      resolve(result);
    };
    const fail = (err: unknown): void => {
      const reject = rejectStep!;
      resolveStep = rejectStep = undefined;
      steps.settledNow();
      reject(err);
    };
    const failed = (err: unknown): void => {
      try {
        release();
      } finally {
        fail(err);
      }
    };
    // A message skipped asks the socket again, within the same step: a step settles only with a
    // notification (or the end, or an error).
    const take = (result: IteratorResult<ReceivedMessage>): void => {
      let notification: Notification<D, A> | undefined;
      try {
        if (result.done) {
          release();
          return settle(done);
        }
        if (skipping) skipping = this.#skipped(result.value, marker);
        // Only the kernel's (port 0) are notifications: another process may write to our port,
        // and root may multicast to a family's groups, anything it likes. (The marker's ack, and
        // an overrun, are no operation's.)
        if (!skipping && result.value.sender === 0) {
          notification = this.#notification(result.value, table, pick);
        }
      } catch (err) {
        return void end().then(() => fail(err), fail);
      }
      if (notification === undefined) next(take, failed);
      else settle({ value: notification, done: false });
    };
    // The socket's iteration hands a step's message to `take` in the read loop's task, so that
    // this step settles there (see the stream's nextThen); next() of an iterator not the stream's
    // (a socket of another copy of the library) through its promise.
    const next: NextThen<ReceivedMessage> =
      (messages as { [nextThen]?: NextThen<ReceivedMessage> })[nextThen]
        ?? ((onResult, onError) => void messages.next().then(onResult, onError));
    const step = (): Promise<Step> =>
      steps.waitingOwned(
        new Promise<Step>((resolve, reject) => {
          resolveStep = resolve;
          rejectStep = reject;
          next(take, failed);
        }),
      );
    // Every step waits for the socket.
    const steps = orderedSteps(step);
    perEventClosures(
      take,
      settle,
      step,
      next,
      steps.next,
      steps.waitingOwned,
      steps.settledNow,
      this.#notification,
    );
    // No closure here may capture `monitor` (they share this scope with the release below).
    const monitor: Monitor<D, A> = {
      next: steps.next,
      return: end,
      [Symbol.asyncIterator]() {
        return this;
      },
      [Symbol.asyncDispose]: () => end().then(() => {}),
    };
    // Left without return(): once collected, the groups are left and the abort listener goes,
    // as return() would have done (after the step its owner still awaits, if one is pending).
    forget = whenCollected(monitor, () => void steps.settled().then(end));
    return monitor;
  }

  /**
   * The operations this kernel's family has, by the descriptor's names (nlctrl reports only
   * command numbers): what each does (`do`, `dump`) and whether it needs CAP_NET_ADMIN. A command
   * the spec does not know (a newer kernel's) has `name` undefined. Generic netlink only.
   *
   * @example
   * ```ts
   * import { family } from "@netlink/netlink/ynl";
   * import { netdev } from "@netlink/netlink/ynl/netdev";
   * await using nd = await family(netdev);
   * for (const op of await nd.operations()) console.log(op.name, op.do, op.dump);
   * ```
   */
  async operations(options: RequestOptions = {}): Promise<SupportedOperation[]> {
    if (this.generic === undefined) {
      throw new TypeError(
        `${this.descriptor.name} is a netlink-raw family: nlctrl lists generic families' only`,
      );
    }
    const ctrl = new NetlinkFamily(
      nlctrl,
      this.socket,
      await resolveCached(this.socket, nlctrl.name, options),
    );
    const reply = await ctrl.do("getfamily", { familyName: this.generic.name }, options);
    const names = new Map<number, string>();
    for (const [name, op] of Object.entries(this.descriptor.ops)) {
      if (op.request !== undefined && !names.has(op.request)) names.set(op.request, name);
    }
    const flags = nlctrl.enums["op-flags"].entries;
    return (reply.ops ?? []).map(({ id = 0, flags: bits = 0 }) => ({
      name: names.get(id),
      id,
      do: (bits & flags["cmd-cap-do"]) !== 0,
      dump: (bits & flags["cmd-cap-dump"]) !== 0,
      adminOnly: (bits & (flags["admin-perm"] | flags["uns-admin-perm"])) !== 0,
    }));
  }

  /**
   * The number of multicast group `name`, to join on the socket.
   *
   * @example
   * ```ts
   * import { family } from "@netlink/netlink/ynl";
   * import { netdev } from "@netlink/netlink/ynl/netdev";
   * await using nd = await family(netdev);
   * console.log(nd.group("mgmt"));
   * ```
   */
  group(name: GroupName<D>): number {
    const group = this.generic?.groups.get(name)
      ?? (Object.hasOwn(this.descriptor.groups, name) ? this.descriptor.groups[name] : undefined);
    if (group === null) {
      throw new TypeError(
        `${this.descriptor.name}'s spec gives multicast group "${name}" no number: join it by `
          + "number on the socket (socket.join(n))",
      );
    }
    if (group === undefined && typeof name !== "string") {
      throw new TypeError(
        `${this.descriptor.name}: a multicast group is named by a string, got ${shown(name)}`,
      );
    }
    if (group === undefined) {
      throw new TypeError(
        `${this.descriptor.name} has no multicast group ${quoted(name)}${
          suggestion(name, [
            ...Object.keys(this.descriptor.groups),
            ...this.generic?.groups.keys() ?? [],
          ])
        }`,
      );
    }
    return group;
  }

  /**
   * Closes the socket, unless it was passed in with `options.socket`.
   *
   * @example
   * ```ts
   * import { family } from "@netlink/netlink/ynl";
   * import { rtAddr } from "@netlink/netlink/ynl/rt-addr";
   * const rt = await family(rtAddr);
   * rt.close();
   * ```
   */
  close(): void {
    if (this.#ownsSocket) this.socket.close();
  }

  /** Closes the family: `await using rt = await family(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/**
 * Opens typed access to a family: a socket of its protocol (netlink-raw families say which;
 * generic netlink ones use NETLINK_GENERIC and resolve their id and groups through nlctrl, once
 * per socket, until the id turns out stale: see {@linkcode NetlinkFamily.do}). Rejects with
 * NetlinkError "ENOENT" when a generic family is not registered, and with a "TimeoutError"
 * DOMException saying so when nlctrl's answer does not come within 25 s (the kernel answers at
 * once: it was lost, to a receive queue full with `noENOBUFS` on, or to a filter).
 *
 * @example
 * ```ts
 * import { family } from "@netlink/netlink/ynl";
 * import { rtAddr } from "@netlink/netlink/ynl/rt-addr";
 * await using rt = await family(rtAddr, { netns: "blue" });
 * for (const addr of await rt.dump("getaddr")) console.log(addr.ifaIndex, addr.address);
 * ```
 */
export async function family<D extends FamilyDescriptor>(
  descriptor: D,
  options: FamilyOptions = {},
): Promise<NetlinkFamily<D>> {
  const codec = codecOf(descriptor);
  const protocol = codec.genetlink ? NETLINK_GENERIC : descriptor.protonum ?? 0;
  const { socket: given, ...openOptions } = checkOptions("family() options", options, FAMILY_KEYS);
  checkGivenSocket("family()", given, protocol, `the ${descriptor.name} family's`);
  checkAloneWithSocket("family()", given, openOptions);
  const socket = given ?? await open(protocol, openOptions);
  try {
    const generic = codec.genetlink ? await resolveCached(socket, descriptor.name) : undefined;
    return new NetlinkFamily(descriptor, socket, generic, given === undefined);
  } catch (err) {
    if (given === undefined) socket.close();
    throw err;
  }
}

// Every key of FamilyOptions and nothing else (`satisfies`): family() refuses any other.
const FAMILY_KEYS = [
  ...OPEN_KEYS,
  ...Object.keys(
    { socket: 0 } satisfies Record<Exclude<keyof FamilyOptions, keyof OpenOptions>, 0>,
  ),
];

// Every key of OperationOptions and nothing else (`satisfies`): do() and dump() refuse any other.
const OPERATION_KEYS = Object.keys(
  { signal: 0, timeout: 0, to: 0, flags: 0, attrs: 0 } satisfies Record<
    keyof OperationOptions,
    0
  >,
);

/** A notifications table's entry: see `codec.notifications`. */
type Notifying = Codec["notifications"][number];

/**
 * What a message of type (a generic family's: command) `key` is and its decoder, made and kept
 * in `codec.notifications`; null when it is no operation's.
 */
function notifyingOf(
  codec: Codec,
  key: number,
  table: Notifying[],
  pick: AttributePick | undefined,
): Exclude<Notifying, undefined> {
  const op = codec.operationOf(key);
  return table[key] = op === undefined
    ? null
    : { op, decode: messageDecoder(codec, codec.operation(op), pick) };
}

/**
 * Makes the decoders of the messages a monitor yields (the operations that notify, and a raw
 * family's requests the kernel multicasts back, rtnetlink's dellink) as the monitor starts, so
 * that its first notification does not wait while they are generated.
 */
function warmNotifications(
  codec: Codec,
  table: Notifying[],
  pick: AttributePick | undefined,
): void {
  for (const op of Object.values(codec.descriptor.ops)) {
    const key = op.notify !== undefined || op.event !== undefined
      ? op.reply
      : !codec.genetlink && op.do !== undefined && !op.do.reply
      ? op.request
      : undefined;
    if (key === undefined || table[key] !== undefined) continue;
    try {
      notifyingOf(codec, key, table, pick);
    } catch {
      // Left to the first such notification, which throws what this did, as it did before.
    }
  }
}

// Every key of MonitorOptions and nothing else (`satisfies`): monitor() refuses any other.
const MONITOR_KEYS = Object.keys(
  { groups: 0, signal: 0, attrs: 0 } satisfies Record<keyof MonitorOptions<FamilyDescriptor>, 0>,
);

/**
 * The nlmsg flags an operation's options add, checked as the socket checks a message's: dump()
 * adds NLM_F_DUMP to them, which would turn NaN or a string into NLM_F_DUMP alone.
 */
function messageFlags(options: OperationOptions): number {
  // A non-object is refused by socketOptions(), with the options' own message.
  const flags = (options as OperationOptions | null)?.flags ?? 0;
  if (typeof flags !== "number" || !Number.isInteger(flags) || flags < 0 || flags > 0xffff) {
    throw integerFieldError(
      flags,
      `operation options: flags must be a u16 (an integer from 0 to 65535), got ${shown(flags)}`,
    );
  }
  return flags;
}

/**
 * The socket's part of an operation's options: all of them but the message flags. Throws
 * TypeError for an option do() and dump() do not know.
 */
function socketOptions(options: OperationOptions): RequestOptions {
  const { flags: _flags, attrs: _attrs, ...rest } = checkOptions(
    "operation options",
    options,
    OPERATION_KEYS,
  );
  return rest;
}

perEventCode(() => methodsOf(NetlinkFamily.prototype));

/** decode()'s error for what is not a message, built apart from the per-event path. */
function notAMessage(message: unknown): TypeError {
  const got = message === null || typeof message !== "object"
    ? String(message)
    : (message as { payload?: unknown }).payload === undefined
    ? "one without a payload"
    : "one whose payload is no Uint8Array";
  return new TypeError(
    `decode() takes a message ({ type, payload: Uint8Array, ... }, as the socket yields them), `
      + `got ${got}`,
  );
}
