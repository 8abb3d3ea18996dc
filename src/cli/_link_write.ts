// `link add|set|delete`: ip link's words (ip/iplink.c iplink_parse), read into the route layer's
// link.add(), link.set() and link.delete().

import { openNetns } from "../../ffi/mod.ts";
import { netnsPath } from "../_netns.ts";
import { shown } from "../_options.ts";
import { openRoute } from "../route/client.ts";
import type { AddrGenMode, LinkSettings, NetnsRef, NewLink } from "../route/link.ts";
import {
  duplicate,
  duplicateOrGarbage,
  type Global,
  invalidArgument,
  ipNumber,
  socketOptions,
  UsageError,
} from "./_args.ts";

/** What ip link add and set take before `type`, as this tool reads them. */
interface LinkWords {
  /** The device (`dev DEV` or bare): the link changed, or the new link's name. */
  dev?: string;
  /** `name NAME`: the new link's name (add), or a new name (set). */
  name?: string;
  /** `link DEV`: the link a new one sits on. */
  link?: string;
  settings: LinkSettings;
  /** `type KIND`, and the words after it: the kind's options. */
  kind?: string;
  kindWords: string[];
}

/** ip link's words this tool does not take, named as such rather than read as a device. */
const UNSUPPORTED = [
  ...["arp", "multicast", "allmulticast", "promisc", "trailers", "carrier", "dynamic", "group"],
  ...["index", "numtxqueues", "numrxqueues", "vf", "xdp", "xdpgeneric", "xdpdrv", "xdpoffload"],
  ...["protodown", "protodown_reason", "gso_max_size", "gso_max_segs", "gro_max_size"],
  ...["gso_ipv4_max_size", "gro_ipv4_max_size", "parentdev", "mode", "state", "link-netns"],
  ...["link-netnsid", "netns-immutable", "qdisc", "peer", "vlan", "spoofchk"],
];

const ADDR_GEN_MODES: readonly AddrGenMode[] = ["eui64", "none", "stable_secret", "random"];

/**
 * The namespace of `netns NAME|PID` as ip's netns_get_fd and get_integer read it: an `ip netns`
 * name (or an absolute path) that opens, else a process id; ip's error (status 255) otherwise.
 */
function netnsOperand(text: string): NetnsRef {
  try {
    openNetns(netnsPath(text)).close();
    return text;
  } catch {
    if (/^[0-9]+$/.test(text)) return { pid: Number(text) };
    throw invalidArgument(text, `Invalid "netns" value`);
  }
}

/** The next word, or ip's error for a keyword with none (status 255). */
function operand(words: string[], i: number): string {
  const word = words[i];
  if (word === undefined) throw new UsageError("Command line is not complete. Try --help");
  return word;
}

/**
 * `words` as ip's iplink_parse reads them, up to `type KIND` (whose words follow, for the kind):
 * up, down, name, link (add), address, broadcast (brd), mtu, txqueuelen (qlen, txqlen), netns,
 * master, nomaster, alias, addrgenmode, and the device, `dev DEV` or bare.
 */
function linkWords(words: string[], adding: boolean): LinkWords {
  const found: LinkWords = { settings: {}, kindWords: [] };
  const s = found.settings;
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word === "up" || word === "down") s.up = word === "up";
    else if (word === "name") {
      const name = operand(words, ++i);
      if (found.name !== undefined) throw duplicate("name", name);
      found.name = name;
    } else if (word === "link" && adding) found.link = operand(words, ++i);
    else if (word === "address") s.address = operand(words, ++i);
    else if (word === "broadcast" || word === "brd") s.broadcast = operand(words, ++i);
    else if (word === "mtu") s.mtu = ipNumber(operand(words, ++i), `Invalid "mtu" value`);
    else if (word === "txqueuelen" || word === "qlen" || word === "txqlen") {
      s.txqlen = ipNumber(operand(words, ++i), `Invalid "txqueuelen" value`);
    } else if (word === "netns") s.netns = netnsOperand(operand(words, ++i));
    else if (word === "master") s.master = operand(words, ++i);
    else if (word === "nomaster") s.master = null;
    else if (word === "alias") s.alias = operand(words, ++i);
    else if (word === "addrgenmode") {
      const mode = operand(words, ++i);
      if (!ADDR_GEN_MODES.includes(mode as AddrGenMode)) {
        throw invalidArgument(mode, "Invalid address generation mode");
      }
      s.addrGenMode = mode as AddrGenMode;
    } else if (word === "type") {
      found.kind = operand(words, ++i);
      found.kindWords = words.slice(i + 1);
      break;
    } else if (UNSUPPORTED.includes(word)) {
      throw new UsageError(`link ${adding ? "add" : "set"}: ${shown(word)} is not supported`);
    } else {
      const dev = word === "dev" ? operand(words, ++i) : word;
      if (found.dev !== undefined) throw duplicateOrGarbage("dev", dev);
      found.dev = dev;
    }
  }
  return found;
}

/**
 * A kind's options after `type KIND` (ip's *_parse_opt), as `data`; the words of a veth's
 * `peer` as its peer. Those of the kinds and words below; others are refused as not supported.
 */
