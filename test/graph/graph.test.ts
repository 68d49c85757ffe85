/**
 * Graph operations with Flax's semantics: split/merge/state/update/graphdef/clone/pop/iterGraph,
 * shared references, cycles, static attributes in the GraphDef, filters, errors; and the internal
 * flatten/unflatten protocol the lifted transforms will use (shared index maps, outer indices,
 * reuse of existing objects). Deep and large graphs do not overflow the stack.
 */
import { describe, expect, it } from "vitest"
import { Equal, Hash, HashMap } from "effect"
import { jnp, nnx } from "effect-nnx"
import { flatten, indexMapFromRefMap, unflatten } from "../../src/graph/flatten.ts"
import type { IndexMap, RefMap } from "../../src/graph/flatten.ts"

class Count extends nnx.Variable<jnp.Array> {}

class Linear extends nnx.Module {
  kernel: nnx.Param<jnp.Array>
  bias: nnx.Param<jnp.Array>
  din: number
  dout: number
  constructor(din: number, dout: number) {
    super()
    this.din = din
    this.dout = dout
    this.kernel = new nnx.Param(jnp.ones([din, dout]))
    this.bias = new nnx.Param(jnp.zeros([dout]))
  }
}

class BatchNorm extends nnx.Module {
  mean = new nnx.BatchStat(jnp.zeros([3]))
  scale = new nnx.Param(jnp.ones([3]))
}

class Model extends nnx.Module {
  linear = new Linear(2, 3)
  bn = new BatchNorm()
  name = "model"
  config = { dropout: 0.1, sizes: [2, 3] }
}

const paths = (s: nnx.State): Array<string> => s.toFlat().map(([p]) => p.join("."))

