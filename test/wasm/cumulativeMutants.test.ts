/**
 * The wasm cumulative scans (src/backend/wasm/kernels/cumulative.ts) called directly on a test
 * runtime that records the tasks each run asks for and runs them one after another (issue 16: tests
 * that catch injected bugs), against the cpu reference kernel: every scan on every dtype, both ways,
 * along the last axis with row counts around the four-row group (a partial last group included) and
 * along other axes with column counts around the sixteen-column group, with NaNs, signed zeros,
 * overflowing integers and values whose signed and unsigned orders differ.
 */
import { assert, describe, it } from "@effect/vitest"
import type { DType, HostArray } from "../../src/backend/DType.ts"
import { allocHost } from "../../src/backend/DType.ts"
import { cumulativeKernel } from "../../src/backend/wasm/kernels/cumulative.ts"
import { aval, mulberry32, size } from "./support.ts"
import { call, check, testRuntime } from "./kernelRuntime.ts"
import type { TestRuntime } from "./kernelRuntime.ts"

const rnd = mulberry32(20261204)
const pick = <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(rnd() * xs.length)]!

const data = (dtype: DType, n: number): HostArray => {
  const h = allocHost(dtype, n)
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case "float32":
        h[i] =
          rnd() < 0.3
            ? pick([0, -0, NaN, Infinity, -Infinity, 1e30, -1e30, 1e-8, 16777217, 3.4e38])
            : (rnd() - 0.5) * pick([1, 10, 1000])
        break
      case "int32":
        h[i] = rnd() < 0.3 ? pick([0, 1, -1, 0x7fffffff, -0x80000000, 65537]) : Math.floor((rnd() - 0.5) * 2 ** 32)
        break
      case "uint32":
        h[i] = rnd() < 0.3 ? pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff]) : Math.floor(rnd() * 2 ** 32)
        break
      default:
        h[i] = rnd() < 0.7 ? 1 : 0
    }
  }
  return h
}

const dtypes = ["float32", "int32", "uint32", "bool"] as const
const prims = ["cumsum", "cumprod", "cummax", "cummin"] as const

const scan = (
  t: TestRuntime,
  prim: (typeof prims)[number],
  dtype: DType,
  shape: ReadonlyArray<number>,
  axis: number
) => {
  const x = data(dtype, size(shape))
  for (const reverse of [false, true])
    check(
      t,
      cumulativeKernel(prim),
      prim,
      [x],
      [aval(shape, dtype)],
      { axis, reverse },
      `${prim} ${dtype} [${shape}] along ${axis}${reverse ? " reversed" : ""}`
    )
}

describe("wasm cumulative scans on a recording runtime", () => {
  it("scan rows along the last axis, in groups of four rows and a partial last group", () => {
    const t = testRuntime(2)
    for (const prim of prims)
      for (const dtype of dtypes)
        for (const [outer, n] of [
          [1, 1],
          [1, 5],
          [2, 3],
          [3, 4],
          [4, 2],
          [5, 3],
          [7, 2],
          [8, 3],
          [9, 1]
        ] as const) {
          scan(t, prim, dtype, outer === 1 ? [n] : [outer, n], -1)
          scan(t, prim, dtype, [outer, n, 1], 1)
        }
  })

  it("scan columns along other axes, in groups of up to sixteen and a partial last group", () => {
    const t = testRuntime(2)
    for (const prim of prims)
      for (const dtype of dtypes)
        for (const inner of [2, 3, 4, 5, 8, 13, 16, 17, 20, 33])
          for (const [outer, n] of [
            [1, 1],
            [1, 4],
            [2, 3]
          ] as const)
            scan(t, prim, dtype, outer === 1 ? [n, inner] : [outer, n, inner], outer === 1 ? 0 : 1)
  })

  it("split groups of lanes across tasks above 64K elements", () => {
    const t = testRuntime(4)
    const go = (shape: ReadonlyArray<number>, axis: number, want: number) => {
      const before = t.runs.length
      scan(t, "cumsum", "int32", shape, axis)
      assert.deepStrictEqual(
        t.runs.slice(before).map((r) => r.tasks),
        [want, want, want, want],
        `tasks of [${shape}] along ${axis}`
      )
    }
    go([65535], 0, 1)
    go([65536], 0, 1) // one row: one group
    go([4, 16384], 1, 1) // four rows: one group
    go([5, 16384], 1, 2)
    go([8, 8192], 1, 2) // exactly 64K elements split
    go([12, 8192], 1, 3)
    go([40, 2048], 1, 4)
    go([4096, 16], 0, 1) // sixteen columns: one group
    go([4096, 17], 0, 2)
    go([2, 4096, 16], 1, 2)
    go([3, 2048, 40], 1, 4)
    go([3, 21845], 1, 1)
    // the same element count in other shapes
    go([4, 4], 1, 1)
    go([4, 4], 0, 1)
    go([2, 8], 1, 1)
    go([8, 2], 1, 1)
    go([2, 2, 4], 1, 1)
    go([2, 4, 2], 1, 1)
  })

  it("answer nothing for empty arrays and fall back on keys", () => {
    const t = testRuntime(2)
    for (const shape of [[0], [3, 0], [0, 3], [2, 0, 3]])
      for (const axis of shape.map((_, i) => i)) scan(t, "cumsum", "float32", shape, axis)
    assert.deepStrictEqual(t.runs, [])
    const k = aval([3], "key<fry>")
    assert.strictEqual(
      call(t, cumulativeKernel("cummax"), "cummax", [new Uint32Array(6)], [k], { axis: 0, reverse: false }, 0x5a, [k]),
      "fallback"
    )
  })
})
