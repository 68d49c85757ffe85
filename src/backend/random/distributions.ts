/**
 * Samplers of the common distributions: uniform, normal, truncated normal, Bernoulli, uniform
 * integers and categorical. Each follows the algorithm of its `jax.random` counterpart step by
 * step, so the same key gives the same sample as JAX (bit for bit for integers, up to float32
 * rounding of the special functions for floats).
 *
 * @since 0.1.0
 */
import type { Array } from "../Array.ts"
import { isArray } from "../Array.ts"
import { ArgumentError, DTypeError, ShapeError } from "../ArrayError.ts"
import type { NumericDType } from "../DType.ts"
import * as lax from "../lax.ts"
import { fromScalar } from "../numpy/creation.ts"
import { broadcastShapes, normalizeAxis } from "../shape.ts"
import { randomBits } from "./bits.ts"
import { checkKey, splitTwo } from "./keys.ts"
import type { ShapeLike } from "./shapes.ts"
import { alignParam, canonicalShape, checkParamShapes, filled } from "./shapes.ts"

const f32 = Math.fround
const SQRT2 = f32(Math.SQRT2)
/** The smallest positive normal float32. */
const TINY = 2 ** -126
/** The float32 just above -1 (`nextafter(-1, 0)`). */
const ABOVE_MINUS_ONE = -1 + 2 ** -24

const shapeOf = (v: number | Array): ReadonlyArray<number> => (typeof v === "number" ? [] : v.shape)

const checkFloatDType = (op: string, dtype: NumericDType | undefined): void => {
  if (dtype !== undefined && dtype !== "float32") {
    throw new DTypeError({ op, dtypes: [String(dtype)], reason: "dtype must be a floating dtype (float32)" })
  }
}

/** A float parameter as a float32 array (numbers and integer arrays are converted). */
const toFloat = (op: string, what: string, v: number | Array): Array => {
  if (typeof v === "number") return fromScalar(v, "float32")
  if (!isArray(v)) throw new ArgumentError({ op, reason: `${what} must be a number or an Array` })
  if (v.dtype === "key<fry>")
    throw new DTypeError({ op, dtypes: [v.dtype], reason: `${what} must be numeric, not a PRNG key` })
  return lax.convertElementType(v, "float32")
}

/**
 * Uniform float32 samples in `[minval, maxval)` from a checked key: 23 random mantissa bits under
 * the exponent of 1 give a float in `[1, 2)`, which is shifted and scaled. `minval` and `maxval`
 * are float32 arrays that broadcast to `shape`.
 */
const sampleUniform = (op: string, key: Array, shape: ReadonlyArray<number>, minval: Array, maxval: Array): Array => {
  const lo = alignParam(op, minval, shape)
  const hi = alignParam(op, maxval, shape)
  const raw = randomBits(key, shape)
  const mantissa = lax.shiftRightLogical(raw, filled(32 - 23, "uint32", shape))
  const oneToTwo = lax.bitcastConvertType(lax.bitwiseOr(mantissa, filled(0x3f800000, "uint32", shape)), "float32")
  const unit = lax.sub(oneToTwo, filled(1, "float32", shape))
  return lax.max(lo, lax.add(lax.mul(unit, lax.sub(hi, lo)), lo))
}

/**
 * Options of the float samplers.
 * @category models
 * @since 0.1.0
 */
export interface FloatOptions {
  /** The sample dtype; only `float32` is supported (the default). */
  readonly dtype?: NumericDType | undefined
}

/**
 * Options of {@link uniform}.
 * @category models
 * @since 0.1.0
 */
export interface UniformOptions extends FloatOptions {
  /** Inclusive lower bound, broadcast to the shape (default 0). */
  readonly minval?: number | Array | undefined
  /** Exclusive upper bound, broadcast to the shape (default 1). */
  readonly maxval?: number | Array | undefined
}

