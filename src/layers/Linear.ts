/**
 * `Linear` and `LinearGeneral`: dense layers, as Flax NNX's. Parameters are drawn in Flax's order
 * from the `params` stream (kernel, then bias), so `new nnx.Linear(3, 4, { rngs: new nnx.Rngs(0) })`
 * starts from the same numbers as `nnx.Linear(3, 4, rngs=nnx.Rngs(0))`.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../backend/Array.ts"
import type { NumericDType } from "../backend/DType.ts"
import { dotGeneral } from "../backend/lax.ts"
import { add } from "../backend/numpy/elementwise.ts"
import { reshape } from "../backend/numpy/shapeOps.ts"
import { Module } from "../graph/Module.ts"
import type { Rngs } from "../graph/Rngs.ts"
import type { Metadata } from "../graph/Variable.ts"
import { Param } from "../graph/Variable.ts"
import type { Initializer } from "./initializers.ts"
import { lecunNormal, zeros } from "./initializers.ts"
import { fmtShape, layerError } from "./LayerError.ts"
import { promoteDtype } from "./promote.ts"

/**
 * `jax.lax.Precision`: accepted for Flax parity and kept on the layer; every backend here computes
 * float32 products at full float32 precision, which is `"highest"`.
 * @category layers
 * @since 0.1.0
 */
export type Precision = "default" | "high" | "highest" | null

/** Flax's kernel default: LeCun normal. */
export const defaultKernelInit: Initializer = lecunNormal()
/** Flax's bias default: zeros. */
export const defaultBiasInit: Initializer = zeros

/**
 * Options of {@link Linear}.
 * @category layers
 * @since 0.1.0
 */
export interface LinearOptions {
  /** Whether to add a bias (default `true`). */
  readonly useBias?: boolean | undefined
  /** The computation dtype (default: promoted from the input and parameters). */
  readonly dtype?: NumericDType | undefined
  /** The parameters' dtype (default `float32`). */
  readonly paramDtype?: NumericDType | undefined
  readonly precision?: Precision | undefined
  /** Default `initializers.lecunNormal()`. */
  readonly kernelInit?: Initializer | undefined
  /** Default `initializers.zeros`. */
  readonly biasInit?: Initializer | undefined
  /** Metadata of the kernel Param (`kernel_metadata`: `{ shardingNames: ["embed", "mlp"] }`, say). */
  readonly kernelMetadata?: Metadata | undefined
  /** Metadata of the bias Param (`bias_metadata`). */
  readonly biasMetadata?: Metadata | undefined
  /** Draws the parameters from its `params` stream (or `default`). */
  readonly rngs: Rngs
}

/**
 * `y = x · kernel + bias` over the last axis of `x`, as `flax.nnx.Linear`. Parameters: `kernel`
 * of shape `[inFeatures, outFeatures]` and `bias` of shape `[outFeatures]` (`null` without bias).
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const layer = new nnx.Linear(3, 4, { rngs: new nnx.Rngs(0) })
 * layer.call(jnp.ones([2, 3])).shape // [2, 4]
 * ```
 * @category layers
 * @since 0.1.0
 */
export class Linear extends Module {
  kernel: Param<JArray>
  bias: Param<JArray> | null
  inFeatures: number
  outFeatures: number
  useBias: boolean
  dtype: NumericDType | null
  paramDtype: NumericDType
  precision: Precision

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions) {
    super()
    const paramDtype = options.paramDtype ?? "float32"
    const params = options.rngs.stream("params")
    this.kernel = new Param(
      (options.kernelInit ?? defaultKernelInit)(params(), [inFeatures, outFeatures], paramDtype),
      options.kernelMetadata
    )
    const useBias = options.useBias ?? true
    this.bias = useBias
      ? new Param((options.biasInit ?? defaultBiasInit)(params(), [outFeatures], paramDtype), options.biasMetadata)
      : null
    this.inFeatures = inFeatures
    this.outFeatures = outFeatures
    this.useBias = useBias
    this.dtype = options.dtype ?? null
    this.paramDtype = paramDtype
    this.precision = options.precision ?? null
  }

  /**
   * Applies the layer to the last axis of `inputs`.
   * @throws LayerError when the last axis is not `inFeatures` long.
   */
  call(inputs: JArray): JArray {
    if (inputs.ndim === 0 || inputs.shape[inputs.ndim - 1] !== this.inFeatures) {
      throw layerError(
        "Linear",
        `expected inputs whose last axis has ${this.inFeatures} features, got shape ${fmtShape(inputs.shape)}`
      )
    }
    const [x, kernel, bias] = promoteDtype(
      "Linear",
      [inputs, this.kernel.value, this.bias?.value ?? null],
      this.dtype ?? undefined
    )
    const y = dotGeneral(x, kernel, [
      [[x.ndim - 1], [0]],
      [[], []]
    ])
    return bias === null ? y : add(y, reshape(bias, [...new Array<number>(y.ndim - 1).fill(1), -1]))
  }
}

/**
 * Options of {@link LinearGeneral}.
 * @category layers
 * @since 0.1.0
 */
export interface LinearGeneralOptions extends LinearOptions {
  /** The input axes contracted with the kernel, one per entry of `inFeatures` (default -1). */
  readonly axis?: number | ReadonlyArray<number> | undefined
  /**
   * Leading input axes that are batch dimensions of the kernel (a separate kernel per index), and
   * their sizes: `{ 0: 8 }`. Must be consecutive from 0.
   */
  readonly batchAxis?: Readonly<Record<number, number>> | undefined
}

