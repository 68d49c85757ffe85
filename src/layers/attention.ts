/**
 * Attention, as Flax NNX's `nnx.nn.attention`: `dotProductAttentionWeights` and
 * `dotProductAttention` over `[...batch, length, heads, headDim]` arrays (attention dropout and
 * grouped-query attention included), the mask helpers `makeAttentionMask`, `makeCausalMask` and
 * `combineMasks`, and the `MultiHeadAttention` layer with its autoregressive decode cache.
 *
 * Without dropout, `dotProductAttention` is `nn.dotProductAttention` (JAX's), as in Flax; with
 * dropout it computes the weights explicitly so the mask can be applied to them.
 *
 * @since 0.1.0
 */
import type { Metadata } from "../graph/Variable.ts"
import type { Array as JArray } from "../backend/Array.ts"
import type { NumericDType } from "../backend/DType.ts"
import { dynamicUpdateSlice } from "../backend/lax.ts"
import { dotProductAttention as jaxAttention } from "../backend/numpy/attention.ts"
import { arange, asArray, ones, zeros } from "../backend/numpy/creation.ts"
import { einsum } from "../backend/numpy/einsum.ts"
import {
  add,
  astype,
  divide,
  greaterEqual,
  lessEqual,
  logicalAnd,
  multiply,
  sqrt,
  where
} from "../backend/numpy/elementwise.ts"
import { tril } from "../backend/numpy/extraShape.ts"
import { softmax } from "../backend/numpy/nn.ts"
import { broadcastTo, expandDims, reshape } from "../backend/numpy/shapeOps.ts"
import { bernoulli } from "../backend/random/index.ts"
import { Module } from "../graph/Module.ts"
import type { Rngs } from "../graph/Rngs.ts"
import { isRngs, RngStream } from "../graph/Rngs.ts"
import { Cache } from "../graph/Variable.ts"
import type { Initializer } from "./initializers.ts"
import { zeros as zerosInit } from "./initializers.ts"
import { fmtShape, layerError } from "./LayerError.ts"
import type { Precision } from "./Linear.ts"
import { defaultKernelInit, LinearGeneral } from "./Linear.ts"
import { LayerNorm } from "./normalization.ts"
import { promoteDtype } from "./promote.ts"

const FLOAT32_MIN = -3.4028234663852886e38
const product = (xs: ReadonlyArray<number>): number => xs.reduce((a, b) => a * b, 1)
const sameShape = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean =>
  a.length === b.length && a.every((n, i) => n === b[i])

const validate = (layer: string, arrays: ReadonlyArray<JArray>): void => {
  const r = arrays[0]!.ndim
  if (arrays.some((a) => a.ndim !== r)) {
    throw layerError(layer, `query, key and value must have the same rank, got ${arrays.map((a) => a.ndim).join(", ")}`)
  }
  if (arrays.some((a) => !sameShape(a.shape.slice(0, -3), arrays[0]!.shape.slice(0, -3)))) {
    throw layerError(
      layer,
      `query, key and value batch dimensions must match, got shapes ${arrays.map((a) => fmtShape(a.shape)).join(", ")}`
    )
  }
}

/**
 * Options of {@link dotProductAttentionWeights} and {@link dotProductAttention}.
 * @category layers
 * @since 0.1.0
 */
export interface AttentionOptions {
  /** Added to the logits, broadcastable to `[...batch, heads, qLen, kvLen]`. */
  readonly bias?: JArray | null | undefined
  /** Non-zero (or `true`) where a query may attend to a key; broadcastable like `bias`. */
  readonly mask?: JArray | null | undefined
  /** Share the dropout mask across the batch and head dimensions (default `true`). */
  readonly broadcastDropout?: boolean | undefined
  readonly dropoutRng?: JArray | null | undefined
  readonly dropoutRate?: number | undefined
  readonly deterministic?: boolean | undefined
  readonly dtype?: NumericDType | undefined
  readonly precision?: Precision | undefined
  readonly isCausal?: boolean | undefined
}

/**
 * The attention weights `softmax(q·kᵀ/√d + bias, masked)`, shape `[...batch, heads, qLen, kvLen]`,
 * with dropout applied when a rate, a key and `deterministic: false` are given; as Flax's
 * `dot_product_attention_weights`.
 * @category layers
 * @since 0.1.0
 */
