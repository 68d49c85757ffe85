/**
 * Normalization layers, as Flax NNX's: `LayerNorm`, `RMSNorm`, `GroupNorm`, `InstanceNorm` and
 * `BatchNorm`.
 * They share Flax's two steps: statistics (mean and variance over the reduction axes, the variance
 * by the fast `E[x²] - E[x]²` clamped at 0 unless `useFastVariance: false`), then
 * `(x - mean) · rsqrt(var + epsilon) · scale + bias` with scale and bias shaped along the feature
 * axes. Parameters are drawn in Flax's order (scale, then bias) from the `params` stream.
 *
 * `BatchNorm` keeps running statistics as `BatchStat` Variables `mean` and `var`: in training
 * (`useRunningAverage: false`) it normalizes by the batch's statistics and moves the running ones
 * by `momentum`; in evaluation it normalizes by the running ones. `Module.train()` and
 * `Module.eval()` switch it, as they switch `Dropout`.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../backend/Array.ts"
import type { NumericDType } from "../backend/DType.ts"
import { full, zeros as jnpZeros } from "../backend/numpy/creation.ts"
import { add, astype, maximum, multiply, rsqrt, subtract } from "../backend/numpy/elementwise.ts"
import { mean as jnpMean } from "../backend/numpy/reductions.ts"
import { broadcastTo, expandDims, reshape } from "../backend/numpy/shapeOps.ts"
import { Module } from "../graph/Module.ts"
import type { Rngs } from "../graph/Rngs.ts"
import type { Metadata } from "../graph/Variable.ts"
import { BatchStat, Param } from "../graph/Variable.ts"
import { stopGradient } from "../transforms/core/custom.ts"
import { pmean } from "../transforms/core/collectives.ts"
import type { Initializer } from "./initializers.ts"
import { ones, zeros } from "./initializers.ts"
import { fmtShape, layerError } from "./LayerError.ts"
import { promoteDtype } from "./promote.ts"

/** One axis or several. */
type Axes = number | ReadonlyArray<number>

const canonicalAxes = (layer: string, ndim: number, axes: Axes): Array<number> => {
  const list = typeof axes === "number" ? [axes] : axes
  const out = [...new Set(list.map((a) => (a < 0 ? a + ndim : a)))].sort((a, b) => a - b)
  if (out.some((a) => a < 0 || a >= ndim)) {
    throw layerError(layer, `axes (${list.join(", ")}) are out of range for inputs of rank ${ndim}`)
  }
  return out
}

/** Mean and variance over `axes`, in float32 at least, as Flax's `_compute_stats`. */
const computeStats = (
  x0: JArray,
  axes: ReadonlyArray<number>,
  useMean: boolean,
  useFastVariance: boolean,
  axisName: string | null = null
): readonly [JArray, JArray] => {
  const x = x0.dtype === "float32" ? x0 : astype(x0, "float32")
  // With an axis name, each mean also averages over the members of that mapped axis (devices of
  // nnx.pmap), as Flax's BatchNorm does.
  const meanOf = (v: JArray): JArray => (axisName === null ? jnpMean(v, axes) : pmean(jnpMean(v, axes), axisName))
  if (!useMean) {
    const v = meanOf(multiply(x, x))
    return [jnpZeros(v.shape, { dtype: v.dtype as NumericDType }), v]
  }
  if (useFastVariance) {
    const mu = meanOf(x)
    const mu2 = meanOf(multiply(x, x))
    return [mu, maximum(0, subtract(mu2, multiply(mu, mu)))]
  }
  const mu = meanOf(x)
  const d = subtract(x, expandDims(mu, axes))
  return [mu, meanOf(multiply(d, d))]
}

