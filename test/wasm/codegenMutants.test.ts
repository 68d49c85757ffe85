/**
 * The elementwise code generator (src/backend/wasm/kernels/codegen.ts) on plans built by hand (issue
 * 16: tests that catch injected bugs): every layout (flat maps, maps over several axes, reductions
 * along and across the lanes), unrolled and costly node code, operands read whole, splatted or
 * gathered, bool operands of one byte, outputs at strides among garbage, lengths around every vector
 * and block size, and several task counts, more tasks than units included. Each plan's module is
 * built afresh and compared with the cpu reference kernels applied node by node (test/wasm/planCheck.ts).
 */
import { assert, describe, it } from "@effect/vitest"
import type { DType } from "../../src/backend/DType.ts"
import type { FusedNode } from "../../src/backend/fusion.ts"
import type { ReducePrimitive } from "../../src/backend/Primitive.ts"
import { foldOf, layoutOf, supported } from "../../src/backend/wasm/kernels/codegen.ts"
import { rowMajor, simplify } from "../../src/backend/wasm/kernels/plan.ts"
import type { Plan } from "../../src/backend/wasm/kernels/plan.ts"
import { checkAtEnd, checkFlatLengths, checkPlan, inputsOf, values } from "./planCheck.ts"

const input = (k: number, dtype: DType): FusedNode => ({ kind: "input", input: k, dtype })

/** A flat program over [n]: float, int and bool operands read whole, splatted and gathered. */
const flatPlan = (n: number, costly: boolean): Plan => ({
  shape: [n],
  inputs: [
    { dtype: "float32", strides: [1] },
    { dtype: "float32", strides: [0] },
    { dtype: "bool", strides: [1] },
    { dtype: "int32", strides: [3] },
    { dtype: "bool", strides: [0] },
    { dtype: "bool", strides: [2] }
  ],
  nodes: [
    input(0, "float32"), // 0
    input(1, "float32"), // 1
    input(2, "bool"), // 2
    input(3, "int32"), // 3
    { kind: "binary", prim: "add", args: [0, 1], dtype: "float32" }, // 4
    { kind: "binary", prim: "mul", args: [4, 0], dtype: "float32" }, // 5
    { kind: "binary", prim: "lt", args: [0, 1], dtype: "bool" }, // 6
    { kind: "select", args: [2, 5, 0], dtype: "float32" }, // 7
    { kind: "convert", arg: 3, dtype: "float32" }, // 8
    { kind: "binary", prim: "add", args: [7, 8], dtype: "float32" }, // 9
    costly
      ? { kind: "binary", prim: "shift_left", args: [3, 3], dtype: "int32" }
      : { kind: "binary", prim: "add", args: [3, 3], dtype: "int32" }, // 10
    input(4, "bool"), // 11
    input(5, "bool"), // 12
    { kind: "binary", prim: "xor", args: [11, 12], dtype: "bool" }, // 13
    { kind: "binary", prim: "or", args: [13, 6], dtype: "bool" }, // 14
    { kind: "unary", prim: "neg", arg: 2, dtype: "bool" }, // 15, dead (no lane code)
    // costly: host imports of one and two arguments, a helper called twice, the f64 math
    { kind: "unary", prim: costly ? "sin" : "abs", arg: 0, dtype: "float32" }, // 16
    { kind: "unary", prim: costly ? "erf" : "neg", arg: 0, dtype: "float32" }, // 17
    { kind: "binary", prim: costly ? "atan2" : "sub", args: [16, 17], dtype: "float32" }, // 18
    { kind: "unary", prim: costly ? "log" : "floor", arg: 18, dtype: "float32" }, // 19
    { kind: "unary", prim: costly ? "erf" : "ceil", arg: 19, dtype: "float32" } // 20
  ],
  outputs: {
    kind: "map",
    results: [
      { node: 9, strides: [1] },
      { node: 14, strides: [1] },
      { node: 10, strides: [2] },
      { node: 6, strides: [3] },
      { node: 20, strides: [1] }
    ]
  }
})