export const dotProductAttentionWeights = (query0: JArray, key0: JArray, options?: AttentionOptions): JArray => {
  const layer = "dotProductAttentionWeights"
  let [query, key] = promoteDtype(layer, [query0, key0], options?.dtype)
  const dtype = query.dtype as NumericDType
  validate(layer, [query, key])
  if (query.shape[query.ndim - 1] !== key.shape[key.ndim - 1]) {
    throw layerError(
      layer,
      `query and key depths must match, got ${query.shape[query.ndim - 1]} and ${key.shape[key.ndim - 1]}`
    )
  }
  const qHeads = query.shape[query.ndim - 2]!
  const kHeads = key.shape[key.ndim - 2]!
  const gqa = qHeads !== kHeads
  let spec = "...qhd,...khd->...hqk"
  if (gqa) {
    if (qHeads % kHeads !== 0)
      throw layerError(
        layer,
        `query heads (${qHeads}) must be a multiple of key heads (${kHeads}) for grouped-query attention`
      )
    query = reshape(query, [...query.shape.slice(0, -2), kHeads, qHeads / kHeads, query.shape[query.ndim - 1]!])
    key = expandDims(key, -2)
    spec = "...qhgd,...khid->...hgqk"
  }
  const depth = query.shape[query.ndim - 1]!
  query = divide(query, astype(sqrt(asArray(depth)), dtype))
  let weights = einsum(spec, query, key)
  if (gqa)
    weights = reshape(weights, [
      ...weights.shape.slice(0, -4),
      qHeads,
      weights.shape[weights.ndim - 2]!,
      weights.shape[weights.ndim - 1]!
    ])
  if (options?.bias != null) weights = add(weights, options.bias)
  if (options?.mask != null || options?.isCausal === true) {
    const masks: Array<JArray> = options?.mask != null ? [options.mask] : []
    if (options?.isCausal === true) {
      const [t, s] = weights.shape.slice(-2) as [number, number]
      masks.push(broadcastTo(tril(ones([t, s], { dtype })), options?.mask != null ? options.mask.shape : weights.shape))
    }
    weights = where(combineMasks(masks, { dtype })!, weights, FLOAT32_MIN)
  }
  weights = astype(softmax(weights), dtype)
  const rate = options?.dropoutRate ?? 0
  if (options?.deterministic !== true && rate > 0) {
    if (options?.dropoutRng == null)
      throw layerError(layer, "dropoutRate > 0 and not deterministic, but no dropoutRng was given")
    const keepProb = 1 - rate
    const ndimBase = gqa ? key.ndim - 1 : key.ndim
    const shape =
      (options?.broadcastDropout ?? true)
        ? [...new Array<number>(ndimBase - 2).fill(1), ...weights.shape.slice(-2)]
        : weights.shape
    const keep = bernoulli(options.dropoutRng, keepProb, shape)
    weights = multiply(weights, divide(astype(keep, dtype), asArray(keepProb, dtype)))
  }
  return weights
}

/**
 * Attention `weights · v`, shape `[...batch, qLen, heads, headDim]`, as Flax's
 * `dot_product_attention`.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const x = jnp.ones([2, 5, 4, 8]) // [batch, length, heads, headDim]
 * nnx.dotProductAttention(x, x, x, { isCausal: true }).shape // [2, 5, 4, 8]
 * ```
 * @category layers
 * @since 0.1.0
 */