/** `(x - mean) · rsqrt(var + eps) · scale + bias`, in Flax's order of operations. */
const normalize = (
  x: JArray,
  mean: JArray,
  variance: JArray,
  scale: JArray | null,
  bias: JArray | null,
  reductionAxes: ReadonlyArray<number>,
  featureAxes: ReadonlyArray<number>,
  dtype: NumericDType | null,
  epsilon: number
): JArray => {
  const statsShape = x.shape.map((n, i) => (reductionAxes.includes(i) ? 1 : n))
  const featureShape = x.shape.map((n, i) => (featureAxes.includes(i) ? n : 1))
  let y = subtract(x, reshape(mean, statsShape))
  let mul = rsqrt(add(reshape(variance, statsShape), epsilon))
  if (scale !== null) mul = multiply(mul, reshape(scale, featureShape))
  y = multiply(y, mul)
  if (bias !== null) y = add(y, reshape(bias, featureShape))
  return dtype === null ? y : astype(y, dtype)
}

/** The number of features the feature axes of `x` hold. */
const featureCount = (x: JArray, featureAxes: ReadonlyArray<number>): number =>
  featureAxes.reduce((p, a) => p * x.shape[a]!, 1)

/**
 * Options shared by the normalization layers.
 * @category layers
 * @since 0.1.0
 */
export interface NormOptions {
  /** Added to the variance (default 1e-6; 1e-5 for BatchNorm). */
  readonly epsilon?: number | undefined
  /** The output dtype (default: promoted from the input and parameters). */
  readonly dtype?: NumericDType | undefined
  readonly paramDtype?: NumericDType | undefined
  /** Whether to learn a scale (default `true`). */
  readonly useScale?: boolean | undefined
  /** Default `initializers.ones`. */
  readonly scaleInit?: Initializer | undefined
  /** Compute the variance as `E[x²] - E[x]²` (default `true`), else as `E[(x - E[x])²]`. */
  readonly useFastVariance?: boolean | undefined
  /** Metadata of the scale Param (`scale_metadata`). */
  readonly scaleMetadata?: Metadata | undefined
  readonly rngs: Rngs
}

/**
 * Options of the norms with a bias.
 * @category layers
 * @since 0.1.0
 */
export interface BiasNormOptions extends NormOptions {
  /** Whether to learn a bias (default `true`). */
  readonly useBias?: boolean | undefined
  /** Default `initializers.zeros`. */
  readonly biasInit?: Initializer | undefined
  /** Metadata of the bias Param (`bias_metadata`). */
  readonly biasMetadata?: Metadata | undefined
}

/**
 * Options of {@link LayerNorm} and {@link RMSNorm}.
 * @category layers
 * @since 0.1.0
 */
export interface LayerNormOptions extends BiasNormOptions {
  /** The axes statistics are taken over (default -1). */
  readonly reductionAxes?: Axes | undefined
  /** The axes scale and bias run along (default -1). */
  readonly featureAxes?: Axes | undefined
}

const makeScaleBias = (
  numFeatures: number,
  options: BiasNormOptions,
  withBias: boolean
): readonly [Param<JArray> | null, Param<JArray> | null, NumericDType] => {
  const paramDtype = options.paramDtype ?? "float32"
  const params = options.rngs.stream("params")
  const scale =
    (options.useScale ?? true)
      ? new Param((options.scaleInit ?? ones)(params(), [numFeatures], paramDtype), options.scaleMetadata)
      : null
  const bias =
    withBias && (options.useBias ?? true)
      ? new Param((options.biasInit ?? zeros)(params(), [numFeatures], paramDtype), options.biasMetadata)
      : null
  return [scale, bias, paramDtype]
}

/**
 * Layer normalization, as `flax.nnx.LayerNorm`: normalizes each example over its last axis (or
 * `reductionAxes`), then scales and shifts along `featureAxes`.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const norm = new nnx.LayerNorm(6, { rngs: new nnx.Rngs(0) })
 * norm.call(jnp.arange(12).reshape([2, 6])).shape // [2, 6]
 * ```
 * @category layers
 * @since 0.1.0
 */
export class LayerNorm extends Module {
  scale: Param<JArray> | null
  bias: Param<JArray> | null
  numFeatures: number
  epsilon: number
  dtype: NumericDType | null
  paramDtype: NumericDType
  useBias: boolean
  useScale: boolean
  reductionAxes: Axes
  featureAxes: Axes
  useFastVariance: boolean

