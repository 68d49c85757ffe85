/**
 * State: the nested typed mapping of Variables (and raw Arrays) with its flat form, filter,
 * split, merge, map, pure dicts and validation.
 */
import { describe, expect, it } from "vitest"
import { jnp, nnx } from "effect-nnx"

const p = (x: number): nnx.Param<jnp.Array> => new nnx.Param(jnp.full([1], x))
const b = (x: number): nnx.BatchStat<jnp.Array> => new nnx.BatchStat(jnp.full([1], x))

const sample = (): nnx.State =>
  nnx.State.fromFlat([
    [["layers", 1, "w"], p(2)],
    [["layers", 0, "w"], p(1)],
    [["bn", "mean"], b(3)],
    [["table"], jnp.arange(2)]
  ])

const flatPaths = (s: nnx.State): Array<string> => s.toFlat().map(([path]) => JSON.stringify(path))

describe("State", () => {
  it("is built from a flat form in any order and keeps it sorted (numbers before strings)", () => {
    const s = sample()
    expect(flatPaths(s)).toEqual(['["bn","mean"]', '["layers",0,"w"]', '["layers",1,"w"]', '["table"]'])
    expect(s.size).toBe(4)
    expect(s.keys()).toEqual(["bn", "layers", "table"])
    expect(nnx.State.fromFlat(s.toFlat()).toFlat()).toEqual(s.toFlat())
  })

  it("nested access: at and get return leaves or sub-States", () => {
    const s = sample()
    const layers = s.get("layers")
    expect(layers).toBeInstanceOf(nnx.State)
    expect((layers as nnx.State).keys()).toEqual([0, 1])
    const leaf = s.at("layers", 1, "w") as nnx.Variable<unknown>
    expect((leaf.value as jnp.Array).tolist()).toEqual([2])
    expect(s.at("nope")).toBeUndefined()
    expect(s.at()).toBe(s)
  })

  it("filter: each leaf to the first filter selecting it; one filter gives a State, several a tuple", () => {
    const s = sample()
    const params = s.filter(nnx.Param)
    expect(flatPaths(params)).toEqual(['["layers",0,"w"]', '["layers",1,"w"]'])
    const [first, rest] = s.filter(nnx.PathContains(0), "...")
    expect(flatPaths(first)).toEqual(['["layers",0,"w"]'])
    expect(rest.size).toBe(3)
    expect(s.filter(nnx.Cache).size).toBe(0)
  })

  it("split must select every leaf", () => {
    const s = sample()
    expect(() => s.split(nnx.Param, nnx.BatchStat)).toThrow(nnx.FilterError)
    expect(() => s.split(nnx.Param, nnx.BatchStat)).toThrow(/table/)
    const [ps, bs, rest] = s.split(nnx.Param, nnx.BatchStat, "...")
    expect([ps.size, bs.size, rest.size]).toEqual([2, 1, 1])
    expect(flatPaths(nnx.State.merge(ps, bs, rest))).toEqual(flatPaths(s))
  })

  it("merge: later States win on the same path", () => {
    const a = nnx.State.fromFlat([[["w"], p(1)]])
    const c = nnx.State.fromFlat([[["w"], p(2)]])
    const merged = nnx.State.merge(a, c)
    expect(((merged.at("w") as nnx.Variable<unknown>).value as jnp.Array).tolist()).toEqual([2])
    expect(nnx.State.merge().size).toBe(0)
  })

  it("map replaces leaves", () => {
    const doubled = sample().map((_, leaf) =>
      leaf instanceof nnx.Variable ? leaf.replace((leaf.value as jnp.Array).mul(2)) : leaf
    )
    expect(((doubled.at("bn", "mean") as nnx.Variable<unknown>).value as jnp.Array).tolist()).toEqual([6])
    expect(() => sample().map(() => 1 as unknown as jnp.Array)).toThrow(nnx.GraphStructureError)
  })

  it("toPureDict and replaceByPureDict (list indices may come back as strings)", () => {
    const s = sample()
    const pure = s.toPureDict()
    expect(Object.keys(pure)).toEqual(["bn", "layers", "table"])
    const layers = pure["layers"] as Record<string, Record<string, jnp.Array>>
    expect(layers["0"]!["w"]!.tolist()).toEqual([1])
    const replaced = s.replaceByPureDict({ layers: { "1": { w: jnp.full([1], 9) } }, table: jnp.zeros([2]) })
    const w1 = replaced.at("layers", 1, "w") as nnx.Variable<unknown>
    expect(w1).toBeInstanceOf(nnx.Param)
    expect((w1.value as jnp.Array).tolist()).toEqual([9])
    expect((replaced.at("table") as jnp.Array).tolist()).toEqual([0, 0])
    expect(() => s.replaceByPureDict({ other: jnp.zeros([1]) })).toThrow(nnx.MergeError)
  })

  it("rejects invalid flat forms", () => {
    expect(() => nnx.State.fromFlat([[[], p(1)]])).toThrow(nnx.GraphStructureError)
    expect(() =>
      nnx.State.fromFlat([
        [["a"], p(1)],
        [["a"], p(2)]
      ])
    ).toThrow(/two leaves at the same path/)
    expect(() =>
      nnx.State.fromFlat([
        [["a"], p(1)],
        [["a", "b"], p(2)]
      ])
    ).toThrow(/a leaf at a and a subtree below it/)
    expect(() => nnx.State.fromFlat([[["a"], 3 as unknown as jnp.Array]])).toThrow(/a State leaf must be/)
    expect(() => nnx.State.fromFlat([[["a", -1], p(1)]])).toThrow(/non-empty list of strings and list indices/)
  })

  it("prints like Flax's State repr (keys quoted as Python's in the Python display style)", () => {
    const state = nnx.State.fromFlat([[["layers", 0, "w"], p(1)]])
    expect(String(state).split("\n").slice(0, 4)).toEqual([
      "State({",
      "  layers: {",
      "    0: {",
      "      w: Param( # 1 (4 B)"
    ])
    const text = nnx.withDisplayStyle("python", () => String(state))
    expect(text).toBe(
      [
        "State({",
        "  'layers': {",
        "    0: {",
        "      'w': Param( # 1 (4 B)",
        "        value=Array([1], dtype=int32)",
        "      ),",
        "    },",
        "  },",
        "})"
      ].join("\n")
    )
  })
})
