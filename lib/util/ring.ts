/**
 * A fixed-size buffer that keeps the newest items and drops the oldest.
 *
 * Pool history and the recent-span store both sit on hot paths and must
 * never grow without bound, so they share this one small structure.
 *
 * @example
 * ```ts
 * import { Ring } from "./ring.ts";
 * const ring = new Ring<number>(2);
 * ring.push(1); ring.push(2); ring.push(3);
 * console.log(ring.toArray()); // [2, 3]
 * ```
 */
export class Ring<T> {
  readonly #items: (T | undefined)[];
  #next = 0;
  #size = 0;

  /** @param capacity how many items to keep; must be a positive integer */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Cannot create Ring as 'capacity' must be a positive integer: current value is ${capacity}`,
      );
    }
    this.#items = new Array(capacity);
  }

  /** How many items are held now. */
  get size(): number {
    return this.#size;
  }

  /** Adds an item, dropping the oldest when full. */
  push(item: T): void {
    this.#items[this.#next] = item;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
  }

  /** The items, oldest first. */
  toArray(): T[] {
    const start = (this.#next - this.#size + this.capacity) % this.capacity;
    const out: T[] = new Array(this.#size);
    for (let i = 0; i < this.#size; i++) {
      out[i] = this.#items[(start + i) % this.capacity] as T;
    }
    return out;
  }

  /** Drops every item. */
  clear(): void {
    this.#items.fill(undefined);
    this.#next = 0;
    this.#size = 0;
  }
}
