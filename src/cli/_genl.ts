// `genl`: generic netlink families from nlctrl, with op names from the YNL specs the library has.

import { NETLINK_GENERIC } from "../constants.ts";
import { NetlinkError } from "../errors.ts";
import { open } from "../open.ts";
import type { FamilyDescriptor } from "../ynl/_descriptor.ts";
import { family } from "../ynl/family.ts";
import { nlctrl } from "../ynl/nlctrl.ts";
import { type Global, json, type Output, socketOptions, UsageError, verb } from "./_args.ts";

// ---- genl -------------------------------------------------------------------------------------

/** `genl [show FAMILY]`. */
export async function genlCommand(args: string[], global: Global, out: Output): Promise<void> {
  const [, rest] = verb(args, ["show"]);
  const [name, ...extra] = rest;
  if (extra.length) throw new UsageError(`unexpected "${extra[0]}"`);
  const socket = await open(
    NETLINK_GENERIC,
    socketOptions(global),
  );
  await using ctrl = await family(nlctrl, { socket });
  try {
    const families = name === undefined
      ? await ctrl.dump("getfamily")
      : [(await ctrl.do("getfamily", { familyName: name }))!];
    const shown = await Promise.all(families.map(async (f) => {
      const names = await opNames(f.familyName ?? "");
      return {
        name: f.familyName,
        id: f.familyId,
        version: f.version,
        hdrsize: f.hdrsize,
        maxattr: f.maxattr,
        ops: (f.ops ?? []).map((op) => ({
          id: op.id,
          ...(names.get(op.id!) ? { name: names.get(op.id!) } : {}),
        })),
        groups: (f.mcastGroups ?? []).map((g) => ({ name: g.name, id: g.id })),
      };
    }));
    if (global.json) return json(out, shown);
    for (const f of shown) {
      out(
        `Name: ${f.name}\n\tID: 0x${f.id?.toString(16)}  Version: 0x${
          f.version?.toString(16)
        }  header size: ${f.hdrsize}  max attribs: ${f.maxattr}`,
      );
      if (f.ops.length) {
        out(`\tcommands supported:`);
        for (const op of f.ops) out(`\t\t#${op.id}: ${op.name ?? `ID-0x${op.id?.toString(16)}`}`);
      }
      if (f.groups.length) {
        out(`\tmulticast groups:`);
        for (const g of f.groups) out(`\t\t#${g.id}: ${g.name}`);
      }
    }
  } catch (error) {
    if (error instanceof NetlinkError && error.code === "ENOENT" && name !== undefined) {
      throw new Error(`no generic netlink family named ${name}`);
    }
    throw error;
  } finally {
    socket.close();
  }
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
