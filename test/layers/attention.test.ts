/**
 * Attention against JAX and Flax NNX (test/goldens/layers.json): `nn.dotProductAttention` (bias,
 * mask, causal, scale, grouped-query, unbatched), Flax's `dotProductAttention` and its weights
 * (with attention dropout), the mask helpers, and `MultiHeadAttention` (self, cross with a mask,
 * grouped-query with normalized queries and keys, dropout, and step-by-step decoding with its
 * cache equal to causal attention); gradients; errors.
 */
import { describe, expect, it } from "vitest"
import { grad, jnp, nn, nnx, random } from "effect-nnx"
import { checkGrad, expectClose, expectState, fromResult, goldens, layerCase } from "./support.ts"

const A = goldens.attention
const inp = (name: string): jnp.Array => fromResult(A.inputs[name]!)
const want = (name: string) => {
  const c = A.cases.find((c) => c.name === name)
  if (c === undefined) throw new Error(`no attention golden ${name}`)
  return c.value
}

describe("dot-product attention against JAX and Flax", () => {
  const q = inp("q"),
    k = inp("k"),
    v = inp("v"),
    kvGqa = inp("kvGqa"),
    bias = inp("bias"),
    mask = inp("mask")
  const tol = [2e-6, 2e-5] as const
  it("nn.dotProductAttention: plain, bias and mask, causal with a scale, grouped-query, unbatched", () => {
    expectClose(nn.dotProductAttention(q, k, v), want("jax.nn(plain)"), ...tol)
    expectClose(nn.dotProductAttention(q, k, v, { bias, mask }), want("jax.nn(bias,mask)"), ...tol)
    const k4 = k.get(":", ":4"),
      v4 = v.get(":", ":4")
    expectClose(nn.dotProductAttention(q, k4, v4, { isCausal: true, scale: 0.3 }), want("jax.nn(causal,scale)"), ...tol)
    expectClose(nn.dotProductAttention(q, kvGqa, kvGqa), want("jax.nn(gqa)"), ...tol)
    expectClose(nn.dotProductAttention(q.get(0), k.get(0), v.get(0)), want("jax.nn(unbatched)"), ...tol)
  })

  it("nnx.dotProductAttention and its weights: a float mask, bias with causal, dropout (broadcast and not, grouped)", () => {
    expectClose(nnx.dotProductAttention(q, k, v, { mask: mask.astype("float32") }), want("nnx(mask)"), ...tol)
    const k4 = k.get(":", ":4")
    expectClose(
      nnx.dotProductAttentionWeights(q, k4, { bias: bias.get("...", ":4"), isCausal: true }),
      want("nnx.weights(bias,causal)"),
      ...tol
    )
    expectClose(
      nnx.dotProductAttentionWeights(q, k, { dropoutRng: random.key(17), dropoutRate: 0.4 }),
      want("nnx.weights(dropout)"),
      ...tol
    )
    expectClose(
      nnx.dotProductAttention(q, kvGqa, kvGqa, {
        dropoutRng: random.key(18),
        dropoutRate: 0.3,
        broadcastDropout: false
      }),
      want("nnx(dropout,gqa)"),
      ...tol
    )
  })

  it("makeCausalMask and makeAttentionMask give Flax's masks", () => {
    expectClose(nnx.makeCausalMask(jnp.ones([2, 4])), want("nnx.causalMask"), 0, 0)
    expectClose(
      nnx.makeAttentionMask(jnp.array([[1, 1, 0]]), jnp.array([[1, 0, 1, 1]])),
      want("nnx.attentionMask"),
      0,
      0
    )
    expect(nnx.combineMasks([null, undefined])).toBe(null)
    expect(() => nnx.combineMasks([jnp.ones([2]), jnp.ones([2, 2])])).toThrow(
      "combineMasks: masks must have the same rank, got (1, 2)"
    )
  })

  it("gradients with respect to the query match finite differences", () => {
    const small = q.get(0, ":2", ":2")
    const f = (x: jnp.Array) =>
      jnp.sum(jnp.tanh(nn.dotProductAttention(x, k.get(0, ":3", ":2"), v.get(0, ":3", ":2"), { isCausal: false })))
    checkGrad(f, small, grad(f)(small))
  })

  it("mismatched shapes are errors naming what differs", () => {
    expect(() => nnx.dotProductAttention(q, k.get(":", ":", ":", ":4"), v)).toThrow(
      "dotProductAttention: query and key depths must match"
    )
    expect(() => nnx.dotProductAttention(q, k, v.get(":", ":5"))).toThrow(
      "dotProductAttention: key and value lengths must match, got 6 and 5"
    )
    expect(() => nnx.dotProductAttention(q, k.get(0), v)).toThrow(
      "query, key and value must have the same rank, got 4, 3, 4"
    )
    expect(() => nn.dotProductAttention(q, k.get(":", ":", ":2"), v.get(":", ":", ":2"))).toThrow(
      "the query heads (3) must be a multiple of the key heads (2)"
    )
  })
})

