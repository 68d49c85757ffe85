/**
 * `Conv` and `ConvTranspose`: convolution layers as Flax NNX's. Inputs are channels-last
 * (`[...batch, ...spatial, features]`); any number of leading batch axes, none included, are folded
 * into one for the convolution and restored after, as Flax does. The kernel has shape
 * `[...kernelSize, inFeatures / featureGroupCount, outFeatures]` and is drawn first from the `params`
 * stream, then the bias, so a layer built from `new nnx.Rngs(0)` starts from Flax's numbers.
 *
 * @since 0.2.0
 */
import type { Array as JArray } from "../backend/Array.ts"
import { bind1 } from "../backend/bind.ts"
import type { NumericDType } from "../backend/DType.ts"
import { convGeneralDilated, convTranspose } from "../backend/laxConv.ts"
import { fromScalar } from "../backend/numpy/creation.ts"
import { add, multiply } from "../backend/numpy/elementwise.ts"
import { sum } from "../backend/numpy/reductions.ts"
import { concatenate, reshape } from "../backend/numpy/shapeOps.ts"
import { Module } from "../graph/Module.ts"
import type { Rngs } from "../graph/Rngs.ts"
import type { Metadata } from "../graph/Variable.ts"
import { Param } from "../graph/Variable.ts"
import type { Initializer } from "./initializers.ts"
import { lecunNormal, zeros } from "./initializers.ts"
import { fmtShape, layerError } from "./LayerError.ts"
import type { Precision } from "./Linear.ts"
import { promoteDtype } from "./promote.ts"

/**
 * Padding of a convolution layer: a `lax` rule, Flax's `"CIRCULAR"` (wrap around) or `"CAUSAL"`
 * (1D, all on the left), one number for every side, or per spatial axis a number or `[lo, hi]`.
 * @category layers
 * @since 0.2.0
 */
export type ConvLayerPadding =
  | "SAME"
  | "VALID"
  | "SAME_LOWER"
  | "CIRCULAR"
  | "CAUSAL"
  | number
  | ReadonlyArray<number | readonly [number, number]>

/**
 * Options of {@link Conv}.
 * @category layers
 * @since 0.2.0
 */
export interface ConvOptions {
  /** Window strides: one number for every spatial axis, or one each (default 1). */
  readonly strides?: number | ReadonlyArray<number> | undefined
  /** Default `"SAME"`. */
  readonly padding?: ConvLayerPadding | undefined
  /** Dilation of the input (`lhs_dilation`), default 1. */
  readonly inputDilation?: number | ReadonlyArray<number> | undefined
  /** Dilation of the kernel (`rhs_dilation`, atrous convolution), default 1. */
  readonly kernelDilation?: number | ReadonlyArray<number> | undefined
  /** Splits the features into groups convolved separately (default 1; `inFeatures` for depthwise). */
  readonly featureGroupCount?: number | undefined
  readonly useBias?: boolean | undefined
  /** Multiplies the kernel before every call (masked convolutions), shape of the kernel. */
  readonly mask?: JArray | null | undefined
  readonly dtype?: NumericDType | undefined
  readonly paramDtype?: NumericDType | undefined
  readonly precision?: Precision | undefined
  /** Default `initializers.lecunNormal()`. */
  readonly kernelInit?: Initializer | undefined
  /** Default `initializers.zeros`. */
  readonly biasInit?: Initializer | undefined
  readonly rngs: Rngs
  /** Metadata of the kernel Param (`kernel_metadata`: `{ shardingNames: ["embed", "mlp"] }`, say). */
  readonly kernelMetadata?: Metadata | undefined
  /** Metadata of the bias Param (`bias_metadata`). */
  readonly biasMetadata?: Metadata | undefined
}

const asTuple = (x: number | ReadonlyArray<number>): Array<number> => (typeof x === "number" ? [x] : [...x])
const broadcastTo = (x: number | ReadonlyArray<number> | null | undefined, n: number): Array<number> =>
  x === null || x === undefined
    ? new Array<number>(n).fill(1)
    : typeof x === "number"
      ? new Array<number>(n).fill(x)
      : [...x]

/** Flax's `canonicalize_padding`: a rule stays a string, numbers become `[lo, hi]` pairs. */
const canonicalPadding = (
  layer: string,
  padding: ConvLayerPadding,
  rank: number
): string | Array<readonly [number, number]> => {
  if (typeof padding === "string") return padding
  if (typeof padding === "number") return new Array(rank).fill([padding, padding] as const)
  if (padding.length === rank) {
    return padding.map((p) => (typeof p === "number" ? ([p, p] as const) : ([p[0], p[1]] as const)))
  }
  throw layerError(
    layer,
    `padding ${JSON.stringify(padding)} needs one entry per spatial dimension (${rank}): a number or a [lo, hi] pair`
  )
}

