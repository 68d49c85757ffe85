/**
 * The gamma family of `jax.random`: `gamma`, `loggamma`, and what JAX builds on them: `beta`,
 * `dirichlet`, `chisquare` and Student's `t`.
 *
 * JAX draws each gamma sample with Marsaglia and Tsang's rejection method, one element at a time: the
 * key is split into one key per element, and each element runs its own loop, splitting its key once per
 * try (a normal and a uniform per try, and an inner loop redrawing the normal while `1 + c·x ≤ 0`). The
 * loops here consume keys in the same order, as `whileLoop`s under `vmap` over the elements, so the same
 * key accepts the same tries and gives JAX's samples up to the float32 rounding of `log`, `pow` and
 * `sqrt` (a try that lands within a rounding error of the acceptance boundary could in principle go the
 * other way).
 *
 * Shape parameters `a < 1` are boosted as in JAX: `Gamma(a) = Gamma(a + 1) · U^(1/a)`, in log space for
 * `loggamma`, which keeps tiny `a` from underflowing to 0.
 *
 * Samples are not differentiable with respect to the shape parameter (JAX's implicit reparameterisation
 * needs the derivative of the incomplete gamma function, which this array core lacks): `grad` through
 * them reports that `whileLoop` has no reverse-mode rule.
 *
 * @since 0.1.0
 */
import type { Array } from "../Array.ts"
import { isArray } from "../Array.ts"
import { ArgumentError, DTypeError, ShapeError } from "../ArrayError.ts"
import * as lax from "../lax.ts"
import { fromScalar } from "../numpy/creation.ts"
import { checkOptionKeys } from "../numpy/options.ts"
import { softmax } from "../numpy/nn.ts"
import { vmap } from "../../transforms/core/batching.ts"
import { whileLoop } from "../../transforms/core/controlFlow.ts"
import { normal, uniform } from "./distributions.ts"
import type { FloatOptions } from "./distributions.ts"
import { checkKey, split } from "./keys.ts"
import { exponential, paramShape, positiveParam } from "./moreDistributions.ts"
import type { ShapeLike } from "./shapes.ts"
import { canonicalShape, checkParamShapes } from "./shapes.ts"

/** `options` of a float sampler: a plain object whose only key is `dtype`, which must be float32. */
const checkFloatOptions = (op: string, options: FloatOptions | undefined): void => {
  checkOptionKeys(op, options, ["dtype"])
  checkFloatDType(op, options?.dtype)
}

const checkFloatDType = (op: string, dtype: FloatOptions["dtype"]): void => {
  if (dtype !== undefined && dtype !== "float32") {
    throw new DTypeError({ op, dtypes: [String(dtype)], reason: "dtype must be a floating dtype (float32)" })
  }
}

const broadcastParam = (p: Array, shape: ReadonlyArray<number>): Array =>
  lax.broadcastInDim(
    p,
    shape,
    p.shape.map((_, i) => shape.length - p.ndim + i)
  )

const c32 = (v: number): Array => fromScalar(v, "float32")

/** The `i`-th of a 1-d array of keys. */
const keyAt = (keys: Array, i: number): Array => lax.reshape(lax.slice(keys, [i], [i + 1]), [])

