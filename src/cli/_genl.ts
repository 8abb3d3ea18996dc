// `genl`: generic netlink families from nlctrl, with op names from the YNL specs the library has.

import {
  GENL_ADMIN_PERM,
  GENL_CMD_CAP_DO,
  GENL_CMD_CAP_DUMP,
  GENL_CMD_CAP_HASPOL,
  NETLINK_GENERIC,
} from "../_constants.ts";
import { shown } from "../_options.ts";
import { NetlinkError } from "../errors.ts";
import { open } from "../open.ts";
import type { FamilyDescriptor } from "../ynl/_descriptor.ts";
import { family } from "../ynl/family.ts";
import { nlctrl } from "../ynl/nlctrl.ts";
import {
  type Global,
  json,
  type Output,
  socketOptions,
  unexpected,
  UsageError,
  verb,
} from "./_args.ts";

// ---- genl -------------------------------------------------------------------------------------

/**
 * `genl [show FAMILY]`, also spelt as genl's `genl ctrl list` and `genl ctrl get name FAMILY`.
 * The text is `genl ctrl list`'s, byte for byte; `--json` has the keys of iproute2's `genl -j`
 * (6.19 on) with each op's name from the family's YNL spec where the library has one.
 */
export async function genlCommand(args: string[], global: Global, out: Output): Promise<void> {
  const name = familyOperand(args);
  const socket = await open(
    NETLINK_GENERIC,
    socketOptions(global),
  );
  await using ctrl = await family(nlctrl, { socket });
  try {
    const families = name === undefined
      ? await ctrl.dump("getfamily")
      : [(await ctrl.do("getfamily", { familyName: name }))!];
    if (!global.json) {
      // One line each ends without its newline: out() adds it.
      for (const f of families) out(ctrlText(f).slice(0, -1));
      return;
    }
    json(
      global,
      out,
      await Promise.all(families.map(async (f) => {
        const names = await opNames(f.familyName ?? "");
        return {
          family: f.familyName,
          id: hex(f.familyId),
          version: hex(f.version),
          header_size: f.hdrsize,
          max_attr: f.maxattr,
          operations: (f.ops ?? []).map((op) => ({
            id: hex(op.id),
            ...(names.get(op.id!) ? { name: names.get(op.id!) } : {}),
            ...(op.flags === undefined
              ? {}
              : { capabilities: capabilities(op.flags).map(([key]) => key) }),
          })),
          mcast: (f.mcastGroups ?? []).map((g) => ({ id: hex(g.id), name: g.name })),
        };
      })),
    );
  } catch (error) {
    if (error instanceof NetlinkError && error.code === "ENOENT" && name !== undefined) {
      throw new Error(`no generic netlink family named ${shown(name)}`);
    }
    throw error;
  } finally {
    socket.close();
  }
}

/** The family asked for, if any: `show FAMILY`, `ctrl get name FAMILY`, `ctrl list`... */
function familyOperand(args: string[]): string | undefined {
  if (args[0] === "ctrl") {
    const [, command, ...rest] = args;
    if (command === "get" && rest[0] === "name" && rest.length === 2) return rest[1];
    if (["list", "ls", "show"].includes(command ?? "list") && rest.length === 0) return undefined;
    throw new UsageError("genl ctrl takes list, or get name FAMILY");
  }
  const [, rest] = verb(args, ["show"]);
  const [name, ...extra] = rest;
  if (extra.length) throw unexpected(extra[0]);
  return name;
}

/** iproute2's print_0xhex in JSON: a string "0x10". */
function hex(value: number | undefined): string | undefined {
  return value?.toString(16).replace(/^/, "0x");
}

/** An op's flags as genl names them: [its -j key, its words], in genl's order. */
function capabilities(flags: number): [string, string][] {
  const words: [number, string, string][] = [
    [GENL_ADMIN_PERM, "admin", "requires admin permission;"],
    [GENL_CMD_CAP_DO, "do", "can doit;"],
    [GENL_CMD_CAP_DUMP, "dump", "can dumpit;"],
    [GENL_CMD_CAP_HASPOL, "policy", "has policy"],
  ];
  return words.filter(([bit]) => flags & bit).map(([, key, text]) => [key, text]);
}

/** What ctrlText reads of a getfamily reply. */
interface FamilyReply {
  familyName?: string;
  familyId?: number;
  version?: number;
  hdrsize?: number;
  maxattr?: number;
  ops?: { id?: number; flags?: number }[];
  mcastGroups?: { id?: number; name?: string }[];
}

