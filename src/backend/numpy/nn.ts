/**
 * The `nn` namespace: activation functions and friends, like `jax.nn`.
 *
 * @since 0.1.0
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { bind1 } from "../bind.ts"
import { normalizeAxes } from "../shape.ts"
import { arange, asArray } from "./creation.ts"
import { add, convertTo, divide, equal, exp, greater, log, log1p, maximum, multiply, negative, subtract, tanh, where, abs, isfinite } from "./elementwise.ts"
import { max, sum } from "./reductions.ts"
import type { Axis } from "./reductions.ts"
import { expandDims, reshape } from "./shapeOps.ts"

const toFloat = (x: ArrayLike): JArray => {
  const a = asArray(x)
  return a.dtype === "float32" ? a : convertTo(a, "float32", a.weakType)
}

const axesOf = (x: JArray, axis: Axis): Array<number> =>
  axis === null || axis === undefined ? x.shape.map((_, i) => i) : normalizeAxes("nn", typeof axis === "number" ? [axis] : axis, x.ndim)

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
export const softplus = (x: ArrayLike): JArray => {
  const a = toFloat(x)
  return add(maximum(a, 0), log1p(exp(negative(abs(a)))))
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
  const a = toFloat(x)
  const axes = axesOf(a, axis)
  const m = max(a, axes, { keepdims: true })
  const safe = where(isfinite(m), m, 0)
  const out = add(log(sum(exp(subtract(a, safe)), axes, { keepdims: true })), safe)
  return options?.keepdims === true ? out : reshape(out, a.shape.filter((_, i) => !axes.includes(i)))
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
