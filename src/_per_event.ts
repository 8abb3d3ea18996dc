/**
 * The library's code that a monitor runs once per event (the signal's listener, the read, the
 * decode, the hand-over to a `listen()` handler or a `for await` step, the next wait), listed
 * for a runtime that can be asked to optimize it. Code run once per event never leaves
 * JavaScriptCore's Baseline tier over hundreds of events (its optimizing tier waits for call
 * counts and fuller type profiles than that brings), and cold Baseline code costs every event
 * tens of microseconds: ffi/ asks Bun to optimize these functions after a few dozen wake-ups
 * (ffi/README.md, "Optimizing the per-event code"), and keeps them, a flood's per-datagram code
 * among them, out of its top tier once a flood starts (`capPerEventCode`). Runtime-neutral: src/
 * only lists them, and nothing is kept unless a runtime asked for the list.
 *
 * @module
 */

/** Lists functions that live as long as their module (a module's, a class's methods). */
type Lister = () => readonly unknown[];

/**
 * What a runtime applies to every listed function from {@linkcode capPerEventCode} on (a
 * function listed twice gets it twice): closures as they are listed, whether or not the list is
 * wanted then, and modules' functions at once (or as their module registers).
 */
let cap: ((f: (...args: never[]) => unknown) => void) | undefined;

const listers: Lister[] = [];
/** What the listers listed, from the first ask until another registers (their functions live on). */
let listed: ((...args: never[]) => unknown)[] | undefined;
/** Closures made per instance or per call, held weakly; undefined while no runtime wants them. */
let closures: WeakRef<object>[] | undefined;
/** How many of a runtime's uses want the list now (see wantPerEventCode). */
let wanted = 0;
/** Listers of closures per instance (see perEventClosuresOf), while a runtime wants them. */
let instances: Lister[] = [];
/** The most closures kept: the newest of each kind share their code with the older ones. */
const MAX_CLOSURES = 256;

/** Lists per-event functions that live as long as the module: called only when asked for. */
export function perEventCode(list: Lister): void {
  listers.push(list);
  listed = undefined;
  if (cap !== undefined) { for (const f of list()) if (typeof f === "function") cap(f as never); }
}

/**
 * Lists per-event closures (arrow fields, closures of a call), held weakly and only while a
 * runtime wants them (before it has asked for optimization): nothing is kept otherwise.
 */
export function perEventClosures(...functions: unknown[]): void {
  // Indexed loops, not for-of: a socket's construction calls this (Bun keeps its closures from
  // the first open), and for-of over an array is twice the bytecode, which JavaScriptCore makes
  // at the first call, in a one-shot script's setup.
  const kept = closures;
  for (let i = 0; i < functions.length; i++) {
    const f = functions[i];
    if (typeof f !== "function") continue;
    if (cap !== undefined) cap(f as never);
    if (kept !== undefined) kept.push(new WeakRef(f));
  }
  if (kept !== undefined && kept.length > MAX_CLOSURES) {
    kept.splice(0, kept.length - MAX_CLOSURES);
  }
}

/**
 * Lists the closures `list` finds in `instance` when asked (closures it makes per call, such as a
 * waiting step's), holding the instance weakly, only while a runtime wants the list. `list` must
 * not hold the instance (a static function, not a closure over it).
 */
export function perEventClosuresOf<T extends object>(
  instance: T,
  list: (of: T) => readonly unknown[],
): void {
  if (closures === undefined) return;
  const ref = new WeakRef(instance);
  instances.push(() => {
    const of = ref.deref();
    return of === undefined ? [] : list(of);
  });
  if (instances.length > MAX_CLOSURES) instances.splice(0, instances.length - MAX_CLOSURES);
}

/** The methods and accessors of a class's prototype. */
export function methodsOf(prototype: object): unknown[] {
  const out: unknown[] = [];
  for (const key of Object.getOwnPropertyNames(prototype)) {
    if (key === "constructor") continue;
    const d = Object.getOwnPropertyDescriptor(prototype, key)!;
    out.push(d.value, d.get, d.set);
  }
  return out;
}

/**
 * A runtime applies `apply` to every per-event function: those listed so far now, closures and
 * modules listed later as they are (Bun keeps them out of its top tier: ffi/_bun_jit.ts).
 */
export function capPerEventCode(apply: (f: (...args: never[]) => unknown) => void): void {
  cap = apply;
  for (const f of listPerEventCode()) apply(f);
}

/**
 * A runtime wants the list: per-event closures are kept (weakly) from now on, until each call of
 * this has been followed by one of {@linkcode stopPerEventCode}.
 */
export function wantPerEventCode(): void {
  wanted++;
  closures ??= [];
}

/** Every listed function alive now, each once. */
export function listPerEventCode(): ((...args: never[]) => unknown)[] {
  if (listed === undefined) {
    const found = new Set<unknown>();
    for (const list of listers) for (const f of list()) found.add(f);
    listed = functionsIn(found);
  }
  const out = new Set<unknown>(listed);
  for (const ref of closures ?? []) out.add(ref.deref());
  for (const list of instances) for (const f of list()) out.add(f);
  return functionsIn(out);
}

function functionsIn(values: Set<unknown>): ((...args: never[]) => unknown)[] {
  const out: ((...args: never[]) => unknown)[] = [];
  for (const f of values) if (typeof f === "function") out.push(f as (...args: never[]) => unknown);
  return out;
}

/** A use of the list is done: closures are no longer kept once every use is. */
export function stopPerEventCode(): void {
  if (wanted > 0 && --wanted > 0) return;
  closures = undefined;
  instances = [];
}
