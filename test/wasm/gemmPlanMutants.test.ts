/**
 * How the wasm `dot_general` plans and runs a product (src/backend/wasm/kernels/gemmPlan.ts and
 * dotGeneral.ts), tested directly (issue 16: tests that catch injected bugs): the plan's kind, kernel
 * config, strides and gathers, the order of contracting pairs, thread counts at the thresholds, the
 * rounds over 32 MiB of packed B, the unit blocks, the scratch layout; and `runDotPlan` on a recording
 * test runtime (every kind, gathered operands of 4 and 1 bytes, rounds of batches and of columns, the
 * caller's scratch), the plan caches, against the cpu kernel.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Aval, DType, HostArray } from "../../src/backend/DType.ts"
import { allocHost } from "../../src/backend/DType.ts"
import type { Params } from "../../src/backend/Primitive.ts"
import { dotGeneral, dotPlanFor, dotScratchBytes, runDotPlan } from "../../src/backend/wasm/kernels/dotGeneral.ts"
import {
  groupStride,
  parallelFlops,
  parallelGemvFlops,
  planDotGeneral,
  unitBlocks
} from "../../src/backend/wasm/kernels/gemmPlan.ts"
import type { DotPlan } from "../../src/backend/wasm/kernels/gemmPlan.ts"
import type { WasmRuntime } from "../../src/backend/wasm/runtime.ts"
import { axpyRows } from "../../src/backend/wasm/kernels/gemv.ts"
import { call, check, same, testRuntime } from "./kernelRuntime.ts"
import { aval, mulberry32, run, size } from "./support.ts"
import { Backend } from "effect-nnx"

const rnd = mulberry32(20261204)
const cpu = Backend.makeCpu()
const cpuRun = (inputs: ReadonlyArray<HostArray>, avals: ReadonlyArray<Aval>, p: Dims): HostArray =>
  run(cpu, "dot_general", inputs, avals, p)[0]!

type Dims = Params<"dot_general">
const dims = (
  lc: ReadonlyArray<number>,
  rc: ReadonlyArray<number>,
  lb: ReadonlyArray<number> = [],
  rb: ReadonlyArray<number> = []
): Dims => ({
  lhsContracting: lc,
  rhsContracting: rc,
  lhsBatch: lb,
  rhsBatch: rb
})

/** Small integers (float32 products then exact in any order, so equal to the cpu kernel's). */
const data = (dtype: DType, shape: ReadonlyArray<number>, density = 0.5): HostArray => {
  const h = allocHost(dtype, size(shape))
  for (let i = 0; i < h.length; i++)
    h[i] =
      dtype === "bool"
        ? rnd() < density
          ? 1
          : 0
        : dtype === "uint32"
          ? Math.floor(rnd() * 0x100000000)
          : dtype === "int32"
            ? Math.floor(rnd() * 0x100000000) | 0
            : Math.floor(rnd() * 9) - 4
  return h
}

const product = (
  threads: number,
  dtype: DType,
  lShape: ReadonlyArray<number>,
  rShape: ReadonlyArray<number>,
  p: Dims,
  label: string,
  density = 0.5
) => {
  const t = testRuntime(threads, { guardScratch: true, checkInputs: true, checkPointers: true })
  check(
    t,
    dotGeneral,
    "dot_general",
    [data(dtype, lShape, density), data(dtype, rShape, density)],
    [aval(lShape, dtype), aval(rShape, dtype)],
    p,
    label
  )
  return t
}

const gemmPlan = (plan: DotPlan | undefined) => {
  assert.isDefined(plan)
  assert.strictEqual(plan!.kind, "gemm")
  return plan as Extract<DotPlan, { kind: "gemm" }>
}

describe("wasm dot_general plans", () => {
  it("groupStride: one stride for an evenly strided run of axes, in the given order", () => {
    const shape = [5, 3, 4]
    const st = [12, 4, 1]
    assert.strictEqual(groupStride(shape, st, [0, 1, 2]), 1)
    assert.strictEqual(groupStride(shape, st, [0, 1]), 4)
    assert.strictEqual(groupStride(shape, st, [0]), 12)
    assert.strictEqual(groupStride(shape, st, []), 1)
    assert.strictEqual(groupStride(shape, st, [0, 2]), undefined)
    assert.strictEqual(groupStride(shape, st, [1, 0]), undefined)
    assert.strictEqual(groupStride(shape, st, [2, 1]), undefined)
    // Only the first pair breaks the run.
    assert.strictEqual(groupStride(shape, [13, 4, 1], [0, 1, 2]), undefined)
    // Axes of size 1 are skipped wherever they are; a group of them alone is contiguous.
    assert.strictEqual(groupStride([2, 1, 3], [3, 7, 1], [0, 1, 2]), 1)
    assert.strictEqual(groupStride([2, 1, 3], [3, 7, 1], [1]), 1)
    assert.strictEqual(groupStride([1, 6, 1], [6, 1, 1], [0, 1, 2]), 1)
    assert.strictEqual(groupStride([2, 1, 3], [3, 7, 1], [1, 0]), 3)
  })

  it("empty products, zero K, dtypes without kernels", () => {
    const f = aval([2, 0], "float32"),
      g = aval([0, 3], "float32")
    assert.deepStrictEqual(planDotGeneral(f, aval([0, 3], "float32"), dims([1], [0]), 1, false), {
      kind: "zeros",
      bytes: 24
    })
    assert.deepStrictEqual(planDotGeneral(aval([2, 0], "bool"), aval([0, 3], "bool"), dims([1], [0]), 1, false), {
      kind: "zeros",
      bytes: 6
    })
    assert.deepStrictEqual(planDotGeneral(g, aval([3, 5], "float32"), dims([1], [0]), 1, false), { kind: "empty" })
    assert.deepStrictEqual(planDotGeneral(aval([4, 3], "int32"), aval([3, 0], "int32"), dims([1], [0]), 1, false), {
      kind: "empty"
    })
    assert.deepStrictEqual(
      planDotGeneral(aval([0, 4, 0], "int32"), aval([0, 0, 3], "int32"), dims([2], [1], [0], [0]), 1, false),
      { kind: "empty" }
    )
    assert.strictEqual(
      planDotGeneral(aval([2, 2], "complex64"), aval([2, 2], "complex64"), dims([1], [0]), 1, false),
      undefined
    )
  })
})

