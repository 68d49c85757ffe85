/**
 * Every filter form, normalised by toPredicate, on Variables and raw Arrays;
 * filter objects compare and hash structurally; positional rules for `...`.
 */
import { describe, expect, it } from "vitest"
import { Equal, Hash } from "effect"
import { jnp, nnx } from "effect-nnx"

class Count extends nnx.Variable<jnp.Array> {}

const param = new nnx.Param(jnp.zeros([1]))
const stat = new nnx.BatchStat(jnp.zeros([1]))
const count = new Count(jnp.zeros([1]))
const rngKey = new nnx.RngKey(jnp.zeros([2], { dtype: "uint32" }), { tag: "noise" })
const rngCount = new nnx.RngCount(jnp.zeros([], { dtype: "uint32" }), { tag: "noise" })
const raw = jnp.ones([2])

const leaves = { param, stat, count, rngKey, rngCount, raw } as const
type Name = keyof typeof leaves

/** Which of the sample leaves a filter selects (at path ["layers", 0, name]). */
const selects = (f: nnx.Filter): Array<Name> => {
  const pred = nnx.toPredicate(f)
  return (Object.keys(leaves) as Array<Name>).filter((k) => pred(["layers", 0, k], leaves[k]))
}

describe("filters", () => {
  it("a Variable kind (OfType) selects that kind and its subclasses", () => {
    expect(selects(nnx.Param)).toEqual(["param"])
    expect(selects(nnx.OfType(nnx.Param))).toEqual(["param"])
    expect(selects(Count)).toEqual(["count"])
    expect(selects(nnx.RngState)).toEqual(["rngKey", "rngCount"])
    expect(selects(nnx.Variable)).toEqual(["param", "stat", "count", "rngKey", "rngCount"])
  })

  it("kind filters also select live Variables", () => {
    const pred = nnx.toPredicate(nnx.RngState)
    expect(pred([], new nnx.RngKey(jnp.zeros([2], { dtype: "uint32" })))).toBe(true)
    expect(pred([], new nnx.Param(jnp.zeros([1])))).toBe(false)
    expect(nnx.toPredicate("noise")([], new nnx.RngCount(jnp.zeros([]), { tag: "noise" }))).toBe(true)
  })

  it("a string (WithTag) selects Variables whose tag metadata matches", () => {
    expect(selects("noise")).toEqual(["rngKey", "rngCount"])
    expect(selects(nnx.WithTag("noise"))).toEqual(["rngKey", "rngCount"])
    expect(selects("other")).toEqual([])
  })

  it("a predicate is used as is", () => {
    expect(selects((_path, value) => value === raw)).toEqual(["raw"])
    expect(selects((path) => path[2] === "stat")).toEqual(["stat"])
  })

  it("arrays and Any select what any member selects", () => {
    expect(selects([nnx.Param, Count])).toEqual(["param", "count"])
    expect(selects(nnx.Any(nnx.BatchStat, "noise"))).toEqual(["stat", "rngKey", "rngCount"])
    expect(selects([])).toEqual([])
  })

  it("All and Not combine (Flax's NotKey)", () => {
    const notKey = nnx.All(nnx.RngState, nnx.Not(nnx.RngKey))
    expect(selects(notKey)).toEqual(["rngCount"])
    expect(selects(nnx.Not(nnx.Variable))).toEqual(["raw"])
    expect(selects(nnx.All())).toEqual(Object.keys(leaves))
  })

  it("PathContains: exact keys, or substrings with exact: false", () => {
    expect(selects(nnx.PathContains(0))).toEqual(Object.keys(leaves))
    expect(selects(nnx.PathContains("count"))).toEqual(["count"])
    expect(selects(nnx.PathContains("Count"))).toEqual([])
    expect(selects(nnx.PathContains("Count", { exact: false }))).toEqual(["rngCount"])
    expect(selects(nnx.PathContains("ayer", { exact: false }))).toEqual(Object.keys(leaves))
    expect(selects(nnx.PathContains("0"))).toEqual([])
  })

  it('Everything (also true and "...") and Nothing (also false)', () => {
    const all = Object.keys(leaves)
    expect(selects(nnx.Everything())).toEqual(all)
    expect(selects(true)).toEqual(all)
    expect(selects("...")).toEqual(all)
    expect(selects(nnx.Nothing())).toEqual([])
    expect(selects(false)).toEqual([])
    expect(nnx.isEverything("...") && nnx.isEverything(true) && nnx.isEverything(nnx.Everything())).toBe(true)
    expect(nnx.isEverything(nnx.Param)).toBe(false)
  })

  it("a non-filter given at run time (bypassing the types) is a FilterError", () => {
    expect(() => nnx.toPredicate(42 as unknown as nnx.Filter)).toThrow(nnx.FilterError)
    expect(() => nnx.toPredicate({} as unknown as nnx.Filter)).toThrow(/not a filter/)
  })

  it("filter objects compare and hash structurally, and print like Flax's", () => {
    expect(Equal.equals(nnx.All(nnx.RngState, nnx.Not(nnx.RngKey)), nnx.All(nnx.RngState, nnx.Not(nnx.RngKey)))).toBe(
      true
    )
    expect(Hash.hash(nnx.WithTag("a"))).toBe(Hash.hash(nnx.WithTag("a")))
    expect(Equal.equals(nnx.WithTag("a"), nnx.WithTag("b"))).toBe(false)
    expect(Equal.equals(nnx.OfType(nnx.Param), nnx.OfType(nnx.BatchStat))).toBe(false)
    expect(Equal.equals(nnx.PathContains("x"), nnx.PathContains("x", { exact: false }))).toBe(false)
    expect(nnx.Everything()).toBe(nnx.Everything())
    expect(String(nnx.All(nnx.RngState, nnx.Not(nnx.RngKey)))).toBe("All(RngState, Not(RngKey))")
    expect(String(nnx.Any(nnx.Param, "noise", "..."))).toBe("Any(Param, 'noise', ...)")
    expect(String(nnx.PathContains("k"))).toBe('PathContains("k", exact=true)')
    expect(nnx.isFilterObject(nnx.Nothing()) && !nnx.isFilterObject(nnx.Param)).toBe(true)
  })
})
