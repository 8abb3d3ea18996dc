// The demo: this machine's links, addresses and routes (main table, IPv4 and IPv6), through the
// everyday API (@netlink/netlink/route), printed much as `ip` prints them.
//
//   deno run --allow-ffi examples/list_links.ts
//   bun examples/list_links.ts

import { openRoute } from "../src/route/mod.ts";

await using ip = await openRoute();

console.log("links:");
for (const link of await ip.link.list()) {
  const kind = link.kind ? ` ${link.kind}` : "";
  console.log(
    `  ${link.index}: ${link.name} mtu ${link.mtu} ${link.operstate}${kind} <${link.flags}> ${
      link.address ?? ""
    }`,
  );
}

console.log("addresses:");
for (const a of await ip.addr.list()) {
  console.log(`  ${a.dev}: ${a.address}/${a.prefixLength} scope ${a.scope}`);
}

console.log("routes (main table):");
for (const r of await ip.route.list()) {
  const via = r.gateway ? ` via ${r.gateway}` : "";
  const dev = r.dev ? ` dev ${r.dev}` : "";
  const hops = r.nexthops?.map((h) =>
    ` nexthop via ${h.gateway} dev ${h.dev} weight ${h.weight}`
  ).join("") ?? "";
  console.log(
    `  ${r.type === "unicast" ? "" : `${r.type} `}${r.dst}${via}${dev}${hops} proto ${r.protocol}`,
  );
}