function kindOptions(kind: string, words: string[]): Pick<NewLink, "data" | "peer"> {
  const found: Pick<NewLink, "data" | "peer"> = {};
  if (words.length === 0) return found;
  if (kind === "veth") {
    if (words[0] !== "peer") throw kindWord(kind, words[0]);
    const peer = linkWords(words.slice(1), true);
    const { mtu, address, netns, ...others } = peer.settings;
    const other = Object.keys(others)[0] ?? (peer.kind !== undefined ? "type" : undefined)
      ?? (peer.link !== undefined ? "link" : undefined);
    if (other !== undefined) throw kindWord(kind, `peer ... ${other}`);
    if (peer.name !== undefined && peer.dev !== undefined) {
      throw duplicateOrGarbage("dev", peer.dev);
    }
    const name = peer.name ?? peer.dev;
    found.peer = {
      ...(name === undefined ? {} : { name }),
      ...(mtu === undefined ? {} : { mtu }),
      ...(address === undefined ? {} : { address }),
      ...(netns === undefined ? {} : { netns }),
    };
    return found;
  }
  const data: Record<string, unknown> = {};
  const reader = KIND_WORDS[kind] ?? {};
  for (let i = 0; i < words.length; i++) {
    const read = reader[words[i]];
    if (read === undefined) throw kindWord(kind, words[i]);
    const [key, value] = read(operand(words, ++i));
    data[key] = value;
  }
  found.data = data;
  return found;
}

/** A word of a kind's options this tool does not take. */
function kindWord(kind: string, word: string): UsageError {
  const known = kind === "veth" ? ["peer"] : Object.keys(KIND_WORDS[kind] ?? {});
  return new UsageError(
    `type ${kind}: ${shown(word)} is not supported`
      + (known.length ? ` (it takes ${known.join(", ")})` : " (it takes no options here)"),
  );
}

type KindWord = (text: string) => [string, unknown];

const number = (key: string, invalid: string, max?: number): KindWord => (text) => [
  key,
  ipNumber(text, invalid, max),
];
const word = (key: string): KindWord => (text) => [key, text];
/** A vxlan address: group/local, or group6/local6 for an IPv6 one. */
const vxlanAddress = (key: string): KindWord => (text) => [
  text.includes(":") ? `${key}6` : key,
  text,
];

/** The options of each kind this tool takes after `type KIND`, by ip's word. */
const KIND_WORDS: Record<string, Record<string, KindWord>> = {
  vlan: { id: number("id", "id is invalid", 4094) },
  macvlan: { mode: word("mode") },
  macvtap: { mode: word("mode") },
  ipvlan: { mode: word("mode") },
  ipvtap: { mode: word("mode") },
  bond: { mode: word("mode") },
  vrf: { table: number("table", "table is invalid") },
  vxlan: {
    id: number("id", "invalid id", 0xff_ffff),
    vni: number("id", "invalid id", 0xff_ffff),
    dstport: number("port", "dstport", 0xffff),
    remote: vxlanAddress("group"),
    group: vxlanAddress("group"),
    local: vxlanAddress("local"),
    dev: word("link"),
    ttl: number("ttl", "invalid TTL", 255),
  },
};

/**
 * `link add|set|delete`, as ip link's: nothing printed on success; a device that is not there is
 * status 1 (ip's "Cannot find device"), a kernel's refusal 2, a bad command line 255.
 */
export async function linkWrite(action: string, args: string[], global: Global): Promise<void> {
  if (action === "delete") {
    // As ip: `type KIND` may follow the device (the kernel deletes by index).
    const typeAt = args.indexOf("type");
    const words = linkWords(typeAt < 0 ? args : args.slice(0, typeAt), false);
    if (typeAt >= 0) operand(args, typeAt + 1);
    const extra = Object.keys(words.settings)[0] ?? words.name;
    if (extra !== undefined) {
      throw new UsageError(`link delete takes a device only, not ${shown(extra)}`);
    }
    if (words.dev === undefined) {
      throw new UsageError(`Not enough information: "dev" argument is required.`);
    }
    await using ip = await openRoute(socketOptions(global));
    return await ip.link.delete(words.dev);
  }
  const words = linkWords(args, action === "add");
  await using ip = await openRoute(socketOptions(global));
  // As ip: a master that is not there is its command line's error (status 255).
  const master = words.settings.master;
  if (typeof master === "string" && await ip.link.find(master) === undefined) {
    throw invalidArgument(master, "Device does not exist");
  }
  if (action === "add") {
    const name = words.name ?? words.dev;
    if (words.kind === undefined) {
      throw new Error(`Not enough information: "type" argument is required`);
    }
    if (name === undefined) throw new UsageError(`link add needs a name: link add NAME type KIND`);
    if (words.name !== undefined && words.dev !== undefined && words.dev !== words.name) {
      throw duplicateOrGarbage("dev", words.dev);
    }
    const { addrGenMode, ...settings } = words.settings;
    if (addrGenMode !== undefined) {
      throw new UsageError("link add: addrgenmode is set once the link is made (link set)");
    }
    const options = kindOptions(words.kind, words.kindWords);
    await ip.link.add({
      ...settings,
      name,
      kind: words.kind,
      ...(words.link === undefined ? {} : { link: words.link }),
      ...(options.data === undefined ? {} : { data: options.data }),
      ...(options.peer === undefined ? {} : { peer: options.peer }),
    });
    return;
  }
  if (words.dev === undefined) {
    throw new UsageError(`Not enough information: "dev" argument is required.`);
  }
  if (words.kind !== undefined) {
    throw new UsageError(`link set: "type" (a kind's options) is not supported`);
  }
  if (words.link !== undefined) throw new UsageError(`link set: "link" is not supported`);
  await ip.link.set(words.dev, {
    ...words.settings,
    ...(words.name === undefined ? {} : { name: words.name }),
  });
}