/** Pads axis `axis` by wrapping around (numpy's `wrap` mode), `lo` elements before and `hi` after. */
const wrapAxis = (x: JArray, axis: number, lo: number, hi: number): JArray => {
  const n = x.shape[axis]!
  if (n === 0 || (lo === 0 && hi === 0)) return x
  const take = (start: number, stop: number): JArray =>
    bind1("slice", [x], {
      startIndices: x.shape.map((_, i) => (i === axis ? start : 0)),
      limitIndices: x.shape.map((d, i) => (i === axis ? stop : d)),
      strides: x.shape.map(() => 1)
    })
  // Element i of the result (from -lo) is x[(i mod n)]: whole copies then the partial ends.
  const parts: Array<JArray> = []
  const first = ((-lo % n) + n) % n
  let remaining = lo + n + hi
  let at = first
  while (remaining > 0) {
    const len = Math.min(n - at, remaining)
    parts.push(take(at, at + len))
    remaining -= len
    at = 0
  }
  return parts.length === 1 ? parts[0]! : concatenate(parts, axis)
}

/** Folds the leading batch axes into one (adding one for an unbatched input). */
const flattenBatch = (
  inputs: JArray,
  spatialRank: number
): { readonly x: JArray; readonly batchShape: ReadonlyArray<number> | null } => {
  const nb = inputs.ndim - (spatialRank + 1)
  if (nb === 1) return { x: inputs, batchShape: null }
  const batchShape = inputs.shape.slice(0, nb)
  return { x: reshape(inputs, [batchShape.reduce((a, b) => a * b, 1), ...inputs.shape.slice(nb)]), batchShape }
}

const restoreBatch = (y: JArray, batchShape: ReadonlyArray<number> | null): JArray =>
  batchShape === null ? y : reshape(y, [...batchShape, ...y.shape.slice(1)])

/** Channels-last dimension numbers for a rank: `N...C`, `...IO`, `N...C`. */
const channelsLast = (rank: number) => {
  const sp = Array.from({ length: rank - 2 }, (_, i) => i + 1)
  return {
    lhsSpec: [0, rank - 1, ...sp],
    rhsSpec: [rank - 1, rank - 2, ...sp.map((a) => a - 1)],
    outSpec: [0, rank - 1, ...sp]
  }
}

const addBias = (y: JArray, bias: JArray | null): JArray =>
  bias === null ? y : add(y, reshape(bias, [...new Array<number>(y.ndim - 1).fill(1), -1]))

/** Shared input checks: rank and feature size, with the layer's name in the error. */
const checkInput = (layer: string, inputs: JArray, spatialRank: number, inFeatures: number): void => {
  if (inputs.ndim < spatialRank + 1) {
    throw layerError(
      layer,
      `expected inputs of rank at least ${spatialRank + 1} ([...batch, ...${spatialRank} spatial, features]) for a ${spatialRank}D kernel, got shape ${fmtShape(inputs.shape)}`
    )
  }
  if (inputs.shape[inputs.ndim - 1] !== inFeatures) {
    throw layerError(
      layer,
      `expected inputs whose last axis has ${inFeatures} features, got shape ${fmtShape(inputs.shape)}`
    )
  }
}

/**
 * A convolution over channels-last inputs, as `flax.nnx.Conv`: parameters `kernel`
 * (`[...kernelSize, inFeatures / featureGroupCount, outFeatures]`) and `bias` (`[outFeatures]`).
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const conv = new nnx.Conv(1, 32, [3, 3], { rngs: new nnx.Rngs(0) })
 * conv.call(jnp.ones([8, 28, 28, 1])).shape // [8, 28, 28, 32]
 * ```
 * @category layers
 * @since 0.2.0
 */
export class Conv extends Module {
  kernel: Param<JArray>
  bias: Param<JArray> | null
  inFeatures: number
  outFeatures: number
  kernelSize: ReadonlyArray<number>
  strides: number | ReadonlyArray<number>
  padding: ConvLayerPadding
  inputDilation: number | ReadonlyArray<number>
  kernelDilation: number | ReadonlyArray<number>
  featureGroupCount: number
  useBias: boolean
  mask: JArray | null
  dtype: NumericDType | null
  paramDtype: NumericDType
  precision: Precision