describe("MultiHeadAttention against Flax", () => {
  it("self-attention: Flax's parameters (query, key, value, out), outputs plain and causal", () => {
    const c = layerCase("MultiHeadAttention(self)")
    const m = new nnx.MultiHeadAttention(2, 8, { decode: false, rngs: new nnx.Rngs(0) })
    expectState(m, c.params)
    const x = fromResult(c.inputs[0]!)
    expectClose(m.call(x), c.outputs["call"]!, 2e-6, 2e-5)
    expectClose(m.call(x, null, null, { isCausal: true }), c.outputs["causal"]!, 2e-6, 2e-5)
  })

  it("cross-attention with other widths and a padding mask", () => {
    const c = layerCase("MultiHeadAttention(cross)")
    const m = new nnx.MultiHeadAttention(4, 8, {
      qkvFeatures: 16,
      outFeatures: 5,
      inKvFeatures: 6,
      decode: false,
      rngs: new nnx.Rngs(1)
    })
    expectState(m, c.params)
    const [x, kv, mask] = c.inputs.map(fromResult) as [jnp.Array, jnp.Array, jnp.Array]
    expectClose(m.call(x, kv, null, { mask }), c.outputs["call"]!, 2e-6, 2e-5)
  })

  it("grouped-query attention with LayerNorm on queries and keys", () => {
    const c = layerCase("MultiHeadAttention(gqa,normalizeQk)")
    const m = new nnx.MultiHeadAttention(4, 8, {
      numKvHeads: 2,
      normalizeQk: true,
      decode: false,
      rngs: new nnx.Rngs(2)
    })
    expectState(m, c.params)
    expectClose(m.call(fromResult(c.inputs[0]!)), c.outputs["call"]!, 5e-6, 5e-5)
  })

  it("attention dropout draws from the forked dropout stream as Flax's does; deterministic calls do not", () => {
    const c = layerCase("MultiHeadAttention(dropout)")
    const m = new nnx.MultiHeadAttention(2, 8, {
      dropoutRate: 0.5,
      deterministic: false,
      decode: false,
      rngs: new nnx.Rngs({ params: 0, dropout: 3 })
    })
    expectState(m, c.params)
    const x = fromResult(c.inputs[0]!)
    expectClose(m.call(x), c.outputs["train"]!, 2e-6, 2e-5)
    expectClose(m.call(x, null, null, { deterministic: true }), c.outputs["eval"]!, 2e-6, 2e-5)
    expectState(m, c.stateAfter["eval"]!)
  })

  it("decoding one position at a time with the cache equals causal attention, as in Flax", () => {
    const c = layerCase("MultiHeadAttention(decode)")
    const m = new nnx.MultiHeadAttention(2, 8, { rngs: new nnx.Rngs(0) })
    const x = fromResult(c.inputs[0]!)
    m.initCache(x.shape)
    const steps = Array.from({ length: x.shape[1]! }, (_, i) =>
      m.call(x.get(":", `${i}:${i + 1}`), null, null, { decode: true })
    )
    expectClose(jnp.concatenate(steps, 1), c.outputs["decode"]!, 2e-6, 2e-5)
    expectState(m, c.stateAfter["decode"]!)
    expect(m.cacheIndex!.value.tolist()).toBe(4)
    expect(m.cachedKey).toBeInstanceOf(nnx.Cache)
    expectClose(m.call(x, null, null, { isCausal: true, decode: false }), c.outputs["causal"]!, 2e-6, 2e-5)
  })

  it("nnx.view with decode makes the cache; eval() makes dropout deterministic", () => {
    const m = new nnx.MultiHeadAttention(2, 8, { dropoutRate: 0.1, rngs: new nnx.Rngs(0) })
    const v = nnx.view(m, { decode: true, batchSize: 2, maxLength: 4 })
    expect(v.cachedKey!.value.shape).toEqual([2, 4, 2, 4])
    expect(m.cachedKey).toBe(null)
    m.eval()
    expect(m.deterministic).toBe(true)
  })

  it("wrong widths, decoding without a cache or several positions, dropout without a mode are LayerErrors", () => {
    const m = new nnx.MultiHeadAttention(2, 8, { rngs: new nnx.Rngs(0) })
    expect(() => m.call(jnp.ones([1, 3, 7]))).toThrow(
      "MultiHeadAttention: expected query inputs with 8 features, got shape (1, 3, 7)"
    )
    expect(() => m.call(jnp.ones([1, 1, 8]), null, null, { decode: true })).toThrow(
      "MultiHeadAttention: the autoregressive cache is not initialized; call initCache first"
    )
    m.initCache([1, 4, 8])
    expect(() => m.call(jnp.ones([1, 2, 8]), null, null, { decode: true })).toThrow(
      "autoregressive cache shape error: expected key shape (1, 1, 2, 4), got (1, 2, 2, 4)"
    )
    expect(m.cacheIndex!.value.tolist()).toBe(0)
    expect(() => new nnx.MultiHeadAttention(3, 8, { rngs: new nnx.Rngs(0) })).toThrow(
      "qkvFeatures (8) must be divisible by numHeads (3)"
    )
    expect(() => new nnx.MultiHeadAttention(4, 8, { numKvHeads: 3, rngs: new nnx.Rngs(0) })).toThrow(
      "numHeads (4) must be divisible by numKvHeads (3)"
    )
    const d = new nnx.MultiHeadAttention(2, 8, { dropoutRate: 0.2, rngs: new nnx.Rngs(0) })
    expect(() => d.call(jnp.ones([1, 2, 8]))).toThrow("MultiHeadAttention: no deterministic was given")
  })
})
