// `ethtool DEV`: the settings block ethtool prints (link modes, link info, link state), then the
// features that are on, through the ethtool family.

import {
  DUPLEX_FULL,
  DUPLEX_HALF,
  DUPLEX_UNKNOWN,
  ETH_TP_MDI,
  ETH_TP_MDI_AUTO,
  ETH_TP_MDI_X,
  PORT_AUI,
  PORT_BNC,
  PORT_DA,
  PORT_FIBRE,
  PORT_MII,
  PORT_NONE,
  PORT_OTHER,
  PORT_TP,
  XCVR_EXTERNAL,
  XCVR_INTERNAL,
} from "../_constants.ts";
import { shown } from "../_options.ts";
import { printable } from "../_printable.ts";
import { NetlinkError } from "../errors.ts";
import { formatMAC } from "../ip.ts";
import { ethtool } from "../ynl/ethtool.ts";
import { family } from "../ynl/family.ts";
import { type Global, json, type Output, socketOptions, unexpected, UsageError } from "./_args.ts";

// ---- ethtool ----------------------------------------------------------------------------------

interface Bit {
  index?: number;
  name?: string;
  value?: boolean;
}

interface Bitset {
  nomask?: boolean;
  bits?: { bit?: Bit[] };
}

type Reply = Record<string, unknown> | undefined;

/**
 * Whether `bit` of `set` is on: every bit a list (nomask) bitset holds is; a bit of a bitset with
 * a mask is when its value is, or for `mask` (the mask is what is read: supported modes) when it
 * is there at all.
 */
function isOn(set: Bitset, bit: Bit, mask = false): boolean {
  return mask || set.nomask === true || bit.value === true;
}

/** `ethtool DEV`. */
export async function ethtoolCommand(args: string[], global: Global, out: Output): Promise<void> {
  const [dev, ...extra] = args;
  if (dev === undefined) throw new UsageError("ethtool needs a device");
  // ethtool's other views (-k, -S, -i...): one ethtool user types first, which this tool lacks.
  if (dev.startsWith("-")) {
    throw new UsageError(
      `ethtool ${printable(dev)} is not supported: ethtool DEV alone prints the device's `
        + "settings, then the features that are on",
    );
  }
  if (extra.length) throw unexpected(extra[0]);
  await using client = await family(
    ethtool,
    socketOptions(global),
  );
  // As ethtool: each part is asked for on its own, and one the device does not support (lo has
  // no link modes) is left out; a device that is not there is an error.
  const ask = async (
    op:
      | "linkmodes-get"
      | "linkinfo-get"
      | "wol-get"
      | "debug-get"
      | "linkstate-get"
      | "features-get",
  ) => {
    try {
      return await client.do(op, { header: { devName: dev } }) as Reply;
    } catch (error) {
      if (error instanceof NetlinkError && error.code === "ENODEV") {
        throw new Error(`no link named ${shown(dev)}`);
      }
      if (error instanceof NetlinkError && error.code === "EOPNOTSUPP") return undefined;
      throw error;
    }
  };
  const modes = await ask("linkmodes-get");
  const info = await ask("linkinfo-get");
  const wol = await ask("wol-get");
  const debug = await ask("debug-get");
  const state = await ask("linkstate-get");
  const features = await ask("features-get");
  // features-get answers with list bitsets (nomask): the bits listed are the ones set. A bit the
  // kernel names "" (a feature since removed: NETIF_F_GSO_UDP's) is not listed, as by ethtool -k.
  const active = ((features?.active as Bitset | undefined)?.bits?.bit ?? [])
    .map((b) => b.name ?? "").filter((name) => name !== "");
  const duplexNames: Record<number, string> = { ...DUPLEX, [DUPLEX_UNKNOWN]: "Unknown" };
  if (global.json) {
    return json(global, out, {
      ifname: dev,
      speed: modes?.speed === 0xffff_ffff ? null : modes?.speed,
      duplex: duplexNames[modes?.duplex as number] ?? modes?.duplex,
      autoneg: modes?.autoneg === 1,
      features: active,
    });
  }
  const lines = [...modesText(modes), ...infoText(info), ...wolText(wol), ...debugText(debug)];
  if (state?.link !== undefined) lines.push(`\tLink detected: ${state.link ? "yes" : "no"}`);
  if (lines.length) out([`Settings for ${dev}:`, ...lines].join("\n"));
  out(`Features on for ${dev}:`);
  for (const name of active) out(`${name}: on`);
}

/** Link mode bits by what ethtool makes of them (its link_modes table), by the kernel's names. */
const PORT_MODES = ["TP", "AUI", "MII", "FIBRE", "BNC", "Backplane"];
const FEC_MODES = ["None", "RS", "BASER", "LLRS"];
const SPECIAL_MODES = ["Autoneg", "Pause", "Asym_Pause"];

type ModeClass = "port" | "fec" | "real";