  constructor(numFeatures: number, options: LayerNormOptions) {
    super()
    const [scale, bias, paramDtype] = makeScaleBias(numFeatures, options, true)
    this.scale = scale
    this.bias = bias
    this.numFeatures = numFeatures
    this.epsilon = options.epsilon ?? 1e-6
    this.dtype = options.dtype ?? null
    this.paramDtype = paramDtype
    this.useBias = options.useBias ?? true
    this.useScale = options.useScale ?? true
    this.reductionAxes = options.reductionAxes ?? -1
    this.featureAxes = options.featureAxes ?? -1
    this.useFastVariance = options.useFastVariance ?? true
  }

  /** @throws LayerError when the feature axes do not hold `numFeatures` features. */
  call(inputs: JArray): JArray {
    const reduction = canonicalAxes("LayerNorm", inputs.ndim, this.reductionAxes)
    const features = canonicalAxes("LayerNorm", inputs.ndim, this.featureAxes)
    if (featureCount(inputs, features) !== this.numFeatures) {
      throw layerError(
        "LayerNorm",
        `expected ${this.numFeatures} features along axes (${features.join(", ")}), got inputs of shape ${fmtShape(inputs.shape)}`
      )
    }
    const [x, scale, bias] = promoteDtype(
      "LayerNorm",
      [inputs, this.scale?.value ?? null, this.bias?.value ?? null],
      this.dtype ?? undefined
    )
    const [mean, variance] = computeStats(x, reduction, true, this.useFastVariance)
    return normalize(x, mean, variance, scale, bias, reduction, features, this.dtype, this.epsilon)
  }
}

/**
 * Root-mean-square normalization, as `flax.nnx.RMSNorm`: divides by `√(E[x²] + epsilon)` (no
 * centring, no bias), then scales.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const norm = new nnx.RMSNorm(6, { rngs: new nnx.Rngs(0) })
 * norm.call(jnp.ones([2, 6])).shape // [2, 6]
 * ```
 * @category layers
 * @since 0.1.0
 */
export class RMSNorm extends Module {
  scale: Param<JArray> | null
  numFeatures: number
  epsilon: number
  dtype: NumericDType | null
  paramDtype: NumericDType
  useScale: boolean
  reductionAxes: Axes
  featureAxes: Axes
  useFastVariance: boolean

  constructor(numFeatures: number, options: Omit<LayerNormOptions, "useBias" | "biasInit">) {
    super()
    const [scale, , paramDtype] = makeScaleBias(numFeatures, options, false)
    this.scale = scale
    this.numFeatures = numFeatures
    this.epsilon = options.epsilon ?? 1e-6
    this.dtype = options.dtype ?? null
    this.paramDtype = paramDtype
    this.useScale = options.useScale ?? true
    this.reductionAxes = options.reductionAxes ?? -1
    this.featureAxes = options.featureAxes ?? -1
    this.useFastVariance = options.useFastVariance ?? true
  }

  /** @throws LayerError when the feature axes do not hold `numFeatures` features. */
  call(inputs: JArray): JArray {
    const reduction = canonicalAxes("RMSNorm", inputs.ndim, this.reductionAxes)
    const features = canonicalAxes("RMSNorm", inputs.ndim, this.featureAxes)
    if (featureCount(inputs, features) !== this.numFeatures) {
      throw layerError(
        "RMSNorm",
        `expected ${this.numFeatures} features along axes (${features.join(", ")}), got inputs of shape ${fmtShape(inputs.shape)}`
      )
    }
    const [x, scale] = promoteDtype("RMSNorm", [inputs, this.scale?.value ?? null], this.dtype ?? undefined)
    const [mean, variance] = computeStats(x, reduction, false, this.useFastVariance)
    return normalize(x, mean, variance, scale, null, reduction, features, this.dtype, this.epsilon)
  }
}

/**
 * Options of {@link GroupNorm}.
 * @category layers
 * @since 0.1.0
 */
export interface GroupNormOptions extends BiasNormOptions {
  /** Features per group, instead of a number of groups (pass `numGroups: null`). */
  readonly groupSize?: number | null | undefined
  /** The axes statistics are taken over, the last being the feature axis (default: all but the first). */
  readonly reductionAxes?: Axes | undefined
}

