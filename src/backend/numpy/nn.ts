/**
 * The `nn` namespace: activation functions and friends, like `jax.nn`.
 *
 * @since 0.1.0
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { checkOptionKeys } from "./options.ts"
import { bind1 } from "../bind.ts"
import { normalizeAxes } from "../shape.ts"
import { arange, asArray } from "./creation.ts"
import { ShapeError } from "../ArrayError.ts"
import {
  add,
  convertTo,
  divide,
  equal,
  exp,
  expm1,
  greater,
  greaterEqual,
  less,
  lessEqual,
  log,
  log1p,
  logicalAnd,
  maximum,
  minimum,
  multiply,
  negative,
  rsqrt,
  square,
  subtract,
  tanh,
  where,
  abs,
  isfinite
} from "./elementwise.ts"
import { max, mean, sum } from "./reductions.ts"
import type { Axis } from "./reductions.ts"
import { expandDims, reshape, split } from "./shapeOps.ts"

/** Integer and boolean input becomes float32; float32 and complex64 stay (as JAX's `promote_dtypes_inexact`). */
const toFloat = (x: ArrayLike): JArray => {
  const a = asArray(x)
  return a.dtype === "float32" || a.dtype === "complex64" ? a : convertTo(a, "float32", a.weakType)
}

const axesOf = (x: JArray, axis: Axis): Array<number> =>
  axis === null || axis === undefined
    ? x.shape.map((_, i) => i)
    : normalizeAxes("nn", typeof axis === "number" ? [axis] : axis, x.ndim)

/**
 * max(x, 0), with JAX's derivative: 1 where x > 0 and 0 elsewhere, at 0 included (a plain `maximum`
 * would split the tie and give 0.5 there). The non-positive branch is `maximum` under a stop-gradient
 * so NaN still propagates, as in JAX.
 */
export const relu = (x: ArrayLike): JArray => {
  const a = asArray(x)
  return where(greater(a, 0), a, bind1("stop_gradient", [maximum(a, 0)], {}))
}
export const sigmoid = (x: ArrayLike): JArray => bind1("logistic", [toFloat(x)], {})
/**
 * `log(1 + exp(x))`, computed without overflow. Its derivative is `sigmoid(x)` everywhere, 0.5 at 0
 * included, as JAX's `logaddexp(x, 0)` gives; each branch sees only inputs on its own side of 0, so
 * the branch not taken contributes neither overflow nor a NaN gradient.
 */
export const softplus = (x: ArrayLike): JArray => {
  const a = toFloat(x)
  const positive = greater(a, 0)
  const p = where(positive, a, 0)
  const n = where(positive, 0, a)
  return where(positive, add(p, log1p(exp(negative(p)))), log1p(exp(n)))
}
export const silu = (x: ArrayLike): JArray => multiply(x, sigmoid(x))
export const swish = silu
/** GELU; the tanh approximation by default, as `jax.nn.gelu`. */
export const gelu = (x: ArrayLike, approximate = true): JArray => {
  const a = toFloat(x)
  if (approximate) {
    const inner = multiply(Math.sqrt(2 / Math.PI), add(a, multiply(0.044715, multiply(a, multiply(a, a)))))
    return multiply(multiply(0.5, a), add(1, tanh(inner)))
  }
  return multiply(multiply(0.5, a), add(1, bind1("erf", [divide(a, Math.SQRT2)], {})))
}

/** `log(sum(exp(x)))` along `axis`, computed stably. */
export const logsumexp = (x: ArrayLike, axis?: Axis, options?: { readonly keepdims?: boolean }): JArray => {
  checkOptionKeys("logsumexp", options, ["keepdims"])
  const a = toFloat(x)
  const axes = axesOf(a, axis)
  const m = max(a, axes, { keepdims: true })
  const safe = where(isfinite(m), m, 0)
  const out = add(log(sum(exp(subtract(a, safe)), axes, { keepdims: true })), safe)
  return options?.keepdims === true
    ? out
    : reshape(
        out,
        a.shape.filter((_, i) => !axes.includes(i))
      )
}

/** Softmax along `axis` (last by default). */
export const softmax = (x: ArrayLike, axis: Axis = -1): JArray => {
  const a = toFloat(x)
  const axes = axesOf(a, axis)
  const unnormalized = exp(subtract(a, max(a, axes, { keepdims: true })))
  return divide(unnormalized, sum(unnormalized, axes, { keepdims: true }))
}

export const logSoftmax = (x: ArrayLike, axis: Axis = -1): JArray => {
  const a = toFloat(x)
  const axes = axesOf(a, axis)
  const shifted = subtract(a, max(a, axes, { keepdims: true }))
  return subtract(shifted, log(sum(exp(shifted), axes, { keepdims: true })))
}

/** One-hot encoding of integer `x` into `numClasses` float32 columns. */
export const oneHot = (x: ArrayLike, numClasses: number): JArray => {
  const a = asArray(x)
  return convertTo(equal(expandDims(a, -1), arange(numClasses)), "float32")
}

/** `x` where `x >= 0`, `negativeSlope · x` elsewhere; the derivative at 0 is 1, as in JAX. */
export const leakyRelu = (x: ArrayLike, negativeSlope: ArrayLike = 1e-2): JArray => {
  const a = toFloat(x)
  return where(greaterEqual(a, 0), a, multiply(negativeSlope, a))
}