function modeClass(name: string): ModeClass | "special" {
  if (PORT_MODES.includes(name)) return "port";
  if (FEC_MODES.includes(name)) return "fec";
  if (SPECIAL_MODES.includes(name)) return "special";
  return "real";
}

/**
 * A link mode bitset's modes of a class as ethtool prints them (dump_link_modes): after
 * `before`, `between` each or, for link modes, one a line under the first (a half duplex mode
 * and the full one after it share a line); `none` when there are none.
 */
function modesLine(
  set: Bitset,
  mask: boolean,
  kind: ModeClass,
  before: string,
  between: string | undefined,
  after: string,
  none: string,
): string {
  let text = `\t${before}`;
  let previous: Bit | undefined;
  for (const bit of set.bits?.bit ?? []) {
    if (!isOn(set, bit, mask)) continue;
    if (modeClass(bit.name ?? "") !== kind) continue;
    if (previous !== undefined) {
      if (
        kind === "real" && bit.index === previous.index! + 1 && previous.name!.endsWith("/Half")
      ) {
        text += " ";
      } else if (between !== undefined) text += `\t${between}`;
      else text += `\n\t${" ".repeat(before.length)}`;
    }
    text += bit.name;
    previous = bit;
  }
  return `${text}${previous === undefined ? none : ""}${after}`;
}

/** The pause bits as ethtool names them (dump_pause). */
function pauseLine(set: Bitset, mask: boolean, label: string): string {
  const on = (name: string) =>
    (set.bits?.bit ?? []).some((b) => b.name === name && isOn(set, b, mask));
  const asym = on("Asym_Pause");
  const use = on("Pause")
    ? (asym ? "Symmetric Receive-only" : "Symmetric")
    : (asym ? "Transmit-only" : "No");
  return `\t${label}${use}`;
}

/** Whether a bitset holds the autoneg bit (in its mask, or its value). */
function autonegBit(set: Bitset, mask: boolean): string {
  const on = (set.bits?.bit ?? []).some((b) => b.name === "Autoneg" && isOn(set, b, mask));
  return on ? "Yes" : "No";
}

/** LINKMODES_GET as ethtool prints it (linkmodes_reply_cb): modes, speed, duplex, autoneg. */
export function modesText(modes: Reply): string[] {
  if (modes === undefined) return [];
  const lines: string[] = [];
  const ours = modes.ours as Bitset | undefined;
  if (ours) {
    lines.push(
      modesLine(ours, true, "port", "Supported ports: [ ", " ", " ]", ""),
      modesLine(ours, true, "real", "Supported link modes:   ", undefined, "", "Not reported"),
      pauseLine(ours, true, "Supported pause frame use: "),
      `\tSupports auto-negotiation: ${autonegBit(ours, true)}`,
      modesLine(ours, true, "fec", "Supported FEC modes: ", " ", "", "Not reported"),
      modesLine(ours, false, "real", "Advertised link modes:  ", undefined, "", "Not reported"),
      pauseLine(ours, false, "Advertised pause frame use: "),
      `\tAdvertised auto-negotiation: ${autonegBit(ours, false)}`,
      modesLine(ours, false, "fec", "Advertised FEC modes: ", " ", "", "Not reported"),
    );
  }
  const peer = modes.peer as Bitset | undefined;
  if (peer) {
    const label = "Link partner advertised";
    lines.push(
      modesLine(peer, false, "real", `${label} link modes:  `, undefined, "", "Not reported"),
      pauseLine(peer, false, `${label} pause frame use: `),
      `\t${label} auto-negotiation: ${autonegBit(peer, false)}`,
      modesLine(peer, false, "fec", `${label} FEC modes: `, " ", "", "Not reported"),
    );
  }
  const speed = modes.speed as number | undefined;
  if (speed !== undefined) {
    const unknown = speed === 0 || speed === 0xffff || speed === 0xffff_ffff;
    lines.push(`\tSpeed: ${unknown ? "Unknown!" : `${speed}Mb/s`}`);
  }
  if (modes.lanes !== undefined) lines.push(`\tLanes: ${modes.lanes}`);
  if (modes.duplex !== undefined) lines.push(enumLine("Duplex", DUPLEX, modes.duplex as number));
  if (modes.autoneg !== undefined) {
    lines.push(`\tAuto-negotiation: ${modes.autoneg === 0 ? "off" : "on"}`);
  }
  return lines;
}

/** ethtool's names for duplex modes, ports and transceivers (names_duplex and the like). */
const DUPLEX: Record<number, string> = { [DUPLEX_HALF]: "Half", [DUPLEX_FULL]: "Full" };
const PORTS: Record<number, string> = {
  [PORT_TP]: "Twisted Pair",
  [PORT_AUI]: "AUI",
  [PORT_MII]: "MII",
  [PORT_FIBRE]: "FIBRE",
  [PORT_BNC]: "BNC",
  [PORT_DA]: "Direct Attach Copper",
  [PORT_NONE]: "None",
  [PORT_OTHER]: "Other",
};
const TRANSCEIVERS: Record<number, string> = {
  [XCVR_INTERNAL]: "internal",
  [XCVR_EXTERNAL]: "external",
};