/**
 * Uniform random floats in `[minval, maxval)`, like `jax.random.uniform`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * const u = random.uniform(random.key(0), [2, 3], { minval: -1, maxval: 1 })
 * u.shape // [2, 3]
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const uniform = (key: Array, shape: ShapeLike = [], options?: UniformOptions): Array => {
  const op = "random.uniform"
  const k = checkKey(op, key)
  checkFloatDType(op, options?.dtype)
  const s = canonicalShape(op, shape)
  return sampleUniform(
    op,
    k,
    s,
    toFloat(op, "minval", options?.minval ?? 0),
    toFloat(op, "maxval", options?.maxval ?? 1)
  )
}

/**
 * Standard normal random floats, like `jax.random.normal`: `√2 · erf⁻¹(u)` for `u` uniform in
 * `(-1, 1)`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * const z = random.normal(random.key(0), [1000])
 * z.shape // [1000]
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const normal = (key: Array, shape: ShapeLike = [], options?: FloatOptions): Array => {
  const op = "random.normal"
  const k = checkKey(op, key)
  checkFloatDType(op, options?.dtype)
  const s = canonicalShape(op, shape)
  const u = sampleUniform(op, k, s, fromScalar(ABOVE_MINUS_ONE, "float32"), fromScalar(1, "float32"))
  return lax.mul(filled(SQRT2, "float32", s), lax.erfInv(u))
}

/**
 * Standard normal random floats truncated to the open interval `(lower, upper)`, like
 * `jax.random.truncated_normal` (inverse-CDF sampling). Without a shape, the result has the
 * broadcast shape of `lower` and `upper`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * const t = random.truncatedNormal(random.key(0), -1, 2, [5])
 * t.shape // [5]; every value in (-1, 2)
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const truncatedNormal = (
  key: Array,
  lower: number | Array,
  upper: number | Array,
  shape?: ShapeLike,
  options?: FloatOptions
): Array => {
  const op = "random.truncatedNormal"
  const k = checkKey(op, key)
  checkFloatDType(op, options?.dtype)
  const lo = toFloat(op, "lower", lower)
  const hi = toFloat(op, "upper", upper)
  const s = shape === undefined ? broadcastShapes(op, [lo.shape, hi.shape]) : canonicalShape(op, shape)
  checkParamShapes(op, s, [lo.shape, hi.shape])
  const erfScaled = (x: Array): Array => lax.erf(lax.div(x, filled(SQRT2, "float32", x.shape)))
  const u = sampleUniform(op, k, s, erfScaled(lo), erfScaled(hi))
  const out = lax.mul(filled(SQRT2, "float32", s), lax.erfInv(u))
  const above = lax.nextafter(lo, filled(Infinity, "float32", lo.shape))
  const below = lax.nextafter(hi, filled(-Infinity, "float32", hi.shape))
  return lax.min(alignParam(op, below, s), lax.max(alignParam(op, above, s), out))
}

/**
 * Bernoulli samples (booleans that are `true` with probability `p`), like `jax.random.bernoulli`.
 * Without a shape, the result has the shape of `p`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * const mask = random.bernoulli(random.key(0), 0.3, [4])
 * mask.dtype // "bool"
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const bernoulli = (key: Array, p: number | Array = 0.5, shape?: ShapeLike): Array => {
  const op = "random.bernoulli"
  const k = checkKey(op, key)
  if (isArray(p) && p.dtype !== "float32") {
    throw new DTypeError({ op, dtypes: [p.dtype], reason: "the probability p must have a floating dtype (float32)" })
  }
  const prob = toFloat(op, "p", p)
  const s = shape === undefined ? prob.shape : canonicalShape(op, shape)
  checkParamShapes(op, s, [prob.shape])
  const u = sampleUniform(op, k, s, fromScalar(0, "float32"), fromScalar(1, "float32"))
  return lax.lt(u, alignParam(op, prob, s))
}

/**
 * Options of {@link randint}.
 * @category models
 * @since 0.1.0
 */
export interface RandintOptions {
  /** The sample dtype: `int32` (default) or `uint32`. */
  readonly dtype?: NumericDType | undefined
}

type IntDType = "int32" | "uint32"
const INT_RANGE: { readonly [D in IntDType]: readonly [number, number] } = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1]
}

/**
 * A bound of `randint` in the sample dtype, clipped to its range (not wrapped), and whether it was
 * above the range (then the span grows by one, so the dtype's maximum can be drawn).
 */
const intBound = (
  op: string,
  what: string,
  v: number | Array,
  dtype: IntDType
): { readonly value: Array; readonly above: Array | boolean } => {
  const [lo, hi] = INT_RANGE[dtype]
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new ArgumentError({ op, reason: `${what} must be finite, got ${v}` })
    const t = Math.trunc(v)
    return { value: fromScalar(Math.min(hi, Math.max(lo, t)), dtype), above: t > hi }
  }
  if (!isArray(v)) throw new ArgumentError({ op, reason: `${what} must be a number or an Array` })
  if (v.dtype === "key<fry>")
    throw new DTypeError({ op, dtypes: [v.dtype], reason: `${what} must be numeric, not a PRNG key` })
  const x = v.dtype === "int32" || v.dtype === "uint32" ? v : lax.convertElementType(v, "int32")
  if (x.dtype === dtype) return { value: x, above: false }
  if (x.dtype === "int32") {
    // int32 → uint32: negatives clip to 0; every int32 fits below the uint32 maximum.
    return { value: lax.bitcastConvertType(lax.max(x, filled(0, "int32", x.shape)), "uint32"), above: false }
  }
  // uint32 → int32: values above 2^31 - 1 clip to it.
  const cap = filled(2 ** 31 - 1, "uint32", x.shape)
  return { value: lax.bitcastConvertType(lax.min(x, cap), "int32"), above: lax.gt(x, cap) }
}

