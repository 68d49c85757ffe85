/**
 * The internal flatten/unflatten protocol (src/graph/flatten.ts), checked where mutation testing
 * (issue 16) found behaviour no other graph test pins down: the options the lifted transforms use
 * (`refMap`, `outerRefMap`, `visit`, `live`, `reuse`, `copy`), a root that is not a graph node,
 * the leaves and paths of every kind of attribute, Variables merged from snapshots, live Variables
 * and raw values, and the small helpers (`isGraphRoot`, `describeValue`, the index/ref map
 * inverses). Each test checks what the code says: the values, the paths, the shared identity of
 * objects and the errors' reasons and paths.
 */
import { describe, expect, it } from "vitest"
import { jnp, nnx } from "effect-nnx"
import {
  describeValue,
  flatten,
  indexMapFromRefMap,
  isGraphRoot,
  refMapFromIndexMap,
  unflatten
} from "../../src/graph/flatten.ts"
import type { IndexMap, RefMap } from "../../src/graph/flatten.ts"
import { LEAF, moduleDef, NODE, paramDef } from "../support/graphDefs.ts"
import type { PathCons } from "../../src/graph/path.ts"
import { consToArray } from "../../src/graph/path.ts"
import { VariableState } from "../../src/graph/Variable.ts"
import { thrownAs } from "../support/thrown.ts"

class Pair extends nnx.Module {
  a = new nnx.Param(jnp.array([1, 2]))
  b = new nnx.BatchStat(jnp.array([3]))
}

class Holder extends nnx.Module {
  inner = new Pair()
  t = jnp.array([5, 6])
  name = "holder"
}

class Empty extends nnx.Module {}

/** The leaves' values as nested lists (a Variable's or snapshot's value, or the Array itself). */
const values = (leaves: ReadonlyArray<unknown>): Array<unknown> =>
  leaves.map((l) =>
    (l instanceof VariableState || nnx.isVariable(l) ? (l.value as jnp.Array) : (l as jnp.Array)).tolist()
  )

