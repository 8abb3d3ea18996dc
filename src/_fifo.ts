/**
 * A first-in first-out queue with O(1) shift: Array.prototype.shift is O(n), and a dump queue
 * can hold 100,000 messages.
 *
 * @module
 */

/**
 * FIFO of T; given `weigh`, it also keeps the sum of what its items weigh (their bytes), for a
 * cap in bytes beside the cap in items. One class, without `super` calls, and the rare compaction
 * apart: a `for await` step's queue pushes and shifts an event's later datagrams, and Bun's
 * JavaScriptCore inlines only small methods into their callers (a subclass's push and shift
 * calling the base's were 123 and 140 bytes of bytecode, the base's shift 479: none inlined).
 */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  readonly #weigh: ((item: T) => number) | undefined;
  #weight = 0;

  /** @param weigh What an item weighs; asked when it is pushed and again when it is shifted. */
  constructor(weigh?: (item: T) => number) {
    this.#weigh = weigh;
  }

  /**
   * Number of queued items. A field kept by push() and shift() (read it, never set it), not a
   * getter: a `for await` monitor's stream asks it some 6 times per event, each a call in the
   * runtimes' lower tiers.
   */
  length = 0;

  /** The sum of the queued items' weights (0 without `weigh`). */
  get weight(): number {
    return this.#weight;
  }

  /** Appends `item`. */
  push(item: T): void {
    if (this.#weigh !== undefined) this.#weight += this.#weigh(item);
    this.#items.push(item);
    this.length++;
  }

  /** Removes and returns the oldest item, or undefined when empty. */
  shift(): T | undefined {
    const items = this.#items;
    const head = this.#head;
    if (head === items.length) return undefined;
    const item = items[head] as T;
    items[head] = undefined;
    this.length--;
    if (head + 1 === items.length) {
      items.length = 0;
      this.#head = 0;
    } else if ((this.#head = head + 1) >= 1024 && 2 * head >= items.length) {
      this.#compact();
    }
    if (this.#weigh !== undefined) this.#weight -= this.#weigh(item);
    return item;
  }

  /** Drops the consumed prefix (most of the array). */
  #compact(): void {
    this.#items = this.#items.slice(this.#head);
    this.#head = 0;
  }

  /** The oldest item (the next {@linkcode shift} returns it), or undefined when empty. */
  get first(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  /** The newest item, or undefined when empty. */
  get last(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#items.length - 1] : undefined;
  }

  /** Removes every item. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#weight = 0;
    this.length = 0;
  }
}
