/**
 * The wasm argmax and argmin kernel (src/backend/wasm/kernels/argReduce.ts) called directly on a
 * test runtime that records the tasks each run asks for and runs them one after another (issue 16:
 * tests that catch injected bugs), against the cpu reference kernel: every dtype, lanes along the
 * last axis of every length around the vector width (whole vectors, a tail, fewer than four), columns
 * of every width around it (a last partial block), with many ties, NaNs, signed zeros and integers
 * whose signed and unsigned orders differ.
 */
import { assert, describe, it } from "@effect/vitest"
import type { DType, HostArray } from "../../src/backend/DType.ts"
import { allocHost } from "../../src/backend/DType.ts"
import { argKernel } from "../../src/backend/wasm/kernels/argReduce.ts"
import { aval, mulberry32, size } from "./support.ts"
import { call, check, testRuntime } from "./kernelRuntime.ts"

const rnd = mulberry32(20261203)
const pick = <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(rnd() * xs.length)]!

/** Values with many ties: a few small values, plus the dtype's hard cases. */
const tieData = (dtype: DType, n: number, nan: number): HostArray => {
  const h = allocHost(dtype, n)
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case "float32":
        h[i] = rnd() < nan ? NaN : pick([0, -0, 1, -1, 2, -2, Infinity, -Infinity, 0.5])
        break
      case "int32":
        h[i] = pick([0, 1, -1, 2, -2, 0x7fffffff, -0x80000000])
        break
      case "uint32":
        h[i] = pick([0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff])
        break
      default:
        h[i] = rnd() < 0.5 ? 1 : 0
    }
  }
  return h
}

const dtypes = ["float32", "int32", "uint32", "bool"] as const
const prims = ["argmax", "argmin"] as const