export const dotProductAttention = (
  query0: JArray,
  key0: JArray,
  value0: JArray,
  options?: AttentionOptions
): JArray => {
  const layer = "dotProductAttention"
  const [query, key, value] = promoteDtype(layer, [query0, key0, value0], options?.dtype)
  validate(layer, [query, key, value])
  if (key.shape[key.ndim - 3] !== value.shape[value.ndim - 3]) {
    throw layerError(
      layer,
      `key and value lengths must match, got ${key.shape[key.ndim - 3]} and ${value.shape[value.ndim - 3]}`
    )
  }
  if (query.shape[query.ndim - 1] !== key.shape[key.ndim - 1]) {
    throw layerError(
      layer,
      `query and key depths must match, got ${query.shape[query.ndim - 1]} and ${key.shape[key.ndim - 1]}`
    )
  }
  if ((options?.dropoutRate ?? 0) === 0) {
    // Flax hands this case to jax.nn.dot_product_attention, on 4-d arrays.
    const qShape = query.shape
    const to4 = (x: JArray | null | undefined): JArray | null =>
      x == null ? null : x.ndim > 4 ? reshape(x, [product(x.shape.slice(0, -3)), ...x.shape.slice(-3)]) : x
    const out = jaxAttention(to4(query)!, to4(key)!, to4(value)!, {
      bias: to4(options?.bias),
      mask: options?.mask == null ? null : astype(to4(options.mask)!, "bool"),
      isCausal: options?.isCausal ?? false
    })
    return qShape.length > 4 ? reshape(out, qShape) : out
  }
  let weights = dotProductAttentionWeights(query, key, options)
  const qHeads = weights.shape[weights.ndim - 3]!
  const vHeads = value.shape[value.ndim - 2]!
  if (qHeads !== vHeads) {
    if (qHeads % vHeads !== 0)
      throw layerError(layer, `query heads (${qHeads}) must be a multiple of value heads (${vHeads})`)
    weights = reshape(weights, [...weights.shape.slice(0, -3), vHeads, qHeads / vHeads, ...weights.shape.slice(-2)])
    const out = einsum("...hgqk,...khid->...qhgd", weights, expandDims(value, -2))
    return reshape(out, [...out.shape.slice(0, -3), qHeads, out.shape[out.ndim - 1]!])
  }
  return einsum("...hqk,...khd->...qhd", weights, value)
}

/**
 * A `[...batch, 1, qLen, kvLen]` mask from per-position query and key inputs: `pairwiseFn(q_i, k_j)`
 * (multiply by default, so padding ids of 0 mask out), as Flax's `make_attention_mask`.
 * @category layers
 * @since 0.1.0
 */
export const makeAttentionMask = (
  queryInput: JArray,
  keyInput: JArray,
  options?: {
    readonly pairwiseFn?: ((a: JArray, b: JArray) => JArray) | undefined
    readonly extraBatchDims?: number | undefined
    readonly dtype?: NumericDType | undefined
  }
): JArray => {
  const f = options?.pairwiseFn ?? multiply
  let mask = f(expandDims(queryInput, -1), expandDims(keyInput, -2))
  mask = expandDims(mask, -3)
  const extra = options?.extraBatchDims ?? 0
  if (extra > 0)
    mask = expandDims(
      mask,
      Array.from({ length: extra }, (_, i) => i)
    )
  return astype(mask, options?.dtype ?? "float32")
}

/**
 * A causal mask for inputs of shape `[...batch, length]`: position i attends to j ≤ i, as Flax's
 * `make_causal_mask`.
 * @category layers
 * @since 0.1.0
 */
export const makeCausalMask = (
  x: JArray,
  options?: { readonly extraBatchDims?: number | undefined; readonly dtype?: NumericDType | undefined }
): JArray => {
  const idxs = broadcastTo(arange(x.shape[x.ndim - 1]!), x.shape)
  return makeAttentionMask(idxs, idxs, { pairwiseFn: greaterEqual, ...options })
}

/**
 * The logical and of the masks given (nulls skipped), as Flax's `combine_masks`; `null` when none.
 * @category layers
 * @since 0.1.0
 */
export const combineMasks = (
  masks: ReadonlyArray<JArray | null | undefined>,
  options?: { readonly dtype?: NumericDType | undefined }
): JArray | null => {
  const list = masks.filter((m): m is JArray => m != null)
  if (list.length === 0) return null
  if (list.some((m) => m.ndim !== list[0]!.ndim)) {
    throw layerError("combineMasks", `masks must have the same rank, got (${list.map((m) => m.ndim).join(", ")})`)
  }
  let mask = list[0]!
  for (const m of list.slice(1)) mask = logicalAnd(mask, m)
  return astype(mask, options?.dtype ?? "float32")
}

/**
 * Options of {@link MultiHeadAttention}.
 * @category layers
 * @since 0.1.0
 */
