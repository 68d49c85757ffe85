/**
 * The wasm gather and scatter kernels (src/backend/wasm/kernels/indexing.ts) called directly on a
 * test runtime that records the tasks each run asks for and runs them one after another (issue 16:
 * tests that catch injected bugs), against the cpu reference kernels: every dtype they handle (bool
 * one byte, PRNG keys as word pairs), the three index modes with int32 and uint32 indices,
 * runs short and long (unrolled vectors, vector loops, memory.copy, scalar tails) and strided, batch
 * dimensions, several indexed axes, empty indexed axes, and the thread split at the threshold.
 */
import { assert, describe, it } from "@effect/vitest"
import type { DType, HostArray } from "../../src/backend/DType.ts"
import { allocHost } from "../../src/backend/DType.ts"
import { abstractEval } from "../../src/backend/Primitive.ts"
import type { GatherParams, IndexMode } from "../../src/backend/Primitive.ts"
import { gatherKernel, scatterAddKernel, scatterOverwriteKernel } from "../../src/backend/wasm/kernels/indexing.ts"
import type { TestRuntime } from "./kernelRuntime.ts"
import { call, check, testRuntime } from "./kernelRuntime.ts"
import { aval, mulberry32, size } from "./support.ts"

/** Every call also checks that the kernel left its inputs, and the guard bytes around them, alone. */
const checked = { checkInputs: true }

const rnd = mulberry32(20261203)

/** complex64 never reaches these kernels: the backend runs the cpu kernel on complex operands. */
const dtypes: ReadonlyArray<DType> = ["float32", "int32", "uint32", "bool", "key<fry>"]

/** Distinct values of each dtype (no NaN payloads). */
const data = (dtype: DType, shape: ReadonlyArray<number>): HostArray => {
  const h = allocHost(dtype, size(shape))
  for (let i = 0; i < h.length; i++)
    h[i] =
      dtype === "bool"
        ? rnd() < 0.5
          ? 1
          : 0
        : dtype === "float32" || dtype === "complex64"
          ? (i + 1) * (rnd() < 0.5 ? -1.25 : 0.75) + 0.1
          : dtype === "int32"
            ? (i + 1) * -7919
            : (i + 1) * 2654435761
  return h
}

/** Index rows for axes of sizes `dims`: in range mostly, and out of range either way unless `inRange`. */
const indexData = (
  index: "int32" | "uint32",
  shape: ReadonlyArray<number>,
  dims: ReadonlyArray<number>,
  inRange = false
): HostArray => {
  const h = index === "int32" ? new Int32Array(size(shape)) : new Uint32Array(size(shape))
  const K = dims.length
  for (let i = 0; i < h.length; i++) {
    const d = dims[i % K]!
    const r = rnd()
    h[i] =
      inRange || d === 0 || r < 0.6
        ? Math.floor(rnd() * Math.max(d, 1))
        : r < 0.7
          ? d
          : r < 0.8
            ? -1
            : r < 0.9
              ? d + 3
              : index === "int32"
                ? -0x80000000
                : 0x80000001
  }
  return h
}

const modes: ReadonlyArray<IndexMode> = ["clip", "fill", "promise_in_bounds"]