/** One Marsaglia–Tsang sample for a scalar key and shape parameter, in JAX's key order. */
const gammaOne =
  (logSpace: boolean) =>
  (key: Array, alphaIn: Array): Array => {
    const one = c32(1)
    const boost = lax.ge(alphaIn, one)
    const alpha = lax.select(boost, alphaIn, lax.add(alphaIn, one))
    const d = lax.sub(alpha, c32(1 / 3))
    const c = lax.div(c32(1 / 3), lax.sqrt(d))

    type State = readonly [Array, Array, Array, Array]
    // Keep trying while the try is rejected; (X, V, U) = (0, 1, 2) makes the first test fail.
    const rejected = ([, X, V, U]: State): Array =>
      lax.bitwiseAnd(
        lax.ge(U, lax.sub(one, lax.mul(c32(0.0331), lax.mul(X, X)))),
        lax.ge(lax.log(U), lax.add(lax.mul(X, c32(0.5)), lax.mul(d, lax.add(lax.sub(one, V), lax.log(V)))))
      )
    const tryOnce = ([k]: State): State => {
      const keys = split(k, 3)
      const [next, xKey, uKey] = [keyAt(keys, 0), keyAt(keys, 1), keyAt(keys, 2)]
      type Inner = readonly [Array, Array, Array]
      const [, x, v] = whileLoop(
        ([, , v]: Inner) => lax.le(v, c32(0)),
        ([kk]: Inner): Inner => {
          const ks = split(kk, 2)
          const xx = normal(keyAt(ks, 1), [])
          return [keyAt(ks, 0), xx, lax.add(one, lax.mul(xx, c))] as const
        },
        [xKey, c32(0), c32(-1)] as Inner
      )
      return [next, lax.mul(x, x), lax.mul(lax.mul(v, v), v), uniform(uKey, [])] as const
    }
    const keys = split(key, 2)
    const [, , V] = whileLoop(rejected, tryOnce, [keyAt(keys, 0), c32(0), one, c32(2)] as State)
    const sub = keyAt(keys, 1)
    if (logSpace) {
      const logU = lax.neg(exponential(sub, []))
      const logBoost = lax.select(
        lax.bitwiseOr(boost, lax.eq(logU, c32(0))),
        c32(0),
        lax.mul(logU, lax.div(one, alphaIn))
      )
      return lax.add(lax.add(lax.log(d), lax.log(V)), logBoost)
    }
    const u = lax.sub(one, uniform(sub, []))
    const scale = lax.select(boost, one, lax.pow(u, lax.div(one, alphaIn)))
    return lax.mul(lax.mul(d, V), scale)
  }

/** Gamma (or log-gamma) samples of `shape` for a shape parameter already broadcast to it. */
const gammaSamples = (key: Array, a: Array, logSpace: boolean): Array => {
  const size = a.shape.reduce((p, d) => p * d, 1)
  if (size === 0) return a
  const keys = split(key, size)
  const flat = vmap(gammaOne(logSpace))(keys, lax.reshape(a, [size])) as Array
  return lax.reshape(flat, a.shape)
}

const gammaLike =
  (op: string, logSpace: boolean) =>
  (key: Array, a: number | Array, shape?: ShapeLike, options?: FloatOptions): Array => {
    const k = checkKey(op, key)
    checkFloatOptions(op, options)
    const alpha = positiveParam(op, "a", a)
    const s = paramShape(op, shape, [alpha])
    return gammaSamples(k, broadcastParam(alpha, s), logSpace)
  }

