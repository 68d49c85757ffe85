/**
 * Losses, as `optax.losses`: elementwise (or per-example) loss values that a training step
 * averages (`jnp.mean(optax.softmaxCrossEntropy(logits, labels))`). Each is differentiable with
 * `grad` and follows optax's formulas, so values and gradients agree with optax in float32.
 *
 * @since 0.2.0
 */
import type { Array as JArray, ArrayLike } from "../backend/Array.ts"
import { DTypeError, ShapeError } from "../backend/ArrayError.ts"
import { asArray } from "../backend/numpy/creation.ts"
import {
  abs,
  add,
  convertTo,
  divide,
  maximum,
  minimum,
  multiply,
  negative,
  sqrt,
  square,
  subtract
} from "../backend/numpy/elementwise.ts"
import { takeAlongAxis } from "../backend/numpy/indexing.ts"
import { logSigmoid, logSoftmax, logsumexp } from "../backend/numpy/nn.ts"
import { sum } from "../backend/numpy/reductions.ts"
import { expandDims, squeeze } from "../backend/numpy/shapeOps.ts"
import { normalizeAxes } from "../backend/shape.ts"

const floating = (op: string, x: ArrayLike): JArray => {
  const a = asArray(x)
  if (a.dtype !== "float32")
    throw new DTypeError({ op, dtypes: [a.dtype], reason: "expects floating-point predictions or logits" })
  return a
}

/**
 * Cross entropy between `labels` (probabilities along `axis`) and the softmax of `logits`:
 * `-Σ labels · logSoftmax(logits)`.
 * @category losses
 * @since 0.2.0
 */
export const softmaxCrossEntropy = (
  logits: ArrayLike,
  labels: ArrayLike,
  options?: { readonly axis?: number | ReadonlyArray<number> | undefined }
): JArray => {
  const x = floating("optax.softmaxCrossEntropy", logits)
  const axis = options?.axis ?? -1
  return negative(sum(multiply(labels, logSoftmax(x, axis)), axis))
}

/**
 * Cross entropy with integer class `labels` (one fewer dimension than `logits`):
 * `logsumexp(logits) - logits[label]`.
 * @category losses
 * @since 0.2.0
 */
export const softmaxCrossEntropyWithIntegerLabels = (
  logits: ArrayLike,
  labels: ArrayLike,
  options?: { readonly axis?: number | undefined }
): JArray => {
  const op = "optax.softmaxCrossEntropyWithIntegerLabels"
  const x = floating(op, logits)
  const y = asArray(labels)
  if (y.dtype !== "int32" && y.dtype !== "uint32")
    throw new DTypeError({ op, dtypes: [y.dtype], reason: "expects integer class labels" })
  if (y.ndim !== x.ndim - 1) {
    throw new ShapeError({
      op,
      shapes: [x.shape, y.shape],
      reason: "labels must have one dimension fewer than logits (the class axis)"
    })
  }
  const axis = normalizeAxes(op, [options?.axis ?? -1], x.ndim)[0]!
  const labelLogits = squeeze(takeAlongAxis(x, expandDims(y, axis), axis), axis)
  return subtract(logsumexp(x, axis), labelLogits)
}

/**
 * Binary cross entropy of `sigmoid(logits)` against `labels` in [0, 1], computed from log-sigmoids
 * so that large logits neither overflow nor lose precision.
 * @category losses
 * @since 0.2.0
 */
export const sigmoidBinaryCrossEntropy = (logits: ArrayLike, labels: ArrayLike): JArray => {
  const x = floating("optax.sigmoidBinaryCrossEntropy", logits)
  const y = convertTo(asArray(labels), "float32")
  return subtract(multiply(negative(y), logSigmoid(x)), multiply(subtract(1, y), logSigmoid(negative(x))))
}

const errorsOf = (op: string, predictions: ArrayLike, targets: ArrayLike | undefined, sameShape: boolean): JArray => {
  const p = floating(op, predictions)
  if (targets === undefined) return p
  const t = asArray(targets)
  if (sameShape && (p.ndim !== t.ndim || p.shape.some((n, i) => n !== t.shape[i]))) {
    throw new ShapeError({ op, shapes: [p.shape, t.shape], reason: "predictions and targets must have the same shape" })
  }
  return subtract(p, t)
}

/**
 * `(predictions - targets)²` elementwise (`predictions²` without targets).
 * @category losses
 * @since 0.2.0
 */
export const squaredError = (predictions: ArrayLike, targets?: ArrayLike): JArray =>
  square(errorsOf("optax.squaredError", predictions, targets, true))

/**
 * Half the squared error, `0.5 · (predictions - targets)²`.
 * @category losses
 * @since 0.2.0
 */
export const l2Loss = (predictions: ArrayLike, targets?: ArrayLike): JArray =>
  multiply(0.5, square(errorsOf("optax.l2Loss", predictions, targets, true)))

/**
 * The Huber loss: quadratic for errors up to `delta`, linear beyond.
 * @category losses
 * @since 0.2.0
 */
export const huberLoss = (
  predictions: ArrayLike,
  targets?: ArrayLike,
  options?: { readonly delta?: number | undefined }
): JArray => {
  const delta = options?.delta ?? 1
  const e = abs(errorsOf("optax.huberLoss", predictions, targets, false))
  const quadratic = minimum(e, delta)
  const linear = subtract(e, quadratic)
  return add(multiply(0.5, square(quadratic)), multiply(delta, linear))
}

/**
 * The cosine of the angle between `predictions` and `targets` along `axis`; each norm is at least
 * `sqrt(epsilon)` (default 0).
 * @category losses
 * @since 0.2.0
 */
export const cosineSimilarity = (
  predictions: ArrayLike,
  targets: ArrayLike,
  options?: { readonly epsilon?: number | undefined; readonly axis?: number | ReadonlyArray<number> | undefined }
): JArray => {
  const op = "optax.cosineSimilarity"
  const a = floating(op, predictions)
  const b = floating(op, targets)
  const epsilon = options?.epsilon ?? 0
  const axis = options?.axis ?? -1
  const unit = (x: JArray): JArray => divide(x, sqrt(maximum(sum(square(x), axis, { keepdims: true }), epsilon)))
  return sum(multiply(unit(a), unit(b)), axis)
}

/**
 * `1 - cosineSimilarity(predictions, targets)`.
 * @category losses
 * @since 0.2.0
 */
export const cosineDistance = (
  predictions: ArrayLike,
  targets: ArrayLike,
  options?: { readonly epsilon?: number | undefined; readonly axis?: number | ReadonlyArray<number> | undefined }
): JArray => subtract(1, cosineSimilarity(predictions, targets, options))
