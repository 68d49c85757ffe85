/**
 * Flax 0.12.8's Rngs API beyond streams: `rngs()` and attribute fallback to `default`,
 * `Rngs.split`/`fork`, `RngStream.split`/`fork`, `nnx.reseed`, and the `random` functions bound to
 * Rngs and streams. Values from test/goldens/graph.json (`rngs_api`, written by
 * tools/goldens/graph_goldens.py with flax 0.12.8 / jax 0.10.2) must match bit for bit.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { jnp, nnx, random } from "effect-nnx"

interface RngsApi {
  readonly call: Array<number>
  readonly attr_fallback: Array<number>
  readonly call_count: number
  readonly no_default_message: string
  readonly split: { params: unknown; dropout: unknown; count: Array<number>; source_count: number }
  readonly split_map: { params: unknown; dropout: unknown; dropout_count: number; source_counts: Array<number> }
  readonly split_shapes: Array<Array<number>>
  readonly fork: { params: unknown; dropout: unknown; params_next: unknown }
  readonly stream_split: unknown
  readonly stream_fork: unknown
  readonly stream_count: number
  readonly reseed: { a: unknown; b_params: unknown; b_dropout: unknown; count: number }
  readonly reseed_scalars_only_error: string
  readonly reseed_match_shape: unknown
  readonly random: Record<string, unknown>
  readonly random_methods: Array<string>
}

const G = (JSON.parse(readFileSync(new URL("../goldens/graph.json", import.meta.url), "utf8")) as { rngs_api: RngsApi })
  .rngs_api
const data = (k: jnp.Array): unknown => random.keyData(k).tolist()

describe("Rngs called directly and attribute fallback", () => {
  it("rngs() draws from the default stream and unknown attributes fall back to it, as Flax", () => {
    const rngs = new nnx.Rngs(0, { params: 1 })
    expect(data(rngs())).toEqual(G.call)
    // Untyped at compile time (the type knows only `default` and `params`), present at run time.
    const dropout = (rngs as unknown as { dropout: nnx.RngStream }).dropout
    expect(dropout).toBe(rngs.default)
    expect(data(dropout())).toEqual(G.attr_fallback)
    expect(rngs.default.count.value.tolist()).toBe(G.call_count)
    expect(rngs.params.count.value.tolist()).toBe(0)
  })

  it("fallback names are not streams: `in`, names() and traversal see only real streams", () => {
    const rngs = new nnx.Rngs(0, { params: 1 })
    expect("dropout" in rngs).toBe(false)
    expect(rngs.names()).toEqual(["default", "params"])
    expect(
      [...nnx.iterGraph(rngs)]
        .filter(([, v]) => nnx.isVariable(v))
        .map(([p]) => p.join("/"))
        .sort()
    ).toEqual(["default/count", "default/key", "params/count", "params/key"])
  })

  it("JavaScript protocol probes never fall back (no accidental thenable or toJSON)", async () => {
    const rngs = new nnx.Rngs(0)
    const r = rngs as unknown as Record<string, unknown>
    expect(r["then"]).toBeUndefined()
    expect(r["toJSON"]).toBeUndefined()
    expect(r["_private"]).toBeUndefined()
    expect(await Promise.resolve(rngs)).toBe(rngs)
    expect(rngs.default.count.value.tolist()).toBe(0)
  })

  it("without a default stream, rngs() throws Flax's message and unknown names read undefined", () => {
    const rngs = new nnx.Rngs({ params: 1 })
    expect(() => (rngs as unknown as () => jnp.Array)()).toThrow(nnx.RngError)
    expect(() => (rngs as unknown as () => jnp.Array)()).toThrow(G.no_default_message)
    expect((rngs as unknown as Record<string, unknown>)["dropout"]).toBeUndefined()
    expect(() => rngs.stream("dropout")).toThrow(/RngStream 'dropout': no such stream in Rngs \(it has 'params'\)/)
  })

  it("merge rebuilds a callable Rngs with the fallback", () => {
    const rngs = new nnx.Rngs(0, { params: 1 })
    const [g, s] = nnx.split(rngs)
    const copy = nnx.merge(g, s) as typeof rngs
    expect(nnx.isRngs(copy)).toBe(true)
    expect(data(copy())).toEqual(G.call)
    expect((copy as unknown as { dropout: unknown }).dropout).toBe(copy.default)
  })
})

describe("Rngs.split and fork", () => {
  it("split(k) splits every stream's next key into k keys with counts 0", () => {
    const rngs = new nnx.Rngs({ params: 1, dropout: 2 })
    const s = rngs.split(3)
    expect(data(s.params.key.value)).toEqual(G.split.params)
    expect(data(s.dropout.key.value)).toEqual(G.split.dropout)
    expect(s.params.count.value.tolist()).toEqual(G.split.count)
    expect(rngs.params.count.value.tolist()).toBe(G.split.source_count)
    expect(nnx.isRngs(s) && s !== rngs).toBe(true)
  })

  it("split with a record of filters: sizes, null (not split: same key, count back to 0)", () => {
    const rngs = new nnx.Rngs({ params: 1, dropout: 2 })
    rngs.split(3)
    const s = rngs.split({ params: [2], dropout: null })
    expect(data(s.params.key.value)).toEqual(G.split_map.params)
    expect(data(s.dropout.key.value)).toEqual(G.split_map.dropout)
    expect(s.dropout.count.value.tolist()).toBe(G.split_map.dropout_count)
    expect([rngs.params.count.value.tolist(), rngs.dropout.count.value.tolist()]).toEqual(G.split_map.source_counts)
    const shapes = new nnx.Rngs({ params: 1, dropout: 2, noise: 3 }).split({ params: 5, dropout: null, "...": [2, 5] })
    expect([shapes.params.key.value.shape, shapes.dropout.key.value.shape, shapes.noise.key.value.shape]).toEqual(
      G.split_shapes
    )
  })

  it("split with ordered [filter, size] pairs takes the first matching filter", () => {
    const s = new nnx.Rngs({ params: 1, noise: 3 }).split([
      [(_path: nnx.Path, s: unknown) => (s as nnx.RngStream).tag === "noise", 4],
      ["...", 2]
    ])
    expect(s.params.key.value.shape).toEqual([2])
    expect(s.noise.key.value.shape).toEqual([4])
  })

  it("fork() seeds each stream of a new Rngs with the next key", () => {
    const f = new nnx.Rngs({ params: 1, dropout: 2 }).fork()
    expect(data(f.params.key.value)).toEqual(G.fork.params)
    expect(data(f.dropout.key.value)).toEqual(G.fork.dropout)
    expect(data(f.params())).toEqual(G.fork.params_next)
  })

  it("RngStream.split and fork draw one key each and keep the tag", () => {
    const st = new nnx.RngStream(3, { tag: "x" })
    const split = st.split(2)
    expect(data(split.key.value)).toEqual(G.stream_split)
    const forked = st.fork()
    expect(data(forked.key.value)).toEqual(G.stream_fork)
    expect(st.count.value.tolist()).toBe(G.stream_count)
    expect([split.tag, forked.key.tag]).toEqual(["x", "x"])
  })

  it("a stream given as a seed lends its key, count restarting at 0", () => {
    const st = new nnx.RngStream(3, { tag: "x" })
    st()
    const rngs = new nnx.Rngs({ y: st })
    expect(data(rngs.y.key.value)).toEqual(data(st.key.value))
    expect(rngs.y.count.value.tolist()).toBe(0)
  })
})

describe("nnx.reseed", () => {
  class Holder extends nnx.Module {
    a: nnx.RngStream
    b: nnx.Rngs<"dropout" | "params">
    constructor(rngs: nnx.Rngs<"params">) {
      super()
      this.a = rngs.params.fork()
      this.b = new nnx.Rngs({ dropout: 5, params: 6 })
    }
  }

  it("reseeds streams by tag in graph order (second stream of a tag gets the next key), counts to 0", () => {
    const m = new Holder(new nnx.Rngs({ params: 0 }))
    m.a()
    nnx.reseed(m, { params: 7, dropout: 9 })
    expect(data(m.a.key.value)).toEqual(G.reseed.a)
    expect(data(m.b.params.key.value)).toEqual(G.reseed.b_params)
    expect(data(m.b.dropout.key.value)).toEqual(G.reseed.b_dropout)
    expect(m.a.count.value.tolist()).toBe(G.reseed.count)
  })

  it("refuses a non-scalar key by default and changes nothing; matchShape splits", () => {
    expect(G.reseed_scalars_only_error).toBe("ValueError")
    const batched = new nnx.Rngs({ params: random.split(random.key(0), 3) })
    const before = data(batched.params.key.value)
    expect(() => nnx.reseed(batched, { params: 1 })).toThrow(/non-scalar key, found key with shape \(3,\)/)
    expect(data(batched.params.key.value)).toEqual(before)
    nnx.reseed(batched, { params: 1 }, { policy: "matchShape" })
    expect(data(batched.params.key.value)).toEqual(G.reseed_match_shape)
  })

  it("a custom policy receives the path, the scalar key and the shape", () => {
    const seen: Array<unknown> = []
    const rngs = new nnx.Rngs({ params: random.split(random.key(0), 2) })
    nnx.reseed(
      rngs,
      { params: 1 },
      {
        policy: (path, key, shape) => {
          seen.push([path, shape])
          return random.split(key, shape)
        }
      }
    )
    expect(seen).toEqual([[["params"], [2]]])
  })
})

describe("random functions bound to Rngs", () => {
  it("rngs.normal/uniform/bernoulli draw from the default stream in jax.random's argument order", () => {
    const d = new nnx.Rngs(0)
    expect(d.normal([2]).tolist()).toEqual(G.random["normal"])
    expect(d.uniform([2], { minval: 1, maxval: 2 }).tolist()).toEqual(G.random["uniform"])
    expect(d.bernoulli(0.5, [4]).tolist()).toEqual(G.random["bernoulli"])
    expect(d.default.count.value.tolist()).toBe(G.random["count"])
    expect(new nnx.RngStream(5, { tag: "a" }).normal([2]).tolist()).toEqual(G.random["stream_normal"])
  })

  it("randint, permutation, categorical, bits and truncatedNormal match Flax", () => {
    expect(new nnx.Rngs(0).randint([3], 0, 10).tolist()).toEqual(G.random["randint"])
    expect(new nnx.Rngs(0).permutation(5).tolist()).toEqual(G.random["permutation"])
    expect(new nnx.Rngs(0).categorical(jnp.array([0.5, 1, 2]), { shape: [4] }).tolist()).toEqual(
      G.random["categorical"]
    )
    expect(new nnx.Rngs(0).bits([2]).tolist()).toEqual(G.random["bits"])
    // float32 rounding of the inverse-erf tail differs in the last bits from XLA's
    const tn = new nnx.Rngs(0).truncatedNormal(-1, 1, [2]).tolist() as Array<number>
    tn.forEach((x, i) => expect(x).toBeCloseTo((G.random["truncated_normal"] as Array<number>)[i]!, 6))
  })

  it("binds exactly the Flax methods this library's random has", () => {
    const ours = ["bernoulli", "bits", "categorical", "normal", "permutation", "randint", "truncatedNormal", "uniform"]
    const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
    for (const name of ours) {
      expect(G.random_methods).toContain(snake(name))
      expect(typeof (nnx.Rngs.prototype as unknown as Record<string, unknown>)[name]).toBe("function")
      expect(typeof (nnx.RngStream.prototype as unknown as Record<string, unknown>)[name]).toBe("function")
    }
  })

  it("types: rngs() needs a default stream; declared streams are typed", () => {
    const d = new nnx.Rngs(0, { params: 1 })
    d()
    d.params()
    const named = new nnx.Rngs({ params: 0 })
    // @ts-expect-error no default stream: not callable by type
    expect(() => named()).toThrow(nnx.RngError)
    // @ts-expect-error a fallback name is not typed; use rngs.stream("dropout")
    expect(named.dropout).toBeUndefined()
    // @ts-expect-error random functions keep their argument types
    expect(() => d.normal("2")).toThrow()
  })
})
