/**
 * Flax's graph iterators (`nnx.iter_modules`, `nnx.iter_children`, `nnx.iter_module_children`) and
 * its State free functions (`nnx.to_flat_state`, `from_flat_state`, `to_pure_dict`,
 * `replace_by_pure_dict`, `filter_state`, `split_state`, `merge_state`, `map_state`) as effect-nnx
 * spells them, with the orders and results Flax 0.12.8 gives for the same model.
 */
import { describe, expect, it } from "vitest"
import { jnp, nnx } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

class B extends nnx.Module {
  lin: nnx.Linear
  drop: nnx.Dropout
  constructor(rngs: nnx.Rngs) {
    super()
    this.lin = new nnx.Linear(2, 3, { rngs })
    this.drop = new nnx.Dropout(0.1)
  }
}
class A extends nnx.Module {
  b: B
  lst: nnx.List<nnx.Linear | number>
  w: nnx.Param<JArray>
  c: nnx.Linear
  constructor(rngs: nnx.Rngs) {
    super()
    this.b = new B(rngs)
    this.lst = new nnx.List<nnx.Linear | number>([new nnx.Linear(1, 1, { rngs }), 3])
    this.w = new nnx.Param(jnp.ones([2]))
    this.c = this.b.lin
  }
}

const names = (it: Iterable<readonly [ReadonlyArray<string | number>, unknown]>) =>
  [...it].map(([p, v]) => [p, (v as object).constructor.name] as const)

describe("graph iterators, as Flax 0.12.8 orders them", () => {
  const m = new A(new nnx.Rngs(0))
  it("iterModules: every Module once (a shared one at its first path), children before parents, nnx.List included", () => {
    expect(names(nnx.iterModules(m))).toEqual([
      [["b", "drop"], "Dropout"],
      [["b", "lin"], "Linear"],
      [["b"], "B"],
      [["lst", 0], "Linear"],
      [["lst"], "List"],
      [[], "A"]
    ])
  })
  it("iterChildren: the direct graph nodes in key order, a shared one under each key; statics and arrays left out", () => {
    expect(names(nnx.iterChildren(m))).toEqual([
      [["b"], "B"],
      [["c"], "Linear"],
      [["lst"], "List"],
      [["w"], "Param"]
    ])
    expect(names(nnx.iterChildren(m.lst))).toEqual([[[0], "Linear"]])
  })
  it("iterModuleChildren: the Modules among them", () => {
    expect(names(nnx.iterModuleChildren(m))).toEqual([
      [["b"], "B"],
      [["c"], "Linear"],
      [["lst"], "List"]
    ])
  })
  it("iterChildren looks through plain lists and records, entering a self-holding one once", () => {
    const rec: Record<string, unknown> = { p: new nnx.Param(jnp.zeros([1])), n: 3, arr: jnp.ones([2]) }
    rec["self"] = rec
    const holder = { items: [new nnx.Dropout(0.5), [new nnx.BatchStat(jnp.zeros([1]))]], rec }
    expect(names(nnx.iterChildren(holder))).toEqual([
      [["items", 0], "Dropout"],
      [["items", 1, 0], "BatchStat"],
      [["rec", "p"], "Param"]
    ])
  })
  it("iterChildren of something that is not a graph node is a GraphStructureError naming it", () => {
    expect(() => [...nnx.iterChildren(3)]).toThrow(nnx.GraphStructureError)
    expect(() => [...nnx.iterChildren(jnp.ones([2]))]).toThrow(/iterChildren needs a Module, list or record/)
  })
})

describe("State free functions, as Flax's", () => {
  const model = () => new A(new nnx.Rngs(0))
  it("toFlatState / fromFlatState round-trip; toPureDict / replaceByPureDict keep kinds and return a new State", () => {
    const st = nnx.state(model())
    const flat = nnx.toFlatState(st)
    expect(flat.map(([p]) => p)).toEqual(st.toFlat().map(([p]) => p))
    const back = nnx.fromFlatState(flat)
    expect(back.toFlat().map(([p]) => p)).toEqual(flat.map(([p]) => p))
    const pure = nnx.toPureDict(st)
    expect(Object.keys(pure).sort()).toEqual(["b", "lst", "w"])
    const replaced = nnx.replaceByPureDict(st, { w: jnp.full([2], 7) })
    expect(replaced).not.toBe(st)
    const w = replaced.toFlat().find(([p]) => p[0] === "w")![1]
    expect(w).toBeInstanceOf(nnx.Param)
    expect((w as nnx.Param<JArray>).value.tolist()).toEqual([7, 7])
    expect((st.toFlat().find(([p]) => p[0] === "w")![1] as nnx.Param<JArray>).value.tolist()).toEqual([1, 1])
    expect(() => nnx.replaceByPureDict(st, { nope: 1 })).toThrow(nnx.MergeError)
  })
  it("filterState, splitState, mergeState and mapState", () => {
    const st = nnx.state(model())
    const params = nnx.filterState(st, nnx.Param)
    expect(params.size).toBe(st.size)
    const [p, rest] = nnx.splitState(st, nnx.Param, "...")
    expect(p.size + rest.size).toBe(st.size)
    expect(() => nnx.splitState(st, nnx.BatchStat)).toThrow(nnx.FilterError)
    const merged = nnx.mergeState(p, rest)
    expect(merged.toFlat().map(([q]) => q)).toEqual(st.toFlat().map(([q]) => q))
    const doubled = nnx.mapState(
      (_path, leaf) => (leaf instanceof nnx.Variable ? leaf.replace(jnp.multiply(leaf.value as JArray, 2)) : leaf),
      st
    )
    const w = doubled.toFlat().find(([q]) => q[0] === "w")![1] as nnx.Param<JArray>
    expect(w.value.tolist()).toEqual([2, 2])
  })
  it("each refuses what is not a State, naming the function", () => {
    const notState = { w: 1 } as unknown as nnx.State
    expect(() => nnx.toFlatState(notState)).toThrow(/toFlatState needs a State/)
    expect(() => nnx.toPureDict(notState)).toThrow(/toPureDict needs a State/)
    expect(() => nnx.replaceByPureDict(notState, {})).toThrow(/replaceByPureDict needs a State/)
    expect(() => nnx.filterState(notState, nnx.Param)).toThrow(/filterState needs a State/)
    expect(() => nnx.splitState(notState, nnx.Param)).toThrow(/splitState needs a State/)
    expect(() => nnx.mapState((_p, l) => l, notState)).toThrow(/mapState needs a State/)
  })
})
