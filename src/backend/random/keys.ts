/**
 * PRNG keys: making them from seeds, deriving new ones (`split`, `foldIn`) and converting between
 * typed key arrays and their raw `uint32` words. Keys are threefry2x32 keys, as JAX's default
 * implementation, with `jax_threefry_partitionable` semantics.
 *
 * @since 0.1.0
 */
import type { Array } from "../Array.ts"
import { isArray } from "../Array.ts"
import { ArgumentError, DTypeError, ShapeError } from "../ArrayError.ts"
import * as lax from "../lax.ts"
import { array, fromScalar } from "../numpy/creation.ts"
import { sizeOf } from "../shape.ts"
import type { ShapeLike } from "./shapes.ts"
import { unitShape } from "./shapes.ts"

const describe = (u: unknown): string =>
  isArray(u) ? u.dtype : u === null ? "null" : globalThis.Array.isArray(u) ? "a JavaScript array" : typeof u

const show = (s: ReadonlyArray<number>): string => `(${s.join(", ")}${s.length === 1 ? "," : ""})`

/**
 * Checks that `key` is a typed PRNG key array; unless `allowBatched`, also that it is a single
 * (scalar) key, as JAX's samplers require.
 */
export const checkKey = (op: string, key: unknown, allowBatched = false): Array => {
  if (!isArray(key) || key.dtype !== "key<fry>") {
    throw new DTypeError({
      op,
      dtypes: [describe(key)],
      reason:
        "expected a PRNG key array (make one with random.key(seed), or random.wrapKeyData for raw uint32 key data)"
    })
  }
  if (!allowBatched && key.ndim !== 0) {
    throw new ShapeError({
      op,
      shapes: [key.shape],
      reason: `accepts a single key, but was given a key array of shape ${show(key.shape)}; use vmap for batches of keys`
    })
  }
  return key
}

/** The two words of a scalar key, each reshaped to rank `rank` with unit dimensions. */
const keyWords = (key: Array, rank: number): readonly [Array, Array] => {
  const data = lax.randomUnwrap(key)
  const unit = unitShape(rank)
  return [lax.reshape(lax.slice(data, [0], [1]), unit), lax.reshape(lax.slice(data, [1], [2]), unit)]
}

/**
 * Threefry in counter mode: encrypts the counters `0, 1, ..., size - 1` (laid out row-major in
 * `shape`, as the low words of 64-bit counters whose high words are 0) under a scalar key. Returns
 * both output words, each of `shape`.
 */
export const hashCounters = (key: Array, shape: ReadonlyArray<number>): readonly [Array, Array] => {
  const [k1, k2] = keyWords(key, shape.length)
  const hi = lax.reshape(fromScalar(0, "uint32"), unitShape(shape.length))
  const lo = lax.reshape(lax.iota("uint32", [sizeOf(shape)]), shape)
  return lax.threefry2x32(k1, k2, hi, lo)
}

/** Stacks two uint32 arrays of equal shape along a new last axis and wraps them as keys. */
const wrapPair = (w1: Array, w2: Array): Array => {
  const n = w1.ndim
  return lax.randomWrap(lax.concatenate([lax.expandDims(w1, [n]), lax.expandDims(w2, [n])], n))
}

/** A 32-bit word as a scalar uint32 array: int32 arrays are reinterpreted bit for bit. */
const toWord = (op: string, what: string, x: Array): Array => {
  if (x.ndim !== 0) {
    throw new ShapeError({ op, shapes: [x.shape], reason: `${what} must be a scalar; use vmap for batches` })
  }
  if (x.dtype === "uint32") return x
  if (x.dtype === "int32") return lax.bitcastConvertType(x, "uint32")
  throw new DTypeError({ op, dtypes: [x.dtype], reason: `${what} must be an int32 or uint32 integer` })
}