describe("split / merge", () => {
  it("splits into a GraphDef and a State of the live Variables, and merges back a graph around them", () => {
    const m = new Model()
    const [graphdef, state] = nnx.split(m)
    expect(paths(state)).toEqual(["bn.mean", "bn.scale", "linear.bias", "linear.kernel"])
    const leaf = state.at("linear", "kernel")
    expect(leaf).toBeInstanceOf(nnx.Variable)
    const m2 = nnx.merge(graphdef, state)
    expect(m2).toBeInstanceOf(Model)
    expect(m2).not.toBe(m)
    expect(m2.linear).toBeInstanceOf(Linear)
    expect(m2.linear).not.toBe(m.linear)
    // As Flax 0.12: the State holds the live Variables and merge builds around them.
    expect(leaf).toBe(m.linear.kernel)
    expect(m2.linear.kernel).toBe(m.linear.kernel)
    m.linear.kernel.value = jnp.full([2, 3], 7)
    expect(m2.linear.kernel.value.tolist()).toEqual([
      [7, 7, 7],
      [7, 7, 7]
    ])
    // With { copy: true }, new Variables holding the same values and metadata.
    const m3 = nnx.merge(graphdef, state, { copy: true })
    expect(m3.linear.kernel).not.toBe(m.linear.kernel)
    expect(m3.linear.kernel).toBeInstanceOf(nnx.Param)
    expect(m3.linear.kernel.value.tolist()).toEqual(m.linear.kernel.value.tolist())
    expect(m3.bn.mean).toBeInstanceOf(nnx.BatchStat)
    m3.linear.kernel.value = jnp.zeros([2, 3])
    expect(m.linear.kernel.value.tolist()).toEqual([
      [7, 7, 7],
      [7, 7, 7]
    ])
    // static attributes come from the GraphDef
    expect(m2.name).toBe("model")
    expect(m2.config).toEqual({ dropout: 0.1, sizes: [2, 3] })
    expect(m2.linear.din).toBe(2)
  })

  it("splits by filters, each leaf to the first filter that selects it", () => {
    const m = new Model()
    const [g, params, stats] = nnx.split(m, nnx.Param, nnx.BatchStat)
    expect(paths(params)).toEqual(["bn.scale", "linear.bias", "linear.kernel"])
    expect(paths(stats)).toEqual(["bn.mean"])
    const [, first, rest] = nnx.split(m, nnx.PathContains("linear"), "...")
    expect(paths(first)).toEqual(["linear.bias", "linear.kernel"])
    expect(paths(rest)).toEqual(["bn.mean", "bn.scale"])
    const m2 = nnx.merge(g, params, stats)
    expect(m2.bn.mean).toBeInstanceOf(nnx.BatchStat)
  })

  it("a non-exhaustive split is a typed FilterError naming the leaves", () => {
    const m = new Model()
    expect(() => nnx.split(m, nnx.Param)).toThrow(nnx.FilterError)
    expect(() => nnx.split(m, nnx.Param)).toThrow(/Non-exhaustive filters.*: bn\.mean/)
    expect(() => nnx.split(m, "...", nnx.Param)).toThrow(/can only be used as the last filter/)
    expect(() => nnx.split(m, true, nnx.Param)).toThrow(nnx.FilterError)
    // several trailing everything-filters are fine, as in Flax
    const [, a, b] = nnx.split(m, "...", true)
    expect(a.size).toBe(4)
    expect(b.size).toBe(0)
  })

  it("shared Variables (tied weights) appear once in the State and come back shared", () => {
    class Tied extends nnx.Module {
      encoder = new Linear(2, 2)
      decoder = new Linear(2, 2)
    }
    const m = new Tied()
    m.decoder.kernel = m.encoder.kernel
    const [g, s] = nnx.split(m)
    expect(paths(s)).toEqual(["decoder.bias", "decoder.kernel", "encoder.bias"])
    const m2 = nnx.merge(g, s)
    expect(m2.decoder.kernel).toBe(m2.encoder.kernel)
    const m3 = nnx.clone(m)
    expect(m3.decoder.kernel).toBe(m3.encoder.kernel)
    expect(m3.decoder.kernel).not.toBe(m.decoder.kernel)
    m3.encoder.kernel.value = jnp.zeros([2, 2])
    expect(m3.decoder.kernel.value.tolist()).toEqual([
      [0, 0],
      [0, 0]
    ])
    expect(m.decoder.kernel.value.tolist()).toEqual([
      [1, 1],
      [1, 1]
    ])
  })

  it("shared Modules come back shared; lists and records of modules round-trip", () => {
    const shared = new Linear(1, 1)
    class Holder extends nnx.Module {
      layers = [shared, new Linear(1, 2), shared]
      byName = { first: shared }
    }
    const m = nnx.clone(new Holder())
    expect(m.layers[0]).toBe(m.layers[2])
    expect(m.byName.first).toBe(m.layers[0])
    expect(m.layers[1]).toBeInstanceOf(Linear)
    expect(m.layers[0]).not.toBe(shared)
  })

  it("cycles round-trip", () => {
    class Node extends nnx.Module {
      next: Node | undefined = undefined
      value: nnx.Param<jnp.Array>
      constructor(v: number) {
        super()
        this.value = new nnx.Param(jnp.array(v))
      }
    }
    const a = new Node(1)
    const b = new Node(2)
    a.next = b
    b.next = a
    const [g, s] = nnx.split(a)
    expect(paths(s)).toEqual(["next.value", "value"])
    const a2 = nnx.merge(g, s)
    expect(a2.next!.next).toBe(a2)
    expect(a2.next!.value.value.tolist()).toBe(2)
    const self = new Node(3)
    self.next = self
    const c = nnx.clone(self)
    expect(c.next).toBe(c)
  })

  it("a plain list that contains itself is a clear error (cycles must go through a Module)", () => {
    const list: Array<unknown> = []
    list.push(list)
    expect(() => nnx.split({ list })).toThrow(nnx.GraphStructureError)
    expect(() => nnx.split({ list })).toThrow(/contains itself.*at list\[0\]/)
  })

  it("Arrays held directly are leaves of the State, other values are static", () => {
    class Raw extends nnx.Module {
      table = jnp.arange(3)
      fn = (x: number): number => x + 1
      nothing = null
      missing = undefined
    }
    const m = new Raw()
    const [g, s] = nnx.split(m)
    expect(paths(s)).toEqual(["table"])
    expect(s.at("table")).toBe(m.table)
    const m2 = nnx.merge(g, s)
    expect(m2.table).toBe(m.table)
    expect(m2.fn).toBe(m.fn)
    expect(m2.nothing).toBeNull()
    expect("missing" in m2).toBe(true)
  })

  it("merge checks the State against the GraphDef (missing, extra, wrong kind)", () => {
    const m = new Model()
    const [g, params, stats] = nnx.split(m, nnx.Param, nnx.BatchStat)
    expect(() => nnx.merge(g, params)).toThrow(nnx.MergeError)
    expect(() => nnx.merge(g, params)).toThrow(/no leaf here.*at bn\.mean/)
    const extra = nnx.State.merge(params, stats, nnx.State.fromFlat([[["zzz"], new nnx.Param(jnp.ones([1]))]]))
    expect(() => nnx.merge(g, extra)).toThrow(/does not expect/)
    const wrongKind = stats.map((_, leaf) => new nnx.Param((leaf as nnx.Variable<unknown>).value))
    expect(() => nnx.merge(g, params, wrongKind)).toThrow(/expected a BatchStat, got a Param at bn\.mean/)
  })

  it("split of a Variable gives its GraphDef and its state, which merge rebuilds (as Flax)", () => {
    const v = new nnx.Param(jnp.ones([1]))
    const [g, leaf] = nnx.split(v)
    expect(leaf).toBeInstanceOf(nnx.Variable)
    expect(nnx.merge(g, leaf)).toBeInstanceOf(nnx.Param)
  })
})