const f32Config = { element: "f32", mr: 3, nv: 4, relaxed: false } as const

describe("wasm dot_general plans of GEMMs", () => {
  it("a plain product: blocks, strides, scratch layout", () => {
    assert.deepStrictEqual(planDotGeneral(aval([8, 8], "float32"), aval([8, 8], "float32"), dims([1], [0]), 1, false), {
      kind: "gemm",
      config: f32Config,
      tasks: 1,
      B: 1,
      M: 8,
      N: 8,
      K: 8,
      kc: 8,
      lhs: { strides: [4, 32, 4], gather: undefined },
      rhs: { strides: [4, 32, 4], gather: undefined },
      rounds: [{ b0: 0, b1: 1, n0: 0, n1: 8, mc: 9, nc: 16, flags: 1 }],
      workBytes: 512,
      offsets: { flags: 64, gatherA: 128, gatherB: 128, packed: 128, work: 640, total: 1152 }
    })
  })

  it("a gathered lhs (contracting axes 0 and 2), fused multiply-adds asked for", () => {
    assert.deepStrictEqual(
      planDotGeneral(aval([3, 4, 5], "float32"), aval([3, 5, 6], "float32"), dims([0, 2], [0, 1]), 1, true),
      {
        kind: "gemm",
        config: { ...f32Config, relaxed: true },
        tasks: 1,
        B: 1,
        M: 4,
        N: 6,
        K: 15,
        kc: 16,
        lhs: { strides: [240, 60, 4], gather: { shape: [4, 3, 5], strides: [5, 20, 1], bytes: 240 } },
        rhs: { strides: [4, 24, 4], gather: undefined },
        rounds: [{ b0: 0, b1: 1, n0: 0, n1: 6, mc: 6, nc: 16, flags: 1 }],
        workBytes: 576,
        offsets: { flags: 64, gatherA: 128, gatherB: 384, packed: 384, work: 1344, total: 1920 }
      }
    )
  })

  it("a gathered rhs of bool, batch axes, columns over several blocks", () => {
    // rhs [K1, b, N, K2] contracting 0 and 3: its k group is not one run.
    const plan = gemmPlan(
      planDotGeneral(aval([2, 5, 3, 4], "bool"), aval([3, 2, 7, 4], "bool"), dims([2, 3], [0, 3], [0], [1]), 1, true)
    )
    assert.deepStrictEqual(plan.config, { element: "bool", mr: 4, nv: 2, relaxed: false })
    assert.deepStrictEqual([plan.B, plan.M, plan.N, plan.K, plan.kc], [2, 5, 7, 12, 12])
    assert.deepStrictEqual(plan.lhs, { strides: [60, 12, 1], gather: undefined })
    assert.deepStrictEqual(plan.rhs, {
      strides: [84, 7, 1],
      gather: { shape: [2, 3, 4, 7], strides: [28, 56, 1, 4], bytes: 168 }
    })
    assert.deepStrictEqual(plan.rounds, [{ b0: 0, b1: 2, n0: 0, n1: 7, mc: 8, nc: 8, flags: 2 }])
    assert.strictEqual(plan.workBytes, align((8 * 12 + 32) * 4))
    assert.deepStrictEqual(plan.offsets, {
      flags: 64,
      gatherA: 128,
      gatherB: 128,
      packed: 128 + 192,
      work: 320 + align(2 * 12 * 8 * 4),
      total: 320 + align(2 * 12 * 8 * 4) + plan.workBytes
    })
  })

  it("int32 and uint32: 4 × 8 tiles, never fused; operands transposed in place", () => {
    for (const dtype of ["int32", "uint32"] as const) {
      const plan = gemmPlan(
        planDotGeneral(aval([2, 7, 5], dtype), aval([2, 6, 7], dtype), dims([1], [2], [0], [0]), 2, true)
      )
      assert.deepStrictEqual(plan.config, { element: "i32", mr: 4, nv: 2, relaxed: false })
      assert.deepStrictEqual([plan.tasks, plan.B, plan.M, plan.N, plan.K, plan.kc], [1, 2, 5, 6, 7, 8])
      assert.deepStrictEqual(plan.lhs, { strides: [140, 4, 20], gather: undefined })
      assert.deepStrictEqual(plan.rhs, { strides: [168, 4, 28], gather: undefined })
      assert.deepStrictEqual(plan.rounds, [{ b0: 0, b1: 2, n0: 0, n1: 6, mc: 8, nc: 8, flags: 2 }])
      assert.deepStrictEqual(plan.offsets, {
        flags: 64,
        gatherA: 128,
        gatherB: 128,
        packed: 128,
        work: 576,
        total: 960
      })
    }
  })

  it("the contracting pairs in the order that keeps the most operands in place", () => {
    // lhs [4, 3, 5] contracting (2, 1) with rhs [3, 5, 6] contracting (1, 0): in place only in lhs order.
    const both = gemmPlan(
      planDotGeneral(aval([4, 3, 5], "float32"), aval([3, 5, 6], "float32"), dims([2, 1], [1, 0]), 1, false)
    )
    assert.deepStrictEqual(both.lhs, { strides: [4, 60, 4], gather: undefined })
    assert.deepStrictEqual(both.rhs, { strides: [4, 24, 4], gather: undefined })
    // lhs contracting (0, 2) is never one run; rhs [5, 3, 6] contracting (1, 0) is one in rhs order only.
    const rhsOnly = gemmPlan(
      planDotGeneral(aval([3, 4, 5], "float32"), aval([5, 3, 6], "float32"), dims([0, 2], [1, 0]), 1, false)
    )
    assert.deepStrictEqual(rhsOnly.rhs, { strides: [4, 24, 4], gather: undefined })
    assert.deepStrictEqual(rhsOnly.lhs, {
      strides: [240, 60, 4],
      gather: { shape: [4, 5, 3], strides: [5, 1, 20], bytes: 240 }
    })
    // Neither order keeps either in place: both gathered, in the first order (lhs sorted).
    const none = gemmPlan(
      planDotGeneral(aval([3, 4, 5], "float32"), aval([5, 6, 3], "float32"), dims([0, 2], [2, 0]), 1, false)
    )
    assert.deepStrictEqual(none.lhs.gather, { shape: [4, 3, 5], strides: [5, 20, 1], bytes: 240 })
    assert.deepStrictEqual(none.rhs.gather, { shape: [3, 5, 6], strides: [1, 18, 3], bytes: 360 })
    assert.deepStrictEqual(none.offsets.gatherB - none.offsets.gatherA, 256)
    assert.deepStrictEqual(none.offsets.packed - none.offsets.gatherB, 384)
    // lhs contracting (1, 2) is a run in lhs order only, rhs (0, 2) never: lhs order, however the pairs are given.
    for (const [lc, rc] of [
      [
        [2, 1],
        [0, 2]
      ],
      [
        [1, 2],
        [2, 0]
      ]
    ] as const) {
      const lhsOnly = gemmPlan(
        planDotGeneral(aval([4, 3, 5], "float32"), aval([5, 6, 3], "float32"), dims(lc, rc), 1, false)
      )
      assert.deepStrictEqual(lhsOnly.lhs, { strides: [4, 60, 4], gather: undefined })
      assert.deepStrictEqual(lhsOnly.rhs.gather, { shape: [3, 5, 6], strides: [1, 18, 3], bytes: 360 })
    }
    // Either order keeps one operand in place (lhs in lhs order, rhs in rhs order): the first, lhs order.
    const tie = gemmPlan(
      planDotGeneral(aval([4, 3, 5], "float32"), aval([5, 3, 6], "float32"), dims([1, 2], [1, 0]), 1, false)
    )
    assert.deepStrictEqual(tie.lhs, { strides: [4, 60, 4], gather: undefined })
    assert.deepStrictEqual(tie.rhs.gather, { shape: [3, 5, 6], strides: [6, 18, 1], bytes: 360 })
    // Batch axes that are not one run: gathered too.
    const batch = gemmPlan(
      planDotGeneral(
        aval([2, 4, 3, 5], "float32"),
        aval([2, 3, 5, 6], "float32"),
        dims([3], [2], [0, 2], [0, 1]),
        1,
        false
      )
    )
    assert.deepStrictEqual(batch.lhs, {
      strides: [80, 20, 4],
      gather: { shape: [2, 3, 4, 5], strides: [60, 5, 15, 1], bytes: 480 }
    })
    assert.deepStrictEqual(batch.rhs, { strides: [120, 24, 4], gather: undefined })
    // The same pairs given in another order: still the first order with the best score.
    const given = gemmPlan(
      planDotGeneral(aval([3, 4, 5], "float32"), aval([5, 6, 3], "float32"), dims([2, 0], [0, 2]), 1, false)
    )
    assert.deepStrictEqual(given.lhs.gather, { shape: [4, 3, 5], strides: [5, 20, 1], bytes: 240 })
    assert.deepStrictEqual(given.rhs.gather, { shape: [3, 5, 6], strides: [1, 18, 3], bytes: 360 })
  })

  it("threads from 2·B·M·N·K = 2^21 flops on, and the unit blocks then", () => {
    const big = gemmPlan(
      planDotGeneral(aval([64, 256], "float32"), aval([256, 64], "float32"), dims([1], [0]), 3, false)
    )
    assert.strictEqual(2 * 64 * 64 * 256, parallelFlops)
    assert.strictEqual(big.tasks, 3)
    assert.deepStrictEqual(big.rounds, [{ b0: 0, b1: 1, n0: 0, n1: 64, mc: 12, nc: 64, flags: 1 }])
    assert.strictEqual(big.workBytes, 67776)
    assert.deepStrictEqual(big.offsets, {
      flags: 64,
      gatherA: 128,
      gatherB: 128,
      packed: 128,
      work: 65664,
      total: 65664 + 3 * 67776
    })
    const small = gemmPlan(
      planDotGeneral(aval([64, 255], "float32"), aval([255, 64], "float32"), dims([1], [0]), 3, false)
    )
    assert.strictEqual(small.tasks, 1)
    assert.deepStrictEqual(small.rounds, [{ b0: 0, b1: 1, n0: 0, n1: 64, mc: 66, nc: 64, flags: 1 }])
    assert.strictEqual(small.offsets.total, small.offsets.work + small.workBytes)
    const one = gemmPlan(
      planDotGeneral(aval([64, 256], "float32"), aval([256, 64], "float32"), dims([1], [0]), 1, false)
    )
    assert.strictEqual(one.tasks, 1)
  })

  it("rounds: whole batches under 32 MiB of packed B, else columns of one batch", () => {
    const batches = gemmPlan(
      planDotGeneral(
        aval([40, 3, 1024], "float32"),
        aval([40, 1024, 260], "float32"),
        dims([2], [1], [0], [0]),
        1,
        false
      )
    )
    // 1024 · 272 words per batch: 30 batches per round.
    assert.deepStrictEqual(
      batches.rounds.map((r) => [r.b0, r.b1, r.n0, r.n1, r.flags]),
      [
        [0, 30, 0, 260, 30 * 3 * 1],
        [30, 40, 0, 260, 10 * 3 * 1]
      ]
    )
    assert.strictEqual(batches.offsets.work - batches.offsets.packed, 30 * 1024 * 272 * 4)
    const columns = gemmPlan(
      planDotGeneral(
        aval([2, 2, 2048], "float32"),
        aval([2, 2048, 4112], "float32"),
        dims([2], [1], [0], [0]),
        1,
        false
      )
    )
    assert.deepStrictEqual(
      columns.rounds.map((r) => [r.b0, r.b1, r.n0, r.n1]),
      [
        [0, 1, 0, 4096],
        [0, 1, 4096, 4112],
        [1, 2, 0, 4096],
        [1, 2, 4096, 4112]
      ]
    )
    assert.strictEqual(columns.offsets.work - columns.offsets.packed, 2048 * 4096 * 4)
    // Exactly as many batches as fit, or columns a multiple of a round's: no empty round after.
    const fit = gemmPlan(
      planDotGeneral(
        aval([2, 4, 1024], "float32"),
        aval([2, 1024, 4096], "float32"),
        dims([2], [1], [0], [0]),
        1,
        false
      )
    )
    assert.deepStrictEqual(
      fit.rounds.map((r) => [r.b0, r.b1, r.n0, r.n1]),
      [[0, 2, 0, 4096]]
    )
    const even = gemmPlan(
      planDotGeneral(
        aval([1, 2, 2048], "float32"),
        aval([1, 2048, 8192], "float32"),
        dims([2], [1], [0], [0]),
        1,
        false
      )
    )
    assert.deepStrictEqual(
      even.rounds.map((r) => [r.b0, r.b1, r.n0, r.n1]),
      [
        [0, 1, 0, 4096],
        [0, 1, 4096, 8192]
      ]
    )
    // On three threads each round's unit blocks are chosen for its own batches and columns.
    const batches3 = gemmPlan(
      planDotGeneral(
        aval([40, 3, 1024], "float32"),
        aval([40, 1024, 260], "float32"),
        dims([2], [1], [0], [0]),
        3,
        false
      )
    )
    assert.deepStrictEqual(batches3.rounds, [
      { b0: 0, b1: 30, n0: 0, n1: 260, mc: 3, nc: 272, flags: 90 },
      { b0: 30, b1: 40, n0: 0, n1: 260, mc: 3, nc: 144, flags: 60 }
    ])
    const columns3 = gemmPlan(
      planDotGeneral(
        aval([2, 2, 2048], "float32"),
        aval([2, 2048, 4112], "float32"),
        dims([2], [1], [0], [0]),
        3,
        false
      )
    )
    assert.deepStrictEqual(
      columns3.rounds.map((r) => [r.n0, r.n1, r.mc, r.nc, r.flags]),
      [
        [0, 4096, 3, 1024, 24],
        [4096, 4112, 3, 16, 6],
        [0, 4096, 3, 1024, 24],
        [4096, 4112, 3, 16, 6]
      ]
    )
    const wide = gemmPlan(
      planDotGeneral(aval([300, 200], "float32"), aval([200, 257], "float32"), dims([1], [0]), 3, false)
    )
    assert.deepStrictEqual(wide.rounds, [{ b0: 0, b1: 1, n0: 0, n1: 257, mc: 51, nc: 144, flags: 2 }])
    assert.strictEqual(columns.offsets.packed - columns.offsets.flags, align(6 * 4))
    assert.strictEqual(batches.offsets.packed - batches.offsets.flags, align(30 * 3 * 4))
  })
})

