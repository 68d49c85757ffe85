/**
 * `nn.dotProductAttention`, as `jax.nn.dot_product_attention` (its XLA form): scaled dot-product
 * attention over `[batch, seq, heads, headDim]` arrays (or without the batch axis), with an
 * additive `bias`, a boolean `mask`, `isCausal`, and grouped-query attention when the key/value
 * heads divide the query heads. Logits are scaled after the product, masked with a large finite
 * negative (so a fully masked row is uniform rather than NaN), and soft-maxed in float32.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../Array.ts"
import { ShapeError } from "../ArrayError.ts"
import { asArray } from "./creation.ts"
import { einsum } from "./einsum.ts"
import { add, astype, divide, exp, logicalAnd, multiply, subtract, where } from "./elementwise.ts"
import { tril } from "./extraShape.ts"
import { max, sum } from "./reductions.ts"
import { broadcastTo, expandDims, reshape } from "./shapeOps.ts"
import { ones } from "./creation.ts"

/**
 * Options of {@link dotProductAttention}.
 * @category activations
 * @since 0.1.0
 */
export interface DotProductAttentionOptions {
  /** Added to the logits; broadcastable to `[batch, heads, qLen, kvLen]`. */
  readonly bias?: JArray | null | undefined
  /** Where `false`, a query does not attend to a key; broadcastable to `[batch, heads, qLen, kvLen]`. */
  readonly mask?: JArray | null | undefined
  /** Multiplies the logits (default `1/√headDim`). */
  readonly scale?: number | undefined
  /** Each query attends only to keys at its position or before. */
  readonly isCausal?: boolean | undefined
}

const OP = "nn.dotProductAttention"
const FLOAT32_MAX = 3.4028234663852886e38

/** A `[B|1, N|1, T, S]` bias or mask, grouped as `[B|1, K, G, T, S]` for K key heads of G queries each. */
/** Softmax over the last axis (nn.ts re-exports this file, so it cannot import nn.softmax back). */
const softmaxLast = (x: JArray): JArray => {
  const e = exp(subtract(x, max(x, [x.ndim - 1], { keepdims: true })))
  return divide(e, sum(e, [x.ndim - 1], { keepdims: true }))
}

const grouped = (t: JArray, k: number, g: number): JArray => {
  const t4 = t.ndim < 4 ? reshape(t, [...new Array<number>(4 - t.ndim).fill(1), ...t.shape]) : t
  const [tb, tn, tt, ts] = t4.shape as [number, number, number, number]
  if (tn === 1) return expandDims(t4, 2)
  if (tn !== k * g)
    throw new ShapeError({
      op: OP,
      shapes: [t.shape],
      reason: `a bias or mask must have 1 or ${k * g} heads, got ${tn}`
    })
  return reshape(t4, [tb, k, g, tt, ts])
}

/**
 * Scaled dot-product attention: `softmax(q·kᵀ · scale + bias, masked) · v`.
 *
 * @example
 * ```ts
 * import { jnp, nn } from "effect-nnx"
 *
 * const q = jnp.ones([2, 5, 4, 8]) // [batch, qLen, heads, headDim]
 * const kv = jnp.ones([2, 7, 2, 8]) // two key/value heads shared by pairs of query heads
 * nn.dotProductAttention(q, kv, kv, { isCausal: false }).shape // [2, 5, 4, 8]
 * ```
 * @category activations
 * @since 0.1.0
 */
export const dotProductAttention = (
  query: JArray,
  key: JArray,
  value: JArray,
  options?: DotProductAttentionOptions
): JArray => {
  const unbatched = query.ndim === 3
  const q4 = unbatched ? expandDims(query, 0) : query
  const k4 = key.ndim === 3 ? expandDims(key, 0) : key
  const v4 = value.ndim === 3 ? expandDims(value, 0) : value
  if (q4.ndim !== 4 || k4.ndim !== 4 || v4.ndim !== 4) {
    throw new ShapeError({
      op: OP,
      shapes: [query.shape, key.shape, value.shape],
      reason: "query, key and value must be [batch, seq, heads, headDim] or [seq, heads, headDim]"
    })
  }
  const [b, t, n, h] = q4.shape as [number, number, number, number]
  const [kb, s, kh, kd] = k4.shape as [number, number, number, number]
  if (kb !== b || kd !== h || v4.shape[0] !== b || v4.shape[1] !== s || v4.shape[2] !== kh) {
    throw new ShapeError({
      op: OP,
      shapes: [query.shape, key.shape, value.shape],
      reason: "key and value must share query's batch and head size, and each other's length and heads"
    })
  }
  if (n % kh !== 0)
    throw new ShapeError({
      op: OP,
      shapes: [query.shape, key.shape],
      reason: `the query heads (${n}) must be a multiple of the key heads (${kh})`
    })
  const g = n / kh
  const scale = options?.scale ?? 1 / Math.sqrt(h)
  const qg = reshape(q4, [b, t, kh, g, h])
  let logits = einsum("BTKGH,BSKH->BKGTS", qg, k4)
  logits = multiply(logits, asArray(scale, "float32"))
  if (options?.bias != null) logits = add(logits, grouped(options.bias, kh, g))
  const causal = options?.isCausal ?? false
  if (options?.mask != null || causal) {
    let keep: JArray = broadcastTo(asArray(true), logits.shape)
    if (options?.mask != null) keep = logicalAnd(keep, grouped(astype(options.mask, "bool"), kh, g))
    if (causal) keep = logicalAnd(keep, astype(tril(ones([t, s])), "bool"))
    logits = where(keep, logits, asArray(-0.7 * FLOAT32_MAX, "float32"))
  }
  const probs = softmaxLast(astype(logits, "float32"))
  const out = reshape(einsum("BKGTS,BSKH->BTKGH", probs, v4), [b, t, n, h])
  return unbatched ? reshape(out, [t, n, h]) : out
}
