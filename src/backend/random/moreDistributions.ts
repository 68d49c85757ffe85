/**
 * More samplers of `jax.random`: Gumbel, exponential, Laplace, logistic, Pareto, Rayleigh, Weibull and
 * geometric (all transforms of the uniform), Maxwell (the length of a 3-d normal), Rademacher signs,
 * and `choice`. Each follows the formula of
 * its JAX 0.10 counterpart step by step on top of {@link uniform}, so the same key gives the same
 * bits before the final special function (`log`, `log1p`, `sqrt`, `pow`), and the same sample up to
 * that function's float32 rounding.
 *
 * @since 0.1.0
 */
import type { Array } from "../Array.ts"
import { isArray } from "../Array.ts"
import { ArgumentError, DTypeError, ShapeError } from "../ArrayError.ts"
import * as lax from "../lax.ts"
import { array, fromScalar, zeros } from "../numpy/creation.ts"
import { take } from "../numpy/indexing.ts"
import { broadcastShapes, normalizeAxis } from "../shape.ts"
import { bernoulli, normal, randint, uniform } from "./distributions.ts"
import type { FloatOptions } from "./distributions.ts"
import { checkKey } from "./keys.ts"
import { permutation } from "./permutation.ts"
import type { ShapeLike } from "./shapes.ts"
import { alignParam, canonicalShape, checkParamShapes, filled } from "./shapes.ts"

/** The smallest positive normal float32 (`finfo(float32).tiny`). */
const TINY = 2 ** -126
/** The float32 just above -1 (`-1 + finfo(float32).epsneg`). */
const ABOVE_MINUS_ONE = -1 + 2 ** -24

const checkFloatDType = (op: string, dtype: FloatOptions["dtype"]): void => {
  if (dtype !== undefined && dtype !== "float32") {
    throw new DTypeError({ op, dtypes: [String(dtype)], reason: "dtype must be a floating dtype (float32)" })
  }
}

/** Uniform float32 samples in `[minval, maxval)` after the checks every float sampler makes. */
const unit = (
  op: string,
  key: Array,
  shape: ShapeLike,
  options: FloatOptions | undefined,
  minval = 0,
  maxval = 1
): Array => {
  checkKey(op, key)
  checkFloatDType(op, options?.dtype)
  return uniform(key, canonicalShape(op, shape), { minval, maxval })
}

/**
 * A positive float parameter as float32. Plain numbers are checked here (a non-positive scale is a
 * mistake, which JAX would answer with NaN or negative samples); Arrays, which may be traced, are not.
 */
/** A positive scalar or a numeric Array parameter of a sampler, as float32. @internal */
export const positiveParam = (op: string, what: string, v: number | Array): Array => {
  if (typeof v === "number") {
    if (!(v > 0)) throw new ArgumentError({ op, reason: `${what} must be positive, got ${v}` })
    return fromScalar(v, "float32")
  }
  if (!isArray(v)) throw new ArgumentError({ op, reason: `${what} must be a number or an Array` })
  if (v.dtype === "key<fry>")
    throw new DTypeError({ op, dtypes: [v.dtype], reason: `${what} must be numeric, not a PRNG key` })
  return lax.convertElementType(v, "float32")
}

/** The sample shape of a sampler with parameters: `shape` if given (checked), else their broadcast shape. */
export const paramShape = (
  op: string,
  shape: ShapeLike | undefined,
  params: ReadonlyArray<Array>
): ReadonlyArray<number> => {
  const s =
    shape === undefined
      ? broadcastShapes(
          op,
          params.map((p) => p.shape)
        )
      : canonicalShape(op, shape)
  checkParamShapes(
    op,
    s,
    params.map((p) => p.shape)
  )
  return s
}

/**
 * Options of {@link gumbel}.
 * @category models
 * @since 0.1.0
 */
export interface GumbelOptions extends FloatOptions {
  /**
   * `"low"` (default) draws one uniform per sample, so the largest sample is about 16; `"high"` draws
   * two, pushing it to about 32 at twice the cost. JAX's `"highest"` is not supported.
   */
  readonly mode?: "low" | "high" | undefined
}

