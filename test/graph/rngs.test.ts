/**
 * Rngs and RngStream: calling a stream returns foldIn(key, count) and counts; the keys match JAX's
 * (values from jax.random.fold_in / flax.nnx.Rngs 0.12.8 with jax 0.10.2).
 */
import { describe, expect, it } from "vitest"
import { jnp, nnx, random, ShapeError } from "effect-nnx"

const data = (k: jnp.Array): unknown => random.keyData(k).tolist()

describe("Rngs", () => {
  it("a named stream returns foldIn(key, count) and increments count, as Flax's nnx.Rngs(noise=0)", () => {
    const rngs = new nnx.Rngs({ noise: 0 })
    // flax: key_data(nnx.Rngs(0).default()), then the next call
    expect(data(rngs.noise())).toEqual([1797259609, 2579123966])
    expect(data(rngs.noise())).toEqual([928981903, 3453687069])
    expect(rngs.noise.count.value.tolist()).toBe(2)
    expect(rngs.noise.count.value.dtype).toBe("uint32")
    expect(data(rngs.noise())).toEqual(data(random.foldIn(random.key(0), 2)))
  })

  it("stream state is RngKey and RngCount variables tagged with the stream name", () => {
    const rngs = new nnx.Rngs({ params: 1, dropout: 2 })
    expect(rngs.params.key).toBeInstanceOf(nnx.RngKey)
    expect(rngs.params.count).toBeInstanceOf(nnx.RngCount)
    expect(rngs.params.key.metadata).toEqual({ tag: "params" })
    expect(rngs.dropout.count.metadata).toEqual({ tag: "dropout" })
    expect(rngs.dropout.tag).toBe("dropout")
    expect(data(rngs.params.key.value)).toEqual(data(random.key(1)))
    expect(nnx.isRngs(rngs) && rngs instanceof nnx.Rngs && rngs instanceof nnx.Module).toBe(true)
  })

  it("new Rngs(seed) makes the default stream; unknown names fall back to it", () => {
    const rngs = new nnx.Rngs(0)
    const a = rngs.default()
    const b = rngs.stream("dropout")()
    expect(data(a)).toEqual([1797259609, 2579123966])
    expect(data(b)).toEqual([928981903, 3453687069])
    expect(rngs.default.count.value.tolist()).toBe(2)
    const both = new nnx.Rngs(0, { params: 1 })
    expect(both.stream("params")).toBe(both.params)
    expect(both.stream("other")).toBe(both.default)
  })

  it("an unknown stream with no default is a typed error naming the streams", () => {
    const rngs = new nnx.Rngs({ params: 1 })
    expect(() => rngs.stream("dropout")).toThrow(nnx.RngError)
    expect(() => rngs.stream("dropout")).toThrow(/RngStream 'dropout': no such stream in Rngs \(it has 'params'\)/)
  })

  it("accepts keys and raw uint32 key data as seeds", () => {
    const fromKey = new nnx.Rngs({ a: random.key(7) })
    const fromData = new nnx.Rngs({ a: random.keyData(random.key(7)) })
    expect(data(fromKey.a())).toEqual(data(fromData.a()))
  })

  it("rejects bad seeds and reserved names with RngError", () => {
    expect(() => new nnx.Rngs({ a: 1.5 })).toThrow(/a seed must be an integer/)
    expect(() => new nnx.Rngs({ a: jnp.ones([2]) })).toThrow(nnx.RngError)
    expect(() => new nnx.Rngs({ stream: 0 })).toThrow(/reserved/)
    expect(() => new nnx.Rngs({ toString: 0 })).toThrow(/reserved/)
  })

  it("a stream seeded by a key array has a count of the same shape (the guide's batched noise stream)", () => {
    const rngs = new nnx.Rngs({ noise: random.split(random.key(0), 10) })
    expect(rngs.noise.key.value.shape).toEqual([10])
    expect(rngs.noise.key.value.dtype).toBe("key<fry>")
    expect(rngs.noise.count.value.shape).toEqual([10])
    expect(rngs.noise.count.value.dtype).toBe("uint32")
    // Outside vmap a batch of keys cannot be folded, as in JAX; the count is left alone.
    expect(() => rngs.noise()).toThrow(ShapeError)
    expect(rngs.noise.count.value.tolist()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
  })

  it("a standalone RngStream is callable", () => {
    const s = new nnx.RngStream(0, { tag: "x" })
    expect(data(s())).toEqual([1797259609, 2579123966])
    expect(s.count.value.tolist()).toBe(1)
    expect(s instanceof nnx.RngStream && s instanceof nnx.Module).toBe(true)
  })

  it("streams survive split/merge and clone, callable and continuing their count", () => {
    class Model extends nnx.Module {
      rngs = new nnx.Rngs({ noise: 0 })
    }
    const m = new Model()
    m.rngs.noise()
    const [g, s] = nnx.split(m)
    const m2 = nnx.merge(g, s)
    const m3 = nnx.clone(m)
    expect(data(m2.rngs.noise())).toEqual(data(random.foldIn(random.key(0), 1)))
    expect(data(m3.rngs.noise())).toEqual(data(random.foldIn(random.key(0), 1)))
    // merge built m2 around m's own Variables (Flax 0.12), so m2's draw advanced m's count; the
    // clone has its own.
    expect(m2.rngs.noise.count).toBe(m.rngs.noise.count)
    expect(m.rngs.noise.count.value.tolist()).toBe(2)
    expect(m3.rngs.noise.count.value.tolist()).toBe(2)
    expect(data(m3.rngs.noise())).toEqual(data(random.foldIn(random.key(0), 2)))
    expect(m.rngs.noise.count.value.tolist()).toBe(2)
    expect(nnx.state(m, nnx.RngState).size).toBe(2)
    expect(nnx.state(m, "noise").size).toBe(2)
    expect(
      nnx
        .state(m, nnx.RngCount)
        .toFlat()
        .map(([p]) => p)
    ).toEqual([["rngs", "noise", "count"]])
  })
})
