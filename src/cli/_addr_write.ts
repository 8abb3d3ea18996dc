// `addr add|replace|delete`: ip address's words (ip/ipaddress.c ipaddr_modify), read into the
// route layer's addr.add() and addr.delete().

import { shown } from "../_options.ts";
import { formatIP } from "../ip.ts";
import type { AddressOptions } from "../route/address.ts";
import { openRoute } from "../route/client.ts";
import {
  duplicate,
  duplicateOrGarbage,
  type Global,
  ipNumber,
  ipOperand,
  socketOptions,
  UsageError,
  warn,
} from "./_args.ts";
import { dstPrefix } from "./_ip.ts";
import { scopeId } from "./_rt_names.ts";

/** The IFA_F_* flags ip takes by name (its CONFFLAG-LIST). */
const CONF_FLAGS = ["home", "nodad", "optimistic", "mngtmpaddr", "noprefixroute", "autojoin"];

/** An address or prefix as ip's get_prefix reads it ("10.9.1/24"), of one family, or ip's error. */
function prefixOperand(text: string, family: Global["family"]) {
  const prefix = dstPrefix(text, family);
  if (prefix.address.length === 0) {
    throw new Error(`${family ?? "any valid"} address is expected rather than ${shown(text)}.`);
  }
  return { ...prefix, text: formatIP(prefix.address) };
}

/** A lifetime as ip reads it: "forever", or seconds (get_u32). */
function lifetime(text: string, key: string): number {
  return text === "forever" ? Infinity : ipNumber(text, `${key} value`);
}

/**
 * `addr add|replace|delete ADDRESS[/LENGTH] [peer PREFIX] dev DEV [broadcast ADDR|+|-]
 * [label L] [scope S] [metric N] [valid_lft T] [preferred_lft T] [FLAG...]`, as ip's: nothing
 * printed on success; no `dev` is status 1 (ip's "Not enough information"), a device that is not
 * there 1, the kernel's refusal 2 (an address there already, or not there to delete), a bad
 * word 255. `delete` of an IPv4 address without a length removes the first of that address on
 * the link, whatever its length, with ip's warning (its "wildcard deletion").
 */
export async function addrWrite(action: string, words: string[], global: Global): Promise<void> {
  let local: string | undefined;
  let peer: string | undefined;
  let dev: string | undefined;
  let broadcast: string | undefined;
  const options: AddressOptions = {};
  const flags: string[] = [];
  const next = (i: number) => {
    if (words[i] === undefined) throw new UsageError("Command line is not complete. Try --help");
    return words[i];
  };
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word === "peer" || word === "remote") {
      if (peer !== undefined) throw duplicate("peer", next(i + 1));
      peer = next(++i);
    } else if (word === "broadcast" || word === "brd") {
      if (broadcast !== undefined) throw duplicate("broadcast", next(i + 1));
      broadcast = next(++i);
    } else if (word === "scope") {
      options.scope = ipOperand(scopeId, next(++i), "invalid scope value.");
    } else if (word === "dev") dev = next(++i);
    else if (word === "label") options.label = next(++i);
    else if (word === "metric" || word === "priority" || word === "preference") {
      options.metric = ipNumber(next(++i), `"metric" value is invalid`);
    } else if (word === "valid_lft" || word === "preferred_lft") {
      const value = lifetime(next(++i), word);
      if (word === "valid_lft") options.validLifetime = value;
      else options.preferredLifetime = value;
    } else if (CONF_FLAGS.includes(word)) flags.push(word);
    else if (word === "anycast" || word === "proto") {
      throw new UsageError(`addr ${action}: ${shown(word)} is not supported`);
    } else {
      const address = word === "local" ? next(++i) : word;
      if (local !== undefined) throw duplicateOrGarbage("local", address);
      local = address;
    }
  }
  if (dev === undefined) throw new Error(`Not enough information: "dev" argument is required.`);
  if (local === undefined) throw new UsageError(`addr ${action} needs an address: ADDRESS dev DEV`);
  const lcl = prefixOperand(local, global.family);
  const family = lcl.family === 10 ? "inet6" : "inet";
  // As ip: with a peer, the length is the peer's ("10.0.0.1 peer 10.0.0.2/24").
  const remote = peer === undefined ? undefined : prefixOperand(peer, family);
  const bits = remote?.specified ? remote.bits : lcl.bits;
  const prefix = `${lcl.text}/${bits}`;
  if (remote !== undefined) options.peer = remote.text;
  if (flags.length) options.flags = flags;
  if (broadcast !== undefined && action !== "delete") {
    if (family !== "inet") throw new Error("Broadcast can be set only for IPv4 addresses");
    const address = broadcast === "-" ? networkAddress(remote ?? lcl, bits) : broadcast;
    if (address !== undefined) options.broadcast = address;
  }
  // The kernel selects by a label too (IFA_LABEL), which addr.delete() does not send: refused
  // rather than ignored.
  if (action === "delete" && options.label !== undefined) {
    throw new UsageError("addr delete: label is not supported (the address says which)");
  }
  await using ip = await openRoute(socketOptions(global));
  if (action === "delete") {
    if (remote === undefined && family === "inet" && !lcl.specified) {
      // ip's wildcard deletion: the address whatever its length (the kernel matches IFA_LOCAL).
      warn(
        "Warning: Executing wildcard deletion to stay compatible with old scripts.\n"
          + `         Explicitly specify the prefix length (${local}/32) to avoid this warning.\n`
          + "         This special behaviour is likely to disappear in further releases,\n"
          + "         fix your scripts!",
      );
      const held = await ip.addr.list({ dev, family });
      const found = held.find((a) => a.address === lcl.text && a.peer === undefined);
      if (found !== undefined) return await ip.addr.delete(found);
    }
    return await ip.addr.delete(dev, prefix, remote === undefined ? {} : { peer: remote.text });
  }
  await ip.addr.add(dev, prefix, {
    ...options,
    ...(action === "replace" ? { replace: true } : {}),
  });
}

/** ip's `broadcast -`: the prefix's host bits cleared (none for a /31 or /32, as ip). */
function networkAddress(prefix: { address: Uint8Array }, bits: number): string | undefined {
  if (bits > 30) return undefined;
  const bytes = prefix.address.slice();
  for (let bit = bits; bit < 32; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  return formatIP(bytes);
}