const align = (bytes: number) => Math.ceil(bytes / 64) * 64

/** `unitBlocks` over a grid (mr × nr 3 × 16 and 4 × 8; tasks 2, 3, 8; batches 1, 2, 5; M 7, 40, 300, 1000; columns 16, 50, 1000; K 64, 500), `mc/nc`. */
const unitGolden = [
  "9/16 9/16 9/64 9/64 9/256 9/256 12/16 12/16 12/64 12/64 21/256 21/256 39/16 30/16 39/64 30/64",
  "75/512 75/512 126/16 126/16 126/64 126/64 126/1008 126/1008 9/16 9/16 9/64 9/64 9/256 9/256",
  "12/16 12/16 12/64 12/64 21/512 21/512 75/16 75/16 75/64 75/64 75/1008 75/1008 144/16 144/16",
  "144/64 144/64 144/1008 144/1008 9/16 9/16 9/64 9/64 9/512 9/512 21/16 21/16 21/64 21/64 42/512",
  "42/512 75/16 75/16 75/64 75/64 75/1008 75/1008 144/16 144/16 144/64 144/64 144/1008 144/1008",
  "9/16 9/16 9/64 9/64 9/256 9/256 12/16 12/16 12/64 12/64 12/336 12/336 27/16 27/16 27/64 21/64",
  "102/256 102/256 84/16 84/16 84/64 84/64 84/1008 84/1008 9/16 9/16 9/64 9/64 9/256 9/256 12/16",
  "12/16 12/64 12/64 21/336 21/336 51/16 51/16 51/64 51/64 102/512 102/512 114/16 114/16 114/64",
  "114/64 114/1008 114/1008 9/16 9/16 9/64 9/64 9/336 9/336 15/16 15/16 15/64 15/64 42/336 42/336",
  "102/16 102/16 102/64 102/64 102/1008 102/1008 144/16 144/16 144/64 144/64 144/1008 144/1008 9/16",
  "9/16 9/64 9/64 9/256 9/256 12/16 12/16 12/64 12/64 12/256 12/256 21/16 21/16 21/64 21/64 30/256",
  "30/256 63/16 63/16 63/64 63/64 126/256 126/256 9/16 9/16 9/64 9/64 9/256 9/256 12/16 12/16 12/64",
  "12/64 12/256 12/256 21/16 21/16 21/64 21/64 75/256 75/256 63/16 63/16 63/64 63/64 126/512",
  "126/512 9/16 9/16 9/64 9/64 9/256 9/256 12/16 12/16 12/64 12/64 21/256 21/256 39/16 39/16 39/64",
  "39/64 75/512 75/512 126/16 126/16 126/64 126/64 126/1008 126/1008 8/16 8/16 8/56 8/56 8/256",
  "8/256 16/16 16/16 16/56 16/56 20/256 20/256 40/16 40/16 40/56 36/56 76/504 76/504 128/16 100/16",
  "128/56 100/56 100/1000 100/1000 8/16 8/16 8/56 8/56 8/256 8/256 16/16 16/16 16/56 16/56 40/256",
  "40/256 76/16 76/16 76/56 76/56 76/1000 76/1000 144/16 144/16 144/56 144/56 144/1000 144/1000",
  "8/16 8/16 8/56 8/56 8/504 8/504 20/16 20/16 20/56 20/56 40/504 40/504 76/16 76/16 76/56 76/56",
  "76/1000 76/1000 144/16 144/16 144/56 144/56 144/1000 144/1000 8/16 8/16 8/56 8/56 8/256 8/256",
  "16/16 16/16 16/56 16/56 16/256 16/256 20/16 20/16 20/56 20/56 76/336 76/336 84/16 84/16 84/56",
  "84/56 84/1000 84/1000 8/16 8/16 8/56 8/56 8/256 8/256 16/16 16/16 16/56 16/56 20/336 20/336",
  "52/16 40/16 52/56 40/56 100/504 100/504 112/16 112/16 112/56 112/56 112/1000 112/1000 8/16 8/16",
  "8/56 8/56 8/336 8/336 16/16 16/16 16/56 16/56 40/336 40/336 100/16 100/16 100/56 100/56 100/1000",
  "100/1000 144/16 112/16 144/56 112/56 112/1000 112/1000 8/16 8/16 8/56 8/56 8/256 8/256 16/16",
  "16/16 16/56 16/56 16/256 16/256 20/16 20/16 20/56 20/56 40/256 36/256 64/16 64/16 64/56 64/56",
  "128/256 64/504 8/16 8/16 8/56 8/56 8/256 8/256 16/16 16/16 16/56 16/56 16/256 16/256 20/16 20/16",
  "20/56 20/56 76/256 76/256 64/16 64/16 64/56 64/56 64/1000 64/1000 8/16 8/16 8/56 8/56 8/256",
  "8/256 16/16 16/16 16/56 16/56 20/256 20/256 40/16 36/16 40/56 36/56 76/504 76/504 128/16 128/16",
  "128/56 128/56 128/1000 128/1000"
]
  .join(" ")
  .split(" ")

