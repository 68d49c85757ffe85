/**
 * What mutation testing (issue 16) found no test checking in graph split/merge and the checkpoint
 * codecs, each checked for what the code says (the message, the path, the values):
 * - every `MergeError` guard of the internal `unflatten` (hand-built GraphDefs, as a transform or
 *   a codec could hand it), and the in-place reuse lifted transforms rely on;
 * - merging live Variables (their value and metadata are copied into new Variables);
 * - `restore` checks that one test each could pass with a wrong check: other paths of the same
 *   count, a rank mismatch whose leading dimensions agree, the missing leaf that is not the first;
 *   bool data with a bad byte among good ones; an Array leaf (kind null) with metadata.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { jnp, nnx } from "effect-nnx"
import type { Attribute, NodeDef } from "../../src/graph/GraphDef.ts"
import { flatten, indexMapFromRefMap, unflatten } from "../../src/graph/flatten.ts"
import type { IndexMap, RefMap } from "../../src/graph/flatten.ts"
import { LEAF, moduleDef, NODE, paramDef } from "../support/graphDefs.ts"
import { failure } from "../support/thrown.ts"

class Leafy extends nnx.Module {
  a = new nnx.Param(jnp.ones([2]))
  b = new nnx.Param(jnp.zeros([2]))
}

class Other extends nnx.Module {}

/** The MergeError `f` throws. */
const mergeError = (f: () => unknown): nnx.MergeError => {
  try {
    f()
  } catch (e) {
    assert.instanceOf(e, nnx.MergeError)
    return e as nnx.MergeError
  }
  throw new Error("expected a MergeError")
}

const graphdef = (nodes: ReadonlyArray<NodeDef>, attributes: ReadonlyArray<Attribute>, numLeaves: number) =>
  new nnx.GraphDef<unknown>(nodes, attributes, numLeaves)

