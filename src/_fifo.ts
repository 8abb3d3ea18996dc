/**
 * A first-in first-out queue with O(1) shift: Array.prototype.shift is O(n), and a dump queue
 * can hold 100,000 messages.
 *
 * @module
 */

/** FIFO of T. */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** Number of queued items. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Appends `item`. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** Removes and returns the oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      // Drop the consumed prefix once it is most of the array.
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** The oldest item (the next {@linkcode shift} returns it), or undefined when empty. */
  get first(): T | undefined {
    return this.length ? this.#items[this.#head] : undefined;
  }

  /** The newest item, or undefined when empty. */
  get last(): T | undefined {
    return this.length ? this.#items[this.#items.length - 1] : undefined;
  }

  /** Removes every item. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}

/**
 * A {@linkcode Fifo} that also keeps the sum of what its items weigh (their bytes), for a cap in
 * bytes beside the cap in items.
 */
export class WeighedFifo<T> extends Fifo<T> {
  readonly #weigh: (item: T) => number;
  #weight = 0;

  /** @param weigh What an item weighs; asked when it is pushed and again when it is shifted. */
  constructor(weigh: (item: T) => number) {
    super();
    this.#weigh = weigh;
  }

  /** The sum of the queued items' weights. */
  get weight(): number {
    return this.#weight;
  }

  override push(item: T): void {
    this.#weight += this.#weigh(item);
    super.push(item);
  }

  override shift(): T | undefined {
    const wasEmpty = this.length === 0;
    const item = super.shift();
    if (!wasEmpty) this.#weight -= this.#weigh(item!);
    return item;
  }

  override clear(): void {
    this.#weight = 0;
    super.clear();
  }
}
