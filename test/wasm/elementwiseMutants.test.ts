/**
 * The wasm elementwise and reduction kernels (src/backend/wasm/kernels/elementwise.ts, reduce.ts)
 * called directly on a test runtime that records how many tasks each kernel run asks for and runs
 * them one after another on the calling thread (issue 16: tests that catch injected bugs). Results
 * are compared with the cpu reference kernels; the thread split is checked against the documented
 * policy: one task below 64K elements, then up to one per 32K elements, the runtime's threads and
 * the layout's units.
 */
import { assert, describe, it } from "@effect/vitest"
import type { DType, HostArray } from "../../src/backend/DType.ts"
import { allocHost } from "../../src/backend/DType.ts"
import {
  binaryKernel,
  broadcastStrides,
  cachedPlan,
  compilePlan,
  convertKernel,
  parallelThreshold,
  roundKernel,
  selectKernel,
  signatureOf,
  unaryKernel
} from "../../src/backend/wasm/kernels/elementwise.ts"
import { reduceKernel } from "../../src/backend/wasm/kernels/reduce.ts"
import type { Plan } from "../../src/backend/wasm/kernels/plan.ts"
import { aval, size } from "./support.ts"
import { call, check, testRuntime } from "./kernelRuntime.ts"
import type { TestRuntime } from "./kernelRuntime.ts"

const ramp = (dtype: DType, n: number, f: (i: number) => number): HostArray => {
  const h = allocHost(dtype, n)
  for (let i = 0; i < n; i++) h[i] = f(i)
  return h
}

const tasksOf = (t: TestRuntime): Array<number> => t.runs.map((r) => r.tasks)