const gemvPlan = (plan: DotPlan | undefined) => {
  assert.isDefined(plan)
  assert.strictEqual(plan!.kind, "gemv")
  const g = plan as Extract<DotPlan, { kind: "gemv" }>
  return { ...g, shares: [...g.shares] }
}

describe("wasm dot_general unit blocks and matrix-vector plans", () => {
  it("unit blocks: the largest for one task or many batches, else blocks that share the work", () => {
    // One task, or at least 4 batches per task: rows up to 144 (a multiple of mr, equal blocks), all columns.
    assert.deepStrictEqual(unitBlocks(1, 300, 257, 200, 1, 3, 16), [102, 272])
    assert.deepStrictEqual(unitBlocks(1, 144, 1, 9, 1, 3, 16), [144, 16])
    assert.deepStrictEqual(unitBlocks(1, 145, 9, 9, 1, 4, 8), [76, 16])
    assert.deepStrictEqual(unitBlocks(12, 300, 257, 200, 3, 3, 16), [102, 272])
    assert.deepStrictEqual(unitBlocks(8, 10, 30, 20, 2, 4, 8), [12, 32])
    assert.deepStrictEqual(unitBlocks(11, 300, 257, 200, 3, 3, 16), [102, 272])
    assert.deepStrictEqual(unitBlocks(1, 300, 257, 200, 3, 3, 16), [51, 144])
    // Enough batches for every task (4 each): the largest blocks, though more would balance better.
    assert.deepStrictEqual(unitBlocks(9, 7, 128, 500, 2, 3, 16), [9, 128])
    // Columns down to 64 (not below), rows down to 4 micro-tiles, the largest rows among them.
    assert.deepStrictEqual(unitBlocks(1, 7, 128, 64, 2, 3, 16), [9, 64])
    assert.deepStrictEqual(unitBlocks(1, 2400, 256, 500, 3, 3, 16), [144, 128])
    // Shapes with up to 4 times the units each task needs are candidates (here 16 · 4 · 6 · 1 = 384 units).
    assert.deepStrictEqual(unitBlocks(16, 565, 120, 1646, 6, 4, 8), [96, 120])
    const got: Array<string> = []
    for (const [mr, nr] of [
      [3, 16],
      [4, 8]
    ] as const)
      for (const tasks of [2, 3, 8])
        for (const batches of [1, 2, 5])
          for (const M of [7, 40, 300, 1000])
            for (const cols of [16, 50, 1000])
              for (const K of [64, 500]) {
                const [mc, nc] = unitBlocks(batches, M, cols, K, tasks, mr, nr)
                assert.strictEqual(mc % mr, 0)
                assert.strictEqual(nc % nr, 0)
                got.push(`${mc}/${nc}`)
              }
    assert.deepStrictEqual(got, unitGolden)
  })

  it("matrix-vector forms: rows contiguous in k (dot) or along the rows (axpy), either operand with rows", () => {
    const f = (shape: Array<number>) => aval(shape, "float32")
    assert.deepStrictEqual(gemvPlan(planDotGeneral(f([5, 7]), f([7]), dims([1], [0]), 1, true)), {
      kind: "gemv",
      config: { element: "f32", relaxed: true },
      form: "dot",
      xIsLhs: true,
      strides: [4, 28, 4, 4, 4, 20],
      K: 7,
      shares: [0, 1, 0, 5, 0, 0]
    })
    assert.deepStrictEqual(gemvPlan(planDotGeneral(f([7, 5]), f([7]), dims([0], [0]), 1, false)), {
      kind: "gemv",
      config: { element: "f32", relaxed: false },
      form: "axpy",
      xIsLhs: true,
      strides: [4, 4, 20, 4, 4, 20],
      K: 7,
      shares: [0, 1, 0, 5, 0, 0]
    })
    // M = 1: X is the rhs, read as Bᵀ.
    assert.deepStrictEqual(gemvPlan(planDotGeneral(f([7]), f([7, 5]), dims([0], [0]), 1, false)), {
      kind: "gemv",
      config: { element: "f32", relaxed: false },
      form: "axpy",
      xIsLhs: false,
      strides: [4, 4, 20, 4, 4, 20],
      K: 7,
      shares: [0, 1, 0, 5, 0, 0]
    })
    assert.deepStrictEqual(
      gemvPlan(planDotGeneral(aval([3, 7], "int32"), aval([3, 5, 7], "int32"), dims([1], [2], [0], [0]), 1, true)),
      {
        kind: "gemv",
        config: { element: "i32", relaxed: false },
        form: "dot",
        xIsLhs: false,
        strides: [140, 28, 4, 28, 4, 20],
        K: 7,
        shares: [0, 3, 0, 5, 0, 0]
      }
    )
    // uint32 is an i32 product too.
    assert.strictEqual(
      gemvPlan(planDotGeneral(aval([4, 6], "uint32"), aval([6], "uint32"), dims([1], [0]), 1, true)).config.element,
      "i32"
    )
    // Neither rows nor k contiguous (batch axis last): the GEMM; so is bool, and an operand gathered.
    assert.strictEqual(planDotGeneral(f([5, 7, 2]), f([2, 7]), dims([1], [1], [2], [0]), 1, false)?.kind, "gemm")
    assert.strictEqual(
      planDotGeneral(aval([6], "float32"), aval([2, 6, 3], "float32"), dims([0], [1], [], []), 1, false)?.kind,
      "gemm"
    )
    assert.strictEqual(planDotGeneral(aval([5, 7], "bool"), aval([7], "bool"), dims([1], [0]), 1, false)?.kind, "gemm")
    assert.strictEqual(planDotGeneral(f([2, 5, 3]), f([2, 3]), dims([0, 2], [0, 1]), 1, false)?.kind, "gemm")
    // Rows contiguous in k but v strided along k (its batch axis last): neither form, the GEMM.
    assert.strictEqual(planDotGeneral(f([2, 5, 7]), f([7, 2]), dims([2], [0], [0], [1]), 1, false)?.kind, "gemm")
    assert.strictEqual(planDotGeneral(f([2, 7]), f([2, 5, 7]), dims([1], [2], [0], [0]), 1, false)?.kind, "gemv")
    assert.strictEqual(planDotGeneral(f([7, 2]), f([2, 5, 7]), dims([0], [2], [1], [0]), 1, false)?.kind, "gemm")
    // Both operands in place, M = N = 1: the lhs is X.
    assert.strictEqual(gemvPlan(planDotGeneral(f([1, 6]), f([6, 1]), dims([1], [0]), 1, false)).xIsLhs, true)
  })

  it("matrix-vector shares: one task under 2^23 flops, else batches when they divide evenly, else rows", () => {
    const f = (shape: Array<number>) => aval(shape, "float32")
    assert.strictEqual(2 * 1024 * 4096, parallelGemvFlops)
    assert.deepStrictEqual(
      gemvPlan(planDotGeneral(f([1024, 4096]), f([4096]), dims([1], [0]), 2, false)).shares,
      [0, 1, 0, 512, 0, 0, 0, 1, 512, 1024, 0, 0]
    )
    assert.deepStrictEqual(
      gemvPlan(planDotGeneral(f([1024, 4095]), f([4095]), dims([1], [0]), 2, false)).shares,
      [0, 1, 0, 1024, 0, 0]
    )
    assert.deepStrictEqual(
      gemvPlan(planDotGeneral(f([1024, 4096]), f([4096]), dims([1], [0]), 1, false)).shares,
      [0, 1, 0, 1024, 0, 0]
    )
    // M = 1: the rows are the rhs columns; the same threshold.
    assert.deepStrictEqual(
      gemvPlan(planDotGeneral(f([4096]), f([4096, 1024]), dims([0], [0]), 2, false)).shares,
      [0, 1, 0, 512, 0, 0, 0, 1, 512, 1024, 0, 0]
    )
    assert.deepStrictEqual(
      gemvPlan(planDotGeneral(f([4096]), f([4096, 1023]), dims([0], [0]), 2, false)).shares,
      [0, 1, 0, 1023, 0, 0]
    )
    // Rows in whole blocks of 16 (dot) or axpyRows (axpy), the last block short.
    assert.deepStrictEqual(
      gemvPlan(planDotGeneral(f([1000, 4200]), f([4200]), dims([1], [0]), 3, false)).shares,
      [0, 1, 0, 336, 0, 0, 0, 1, 336, 672, 0, 0, 0, 1, 672, 1000, 0, 0]
    )
    const axpy = gemvPlan(planDotGeneral(f([4200, 1000]), f([4200]), dims([0], [0]), 3, false))
    assert.strictEqual(axpy.form, "axpy")
    const units = Math.ceil(1000 / axpyRows)
    const at = (t: number) => Math.min(1000, Math.floor((units * t) / 3) * axpyRows)
    assert.deepStrictEqual(axpy.shares, [0, 1, at(0), at(1), 0, 0, 0, 1, at(1), at(2), 0, 0, 0, 1, at(2), at(3), 0, 0])
    // Fewer row blocks than threads: one share per block.
    assert.deepStrictEqual(
      gemvPlan(planDotGeneral(f([20, 2 ** 20]), f([2 ** 20]), dims([1], [0]), 3, false)).shares,
      [0, 1, 0, 16, 0, 0, 0, 1, 16, 20, 0, 0]
    )
    // Batches: evenly divided, or at least 4 per task; else rows.
    assert.deepStrictEqual(
      gemvPlan(planDotGeneral(f([4, 256, 4096]), f([4, 4096]), dims([2], [1], [0], [0]), 2, false)).shares,
      [0, 2, 0, 256, 0, 0, 2, 4, 0, 256, 0, 0]
    )
    assert.deepStrictEqual(
      gemvPlan(planDotGeneral(f([2, 512, 4096]), f([2, 4096]), dims([2], [1], [0], [0]), 2, false)).shares,
      [0, 1, 0, 512, 0, 0, 1, 2, 0, 512, 0, 0]
    )
    assert.deepStrictEqual(
      gemvPlan(planDotGeneral(f([9, 128, 4096]), f([9, 4096]), dims([2], [1], [0], [0]), 2, false)).shares,
      [0, 4, 0, 128, 0, 0, 4, 9, 0, 128, 0, 0]
    )
    assert.deepStrictEqual(
      gemvPlan(planDotGeneral(f([3, 512, 4096]), f([3, 4096]), dims([2], [1], [0], [0]), 2, false)).shares,
      [0, 3, 0, 256, 0, 0, 0, 3, 256, 512, 0, 0]
    )
    assert.deepStrictEqual(
      gemvPlan(planDotGeneral(f([2, 512, 4096]), f([2, 4096]), dims([2], [1], [0], [0]), 3, false)).shares,
      [0, 2, 0, 160, 0, 0, 0, 2, 160, 336, 0, 0, 0, 2, 336, 512, 0, 0]
    )
  })
})