/** A value of ethtool's name tables (print_enum). */
function enumLine(label: string, names: Record<number, string>, value: number): string {
  return `\t${label}: ${names[value] ?? `Unknown! (${value})`}`;
}

/** LINKINFO_GET as ethtool prints it (linkinfo_reply_cb): port, PHY address, MDI-X. */
function infoText(info: Reply): string[] {
  if (info === undefined) return [];
  const lines: string[] = [];
  if (info.port !== undefined) lines.push(enumLine("Port", PORTS, info.port as number));
  if (info.phyaddr !== undefined) lines.push(`\tPHYAD: ${info.phyaddr}`);
  if (info.transceiver !== undefined) {
    lines.push(enumLine("Transceiver", TRANSCEIVERS, info.transceiver as number));
  }
  // dump_mdix, for twisted pair only: a forced setting, else the state and "(auto)".
  if (info.tpMdix !== undefined && info.tpMdixCtrl !== undefined && info.port === PORT_TP) {
    const [mdix, control] = [info.tpMdix as number, info.tpMdixCtrl as number];
    lines.push(
      control === ETH_TP_MDI
        ? "\tMDI-X: off (forced)"
        : control === ETH_TP_MDI_X
        ? "\tMDI-X: on (forced)"
        : `\tMDI-X: ${mdix === ETH_TP_MDI ? "off" : mdix === ETH_TP_MDI_X ? "on" : "Unknown"}${
          control === ETH_TP_MDI_AUTO ? " (auto)" : ""
        }`,
    );
  }
  return lines;
}

/** ethtool's letters for Wake-on-LAN modes by bit (unparse_wolopts): WAKE_PHY is p... */
const WOL_LETTERS = "pumbagsf";

/** A mode set as ethtool prints it: its letters in bit order, "d" (disabled) when empty. */
function wolLetters(bits: number): string {
  const letters = [...WOL_LETTERS].filter((_, i) => bits & (1 << i)).join("");
  return letters || "d";
}

/**
 * WOL_GET's modes bitset as ethtool reads it (wol_modes_cb): every bit listed is supported, those
 * with a value (or all, in a list without a mask) enabled.
 */
function wolModes(wol: Record<string, unknown>): { supported: number; enabled: number } {
  const set = wol.modes as Bitset | undefined;
  let [supported, enabled] = [0, 0];
  for (const bit of set?.bits?.bit ?? []) {
    if (bit.index === undefined || bit.index >= 32) continue;
    supported |= 1 << bit.index;
    if (isOn(set!, bit)) enabled |= 1 << bit.index;
  }
  return { supported: supported >>> 0, enabled: enabled >>> 0 };
}

/** WAKE_MAGICSECURE's bit: with it supported, ethtool prints the SecureOn password. */
const WAKE_MAGICSECURE = 1 << 6;

/**
 * WOL_GET as ethtool prints it (wol_reply_cb, dump_wol): the modes supported and on, and the
 * SecureOn password where the device supports one (00:00:... when the kernel withholds it, as it
 * does from a caller without CAP_NET_ADMIN).
 */
export function wolText(wol: Reply): string[] {
  if (wol === undefined) return [];
  const { supported, enabled } = wolModes(wol);
  const lines = [
    `\tSupports Wake-on: ${wolLetters(supported)}`,
    `\tWake-on: ${wolLetters(enabled)}`,
  ];
  if (supported & WAKE_MAGICSECURE) {
    const sopass = wol.sopass instanceof Uint8Array && wol.sopass.length === 6
      ? wol.sopass
      : new Uint8Array(6);
    lines.push(`        SecureOn password: ${formatMAC(sopass)}`);
  }
  return lines;
}

/** DEBUG_GET's message mask: its value, and the names of the classes on, in bit order. */
function messageLevel(debug: Record<string, unknown>): { mask: number; names: string[] } {
  const set = debug.msgmask as Bitset | undefined;
  let mask = 0;
  const names: string[] = [];
  for (const bit of set?.bits?.bit ?? []) {
    if (!isOn(set!, bit)) continue;
    if (bit.index !== undefined && bit.index < 32) mask |= 1 << bit.index;
    if (bit.name !== undefined) names.push(bit.name);
  }
  return { mask: mask >>> 0, names };
}

/**
 * DEBUG_GET as ethtool prints it (debug_reply_cb): the message level in hex and decimal, then the
 * names of its classes on a line of their own, under the number.
 */
export function debugText(debug: Reply): string[] {
  if (debug?.msgmask === undefined) return [];
  const { mask, names } = messageLevel(debug);
  return [
    `        Current message level: 0x${mask.toString(16).padStart(8, "0")} (${mask})`,
    `${" ".repeat(30)}${names.map((name) => ` ${name}`).join("")}`,
  ];
}