export interface MultiHeadAttentionOptions {
  /** Total query/key/value features across heads (default `inFeatures`). */
  readonly qkvFeatures?: number | undefined
  /** Output features (default `inFeatures`). */
  readonly outFeatures?: number | undefined
  /** Key/value heads, dividing `numHeads` (grouped-query attention; default `numHeads`). */
  readonly numKvHeads?: number | undefined
  /** Features of the key/value inputs (default `inFeatures`). */
  readonly inKvFeatures?: number | undefined
  readonly dtype?: NumericDType | undefined
  readonly paramDtype?: NumericDType | undefined
  readonly broadcastDropout?: boolean | undefined
  readonly dropoutRate?: number | undefined
  readonly deterministic?: boolean | null | undefined
  readonly precision?: Precision | undefined
  readonly kernelInit?: Initializer | undefined
  readonly outKernelInit?: Initializer | undefined
  readonly biasInit?: Initializer | undefined
  readonly outBiasInit?: Initializer | undefined
  /** Metadata of the query, key and value kernels (`kernel_metadata`), and of the output kernel unless `outKernelMetadata`. */
  readonly kernelMetadata?: Metadata | undefined
  readonly outKernelMetadata?: Metadata | undefined
  /** Metadata of the query, key and value biases, and of the output bias unless `outBiasMetadata`. */
  readonly biasMetadata?: Metadata | undefined
  readonly outBiasMetadata?: Metadata | undefined
  /** Metadata of the query and key LayerNorms' scales (with `normalizeQk`). */
  readonly queryLnScaleMetadata?: Metadata | undefined
  readonly keyLnScaleMetadata?: Metadata | undefined
  readonly useBias?: boolean | undefined
  /** Autoregressive decoding with a key/value cache (`initCache` first). */
  readonly decode?: boolean | null | undefined
  /** LayerNorm (scale only) on queries and keys per head. */
  readonly normalizeQk?: boolean | undefined
  readonly rngs: Rngs
  /** Keep a forked `dropout` stream on the layer (default `true`, when dropoutRate > 0). */
  readonly keepRngs?: boolean | undefined
}

/**
 * Options of a {@link MultiHeadAttention} call.
 * @category layers
 * @since 0.1.0
 */
export interface MultiHeadAttentionCallOptions {
  readonly mask?: JArray | null | undefined
  readonly deterministic?: boolean | undefined
  readonly rngs?: Rngs | RngStream | undefined
  readonly decode?: boolean | undefined
  readonly isCausal?: boolean | undefined
}

/**
 * Multi-head attention, as `flax.nnx.MultiHeadAttention`: `query`, `key`, `value` projections
 * (LinearGeneral to `[heads, headDim]`), attention, and an `out` projection. Self-attention when
 * called with one input; cross-attention with `inputsK` (and `inputsV`). With `decode`, each call
 * takes one position, appends its key and value to the `Cache` Variables and attends to the
 * positions so far.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const mha = new nnx.MultiHeadAttention(2, 8, { rngs: new nnx.Rngs(0) })
 * mha.call(jnp.ones([3, 5, 8]), undefined, undefined, { isCausal: true }).shape // [3, 5, 8]
 * ```
 * @category layers
 * @since 0.1.0
 */
export class MultiHeadAttention extends Module {
  numHeads: number
  inFeatures: number
  qkvFeatures: number
  outFeatures: number
  inKvFeatures: number
  numKvHeads: number
  headDim: number
  dtype: NumericDType | null
  paramDtype: NumericDType
  broadcastDropout: boolean
  dropoutRate: number
  deterministic: boolean | null
  precision: Precision
  useBias: boolean
  decode: boolean | null
  normalizeQk: boolean
  query: LinearGeneral
  key: LinearGeneral
  value: LinearGeneral
  queryLn: LayerNorm | null
  keyLn: LayerNorm | null
  out: LinearGeneral
  rngs: RngStream | null
  cachedKey: Cache<JArray> | null
  cachedValue: Cache<JArray> | null
  cacheIndex: Cache<JArray> | null