/**
 * Standard Gumbel samples, `-log(-log(u))`, like `jax.random.gumbel`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.gumbel(random.key(0), [3]).shape // [3]
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const gumbel = (key: Array, shape: ShapeLike = [], options?: GumbelOptions): Array => {
  const op = "random.gumbel"
  const mode = options?.mode ?? "low"
  if (mode !== "low" && mode !== "high")
    throw new ArgumentError({ op, reason: `mode must be "low" or "high", got ${JSON.stringify(mode)}` })
  if (mode === "low") {
    const u = unit(op, key, shape, options, TINY, 1)
    return lax.neg(lax.log(lax.neg(lax.log(u))))
  }
  const s = canonicalShape(op, shape)
  const both = unit(op, key, [2, ...s], options)
  const high = lax.reshape(lax.slice(both, [0, ...s.map(() => 0)], [1, ...s]), s)
  const low = lax.reshape(lax.slice(both, [1, ...s.map(() => 0)], [2, ...s]), s)
  // Below 0.5 the low draw fills in the bits under the high one; the guard keeps the sum below 1.
  const refined = lax.add(lax.add(high, lax.mul(filled(2 ** -23, "float32", s), low)), filled(TINY, "float32", s))
  const x = lax.select(lax.ge(high, filled(0.5, "float32", s)), high, refined)
  return lax.neg(lax.log(lax.neg(lax.log1p(lax.neg(x)))))
}

/**
 * Standard exponential samples, `-log(1 - u)`, like `jax.random.exponential`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.exponential(random.key(0), [3]).shape // [3]; every value >= 0
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const exponential = (key: Array, shape: ShapeLike = [], options?: FloatOptions): Array =>
  lax.neg(lax.log1p(lax.neg(unit("random.exponential", key, shape, options))))

/**
 * Standard Laplace samples, `sign(u) · log(1 - |u|)` for `u` uniform in `(-1, 1)`, like
 * `jax.random.laplace`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.laplace(random.key(0), [3]).shape // [3]
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const laplace = (key: Array, shape: ShapeLike = [], options?: FloatOptions): Array => {
  const u = unit("random.laplace", key, shape, options, ABOVE_MINUS_ONE, 1)
  return lax.mul(lax.sign(u), lax.log1p(lax.neg(lax.abs(u))))
}

/**
 * Standard logistic samples, `log(u) - log(1 - u)`, like `jax.random.logistic`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.logistic(random.key(0), [3]).shape // [3]
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const logistic = (key: Array, shape: ShapeLike = [], options?: FloatOptions): Array => {
  const u = unit("random.logistic", key, shape, options, TINY, 1)
  return lax.sub(lax.log(u), lax.log1p(lax.neg(u)))
}

/**
 * Pareto samples with shape parameter `b`, `exp(e / b)` for `e` standard exponential, like
 * `jax.random.pareto`. Without a shape, the result has the shape of `b`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.pareto(random.key(0), 3, [4]).shape // [4]; every value >= 1
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const pareto = (key: Array, b: number | Array, shape?: ShapeLike, options?: FloatOptions): Array => {
  const op = "random.pareto"
  const bb = positiveParam(op, "b", b)
  const s = paramShape(op, shape, [bb])
  const e = exponential(key, s, options)
  return lax.exp(lax.div(e, alignParam(op, bb, s)))
}

/**
 * Rayleigh samples with `scale`, `scale · sqrt(-2 log u)`, like `jax.random.rayleigh`. Without a
 * shape, the result has the shape of `scale`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.rayleigh(random.key(0), 2, [4]).shape // [4]
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const rayleigh = (key: Array, scale: number | Array, shape?: ShapeLike, options?: FloatOptions): Array => {
  const op = "random.rayleigh"
  const sc = positiveParam(op, "scale", scale)
  const s = paramShape(op, shape, [sc])
  const u = unit(op, key, s, options)
  return lax.mul(alignParam(op, sc, s), lax.sqrt(lax.mul(lax.log(u), filled(-2, "float32", s))))
}

/**
 * Weibull samples, `(-log(1 - u))^(1 / concentration) · scale`, like `jax.random.weibull_min`.
 * Without a shape, the result has the broadcast shape of `scale` and `concentration`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.weibullMin(random.key(0), 1, 2, [4]).shape // [4]
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const weibullMin = (
  key: Array,
  scale: number | Array,
  concentration: number | Array,
  shape?: ShapeLike,
  options?: FloatOptions
): Array => {
  const op = "random.weibullMin"
  const sc = positiveParam(op, "scale", scale)
  const c = positiveParam(op, "concentration", concentration)
  const s = paramShape(op, shape, [sc, c])
  const u = unit(op, key, s, options)
  const e = lax.neg(lax.log1p(lax.neg(u)))
  // JAX takes 1 / concentration in double precision for a Python number, then rounds it once.
  const power =
    typeof concentration === "number"
      ? filled(Math.fround(1 / concentration), "float32", s)
      : lax.div(filled(1, "float32", s), alignParam(op, c, s))
  return lax.mul(lax.pow(e, power), alignParam(op, sc, s))
}

/**
 * Maxwell samples, the length of a standard normal 3-vector, like `jax.random.maxwell`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.maxwell(random.key(0), [4]).shape // [4]
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const maxwell = (key: Array, shape: ShapeLike = [], options?: FloatOptions): Array => {
  const op = "random.maxwell"
  checkKey(op, key)
  checkFloatDType(op, options?.dtype)
  const s = canonicalShape(op, shape)
  const z = normal(key, [...s, 3])
  return lax.sqrt(lax.reduceSum(lax.mul(z, z), [s.length]))
}

/**
 * Geometric samples (the number of Bernoulli(`p`) trials up to the first success, so at least 1), as
 * int32, like `jax.random.geometric`: `floor(log(u) / log(1 - p)) + 1`. Without a shape, the result
 * has the shape of `p`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.geometric(random.key(0), 0.3, [4]).dtype // "int32"
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const geometric = (key: Array, p: number | Array, shape?: ShapeLike): Array => {
  const op = "random.geometric"
  checkKey(op, key)
  if (typeof p === "number" && !(p > 0 && p <= 1))
    throw new ArgumentError({ op, reason: `p must be in (0, 1], got ${p}` })
  const prob = positiveParam(op, "p", p)
  const s = paramShape(op, shape, [prob])
  const u0 = uniform(key, s)
  // JAX maps u = 0 to 1 (a sample of 1) rather than take log(0).
  const u = lax.select(lax.eq(u0, filled(0, "float32", s)), filled(1, "float32", s), u0)
  const logOneMinusP = alignParam(op, lax.log1p(lax.neg(prob)), s)
  const g = lax.add(lax.floor(lax.div(lax.log(u), logOneMinusP)), filled(1, "float32", s))
  return lax.convertElementType(g, "int32")
}

/**
 * Random signs, -1 or 1 with equal probability, as int32, like `jax.random.rademacher`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.rademacher(random.key(0), [4]).dtype // "int32"
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const rademacher = (key: Array, shape: ShapeLike = []): Array => {
  const op = "random.rademacher"
  checkKey(op, key)
  const s = canonicalShape(op, shape)
  const b = lax.convertElementType(bernoulli(key, 0.5, s), "int32")
  return lax.sub(lax.mul(filled(2, "int32", s), b), filled(1, "int32", s))
}

/**
 * Options of {@link choice}.
 * @category models
 * @since 0.1.0
 */