describe("flatten: nodes, attributes, leaves and paths", () => {
  it("a Module with a sub-Module, an Array attribute and a static attribute gives every definition in sorted order", () => {
    const h = new Holder()
    const { graphdef, leaves, paths, pathCons } = flatten(h)
    expect(graphdef.nodes).toEqual([
      { _tag: "ModuleDef", type: Holder, index: 0, outerIndex: undefined, numAttributes: 3 },
      { _tag: "ModuleDef", type: Pair, index: 1, outerIndex: undefined, numAttributes: 2 },
      { _tag: "VariableDef", type: nnx.Param, index: 2, outerIndex: undefined, metadata: {} },
      { _tag: "VariableDef", type: nnx.BatchStat, index: 3, outerIndex: undefined, metadata: {} }
    ])
    expect(graphdef.attributes).toEqual([
      ["inner", NODE],
      ["a", NODE],
      ["b", NODE],
      ["name", { _tag: "StaticAttr", value: "holder" }],
      ["t", LEAF]
    ])
    expect(graphdef.numLeaves).toBe(3)
    expect(paths).toEqual([["inner", "a"], ["inner", "b"], ["t"]])
    expect(pathCons.map(consToArray)).toEqual(paths)
    // The default leaves are snapshots, not the live Variables.
    expect(leaves[0]).toBeInstanceOf(VariableState)
    expect(leaves[0]).not.toBe(h.inner.a)
    expect((leaves[0] as VariableState).type).toBe(nnx.Param)
    expect((leaves[1] as VariableState).type).toBe(nnx.BatchStat)
    expect(leaves[2]).toBe(h.t)
    expect(values(leaves)).toEqual([[1, 2], [3], [5, 6]])
  })

  it("paths are computed once and kept (the same array on every read)", () => {
    const flat = flatten(new Holder())
    const first = flat.paths
    expect(flat.paths).toBe(first)
    expect(first).toEqual([["inner", "a"], ["inner", "b"], ["t"]])
  })

  it("with live, the leaves are the Variables themselves, at their first path only", () => {
    const p = new Pair()
    const shared = { x: p.a, y: p.a, z: p.b }
    const { graphdef, leaves, paths } = flatten(shared, { live: true })
    expect(leaves).toEqual([p.a, p.b])
    expect(leaves[0]).toBe(p.a)
    expect(leaves[1]).toBe(p.b)
    expect(paths).toEqual([["x"], ["z"]])
    expect(graphdef.nodes[2]).toEqual({ _tag: "NodeRef", index: 0 })
    const notLive = flatten(shared, { live: false })
    expect(notLive.leaves[0]).toBeInstanceOf(VariableState)
  })

  it("lists and records give ListDef and RecordDef with their attribute counts; list keys are numbers", () => {
    const { graphdef, paths } = flatten({ l: [jnp.array([1]), 2, { r: jnp.array([3]) }], e: {} })
    expect(graphdef.nodes).toEqual([
      { _tag: "RecordDef", numAttributes: 2 },
      { _tag: "RecordDef", numAttributes: 0 },
      { _tag: "ListDef", numAttributes: 3 },
      { _tag: "RecordDef", numAttributes: 1 }
    ])
    expect(graphdef.attributes).toEqual([
      ["e", NODE],
      ["l", NODE],
      [0, LEAF],
      [1, { _tag: "StaticAttr", value: 2 }],
      [2, NODE],
      ["r", LEAF]
    ])
    expect(paths).toEqual([
      ["l", 0],
      ["l", 2, "r"]
    ])
  })

  it("a Variable root is one VariableDef and one leaf at the root path", () => {
    const p = new nnx.Param(jnp.array([4]), { note: "n" })
    const { graphdef, leaves, paths, pathCons } = flatten(p)
    expect(graphdef.nodes).toEqual([
      { _tag: "VariableDef", type: nnx.Param, index: 0, outerIndex: undefined, metadata: p.metadata }
    ])
    expect(graphdef.attributes).toEqual([])
    expect(paths).toEqual([[]])
    expect(pathCons).toEqual([undefined])
    expect(values(leaves)).toEqual([[4]])
  })

  it("a root that is not a graph node (an Array, a number) is a single leaf with no nodes, and unflattens to itself", () => {
    const x = jnp.array([1, 2, 3])
    for (const root of [x, 7, "s", null]) {
      const { graphdef, leaves, paths } = flatten(root)
      expect(graphdef.nodes).toEqual([])
      expect(graphdef.attributes).toEqual([])
      expect(graphdef.numLeaves).toBe(1)
      expect(leaves).toEqual([root])
      expect(leaves[0]).toBe(root)
      expect(paths).toEqual([[]])
      expect(unflatten(graphdef, leaves)).toBe(root)
    }
    // The leaf given back is the one passed, not the one flattened.
    const y = jnp.array([9])
    expect(unflatten(flatten(x).graphdef, [y])).toBe(y)
  })

  it("a plain record that contains itself is a GraphStructureError naming the path and the kind", () => {
    const r: Record<string, unknown> = { w: jnp.array([1]) }
    r["inner"] = { back: r }
    const e = thrownAs(nnx.GraphStructureError, () => flatten({ root: r }))
    expect(e.path).toEqual(["root", "inner", "back"])
    expect(e.reason).toBe(
      "a plain record contains itself; plain lists and records have no identity in a graph, so put the cycle through a Module"
    )
    const l: Array<unknown> = []
    l.push(l)
    const el = thrownAs(nnx.GraphStructureError, () => flatten(l))
    expect(el.path).toEqual([0])
    expect(el.reason).toMatch(/^a plain list contains itself/)
  })

  it("a Module that holds itself is a reference to its own index, not an error", () => {
    const m = new Empty() as Empty & { self?: unknown; list?: unknown }
    m.self = m
    m.list = [m]
    const { graphdef } = flatten(m)
    expect(graphdef.nodes).toEqual([
      { _tag: "ModuleDef", type: Empty, index: 0, outerIndex: undefined, numAttributes: 2 },
      { _tag: "ListDef", numAttributes: 1 },
      { _tag: "NodeRef", index: 0 },
      { _tag: "NodeRef", index: 0 }
    ])
    const back = unflatten(graphdef, []) as typeof m
    expect(back.self).toBe(back)
    expect((back.list as Array<unknown>)[0]).toBe(back)
  })
})