  constructor(numHeads: number, inFeatures: number, options: MultiHeadAttentionOptions) {
    super()
    const layer = "MultiHeadAttention"
    this.numHeads = numHeads
    this.inFeatures = inFeatures
    this.qkvFeatures = options.qkvFeatures ?? inFeatures
    this.outFeatures = options.outFeatures ?? inFeatures
    this.inKvFeatures = options.inKvFeatures ?? inFeatures
    this.numKvHeads = options.numKvHeads ?? numHeads
    if (numHeads % this.numKvHeads !== 0)
      throw layerError(layer, `numHeads (${numHeads}) must be divisible by numKvHeads (${this.numKvHeads})`)
    if (this.qkvFeatures % numHeads !== 0)
      throw layerError(layer, `qkvFeatures (${this.qkvFeatures}) must be divisible by numHeads (${numHeads})`)
    this.headDim = this.qkvFeatures / numHeads
    this.dtype = options.dtype ?? null
    this.paramDtype = options.paramDtype ?? "float32"
    this.broadcastDropout = options.broadcastDropout ?? true
    this.dropoutRate = options.dropoutRate ?? 0
    this.deterministic = options.deterministic ?? null
    this.precision = options.precision ?? null
    this.useBias = options.useBias ?? true
    this.decode = options.decode ?? null
    this.normalizeQk = options.normalizeQk ?? false
    const kernelInit = options.kernelInit ?? defaultKernelInit
    const biasInit = options.biasInit ?? zerosInit
    const common = {
      dtype: options.dtype,
      paramDtype: this.paramDtype,
      kernelInit,
      biasInit,
      useBias: this.useBias,
      precision: options.precision,
      kernelMetadata: options.kernelMetadata,
      biasMetadata: options.biasMetadata,
      rngs: options.rngs
    }
    this.query = new LinearGeneral(inFeatures, [numHeads, this.headDim], common)
    this.key = new LinearGeneral(this.inKvFeatures, [this.numKvHeads, this.headDim], common)
    this.value = new LinearGeneral(this.inKvFeatures, [this.numKvHeads, this.headDim], common)
    if (this.normalizeQk) {
      this.queryLn = new LayerNorm(this.headDim, {
        useBias: false,
        dtype: options.dtype,
        paramDtype: this.paramDtype,
        scaleMetadata: options.queryLnScaleMetadata,
        rngs: options.rngs
      })
      this.keyLn = new LayerNorm(this.headDim, {
        useBias: false,
        dtype: options.dtype,
        paramDtype: this.paramDtype,
        scaleMetadata: options.keyLnScaleMetadata,
        rngs: options.rngs
      })
    } else {
      this.queryLn = null
      this.keyLn = null
    }
    this.out = new LinearGeneral([numHeads, this.headDim], this.outFeatures, {
      ...common,
      axis: [-2, -1],
      kernelInit: options.outKernelInit ?? kernelInit,
      biasInit: options.outBiasInit ?? biasInit,
      kernelMetadata: options.outKernelMetadata ?? options.kernelMetadata,
      biasMetadata: options.outBiasMetadata ?? options.biasMetadata
    })
    this.rngs = (options.keepRngs ?? true) && this.dropoutRate > 0 ? options.rngs.stream("dropout").fork() : null
    this.cachedKey = null
    this.cachedValue = null
    this.cacheIndex = null
  }