const lengths = [0, 1, 3, 4, 5, 8, 15, 16, 17, 19, 33, 36, 67]

/** A map over [r, c] (or [a, r, c]): transposed, broadcast and padded operands, a transposed output. */
const gridPlan = (shape: ReadonlyArray<number>, costly: boolean): Plan => {
  const rank = shape.length
  const rm = rowMajor(shape)
  const transposed = rm.map((_, a) => rowMajor([...shape].reverse())[rank - 1 - a]!)
  const padded = rm.map((s) => s * 2)
  return {
    shape,
    inputs: [
      { dtype: "float32", strides: transposed },
      { dtype: "float32", strides: shape.map((_, a) => (a === rank - 1 ? 1 : 0)) },
      { dtype: "int32", strides: shape.map((_, a) => (a === rank - 1 ? 0 : rm[a]! / shape[rank - 1]!)) },
      { dtype: "bool", strides: padded },
      { dtype: "uint32", strides: rm }
    ],
    nodes: [
      input(0, "float32"), // 0
      input(1, "float32"), // 1
      input(2, "int32"), // 2
      input(3, "bool"), // 3
      input(4, "uint32"), // 4
      { kind: "binary", prim: "max", args: [0, 1], dtype: "float32" }, // 5
      costly
        ? { kind: "binary", prim: "atan2", args: [0, 1], dtype: "float32" }
        : { kind: "binary", prim: "sub", args: [5, 1], dtype: "float32" }, // 6
      { kind: "convert", arg: 2, dtype: "uint32" }, // 7
      { kind: "binary", prim: "min", args: [7, 4], dtype: "uint32" }, // 8
      { kind: "select", args: [3, 6, 0], dtype: "float32" }, // 9
      { kind: "unary", prim: "not", arg: 3, dtype: "bool" }, // 10
      { kind: "literal", value: -1.5, dtype: "float32" }, // 11
      { kind: "binary", prim: "mul", args: [9, 11], dtype: "float32" } // 12
    ],
    outputs: {
      kind: "map",
      results: [
        { node: 12, strides: rm },
        { node: 8, strides: transposed },
        { node: 10, strides: padded }
      ]
    }
  }
}

const reducePlan = (
  shape: ReadonlyArray<number>,
  axes: ReadonlyArray<number>,
  prim: ReducePrimitive,
  dtype: DType,
  strides: ReadonlyArray<number> = rowMajor(shape),
  computed = false
): Plan => ({
  shape,
  inputs: [{ dtype, strides }],
  nodes: computed
    ? [
        input(0, dtype),
        dtype === "bool"
          ? { kind: "unary", prim: "not", arg: 0, dtype: "bool" }
          : {
              kind: "unary",
              prim: "neg",
              arg: 0,
              dtype: dtype === "float32" ? "float32" : dtype === "int32" ? "int32" : "uint32"
            }
      ]
    : [input(0, dtype)],
  outputs: { kind: "reduce", node: computed ? 1 : 0, prim, axes }
})

const reductions: ReadonlyArray<readonly [ReducePrimitive, ReadonlyArray<DType>]> = [
  ["reduce_sum", ["float32", "int32", "uint32", "bool"]],
  ["reduce_prod", ["float32", "int32", "uint32", "bool"]],
  ["reduce_max", ["float32", "int32", "uint32", "bool"]],
  ["reduce_min", ["float32", "int32", "uint32", "bool"]],
  ["reduce_and", ["bool"]],
  ["reduce_or", ["bool"]]
]

/** float32 values over a wide exponent range, so that a sum's order and precision show. */
const wide = (n: number, seed: number): Float32Array => {
  const f = values("float32", n, seed)
  const e = values("int32", n, seed + 1)
  return Float32Array.from(f, (x, i) => (x + 0.1) * 2 ** ((e[i]! % 40) - 10))
}