/** One call (outputs prefilled with garbage) compared with the cpu kernel; the runtime's task counts. */
const once = (
  threads: number,
  dtype: DType,
  lShape: ReadonlyArray<number>,
  rShape: ReadonlyArray<number>,
  p: Dims,
  label: string,
  density = 0.5
): Array<number> => {
  const t = testRuntime(threads, { guardScratch: true, checkPointers: true })
  const inputs = [data(dtype, lShape, density), data(dtype, rShape, density)]
  const avals = [aval(lShape, dtype), aval(rShape, dtype)]
  const want = cpuRun(inputs, avals, p)
  const got = call(t, dotGeneral, "dot_general", inputs, avals, p, 0x5a)
  assert.notStrictEqual(got, "fallback", `${label} fell back`)
  same((got as Array<HostArray>)[0]!, want, label)
  return t.runs.map((r) => r.tasks)
}

describe("wasm dot_general runs its plans", () => {
  it("every kind of plan against the cpu kernel, with the tasks each run asks for", () => {
    assert.deepStrictEqual(product(1, "float32", [0, 3], [3, 4], dims([1], [0]), "empty").runs, [])
    assert.deepStrictEqual(product(1, "int32", [2, 0], [0, 3], dims([1], [0]), "zeros").runs, [])
    assert.deepStrictEqual(product(1, "bool", [2, 0], [0, 3], dims([1], [0]), "bool zeros").runs, [])
    for (const dtype of ["float32", "int32", "uint32", "bool"] as const) {
      product(1, dtype, [5, 7], [7, 6], dims([1], [0]), `${dtype} plain`)
      product(1, dtype, [7, 5], [6, 7], dims([0], [1]), `${dtype} both transposed`)
      product(1, dtype, [2, 5, 7], [7, 2, 6], dims([2], [0], [0], [1]), `${dtype} batched`)
      // Gathered: lhs contracting axes 0 and 2; rhs contracting axes 0 and 2.
      product(1, dtype, [3, 4, 5], [3, 5, 6], dims([0, 2], [0, 1]), `${dtype} lhs gathered`)
      product(1, dtype, [4, 3, 5], [3, 6, 5], dims([1, 2], [0, 2]), `${dtype} rhs gathered`)
      product(1, dtype, [2, 3, 4, 5], [3, 2, 6, 5], dims([1, 3], [0, 3], [0], [1]), `${dtype} both gathered`)
    }
    for (const dtype of ["float32", "int32"] as const) {
      const runs = (t: ReturnType<typeof testRuntime>) => t.runs.map((r) => `${r.key} ${r.tasks}`)
      const once = `dot_general/gemv/${dtype === "float32" ? "f32/mul-add" : "i32"} 1`
      // check runs the kernel twice (two garbage patterns).
      for (const [l, r, p, label] of [
        [[5, 7], [7], dims([1], [0]), "dot"],
        [[7, 5], [7], dims([0], [0]), "axpy"],
        [[7], [7, 5], dims([0], [0]), "vector · matrix"],
        [[7], [5, 7], dims([0], [1]), "vector · matrixᵀ"],
        [[3, 7], [3, 5, 7], dims([1], [2], [0], [0]), "batched dot"]
      ] as const)
        assert.deepStrictEqual(runs(product(1, dtype, l, r, p, `${dtype} ${label}`)), [once, once])
    }
    assert.deepStrictEqual(
      product(3, "float32", [20, 2 ** 18], [2 ** 18], dims([1], [0]), "gemv on two tasks").runs.map((r) => r.tasks),
      [2, 2]
    )
    assert.deepStrictEqual(
      product(3, "float32", [64, 256], [256, 64], dims([1], [0]), "gemm on three tasks").runs.map(
        (r) => `${r.key} ${r.tasks}`
      ),
      ["dot_general/f32/3x16/mul-add 3", "dot_general/f32/3x16/mul-add 3"]
    )
    assert.deepStrictEqual(
      product(3, "int32", [2, 64, 128], [2, 128, 64], dims([2], [1], [0], [0]), "int32 on three tasks").runs.map(
        (r) => `${r.key} ${r.tasks}`
      ),
      ["dot_general/i32/4x8 3", "dot_general/i32/4x8 3"]
    )
  })

  it("rounds of batches and of columns, each run offset to its part of the operands and C", () => {
    // 1024 · 1024 words of packed B per batch: 8 batches per round.
    assert.deepStrictEqual(
      once(1, "bool", [9, 1, 1024], [9, 1024, 1024], dims([2], [1], [0], [0]), "batch rounds", 0.05),
      [1, 1]
    )
    // 2048 · 4104 words of packed B per batch: columns 0-4095, then 4096, for each batch.
    assert.deepStrictEqual(
      once(1, "bool", [2, 1, 2048], [2, 2048, 4097], dims([2], [1], [0], [0]), "column rounds", 0.03),
      [1, 1, 1, 1]
    )
  })

  it("no plan for complex64: the kernel falls back", () => {
    const t = testRuntime(1)
    const c = aval([2, 2], "complex64")
    assert.strictEqual(
      call(t, dotGeneral, "dot_general", [new Float32Array(8), new Float32Array(8)], [c, c], dims([1], [0])),
      "fallback"
    )
    assert.deepStrictEqual(t.runs, [])
  })
})