describe("wasm argmax and argmin on a recording runtime", () => {
  it("scan lanes along the last axis of every length around the vector width", () => {
    const t = testRuntime(2)
    for (const prim of prims)
      for (const dtype of dtypes)
        for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 16, 17, 19])
          for (const outer of [1, 3])
            for (const nan of [0, 0.1, 0.4])
              for (let rep = 0; rep < (dtype === "float32" ? 2 : 4); rep++) {
                if (dtype !== "float32" && nan > 0) continue
                const shape = outer === 1 ? [n] : [outer, n]
                check(
                  t,
                  argKernel(prim),
                  prim,
                  [tieData(dtype, outer * n, nan)],
                  [aval(shape, dtype)],
                  { axis: shape.length - 1, indexDtype: "int32" },
                  `${prim} ${dtype} [${shape}] nan ${nan}`
                )
              }
  })

  it("break ties between lanes by the smaller index, and NaNs by the first", () => {
    const t = testRuntime(1)
    const cases: ReadonlyArray<ReadonlyArray<number>> = [
      [1, 5, 5, 1, 1, 5, 5, 1],
      [5, 1, 1, 5, 5, 1, 1, 5],
      [1, 1, 5, 1, 5, 1, 5, 1, 5],
      [0, 0, 0, 5, 0, 0, 0, 5],
      [0, 0, 5, 0, 0, 0, 5, 0],
      [0, 5, 0, 0, 0, 5, 0, 0],
      [2, 0, 0, 0, 2, 0, 0, 0, 2],
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      [NaN, 0, 0, 0, NaN],
      [0, NaN, 0, 0, 0, NaN],
      [0, 0, NaN, NaN, 0],
      [0, 0, 0, NaN, 0, 0, NaN],
      [0, 0, 0, 0, 0, 0, NaN, NaN],
      [0, 0, 0, 0, 0, 0, 0, NaN, NaN],
      [-0, 0, -0, 0, 0, -0],
      [0, -0, 0],
      [7, 7, 7],
      [3, 9],
      [9, 3],
      [NaN, NaN],
      [1, NaN, 2],
      [Infinity, -Infinity, Infinity, -Infinity, Infinity]
    ]
    for (const prim of prims)
      for (const values of cases)
        for (const dtype of dtypes) {
          if (dtype !== "float32" && values.some((v) => !Number.isFinite(v))) continue
          const data = allocHost(dtype, values.length)
          values.forEach((v, i) => (data[i] = dtype === "bool" ? (v > 1 ? 1 : 0) : v))
          const neg = allocHost(dtype, values.length)
          values.forEach(
            (v, i) =>
              (neg[i] =
                dtype === "bool" ? (v > 1 ? 0 : 1) : dtype === "float32" ? -v : v === 0 ? 0 : 0xfffffff0 + (v & 15))
          )
          for (const x of [data, neg])
            check(
              t,
              argKernel(prim),
              prim,
              [x],
              [aval([values.length], dtype)],
              { axis: 0, indexDtype: "int32" },
              `${prim} ${dtype} [${Array.from(x)}]`
            )
        }
  })

  it("scan columns of every width around the vector width, a last partial block included", () => {
    const t = testRuntime(2)
    for (const prim of prims)
      for (const dtype of dtypes)
        for (const inner of [2, 3, 4, 5, 6, 7, 8, 9, 12, 13])
          for (const [outer, n] of [
            [1, 1],
            [1, 2],
            [2, 5],
            [3, 4]
          ] as const)
            for (const nan of dtype === "float32" ? [0, 0.3] : [0]) {
              const shape = [outer, n, inner]
              check(
                t,
                argKernel(prim),
                prim,
                [tieData(dtype, outer * n * inner, nan)],
                [aval(shape, dtype)],
                { axis: 1, indexDtype: "int32" },
                `${prim} ${dtype} [${shape}] nan ${nan}`
              )
              check(
                t,
                argKernel(prim),
                prim,
                [tieData(dtype, outer * n * inner, nan)],
                [aval(shape, dtype)],
                { axis: -2, indexDtype: "int32" },
                `${prim} ${dtype} [${shape}] axis -2`
              )
            }
  })

  it("split work by units above 64K elements, and keep each shape's kernel apart", () => {
    const t = testRuntime(4)
    const go = (shape: ReadonlyArray<number>, axis: number, want: number) => {
      const before = t.runs.length
      check(
        t,
        argKernel("argmax"),
        "argmax",
        [tieData("int32", size(shape), 0)],
        [aval(shape, "int32")],
        { axis, indexDtype: "int32" },
        `[${shape}] along ${axis}`
      )
      assert.deepStrictEqual(
        t.runs.slice(before).map((r) => r.tasks),
        [want, want],
        `tasks of [${shape}] along ${axis}`
      )
    }
    go([65535], 0, 1)
    go([65536], 0, 1) // one lane: one unit
    go([2, 32768], 1, 2)
    go([3, 21845], 1, 1)
    go([3, 21846], 1, 3)
    go([8, 8192], 1, 4)
    go([8192, 8], 0, 2) // columns: two blocks of four
    go([16384, 5], 0, 2)
    go([4, 16384, 4], 1, 4)
    go([16384, 4], 0, 1)
    // the same element count in other shapes
    go([4, 4], 1, 1)
    go([4, 4], 0, 1)
    go([2, 8], 1, 1)
    go([8, 2], 1, 1)
    go([16], 0, 1)
    go([2, 4, 2], 1, 1)
    go([2, 2, 4], 1, 1)
  })

  it("answer nothing for empty outputs and fall back on keys", () => {
    const t = testRuntime(2)
    check(
      t,
      argKernel("argmin"),
      "argmin",
      [new Float32Array(0)],
      [aval([0, 3], "float32")],
      { axis: 1, indexDtype: "int32" },
      "empty"
    )
    check(
      t,
      argKernel("argmin"),
      "argmin",
      [new Float32Array(0)],
      [aval([3, 2, 0], "float32")],
      { axis: 1, indexDtype: "int32" },
      "empty"
    )
    assert.deepStrictEqual(t.runs, [])
    const k = aval([3], "key<fry>")
    assert.strictEqual(
      call(t, argKernel("argmax"), "argmax", [new Uint32Array(6)], [k], { axis: 0, indexDtype: "int32" }, 0x5a, [
        aval([], "int32")
      ]),
      "fallback"
    )
  })
})
