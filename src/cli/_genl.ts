// `genl`: generic netlink families from nlctrl, with op names from the YNL specs the library has.

import { NETLINK_GENERIC } from "../constants.ts";
import { NetlinkError } from "../errors.ts";
import { open } from "../open.ts";
import { family } from "../ynl/family.ts";
import { nlctrl } from "../ynl/nlctrl.ts";
import { type Global, json, type Output, UsageError, verb } from "./_args.ts";

// ---- genl -------------------------------------------------------------------------------------

/** `genl [show FAMILY]`. */
export async function genlCommand(args: string[], global: Global, out: Output): Promise<void> {
  const [, rest] = verb(args, ["show"]);
  const [name, ...extra] = rest;
  if (extra.length) throw new UsageError(`unexpected "${extra[0]}"`);
  const socket = await open(
    NETLINK_GENERIC,
    global.netns === undefined ? {} : { netns: global.netns },
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

/** Operation names by command number, from the family's YNL spec when the library has one. */
async function opNames(name: string): Promise<Map<number, string>> {
  const modules: Record<string, string> = {
    nlctrl: "../ynl/nlctrl.ts",
    ethtool: "../ynl/ethtool.ts",
    netdev: "../ynl/netdev.ts",
    devlink: "../ynl/devlink.ts",
    tcp_metrics: "../ynl/tcp_metrics.ts",
    mptcp_pm: "../ynl/mptcp_pm.ts",
    nl80211: "../ynl/nl80211.ts",
    wireguard: "../ynl/wireguard.ts",
    team: "../ynl/team.ts",
    fou: "../ynl/fou.ts",
    ovs_datapath: "../ynl/ovs_datapath.ts",
    ovs_vport: "../ynl/ovs_vport.ts",
    ovs_flow: "../ynl/ovs_flow.ts",
    ovs_packet: "../ynl/ovs_packet.ts",
    handshake: "../ynl/handshake.ts",
    dpll: "../ynl/dpll.ts",
    "net-shaper": "../ynl/net_shaper.ts",
    psp: "../ynl/psp.ts",
  };
  const path = modules[name];
  if (path === undefined) return new Map();
  const module = await import(path) as Record<
    string,
    { ops?: Record<string, { request?: number }> }
  >;
  const descriptor = Object.values(module).find((d) => d && typeof d === "object" && "ops" in d);
  const names = new Map<number, string>();
  for (const [op, spec] of Object.entries(descriptor?.ops ?? {})) {
    if (spec.request !== undefined && !names.has(spec.request)) names.set(spec.request, op);
  }
  return names;
}