describe("wasm dot_general plan caches and scratch", () => {
  it("runs a plan in the caller's scratch, which it first resets", () => {
    for (const [dtype, l, r, p] of [
      ["float32", [2, 7, 5], [2, 5, 9], dims([2], [1], [0], [0])],
      ["bool", [3, 4, 5], [3, 5, 6], dims([0, 2], [0, 1])],
      ["int32", [4, 6, 3], [6, 3], dims([1, 2], [0, 1], [], [])],
      ["int32", [2, 4, 6], [2, 6], dims([2], [1], [0], [0])]
    ] as const) {
      const t = testRuntime(1, { guardScratch: true })
      const inputs = [data(dtype, l), data(dtype, r)]
      const avals = [aval(l, dtype), aval(r, dtype)]
      const plan = dotPlanFor(t.rt, avals[0]!, avals[1]!, p)!
      const bytes = dotScratchBytes(plan)
      assert.strictEqual(
        bytes,
        plan.kind === "gemm" ? plan.offsets.total : plan.kind === "gemv" ? plan.shares.length * 4 : -1
      )
      const scratch = t.rt.scratch(bytes)
      // Garbage where the counter and flags go: the run must zero them itself.
      t.rt.u8().fill(0x01, scratch, scratch + bytes)
      const rt: WasmRuntime = {
        ...t.rt,
        scratch: () => {
          throw new Error("asked the runtime for scratch")
        }
      }
      const want = cpuRun(inputs, avals, p)
      const lhs = t.place(inputs[0]!),
        rhs = t.place(inputs[1]!)
      const outHost = allocHost(dtype, want.length)
      new Uint8Array(outHost.buffer).fill(0x5a)
      const out = t.place(outHost)
      runDotPlan(rt, plan, lhs, rhs, out, scratch)
      same(t.read(out, outHost), want, `${dtype} ${plan.kind} in the caller's scratch`)
      assert.deepStrictEqual(t.scratchGuards(), new Array(32).fill(0xa5), "wrote past the scratch")
    }
    assert.strictEqual(dotScratchBytes({ kind: "empty" }), 0)
    assert.strictEqual(dotScratchBytes({ kind: "zeros", bytes: 12 }), 0)
  })

  it("caches plans per product: the same object again, a new one when anything it depends on differs", () => {
    const t = testRuntime(3)
    const f = (shape: Array<number>, dtype: DType = "float32") => aval(shape, dtype)
    const l = f([64, 256]),
      r = f([256, 64])
    const p = dims([1], [0])
    const first = dotPlanFor(t.rt, l, r, p)
    assert.deepStrictEqual(first, planDotGeneral(l, r, p, 3, false))
    assert.strictEqual(dotPlanFor(t.rt, l, r, p), first)
    // Equal but new parameters, avals or runtime: the product's cached plan.
    assert.strictEqual(dotPlanFor(t.rt, l, r, dims([1], [0])), first)
    assert.strictEqual(dotPlanFor(t.rt, f([64, 256]), f([256, 64]), dims([1], [0])), first)
    // Anything else differs: that product's own plan, whether the parameters object is new or the last one.
    const variants: ReadonlyArray<readonly [Aval, Aval, Dims, number, boolean]> = [
      [f([64, 256], "int32"), f([256, 64], "int32"), p, 3, false],
      [f([64, 255]), f([255, 64]), p, 3, false],
      [f([64, 256]), f([256, 65]), p, 3, false],
      [f([256, 64]), f([256, 64]), dims([0], [0]), 3, false],
      [f([64, 256]), f([64, 256]), dims([1], [1]), 3, false],
      [f([2, 8, 4]), f([2, 4, 8]), dims([2], [1], [0], [0]), 3, false],
      [f([2, 8, 4]), f([2, 4, 8]), dims([2], [1]), 3, false],
      [f([64, 256]), f([256, 64]), p, 2, false],
      [f([64, 256]), f([256, 64]), p, 3, true]
    ]
    for (const [vl, vr, vp, threads, relaxed] of variants) {
      const want = planDotGeneral(vl, vr, vp, threads, relaxed)
      let current = threads
      const rt: WasmRuntime = {
        ...t.rt,
        relaxedSimd: relaxed,
        get threads() {
          return current
        }
      }
      assert.deepStrictEqual(dotPlanFor(rt, vl, vr, { ...vp }), want)
      // The last plan of this parameters object is for other avals or another runtime.
      assert.deepStrictEqual(dotPlanFor(rt, vl, vr, p), planDotGeneral(vl, vr, p, threads, relaxed))
      // Only the lhs, then only the rhs, then only the runtime differs from the last call's.
      assert.deepStrictEqual(dotPlanFor(t.rt, l, r, p), first)
      assert.deepStrictEqual(dotPlanFor(t.rt, vl, r, p), planDotGeneral(vl, r, p, 3, false))
      assert.deepStrictEqual(dotPlanFor(t.rt, vl, vr, p), planDotGeneral(vl, vr, p, 3, false))
      assert.deepStrictEqual(dotPlanFor(rt, vl, vr, p), planDotGeneral(vl, vr, p, threads, relaxed))
      // The runtime's threads change (a pool that lost its workers): a plan for the new count.
      const same1 = dims([...vp.lhsContracting], [...vp.rhsContracting], [...vp.lhsBatch], [...vp.rhsBatch])
      assert.deepStrictEqual(dotPlanFor(rt, vl, vr, same1), want)
      current = 1
      assert.deepStrictEqual(dotPlanFor(rt, vl, vr, same1), planDotGeneral(vl, vr, vp, 1, relaxed))
    }
    // Only the runtime differs (the same avals and parameters objects): a runtime with relaxed SIMD.
    const relaxedRt: WasmRuntime = { ...t.rt, relaxedSimd: true }
    assert.strictEqual(dotPlanFor(t.rt, l, r, p), first)
    assert.deepStrictEqual(dotPlanFor(relaxedRt, l, r, p), planDotGeneral(l, r, p, 3, true))
    assert.strictEqual(dotPlanFor(t.rt, l, r, p), first)
    // A product without a plan (complex64) is remembered as such.
    const c = f([2, 2], "complex64")
    assert.strictEqual(dotPlanFor(t.rt, c, c, p), undefined)
    assert.strictEqual(dotPlanFor(t.rt, c, c, dims([1], [0])), undefined)
  })

  it("keeps at most 512 plans, then starts over", () => {
    const t = testRuntime(1)
    const planOf = (n: number) => dotPlanFor(t.rt, aval([n, 3], "int32"), aval([3, 5], "int32"), dims([1], [0]))
    const sentinel = 100_000
    // The last plan of a parameters object outlives the cache starting over.
    const lastParams = dims([1], [0]),
      lastL = aval([7, 3], "int32"),
      lastR = aval([3, 5], "int32")
    const last = dotPlanFor(t.rt, lastL, lastR, lastParams)
    let kept = planOf(sentinel)
    const cached = () => planOf(sentinel) === kept
    // Add products until the cache starts over (the sentinel's plan is then planned anew).
    let n = 1
    for (; n < 2000 && cached(); n++) planOf(n)
    assert.isBelow(n, 2000)
    // Now the cache holds product n - 1 and the sentinel: 510 more fill it to 512, one more starts over.
    kept = planOf(sentinel)
    for (let i = 0; i < 510; i++) planOf(5000 + i)
    assert.isTrue(cached(), "cleared before 512 plans")
    assert.isTrue(cached())
    planOf(6000)
    assert.isFalse(cached(), "kept more than 512 plans")
    assert.strictEqual(dotPlanFor(t.rt, lastL, lastR, lastParams), last)
    assert.notStrictEqual(dotPlanFor(t.rt, lastL, lastR, dims([1], [0])), last)
    // A product without a plan is remembered too: asking again plans nothing (and so clears nothing).
    kept = planOf(sentinel)
    const c = aval([2, 2], "complex64")
    assert.strictEqual(dotPlanFor(t.rt, c, c, dims([1], [0])), undefined)
    for (let i = 0; i < 508; i++) planOf(7000 + i)
    assert.isTrue(cached())
    assert.strictEqual(dotPlanFor(t.rt, c, c, dims([1], [0])), undefined)
    assert.isTrue(cached(), "planned a product without a plan again")
  })
})