const tuple = (x: number | ReadonlyArray<number>): ReadonlyArray<number> => (typeof x === "number" ? [x] : [...x])
const product = (xs: ReadonlyArray<number>): number => xs.reduce((a, b) => a * b, 1)
const normalizeAxes = (axes: ReadonlyArray<number>, ndim: number): Array<number> =>
  axes.map((a) => (a < 0 ? a + ndim : a)).sort((a, b) => a - b)

/**
 * A linear map over several axes, as `flax.nnx.LinearGeneral`: contracts the input's `axis` axes
 * (sizes `inFeatures`) with a kernel of shape `[...batchSizes, ...inFeatures, ...outFeatures]`.
 * The initializers see the kernel as a `[batch·in, out]` matrix, as Flax's do, so the fans are those
 * of the flattened map.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const layer = new nnx.LinearGeneral([2, 3], 4, { axis: [-2, -1], rngs: new nnx.Rngs(0) })
 * layer.call(jnp.ones([5, 2, 3])).shape // [5, 4]
 * ```
 * @category layers
 * @since 0.1.0
 */
export class LinearGeneral extends Module {
  kernel: Param<JArray>
  bias: Param<JArray> | null
  inFeatures: ReadonlyArray<number>
  outFeatures: ReadonlyArray<number>
  axis: ReadonlyArray<number>
  batchAxis: ReadonlyArray<readonly [number, number]>
  useBias: boolean
  dtype: NumericDType | null
  paramDtype: NumericDType
  precision: Precision

  constructor(
    inFeatures: number | ReadonlyArray<number>,
    outFeatures: number | ReadonlyArray<number>,
    options: LinearGeneralOptions
  ) {
    super()
    const inF = tuple(inFeatures)
    const outF = tuple(outFeatures)
    const axis = tuple(options.axis ?? -1)
    if (inF.length !== axis.length) {
      throw layerError(
        "LinearGeneral",
        `inFeatures and axis must have the same length, got (${inF.join(", ")}) and (${axis.join(", ")})`
      )
    }
    const batch = Object.entries(options.batchAxis ?? {})
      .map(([k, v]) => [Number(k), v] as const)
      .sort((a, b) => a[0] - b[0])
    if (batch.some(([k], i) => k !== i)) {
      throw layerError(
        "LinearGeneral",
        `batchAxis keys (${batch.map(([k]) => k).join(", ")}) must be consecutive leading dimensions starting from 0`
      )
    }
    const paramDtype = options.paramDtype ?? "float32"
    const params = options.rngs.stream("params")
    const batchShape = batch.map(([, v]) => v)
    const kernelShape = [...batchShape, ...inF, ...outF]
    // The initializer sees the flattened [batch·in, out] matrix, so its fans are the map's.
    const kernelInit = options.kernelInit ?? defaultKernelInit
    const flat = [product(batchShape) * product(inF), product(outF)]
    this.kernel = new Param(reshape(kernelInit(params(), flat, paramDtype), kernelShape), options.kernelMetadata)
    const useBias = options.useBias ?? true
    const biasShape = [...batchShape, ...outF]
    this.bias = useBias
      ? new Param(
          reshape((options.biasInit ?? defaultBiasInit)(params(), [product(biasShape)], paramDtype), biasShape),
          options.biasMetadata
        )
      : null
    this.inFeatures = inF
    this.outFeatures = outF
    this.axis = axis
    this.batchAxis = batch
    this.useBias = useBias
    this.dtype = options.dtype ?? null
    this.paramDtype = paramDtype
    this.precision = options.precision ?? null
  }

  /**
   * Contracts the `axis` axes of `inputs` with the kernel.
   * @throws LayerError when those axes are not `inFeatures` long.
   */
  call(inputs: JArray): JArray {
    const ndim = inputs.ndim
    const axis = normalizeAxes(this.axis, ndim)
    const batchAxis = normalizeAxes(
      this.batchAxis.map(([k]) => k),
      ndim
    )
    if (axis.some((a) => a < 0 || a >= ndim) || axis.some((a, i) => inputs.shape[a] !== [...this.inFeatures][i])) {
      throw layerError(
        "LinearGeneral",
        `expected inputs with axes (${this.axis.join(", ")}) of sizes (${this.inFeatures.join(", ")}), got shape ${fmtShape(inputs.shape)}`
      )
    }
    const nBatch = this.batchAxis.length
    const batchInd = Array.from({ length: nBatch }, (_, i) => i)
    const contractInd = Array.from({ length: axis.length }, (_, i) => nBatch + i)
    const [x, kernel, bias] = promoteDtype(
      "LinearGeneral",
      [inputs, this.kernel.value, this.bias?.value ?? null],
      this.dtype ?? undefined
    )
    const out = dotGeneral(x, kernel, [
      [axis, contractInd],
      [batchAxis, batchInd]
    ])
    if (bias === null) return out
    const expanded: Array<number> = []
    for (let a = 0; a < ndim; a++) {
      if (axis.includes(a)) continue
      expanded.push(batchAxis.includes(a) ? inputs.shape[a]! : 1)
    }
    return add(out, reshape(bias, [...expanded, ...this.outFeatures]))
  }
}