/** `jnp.repeat(x, k, axis=1)`, written with a broadcast so it needs no gather. */
const repeatAxis1 = (x: JArray, k: number): JArray => {
  const expanded = expandDims(x, 2)
  const shape = [...expanded.shape]
  shape[2] = k
  const out = [...x.shape]
  out[1] = x.shape[1]! * k
  return reshape(broadcastTo(expanded, shape), out)
}

/**
 * Group normalization, as `flax.nnx.GroupNorm(numFeatures, numGroups = 32)`: the features (last
 * axis) are split into groups, each normalized over its features and the non-batch axes.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const norm = new nnx.GroupNorm(6, 2, { rngs: new nnx.Rngs(0) })
 * norm.call(jnp.ones([2, 5, 6])).shape // [2, 5, 6]
 * ```
 * @category layers
 * @since 0.1.0
 */
export class GroupNorm extends Module {
  scale: Param<JArray> | null
  bias: Param<JArray> | null
  numFeatures: number
  numGroups: number
  groupSize: number
  epsilon: number
  dtype: NumericDType | null
  paramDtype: NumericDType
  useBias: boolean
  useScale: boolean
  reductionAxes: Axes | null
  useFastVariance: boolean

  constructor(numFeatures: number, numGroups: number | null, options: GroupNormOptions)
  constructor(numFeatures: number, options: GroupNormOptions)
  constructor(numFeatures: number, a: number | null | GroupNormOptions, b?: GroupNormOptions) {
    super()
    const options = (typeof a === "object" && a !== null ? a : b)!
    const numGroups = typeof a === "object" && a !== null ? (options.groupSize == null ? 32 : null) : a
    const groupSize = options.groupSize ?? null
    if ((numGroups === null) === (groupSize === null)) {
      throw layerError(
        "GroupNorm",
        "give either numGroups or groupSize; to give groupSize, pass numGroups as null (it defaults to 32)"
      )
    }
    if (groupSize !== null) {
      if (!Number.isInteger(groupSize) || groupSize <= 0 || numFeatures % groupSize !== 0) {
        throw layerError(
          "GroupNorm",
          `the number of features (${numFeatures}) is not a multiple of the group size (${groupSize})`
        )
      }
      this.numGroups = numFeatures / groupSize
      this.groupSize = groupSize
    } else {
      if (!Number.isInteger(numGroups) || numGroups! <= 0 || numFeatures % numGroups! !== 0) {
        throw layerError(
          "GroupNorm",
          `the number of groups (${numGroups}) does not divide the number of features (${numFeatures})`
        )
      }
      this.numGroups = numGroups!
      this.groupSize = numFeatures / numGroups!
    }
    const [scale, bias, paramDtype] = makeScaleBias(numFeatures, options, true)
    this.scale = scale
    this.bias = bias
    this.numFeatures = numFeatures
    this.epsilon = options.epsilon ?? 1e-6
    this.dtype = options.dtype ?? null
    this.paramDtype = paramDtype
    this.useBias = options.useBias ?? true
    this.useScale = options.useScale ?? true
    this.reductionAxes = options.reductionAxes ?? null
    this.useFastVariance = options.useFastVariance ?? true
  }

  /** @throws LayerError when the last axis does not hold `numFeatures` features, or there is no batch axis. */
  call(inputs: JArray): JArray {
    if (inputs.ndim < 2 || inputs.shape[inputs.ndim - 1] !== this.numFeatures) {
      throw layerError(
        "GroupNorm",
        `expected inputs of rank at least 2 whose last axis has ${this.numFeatures} features, got shape ${fmtShape(inputs.shape)}`
      )
    }
    const ndim = inputs.ndim
    const reduction = canonicalAxes(
      "GroupNorm",
      ndim,
      this.reductionAxes ?? [...Array.from({ length: ndim - 2 }, (_, i) => i + 1), -1]
    )
    const [x, scale, bias] = promoteDtype(
      "GroupNorm",
      [inputs, this.scale?.value ?? null, this.bias?.value ?? null],
      this.dtype ?? undefined
    )
    const grouped = reshape(x, [...x.shape.slice(0, -1), this.numGroups, this.groupSize])
    const groupedAxes = [...reduction.slice(0, -1), ndim]
    const [mean, variance] = computeStats(grouped, groupedAxes, true, this.useFastVariance)
    return normalize(
      x,
      repeatAxis1(mean, this.groupSize),
      repeatAxis1(variance, this.groupSize),
      scale,
      bias,
      reduction.slice(0, -1),
      [ndim - 1],
      this.dtype,
      this.epsilon
    )
  }
}