/**
 * Uniform random integers in `[minval, maxval)`, like `jax.random.randint`. When `maxval <=
 * minval` every sample is `minval`. Bounds outside the dtype's range are clipped to it. As in JAX,
 * the sample is `minval + (64 random bits mod span)`, which is very slightly biased when the span
 * is not a power of two.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * const dice = random.randint(random.key(0), [10], 1, 7)
 * dice.dtype // "int32"
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const randint = (
  key: Array,
  shape: ShapeLike,
  minval: number | Array,
  maxval: number | Array,
  options?: RandintOptions
): Array => {
  const op = "random.randint"
  const k = checkKey(op, key)
  const dtype = options?.dtype ?? "int32"
  if (dtype !== "int32" && dtype !== "uint32") {
    throw new DTypeError({ op, dtypes: [dtype], reason: "dtype must be an integer dtype (int32 or uint32)" })
  }
  const s = canonicalShape(op, shape)
  checkParamShapes(op, s, [shapeOf(minval), shapeOf(maxval)])
  const lo = intBound(op, "minval", minval, dtype)
  const hi = intBound(op, "maxval", maxval, dtype)
  const mn = alignParam(op, lo.value, s)
  const mx = alignParam(op, hi.value, s)

  const [k1, k2] = splitTwo(k)
  const higher = randomBits(k1, s)
  const lower = randomBits(k2, s)

  const diff = lax.sub(mx, mn)
  let span = dtype === "int32" ? lax.bitcastConvertType(diff, "uint32") : diff
  span = lax.select(lax.le(mx, mn), filled(1, "uint32", s), span)
  if (hi.above !== false) {
    const grow = hi.above === true ? lax.gt(mx, mn) : lax.bitwiseAnd(alignParam(op, hi.above, s), lax.gt(mx, mn))
    span = lax.select(grow, lax.add(span, filled(1, "uint32", s)), span)
  }
  // 2^32 mod span, as ((2^16 mod span)^2) mod span, to combine the two 32-bit draws.
  let multiplier = lax.rem(filled(2 ** 16, "uint32", s), span)
  multiplier = lax.rem(lax.mul(multiplier, multiplier), span)
  const offset = lax.rem(lax.add(lax.mul(lax.rem(higher, span), multiplier), lax.rem(lower, span)), span)
  return lax.add(mn, dtype === "int32" ? lax.bitcastConvertType(offset, "int32") : offset)
}

/**
 * Options of {@link categorical}.
 * @category models
 * @since 0.1.0
 */
export interface CategoricalOptions {
  /** The axis of `logits` along which the categories lie (default -1). */
  readonly axis?: number | undefined
  /**
   * The sample shape; it must end with the batch shape of `logits` (its shape without `axis`),
   * or broadcast from it. Defaults to that batch shape.
   */
  readonly shape?: ShapeLike | undefined
}

/**
 * Samples category indices from unnormalized log-probabilities, like `jax.random.categorical`
 * (with replacement, by the Gumbel-max trick).
 *
 * @example
 * ```ts
 * import { jnp, random } from "effect-nnx"
 *
 * const logits = jnp.log(jnp.array([0.1, 0.2, 0.7]))
 * const idx = random.categorical(random.key(0), logits, { shape: [5] })
 * idx.dtype // "int32"
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const categorical = (key: Array, logits: Array, options?: CategoricalOptions): Array => {
  const op = "random.categorical"
  const k = checkKey(op, key)
  if (!isArray(logits)) throw new ArgumentError({ op, reason: "logits must be an Array" })
  if (logits.dtype !== "float32") {
    throw new DTypeError({ op, dtypes: [logits.dtype], reason: "logits must have a floating dtype (float32)" })
  }
  if (logits.ndim === 0)
    throw new ShapeError({ op, shapes: [logits.shape], reason: "logits must have at least one dimension" })
  const nd = logits.ndim
  const axis = normalizeAxis(op, options?.axis ?? -1, nd)
  const batchShape = logits.shape.filter((_, i) => i !== axis)
  const shape = options?.shape === undefined ? batchShape : canonicalShape(op, options.shape)
  checkParamShapes(op, shape, [batchShape])
  const prefix = shape.slice(0, shape.length - batchShape.length)
  const trailing = shape.slice(shape.length - batchShape.length)
  const noiseShape = [...prefix, ...trailing.slice(0, axis), logits.shape[axis]!, ...trailing.slice(axis)]

  // Gumbel noise, JAX's "low" mode: -log(-log(u)) with u uniform in [tiny, 1).
  const u = sampleUniform(op, k, noiseShape, fromScalar(TINY, "float32"), fromScalar(1, "float32"))
  const gumbel = lax.neg(lax.log(lax.neg(lax.log(u))))
  const expanded = lax.reshape(logits, [...prefix.map(() => 1), ...logits.shape])
  const scores = lax.add(gumbel, alignParam(op, expanded, noiseShape))
  return lax.argmax(scores, prefix.length + axis)
}