/** Gathers, scatters and scatter-adds on `operand` with index rows of `idxShape`, every mode and index dtype. */
const all = (
  t: TestRuntime,
  dtype: DType,
  operand: ReadonlyArray<number>,
  idxShape: ReadonlyArray<number>,
  indexedAxes: ReadonlyArray<number>,
  batchDims: number,
  ops: ReadonlyArray<"gather" | "scatter" | "scatter_add"> = ["gather", "scatter", "scatter_add"]
): void => {
  const rank = operand.length
  const dims = indexedAxes.map((a) => operand[a < 0 ? a + rank : a]!)
  for (const mode of modes)
    for (const index of ["int32", "uint32"] as const) {
      const params: GatherParams = { indexedAxes, batchDims, mode }
      const idx = indexData(index, idxShape, dims, mode === "promise_in_bounds" && rnd() < 0.5)
      const x = data(dtype, operand)
      const avals = [aval(operand, dtype), aval(idxShape, index)]
      const label = `${dtype} [${operand}] at ${index} [${idxShape}] axes [${indexedAxes}] batch ${batchDims} ${mode}`
      if (ops.includes("gather")) check(t, gatherKernel, "gather", [x, idx], avals, params, `gather ${label}`)
      const outShape = abstractEval.gather(avals, params)[0]!.shape
      const upd = aval(outShape, dtype)
      if (ops.includes("scatter"))
        check(
          t,
          scatterOverwriteKernel,
          "scatter",
          [x, idx, data(dtype, outShape)],
          [...avals, upd],
          params,
          `scatter ${label}`
        )
      if (ops.includes("scatter_add") && dtype !== "key<fry>")
        check(
          t,
          scatterAddKernel,
          "scatter_add",
          [x, idx, data(dtype, outShape)],
          [...avals, upd],
          params,
          `scatter_add ${label}`
        )
    }
}