describe("the wasm elementwise code generator", () => {
  it("maps over one axis of any length, unrolled and not, among garbage and on any task count", () => {
    for (const costly of [false, true])
      for (const n of costly ? [0, 1, 2, 3, 4, 5, 7, 8, 9, 13] : lengths) {
        const plan = flatPlan(n, costly)
        const layout = checkPlan(plan, inputsOf(plan, n + 1, true), `flat ${costly ? "costly" : "cheap"} ${n}`)
        assert.deepStrictEqual(layout, {
          kind: "flat",
          units: Math.ceil(n / (costly ? 4 : 16)),
          unroll: costly ? 1 : 4
        })
      }
  })

  it("serves every length of a flat map with one module", () => {
    for (const costly of [false, true])
      checkFlatLengths((n) => flatPlan(n, costly), [20, 3, 67, 1, 16, 33], `one module ${costly}`)
  })

  it("maps over several axes with transposed, broadcast and padded operands", () => {
    const shapes = [
      [2, 3],
      [3, 4],
      [2, 5],
      [3, 8],
      [2, 9],
      [2, 13],
      [3, 16],
      [2, 17],
      [2, 20],
      [2, 33],
      [2, 3, 5],
      [3, 2, 4],
      [2, 2, 2, 3]
    ]
    for (const costly of [false, true])
      for (const shape of shapes) {
        const plan = gridPlan(shape, costly)
        checkPlan(
          plan,
          inputsOf(plan, shape.length * 7 + shape[0]!, true),
          `grid ${costly} [${shape}]`,
          [1, 2, 3, 5, 40]
        )
      }
  })

  it("reduces along the lanes: whole arrays, rows, and every other axis with the last", () => {
    const cases: ReadonlyArray<readonly [ReadonlyArray<number>, ReadonlyArray<number>]> = [
      [[1], [0]],
      [[3], [0]],
      [[4], [0]],
      [[7], [0]],
      [[9], [0]],
      [[17], [0]],
      [[37], [0]],
      [[3, 5], [1]],
      [[2, 8], [1]],
      [[3, 12], [1]],
      [[2, 21], [1]],
      [
        [3, 4, 5],
        [0, 2]
      ],
      [
        [2, 3, 2, 6],
        [1, 3]
      ],
      [
        [2, 3, 9],
        [0, 1, 2]
      ]
    ]
    let seed = 1
    for (const [prim, dtypes] of reductions)
      for (const dtype of dtypes)
        for (const [shape, axes] of cases) {
          const plan = reducePlan(shape, axes, prim, dtype, rowMajor(shape), seed % 2 === 0)
          const data = inputsOf(plan, seed++, prim === "reduce_max" || prim === "reduce_min")
          if (dtype === "float32" && (prim === "reduce_sum" || prim === "reduce_prod"))
            data[0] = prim === "reduce_sum" ? wide(data[0]!.length, seed) : data[0]!.map((x) => 1 + x / 16)
          const layout = checkPlan(plan, data, `${prim} ${dtype} [${shape}] over ${axes}`)
          assert.strictEqual(layout.kind, "alongLanes")
        }
  })

  it("reduces across the lanes: each lane its own output, over strided operands", () => {
    const cases: ReadonlyArray<readonly [ReadonlyArray<number>, ReadonlyArray<number>, "rm" | "t"]> = [
      [[3, 2], [0], "rm"],
      [[5, 4], [0], "rm"],
      [[4, 7], [0], "rm"],
      [[3, 16], [0], "rm"],
      [[2, 17], [0], "rm"],
      [[3, 4, 5], [1], "rm"],
      [[3, 4, 5], [0], "t"],
      [[2, 3, 4, 6], [0, 2], "rm"],
      [[3, 2, 9], [0, 1], "t"],
      [[2, 3, 4, 5], [1], "t"]
    ]
    let seed = 100
    for (const [prim, dtypes] of reductions)
      for (const dtype of dtypes)
        for (const [shape, axes, order] of cases) {
          const strides = order === "rm" ? rowMajor(shape) : rowMajor([...shape].reverse()).reverse()
          const plan = reducePlan(shape, axes, prim, dtype, strides, seed % 2 === 1)
          const data = inputsOf(plan, seed++, prim === "reduce_max" || prim === "reduce_min")
          if (dtype === "float32" && prim === "reduce_sum") data[0] = wide(data[0]!.length, seed)
          const layout = checkPlan(plan, data, `${prim} ${dtype} [${shape}] over ${axes} (${order})`)
          assert.strictEqual(layout.kind, "acrossLanes")
        }
  })

  it("reduces gathered lanes along the lanes, two vectors unrolled", () => {
    let seed = 300
    for (const [prim, dtypes] of reductions)
      for (const dtype of dtypes)
        for (const [shape, strides] of [
          [
            [3, 12],
            [1, 3]
          ],
          [
            [2, 9],
            [1, 2]
          ]
        ] as const) {
          const plan = reducePlan(shape, [1], prim, dtype, strides)
          const layout = checkPlan(plan, inputsOf(plan, seed++, true), `${prim} ${dtype} [${shape}] gathered`, [1, 2])
          assert.strictEqual(layout.kind, "alongLanes")
        }
  })

  it("reads no byte past an operand at the very end of memory", () => {
    for (const dtype of ["float32", "int32", "bool"] as const)
      for (const n of [1, 2, 3, 5, 6, 7, 18]) {
        const data = values(dtype, n, n)
        const neg: FusedNode =
          dtype === "bool"
            ? { kind: "unary", prim: "not", arg: 0, dtype }
            : { kind: "unary", prim: "neg", arg: 0, dtype }
        checkAtEnd(
          {
            shape: [n],
            inputs: [{ dtype, strides: [1] }],
            nodes: [input(0, dtype), neg],
            outputs: { kind: "map", results: [{ node: 1, strides: [1] }] }
          },
          data,
          `${dtype} map ${n}`
        )
        const prim = dtype === "bool" ? "reduce_or" : "reduce_max"
        checkAtEnd(reducePlan([n], [0], prim, dtype), data, `${dtype} reduce ${n}`)
        if (n % 2 === 0 && n >= 6) checkAtEnd(reducePlan([2, n / 2], [0], prim, dtype), data, `${dtype} across ${n}`)
      }
  })

  it("reduces costly node code with less unrolling", () => {
    const shape = [3, 21]
    for (const axes of [[1], [0]]) {
      const plan: Plan = {
        shape,
        inputs: [
          { dtype: "int32", strides: rowMajor(shape) },
          { dtype: "int32", strides: [0, 1] }
        ],
        nodes: [
          input(0, "int32"),
          input(1, "int32"),
          { kind: "binary", prim: "shift_right_logical", args: [0, 1], dtype: "int32" }
        ],
        outputs: { kind: "reduce", node: 2, prim: "reduce_sum", axes }
      }
      const layout = checkPlan(plan, inputsOf(plan, 5, true), `costly sum over ${axes}`)
      assert.strictEqual(layout.unroll, 1)
    }
  })

  it("lays plans out as documented", () => {
    const map = (shape: ReadonlyArray<number>, strides: ReadonlyArray<number>, prim: "add" | "div" = "add"): Plan => ({
      shape,
      inputs: [{ dtype: "int32", strides }],
      nodes: [input(0, "int32"), { kind: "binary", prim, args: [0, 0], dtype: "int32" }],
      outputs: { kind: "map", results: [{ node: 1, strides: rowMajor(shape) }] }
    })
    const lay = (p: Plan) => layoutOf(simplify(p))
    assert.deepStrictEqual(lay(map([37], [1])), { kind: "flat", units: 3, unroll: 4 })
    assert.deepStrictEqual(lay(map([37], [1], "div")), { kind: "flat", units: 10, unroll: 1 })
    assert.deepStrictEqual(lay(map([3, 37], [1, 3])), { kind: "map", units: 9, unroll: 4 })
    assert.deepStrictEqual(lay(map([3, 37], [1, 3], "div")), { kind: "map", units: 30, unroll: 1 })
    assert.deepStrictEqual(lay(map([5, 6], [1, 5])), { kind: "map", units: 5, unroll: 2 })
    assert.deepStrictEqual(lay(map([5, 3], [1, 5])), { kind: "map", units: 5, unroll: 1 })
    assert.deepStrictEqual(lay(map([5, 16], [1, 5])), { kind: "map", units: 5, unroll: 4 })
    assert.deepStrictEqual(lay(map([5, 17], [1, 5])), { kind: "map", units: 10, unroll: 4 })
    assert.deepStrictEqual(lay(reducePlan([4, 37], [1], "reduce_sum", "int32")), {
      kind: "alongLanes",
      units: 4,
      unroll: 2
    })
    assert.deepStrictEqual(lay(reducePlan([4, 3], [1], "reduce_sum", "int32")), {
      kind: "alongLanes",
      units: 4,
      unroll: 1
    })
    assert.deepStrictEqual(lay(reducePlan([2, 4, 37], [0, 2], "reduce_sum", "int32")), {
      kind: "alongLanes",
      units: 4,
      unroll: 2
    })
    assert.deepStrictEqual(lay(reducePlan([4, 37], [0], "reduce_sum", "int32")), {
      kind: "acrossLanes",
      units: 3,
      unroll: 4
    })
    assert.deepStrictEqual(lay(reducePlan([2, 4, 37], [0], "reduce_sum", "int32", [1, 2, 8])), {
      kind: "acrossLanes",
      units: 12,
      unroll: 4
    })
    assert.deepStrictEqual(lay(reducePlan([4, 9], [0], "reduce_sum", "int32")), {
      kind: "acrossLanes",
      units: 1,
      unroll: 3
    })
    // literals and inputs are never costly; a float division is one instruction
    const fdiv: Plan = {
      shape: [37],
      inputs: [{ dtype: "float32", strides: [1] }],
      nodes: [
        input(0, "float32"),
        { kind: "literal", value: 2, dtype: "float32" },
        { kind: "binary", prim: "div", args: [0, 1], dtype: "float32" }
      ],
      outputs: { kind: "map", results: [{ node: 2, strides: [1] }] }
    }
    assert.deepStrictEqual(lay(fdiv), { kind: "flat", units: 3, unroll: 4 })
  })

  it("answers the folds of the reference and their identities", () => {
    const id = (p: ReducePrimitive, d: DType) => foldOf(p, d)?.identity
    assert.strictEqual(id("reduce_sum", "float32"), 0)
    assert.strictEqual(id("reduce_prod", "float32"), 1)
    assert.strictEqual(id("reduce_max", "float32"), -Infinity)
    assert.strictEqual(id("reduce_min", "float32"), Infinity)
    assert.strictEqual(id("reduce_max", "int32"), -0x80000000)
    assert.strictEqual(id("reduce_min", "int32"), 0x7fffffff)
    assert.strictEqual(id("reduce_max", "uint32"), 0)
    assert.strictEqual(id("reduce_min", "uint32"), -1)
    assert.strictEqual(id("reduce_min", "bool"), 1)
    assert.strictEqual(id("reduce_max", "bool"), 0)
    assert.strictEqual(id("reduce_and", "bool"), 1)
    assert.strictEqual(id("reduce_or", "bool"), 0)
    assert.strictEqual(id("reduce_prod", "bool"), 1)
    assert.strictEqual(id("reduce_prod", "int32"), 1)
    assert.strictEqual(id("reduce_sum", "uint32"), 0)
    assert.strictEqual(foldOf("reduce_sum", "float32")?.double, true)
    assert.strictEqual(foldOf("reduce_prod", "float32")?.double, true)
    assert.strictEqual(foldOf("reduce_max", "float32")?.double, false)
    assert.strictEqual(foldOf("reduce_sum", "int32")?.double, false)
    assert.isUndefined(foldOf("reduce_sum", "key<fry>"))
    assert.isUndefined(foldOf("reduce_and", "int32"))
    assert.isUndefined(foldOf("reduce_or", "float32"))
  })

  it("supports only plans with exact lane code, integral non-negative strides and no keys", () => {
    const one = (node: FusedNode, dtype: DType, strides: ReadonlyArray<number> = [1]): boolean =>
      supported(
        simplify({
          shape: [6],
          inputs: [{ dtype, strides }],
          nodes: [input(0, dtype), node],
          outputs: { kind: "map", results: [{ node: 1, strides: [1] }] }
        })
      )
    const neg = (dtype: "float32" | "int32" | "bool"): FusedNode => ({ kind: "unary", prim: "neg", arg: 0, dtype })
    assert.isTrue(one(neg("float32"), "float32"))
    assert.isTrue(one(neg("float32"), "float32", [0]))
    assert.isFalse(one(neg("float32"), "float32", [-1]))
    assert.isFalse(one(neg("float32"), "float32", [0.5]))
    assert.isFalse(one(neg("bool"), "bool"))
    assert.isFalse(one({ kind: "binary", prim: "div", args: [0, 0], dtype: "bool" }, "bool"))
    assert.isFalse(one(neg("int32"), "key<fry>"))
    // an unsupported node no output depends on is not compiled
    assert.isTrue(
      supported(
        simplify({
          shape: [6],
          inputs: [{ dtype: "bool", strides: [1] }],
          nodes: [input(0, "bool"), neg("bool"), { kind: "unary", prim: "not", arg: 0, dtype: "bool" }],
          outputs: { kind: "map", results: [{ node: 2, strides: [1] }] }
        })
      )
    )
    // any key input, used or not, and any negative or fractional stride of any input or axis
    const twoInputs = (second: DType, strides: ReadonlyArray<number>, shape: ReadonlyArray<number> = [6]): boolean =>
      supported(
        simplify({
          shape,
          inputs: [
            { dtype: "int32", strides: rowMajor(shape) },
            { dtype: second, strides }
          ],
          nodes: [input(0, "int32"), { kind: "unary", prim: "neg", arg: 0, dtype: "int32" }],
          outputs: { kind: "map", results: [{ node: 1, strides: rowMajor(shape) }] }
        })
      )
    assert.isTrue(twoInputs("int32", [1]))
    assert.isFalse(twoInputs("key<fry>", [1]))
    assert.isFalse(twoInputs("int32", [-1]))
    assert.isFalse(twoInputs("int32", [3, -1], [2, 3]))
    assert.isFalse(twoInputs("int32", [0.5, 1], [2, 3]))
    assert.isTrue(twoInputs("int32", [0, 1], [2, 3]))
    const keyCopy: Plan = {
      shape: [6],
      inputs: [{ dtype: "key<fry>", strides: [1] }],
      nodes: [input(0, "key<fry>")],
      outputs: { kind: "map", results: [{ node: 0, strides: [1] }] }
    }
    assert.isFalse(supported(simplify(keyCopy)))
    // a reduction of a node without lane code
    const reduceNeg: Plan = {
      shape: [6],
      inputs: [{ dtype: "bool", strides: [1] }],
      nodes: [input(0, "bool"), neg("bool")],
      outputs: { kind: "reduce", node: 1, prim: "reduce_or", axes: [0] }
    }
    assert.isFalse(supported(simplify(reduceNeg)))
    assert.isFalse(supported(simplify(reducePlan([4], [0], "reduce_and", "int32"))))
    assert.isFalse(supported(simplify(reducePlan([4], [0], "reduce_sum", "key<fry>"))))
    assert.isTrue(supported(simplify(reducePlan([4], [0], "reduce_or", "bool"))))
  })
})