describe("flatten's options for the lifted transforms", () => {
  it("one refMap shared across calls puts several values in one index space: a known object is a NodeRef", () => {
    const p = new Pair()
    const refMap: RefMap = new Map()
    const first = flatten(p, { refMap })
    expect(refMap.get(p)).toBe(0)
    expect(refMap.get(p.a)).toBe(1)
    expect(refMap.get(p.b)).toBe(2)
    expect(first.graphdef.nodes.length).toBe(3)
    const second = flatten({ again: p.b, fresh: new nnx.Param(jnp.array([0])) }, { refMap })
    expect(second.graphdef.nodes[1]).toEqual({ _tag: "NodeRef", index: 2 })
    expect(second.graphdef.nodes[2]).toMatchObject({ _tag: "VariableDef", index: 3 })
    expect(second.graphdef.numLeaves).toBe(1)
    expect(refMap.size).toBe(4)
    // Unflattened with one shared IndexMap, the reference resolves to the object of the first value.
    const indexMap: IndexMap = new Map()
    const p2 = unflatten(first.graphdef, first.leaves, { indexMap })
    const rec = unflatten(second.graphdef, second.leaves, { indexMap }) as { again: unknown; fresh: nnx.Param }
    expect(rec.again).toBe(p2.b)
    expect(indexMap.get(3)).toBe(rec.fresh)
    expect(indexMap.get(0)).toBe(p2)
  })

  it("outerRefMap stamps Module and Variable definitions with the outer index of objects it knows, and only those", () => {
    const p = new Pair()
    const outer = new Map<object, number>([
      [p, 10],
      [p.b, 12]
    ])
    const { graphdef } = flatten(p, { outerRefMap: outer })
    expect(graphdef.nodes).toEqual([
      { _tag: "ModuleDef", type: Pair, index: 0, outerIndex: 10, numAttributes: 2 },
      { _tag: "VariableDef", type: nnx.Param, index: 1, outerIndex: undefined, metadata: {} },
      { _tag: "VariableDef", type: nnx.BatchStat, index: 2, outerIndex: 12, metadata: {} }
    ])
  })

  it("visit sees each Module and Variable once, at its first path (the root with none), and no lists, records or references", () => {
    const p = new Pair()
    const seen: Array<[object, Array<string | number> | undefined]> = []
    flatten(
      { m: p, l: [p.a], r: { again: p } },
      {
        visit: (obj, cons: PathCons | undefined) => seen.push([obj, cons === undefined ? undefined : consToArray(cons)])
      }
    )
    expect(seen.length).toBe(3)
    expect(seen[0]![0]).toBe(p.a)
    expect(seen[0]![1]).toEqual(["l", 0])
    expect(seen[1]![0]).toBe(p)
    expect(seen[1]![1]).toEqual(["m"])
    expect(seen[2]![0]).toBe(p.b)
    expect(seen[2]![1]).toEqual(["m", "b"])
    const roots: Array<unknown> = []
    flatten(p, { visit: (obj, cons) => roots.push(obj, cons) })
    expect(roots.slice(0, 2)).toEqual([p, undefined])
  })
})