/**
 * Makes a PRNG key from an integer seed, like `jax.random.key`. The key holds the seed's low 32
 * bits (a negative seed wraps around), as JAX does with 64-bit mode off.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * const k = random.key(0)
 * random.keyData(k).tolist() // [0, 0]
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const key = (seed: number | Array): Array => {
  const op = "random.key"
  if (typeof seed === "number") {
    if (!Number.isInteger(seed)) throw new ArgumentError({ op, reason: `the seed must be an integer, got ${seed}` })
    const lo = Number(BigInt.asUintN(32, BigInt(seed)))
    return lax.randomWrap(array([0, lo], { dtype: "uint32" }))
  }
  if (!isArray(seed))
    throw new ArgumentError({ op, reason: `the seed must be an integer or an integer Array, got ${describe(seed)}` })
  if (seed.dtype === "key<fry>")
    throw new DTypeError({ op, dtypes: [seed.dtype], reason: "accepts a seed, but was given a PRNG key" })
  const lo = toWord(op, "the seed", seed)
  return wrapPair(fromScalar(0, "uint32"), lo)
}

/**
 * The raw `uint32` words of a key array: shape `[...keys.shape, 2]`, like `jax.random.key_data`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.keyData(random.key(42)).tolist() // [0, 42]
 * ```
 * @category conversions
 * @since 0.1.0
 */
export const keyData = (keys: Array): Array => lax.randomUnwrap(checkKey("random.keyData", keys, true))

/**
 * Wraps raw key words (a `uint32` array whose last dimension is 2) as a key array, like
 * `jax.random.wrap_key_data`; the inverse of {@link keyData}.
 *
 * @example
 * ```ts
 * import { jnp, random } from "effect-nnx"
 *
 * const k = random.wrapKeyData(jnp.array([0, 42], { dtype: "uint32" }))
 * random.keyData(k).tolist() // [0, 42]
 * ```
 * @category conversions
 * @since 0.1.0
 */
export const wrapKeyData = (data: Array): Array => {
  const op = "random.wrapKeyData"
  if (!isArray(data) || data.dtype !== "uint32") {
    throw new DTypeError({ op, dtypes: [describe(data)], reason: "key data must be a uint32 Array" })
  }
  if (data.shape[data.ndim - 1] !== 2) {
    throw new ShapeError({ op, shapes: [data.shape], reason: "threefry key data must end in a dimension of size 2" })
  }
  return lax.randomWrap(data)
}

/**
 * Splits a key into new independent keys, like `jax.random.split`: `num` keys (a key array of
 * shape `[num]`), or a key array of shape `num` when `num` is a list. The key must be a single key;
 * split a batch of keys with `vmap`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.keyData(random.split(random.key(0), 3)).tolist()
 * // [[1797259609, 2579123966], [928981903, 3453687069], [4146024105, 2718843009]]
 * ```
 * @category derivation
 * @since 0.1.0
 */
export const split = (key: Array, num: ShapeLike = 2): Array => {
  const op = "random.split"
  const k = checkKey(op, key)
  const shape = typeof num === "number" ? [num] : num
  if (!globalThis.Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ArgumentError({
      op,
      reason: `num must be a non-negative integer or a list of them, got ${JSON.stringify(num)}`
    })
  }
  const [w1, w2] = hashCounters(k, shape)
  return wrapPair(w1, w2)
}

/**
 * Derives a new key from a key and a 32-bit integer, like `jax.random.fold_in`: the same key and
 * data always give the same result, and different data give independent keys.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * const stepKey = random.foldIn(random.key(0), 7)
 * random.keyData(stepKey).tolist() // [2716826189, 292468403]
 * ```
 * @category derivation
 * @since 0.1.0
 */
export const foldIn = (key: Array, data: number | Array): Array => {
  const op = "random.foldIn"
  const k = checkKey(op, key)
  let word: Array
  if (typeof data === "number") {
    if (!Number.isInteger(data) || data < 0 || data > 0xffffffff) {
      throw new ArgumentError({ op, reason: `data must be an integer in [0, 2^32), got ${data}` })
    }
    word = fromScalar(data, "uint32")
  } else if (isArray(data)) {
    word = toWord(op, "data", data)
  } else {
    throw new ArgumentError({ op, reason: `data must be an integer or an integer Array, got ${describe(data)}` })
  }
  const [k1, k2] = keyWords(k, 0)
  const [w1, w2] = lax.threefry2x32(k1, k2, fromScalar(0, "uint32"), word)
  return wrapPair(w1, w2)
}

/** The two halves of `split(key)` as scalar keys. @internal */
export const splitTwo = (key: Array): readonly [Array, Array] => {
  const [w1, w2] = hashCounters(key, [2])
  const pick = (i: number): Array =>
    wrapPair(lax.reshape(lax.slice(w1, [i], [i + 1]), []), lax.reshape(lax.slice(w2, [i], [i + 1]), []))
  return [pick(0), pick(1)]
}
