/**
 * `update` and `merge` with what Flax 0.12.8 accepts besides States, and `split` of a single leaf:
 * - `nnx.update(m, {'a': {'kernel': x}})` writes nested pure dicts of arrays or Variables, keeping
 *   the Variables' kinds (Flax: `m.a.kernel` stays a Param holding 7.0);
 * - `nnx.merge(graphdef, nnx.to_pure_dict(state))` rebuilds the Module; a dict missing or adding
 *   leaves fails (Flax: "Incorrect number of leaves", here a MergeError naming the path);
 *   `nnx.merge(graphdef)` is Flax's TypeError for a missing argument, here a MergeError naming the
 *   first leaf needed;
 * - `nnx.split(array)` is `(GraphDef(nodes=[], num_leaves=1), array)` and `nnx.split(param)` is
 *   `(GraphDef([VariableDef]), leaf)`; `merge` round-trips both.
 */
import { assert, describe, it } from "@effect/vitest"
import { jnp, nnx } from "effect-nnx"
import { thrown } from "../support/thrown.ts"

class Linear extends nnx.Module {
  kernel = new nnx.Param(jnp.zeros([2, 3]), { shardingNames: ["a", "b"] })
  bias = new nnx.Param(jnp.zeros([3]))
}

class Model extends nnx.Module {
  a = new Linear()
  b = new nnx.Param(jnp.zeros([2]))
  c = jnp.ones([1])
  layers = [new Linear()]
  name = "m"
}

describe("update with pure records", () => {
  it("writes nested Arrays into the Variables at their paths, keeping kinds and metadata", () => {
    const m = new Model()
    const kernel = m.a.kernel
    nnx.update(m, { a: { kernel: jnp.full([2, 3], 7) } })
    assert.strictEqual(m.a.kernel, kernel)
    assert.instanceOf(m.a.kernel, nnx.Param)
    assert.deepStrictEqual(m.a.kernel.value.tolist(), [
      [7, 7, 7],
      [7, 7, 7]
    ])
    assert.deepStrictEqual(m.a.kernel.shardingNames, ["a", "b"])
  })

  it("writes nested Variables and VariableStates (value and metadata), raw Arrays and list elements spelled as strings", () => {
    const m = new Model()
    nnx.update(m, {
      a: { bias: new nnx.Param(jnp.full([3], 5)) },
      b: new nnx.Param(jnp.full([2], 4)),
      c: jnp.full([1], 9),
      layers: { "0": { bias: jnp.full([3], 2) } }
    })
    assert.deepStrictEqual(m.a.bias.value.tolist(), [5, 5, 5])
    assert.deepStrictEqual(m.b.value.tolist(), [4, 4])
    assert.deepStrictEqual(m.c.tolist(), [9])
    assert.deepStrictEqual(m.layers[0]!.bias.value.tolist(), [2, 2, 2])
  })

  it("round-trips toPureDict: a model's pure dict written into another model gives equal values", () => {
    const src = new Model()
    nnx.update(src, { a: { kernel: jnp.full([2, 3], 3) }, layers: { "0": { kernel: jnp.full([2, 3], 1) } } })
    const dst = new Model()
    nnx.update(dst, nnx.state(src).toPureDict())
    assert.deepStrictEqual(dst.a.kernel.value.tolist(), [
      [3, 3, 3],
      [3, 3, 3]
    ])
    assert.deepStrictEqual(dst.layers[0]!.kernel.value.tolist(), [
      [1, 1, 1],
      [1, 1, 1]
    ])
  })

  it("adds attributes the graph lacks, as Flax's update does for a new key", () => {
    const m = new Model() as Model & { zz?: jnp.Array }
    nnx.update(m, { zz: jnp.ones([1]) })
    assert.deepStrictEqual(m.zz!.tolist(), [1])
  })

  it("refuses a leaf where the graph has a subgraph, with UpdateError and its path, changing nothing", () => {
    const m = new Model()
    const e = thrown(() => nnx.update(m, { b: jnp.full([2], 1), a: jnp.ones([1]) }))
    assert.instanceOf(e, nnx.UpdateError)
    assert.deepStrictEqual((e as nnx.UpdateError).path, ["a"])
    assert.match((e as nnx.UpdateError).message, /the state has a leaf here, but the graph has a subgraph \(Linear\)/)
    assert.deepStrictEqual(m.b.value.tolist(), [0, 0])
  })

  it("refuses leaves that are not Arrays or Variables, naming the path", () => {
    const m = new Model()
    const e = thrown(() => nnx.update(m, { a: { kernel: 3 } }))
    assert.instanceOf(e, nnx.UpdateError)
    assert.deepStrictEqual((e as nnx.UpdateError).path, ["a", "kernel"])
    assert.match(
      (e as nnx.UpdateError).message,
      /the state has number; a pure record holds nested records whose leaves are Arrays or Variables/
    )
    // lists are pure nodes too (as nnx.grad returns for a list of Variables): the bad leaf is inside
    const list = thrown(() => nnx.update(m, { a: [1] }))
    assert.instanceOf(list, nnx.UpdateError)
    assert.deepStrictEqual((list as nnx.UpdateError).path, ["a", 0])
    assert.match((list as nnx.UpdateError).message, /the state has number/)
  })

  it("refuses a key reaching the prototype machinery", () => {
    const m = new Model()
    const e = thrown(() => nnx.update(m, JSON.parse('{"a":{"__proto__":{"x":1}}}') as Record<string, unknown>))
    assert.instanceOf(e, nnx.UpdateError)
  })
})

