// What can name a link, checked before anything is asked of the kernel. Internal: shared by the
// route client and TrafficControl (which does not load the route client's codecs).

/** Refuses what can name no link (TypeError naming `field`), before anything is asked. */
export function checkLinkRef(ref: unknown, field: string): asserts ref is string | number {
  if (typeof ref === "number") {
    if (Number.isInteger(ref) && ref > 0 && ref <= 0x7fff_ffff) return;
    throw new TypeError(`${field}: ${ref} is not a link index (a positive integer)`);
  }
  if (typeof ref !== "string" || ref === "" || ref.length > 15 || /[\s/:]/.test(ref)) {
    throw new TypeError(`${field}: ${JSON.stringify(ref)} is not a link name or index`);
  }
}
