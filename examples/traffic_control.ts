// Traffic control: a veth pair, an htb qdisc with a 10mbit class, a u32 filter sending HTTPS to
// 10.1.0.0/16 into it; then what is there, as `tc -j` would show it. Run it in a throwaway
// namespace (it adds links):
//
//   ip netns add demo
//   ip netns exec demo deno run --allow-ffi examples/traffic_control.ts
//   ip netns exec demo bun examples/traffic_control.ts
//   ip netns del demo

import { openRoute, TrafficControl } from "../src/route/mod.ts";

await using ip = await openRoute();
await ip.link.add({ name: "veth0", kind: "veth", peer: { name: "veth1" } });

await using tc = await TrafficControl.open({ socket: ip.socket });
await tc.addQdisc({ dev: "veth0", handle: "1:", kind: "htb", default: "20" });
await tc.addClass({ dev: "veth0", parent: "1:", classid: "1:20", kind: "htb", rate: "10mbit" });
await tc.addFilter({
  ...{ dev: "veth0", parent: "1:", kind: "u32", protocol: "ip", pref: 10 },
  ...{ match: { dst: "10.1.0.0/16", dport: 443 }, classid: "1:20" },
});

for (const q of await tc.qdiscs({ dev: "veth0" })) {
  console.log("qdisc", q.kind, q.handle, q.parent, JSON.stringify(q.options));
}
for (const c of await tc.classes({ dev: "veth0" })) {
  console.log("class", c.kind, c.handle, c.parent, JSON.stringify(c.options));
}
for (const f of await tc.filters({ dev: "veth0", parent: "1:" })) {
  console.log("filter", f.kind, f.pref, f.handle ?? "-", JSON.stringify(f.options));
}