describe("state / graphdef / update / clone / pop", () => {
  it("state selects by filters: one filter gives a State, several a tuple", () => {
    const m = new Model()
    const params = nnx.state(m, nnx.Param)
    expect(paths(params)).toEqual(["bn.scale", "linear.bias", "linear.kernel"])
    const [p, b] = nnx.state(m, nnx.Param, nnx.BatchStat)
    expect(p.size + b.size).toBe(4)
    expect(nnx.state(m).size).toBe(4)
    // unlike split, leaves no filter selects are simply left out
    expect(nnx.state(m, nnx.Cache).size).toBe(0)
  })

  it("equal structures give equal GraphDefs with equal hashes; statics and kinds matter", () => {
    const g1 = nnx.graphdef(new Model())
    const g2 = nnx.graphdef(new Model())
    expect(Equal.equals(g1, g2)).toBe(true)
    expect(Hash.hash(g1)).toBe(Hash.hash(g2))
    const other = new Model()
    other.name = "other"
    expect(Equal.equals(g1, nnx.graphdef(other))).toBe(false)
    const cache = HashMap.make([g1, "compiled"] as const)
    expect(HashMap.get(cache, g2)._tag).toBe("Some")
    expect(Equal.equals(g1, g1.withSameOuterIndex())).toBe(false)
    expect(Equal.equals(g1, g1.withSameOuterIndex().withNoOuterIndex())).toBe(true)
  })

  it("update writes values into existing Variables in place (identity preserved)", () => {
    const m = new Model()
    const kernel = m.linear.kernel
    const state = nnx
      .state(m)
      .map((_, leaf) => (leaf instanceof nnx.Variable ? leaf.replace((leaf.value as jnp.Array).add(1)) : leaf))
    nnx.update(m, state)
    expect(m.linear.kernel).toBe(kernel)
    expect(kernel.value.tolist()).toEqual([
      [2, 2, 2],
      [2, 2, 2]
    ])
  })

  it("update adds new keys (as new Variables, inside new records for missing subtrees)", () => {
    const m = new Model()
    const extra = nnx.State.fromFlat([
      [["count"], new Count(jnp.zeros([2]))],
      [["aux", "a", "b"], new nnx.Param(jnp.ones([1]))],
      [["aux", "a", "c"], jnp.ones([2])]
    ])
    nnx.update(m, extra)
    const added = m as Model & { count: Count; aux: { a: { b: nnx.Param<jnp.Array>; c: jnp.Array } } }
    expect(added.count).toBeInstanceOf(Count)
    expect(added.aux.a.b).toBeInstanceOf(nnx.Param)
    expect(added.aux.a.c.shape).toEqual([2])
    expect(paths(nnx.state(m))).toContain("aux.a.b")
  })

  it("update fails without changing anything when the State does not fit the graph", () => {
    const m = new Model()
    const before = m.bn.mean.value
    const bad = nnx.State.fromFlat([
      [["bn", "mean"], new nnx.BatchStat(jnp.ones([3]))],
      [["name", "x"], jnp.ones([1])]
    ])
    expect(() => nnx.update(m, bad)).toThrow(nnx.UpdateError)
    expect(() => nnx.update(m, bad)).toThrow(/subtree here, but the graph has a leaf \(static\)/)
    expect(m.bn.mean.value).toBe(before)
    const subgraph = nnx.State.fromFlat([[["linear"], jnp.ones([1])]])
    expect(() => nnx.update(m, subgraph)).toThrow(/expected a subtree/)
    const hostile = nnx.State.fromFlat([[["__proto__", "polluted"], jnp.ones([1])]])
    expect(() => nnx.update(m, hostile)).toThrow(/refusing the key '__proto__'/)
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined()
  })

  it("pop removes the selected Variables and returns them", () => {
    class Sower extends nnx.Module {
      w = new nnx.Param(jnp.ones([2]))
      i?: nnx.Intermediate<jnp.Array>
      inner = { j: new nnx.Intermediate(jnp.zeros([1])) as nnx.Intermediate<jnp.Array> | undefined }
    }
    const m = new Sower()
    m.i = new nnx.Intermediate(jnp.ones([2]))
    const popped = nnx.pop(m, nnx.Intermediate)
    expect(paths(popped)).toEqual(["i", "inner.j"])
    expect("i" in m).toBe(false)
    expect("j" in m.inner).toBe(false)
    expect(nnx.state(m).size).toBe(1)
    class Listed extends nnx.Module {
      items = [new nnx.Intermediate(jnp.ones([1]))]
    }
    const l = new Listed()
    expect(() => nnx.pop(l, nnx.Intermediate)).toThrow(/cannot pop a value held in a list/)
    expect(l.items.length).toBe(1)
  })

  it("iterGraph: depth-first, sorted keys, each shared object once, children before parents", () => {
    class L extends nnx.Module {
      din = 3
      dout = 4
      w = new nnx.Param(jnp.ones([3, 4]))
      b = new nnx.Param(jnp.zeros([4]))
    }
    const m = new L()
    const seen = [...nnx.iterGraph([m, m])].map(([p, v]) => [
      p.join("/"),
      v instanceof nnx.Variable ? v.kind : v instanceof L ? "L" : Array.isArray(v) ? "list" : v
    ])
    expect(seen).toEqual([
      ["0/b", "Param"],
      ["0/din", 3],
      ["0/dout", 4],
      ["0/w", "Param"],
      ["0", "L"],
      ["", "list"]
    ])
  })
})