/** One family as genl/ctrl.c's print_ctrl prints it, trailing spaces and blank lines included. */
function ctrlText(f: FamilyReply): string {
  let text = `\nName: ${f.familyName}\n\tID: 0x${f.familyId?.toString(16)} `;
  if (f.version !== undefined) text += ` Version: 0x${f.version.toString(16)} `;
  if (f.hdrsize !== undefined) text += ` header size: ${f.hdrsize} `;
  if (f.maxattr !== undefined) text += ` max attribs: ${f.maxattr} `;
  text += "\n";
  if (f.ops) {
    text += "\tcommands supported: \n";
    f.ops.forEach((op, i) => {
      text += `\t\t#${i + 1}: `;
      if (op.id !== undefined) text += ` ID-0x${op.id.toString(16)} `;
      if (op.flags !== undefined) {
        text += `\n\t\tCapabilities (0x${op.flags.toString(16)}):\n `;
        if (op.flags !== 0) text += "\t\t ";
        text += capabilities(op.flags).map(([, words]) => ` ${words}`).join("") + "\n";
      }
      text += "\n";
    });
    text += "\n";
  }
  if (f.mcastGroups) {
    text += "\tmulticast groups:\n";
    f.mcastGroups.forEach((g, i) => {
      text += `\t\t#${i + 1}: `;
      if (g.id !== undefined) text += ` ID-0x${g.id.toString(16)} `;
      if (g.name !== undefined) text += ` name: ${g.name} `;
      text += "\n";
    });
    text += "\n";
  }
  return text;
}

/**
 * The generic families the library has a YNL descriptor for, loaded only when asked about
 * (each import is a literal, so `deno run jsr:...` and `deno publish` see them all).
 */
const DESCRIPTORS: Record<string, () => Promise<FamilyDescriptor>> = {
  binder: async () => (await import("../ynl/binder.ts")).binder,
  "dev-energymodel": async () => (await import("../ynl/dev_energymodel.ts")).devEnergymodel,
  devlink: async () => (await import("../ynl/devlink.ts")).devlink,
  dpll: async () => (await import("../ynl/dpll.ts")).dpll,
  "drm-ras": async () => (await import("../ynl/drm_ras.ts")).drmRas,
  ethtool: async () => (await import("../ynl/ethtool.ts")).ethtool,
  fou: async () => (await import("../ynl/fou.ts")).fou,
  handshake: async () => (await import("../ynl/handshake.ts")).handshake,
  lockd: async () => (await import("../ynl/lockd.ts")).lockd,
  mptcp_pm: async () => (await import("../ynl/mptcp_pm.ts")).mptcpPm,
  "net-shaper": async () => (await import("../ynl/net_shaper.ts")).netShaper,
  netdev: async () => (await import("../ynl/netdev.ts")).netdev,
  nfsd: async () => (await import("../ynl/nfsd.ts")).nfsd,
  nl80211: async () => (await import("../ynl/nl80211.ts")).nl80211,
  nlctrl: async () => (await import("../ynl/nlctrl.ts")).nlctrl,
  ovpn: async () => (await import("../ynl/ovpn.ts")).ovpn,
  ovs_datapath: async () => (await import("../ynl/ovs_datapath.ts")).ovsDatapath,
  ovs_flow: async () => (await import("../ynl/ovs_flow.ts")).ovsFlow,
  ovs_packet: async () => (await import("../ynl/ovs_packet.ts")).ovsPacket,
  ovs_vport: async () => (await import("../ynl/ovs_vport.ts")).ovsVport,
  psp: async () => (await import("../ynl/psp.ts")).psp,
  sunrpc: async () => (await import("../ynl/sunrpc_cache.ts")).sunrpc,
  tcp_metrics: async () => (await import("../ynl/tcp_metrics.ts")).tcpMetrics,
  team: async () => (await import("../ynl/team.ts")).team,
  wireguard: async () => (await import("../ynl/wireguard.ts")).wireguard,
};

/** Operation names by command number, from the family's YNL spec when the library has one. */
async function opNames(name: string): Promise<Map<number, string>> {
  const load = DESCRIPTORS[name];
  const names = new Map<number, string>();
  if (load === undefined) return names;
  for (const [op, spec] of Object.entries((await load()).ops) as [string, { request?: number }][]) {
    if (spec.request !== undefined && !names.has(spec.request)) names.set(spec.request, op);
  }
  return names;
}