  constructor(
    inFeatures: number,
    outFeatures: number,
    kernelSize: number | ReadonlyArray<number>,
    options: ConvOptions
  ) {
    super()
    const fg = options.featureGroupCount ?? 1
    if (!Number.isInteger(fg) || fg < 1 || inFeatures % fg !== 0 || outFeatures % fg !== 0) {
      throw layerError(
        "Conv",
        `featureGroupCount ${fg} must be a positive integer dividing inFeatures (${inFeatures}) and outFeatures (${outFeatures})`
      )
    }
    const ks = asTuple(kernelSize)
    const paramDtype = options.paramDtype ?? "float32"
    const params = options.rngs.stream("params")
    this.kernel = new Param(
      (options.kernelInit ?? lecunNormal())(params(), [...ks, inFeatures / fg, outFeatures], paramDtype),
      options.kernelMetadata
    )
    const useBias = options.useBias ?? true
    this.bias = useBias
      ? new Param((options.biasInit ?? zeros)(params(), [outFeatures], paramDtype), options.biasMetadata)
      : null
    this.inFeatures = inFeatures
    this.outFeatures = outFeatures
    this.kernelSize = ks
    this.strides = options.strides ?? 1
    this.padding = options.padding ?? "SAME"
    this.inputDilation = options.inputDilation ?? 1
    this.kernelDilation = options.kernelDilation ?? 1
    this.featureGroupCount = fg
    this.useBias = useBias
    this.mask = options.mask ?? null
    this.dtype = options.dtype ?? null
    this.paramDtype = paramDtype
    this.precision = options.precision ?? null
  }

  /**
   * Convolves `inputs` (`[...batch, ...spatial, inFeatures]`).
   * @throws LayerError when the rank or the feature size is wrong, or CAUSAL padding is not 1D.
   */
  call(inputs: JArray): JArray {
    const n = this.kernelSize.length
    checkInput("Conv", inputs, n, this.inFeatures)
    let { x, batchShape } = flattenBatch(inputs, n)
    const strides = broadcastTo(this.strides, n)
    const inputDilation = broadcastTo(this.inputDilation, n)
    const kernelDilation = broadcastTo(this.kernelDilation, n)
    let padding = canonicalPadding("Conv", this.padding, n)
    if (padding === "CIRCULAR") {
      this.kernelSize.forEach((k, i) => {
        const dilated = (k - 1) * kernelDilation[i]! + 1
        x = wrapAxis(x, i + 1, Math.floor((dilated - 1) / 2), Math.floor(dilated / 2))
      })
      padding = "VALID"
    } else if (padding === "CAUSAL") {
      if (n !== 1)
        throw layerError(
          "Conv",
          `CAUSAL padding is only implemented for 1D convolutions, this kernel has ${n} spatial dimensions`
        )
      const left = kernelDilation[0]! * (this.kernelSize[0]! - 1)
      x = bind1("pad", [x, fromScalar(0, x.dtype as NumericDType)], {
        config: [
          [0, 0, 0],
          [left, 0, 0],
          [0, 0, 0]
        ]
      })
      padding = "VALID"
    }
    if (padding !== "SAME" && padding !== "VALID" && padding !== "SAME_LOWER" && typeof padding === "string") {
      throw layerError(
        "Conv",
        `padding "${padding}" is not SAME, VALID, SAME_LOWER, CIRCULAR, CAUSAL or explicit pairs`
      )
    }
    let kernel = this.kernel.value
    if (this.mask !== null) kernel = multiply(kernel, this.mask)
    const [xs, k, bias] = promoteDtype("Conv", [x, kernel, this.bias?.value ?? null], this.dtype ?? undefined)
    const y = convGeneralDilated(xs, k, strides, padding, {
      lhsDilation: inputDilation,
      rhsDilation: kernelDilation,
      dimensionNumbers: channelsLast(xs.ndim),
      featureGroupCount: this.featureGroupCount
    })
    return restoreBatch(addBias(y, bias), batchShape)
  }
}

/**
 * Options of {@link ConvTranspose}.
 * @category layers
 * @since 0.2.0
 */
export interface ConvTransposeOptions extends Omit<ConvOptions, "inputDilation" | "featureGroupCount"> {
  /** Flip the kernel and swap its I/O axes, making this the gradient of a {@link Conv} (default false). */
  readonly transposeKernel?: boolean | undefined
}

/**
 * A transposed convolution over channels-last inputs, as `flax.nnx.ConvTranspose`: parameters
 * `kernel` (`[...kernelSize, inFeatures, outFeatures]`, or `[..., outFeatures, inFeatures]` with
 * `transposeKernel`) and `bias` (`[outFeatures]`).
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const up = new nnx.ConvTranspose(16, 8, [3, 3], { strides: 2, rngs: new nnx.Rngs(0) })
 * up.call(jnp.ones([2, 7, 7, 16])).shape // [2, 14, 14, 8]
 * ```
 * @category layers
 * @since 0.2.0
 */