describe("merge with pure records, no state, and single leaves", () => {
  it("rebuilds a Module from a GraphDef and a pure dict (raw values take the GraphDef's kinds and metadata)", () => {
    const m = new Model()
    nnx.update(m, { a: { kernel: jnp.full([2, 3], 7) } })
    const [g, s] = nnx.split(m)
    const copy = nnx.merge(g, s.toPureDict())
    assert.instanceOf(copy, Model)
    assert.instanceOf(copy.a.kernel, nnx.Param)
    assert.deepStrictEqual(copy.a.kernel.value.tolist(), [
      [7, 7, 7],
      [7, 7, 7]
    ])
    assert.deepStrictEqual(copy.a.kernel.shardingNames, ["a", "b"])
    assert.instanceOf(copy.layers[0]!.bias, nnx.Param)
    assert.deepStrictEqual(copy.c.tolist(), [1])
    assert.strictEqual(copy.name, "m")
  })

  it("a pure dict missing a leaf or with an extra one is a MergeError naming the path", () => {
    const [g, s] = nnx.split(new Model())
    const pure = s.toPureDict() as { a: { kernel?: unknown } }
    delete pure.a.kernel
    const missing = thrown(() => nnx.merge(g, pure))
    assert.instanceOf(missing, nnx.MergeError)
    assert.deepStrictEqual((missing as nnx.MergeError).path, ["a", "kernel"])
    assert.match(
      (missing as nnx.MergeError).message,
      /the state has no leaf here, but the GraphDef needs one at a\.kernel/
    )
    const extra = thrown(() => nnx.merge(g, { ...s.toPureDict(), extra: jnp.ones([1]) }))
    assert.instanceOf(extra, nnx.MergeError)
    assert.deepStrictEqual((extra as nnx.MergeError).path, ["extra"])
    assert.match((extra as nnx.MergeError).message, /a leaf the GraphDef does not expect/)
  })

  it("merge without a state is a MergeError naming the first leaf the GraphDef needs", () => {
    const g = nnx.graphdef(new Model())
    const e = thrown(() => (nnx.merge as (g: nnx.GraphDef<Model>) => Model)(g))
    assert.instanceOf(e, nnx.MergeError)
    assert.deepStrictEqual((e as nnx.MergeError).path, ["a", "bias"])
  })

  it("merge without a state rebuilds a graph that has no leaves", () => {
    class Config extends nnx.Module {
      features = 3
    }
    const back = nnx.merge(nnx.graphdef(new Config()))
    assert.instanceOf(back, Config)
    assert.strictEqual(back.features, 3)
  })

  it("merge refuses a State where the GraphDef needs a subtree, or a stray value", () => {
    const [g] = nnx.split(new Model())
    const e = thrown(() => nnx.merge(g, nnx.State.fromFlat([[["a"], jnp.ones([1])]])))
    assert.instanceOf(e, nnx.MergeError)
    assert.match(
      (e as nnx.MergeError).message,
      /subtree here, but the GraphDef needs a leaf at a\.bias|has no leaf here/
    )
    const stray = thrown(() => nnx.merge(g, jnp.ones([1])))
    assert.instanceOf(stray, nnx.MergeError)
    assert.match(
      (stray as nnx.MergeError).message,
      /merge takes States or one pure record after the GraphDef, got an Array of shape \(1\)/
    )
  })
})

describe("split of a single leaf", () => {
  it("an Array splits into a GraphDef with no nodes and the Array itself; merge returns it", () => {
    const x = jnp.ones([2])
    const [g, leaf] = nnx.split(x)
    assert.strictEqual(g.nodes.length, 0)
    assert.strictEqual(g.numLeaves, 1)
    assert.strictEqual(leaf, x)
    assert.strictEqual(nnx.merge(g, leaf), x)
    assert.strictEqual(nnx.graphdef(x).numLeaves, 1)
  })

  it("a Variable splits into a GraphDef of one VariableDef and the Variable itself; merge gives it back, or a new one with copy", () => {
    const p = new nnx.Param(jnp.ones([2]), { shardingNames: ["x"] })
    const [g, leaf] = nnx.split(p)
    assert.strictEqual(g.nodes.length, 1)
    assert.strictEqual(g.nodes[0]!._tag, "VariableDef")
    assert.instanceOf(leaf, nnx.Variable)
    assert.strictEqual(leaf, p)
    assert.strictEqual(nnx.merge(g, leaf), p)
    const back = nnx.merge(g, leaf, { copy: true })
    assert.instanceOf(back, nnx.Param)
    assert.notStrictEqual(back, p)
    assert.deepStrictEqual(back.value.tolist(), [1, 1])
    assert.deepStrictEqual(back.shardingNames, ["x"])
  })

  it("with filters, the leaf goes to the first filter selecting it and the others get empty States", () => {
    const p = new nnx.Param(jnp.ones([2]))
    const [, params, rest] = (nnx.split as (n: unknown, ...fs: Array<unknown>) => Array<unknown>)(p, nnx.Param, "...")
    assert.instanceOf(params, nnx.Variable)
    assert.isTrue(nnx.isState(rest))
    assert.strictEqual((rest as nnx.State).size, 0)
    const e = thrown(() => (nnx.split as (n: unknown, ...fs: Array<unknown>) => Array<unknown>)(p, nnx.BatchStat))
    assert.instanceOf(e, nnx.FilterError)
  })

  it("merge of a leaf GraphDef without its leaf is a MergeError", () => {
    const [g] = nnx.split(jnp.ones([2]))
    const e = thrown(() => (nnx.merge as (g: nnx.GraphDef<jnp.Array>) => jnp.Array)(g))
    assert.instanceOf(e, nnx.MergeError)
    assert.match((e as nnx.MergeError).message, /the GraphDef is of a single leaf/)
  })
})
