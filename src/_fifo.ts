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