  /**
   * Attends from `inputsQ` to `inputsK` (default `inputsQ`) with values from `inputsV` (default
   * `inputsK`).
   * @throws LayerError for inputs of the wrong width, decoding without a cache or with more than
   * one position, and dropout in training with no rngs. Nothing is updated then.
   */
  call(
    inputsQ: JArray,
    inputsK?: JArray | null,
    inputsV?: JArray | null,
    options?: MultiHeadAttentionCallOptions
  ): JArray {
    const layer = "MultiHeadAttention"
    const rngsOpt = options?.rngs
    const rngs: RngStream | null =
      rngsOpt === undefined ? this.rngs : isRngs(rngsOpt) ? rngsOpt.stream("dropout") : rngsOpt
    if (inputsK == null && inputsV != null) {
      throw layerError(
        layer,
        "inputsK cannot be missing when inputsV is given; to use one array for both, pass it as inputsK"
      )
    }
    const xk = inputsK ?? inputsQ
    const xv = inputsV ?? xk
    if (inputsQ.shape[inputsQ.ndim - 1] !== this.inFeatures) {
      throw layerError(
        layer,
        `expected query inputs with ${this.inFeatures} features, got shape ${fmtShape(inputsQ.shape)}`
      )
    }
    if (xk.shape[xk.ndim - 1] !== this.inKvFeatures || xv.shape[xv.ndim - 1] !== this.inKvFeatures) {
      throw layerError(
        layer,
        `expected key and value inputs with ${this.inKvFeatures} features, got shapes ${fmtShape(xk.shape)} and ${fmtShape(xv.shape)}`
      )
    }
    const decode = options?.decode ?? this.decode ?? false
    // Every check that can fail comes before the cache or the dropout stream is touched.
    let deterministic = true
    if (this.dropoutRate > 0) {
      const d = options?.deterministic ?? this.deterministic
      if (d === null) {
        throw layerError(
          layer,
          "no deterministic was given to the constructor or the call; pass one, or switch the model with model.train() / model.eval() or nnx.view"
        )
      }
      deterministic = d
      if (!deterministic && rngs === null) {
        throw layerError(
          layer,
          "dropout in training needs rngs: give them to the call, or construct the layer with keepRngs (the default)"
        )
      }
    }
    let query = this.query.call(inputsQ)
    let key = this.key.call(xk)
    let value = this.value.call(xv)
    if (this.normalizeQk) {
      query = this.queryLn!.call(query)
      key = this.keyLn!.call(key)
    }
    let mask = options?.mask ?? null
    if (decode) {
      if (this.cachedKey === null || this.cachedValue === null || this.cacheIndex === null) {
        throw layerError(layer, "the autoregressive cache is not initialized; call initCache first")
      }
      const cacheShape = this.cachedKey.value.shape
      const batch = cacheShape.slice(0, -3)
      const maxLength = cacheShape[cacheShape.length - 3]!
      const expected = [...batch, 1, this.numKvHeads, this.headDim]
      if (!sameShape(expected, key.shape)) {
        throw layerError(
          layer,
          `autoregressive cache shape error: expected key shape ${fmtShape(expected)}, got ${fmtShape(key.shape)}`
        )
      }
      const cur = this.cacheIndex.value
      const starts = [...batch.map(() => 0), cur, 0, 0]
      key = dynamicUpdateSlice(this.cachedKey.value, key, starts)
      value = dynamicUpdateSlice(this.cachedValue.value, value, starts)
      this.cachedKey.value = key
      this.cachedValue.value = value
      this.cacheIndex.value = add(cur, 1)
      const visible = broadcastTo(lessEqual(arange(maxLength), cur), [...batch, 1, 1, maxLength])
      mask = combineMasks([mask, visible])
    }
    const dropoutRng = this.dropoutRate > 0 && !deterministic ? rngs!() : null
    const x = dotProductAttention(query, key, value, {
      mask,
      dropoutRng,
      dropoutRate: this.dropoutRate,
      broadcastDropout: this.broadcastDropout,
      deterministic,
      dtype: this.dtype ?? undefined,
      isCausal: options?.isCausal ?? false
    })
    return this.out.call(x)
  }

  /** Makes the decode cache for inputs of shape `[...batch, maxLength, features]`. */
  initCache(inputShape: ReadonlyArray<number>, dtype: NumericDType = "float32"): void {
    const shape = [...inputShape.slice(0, -1), this.numKvHeads, this.headDim]
    this.cachedKey = new Cache(zeros(shape, { dtype }))
    this.cachedValue = new Cache(zeros(shape, { dtype }))
    this.cacheIndex = new Cache(zeros([], { dtype: "int32" }))
  }

  /**
   * What `nnx.view` sets: `deterministic`, `decode` and, to make a cache when there is none,
   * `batchSize` and `maxLength`.
   */
  setView(options: {
    readonly deterministic?: boolean | undefined
    readonly decode?: boolean | undefined
    readonly batchSize?: number | ReadonlyArray<number> | undefined
    readonly maxLength?: number | undefined
  }): void {
    if (options.deterministic !== undefined) this.deterministic = options.deterministic
    if (options.decode !== undefined) {
      this.decode = options.decode
      if (options.decode && this.cachedKey === null) {
        if (options.batchSize === undefined || options.maxLength === undefined) {
          throw layerError(
            "MultiHeadAttention",
            "batchSize and maxLength must be given to nnx.view to initialize the decode cache"
          )
        }
        const batch = typeof options.batchSize === "number" ? [options.batchSize] : [...options.batchSize]
        this.initCache([...batch, options.maxLength, this.inFeatures], this.dtype ?? "float32")
      }
    }
  }

  /** The modes `nnx.view` may pass to this layer. */
  get viewModes(): ReadonlyArray<string> {
    return ["deterministic", "decode", "batchSize", "maxLength"]
  }
}