describe("unflatten's MergeError guards", () => {
  it("a leaf count other than the GraphDef's is refused before anything is built", () => {
    const e = mergeError(() =>
      unflatten(
        graphdef(
          [moduleDef(0, 2, Leafy)],
          [
            ["a", LEAF],
            ["b", LEAF]
          ],
          2
        ),
        [jnp.ones([1])]
      )
    )
    assert.strictEqual(e.reason, "the GraphDef needs 2 leaves, got 1")
    assert.isUndefined(e.path)
  })

  it("a structure that uses more leaves than it declares runs out of leaves at the attribute that needs one", () => {
    const g = graphdef(
      [moduleDef(0, 1, Leafy), moduleDef(1, 2, Leafy)],
      [
        ["inner", NODE],
        ["a", LEAF],
        ["b", LEAF]
      ],
      1
    )
    const e = mergeError(() => unflatten(g, [jnp.ones([1])]))
    assert.deepStrictEqual(e.path, ["inner", "b"])
    assert.strictEqual(e.reason, "ran out of leaves")
    assert.strictEqual(e.message, "merge: ran out of leaves at inner.b")
  })

  it("an attribute naming a node past the last one: fewer nodes than the attributes use", () => {
    const e = mergeError(() => unflatten(graphdef([moduleDef(0, 1, Leafy)], [["child", NODE]], 0), []))
    assert.deepStrictEqual(e.path, ["child"])
    assert.strictEqual(e.reason, "the GraphDef has fewer nodes than its attributes use")
  })

  it("a reference to a node not defined before it names the index and the path", () => {
    const e = mergeError(() =>
      unflatten(graphdef([moduleDef(0, 1, Leafy), { _tag: "NodeRef", index: 3 }], [["child", NODE]], 0), [])
    )
    assert.deepStrictEqual(e.path, ["child"])
    assert.strictEqual(e.reason, "a reference to node 3, which is not defined before it")
  })

  it("a reference to an earlier node resolves to that very object (shared and cyclic)", () => {
    const g = graphdef(
      [moduleDef(0, 2, Leafy), moduleDef(1, 0, Other), { _tag: "NodeRef", index: 1 }],
      [
        ["x", NODE],
        ["y", NODE]
      ],
      0
    )
    const m = unflatten(g, []) as { x: Other; y: Other }
    assert.instanceOf(m.x, Other)
    assert.strictEqual(m.y, m.x)
    const cyclic = unflatten(
      graphdef([moduleDef(0, 1, Leafy), { _tag: "NodeRef", index: 0 }], [["self", NODE]], 0),
      []
    ) as {
      self: unknown
    }
    assert.strictEqual(cyclic.self, cyclic)
  })

  it("a Module index defined twice is refused, naming the index", () => {
    const e = mergeError(() =>
      unflatten(graphdef([moduleDef(0, 1, Leafy), moduleDef(0, 0, Other)], [["child", NODE]], 0), [])
    )
    assert.deepStrictEqual(e.path, ["child"])
    assert.strictEqual(e.reason, "node index 0 is defined twice")
  })

  it("a node owning more attributes than the GraphDef lists: fewer attributes than the nodes use", () => {
    const e = mergeError(() =>
      unflatten(
        graphdef(
          [moduleDef(0, 3, Leafy)],
          [
            ["a", LEAF],
            ["b", LEAF]
          ],
          2
        ),
        [jnp.ones([1]), jnp.ones([1])]
      )
    )
    assert.strictEqual(e.reason, "the GraphDef has fewer attributes than its nodes use")
  })

  it("nodes or attributes left over after the root is complete are refused with both counts", () => {
    const extraNode = mergeError(() => unflatten(graphdef([moduleDef(0, 0, Leafy), moduleDef(1, 0, Other)], [], 0), []))
    assert.strictEqual(extraNode.reason, "the GraphDef has 2 nodes but its attributes use 1")
    const extraAttr = mergeError(() =>
      unflatten(
        graphdef(
          [moduleDef(0, 1, Leafy)],
          [
            ["a", LEAF],
            ["b", LEAF]
          ],
          1
        ),
        [jnp.ones([1])]
      )
    )
    assert.strictEqual(extraAttr.reason, "the GraphDef has 2 attributes but its nodes use 1")
  })

  it("a Variable of another kind is refused, naming both kinds and the path", () => {
    const g = graphdef([moduleDef(0, 1, Leafy), paramDef(1)], [["w", NODE]], 1)
    const e = mergeError(() => unflatten(g, [new nnx.BatchStat(jnp.ones([1]))]))
    assert.deepStrictEqual(e.path, ["w"])
    assert.strictEqual(e.reason, "expected a Param, got a BatchStat")
  })

  it("an object to reuse of the wrong type is refused, for Modules and for Variables", () => {
    const moduleAt0 = graphdef([moduleDef(0, 0, Leafy, 0)], [], 0)
    for (const wrong of [new Other(), new nnx.Param(jnp.ones([1]))]) {
      const e = mergeError(() => unflatten(moduleAt0, [], { reuse: new Map([[0, wrong]]) }))
      assert.strictEqual(e.reason, "the object to reuse for outer index 0 is not a Leafy")
    }
    const paramAt5 = graphdef([moduleDef(0, 1, Leafy), paramDef(1, 5)], [["w", NODE]], 1)
    for (const wrong of [new Leafy(), new nnx.BatchStat(jnp.ones([1]))]) {
      const e = mergeError(() => unflatten(paramAt5, [jnp.ones([1])], { reuse: new Map([[5, wrong]]) }))
      assert.deepStrictEqual(e.path, ["w"])
      assert.strictEqual(e.reason, "the object to reuse for outer index 5 is not a Param")
    }
  })

  it("nnx.merge checks a hand-built GraphDef before unflatten sees it", () => {
    const e = mergeError(() =>
      nnx.merge(graphdef([moduleDef(0, 1, Leafy), { _tag: "NodeRef", index: 3 }], [["child", NODE]], 0))
    )
    assert.strictEqual(e.reason, "malformed GraphDef: a reference to node 3, which is not defined before it")
  })
})

describe("reuse: updating the outer objects in place", () => {
  it("a reused Module is emptied first, so an attribute deleted inside is gone; reused Variables take the new value and metadata", () => {
    const outer = new Leafy()
    const outerA = outer.a
    const refMap: RefMap = new Map()
    const outerFlat = flatten(outer, { refMap })
    const innerIndex: IndexMap = new Map()
    const inner = unflatten(outerFlat.graphdef, outerFlat.leaves, { indexMap: innerIndex })
    assert.notStrictEqual(inner, outer)
    Reflect.deleteProperty(inner, "b")
    inner.a.value = jnp.array([5, 6])
    inner.a.setMetadata("note", "changed")
    const innerToOuter = new Map<object, number>([...innerIndex].map(([i, o]) => [o, i] as const))
    const innerFlat = flatten(inner, { outerRefMap: innerToOuter })
    const back = unflatten(innerFlat.graphdef, innerFlat.leaves, { reuse: indexMapFromRefMap(refMap) })
    assert.strictEqual(back, outer)
    assert.deepStrictEqual(Object.keys(outer), ["a"])
    assert.isFalse("b" in outer)
    assert.strictEqual(outer.a, outerA)
    assert.deepStrictEqual(outer.a.value.tolist(), [5, 6])
    assert.strictEqual(outer.a.metadata["note"], "changed")
  })
})