describe("unflatten: Variables from snapshots, live Variables and raw values", () => {
  it("a snapshot of another kind is refused, naming both kinds and the path", () => {
    const g = new nnx.GraphDef<unknown>([moduleDef(0, 1, Empty), paramDef(1)], [["w", NODE]], 1)
    const e = thrownAs(nnx.MergeError, () => unflatten(g, [new nnx.BatchStat(jnp.ones([1])).toState()]))
    expect(e.path).toEqual(["w"])
    expect(e.reason).toBe("expected a Param, got a BatchStat")
  })

  it("a snapshot makes a new Variable with the snapshot's value and metadata, not the GraphDef's", () => {
    const g = new nnx.GraphDef<unknown>(
      [moduleDef(0, 1, Empty), paramDef(1, undefined, { from: "graphdef" })],
      [["w", NODE]],
      1
    )
    const snap = new nnx.Param(jnp.array([1, 2]), { from: "snapshot" }).toState()
    const m = unflatten(g, [snap]) as { w: nnx.Param<jnp.Array> }
    expect(m.w).toBeInstanceOf(nnx.Param)
    expect(m.w.value).toBe(snap.value)
    expect(m.w.metadata["from"]).toBe("snapshot")
  })

  it("a raw value (as transforms pass traced arrays) is kept with the GraphDef's metadata", () => {
    const g = new nnx.GraphDef<unknown>(
      [moduleDef(0, 1, Empty), paramDef(1, undefined, { from: "graphdef" })],
      [["w", NODE]],
      1
    )
    const x = jnp.array([3])
    const m = unflatten(g, [x]) as { w: nnx.Param<jnp.Array> }
    expect(m.w).toBeInstanceOf(nnx.Param)
    expect(m.w.value).toBe(x)
    expect(m.w.metadata["from"]).toBe("graphdef")
  })

  it("a live Variable defined twice under one index is refused, naming the index", () => {
    const g = new nnx.GraphDef<unknown>(
      [moduleDef(0, 2, Empty), paramDef(1), paramDef(1)],
      [
        ["a", NODE],
        ["b", NODE]
      ],
      2
    )
    const e = thrownAs(nnx.MergeError, () => unflatten(g, [new nnx.Param(jnp.ones([1])), new nnx.Param(jnp.ones([1]))]))
    expect(e.path).toEqual(["b"])
    expect(e.reason).toBe("node index 1 is defined twice")
  })

  it("a live Variable is registered under its index, so a later reference to it is the same Variable", () => {
    const g = new nnx.GraphDef<unknown>(
      [moduleDef(0, 2, Empty), paramDef(1), { _tag: "NodeRef", index: 1 }],
      [
        ["a", NODE],
        ["b", NODE]
      ],
      1
    )
    const live = new nnx.Param(jnp.ones([1]))
    const indexMap: IndexMap = new Map()
    const m = unflatten(g, [live], { indexMap }) as { a: unknown; b: unknown }
    expect(m.a).toBe(live)
    expect(m.b).toBe(live)
    expect(indexMap.get(1)).toBe(live)
    // With copy, the reference is to the new Variable.
    const c = unflatten(g, [live], { copy: true }) as { a: nnx.Param; b: unknown }
    expect(c.a).not.toBe(live)
    expect(c.b).toBe(c.a)
  })

  it("a live Variable whose definition has an outer index but nothing to reuse is used as it is", () => {
    const p = new Pair()
    const { graphdef, leaves } = flatten(p, { live: true })
    const stamped = graphdef.withSameOuterIndex()
    const back = unflatten(stamped, leaves)
    expect(back).not.toBe(p)
    expect(back.a).toBe(p.a)
    expect(back.b).toBe(p.b)
    // An offer for other indices only: still used as they are.
    const other = unflatten(stamped, leaves, { reuse: new Map([[99, new Pair()]]) })
    expect(other.a).toBe(p.a)
  })

  it("with reuse, a live Variable's value and metadata go into the outer Variable, which keeps its identity", () => {
    const outer = new Pair()
    const outerA = outer.a
    const outerB = outer.b
    const refMap: RefMap = new Map()
    const { graphdef } = flatten(outer, { refMap })
    const newA = new nnx.Param(jnp.array([7, 8]), { note: "new" })
    const newB = new nnx.BatchStat(jnp.array([9]))
    const back = unflatten(graphdef.withSameOuterIndex(), [newA, newB], { reuse: indexMapFromRefMap(refMap) })
    expect(back).toBe(outer)
    expect(back.a).toBe(outerA)
    expect(back.b).toBe(outerB)
    expect(outerA).not.toBe(newA)
    expect(outerA.value.tolist()).toEqual([7, 8])
    expect(outerA.metadata["note"]).toBe("new")
    expect(outerB.value.tolist()).toEqual([9])
  })

  it("with reuse, a snapshot or raw leaf updates the outer Variable, which is registered in the indexMap", () => {
    const outer = new nnx.Param(jnp.array([0]), { note: "old" })
    const g = new nnx.GraphDef<unknown>([paramDef(0, 4)], [], 1)
    const indexMap: IndexMap = new Map()
    const back = unflatten(g, [new nnx.Param(jnp.array([5]), { note: "snap" }).toState()], {
      reuse: new Map([[4, outer]]),
      indexMap
    })
    expect(back).toBe(outer)
    expect(indexMap.get(0)).toBe(outer)
    expect(outer.value.tolist()).toEqual([5])
    expect(outer.metadata["note"]).toBe("snap")
    const raw = unflatten(new nnx.GraphDef<unknown>([paramDef(0, 4, { note: "def" })], [], 1), [jnp.array([6])], {
      reuse: new Map([[4, outer]])
    })
    expect(raw).toBe(outer)
    expect(outer.value.tolist()).toEqual([6])
    expect(outer.metadata["note"]).toBe("def")
  })

  it("with copy, live leaves give new Variables of their kinds and values", () => {
    const p = new Pair()
    const { graphdef, leaves } = flatten(p, { live: true })
    const back = unflatten(graphdef, leaves, { copy: true })
    expect(back.a).not.toBe(p.a)
    expect(back.a).toBeInstanceOf(nnx.Param)
    expect(back.b).toBeInstanceOf(nnx.BatchStat)
    expect(back.a.value.tolist()).toEqual([1, 2])
    expect(back.b.value.tolist()).toEqual([3])
  })
})

