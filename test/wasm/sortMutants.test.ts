/**
 * The wasm sort kernel (src/backend/wasm/kernels/sort.ts) called directly on a test runtime that
 * records the tasks each run asks for and runs them one after another (issue 16: tests that catch
 * injected bugs), against the cpu reference kernel: every dtype as key and as payload, one to three
 * keys, lane lengths around the insertion runs (16), the merge widths and the radix threshold (48),
 * lanes along every axis, with many ties (stability), NaNs, infinities and signed zeros, and
 * integers whose signed and unsigned orders differ.
 */
import { assert, describe, it } from "@effect/vitest"
import type { DType, HostArray } from "../../src/backend/DType.ts"
import { allocHost } from "../../src/backend/DType.ts"
import { sortKernel } from "../../src/backend/wasm/kernels/sort.ts"
import { aval, mulberry32, size } from "./support.ts"
import { call, check, testRuntime as recordingRuntime } from "./kernelRuntime.ts"
import type { TestRuntime } from "./kernelRuntime.ts"

/** The recording runtime, its scratch regions followed by guard bytes that every call checks. */
const testRuntime = (threads: number) => recordingRuntime(threads, { guardScratch: true })

const rnd = mulberry32(20261206)
const pick = <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(rnd() * xs.length)]!

/** Values with ties (few distinct ones when `ties`), and each dtype's hard cases. */
const data = (dtype: DType, n: number, ties: boolean): HostArray => {
  const h = allocHost(dtype, n)
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case "float32":
        h[i] = ties
          ? pick([0, -0, 1, -1, NaN, Infinity, -Infinity])
          : rnd() < 0.1
            ? pick([0, -0, NaN, Infinity, -Infinity, 1.401298464324817e-45, -3.4028234663852886e38])
            : (rnd() - 0.5) * 2 ** Math.floor(rnd() * 40 - 20)
        break
      case "int32":
        h[i] = ties ? pick([0, 1, -1, 0x7fffffff, -0x80000000]) : Math.floor((rnd() - 0.5) * 2 ** 32)
        break
      case "uint32":
        h[i] = ties ? pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff]) : Math.floor(rnd() * 2 ** 32)
        break
      default:
        h[i] = rnd() < 0.5 ? 1 : 0
    }
  }
  return h
}

const dtypes = ["float32", "int32", "uint32", "bool"] as const

const sortCase = (
  t: TestRuntime,
  shape: ReadonlyArray<number>,
  operands: ReadonlyArray<DType>,
  numKeys: number,
  dimension: number,
  ties: boolean
): void =>
  check(
    t,
    sortKernel,
    "sort",
    operands.map((d, j) =>
      j === operands.length - 1 && j >= numKeys ? data(d, size(shape), false) : data(d, size(shape), ties)
    ),
    operands.map((d) => aval(shape, d)),
    { dimension, numKeys },
    `sort [${shape}] ${operands} keys ${numKeys} along ${dimension}${ties ? " with ties" : ""}`
  )