describe("elementwise kernels on a recording runtime", () => {
  it("run on one task below 64K elements, then one per 32K up to the threads and the layout's units", () => {
    const t = testRuntime(4)
    const expected: Array<number> = []
    const neg = (n: number, want: number) => {
      check(t, unaryKernel("neg"), "neg", [ramp("float32", n, (i) => i - 7)], [aval([n], "float32")], {}, `neg ${n}`)
      expected.push(want, want)
    }
    neg(7, 1)
    neg(65535, 1)
    neg(65536, 2) // floor(65536 / 32768)
    neg(98303, 2)
    neg(98304, 3)
    neg(4 * 65536 + 3, 4) // the threads
    // a row reduction has one unit per row: two rows give two tasks, however long
    const rows = ramp("int32", 2 * 70000, (i) => (i * 7) % 13)
    check(t, reduceKernel("reduce_sum"), "reduce_sum", [rows], [aval([2, 70000], "int32")], { axes: [1] }, "rows")
    expected.push(2, 2)
    // a column reduction of three columns is one block of lanes: one task
    const cols = ramp("int32", 3 * 70000, (i) => (i * 5) % 11)
    check(t, reduceKernel("reduce_max"), "reduce_max", [cols], [aval([70000, 3], "int32")], { axes: [0] }, "cols")
    expected.push(1, 1)
    assert.deepStrictEqual(tasksOf(t), expected)
    assert.strictEqual(parallelThreshold, 65536)
    // one thread: one task
    const one = testRuntime(1)
    check(one, unaryKernel("neg"), "neg", [ramp("float32", 200000, (i) => i)], [aval([200000], "float32")], {}, "1")
    assert.deepStrictEqual(tasksOf(one), [1, 1])
  })

  it("remember a compiled plan per runtime and signature, undefined included", () => {
    const t = testRuntime(2)
    let built = 0
    const plan = (): Plan => {
      built++
      return {
        shape: [5],
        inputs: [{ dtype: "int32", strides: [1] }],
        nodes: [
          { kind: "input", input: 0, dtype: "int32" },
          { kind: "unary", prim: "neg", arg: 0, dtype: "int32" }
        ],
        outputs: { kind: "map", results: [{ node: 1, strides: [1] }] }
      }
    }
    const a = cachedPlan(t.rt, "neg5", plan)
    const b = cachedPlan(t.rt, "neg5", plan)
    assert.strictEqual(built, 1)
    assert.strictEqual(a, b)
    assert.isFunction(a)
    const other = testRuntime(2)
    cachedPlan(other.rt, "neg5", plan)
    assert.strictEqual(built, 2)
    cachedPlan(t.rt, "neg5", plan)
    cachedPlan(other.rt, "neg5", plan)
    assert.strictEqual(built, 2)
    // a plan without wasm code (key inputs) is undefined, and remembered as such
    let keyBuilt = 0
    const keyPlan = (): Plan => {
      keyBuilt++
      return {
        shape: [3],
        inputs: [{ dtype: "key<fry>", strides: [1] }],
        nodes: [{ kind: "input", input: 0, dtype: "key<fry>" }],
        outputs: { kind: "map", results: [{ node: 0, strides: [1] }] }
      }
    }
    assert.isUndefined(cachedPlan(t.rt, "keys", keyPlan))
    assert.isUndefined(cachedPlan(t.rt, "keys", keyPlan))
    assert.strictEqual(keyBuilt, 1)
    assert.isUndefined(compilePlan(t.rt, keyPlan()))
  })

  it("fall back, writing nothing, on key operands", () => {
    const t = testRuntime(2)
    const keys = Uint32Array.from([1, 2, 3, 4, 5, 6])
    const k = aval([3], "key<fry>")
    assert.strictEqual(call(t, unaryKernel("neg"), "neg", [keys], [k], {}, 0x5a, [k]), "fallback")
    assert.strictEqual(call(t, binaryKernel("add"), "add", [keys, keys], [k, k], {}, 0x5a, [k]), "fallback")
    assert.strictEqual(
      call(t, reduceKernel("reduce_sum"), "reduce_sum", [keys], [k], { axes: [0] }, 0x5a, [aval([], "key<fry>")]),
      "fallback"
    )
    assert.deepStrictEqual(tasksOf(t), [])
  })

  it("key compiled plans by every shape's digits, dtype, primitive and rounding method", () => {
    const t = testRuntime(2)
    const f = (n: number) => ramp("float32", n, (i) => i * 0.75 - 3.1)
    // [1, 23] and [12, 3] print alike without the commas
    check(t, unaryKernel("neg"), "neg", [f(23)], [aval([1, 23], "float32")], {}, "neg [1, 23]")
    check(t, unaryKernel("neg"), "neg", [f(36)], [aval([12, 3], "float32")], {}, "neg [12, 3]")
    check(t, unaryKernel("floor"), "floor", [f(36)], [aval([12, 3], "float32")], {}, "floor [12, 3]")
    const b = [aval([1, 23], "float32"), aval([1, 23], "float32")]
    check(t, binaryKernel("add"), "add", [f(23), f(23)], b, {}, "add [1, 23]")
    check(t, binaryKernel("sub"), "sub", [f(23), f(23).reverse()], b, {}, "sub [1, 23]")
    const c = [aval([12, 3], "float32"), aval([12, 3], "float32")]
    check(t, binaryKernel("add"), "add", [f(36), f(36)], c, {}, "add [12, 3]")
    for (const method of ["awayFromZero", "toNearestEven"] as const)
      check(t, roundKernel, "round", [f(23)], [aval([23], "float32")], { method }, `round ${method}`)
    for (const newDtype of ["int32", "uint32", "bool", "float32"] as const)
      check(
        t,
        convertKernel,
        "convert_element_type",
        [f(23)],
        [aval([23], "float32")],
        { newDtype, weakType: false },
        `convert to ${newDtype}`
      )
    const sel = [aval([23], "bool"), aval([23], "float32"), aval([23], "float32")]
    const p = ramp("bool", 23, (i) => (i % 3) & 1)
    check(t, selectKernel, "select", [p, f(23), f(23).reverse()], sel, {}, "select")
    // reductions over [1, 2] and over [12] of a rank-13 array print alike without the commas
    const shape = [2, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]
    const x = ramp("int32", size(shape), (i) => (i * 37) % 19)
    for (const axes of [[1, 2], [12], [0, 1]])
      check(t, reduceKernel("reduce_sum"), "reduce_sum", [x], [aval(shape, "int32")], { axes }, `sum over ${axes}`)
    check(t, reduceKernel("reduce_max"), "reduce_max", [x], [aval(shape, "int32")], { axes: [0, 1] }, "max")
  })

  it("write identities for reductions over empty axes, and nothing for empty outputs", () => {
    const t = testRuntime(2)
    const prims = ["reduce_sum", "reduce_prod", "reduce_max", "reduce_min", "reduce_and", "reduce_or"] as const
    for (const prim of prims)
      for (const dtype of ["float32", "int32", "uint32", "bool"] as const) {
        if ((prim === "reduce_and" || prim === "reduce_or") && dtype !== "bool") continue
        for (const [shape, axes] of [
          [[0, 5], [0]],
          [[5, 0], [1]],
          [[3, 0, 6], [1]],
          [
            [3, 0, 6],
            [0, 1]
          ],
          [[0, 6], [1]],
          [[0], [0]]
        ] as const) {
          if ((prim === "reduce_max" || prim === "reduce_min") && axes.some((d) => shape[d] === 0)) continue
          const a = aval(shape, dtype)
          check(
            t,
            reduceKernel(prim),
            prim,
            [allocHost(dtype, 0)],
            [a],
            { axes },
            `${prim} ${dtype} [${shape}] ${axes}`
          )
        }
      }
    for (const shape of [[0], [3, 0], [0, 4], [2, 0, 5]]) {
      const a = aval(shape, "float32")
      check(t, unaryKernel("exp"), "exp", [new Float32Array(0)], [a], {}, `exp [${shape}]`)
      check(t, binaryKernel("mul"), "mul", [new Float32Array(0), new Float32Array(0)], [a, a], {}, `mul [${shape}]`)
    }
    // all answered without compiling or running a kernel
    assert.deepStrictEqual(t.runs, [])
  })

  it("read broadcast operands with zero strides", () => {
    assert.deepStrictEqual(broadcastStrides([3, 1, 5], [3, 4, 5]), [5, 0, 1])
    assert.deepStrictEqual(broadcastStrides([1, 1], [1, 1]), [1, 1])
    assert.deepStrictEqual(broadcastStrides([1, 2], [1, 2]), [2, 1])
    assert.strictEqual(signatureOf([aval([2, 3], "int32"), aval([], "bool")]), "int32[2,3];bool[]")
  })
})