describe("plain lists and records, and outer indices without reuse", () => {
  it("a plain list held at two places (not a cycle) flattens at both and merges back as two copies", () => {
    const list = [jnp.array([1, 2]), jnp.array([3])]
    const [g, s] = nnx.split({ a: list, b: list })
    assert.deepStrictEqual(s.paths, [
      ["a", 0],
      ["a", 1],
      ["b", 0],
      ["b", 1]
    ])
    const back = nnx.merge(g, s)
    assert.notStrictEqual(back.a, back.b)
    assert.deepStrictEqual(
      back.b.map((x) => x.tolist()),
      [[1, 2], [3]]
    )
  })

  it("a GraphDef stamped with outer indices rebuilds new objects when nothing is offered for reuse", () => {
    const m = new Leafy()
    const { graphdef: g, leaves } = flatten(m)
    const back = unflatten(g.withSameOuterIndex(), leaves)
    assert.instanceOf(back, Leafy)
    assert.notStrictEqual(back, m)
    assert.notStrictEqual(back.a, m.a)
    assert.deepStrictEqual(back.a.value.tolist(), [1, 1])
  })
})

describe("merging live Variables", () => {
  it("a pure record of live Variables merges around them, or into new Variables holding their values and metadata with copy", () => {
    const g = nnx.graphdef(new Leafy())
    const a = new nnx.Param(jnp.array([1, 2]), { note: "a" })
    const b = new nnx.Param(jnp.array([3, 4]), { note: "b" })
    const shared = nnx.merge(g, { a, b })
    assert.strictEqual(shared.a, a)
    assert.strictEqual(shared.b, b)
    const m = nnx.merge(g, { a, b }, { copy: true })
    assert.instanceOf(m, Leafy)
    assert.notStrictEqual(m.a, a)
    assert.deepStrictEqual(m.a.value.tolist(), [1, 2])
    assert.deepStrictEqual(m.b.value.tolist(), [3, 4])
    assert.strictEqual(m.a.metadata["note"], "a")
    assert.strictEqual(m.b.metadata["note"], "b")
  })

  it("the GraphDef of one Variable merges a live Variable as it is, or into a new one with its value and metadata with copy", () => {
    const p = new nnx.Param(jnp.zeros([2]), { shardingNames: ["x"] })
    const [g] = nnx.split(p)
    const live = new nnx.Param(jnp.array([7, 8]), { shardingNames: ["y"] })
    assert.strictEqual(nnx.merge(g, live), live)
    assert.throws(() => nnx.merge(g, new nnx.BatchStat(jnp.zeros([2]))), /expected a Param, got a BatchStat/)
    const back = nnx.merge(g, live, { copy: true })
    assert.instanceOf(back, nnx.Param)
    assert.notStrictEqual(back, live)
    assert.deepStrictEqual(back.value.tolist(), [7, 8])
    assert.deepStrictEqual(back.shardingNames, ["y"])
  })

  it("a non-Array value (a string) in a Variable splits and merges as it is", () => {
    class Tagged extends nnx.Module {
      tag = new nnx.Variable("hello")
      w = new nnx.Param(jnp.ones([1]))
    }
    const [g, s] = nnx.split(new Tagged())
    const back = nnx.merge(g, s)
    assert.strictEqual(back.tag.value, "hello")
    const copy = nnx.clone(back)
    assert.notStrictEqual(copy.tag, back.tag)
    assert.strictEqual(copy.tag.value, "hello")
  })
})

const saved = (m: nnx.Module): Uint8Array => Effect.runSync(nnx.saveState(nnx.state(m)))

/** The CodecError a failed `restore` gives. */
const restoreError = (target: nnx.Module, file: Uint8Array | string): nnx.CodecError => {
  const e = failure(nnx.restore(target, file))
  assert.instanceOf(e, nnx.CodecError)
  return e as nnx.CodecError
}