/**
 * Options of {@link InstanceNorm}.
 * @category layers
 * @since 0.1.0
 */
export interface InstanceNormOptions extends BiasNormOptions {
  /** The axes scale and bias run along (default -1); never the leading (batch) axis. */
  readonly featureAxes?: Axes | undefined
}

/**
 * Instance normalization, as `flax.nnx.InstanceNorm`: each example and feature normalized over the
 * remaining axes (for images, each channel over its height and width).
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const norm = new nnx.InstanceNorm(3, { rngs: new nnx.Rngs(0) })
 * norm.call(jnp.ones([2, 4, 4, 3])).shape // [2, 4, 4, 3]
 * ```
 * @category layers
 * @since 0.1.0
 */
export class InstanceNorm extends Module {
  scale: Param<JArray> | null
  bias: Param<JArray> | null
  numFeatures: number
  epsilon: number
  dtype: NumericDType | null
  paramDtype: NumericDType
  useBias: boolean
  useScale: boolean
  featureAxes: Axes
  useFastVariance: boolean

  constructor(numFeatures: number, options: InstanceNormOptions) {
    super()
    const [scale, bias, paramDtype] = makeScaleBias(numFeatures, options, true)
    this.scale = scale
    this.bias = bias
    this.numFeatures = numFeatures
    this.epsilon = options.epsilon ?? 1e-6
    this.dtype = options.dtype ?? null
    this.paramDtype = paramDtype
    this.useBias = options.useBias ?? true
    this.useScale = options.useScale ?? true
    this.featureAxes = options.featureAxes ?? -1
    this.useFastVariance = options.useFastVariance ?? true
  }

  /** @throws LayerError when the feature axes include the batch axis or do not hold `numFeatures` features. */
  call(inputs: JArray): JArray {
    const features = canonicalAxes("InstanceNorm", inputs.ndim, this.featureAxes)
    if (features.includes(0))
      throw layerError("InstanceNorm", "the feature axes cannot include the leading axis, which is the batch axis")
    if (featureCount(inputs, features) !== this.numFeatures) {
      throw layerError(
        "InstanceNorm",
        `expected ${this.numFeatures} features along axes (${features.join(", ")}), got inputs of shape ${fmtShape(inputs.shape)}`
      )
    }
    const reduction = inputs.shape.map((_, i) => i).filter((i) => i > 0 && !features.includes(i))
    const [x, scale, bias] = promoteDtype(
      "InstanceNorm",
      [inputs, this.scale?.value ?? null, this.bias?.value ?? null],
      this.dtype ?? undefined
    )
    const [mean, variance] = computeStats(x, reduction, true, this.useFastVariance)
    return normalize(x, mean, variance, scale, bias, reduction, features, this.dtype, this.epsilon)
  }
}

/**
 * Options of {@link BatchNorm}.
 * @category layers
 * @since 0.1.0
 */
export interface BatchNormOptions extends BiasNormOptions {
  /** Normalize by the running statistics instead of the batch's (default `false`: training). */
  readonly useRunningAverage?: boolean | null | undefined
  /** The feature axis (default -1). */
  readonly axis?: number | undefined
  /** How much of the running statistics each training step keeps (default 0.99). */
  readonly momentum?: number | undefined
  /**
   * In training, average the batch statistics also over the members of this mapped axis (the
   * `axisName` of an enclosing `nnx.vmap`, `nnx.pmap` or `nnx.shardMap`): synchronised BatchNorm.
   */
  readonly axisName?: string | null | undefined
}

