/**
 * State (src/graph/State.ts), checked where a mutation run (Stryker, 88.1% on the graph suites) found
 * behaviour no other test pins down: the repr of States with several nested leaves, fields read by
 * name (list indices, digit record keys, a field called `then`), structural equality, the errors of
 * `replaceByPureDict`, `pipe`, Node's inspect, and the value of a leaf.
 */
import { inspect } from "node:util"
import { describe, expect, it } from "vitest"
import { jnp, nnx } from "effect-nnx"
import { leafValue } from "../../src/graph/State.ts"
import { VariableState } from "../../src/graph/Variable.ts"
import { thrownAs } from "../support/thrown.ts"

const p = (x: number): nnx.Param<jnp.Array> => new nnx.Param(jnp.full([1], x, { dtype: "float32" }))
const value = (u: unknown): unknown => (u as nnx.Variable<jnp.Array>).value.tolist()

describe("State repr with several leaves", () => {
  it("opens each subtree once, closes it before the next sibling, and indents by depth", () => {
    const s = nnx.State.fromFlat([
      [["a", "b", "c"], jnp.array([1])],
      [["a", "b", "d"], jnp.array([2])],
      [["a", "e"], jnp.array([3])],
      [["f", 0], jnp.array([4])],
      [["g"], jnp.array([5])]
    ])
    expect(String(s)).toBe(
      [
        "State({",
        "  a: {",
        "    b: {",
        "      c: Array([1], dtype=int32),",
        "      d: Array([2], dtype=int32),",
        "    },",
        "    e: Array([3], dtype=int32),",
        "  },",
        "  f: {",
        "    0: Array([4], dtype=int32),",
        "  },",
        "  g: Array([5], dtype=int32),",
        "})"
      ].join("\n")
    )
  })

  it("Node's inspect prints the repr", () => {
    const s = nnx.State.fromFlat([[["a", "b"], jnp.array([1])]])
    expect(inspect(s)).toBe(String(s))
  })
})

describe("State fields by name", () => {
  it("a list index is read by its digits, a record key made of digits as the string it is", () => {
    const s = nnx.State.fromFlat([
      [["layers", 0], p(1)],
      [["r", "1"], p(2)]
    ])
    const fields = s as unknown as Record<string, Record<string, unknown>>
    expect(value(fields["layers"]!["0"])).toEqual([1])
    expect(value(fields["r"]!["1"])).toEqual([2])
    expect(fields["layers"]!["1"]).toBeUndefined()
    expect(fields["missing"]).toBeUndefined()
  })

  it("a field named then is not read, so awaiting a State gives the State", async () => {
    const s = nnx.State.fromFlat([[["then"], p(1)]])
    expect((s as unknown as Record<string, unknown>)["then"]).toBeUndefined()
    expect(value(s.get("then"))).toEqual([1])
    const awaited = await Promise.resolve(s)
    expect(awaited).toBe(s)
  })
})

describe("State equality and pipe", () => {
  it("States with the same leaves at different paths are not structurally equal", () => {
    const w = p(1)
    const a = nnx.State.fromFlat([[["a"], w]])
    const b = nnx.State.fromFlat([[["b"], w]])
    expect(a).not.toEqual(b)
    expect(a).toEqual(nnx.State.fromFlat([[["a"], w]]))
  })

  it("pipe applies functions in order", () => {
    const s = nnx.State.fromFlat([[["a"], p(1)]])
    expect(s.pipe((x) => x.size)).toBe(1)
    expect(
      s.pipe(
        (x) => x.filter(nnx.Param),
        (x) => x.keys()
      )
    ).toEqual(["a"])
  })
})

describe("replaceByPureDict keys", () => {
  it("a list index may be given as its decimal digits, of any length", () => {
    const leaves = Array.from({ length: 13 }, (_, i) => [["l", i], p(i)] as const)
    const r = nnx.State.fromFlat(leaves).replaceByPureDict({ l: { "12": jnp.full([1], 7, { dtype: "float32" }) } })
    expect(value(r.at("l", 12))).toEqual([7])
    expect(value(r.at("l", 1))).toEqual([1])
  })

  // Flax 0.12 converts keys with Python's int(), which also takes "01" (and " 1"); here only the
  // canonical digits of an index name it, so such a key is refused rather than guessed at.
  it("digits with a leading zero, or with other characters, are not a list index", () => {
    const s = nnx.State.fromFlat([
      [["l", 1], p(1)],
      [["l", 2], p(2)]
    ])
    for (const key of ["01", "1x", "x1"]) {
      const e = thrownAs(nnx.MergeError, () => s.replaceByPureDict({ l: { [key]: jnp.ones([1]) } }))
      expect(e.path).toEqual(["l", key])
    }
  })

  it("an unknown key fails naming its path and the reason", () => {
    const s = nnx.State.fromFlat([[["a", "b"], p(1)]])
    const e = thrownAs(nnx.MergeError, () => s.replaceByPureDict({ a: { c: jnp.ones([1]) } }))
    expect(e.path).toEqual(["a", "c"])
    expect(e.reason).toBe("the pure dict has a key this State does not have")
    expect(e.message).toMatch(/the pure dict has a key this State does not have/)
  })
})

describe("leafValue", () => {
  it("is a Variable's or a snapshot's value, or the Array itself", () => {
    const x = jnp.array([1, 2])
    expect(leafValue(new nnx.Param(x))).toBe(x)
    expect(leafValue(new VariableState(nnx.Param, x as never))).toBe(x)
    expect(leafValue(x)).toBe(x)
  })
})