/**
 * Standard gamma samples with shape parameter `a` (unit rate; divide by a rate to rescale), like
 * `jax.random.gamma`. Without a shape, the result has the shape of `a`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.gamma(random.key(0), 2, [3]).shape // [3]; every value > 0
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const gamma: (key: Array, a: number | Array, shape?: ShapeLike, options?: FloatOptions) => Array = gammaLike(
  "random.gamma",
  false
)

/**
 * The logarithm of standard gamma samples, computed in log space so a tiny `a` does not underflow to
 * `log(0)`, like `jax.random.loggamma`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.loggamma(random.key(0), 0.01, [3]).shape // [3]; finite though exp() of them is ~0
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const loggamma: (key: Array, a: number | Array, shape?: ShapeLike, options?: FloatOptions) => Array = gammaLike(
  "random.loggamma",
  true
)

/**
 * Beta(`a`, `b`) samples, like `jax.random.beta`: two log-gamma draws from the two halves of `key`,
 * normalised after subtracting their maximum (stable for small parameters).
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.beta(random.key(0), 2, 3, [4]).shape // [4]; every value in [0, 1]
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const beta = (
  key: Array,
  a: number | Array,
  b: number | Array,
  shape?: ShapeLike,
  options?: FloatOptions
): Array => {
  const op = "random.beta"
  const k = checkKey(op, key)
  checkFloatOptions(op, options)
  const pa = positiveParam(op, "a", a)
  const pb = positiveParam(op, "b", b)
  const s = paramShape(op, shape, [pa, pb])
  const keys = split(k, 2)
  const logA = gammaSamples(keyAt(keys, 0), broadcastParam(pa, s), true)
  const logB = gammaSamples(keyAt(keys, 1), broadcastParam(pb, s), true)
  const logMax = lax.max(logA, logB)
  const ga = lax.exp(lax.sub(logA, logMax))
  const gb = lax.exp(lax.sub(logB, logMax))
  return lax.div(ga, lax.add(ga, gb))
}

/**
 * Dirichlet samples with concentrations `alpha` (`[..., k]`), like `jax.random.dirichlet`: a softmax
 * of log-gamma draws. `shape` is the batch shape (the trailing `k` is added); without it, the batch
 * shape of `alpha`.
 *
 * @example
 * ```ts
 * import { jnp, random } from "effect-nnx"
 *
 * random.dirichlet(random.key(0), jnp.array([1, 2, 3]), [5]).shape // [5, 3]; rows sum to 1
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const dirichlet = (
  key: Array,
  alpha: Array | ReadonlyArray<number>,
  shape?: ShapeLike,
  options?: FloatOptions
): Array => {
  const op = "random.dirichlet"
  const k = checkKey(op, key)
  checkFloatOptions(op, options)
  const al = isArray(alpha)
    ? positiveParam(op, "alpha", alpha)
    : positiveParam(op, "alpha", lax.convertElementType(fromList(alpha), "float32"))
  if (al.ndim < 1)
    throw new ShapeError({ op, shapes: [al.shape], reason: "alpha must have at least one dimension (the categories)" })
  const batch = shape === undefined ? al.shape.slice(0, -1) : canonicalShape(op, shape)
  checkParamShapes(op, batch, [al.shape.slice(0, -1)])
  const full = [...batch, al.shape[al.ndim - 1]!]
  return softmax(gammaSamples(k, broadcastParam(al, full), true), -1)
}

const fromList = (xs: ReadonlyArray<number>): Array => {
  if (!globalThis.Array.isArray(xs) || !xs.every((x) => typeof x === "number")) {
    throw new ArgumentError({ op: "random.dirichlet", reason: "alpha must be an Array or a list of numbers" })
  }
  return lax.concatenate(
    xs.map((x) => lax.reshape(c32(x), [1])),
    0
  )
}

/**
 * Chi-square samples with `df` degrees of freedom, `2 · Gamma(df / 2)` drawn in log space, like
 * `jax.random.chisquare`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.chisquare(random.key(0), 3, [4]).shape // [4]
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const chisquare = (key: Array, df: number | Array, shape?: ShapeLike, options?: FloatOptions): Array => {
  const op = "random.chisquare"
  const k = checkKey(op, key)
  checkFloatOptions(op, options)
  const d = positiveParam(op, "df", df)
  const s = paramShape(op, shape, [d])
  const half = lax.div(d, c32(2))
  const logG = gammaSamples(k, broadcastParam(half, s), true)
  return lax.mul(lax.exp(logG), broadcastParam(c32(2), s))
}

/**
 * Student's t samples with `df` degrees of freedom, `n · sqrt((df/2) / Gamma(df/2))` with the normal
 * and the gamma from the two halves of `key`, like `jax.random.t`.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.t(random.key(0), 3, [4]).shape // [4]
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const t = (key: Array, df: number | Array, shape?: ShapeLike, options?: FloatOptions): Array => {
  const op = "random.t"
  const k = checkKey(op, key)
  checkFloatOptions(op, options)
  const d = positiveParam(op, "df", df)
  const s = paramShape(op, shape, [d])
  const keys = split(k, 2)
  const n = normal(keyAt(keys, 0), s)
  const half = broadcastParam(lax.div(d, c32(2)), s)
  const g = gammaSamples(keyAt(keys, 1), half, false)
  return lax.mul(n, lax.sqrt(lax.div(half, g)))
}

/** Student's t, under the name users of `scipy.stats` look for. @category samplers @since 0.1.0 */
export const studentT = t
