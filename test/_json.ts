// What the everyday API returns goes through JSON.stringify: no bigint among the enumerable
// properties (JSON.stringify's own walk: getters on a prototype, such as `raw`, are not in it).

/** The paths of the bigints JSON.stringify would meet in `value` ("[0].data.helloTimer"). */
export function bigintsIn(value: unknown, path = ""): string[] {
  if (typeof value === "bigint") return [path];
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value)) return [];
  return Object.entries(value).flatMap(([key, v]) =>
    bigintsIn(v, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`)
  );
}