describe("restore's checks", () => {
  it("a file with as many leaves at other paths ({w, c} into {w, b}) is refused at the first path that differs", () => {
    class WB extends nnx.Module {
      w = new nnx.Param(jnp.ones([2]))
      b = new nnx.Param(jnp.zeros([2]))
    }
    class WC extends nnx.Module {
      w = new nnx.Param(jnp.ones([2]))
      c = new nnx.Param(jnp.zeros([2]))
    }
    const target = new WB()
    for (const file of [saved(new WC()), Effect.runSync(nnx.stateToJson(nnx.state(new WC())))]) {
      const e = restoreError(target, file)
      assert.strictEqual(e._tag, "CodecError")
      assert.deepStrictEqual(e.path, ["b"])
      assert.strictEqual(
        e.message,
        "the checkpoint's leaves do not match the model's (the model has b, the checkpoint c) at b"
      )
    }
    assert.deepStrictEqual(target.b.value.tolist(), [0, 0])
  })

  it("a rank mismatch whose leading dimensions agree ((2, 3, 1) into (2, 3)) is refused, both ways", () => {
    class R2 extends nnx.Module {
      w = new nnx.Param(jnp.ones([2, 3]))
    }
    class R3 extends nnx.Module {
      w = new nnx.Param(jnp.zeros([2, 3, 1]))
    }
    const into2 = restoreError(new R2(), saved(new R3()))
    assert.deepStrictEqual(into2.path, ["w"])
    assert.strictEqual(into2.message, "the model has Param float32(2, 3), the checkpoint Param float32(2, 3, 1) at w")
    const into3 = restoreError(new R3(), saved(new R2()))
    assert.strictEqual(into3.message, "the model has Param float32(2, 3, 1), the checkpoint Param float32(2, 3) at w")
  })

  it("the missing leaf is named even when it is not the first", () => {
    class ABC extends nnx.Module {
      a = new nnx.Param(jnp.ones([1]))
      b = new nnx.Param(jnp.ones([1]))
      c = new nnx.Param(jnp.ones([1]))
    }
    class AC extends nnx.Module {
      a = new nnx.Param(jnp.ones([1]))
      c = new nnx.Param(jnp.ones([1]))
    }
    const e = restoreError(new ABC(), saved(new AC()))
    assert.deepStrictEqual(e.path, ["b"])
    assert.strictEqual(e.message, "the checkpoint lacks a leaf the model has at b")
    const extra = restoreError(new AC(), saved(new ABC()))
    assert.deepStrictEqual(extra.path, ["b"])
    assert.strictEqual(extra.message, "the checkpoint has a leaf the model does not at b")
  })

  it("an Array leaf restores into an Array attribute, and a kind mismatch with it is named", () => {
    class Bare extends nnx.Module {
      t = jnp.array([1, 2]).astype("float32")
    }
    class Wrapped extends nnx.Module {
      t = new nnx.Param(jnp.array([3, 4]).astype("float32"))
    }
    const target = new Bare()
    const source = new Bare()
    source.t = jnp.array([9, 8]).astype("float32")
    Effect.runSync(nnx.restore(target, saved(source)))
    assert.deepStrictEqual(target.t.tolist(), [9, 8])
    const e = restoreError(target, saved(new Wrapped()))
    assert.strictEqual(e.message, "the model has Array float32(2,), the checkpoint Param float32(2,) at t")
  })
})

describe("loading checks", () => {
  class Flags extends nnx.Module {
    f = new nnx.BatchStat(jnp.array([true, false, true, false]))
    t = jnp.array([1, 2]).astype("float32")
  }
  const json = Effect.runSync(nnx.stateToJson(nnx.state(new Flags())))
  const base64 = (bytes: ReadonlyArray<number>): string => Buffer.from(bytes).toString("base64")

  it("bool data with one bad byte among 0s and 1s is refused; 0s and 1s load", () => {
    const good = json.replace(base64([1, 0, 1, 0]), base64([0, 1, 1, 0]))
    const loaded = Effect.runSync(nnx.stateFromJson(good))
    const f = loaded.toFlat().find(([p]) => p[0] === "f")![1] as nnx.Variable<unknown>
    assert.deepStrictEqual((f.value as jnp.Array).tolist(), [false, true, true, false])
    const bad = json.replace(base64([1, 0, 1, 0]), base64([1, 0, 2, 1]))
    assert.notStrictEqual(bad, json)
    const e = failure(nnx.stateFromJson(bad))
    assert.deepStrictEqual(e.path, ["f"])
    assert.strictEqual(e.message, "bool data must be 0 or 1 at f")
  })

  it("an Array leaf (kind null) with metadata is refused; without, it loads as a plain Array", () => {
    const plain = Effect.runSync(nnx.stateFromJson(json))
      .toFlat()
      .find(([p]) => p[0] === "t")![1]
    assert.isFalse(plain instanceof nnx.Variable)
    assert.deepStrictEqual((plain as jnp.Array).tolist(), [1, 2])
    const withMeta = json.replace(
      /("path":\["t"\],"kind":null,"dtype":"float32","shape":\[2\],"metadata":)\{\}/,
      '$1{"note":1}'
    )
    assert.notStrictEqual(withMeta, json)
    const e = failure(nnx.stateFromJson(withMeta))
    assert.deepStrictEqual(e.path, ["t"])
    assert.strictEqual(e.message, "an Array leaf (kind null) cannot have metadata at t")
  })
})