describe("unflatten: containers and Modules", () => {
  it("records and lists come back with their keys, values and lengths", () => {
    const value = { l: [jnp.array([1]), "two", [], { r: 3 }], e: {}, n: null }
    const { graphdef, leaves } = flatten(value)
    const back = unflatten(graphdef, leaves)
    expect(Object.keys(back)).toEqual(["e", "l", "n"])
    expect(Array.isArray(back.l)).toBe(true)
    expect(back.l.length).toBe(4)
    expect(back.l[0]).toBe(value.l[0])
    expect(back.l[1]).toBe("two")
    expect(back.l[2]).toEqual([])
    expect(back.l[3]).toEqual({ r: 3 })
    expect(back.e).toEqual({})
    expect(back.n).toBeNull()
  })

  it("a record key named __proto__ comes back as an own attribute, never as the record's prototype", () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": 1}, "w": 2}') as Record<string, unknown>
    expect(Object.keys(hostile)).toEqual(["__proto__", "w"])
    const { graphdef, leaves } = flatten(hostile)
    const back = unflatten(graphdef, leaves) as Record<string, unknown>
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype)
    expect(Object.keys(back)).toEqual(["__proto__", "w"])
    expect(Object.getOwnPropertyDescriptor(back, "__proto__")?.value).toEqual({ polluted: 1 })
    expect((back as { polluted?: unknown }).polluted).toBeUndefined()
  })

  it("an empty Module, list and record as roots come back empty, of their kind", () => {
    const m = unflatten(flatten(new Empty()).graphdef, [])
    expect(m).toBeInstanceOf(Empty)
    expect(Object.keys(m)).toEqual([])
    expect(unflatten(flatten([]).graphdef, [])).toEqual([])
    expect(unflatten(flatten({}).graphdef, [])).toEqual({})
  })

  it("a reused Module of the right type is refilled in place and registered in the indexMap", () => {
    const outer = new Pair()
    const refMap: RefMap = new Map()
    const { graphdef, leaves } = flatten(outer, { refMap })
    const indexMap: IndexMap = new Map()
    const back = unflatten(graphdef.withSameOuterIndex(), leaves, { reuse: indexMapFromRefMap(refMap), indexMap })
    expect(back).toBe(outer)
    expect(indexMap.get(0)).toBe(outer)
    expect(indexMap.get(1)).toBe(outer.a)
  })
})

describe("helpers", () => {
  it("indexMapFromRefMap and refMapFromIndexMap invert each other", () => {
    const a = {}
    const b = {}
    const refMap: RefMap = new Map([
      [a, 0],
      [b, 1]
    ])
    const indexMap = indexMapFromRefMap(refMap)
    expect([...indexMap]).toEqual([
      [0, a],
      [1, b]
    ])
    expect(indexMap.get(1)).toBe(b)
    const back = refMapFromIndexMap(indexMap)
    expect([...back]).toEqual([
      [a, 0],
      [b, 1]
    ])
    expect(back.get(b)).toBe(1)
  })

  it("isGraphRoot: Modules, lists and records; not Variables, Arrays or static values", () => {
    expect(isGraphRoot(new Empty())).toBe(true)
    expect(isGraphRoot([])).toBe(true)
    expect(isGraphRoot({})).toBe(true)
    expect(isGraphRoot(new nnx.Param(jnp.ones([1])))).toBe(false)
    expect(isGraphRoot(jnp.ones([1]))).toBe(false)
    expect(isGraphRoot(3)).toBe(false)
    expect(isGraphRoot(null)).toBe(false)
  })

  it("describeValue names Modules and Variables by type, Arrays by shape, containers by kind, others by typeof", () => {
    expect(describeValue(new Pair())).toBe("Pair")
    expect(describeValue(new nnx.BatchStat(jnp.ones([1])))).toBe("BatchStat")
    expect(describeValue(jnp.ones([2, 3]))).toBe("an Array of shape (2, 3)")
    expect(describeValue(jnp.ones([4]))).toBe("an Array of shape (4)")
    expect(describeValue(jnp.array(1))).toBe("an Array of shape ()")
    expect(describeValue([1])).toBe("a list")
    expect(describeValue({ a: 1 })).toBe("a record")
    expect(describeValue(null)).toBe("null")
    expect(describeValue(undefined)).toBe("undefined")
    expect(describeValue(3)).toBe("number")
    expect(describeValue("s")).toBe("string")
    expect(describeValue(new Map())).toBe("object")
  })
})