describe("wasm sort on a recording runtime", () => {
  it("sorts one operand of every dtype, every lane length around the runs, merges and radix passes", () => {
    const t = testRuntime(2)
    for (const dtype of dtypes)
      for (const n of [1, 2, 3, 15, 16, 17, 31, 32, 33, 47, 48, 49, 64, 65, 100, 257, 600])
        for (const ties of [false, true]) sortCase(t, [n], [dtype], 1, 0, ties)
  })

  it("sorts payloads by keys stably, with one to three keys, along every axis", () => {
    const t = testRuntime(2)
    for (const key of dtypes)
      for (const payload of dtypes)
        for (const n of [5, 16, 40, 49, 130]) {
          sortCase(t, [n], [key, payload], 1, 0, true)
          sortCase(t, [n], [key, payload, "int32"], 2, 0, true)
          sortCase(t, [n], [payload, key, "float32"], 3, -1, true)
        }
    for (const dtype of dtypes)
      for (const [shape, dimension] of [
        [[3, 20], 0],
        [[3, 20], 1],
        [[20, 3], 0],
        [[4, 50, 3], 1],
        [[2, 3, 60], -1],
        [[60, 2, 3], -3]
      ] as const) {
        sortCase(t, shape, [dtype], 1, dimension, true)
        sortCase(t, shape, [dtype, "float32", "int32"], 2, dimension, true)
      }
  })

  it("orders byte patterns the radix passes see: keys sharing high bytes, low bytes, or all bytes", () => {
    const t = testRuntime(1)
    const n = 200
    const patterns: ReadonlyArray<(i: number) => number> = [
      (i) => 0x12345600 + ((i * 37) % 256),
      (i) => (((i * 37) % 256) << 24) | 0x00abcdef,
      (i) => 0x00010000 * ((i * 7) % 5) + ((i * 13) % 3),
      () => 0x7f7f7f7f,
      (i) => (i * 2654435761) >>> 0,
      (i) => n - i,
      (i) => i
    ]
    for (const dtype of ["uint32", "int32", "float32"] as const)
      for (const p of patterns) {
        const x = allocHost(dtype, n)
        const bits = new Uint32Array(x.buffer)
        for (let i = 0; i < n; i++) bits[i] = p(i) >>> 0
        if (dtype === "float32") for (let i = 0; i < n; i++) if (Number.isNaN(x[i])) bits[i] = 0x3f800000
        const payload = Int32Array.from({ length: n }, (_, i) => i)
        check(t, sortKernel, "sort", [x], [aval([n], dtype)], { dimension: 0, numKeys: 1 }, `sort ${dtype} ${p}`)
        check(
          t,
          sortKernel,
          "sort",
          [x, payload],
          [aval([n], dtype), aval([n], "int32")],
          { dimension: 0, numKeys: 1 },
          `argsort ${dtype} ${p}`
        )
      }
  })

  it("splits lanes across tasks from 16K elements, and falls back on keys and many operands", () => {
    const t = testRuntime(4)
    const go = (shape: ReadonlyArray<number>, dimension: number, want: number) => {
      const before = t.runs.length
      sortCase(t, shape, ["int32"], 1, dimension, false)
      assert.deepStrictEqual(
        t.runs.slice(before).map((r) => r.tasks),
        [want, want],
        `tasks of [${shape}] along ${dimension}`
      )
    }
    go([16383], 0, 1)
    go([16384], 0, 1) // one lane
    go([2, 8192], 1, 2)
    go([3, 5461], 1, 1)
    go([8, 2048], 1, 4)
    go([2048, 8], 0, 4)
    go([8192, 3], 0, 3)
    go([4, 4], 1, 1)
    go([4, 4], 0, 1)
    go([2, 8], 1, 1)
    go([8, 2], 1, 1)
    const empty = testRuntime(2)
    sortCase(empty, [0, 5], ["float32"], 1, 1, false)
    sortCase(empty, [5, 0], ["float32"], 1, 1, false)
    sortCase(empty, [5, 0, 2], ["float32", "int32"], 1, 0, false)
    assert.deepStrictEqual(empty.runs, [])
    const k = aval([3], "key<fry>")
    assert.strictEqual(
      call(t, sortKernel, "sort", [new Uint32Array(6)], [k], { dimension: 0, numKeys: 1 }, 0x5a, [k]),
      "fallback"
    )
    // a key payload among other operands falls back too
    const mixed = [aval([3], "int32"), k]
    assert.strictEqual(
      call(
        t,
        sortKernel,
        "sort",
        [Int32Array.of(3, 1, 2), new Uint32Array(6)],
        mixed,
        { dimension: 0, numKeys: 1 },
        0x5a,
        mixed
      ),
      "fallback"
    )
    const ops = Array.from({ length: 41 }, (_, i) => Int32Array.from([3, 1, 2].map((v) => v + i)))
    const avals = ops.map(() => aval([3], "int32"))
    assert.strictEqual(call(t, sortKernel, "sort", ops, avals, { dimension: 0, numKeys: 1 }, 0x5a, avals), "fallback")
    const forty = ops.slice(0, 40)
    check(t, sortKernel, "sort", forty, avals.slice(0, 40), { dimension: 0, numKeys: 2 }, "forty operands")
  })
})
