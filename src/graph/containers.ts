/**
 * `nnx.List` and `nnx.Dict`: Modules that hold children by index or by name, as Flax 0.12's
 * `nnx.List` and `nnx.Dict`. Plain arrays and records are graph containers too (their paths are
 * the same: `layers.0.kernel`); these are for code written as Flax writes it, and for containers
 * that change inside a transform (`push` inside `nnx.jit` adds a layer to the model outside).
 *
 * A List's items are its attributes `0`, `1`, ... (numbers in paths and States, as in Flax); a
 * Dict's entries are its attributes, so `dict.get("encoder")` and `dict["encoder"]` are the same.
 *
 * ```ts
 * class Stack extends nnx.Module {
 *   layers = new nnx.List([new nnx.Linear(2, 2, { rngs }), new nnx.Linear(2, 2, { rngs })])
 * }
 * ```
 *
 * @since 0.2.0
 */
import { ArgumentError } from "../backend/ArrayError.ts"
import { Module } from "./Module.ts"

const isIndex = (k: string): boolean => /^(?:0|[1-9]\d{0,8})$/.test(k)

/**
 * A list of children as a Module (Flax's `nnx.List`): `at`, `set`, `push`, `pop`, `length`,
 * iteration, `map`. Negative indices count from the end, as Python's do.
 * @category models
 * @since 0.2.0
 */
export class List<A = unknown> extends Module {
  constructor(items: Iterable<A> = []) {
    super()
    let i = 0
    for (const item of items) Reflect.set(this, String(i++), item)
  }

  /** The number of items. */
  get length(): number {
    let n = 0
    while (Object.hasOwn(this, String(n))) n++
    return n
  }

  private index(i: number, op: string): number {
    const n = this.length
    const j = Number.isInteger(i) ? (i < 0 ? i + n : i) : NaN
    if (!(j >= 0 && j < n))
      throw new ArgumentError({ op: `List.${op}`, reason: `index ${i} is out of range for a List of length ${n}` })
    return j
  }

  /** The item at `i` (negative: from the end). */
  at(i: number): A {
    return Reflect.get(this, String(this.index(i, "at"))) as A
  }

  /** Replaces the item at `i` (negative: from the end). */
  set(i: number, value: A): void {
    Reflect.set(this, String(this.index(i, "set")), value)
  }

  /** Appends items; the new length. */
  push(...items: ReadonlyArray<A>): number {
    let n = this.length
    for (const item of items) Reflect.set(this, String(n++), item)
    return n
  }

  /** Removes and returns the last item (undefined when empty). */
  pop(): A | undefined {
    const n = this.length
    if (n === 0) return undefined
    const last = Reflect.get(this, String(n - 1)) as A
    Reflect.deleteProperty(this, String(n - 1))
    return last
  }

  /** The items as a JavaScript array. */
  toArray(): Array<A> {
    return Array.from({ length: this.length }, (_, i) => Reflect.get(this, String(i)) as A)
  }

  map<B>(f: (item: A, index: number) => B): Array<B> {
    return this.toArray().map(f)
  }

  [Symbol.iterator](): Iterator<A> {
    return this.toArray()[Symbol.iterator]()
  }
}

/**
 * Named children as a Module (Flax's `nnx.Dict`): `get`, `set`, `has`, `delete`, `keys`, `values`,
 * `entries`, `size`. Names are attributes (`dict["encoder"]`); they must not be indices (that is a
 * List) nor the names of these methods.
 * @category models
 * @since 0.2.0
 */
export class Dict<A = unknown> extends Module {
  constructor(entries: Readonly<Record<string, A>> = {}) {
    super()
    for (const [k, v] of Object.entries(entries)) this.set(k, v)
  }

  /** The entry named `key` (undefined when absent). */
  get(key: string): A | undefined {
    return Object.hasOwn(this, key) ? (Reflect.get(this, key) as A) : undefined
  }

  /** Adds or replaces the entry named `key`. */
  set(key: string, value: A): void {
    if (isIndex(key) || key in Dict.prototype) {
      throw new ArgumentError({
        op: "Dict.set",
        reason: `'${key}' cannot name an entry of an nnx.Dict (an index, or a method name); use nnx.List for indexed children`
      })
    }
    Reflect.set(this, key, value)
  }

  has(key: string): boolean {
    return Object.hasOwn(this, key)
  }

  /** Removes the entry named `key`; whether there was one. */
  delete(key: string): boolean {
    return Object.hasOwn(this, key) && Reflect.deleteProperty(this, key)
  }

  keys(): Array<string> {
    return Object.keys(this).sort()
  }

  values(): Array<A> {
    return this.keys().map((k) => Reflect.get(this, k) as A)
  }

  entries(): Array<[string, A]> {
    return this.keys().map((k) => [k, Reflect.get(this, k) as A])
  }

  get size(): number {
    return Object.keys(this).length
  }
}
