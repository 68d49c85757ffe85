/**
 * The elementwise plans of the wasm backend (src/backend/wasm/kernels/plan.ts) on their own (issue 16:
 * tests that catch injected bugs): how `simplify` drops size-1 axes and merges the axes every operand
 * walks as one (never a reduced axis with a kept one), the live nodes and arguments of every node
 * kind, element bytes, row-major strides, and the cache key telling -0, NaN and the infinities apart.
 */
import { assert, describe, it } from "@effect/vitest"
import type { FusedNode } from "../../src/backend/fusion.ts"
import {
  argsOf,
  bytesOf,
  count,
  liveNodes,
  nodeDtypes,
  planKey,
  rowMajor,
  simplify
} from "../../src/backend/wasm/kernels/plan.ts"
import type { Plan } from "../../src/backend/wasm/kernels/plan.ts"

const map = (
  shape: ReadonlyArray<number>,
  strides: ReadonlyArray<ReadonlyArray<number>>,
  out = rowMajor(shape)
): Plan => ({
  shape,
  inputs: strides.map((s) => ({ dtype: "float32", strides: s })),
  nodes: [{ kind: "input", input: 0, dtype: "float32" }],
  outputs: { kind: "map", results: [{ node: 0, strides: out }] }
})

describe("elementwise plans", () => {
  it("simplify maps: size-1 axes dropped, axes walked as one merged", () => {
    // contiguous: one flat axis
    assert.deepStrictEqual(simplify(map([2, 3, 4], [rowMajor([2, 3, 4])])), {
      shape: [24],
      reduced: [false],
      inputs: [{ dtype: "float32", strides: [1] }],
      nodes: [{ kind: "input", input: 0, dtype: "float32" }],
      outputs: { kind: "map", results: [{ node: 0, strides: [1] }] }
    })
    // size-1 axes dropped, whatever their strides
    const s1 = simplify(map([1, 3, 1, 4], [[99, 4, 77, 1]]))
    assert.deepStrictEqual(s1.shape, [12])
    assert.deepStrictEqual(s1.inputs[0]!.strides, [1])
    // a transposed input keeps both axes; a broadcast one merges only where it walks as one
    const s2 = simplify(map([3, 4], [[1, 3]]))
    assert.deepStrictEqual(s2.shape, [3, 4])
    assert.deepStrictEqual(s2.inputs[0]!.strides, [1, 3])
    assert.deepStrictEqual(s2.outputs, { kind: "map", results: [{ node: 0, strides: [4, 1] }] })
    const s3 = simplify(map([2, 3, 4], [[0, 0, 1]]))
    assert.deepStrictEqual(s3.shape, [6, 4])
    assert.deepStrictEqual(s3.inputs[0]!.strides, [0, 1])
    assert.deepStrictEqual(s3.outputs, { kind: "map", results: [{ node: 0, strides: [4, 1] }] })
    // an output padded between rows stops the merge
    const s4 = simplify(map([2, 3], [[3, 1]], [4, 1]))
    assert.deepStrictEqual(s4.shape, [2, 3])
    // everything of size 1: one axis of size 1, zero strides
    const s5 = simplify(map([1, 1], [[5, 7]], [3, 3]))
    assert.deepStrictEqual(s5.shape, [1])
    assert.deepStrictEqual(s5.reduced, [false])
    assert.deepStrictEqual(s5.inputs[0]!.strides, [0])
    assert.deepStrictEqual(s5.outputs, { kind: "map", results: [{ node: 0, strides: [0] }] })
    assert.deepStrictEqual(simplify(map([], [[]], [])).shape, [1])
    // several outputs, each with its own strides
    const two: Plan = {
      shape: [2, 3],
      inputs: [{ dtype: "bool", strides: [3, 1] }],
      nodes: [{ kind: "input", input: 0, dtype: "bool" }],
      outputs: {
        kind: "map",
        results: [
          { node: 0, strides: [3, 1] },
          { node: 0, strides: [1, 2] }
        ]
      }
    }
    assert.deepStrictEqual(simplify(two).outputs, {
      kind: "map",
      results: [
        { node: 0, strides: [3, 1] },
        { node: 0, strides: [1, 2] }
      ]
    })
  })

  it("simplify reductions: reduced axes merged only with reduced ones, axes renumbered", () => {
    const reduce = (shape: ReadonlyArray<number>, axes: ReadonlyArray<number>): Plan => ({
      shape,
      inputs: [{ dtype: "int32", strides: rowMajor(shape) }],
      nodes: [{ kind: "input", input: 0, dtype: "int32" }],
      outputs: { kind: "reduce", node: 0, prim: "reduce_sum", axes }
    })
    const r1 = simplify(reduce([2, 3, 4, 5], [2, 3]))
    assert.deepStrictEqual(r1.shape, [6, 20])
    assert.deepStrictEqual(r1.reduced, [false, true])
    assert.deepStrictEqual(r1.inputs[0]!.strides, [20, 1])
    assert.deepStrictEqual(r1.outputs, { kind: "reduce", node: 0, prim: "reduce_sum", axes: [1] })
    const r2 = simplify(reduce([2, 3, 4], [1]))
    assert.deepStrictEqual(r2.shape, [2, 3, 4])
    assert.deepStrictEqual(r2.reduced, [false, true, false])
    assert.deepStrictEqual(r2.outputs, { kind: "reduce", node: 0, prim: "reduce_sum", axes: [1] })
    const r3 = simplify(reduce([2, 1, 4], [1]))
    assert.deepStrictEqual(r3.shape, [8])
    assert.deepStrictEqual(r3.reduced, [false])
    assert.deepStrictEqual(r3.outputs, { kind: "reduce", node: 0, prim: "reduce_sum", axes: [] })
    // reducing only size-1 axes: one axis of size 1, reduced
    const r4 = simplify(reduce([1, 1], [0, 1]))
    assert.deepStrictEqual(r4.shape, [1])
    assert.deepStrictEqual(r4.reduced, [true])
    assert.deepStrictEqual(r4.inputs[0]!.strides, [0])
    const r5 = simplify(reduce([1], []))
    assert.deepStrictEqual(r5.reduced, [false])
    const r6 = simplify(reduce([3, 1, 4], [0, 2]))
    assert.deepStrictEqual(r6.shape, [12])
    assert.deepStrictEqual(r6.reduced, [true])
  })

  it("find live nodes and arguments of every node kind", () => {
    const nodes: ReadonlyArray<FusedNode> = [
      { kind: "input", input: 0, dtype: "float32" }, // 0
      { kind: "literal", value: 2, dtype: "float32" }, // 1
      { kind: "unary", prim: "neg", arg: 0, dtype: "float32" }, // 2
      { kind: "round", method: "toNearestEven", arg: 2, dtype: "float32" }, // 3
      { kind: "convert", arg: 3, dtype: "int32" }, // 4
      { kind: "binary", prim: "lt", args: [2, 1], dtype: "bool" }, // 5
      { kind: "select", args: [5, 0, 1], dtype: "float32" }, // 6
      { kind: "input", input: 1, dtype: "int32" } // 7
    ]
    assert.deepStrictEqual(liveNodes(nodes, [4]), [true, false, true, true, true, false, false, false])
    assert.deepStrictEqual(liveNodes(nodes, [6]), [true, true, true, false, false, true, true, false])
    assert.deepStrictEqual(liveNodes(nodes, [1, 7]), [false, true, false, false, false, false, false, true])
    assert.deepStrictEqual(
      liveNodes(nodes, []),
      nodes.map(() => false)
    )
    assert.deepStrictEqual(
      nodes.map((n) => argsOf(n)),
      [[], [], [0], [2], [3], [2, 1], [5, 0, 1], []]
    )
    const plan: Plan = {
      shape: [2],
      inputs: [
        { dtype: "float32", strides: [1] },
        { dtype: "uint32", strides: [1] }
      ],
      nodes,
      outputs: { kind: "map", results: [] }
    }
    assert.deepStrictEqual(nodeDtypes(plan), [
      "float32",
      "float32",
      "float32",
      "float32",
      "int32",
      "bool",
      "float32",
      "uint32"
    ])
  })

  it("count bytes, elements and row-major strides, and key plans exactly", () => {
    assert.strictEqual(bytesOf("bool"), 1)
    assert.strictEqual(bytesOf("key<fry>"), 8)
    assert.strictEqual(bytesOf("float32"), 4)
    assert.strictEqual(bytesOf("uint32"), 4)
    assert.deepStrictEqual(rowMajor([2, 3, 4]), [12, 4, 1])
    assert.deepStrictEqual(rowMajor([]), [])
    assert.deepStrictEqual(rowMajor([5, 0, 2]), [0, 2, 1])
    assert.strictEqual(count([2, 3, 4]), 24)
    assert.strictEqual(count([]), 1)
    const lit = (value: number): Plan => ({
      shape: [3],
      inputs: [],
      nodes: [{ kind: "literal", value, dtype: "float32" }],
      outputs: { kind: "map", results: [{ node: 0, strides: [1] }] }
    })
    const key = (value: number) => planKey(simplify(lit(value)), "flat4")
    const keys = [0, -0, Number.NaN, Infinity, -Infinity, 1].map(key)
    assert.strictEqual(new Set(keys).size, keys.length)
    assert.isTrue(key(-0).includes('"#-0"'))
    assert.isTrue(key(Number.NaN).includes('"#NaN"'))
    assert.isTrue(key(-Infinity).includes('"#-Infinity"'))
    assert.isTrue(key(1).includes('"value":1,'))
    assert.isTrue(key(0).includes('"value":0,'))
    assert.isTrue(key(1).startsWith("ew:flat4:{"))
    assert.notStrictEqual(planKey(simplify(lit(1)), "map4"), key(1))
  })
})