export interface ChoiceOptions {
  /** Draw with replacement (default `true`). */
  readonly replace?: boolean | undefined
  /** Probabilities of the entries (a vector as long as the population); uniform when omitted. */
  readonly p?: Array | ReadonlyArray<number> | undefined
  /** The axis of `a` whose slices are the population (default 0). */
  readonly axis?: number | undefined
}

/**
 * A random sample of the entries of `a` (of `0, ..., a - 1` when `a` is an integer), like
 * `jax.random.choice`: `shape` draws, with or without replacement, uniform or weighted by `p`. For an
 * array, the draws replace `axis` in its shape.
 *
 * Uniform draws with replacement are `randint` indices; without replacement, the first slices of a
 * `permutation`; weighted with replacement, inverse-CDF search of a uniform in the cumulative sum of
 * `p`; weighted without replacement, the Gumbel top-k trick — each step as in JAX.
 *
 * @example
 * ```ts
 * import { jnp, random } from "effect-nnx"
 *
 * random.choice(random.key(0), 10, [3], { replace: false }).tolist() // three distinct indices
 * random.choice(random.key(1), jnp.array([1, 2, 3]), [5], { p: [0.2, 0.3, 0.5] }).shape // [5]
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const choice = (key: Array, a: number | Array, shape: ShapeLike = [], options?: ChoiceOptions): Array => {
  const op = "random.choice"
  const k = checkKey(op, key)
  const s = canonicalShape(op, shape)
  const replace = options?.replace ?? true
  let arr: Array | undefined
  let n: number
  let axis = 0
  if (typeof a === "number") {
    if (!Number.isInteger(a)) throw new ArgumentError({ op, reason: `a must be an integer or an Array, got ${a}` })
    n = a
  } else {
    if (!isArray(a)) throw new ArgumentError({ op, reason: "a must be an integer or an Array" })
    if (a.ndim === 0) {
      if (a.dtype !== "int32" && a.dtype !== "uint32")
        throw new DTypeError({ op, dtypes: [a.dtype], reason: "a scalar a must be an integer" })
      n = Number(a.item())
    } else {
      arr = a
      axis = normalizeAxis(op, options?.axis ?? 0, a.ndim)
      n = a.shape[axis]!
    }
  }
  const draws = s.reduce((x, y) => x * y, 1)
  const outShape = arr === undefined ? s : [...arr.shape.slice(0, axis), ...s, ...arr.shape.slice(axis + 1)]
  if (draws === 0)
    return zeros(outShape, { dtype: arr === undefined || arr.dtype === "key<fry>" ? "int32" : arr.dtype })
  if (n <= 0)
    throw new ArgumentError({
      op,
      reason: `the population must not be empty unless no samples are taken, got ${n} entries`
    })
  if (!replace && draws > n) {
    throw new ArgumentError({
      op,
      reason: `cannot take a larger sample (size ${draws}) than the population (size ${n}) without replacement; pass replace: true`
    })
  }
  const pick = (indices: Array): Array =>
    arr === undefined ? lax.reshape(indices, s) : lax.reshape(take(arr, lax.reshape(indices, [draws]), axis), outShape)

  if (options?.p === undefined) {
    if (replace) return pick(randint(k, s, 0, n))
    if (arr === undefined) return lax.reshape(lax.slice(permutation(k, n), [0], [draws]), s)
    const perm = permutation(k, arr, { axis })
    return lax.slice(
      perm,
      perm.shape.map(() => 0),
      perm.shape.map((d, i) => (i === axis ? draws : d))
    )
  }
  const p = isArray(options.p) ? lax.convertElementType(options.p, "float32") : array(options.p, { dtype: "float32" })
  if (p.ndim !== 1 || p.shape[0] !== n) {
    throw new ShapeError({
      op,
      shapes: [p.shape, [n]],
      reason: `p must be a vector as long as the population (${n} entries)`
    })
  }
  if (replace) {
    const cumulative = lax.cumsum(p, 0)
    const total = lax.reshape(lax.slice(cumulative, [n - 1], [n]), [])
    const u = uniform(k, s)
    const r = lax.mul(
      lax.reshape(
        total,
        s.map(() => 1)
      ),
      lax.sub(filled(1, "float32", s), u)
    )
    // searchsorted (left): the number of cumulative sums below each draw.
    const rs = lax.reshape(r, [draws, 1])
    const below = lax.convertElementType(lax.lt(lax.reshape(cumulative, [1, n]), rs), "int32")
    return pick(lax.reduceSum(below, [1]))
  }
  const g = lax.add(gumbel(k, [n]), lax.log(p))
  return pick(lax.topK(g, draws)[1])
}
