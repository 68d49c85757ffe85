/**
 * nnx.List and nnx.Dict, as Flax 0.12's: children by index (numbers in paths) or by name, through
 * split/merge and the lifted transforms, with structure changes inside nnx.jit propagating out.
 */
import { Effect } from "effect"
import { assert, describe, it } from "@effect/vitest"
import { jnp, nnx } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

class Model extends nnx.Module {
  layers: nnx.List<nnx.Linear>
  heads: nnx.Dict<nnx.Linear | nnx.Param<JArray>>
  constructor(rngs: nnx.Rngs) {
    super()
    this.layers = new nnx.List([new nnx.Linear(2, 2, { rngs }), new nnx.Linear(2, 2, { rngs })])
    this.heads = new nnx.Dict({ a: new nnx.Linear(2, 1, { rngs }), b: new nnx.Param(jnp.ones([1])) })
  }
}

const paths = (m: nnx.Module) =>
  nnx
    .state(m)
    .toFlat()
    .map(([p]) => p.join("."))

describe("nnx.List and nnx.Dict", () => {
  it("give Flax's paths: indices as numbers, names as attributes", () => {
    const m = new Model(new nnx.Rngs(0))
    // Flax 0.12.8: ['heads.a.bias', 'heads.a.kernel', 'heads.b', 'layers.0.bias', 'layers.0.kernel', 'layers.1.bias', 'layers.1.kernel']
    assert.deepStrictEqual(paths(m), [
      "heads.a.bias",
      "heads.a.kernel",
      "heads.b",
      "layers.0.bias",
      "layers.0.kernel",
      "layers.1.bias",
      "layers.1.kernel"
    ])
    assert.strictEqual(
      typeof nnx
        .state(m)
        .toFlat()
        .find(([p]) => p[0] === "layers")![0][1],
      "number"
    )
    assert.isTrue(m.layers instanceof nnx.Module)
  })

  it("List: length, at (negative from the end), set, push, pop, iteration, map; out of range is a typed error", () => {
    const rngs = new nnx.Rngs(0)
    const l = new nnx.List<nnx.Linear>()
    assert.strictEqual(l.length, 0)
    assert.isUndefined(l.pop())
    const a = new nnx.Linear(1, 1, { rngs }),
      b = new nnx.Linear(1, 1, { rngs })
    assert.strictEqual(l.push(a, b), 2)
    assert.strictEqual(l.at(-1), b)
    l.set(0, b)
    assert.deepStrictEqual([...l], [b, b])
    assert.deepStrictEqual(
      l.map((_, i) => i),
      [0, 1]
    )
    assert.strictEqual(l.pop(), b)
    assert.strictEqual(l.length, 1)
    assert.throws(() => l.at(3), /index 3 is out of range for a List of length 1/)
    assert.throws(() => l.set(-2, a), /out of range/)
  })

  it("Dict: get, set, has, delete, keys, values, entries, size; an index or a method name is refused", () => {
    const d = new nnx.Dict<number>({ x: 1 })
    d.set("y", 2)
    assert.strictEqual(d.get("y"), 2)
    assert.isUndefined(d.get("z"))
    assert.isTrue(d.has("x"))
    assert.deepStrictEqual(d.keys(), ["x", "y"])
    assert.deepStrictEqual(d.values(), [1, 2])
    assert.deepStrictEqual(d.entries(), [
      ["x", 1],
      ["y", 2]
    ])
    assert.strictEqual(d.size, 2)
    assert.isTrue(d.delete("x"))
    assert.isFalse(d.delete("x"))
    assert.throws(() => d.set("0", 1), /cannot name an entry/)
    assert.throws(() => d.set("get", 1), /cannot name an entry/)
    assert.throws(() => new nnx.Dict({ train: 1 }), /cannot name an entry/)
  })

  it("round-trip through split and merge, and a push inside nnx.jit adds the layer outside", () => {
    const m = new Model(new nnx.Rngs(0))
    const [graphdef, state] = nnx.split(m)
    const copy = nnx.merge(graphdef, state)
    assert.instanceOf(copy.layers, nnx.List)
    assert.instanceOf(copy.heads, nnx.Dict)
    assert.strictEqual(copy.layers.length, 2)
    assert.deepStrictEqual(paths(copy), paths(m))

    const grow = nnx.jit((model: Model) => {
      model.layers.push(new nnx.Linear(2, 2, { rngs: new nnx.Rngs(1) }))
      return model.layers.length
    })
    assert.strictEqual(grow.sync(m), 3)
    assert.strictEqual(m.layers.length, 3)
    assert.include(paths(m), "layers.2.kernel")
    const y = m.layers.toArray().reduce((x, layer) => layer.call(x), jnp.ones([1, 2]))
    assert.deepStrictEqual(y.shape, [1, 2])
  })
})

describe("nnx.List and nnx.Dict in checkpoints", () => {
  it.effect("round-trip a GraphDef and State through JSON", () =>
    Effect.gen(function* () {
      const m = new Model(new nnx.Rngs(0))
      const graphdef = yield* nnx.graphDefFromJson<Model>(yield* nnx.graphDefToJson(nnx.graphdef(m)), {
        types: [Model, nnx.List, nnx.Dict, nnx.Linear]
      })
      const state = yield* nnx.stateFromJson(yield* nnx.stateToJson(nnx.state(m)))
      const back = nnx.merge(graphdef, state)
      assert.instanceOf(back.layers, nnx.List)
      assert.deepStrictEqual(paths(back), paths(m))
      assert.deepStrictEqual(back.layers.at(1).kernel.value.tolist(), m.layers.at(1).kernel.value.tolist())
    })
  )
})
