/**
 * The cache key of a jitted call, shared by the core `jit` and `nnx.jit`, and the bounded cache
 * both keep their compiled signatures in.
 *
 * A signature is the pytree structure of the dynamic arguments, each dynamic leaf's aval (dtype,
 * weak type, shape) and the static values. Static values are compared as data (their JSON form),
 * except functions, which are compared by identity: two different closures that happen to share a
 * `name` (every arrow function assigned to `const step` is called `step`) are different keys, as in
 * JAX where static arguments are hashed and a function hashes by identity.
 *
 * @since 0.2.0
 */
import type { Aval } from "../../backend/DType.ts"
import { StructureError } from "./TransformError.ts"

/** Each function seen as a static value gets a number of its own, for as long as it lives. */
const functionIds = new WeakMap<object, number>()
let nextFunctionId = 0

/** A key for `fn` that is equal for the same function object and different for any other. */
const functionKey = (fn: object): string => {
  let id = functionIds.get(fn)
  if (id === undefined) {
    id = nextFunctionId++
    functionIds.set(fn, id)
  }
  return `F#${id}`
}

/** The key of one aval. */
export const avalKey = (a: Aval): string => `${a.dtype}${a.weakType ? "~" : ""}[${a.shape.join(",")}]`

/**
 * The key of one static value: functions by identity (also inside records and lists), everything
 * else by its JSON form. A cyclic value cannot be a key and is a `StructureError` of `transform`.
 */
export const staticKey = (transform: string, v: unknown): string => {
  if (typeof v === "function") return functionKey(v)
  if (v === undefined) return "undefined"
  try {
    return (
      JSON.stringify(v, (_k, x: unknown) =>
        typeof x === "function"
          ? functionKey(x)
          : typeof x === "bigint"
            ? `${x}n`
            : x === undefined
              ? "\u0000undefined"
              : // JSON writes NaN and the infinities as null and -0 as 0: keep them apart.
                typeof x === "number" && (!Number.isFinite(x) || Object.is(x, -0))
                ? `\u0000${Object.is(x, -0) ? "-0" : String(x)}`
                : x
      ) ?? String(v)
    )
  } catch {
    throw new StructureError({
      transform,
      reason: "a static argument is not serialisable (cyclic?); static arguments must be plain data or functions"
    })
  }
}

/** What a signature is made of; `statics` are already keyed (see {@link staticKey}). */
export interface Signature {
  readonly treedef: string
  readonly avals: ReadonlyArray<Aval>
  readonly statics: ReadonlyArray<string>
}

/** The key of a signature. */
export const signatureKey = (s: Signature): string =>
  `${s.treedef}|${s.avals.map(avalKey).join(";")}|${s.statics.join(";")}`

/** The default bound of a jit cache: how many signatures it keeps. */
export const defaultMaxCacheSize = 64

/**
 * A cache of at most `maxSize` entries that evicts the least recently used one. A `Map` iterates in
 * insertion order, so re-inserting on every hit keeps the oldest entry first.
 */
export interface LruCache<V> {
  readonly get: (key: string) => V | undefined
  readonly set: (key: string, value: V) => void
  readonly size: () => number
  readonly clear: () => void
}

/** A new cache bounded to `maxSize` entries; anything but a positive integer is a `StructureError` of `transform`. */
export const makeLruCache = <V>(transform: string, maxSize: number): LruCache<V> => {
  if (!(Number.isInteger(maxSize) && maxSize >= 1)) {
    throw new StructureError({ transform, reason: `maxCacheSize must be a positive integer, got ${String(maxSize)}` })
  }
  const entries = new Map<string, V>()
  return {
    get: (key) => {
      const v = entries.get(key)
      if (v !== undefined) {
        entries.delete(key)
        entries.set(key, v)
      }
      return v
    },
    set: (key, value) => {
      entries.delete(key)
      entries.set(key, value)
      while (entries.size > maxSize) entries.delete(entries.keys().next().value as string)
    },
    size: () => entries.size,
    clear: () => entries.clear()
  }
}