describe("the flatten/unflatten protocol for lifted transforms", () => {
  it("one shared RefMap across arguments turns later aliases into references", () => {
    const m = new Linear(1, 1)
    const refMap: RefMap = new Map()
    const a = flatten({ x: m }, { refMap })
    const b = flatten([m, m.kernel], { refMap })
    expect(a.leaves.length).toBe(2)
    expect(b.leaves.length).toBe(0)
    expect(b.graphdef.nodes.filter((n) => n._tag === "NodeRef").length).toBe(2)
    const indexMap: IndexMap = new Map()
    const x = unflatten(a.graphdef, a.leaves, { indexMap })
    const y = unflatten(b.graphdef, b.leaves, { indexMap })
    expect(y[0]).toBe(x.x)
    expect(y[1]).toBe(x.x.kernel)
  })

  it("outer indices and reuse update existing objects in place, preserving identity across a swap", () => {
    class Pair extends nnx.Module {
      a = new Linear(1, 1)
      b = new Linear(1, 2)
    }
    const outer = new Pair()
    const { a: outerA, b: outerB } = outer
    // 1. outer split: one index space for the argument
    const refMap: RefMap = new Map()
    const outerFlat = flatten(outer, { refMap })
    // 2. inner merge: fresh objects, remembering each one's index
    const innerIndex: IndexMap = new Map()
    const inner = unflatten(outerFlat.graphdef, outerFlat.leaves, { indexMap: innerIndex })
    // 3. the function swaps attributes, changes a value and adds a module
    ;[inner.a, inner.b] = [inner.b, inner.a]
    inner.a.bias.value = jnp.full([2], 7)
    const added = new Linear(3, 3)
    ;(inner as Pair & { c?: Linear }).c = added
    // 4. inner split with outer indices, outer merge reusing the outer objects
    const innerToOuter = new Map<object, number>([...innerIndex].map(([i, o]) => [o, i] as const))
    const innerFlat = flatten(inner, { outerRefMap: innerToOuter })
    const result = unflatten(innerFlat.graphdef, innerFlat.leaves, { reuse: indexMapFromRefMap(refMap) })
    expect(result).toBe(outer)
    expect(outer.a).toBe(outerB)
    expect(outer.b).toBe(outerA)
    expect(outer.a.bias.value.tolist()).toEqual([7, 7])
    const c = (outer as Pair & { c?: Linear }).c!
    expect(c).toBeInstanceOf(Linear)
    expect(c).not.toBe(added)
  })

  it("unflatten accepts raw values for Variables (traced leaves), keeping the GraphDef's metadata", () => {
    const p = new nnx.Param(jnp.ones([2]), { shardingNames: ["x"] })
    const { graphdef } = flatten(p)
    const q = unflatten(graphdef, [jnp.zeros([2])])
    expect(q).toBeInstanceOf(nnx.Param)
    expect(q.shardingNames).toEqual(["x"])
    expect(q.value.tolist()).toEqual([0, 0])
  })
})