describe("wasm gather and scatter kernels on a recording runtime", () => {
  it("short contiguous runs: unrolled vectors and scalar tails, every dtype", () => {
    const t = testRuntime(2, checked)
    for (const dtype of dtypes)
      for (const cols of [1, 3, 4, 7, 9, 21, 33]) {
        all(t, dtype, [5, cols], [6, 1], [0], 0)
        all(t, dtype, [5, cols], [6, 1], [-2], 0)
      }
  })

  it("long contiguous runs: vector loops and memory.copy, every dtype", () => {
    const t = testRuntime(2, checked)
    for (const dtype of dtypes)
      for (const cols of [36, 37, 63, 64, 65, 67, 129, 300, 301]) all(t, dtype, [3, cols], [5, 1], [0], 0)
  })

  it("strided runs along the operand, short and long, and rest axes that merge", () => {
    const t = testRuntime(2, checked)
    for (const dtype of dtypes)
      for (const [operand, axes] of [
        [[4, 3, 5], [2]],
        [[4, 6, 5], [2]],
        [[3, 4, 5], [-1]],
        [[2, 4, 3], [1]],
        [[7, 2], [1]],
        [[3, 2, 5, 2], [1]],
        [[2, 3, 1, 4], [1]],
        [[2, 1, 3, 4], [1]],
        [
          [5, 6, 7],
          [0, 2]
        ],
        [
          [5, 6, 7],
          [2, 0]
        ],
        [[5, 6, 7], [1]],
        [
          [5, 6, 7],
          [0, 1, 2]
        ],
        [[9], [0]]
      ] as const)
        all(t, dtype, operand, [3, 2, axes.length], axes, 0)
  })

  it("batch dimensions pair the operand's leading axes with the index rows'", () => {
    const t = testRuntime(2, checked)
    for (const dtype of dtypes) {
      all(t, dtype, [2, 5, 4], [2, 3, 1], [1], 1)
      all(t, dtype, [3, 5, 6], [3, 4, 1], [2], 1)
      all(t, dtype, [2, 3, 5, 4], [2, 3, 2, 2], [2, 3], 2)
      all(t, dtype, [2, 3, 7], [2, 3, 5, 1], [-1], 2)
      all(t, dtype, [2, 5], [2, 1], [1], 1)
    }
  })

  it("indexed axes of size 0 fill or drop every row; empty outputs and updates", () => {
    const t = testRuntime(2, checked)
    for (const dtype of dtypes) {
      all(t, dtype, [0, 3], [4, 1], [0], 0)
      all(t, dtype, [2, 0, 5], [2, 3, 1], [1], 1)
      all(t, dtype, [4, 3], [0, 1], [0], 0)
      all(t, dtype, [4, 0], [3, 1], [0], 0)
    }
  })

  it("fill rows of every length, vector body and word tails", () => {
    const t = testRuntime(2, checked)
    for (const dtype of dtypes)
      for (const cols of [1, 2, 3, 4, 5, 8, 11, 12, 17]) {
        const operand = [3, cols]
        const idx = Int32Array.of(7, 1, -1, 3, 2)
        const params: GatherParams = { indexedAxes: [0], batchDims: 0, mode: "fill" }
        check(
          t,
          gatherKernel,
          "gather",
          [data(dtype, operand), idx],
          [aval(operand, dtype), aval([5, 1], "int32")],
          params,
          `fill ${dtype} [${operand}]`
        )
      }
  })

  it("scatters apply rows in order: the last duplicate wins, sums accumulate", () => {
    const t = testRuntime(2, checked)
    for (const dtype of dtypes)
      for (const cols of [1, 3, 5, 40, 70]) {
        const operand = [3, cols]
        const idx = Int32Array.of(1, 1, 2, 1, 0, 2, 1)
        const avals = [aval(operand, dtype), aval([7, 1], "int32"), aval([7, cols], dtype)]
        for (const mode of modes) {
          const params: GatherParams = { indexedAxes: [0], batchDims: 0, mode }
          const x = data(dtype, operand),
            u = data(dtype, [7, cols])
          check(t, scatterOverwriteKernel, "scatter", [x, idx, u], avals, params, `scatter dup ${dtype} ${cols}`)
          if (dtype !== "key<fry>")
            check(t, scatterAddKernel, "scatter_add", [x, idx, u], avals, params, `scatter_add dup ${dtype} ${cols}`)
        }
      }
  })

  it("scatter_add of keys falls back", () => {
    const t = testRuntime(2, checked)
    const avals = [aval([3, 2], "key<fry>"), aval([1, 1], "int32"), aval([1, 2], "key<fry>")]
    const got = call(
      t,
      scatterAddKernel,
      "scatter_add",
      [data("key<fry>", [3, 2]), Int32Array.of(0), data("key<fry>", [1, 2])],
      avals,
      { indexedAxes: [0], batchDims: 0, mode: "clip" }
    )
    assert.strictEqual(got, "fallback")
  })

  it("a gather splits its rows across threads from the threshold on; a scatter runs on one", () => {
    for (const threads of [1, 3, 4]) {
      const t = testRuntime(threads, checked)
      for (const [rows, cols, parallel] of [
        [255, 257, false],
        [256, 256, true],
        [257, 256, true],
        [2, 32768, true],
        [3, 32768, true],
        [1, 65536, true],
        [65536, 1, true],
        [65535, 1, false]
      ] as const) {
        const operand = [4, cols]
        const params: GatherParams = { indexedAxes: [0], batchDims: 0, mode: "fill" }
        const idx = indexData("int32", [rows, 1], [4])
        const before = t.runs.length
        check(
          t,
          gatherKernel,
          "gather",
          [data("float32", operand), idx],
          [aval(operand, "float32"), aval([rows, 1], "int32")],
          params,
          `gather ${rows} rows of ${cols} on ${threads} threads`
        )
        const tasks = t.runs.slice(before).map((r) => r.tasks)
        const want = parallel ? Math.min(threads, rows) : 1
        assert.deepStrictEqual(tasks, [want, want], `tasks for ${rows} rows of ${cols} on ${threads} threads`)
        if (rows * cols <= 65536) {
          const s = t.runs.length
          check(
            t,
            scatterAddKernel,
            "scatter_add",
            [data("float32", operand), idx, data("float32", [rows, cols])],
            [aval(operand, "float32"), aval([rows, 1], "int32"), aval([rows, cols], "float32")],
            params,
            `scatter_add ${rows} rows of ${cols}`
          )
          assert.deepStrictEqual(
            t.runs.slice(s).map((r) => r.tasks),
            [1, 1]
          )
        }
      }
    }
  })

  it("batched gathers split across threads mid-batch", () => {
    const t = testRuntime(3, checked)
    for (const dtype of ["float32", "bool", "key<fry>"] as const) {
      const operand = [5, 7, 2048]
      const params: GatherParams = { indexedAxes: [1], batchDims: 1, mode: "clip" }
      check(
        t,
        gatherKernel,
        "gather",
        [data(dtype, operand), indexData("int32", [5, 7, 1], [7])],
        [aval(operand, dtype), aval([5, 7, 1], "int32")],
        params,
        `batched parallel gather ${dtype}`
      )
    }
  })
})
