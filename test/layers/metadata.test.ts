/**
 * The layers' parameter metadata options, as Flax 0.12's `kernel_metadata`, `bias_metadata`,
 * `embedding_metadata` and `scale_metadata`: the metadata lands on the Param, survives split and
 * merge, and its sharding names reach `nnx.getPartitionSpec`.
 */
import { describe, expect, it } from "vitest"
import { jnp, nnx } from "effect-nnx"

const rngs = () => new nnx.Rngs(0)

describe("layer parameter metadata", () => {
  it("Linear, LinearGeneral, Einsum, Conv and ConvTranspose put kernelMetadata and biasMetadata on their Params", () => {
    const k = { shardingNames: ["embed", "mlp"], tag: "k" }
    const b = { shardingNames: ["mlp"] }
    const layers = [
      new nnx.Linear(2, 3, { kernelMetadata: k, biasMetadata: b, rngs: rngs() }),
      new nnx.LinearGeneral(2, 3, { kernelMetadata: k, biasMetadata: b, rngs: rngs() }),
      new nnx.Einsum("ab,bc->ac", [2, 3], [3], { kernelMetadata: k, biasMetadata: b, rngs: rngs() })
    ]
    for (const layer of layers) {
      expect(layer.kernel.metadata["shardingNames"]).toEqual(["embed", "mlp"])
      expect(layer.kernel.metadata["tag"]).toBe("k")
      expect(layer.bias!.metadata["shardingNames"]).toEqual(["mlp"])
    }
    const conv = new nnx.Conv(2, 3, [3], { kernelMetadata: { tag: "c" }, biasMetadata: { tag: "d" }, rngs: rngs() })
    expect(conv.kernel.metadata["tag"]).toBe("c")
    expect(conv.bias!.metadata["tag"]).toBe("d")
    const convT = new nnx.ConvTranspose(2, 3, [3], { kernelMetadata: { tag: "t" }, rngs: rngs() })
    expect(convT.kernel.metadata["tag"]).toBe("t")
    expect(convT.bias!.metadata["tag"]).toBeUndefined()
  })
  it("Embed's embeddingMetadata and the norms' scaleMetadata and biasMetadata", () => {
    const embed = new nnx.Embed(5, 4, { embeddingMetadata: { shardingNames: ["vocab", "embed"] }, rngs: rngs() })
    expect(embed.embedding.metadata["shardingNames"]).toEqual(["vocab", "embed"])
    for (const norm of [
      new nnx.LayerNorm(4, { scaleMetadata: { tag: "s" }, biasMetadata: { tag: "b" }, rngs: rngs() }),
      new nnx.BatchNorm(4, { scaleMetadata: { tag: "s" }, biasMetadata: { tag: "b" }, rngs: rngs() }),
      new nnx.GroupNorm(4, 2, { scaleMetadata: { tag: "s" }, biasMetadata: { tag: "b" }, rngs: rngs() })
    ]) {
      expect(norm.scale!.metadata["tag"]).toBe("s")
      expect(norm.bias!.metadata["tag"]).toBe("b")
    }
    expect(new nnx.RMSNorm(4, { scaleMetadata: { tag: "r" }, rngs: rngs() }).scale!.metadata["tag"]).toBe("r")
  })
  it("MultiHeadAttention passes its kernel, bias and query/key norm metadata on, the output's defaulting to the inputs'", () => {
    const mha = new nnx.MultiHeadAttention(2, 4, {
      kernelMetadata: { tag: "k" },
      biasMetadata: { tag: "b" },
      outBiasMetadata: { tag: "ob" },
      queryLnScaleMetadata: { tag: "q" },
      keyLnScaleMetadata: { tag: "kl" },
      normalizeQk: true,
      decode: false,
      rngs: rngs()
    })
    for (const l of [mha.query, mha.key, mha.value]) {
      expect(l.kernel.metadata["tag"]).toBe("k")
      expect(l.bias!.metadata["tag"]).toBe("b")
    }
    expect(mha.out.kernel.metadata["tag"]).toBe("k")
    expect(mha.out.bias!.metadata["tag"]).toBe("ob")
    expect(mha.queryLn!.scale!.metadata["tag"]).toBe("q")
    expect(mha.keyLn!.scale!.metadata["tag"]).toBe("kl")
  })
  it("the metadata survives split and merge, and names the partition spec", () => {
    const layer = new nnx.Linear(2, 3, {
      kernelMetadata: { shardingNames: ["embed", "mlp"] },
      biasMetadata: { shardingNames: ["mlp"] },
      rngs: rngs()
    })
    const [graphdef, state] = nnx.split(layer)
    const back = nnx.merge(graphdef, state)
    expect(back.kernel.metadata["shardingNames"]).toEqual(["embed", "mlp"])
    const specs = new Map(nnx.partitionSpecs(layer))
    expect([...specs.get("kernel")!]).toEqual(["embed", "mlp"])
    expect([...specs.get("bias")!]).toEqual(["mlp"])
    expect(layer.call(jnp.ones([1, 2])).shape).toEqual([1, 3])
  })
})