/**
 * `x` where `x > 0`, `alpha · (exp(x) - 1)` elsewhere. The exponential sees 0 for positive inputs so
 * neither branch overflows (nor its gradient turns NaN); the derivative at 0 is `alpha`, as in JAX.
 */
export const elu = (x: ArrayLike, alpha: ArrayLike = 1.0): JArray => {
  const a = toFloat(x)
  const positive = greater(a, 0)
  return where(positive, a, multiply(alpha, expm1(where(positive, 0, a))))
}

/** Continuously differentiable ELU: `max(x, 0) + alpha · expm1(min(x, 0) / alpha)`. */
export const celu = (x: ArrayLike, alpha: ArrayLike = 1.0): JArray => {
  const a = toFloat(x)
  return add(maximum(a, 0), multiply(alpha, expm1(divide(minimum(a, 0), alpha))))
}

const SELU_ALPHA = 1.6732632423543772848170429916717
const SELU_SCALE = 1.0507009873554804934193349852946
/** Scaled ELU with the self-normalizing constants of Klambauer et al. (2017). */
export const selu = (x: ArrayLike): JArray => multiply(SELU_SCALE, elu(x, SELU_ALPHA))

/** `log(sigmoid(x))`, computed as `-softplus(-x)` so it does not underflow to `-inf`. */
export const logSigmoid = (x: ArrayLike): JArray => negative(softplus(negative(toFloat(x))))

/**
 * The hard variant of `tanh`: `x` clipped to `[-1, 1]`. The derivative is 1 on the closed interval
 * (at ±1 included) and 0 outside, as in JAX.
 */
export const hardTanh = (x: ArrayLike): JArray => {
  const a = toFloat(x)
  return where(greater(a, 1), 1, where(less(a, -1), -1, a))
}

/**
 * `min(max(x, 0), 6)`. As in JAX, the derivative is 1 strictly between 0 and 6 and 0 elsewhere, at
 * both kinks included; the clipped branch is under a stop-gradient and still propagates NaN.
 */
export const relu6 = (x: ArrayLike): JArray => {
  const a = toFloat(x)
  const inside = logicalAnd(greater(a, 0), less(a, 6))
  return where(inside, a, bind1("stop_gradient", [minimum(maximum(a, 0), 6)], {}))
}

/** `relu6(x + 3) / 6`. */
export const hardSigmoid = (x: ArrayLike): JArray => divide(relu6(add(toFloat(x), 3)), 6)

/** `x · hardSigmoid(x)`. */
export const hardSilu = (x: ArrayLike): JArray => {
  const a = toFloat(x)
  return multiply(a, hardSigmoid(a))
}
export const hardSwish = hardSilu

/** `x / (|x| + 1)`. */
export const softSign = (x: ArrayLike): JArray => {
  const a = toFloat(x)
  return divide(a, add(abs(a), 1))
}

/** 0 for `x <= -1`, `x` for `x >= 1`, and `(x + 1)² / 4` between. */
export const sparsePlus = (x: ArrayLike): JArray => {
  const a = toFloat(x)
  return where(lessEqual(a, -1), 0, where(greaterEqual(a, 1), a, divide(square(add(a, 1)), 4)))
}

/**
 * Options of {@link standardize}.
 * @category models
 * @since 0.1.0
 */
export interface StandardizeOptions {
  /** The mean to subtract; computed along `axis` when omitted. */
  readonly mean?: ArrayLike | undefined
  /** The variance to divide by (its root); computed along `axis` when omitted. */
  readonly variance?: ArrayLike | undefined
  /** Added to the variance before the square root (default `1e-5`). */
  readonly epsilon?: ArrayLike | undefined
}

/**
 * `(x - mean) / sqrt(variance + epsilon)` along `axis` (last by default), like `jax.nn.standardize`.
 * A missing variance is JAX's "fast" one, `mean(x²) - mean(x)²` clipped at 0.
 */
export const standardize = (x: ArrayLike, axis: Axis = -1, options?: StandardizeOptions): JArray => {
  checkOptionKeys("standardize", options, ["mean", "variance", "epsilon"])
  const a = toFloat(x)
  const axes = axesOf(a, axis)
  const m = options?.mean ?? mean(a, axes, { keepdims: true })
  const v = options?.variance ?? maximum(subtract(mean(square(a), axes, { keepdims: true }), square(m)), 0)
  return multiply(subtract(a, m), rsqrt(add(v, options?.epsilon ?? 1e-5)))
}

/** Gated linear unit: `x` is halved along `axis` (last by default) into `a, b`, giving `a · sigmoid(b)`. */
export const glu = (x: ArrayLike, axis = -1): JArray => {
  const a = asArray(x)
  const [ax] = axesOf(a, axis)
  if (a.shape[ax!]! % 2 !== 0) {
    throw new ShapeError({
      op: "nn.glu",
      shapes: [a.shape],
      reason: `the size of axis ${axis} must be even to halve it, got ${a.shape[ax!]}`
    })
  }
  const [x1, x2] = split(a, 2, ax!)
  return multiply(x1!, sigmoid(x2!))
}

export { dotProductAttention } from "./attention.ts"
export type { DotProductAttentionOptions } from "./attention.ts"