export class ConvTranspose extends Module {
  kernel: Param<JArray>
  bias: Param<JArray> | null
  inFeatures: number
  outFeatures: number
  kernelSize: ReadonlyArray<number>
  strides: number | ReadonlyArray<number> | null
  padding: ConvLayerPadding
  kernelDilation: number | ReadonlyArray<number> | null
  useBias: boolean
  mask: JArray | null
  dtype: NumericDType | null
  paramDtype: NumericDType
  precision: Precision
  transposeKernel: boolean

  constructor(
    inFeatures: number,
    outFeatures: number,
    kernelSize: number | ReadonlyArray<number>,
    options: ConvTransposeOptions
  ) {
    super()
    const ks = asTuple(kernelSize)
    const transposeKernel = options.transposeKernel ?? false
    const paramDtype = options.paramDtype ?? "float32"
    const params = options.rngs.stream("params")
    const shape = transposeKernel ? [...ks, outFeatures, inFeatures] : [...ks, inFeatures, outFeatures]
    this.kernel = new Param((options.kernelInit ?? lecunNormal())(params(), shape, paramDtype), options.kernelMetadata)
    const useBias = options.useBias ?? true
    this.bias = useBias
      ? new Param((options.biasInit ?? zeros)(params(), [outFeatures], paramDtype), options.biasMetadata)
      : null
    this.inFeatures = inFeatures
    this.outFeatures = outFeatures
    this.kernelSize = ks
    this.strides = options.strides ?? null
    this.padding = options.padding ?? "SAME"
    this.kernelDilation = options.kernelDilation ?? null
    this.useBias = useBias
    this.mask = options.mask ?? null
    this.dtype = options.dtype ?? null
    this.paramDtype = paramDtype
    this.precision = options.precision ?? null
    this.transposeKernel = transposeKernel
  }

  /**
   * Applies the transposed convolution to `inputs` (`[...batch, ...spatial, inFeatures]`).
   * @throws LayerError when the rank or the feature size is wrong.
   */
  call(inputs: JArray): JArray {
    const n = this.kernelSize.length
    checkInput("ConvTranspose", inputs, n, this.inFeatures)
    const { x, batchShape } = flattenBatch(inputs, n)
    const strides = broadcastTo(this.strides, n)
    const kernelDilation = broadcastTo(this.kernelDilation, n)
    const canonical = canonicalPadding("ConvTranspose", this.padding, n)
    const circular = canonical === "CIRCULAR"
    if (typeof canonical === "string" && canonical !== "SAME" && canonical !== "VALID" && !circular) {
      throw layerError("ConvTranspose", `padding "${canonical}" is not SAME, VALID, CIRCULAR or explicit pairs`)
    }
    let kernel = this.kernel.value
    if (this.mask !== null) kernel = multiply(kernel, this.mask)
    const [xs, k, bias] = promoteDtype("ConvTranspose", [x, kernel, this.bias?.value ?? null], this.dtype ?? undefined)
    let y = convTranspose(
      xs,
      k,
      strides,
      circular ? "VALID" : (canonical as "SAME" | "VALID" | Array<readonly [number, number]>),
      {
        rhsDilation: kernelDilation,
        transposeKernel: this.transposeKernel,
        dimensionNumbers: channelsLast(xs.ndim)
      }
    )
    if (circular) {
      // Fold the full output onto one period (input size × stride) per axis, aligned so that the
      // input's start lands on a period boundary, as Flax does.
      const periods = xs.shape.slice(1, -1).map((d, i) => d * strides[i]!)
      const config = y.shape.map((d, i) => {
        if (i === 0 || i === y.ndim - 1) return [0, 0, 0] as const
        const period = periods[i - 1]!
        const diff = (((period - d) % (2 * period)) + 2 * period) % (2 * period)
        return this.transposeKernel
          ? ([Math.floor(diff / 2), Math.floor((diff + 1) / 2), 0] as const)
          : ([Math.floor((diff + 1) / 2), Math.floor(diff / 2), 0] as const)
      })
      y = bind1("pad", [y, fromScalar(0, y.dtype as NumericDType)], { config })
      for (let i = 1; i < y.ndim - 1; i++) {
        const period = periods[i - 1]!
        y = sum(reshape(y, [...y.shape.slice(0, i), -1, period, ...y.shape.slice(i + 1)]), i)
      }
    }
    return restoreBatch(addBias(y, bias), batchShape)
  }
}
