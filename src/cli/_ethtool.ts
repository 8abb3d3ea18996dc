// `ethtool DEV`: link modes and the features that are on, through the ethtool family.

import { NetlinkError } from "../errors.ts";
import { ethtool } from "../ynl/ethtool.ts";
import { family } from "../ynl/family.ts";
import { type Global, json, type Output, socketOptions, UsageError } from "./_args.ts";

// ---- ethtool ----------------------------------------------------------------------------------

interface Bitset {
  bits?: { bit?: { index?: number; name?: string; value?: boolean }[] };
}

/** `ethtool DEV`. */
export async function ethtoolCommand(args: string[], global: Global, out: Output): Promise<void> {
  const [dev, ...extra] = args;
  if (dev === undefined) throw new UsageError("ethtool needs a device");
  if (extra.length) throw new UsageError(`unexpected "${extra[0]}"`);
  await using client = await family(
    ethtool,
    socketOptions(global),
  );
  let modes, features;
  try {
    modes = await client.do("linkmodes-get", { header: { devName: dev } });
    features = await client.do("features-get", { header: { devName: dev } });
  } catch (error) {
    if (error instanceof NetlinkError && error.code === "ENODEV") {
      throw new Error(`no link named ${dev}`);
    }
    throw error;
  }
  // features-get answers with list bitsets (nomask): the bits listed are the ones set.
  const active = ((features?.active as Bitset | undefined)?.bits?.bit ?? []).map((b) => b.name!);
  const duplexNames: Record<number, string> = { 0: "Half", 1: "Full", 255: "Unknown" };
  const shown = {
    ifname: dev,
    speed: modes?.speed === 0xffff_ffff ? null : modes?.speed,
    duplex: duplexNames[modes?.duplex as number] ?? modes?.duplex,
    autoneg: modes?.autoneg === 1,
    features: active,
  };
  if (global.json) return json(out, shown);
  out(`Settings for ${dev}:`);
  out(`\tSpeed: ${shown.speed === null ? "Unknown!" : `${shown.speed}Mb/s`}`);
  out(`\tDuplex: ${shown.duplex}`);
  out(`\tAuto-negotiation: ${shown.autoneg ? "on" : "off"}`);
  out(`Features on for ${dev}:`);
  for (const name of active) out(`${name}: on`);
}