describe("scale: iterative traversal", () => {
  it("handles a chain of Modules 10,000 deep without overflowing the stack", () => {
    class Chain extends nnx.Module {
      child: Chain | undefined = undefined
      depth: number
      constructor(depth: number) {
        super()
        this.depth = depth
      }
    }
    const root = new Chain(0)
    let cur = root
    for (let i = 1; i < 10_000; i++) {
      const next = new Chain(i)
      cur.child = next
      cur = next
    }
    ;(cur as Chain & { w?: nnx.Param<jnp.Array> }).w = new nnx.Param(jnp.ones([1]))
    cur.child = root // and close the cycle
    const [g, s] = nnx.split(root)
    expect(s.size).toBe(1)
    expect(s.paths[0]!.length).toBe(10_000)
    const copy = nnx.merge(g, s)
    let node = copy
    for (let i = 0; i < 9_999; i++) node = node.child!
    expect(node.depth).toBe(9_999)
    expect(node.child).toBe(copy)
    expect(nnx.clone(root).depth).toBe(0)
    nnx.update(
      root,
      s.map((_, l) => (l as nnx.Variable<unknown>).replace(jnp.zeros([1])))
    )
    expect(nnx.state(root, nnx.Param).leaves[0]!.value).toBeInstanceOf(jnp.Array)
    // iterGraph yields the deepest value first: the walk reaches the bottom without recursion
    const it = nnx.iterGraph(root)
    const first = it.next()
    expect(first.done).toBe(false)
    expect(first.value![0].length).toBe(10_000)
    expect(nnx.pop(root, nnx.Param).size).toBe(1)
  })

  it("handles 100,000 Variables", () => {
    class Big extends nnx.Module {
      params: Array<nnx.Param<jnp.Array>> = []
      byName: Record<string, Count> = {}
    }
    const m = new Big()
    const x = jnp.zeros([1])
    for (let i = 0; i < 50_000; i++) m.params.push(new nnx.Param(x))
    for (let i = 0; i < 50_000; i++) m.byName[`v${i}`] = new Count(x)
    const [g, params, counts] = nnx.split(m, nnx.Param, Count)
    expect(params.size + counts.size).toBe(100_000)
    const m2 = nnx.merge(g, params, counts)
    expect(m2.params.length).toBe(50_000)
    expect(m2.byName["v49999"]).toBeInstanceOf(Count)
    nnx.update(m, params, counts)
    expect(nnx.graphdef(m2).numLeaves).toBe(100_000)
  })
})