/**
 * Batch normalization, as `flax.nnx.BatchNorm`: statistics over every axis but `axis`, running
 * averages in the `BatchStat`s `mean` and `var`.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const bn = new nnx.BatchNorm(3, { rngs: new nnx.Rngs(0) })
 * bn.call(jnp.arange(12).reshape([4, 3])) // training: batch statistics; bn.mean moves
 * bn.eval()
 * bn.call(jnp.ones([4, 3])) // evaluation: running statistics
 * ```
 * @category layers
 * @since 0.1.0
 */
export class BatchNorm extends Module {
  mean: BatchStat<JArray>
  var: BatchStat<JArray>
  scale: Param<JArray> | null
  bias: Param<JArray> | null
  numFeatures: number
  useRunningAverage: boolean | null
  axis: number
  momentum: number
  epsilon: number
  dtype: NumericDType | null
  paramDtype: NumericDType
  useBias: boolean
  useScale: boolean
  axisName: string | null
  useFastVariance: boolean

  constructor(numFeatures: number, options: BatchNormOptions) {
    super()
    this.mean = new BatchStat(jnpZeros([numFeatures]))
    this.var = new BatchStat(full([numFeatures], 1, { dtype: "float32" }))
    const [scale, bias, paramDtype] = makeScaleBias(numFeatures, options, true)
    this.scale = scale
    this.bias = bias
    this.numFeatures = numFeatures
    this.useRunningAverage = options.useRunningAverage === undefined ? false : options.useRunningAverage
    this.axis = options.axis ?? -1
    this.momentum = options.momentum ?? 0.99
    this.epsilon = options.epsilon ?? 1e-5
    this.dtype = options.dtype ?? null
    this.paramDtype = paramDtype
    this.useBias = options.useBias ?? true
    this.useScale = options.useScale ?? true
    this.axisName = options.axisName ?? null
    this.useFastVariance = options.useFastVariance ?? true
  }

  /**
   * Normalizes `x`; in training, also moves the running statistics.
   * @throws LayerError when the feature axis does not hold `numFeatures` features, or neither the
   * layer nor the call says whether to use the running average. Nothing is updated then.
   */
  call(x0: JArray, options?: { readonly useRunningAverage?: boolean | undefined }): JArray {
    const useRunningAverage = options?.useRunningAverage ?? this.useRunningAverage
    if (useRunningAverage === null) {
      throw layerError(
        "BatchNorm",
        "no useRunningAverage was given to the constructor or the call; pass one, or switch the model with model.train() / model.eval() or nnx.view"
      )
    }
    const features = canonicalAxes("BatchNorm", x0.ndim, this.axis)
    if (featureCount(x0, features) !== this.numFeatures) {
      throw layerError(
        "BatchNorm",
        `expected ${this.numFeatures} features along axis ${this.axis}, got inputs of shape ${fmtShape(x0.shape)}`
      )
    }
    const reduction = x0.shape.map((_, i) => i).filter((i) => !features.includes(i))
    const [x, runMean, runVar, scale, bias] = promoteDtype(
      "BatchNorm",
      [x0, this.mean.value, this.var.value, this.scale?.value ?? null, this.bias?.value ?? null],
      this.dtype ?? undefined
    )
    let mean = runMean
    let variance = runVar
    if (!useRunningAverage) {
      ;[mean, variance] = computeStats(x, reduction, true, this.useFastVariance, this.axisName)
      const m = this.momentum
      // Running statistics are not trained: gradients stop at them, as in Flax.
      this.mean.value = stopGradient(add(multiply(m, this.mean.value), multiply(1 - m, mean)))
      this.var.value = stopGradient(add(multiply(m, this.var.value), multiply(1 - m, variance)))
    }
    return normalize(x, mean, variance, scale, bias, reduction, features, this.dtype, this.epsilon)
  }

  /** The modes `nnx.view` may pass to this layer. */
  get viewModes(): ReadonlyArray<string> {
    return ["useRunningAverage"]
  }

  /** What `nnx.view` sets: the mode, when given. */
  setView(options: { readonly useRunningAverage?: boolean | undefined }): void {
    if (options.useRunningAverage !== undefined) this.useRunningAverage = options.useRunningAverage
  }
}
