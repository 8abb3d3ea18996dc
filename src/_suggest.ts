/**
 * "Did you mean" for names that are not one: attribute names of the typed layer, option keys of
 * the socket core.
 *
 * @module
 */

/**
 * ` (did you mean "x"?)` for the candidate closest to a name that is not one, or "" when none
 * is close: the kernel's spelling of a camelCase key (`vlan-filtering`), another case, or a
 * typo of a few letters.
 */
export function suggestion(name: string, candidates: Iterable<string>): string {
  const wanted = name.toLowerCase().replace(/[-_]/g, "");
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.min(3, Math.floor(wanted.length / 3)));
  for (const candidate of candidates) {
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
