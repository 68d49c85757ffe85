/**
 * Gaps a mutation run of src/graph/State.ts (Stryker, 81.6% on the graph suites) found: State.merge's
 * order and conflicts, `at` on subtrees with one leaf, map's error, and pure-dict keys that are
 * record keys made of digits.
 */
import { describe, expect, it } from "vitest"
import { jnp, nnx } from "effect-nnx"

const p = (x: number): nnx.Param<jnp.Array> => new nnx.Param(jnp.full([1], x, { dtype: "float32" }))
const value = (u: unknown): unknown => (u as nnx.Variable<jnp.Array>).value.tolist()

describe("State gaps", () => {
  it("merge of one State is that State; of several, the last one wins on a path, in argument order", () => {
    const a = nnx.State.fromFlat([[["w"], p(1)]])
    expect(nnx.State.merge(a)).toBe(a)
    const b = nnx.State.fromFlat([
      [["w"], p(2)],
      [["z"], p(9)]
    ])
    const c = nnx.State.fromFlat([[["w"], p(3)]])
    expect(value(nnx.State.merge(a, b, c).get("w"))).toEqual([3])
    expect(value(nnx.State.merge(c, b, a).get("w"))).toEqual([1])
    expect(value(nnx.State.merge(c, a, b).get("w"))).toEqual([2])
    expect(nnx.State.merge(a, b, c).paths).toEqual([["w"], ["z"]])
  })

  it("merge refuses a leaf at a path with a subtree below it in another State", () => {
    const leaf = nnx.State.fromFlat([[["a"], p(1)]])
    const below = nnx.State.fromFlat([[["a", "b"], p(2)]])
    expect(() => nnx.State.merge(leaf, below)).toThrow(nnx.GraphStructureError)
    expect(() => nnx.State.merge(leaf, below)).toThrow(/a leaf at a and a subtree below it/)
  })

  it("at: a subtree holding one leaf deeper is a sub-State, not the leaf; a sub-State holds only its own leaves", () => {
    const s = nnx.State.fromFlat([
      [["a", "b"], p(1)],
      [["c"], p(2)],
      [["d", "e"], p(3)],
      [["d", "f"], p(4)]
    ])
    const a = s.at("a")
    expect(nnx.isState(a)).toBe(true)
    expect((a as nnx.State).paths).toEqual([["b"]])
    expect(value((a as nnx.State).get("b"))).toEqual([1])
    expect(value(s.at("c"))).toEqual([2])
    const d = s.at("d") as nnx.State
    expect(d.paths).toEqual([["e"], ["f"]])
    expect(d.leaves.map(value)).toEqual([[3], [4]])
    expect(s.at("d", "f", "g")).toBeUndefined()
  })

  it("map names the path of a leaf it was given back as something else", () => {
    const s = nnx.State.fromFlat([[["a", "b"], p(1)]])
    let caught: unknown
    try {
      s.map(() => 3 as never)
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(nnx.GraphStructureError)
    expect((caught as nnx.GraphStructureError).path).toEqual(["a", "b"])
    expect((caught as Error).message).toMatch(/State\.map must return a Variable or an Array/)
  })

  it("replaceByPureDict: a record key made of digits is matched as the string it is, a list index as a number", () => {
    const s = nnx.State.fromFlat([
      [["r", "1"], p(1)],
      [["l", 0], p(2)]
    ])
    const r = s.replaceByPureDict({
      r: { "1": jnp.full([1], 7, { dtype: "float32" }) },
      l: { "0": jnp.full([1], 8, { dtype: "float32" }) }
    })
    expect(value(r.at("r", "1"))).toEqual([7])
    expect(value(r.at("l", 0))).toEqual([8])
    expect(() => s.replaceByPureDict({ r: { "2": jnp.ones([1]) } })).toThrow(nnx.MergeError)
  })

  it("keys are the distinct first keys, in order", () => {
    const s = nnx.State.fromFlat([
      [["b", "x"], p(1)],
      [["a"], p(2)],
      [["b", "y"], p(3)],
      [[0, "z"], p(4)]
    ])
    expect(s.keys()).toEqual([0, "a", "b"])
  })
})
