// The operations whose spec gives their `do` a reply that the kernel answers with an ack only.
// Internal: do() resolves with undefined for these when no reply came, and throws for the rest.

/**
 * "FAMILY OPERATION" of each `do` the kernel may answer with only an ack though its spec names
 * a reply: team's options-set (team_nl_options_set_doit() multicasts the change and sends no
 * reply), nftables' batch-begin (a batch's bounds are never answered with a message of their
 * own), ethtool's features-set and tsconfig-set (no reply with ETHTOOL_FLAG_OMIT_REPLY in the
 * request's header).
 */
const ACK_ONLY: ReadonlySet<string> = new Set([
  "team options-set",
  "nftables batch-begin",
  "ethtool features-set",
  "ethtool tsconfig-set",
]);

/** Whether the kernel may answer `op` of the family named `family` with an ack only. */
export function mayAckOnly(family: string, op: string): boolean {
  return ACK_ONLY.has(`${family} ${op}`);
}
