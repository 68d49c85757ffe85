/**
 * `Embed`: a lookup table of vectors, as `flax.nnx.Embed`, with `attend` for tied output
 * projections (logits against every embedding).
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../backend/Array.ts"
import type { NumericDType } from "../backend/DType.ts"
import { astype } from "../backend/numpy/elementwise.ts"
import { take } from "../backend/numpy/indexing.ts"
import { dot } from "../backend/numpy/linalg.ts"
import { broadcastTo, transpose } from "../backend/numpy/shapeOps.ts"
import { Module } from "../graph/Module.ts"
import type { Rngs } from "../graph/Rngs.ts"
import type { Metadata } from "../graph/Variable.ts"
import { Param } from "../graph/Variable.ts"
import type { Initializer } from "./initializers.ts"
import { varianceScaling } from "./initializers.ts"
import { fmtShape, layerError } from "./LayerError.ts"
import { promoteDtype } from "./promote.ts"

/** Flax's embedding default: variance scaling over the feature axis, normal. */
const defaultEmbedInit: Initializer = varianceScaling(1, "fan_in", "normal", { outAxis: 0 })

/**
 * Options of {@link Embed}.
 * @category layers
 * @since 0.1.0
 */
export interface EmbedOptions {
  /** The dtype of the looked-up vectors (default: the table's). */
  readonly dtype?: NumericDType | undefined
  readonly paramDtype?: NumericDType | undefined
  /** Default `varianceScaling(1, "fan_in", "normal", { outAxis: 0 })`. */
  readonly embeddingInit?: Initializer | undefined
  readonly rngs: Rngs
  /** Metadata of the embedding Param (`embedding_metadata`). */
  readonly embeddingMetadata?: Metadata | undefined
}

/**
 * A table `embedding` of shape `[numEmbeddings, features]`: `call(ids)` looks rows up,
 * `attend(query)` scores a query against every row.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const embed = new nnx.Embed(10, 4, { rngs: new nnx.Rngs(0) })
 * embed.call(jnp.array([[0, 3], [9, 1]])).shape // [2, 2, 4]
 * embed.attend(jnp.ones([2, 4])).shape // [2, 10]
 * ```
 * @category layers
 * @since 0.1.0
 */
export class Embed extends Module {
  embedding: Param<JArray>
  numEmbeddings: number
  features: number
  dtype: NumericDType
  paramDtype: NumericDType

  constructor(numEmbeddings: number, features: number, options: EmbedOptions) {
    super()
    const paramDtype = options.paramDtype ?? "float32"
    const init = options.embeddingInit ?? defaultEmbedInit
    this.embedding = new Param(
      init(options.rngs.stream("params")(), [numEmbeddings, features], paramDtype),
      options.embeddingMetadata
    )
    this.numEmbeddings = numEmbeddings
    this.features = features
    this.dtype = options.dtype ?? (this.embedding.value.dtype as NumericDType)
    this.paramDtype = paramDtype
  }

  /**
   * The rows named by integer `inputs`: shape `[...inputs.shape, features]`.
   * @throws LayerError for non-integer inputs.
   */
  call(inputs: JArray): JArray {
    if (inputs.dtype !== "int32" && inputs.dtype !== "uint32") {
      throw layerError("Embed", `inputs must be integer ids (int32 or uint32), got dtype ${inputs.dtype}`)
    }
    const table = astype(this.embedding.value, this.dtype)
    if (this.numEmbeddings === 1) return broadcastTo(table, [...inputs.shape, this.features])
    return take(table, inputs, 0)
  }

  /**
   * `query · embeddingᵀ`: a score per row (the tied output projection of language models).
   * @throws LayerError when the query's last axis is not `features` long.
   */
  attend(query: JArray): JArray {
    if (query.ndim === 0 || query.shape[query.ndim - 1] !== this.features) {
      throw layerError(
        "Embed",
        `attend expects queries whose last axis has ${this.features} features, got shape ${fmtShape(query.shape)}`
      )
    }
    const [q, table] = promoteDtype("Embed", [query, this.embedding.value], this.dtype)
    return dot(q, transpose(table))
  }
}
