/**
 * "Did you mean" for names that are not one: attribute names of the typed layer, option keys of
 * the socket core.
 *
 * @module
 */

/**
 * What `ip`, pyroute2 and vishvananda/netlink call a thing, by the name's letters (lowercase, no
 * `-` or `_`), and what this library may call it, first found first: a person who knows those
 * tools types their word (`via`, `type`, `state="up"`, a vxlan's `vni` and `dstport`), which is
 * no typo of ours.
 */
const OTHER_TOOLS_WORDS: Record<string, readonly string[]> = {
  via: ["gateway"],
  gw: ["gateway"],
  oif: ["dev"],
  priority: ["metric"],
  type: ["kind"],
  state: ["up"],
  ifname: ["name", "devName"],
  name: ["ifname", "devName"],
  mac: ["lladdr", "address"],
  hardwareaddr: ["lladdr", "address"],
  lookup: ["table"],
  pref: ["priority"],
  validlft: ["validLifetime"],
  preferredlft: ["preferredLifetime"],
  netnsfd: ["netns"],
  vni: ["id"],
  dstport: ["port"],
  // ip's vxlan remote (unicast) and group (multicast) are one attribute, IFLA_VXLAN_GROUP.
  remote: ["group"],
  // `ip link add dev NAME`: the link's own name (ethtool's header: devName); a vxlan's `dev`,
  // the link it sits on.
  dev: ["name", "ifname", "devName", "link"],
  neigh: ["neighbour"],
  addr: ["address"],
  // ip link set txqueuelen / qlen; a bridge port's hairpin, flood and root_block (ip's
  // bridge_slave, bridge link set; vishvananda's Protinfo); tc's flowid.
  txqueuelen: ["txqlen"],
  // ip link set promisc / allmulticast; vishvananda's Promisc and Allmulti.
  promiscuous: ["promisc"],
  allmulti: ["allmulticast"],
  noarp: ["arp"],
  qlen: ["txqlen"],
  hairpin: ["mode"],
  flood: ["unicastFlood"],
  rootblock: ["protect"],
  flowid: ["classid"],
  // tc -j's name for a tbf's latency, which tc qdisc add spells out.
  lat: ["latency"],
  // tc's ethertype for IPv4 is ip (ipv4 is one edit from ipv6).
  ipv4: ["ip"],
  // ss's states as it prints them (ESTAB, UNCONN) and as its filter takes them (listening).
  estab: ["established"],
  unconn: ["close"],
  listening: ["listen"],
  // The kernel's inet_diag names an end's address so (id.idiag_dst); ss's filter, dst.
  daddr: ["dst"],
  saddr: ["src"],
  // pyroute2's route multipath=[...] and neigh dst=..., ifindex=...; vishvananda's Neigh.IP,
  // LinkIndex and MasterIndex.
  multipath: ["nexthops"],
  // vishvananda's Veth.PeerName.
  peername: ["peer"],
  dst: ["address"],
  ip: ["address"],
  ifindex: ["dev", "devIndex"],
  linkindex: ["dev"],
  masterindex: ["master"],
};

/**
 * ` (did you mean "x"?)` for the candidate closest to a name that is not one, or "" when none
 * is close: the kernel's spelling of a camelCase key (`vlan-filtering`), another case, a typo of
 * a few letters, or the word `ip`, pyroute2 or vishvananda/netlink use for a candidate (`via`
 * for `gateway`).
 */
export function suggestion(name: string, candidates: Iterable<string>): string {
  const wanted = name.toLowerCase().replace(/[-_]/g, "");
  const given = [...candidates];
  const words = Object.hasOwn(OTHER_TOOLS_WORDS, wanted) ? OTHER_TOOLS_WORDS[wanted] : [];
  const ours = words.find((word) => given.includes(word));
  if (ours !== undefined) return ` (did you mean "${ours}"?)`;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.min(3, Math.floor(wanted.length / 3)));
  for (const candidate of given) {
    const distance = editDistance(wanted, candidate.toLowerCase().replace(/[-_]/g, ""));
    if (distance < bestDistance || (distance === bestDistance && best === undefined)) {
      best = candidate;
      bestDistance = distance;
    }
    if (distance === 0) break;
  }
  return best === undefined ? "" : ` (did you mean "${best}"?)`;
}

/**
 * Edit distance counting a swap of two neighbouring letters as one edit (optimal string
 * alignment), as well as insertions, deletions and substitutions: `mut` is one edit from `mtu`,
 * the most common typo of all.
 */
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        current[j] = Math.min(current[j], before[j - 2] + 1);
      }
    }
    before = previous;
    previous = current;
  }
  return previous[b.length];
}
