// What can name a link, checked before anything is asked of the kernel. Internal: shared by the
// route client and TrafficControl (which does not load the route client's codecs).

/** Refuses what can name no link (TypeError naming `field`), before anything is asked. */
export function checkLinkRef(ref: unknown, field: string): asserts ref is string | number {
  if (typeof ref !== "number") checkLinkName(ref, field);
  else if (!Number.isInteger(ref) || ref <= 0 || ref > 0x7fff_ffff) {
    throw new TypeError(`${field}: ${ref} is not a link index (a positive integer)`);
  }
}

/** `name` as a link name (what dev_valid_name() takes); a TypeError naming `field` otherwise. */
export function checkLinkName(name: unknown, field: string): string {
  if (typeof name !== "string" || name === "" || name.length > 15 || /[\s/:]/.test(name)) {
    throw new TypeError(
      `${field}: ${JSON.stringify(name)} is not a link name (1 to 15 characters, no space, / or :)`,
    );
  }
  return name;
}
