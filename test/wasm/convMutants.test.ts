/**
 * The wasm `conv_general_dilated` (im2col into the packed GEMM) and `reduce_window` kernels
 * (src/backend/wasm/kernels/conv.ts) called directly on a recording test runtime (issue 16: tests
 * that catch injected bugs): a fresh runtime per case (so every case runs the generators), inputs
 * between guard bytes and checked unchanged, outputs prefilled with garbage, scratch handed out full of
 * NaN bytes (so a patch or product word the kernel forgets to write shows), results compared bit for
 * bit with the cpu kernels on data whose sums are exact in any order, and the task counts the kernels
 * ask for at the split threshold.
 */
import { assert, describe, it } from "@effect/vitest"
import { convDimensionNumbers } from "../../src/backend/conv.ts"
import type { ConvParams, ReduceWindowParams } from "../../src/backend/conv.ts"
import type { DType } from "../../src/backend/DType.ts"
import { convKernel, reduceWindowKernel } from "../../src/backend/wasm/kernels/conv.ts"
import { call, check, testRuntime } from "./kernelRuntime.ts"
import type { TestRuntime } from "./kernelRuntime.ts"
import { aval, mulberry32, size } from "./support.ts"

/**
 * A fresh test runtime whose scratch regions start as 0xff bytes (NaN as float32), and which runs a
 * kernel's tasks last to first (the pool may run them in any order: a task that writes past its share
 * then spoils a share already written).
 */
const fresh = (threads = 2): TestRuntime => {
  const t = testRuntime(threads, { guardScratch: true, checkInputs: true, checkPointers: true })
  const scratch = t.rt.scratch
  return {
    ...t,
    rt: {
      ...t.rt,
      scratch: (bytes) => {
        const at = scratch(bytes)
        new Uint8Array(t.rt.memory.buffer).fill(0xff, at, at + bytes)
        return at
      },
      run: (kernel, name, args, tasks) => {
        t.runs.push({ key: kernel.key, tasks })
        const f = kernel.exports[name]!
        const n = Math.max(1, Math.floor(tasks))
        for (let task = n - 1; task >= 0; task--) f(task, n, ...args)
      }
    }
  }
}

/** Small integers (sums exact in float32 in any order), or quarters with NaN and signed zeros. */
const ints = (n: number, seed: number): Float32Array => {
  const rnd = mulberry32(seed)
  return Float32Array.from({ length: n }, () => Math.floor(rnd() * 7) - 3)
}
const quarters = (n: number, seed: number, special: boolean): Float32Array => {
  const rnd = mulberry32(seed)
  return Float32Array.from({ length: n }, () => {
    const u = rnd()
    if (special && u < 0.06) return Number.NaN
    if (special && u < 0.12) return -0
    if (special && u < 0.18) return 0
    return Math.round((u - 0.5) * 40) / 4
  })
}

interface ConvCase {
  readonly layout: readonly [string, string, string]
  readonly n: number
  readonly spatial: ReadonlyArray<number>
  readonly k: ReadonlyArray<number>
  readonly i: number
  readonly og: number
  readonly fg?: number
  readonly bg?: number
  readonly strides?: ReadonlyArray<number>
  readonly padding?: ReadonlyArray<readonly [number, number]>
  readonly lhsDilation?: ReadonlyArray<number>
  readonly rhsDilation?: ReadonlyArray<number>
}

const convSetup = (c: ConvCase, dtype: DType = "float32") => {
  const rank = c.layout[0].length
  const nsp = rank - 2
  const dn = convDimensionNumbers(rank, c.layout)
  const fg = c.fg ?? 1,
    bg = c.bg ?? 1
  const xShape = new Array<number>(rank),
    wShape = new Array<number>(rank)
  ;[bg * c.n, fg * c.i, ...c.spatial].forEach((d, a) => (xShape[dn.lhsSpec[a]!] = d))
  ;[fg * bg * c.og, c.i, ...c.k].forEach((d, a) => (wShape[dn.rhsSpec[a]!] = d))
  const ones = new Array<number>(nsp).fill(1)
  const params: ConvParams = {
    windowStrides: c.strides ?? ones,
    padding: c.padding ?? ones.map(() => [0, 0] as const),
    lhsDilation: c.lhsDilation ?? ones,
    rhsDilation: c.rhsDilation ?? ones,
    dimensionNumbers: dn,
    featureGroupCount: fg,
    batchGroupCount: bg
  }
  const avals = [aval(xShape, dtype), aval(wShape, dtype)]
  return { params, avals, xShape, wShape }
}

const checkConv = (c: ConvCase, seed: number, threads = 2): TestRuntime => {
  const { params, avals, xShape, wShape } = convSetup(c)
  const t = fresh(threads)
  check(
    t,
    convKernel,
    "conv_general_dilated",
    [ints(size(xShape), seed), ints(size(wShape), seed + 1)],
    avals,
    params,
    `${c.layout}`
  )
  return t
}

const pad2 = (a: readonly [number, number], b: readonly [number, number]) => [a, b] as const

describe("wasm conv_general_dilated, every path of the im2col kernel", () => {
  it("channels-last with one group (the product is the output): run lengths around the vector limits", () => {
    // I features make a run of 4·I bytes: scalar words only (I < 4), vectors and tails, eight vectors
    // and a tail (I = 35, the last unrolled count), memory.copy/fill (I ≥ 36); padding on both sides.
    for (const i of [1, 3, 4, 5, 8, 9, 33, 35, 36, 37]) {
      checkConv(
        { layout: ["NHWC", "HWIO", "NHWC"], n: 2, spatial: [3, 4], k: [2, 3], i, og: 2, padding: pad2([1, 1], [2, 0]) },
        i
      )
    }
  })

  it("features before space (laid out channels-last first) and other output layouts", () => {
    checkConv({ layout: ["NCHW", "OIHW", "NCHW"], n: 2, spatial: [5, 4], k: [3, 2], i: 3, og: 3, strides: [2, 1] }, 1)
    checkConv({ layout: ["NCHW", "OIHW", "NCHW"], n: 2, spatial: [4, 4], k: [2, 2], i: 1, og: 2 }, 2)
    checkConv({ layout: ["NCHW", "OIHW", "NHWC"], n: 2, spatial: [3, 5], k: [2, 2], i: 2, og: 2 }, 3)
    checkConv({ layout: ["NHWC", "HWIO", "NWHC"], n: 2, spatial: [3, 5], k: [2, 2], i: 2, og: 3 }, 4)
    checkConv({ layout: ["NHWC", "HWIO", "NCHW"], n: 1, spatial: [4, 3], k: [1, 2], i: 5, og: 2 }, 5)
    checkConv({ layout: ["CNHW", "IOHW", "HWCN"], n: 3, spatial: [4, 3], k: [2, 2], i: 2, og: 2 }, 6)
    checkConv(
      {
        layout: ["HNCW", "IOWH", "CWNH"],
        n: 2,
        spatial: [5, 6],
        k: [2, 3],
        i: 2,
        og: 2,
        strides: [1, 2],
        padding: pad2([-1, 2], [2, -1]),
        lhsDilation: [2, 1],
        rhsDilation: [1, 2]
      },
      7
    )
  })

  it("strides, negative padding, lhs dilation (holes) and rhs dilation, 1 to 3 spatial axes", () => {
    checkConv(
      { layout: ["NWC", "WIO", "NWC"], n: 2, spatial: [9], k: [3], i: 4, og: 2, lhsDilation: [2], padding: [[2, 1]] },
      8
    )
    checkConv(
      { layout: ["NWC", "WIO", "NWC"], n: 1, spatial: [9], k: [2], i: 3, og: 1, rhsDilation: [3], strides: [2] },
      9
    )
    checkConv({ layout: ["NWC", "WIO", "NWC"], n: 1, spatial: [8], k: [3], i: 2, og: 2, padding: [[-2, -1]] }, 10)
    checkConv(
      {
        layout: ["NDHWC", "DHWIO", "NDHWC"],
        n: 1,
        spatial: [3, 4, 3],
        k: [2, 2, 2],
        i: 3,
        og: 2,
        strides: [1, 2, 1],
        lhsDilation: [1, 1, 2],
        rhsDilation: [2, 1, 1],
        padding: [
          [0, 1],
          [1, 0],
          [-1, 1]
        ]
      },
      11
    )
    checkConv(
      {
        layout: ["NHWC", "HWIO", "NHWC"],
        n: 2,
        spatial: [4, 5],
        k: [2, 2],
        i: 2,
        og: 2,
        lhsDilation: [2, 3],
        padding: pad2([1, 0], [0, 2])
      },
      12
    )
    // Channels last but the spatial axes only partly in order: not the product's layout.
    checkConv({ layout: ["NDHWC", "DHWIO", "NDWHC"], n: 1, spatial: [2, 3, 4], k: [1, 2, 2], i: 2, og: 2 }, 25)
    // No spatial axes: a dense layer.
    checkConv({ layout: ["NC", "IO", "NC"], n: 3, spatial: [], k: [], i: 5, og: 3 }, 13)
    checkConv({ layout: ["NC", "OI", "CN"], n: 3, spatial: [], k: [], i: 2, og: 2, fg: 2 }, 14)
  })

  it("feature groups and batch groups, in both layout kinds", () => {
    checkConv({ layout: ["NHWC", "HWIO", "NHWC"], n: 2, spatial: [4, 3], k: [2, 2], i: 3, og: 2, fg: 2 }, 15)
    checkConv({ layout: ["NCHW", "OIHW", "NCHW"], n: 2, spatial: [3, 4], k: [2, 1], i: 2, og: 1, fg: 3 }, 16)
    checkConv(
      {
        layout: ["NHWC", "HWIO", "NHWC"],
        n: 2,
        spatial: [3, 3],
        k: [2, 2],
        i: 2,
        og: 2,
        bg: 2,
        padding: pad2([1, 0], [0, 1])
      },
      17
    )
    checkConv({ layout: ["NCHW", "OIHW", "NCHW"], n: 1, spatial: [4, 3], k: [1, 2], i: 3, og: 2, bg: 3 }, 18)
    checkConv({ layout: ["NWC", "WIO", "NWC"], n: 3, spatial: [5], k: [2], i: 4, og: 3, bg: 2, strides: [2] }, 19)
  })

  it("zero input features give zeros; an empty output writes nothing; int32 falls back", () => {
    const zero = convSetup({ layout: ["NWC", "WIO", "NWC"], n: 2, spatial: [3], k: [2], i: 0, og: 3 })
    check(
      fresh(),
      convKernel,
      "conv_general_dilated",
      [new Float32Array(0), new Float32Array(0)],
      zero.avals,
      zero.params,
      "K = 0"
    )
    const empty = convSetup({ layout: ["NWC", "WIO", "NWC"], n: 0, spatial: [3], k: [2], i: 2, og: 3 })
    const t = fresh()
    const out = call(
      t,
      convKernel,
      "conv_general_dilated",
      [new Float32Array(0), ints(12, 1)],
      empty.avals,
      empty.params
    )
    assert.deepStrictEqual(out, [new Float32Array(0)])
    assert.strictEqual(t.runs.length, 0)
    const i32 = convSetup({ layout: ["NWC", "WIO", "NWC"], n: 1, spatial: [3], k: [2], i: 1, og: 1 }, "int32")
    const r = call(
      fresh(),
      convKernel,
      "conv_general_dilated",
      [new Int32Array(3), new Int32Array(2)],
      i32.avals,
      i32.params
    )
    assert.strictEqual(r, "fallback")
  })

  const im2colTasks = (t: TestRuntime): Array<number> =>
    t.runs.filter((r) => r.key.startsWith("im2col:")).map((r) => r.tasks)

  it("splits the patch rows across threads from 65536 patch words on", () => {
    // 64 × 64 positions × (2 × 2 kernel positions × 4 features) = 65536 words: 4096 rows in 3 · 4 tasks.
    const big: ConvCase = { layout: ["NHWC", "HWIO", "NHWC"], n: 1, spatial: [65, 65], k: [2, 2], i: 4, og: 1 }
    assert.deepStrictEqual(im2colTasks(checkConv(big, 20, 3)), [12, 12])
    // One position fewer along a side: 63 × 64 rows, 64512 words, one task.
    const below: ConvCase = { ...big, spatial: [64, 65] }
    assert.deepStrictEqual(im2colTasks(checkConv(below, 21, 3)), [1, 1])
    // Short runs with scalar tails (5 features) split across tasks: 58 × 58 rows of 20 words.
    const tails: ConvCase = { layout: ["NHWC", "HWIO", "NHWC"], n: 1, spatial: [59, 59], k: [2, 2], i: 5, og: 1 }
    assert.deepStrictEqual(im2colTasks(checkConv(tails, 23, 3)), [12, 12])
    // Padding at the end of every share (16 tasks of 256 rows, each ending on the right edge), short
    // runs with a scalar tail.
    const edges: ConvCase = { ...big, spatial: [64, 64], i: 5, padding: pad2([0, 1], [0, 1]) }
    assert.deepStrictEqual(im2colTasks(checkConv(edges, 24, 4)), [16, 16])
    // Two rows of 32768 words: as many tasks as rows.
    const wide: ConvCase = { layout: ["NWC", "WIO", "NWC"], n: 2, spatial: [512], k: [512], i: 64, og: 1 }
    assert.deepStrictEqual(im2colTasks(checkConv(wide, 22, 3)), [2, 2])
  })
})

// ---- reduce_window ---------------------------------------------------------------------------

interface WindowCase {
  readonly shape: ReadonlyArray<number>
  readonly window: ReadonlyArray<number>
  readonly strides?: ReadonlyArray<number>
  readonly padding?: ReadonlyArray<readonly [number, number]>
  readonly base?: ReadonlyArray<number>
  readonly dil?: ReadonlyArray<number>
}

const windowParams = (c: WindowCase, computation: ReduceWindowParams["computation"]): ReduceWindowParams => {
  const ones = c.shape.map(() => 1)
  return {
    computation,
    windowDimensions: c.window,
    windowStrides: c.strides ?? ones,
    padding: c.padding ?? ones.map(() => [0, 0] as const),
    baseDilation: c.base ?? ones,
    windowDilation: c.dil ?? ones
  }
}

/** Runs every computation on `c` (fresh runtimes) and answers the kernel keys each ran. */
const checkWindow = (c: WindowCase, seed: number, threads = 2): Array<TestRuntime> =>
  (["add", "max", "min"] as const).map((comp, j) => {
    const t = fresh(threads)
    const x = quarters(size(c.shape), seed + j, comp !== "add")
    check(
      t,
      reduceWindowKernel,
      "reduce_window",
      [x],
      [aval(c.shape, "float32")],
      windowParams(c, comp),
      `${comp} ${c.shape}`
    )
    return t
  })

/** The distinct kernel keys the runtimes ran (`check` runs each case twice). */
const poolKeys = (ts: ReadonlyArray<TestRuntime>): Array<string> =>
  ts.flatMap((t) => [...new Set(t.runs.map((r) => r.key))])

describe("wasm reduce_window: the compiled pool over channels-last features", () => {
  it("feature counts around the vector width, windows with padding and holes", () => {
    for (const C of [1, 2, 3, 4, 5, 7, 8, 13]) {
      const ts = checkWindow(
        {
          shape: [2, 4, 5, C],
          window: [1, 2, 3, 1],
          strides: [1, 2, 1, 1],
          padding: [
            [0, 0],
            [1, 0],
            [1, 1],
            [0, 0]
          ]
        },
        C
      )
      assert.deepStrictEqual(poolKeys(ts), [`pool:add:${C}:6`, `pool:max:${C}:6`, `pool:min:${C}:6`])
    }
    checkWindow(
      {
        shape: [3, 5, 6],
        window: [2, 3, 1],
        base: [2, 1, 1],
        dil: [1, 2, 1],
        padding: [
          [1, 1],
          [-1, 2],
          [0, 0]
        ]
      },
      30
    )
    const rank2 = checkWindow(
      {
        shape: [7, 4],
        window: [3, 1],
        strides: [2, 1],
        padding: [
          [2, 2],
          [0, 0]
        ]
      },
      31
    )
    assert.deepStrictEqual(poolKeys(rank2), ["pool:add:4:3", "pool:max:4:3", "pool:min:4:3"])
    // Windows entirely in padding read only identities.
    checkWindow(
      {
        shape: [2, 5],
        window: [2, 1],
        padding: [
          [3, 3],
          [0, 0]
        ]
      },
      32
    )
  })

  it("max and min keep the first of equal extremes and let NaN win, lane by lane", () => {
    const x = new Float32Array([
      -0,
      0,
      Number.NaN,
      1,
      0,
      -0,
      2,
      Number.NaN,
      5,
      5,
      -1,
      -1,
      -0,
      0,
      3,
      3,
      0,
      -0,
      2,
      Number.NaN
    ])
    for (const comp of ["max", "min"] as const) {
      for (const C of [5, 4]) {
        const shape = [x.length / C, C]
        const p = windowParams({ shape, window: [2, 1] }, comp)
        check(fresh(), reduceWindowKernel, "reduce_window", [x], [aval(shape, "float32")], p, `${comp} ${C}`)
      }
    }
  })

  it("sums in double and rounds once, lane by lane", () => {
    const x = new Float32Array([16777216, 1, 2, 3, 4, 16777216, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1])
    const shape = [3, 7]
    const p = windowParams({ shape, window: [3, 1] }, "add")
    check(fresh(), reduceWindowKernel, "reduce_window", [x], [aval(shape, "float32")], p, "add")
  })

  it("splits the rows across threads from 65536 window words on", () => {
    const tasks = (shape: ReadonlyArray<number>) => {
      const t = fresh(3)
      const p = windowParams({ shape, window: [2, 2, 1] }, "add")
      check(
        t,
        reduceWindowKernel,
        "reduce_window",
        [quarters(size(shape), 40, false)],
        [aval(shape, "float32")],
        p,
        "split"
      )
      return t.runs.map((r) => r.tasks)
    }
    // 64 × 64 rows × 4 features × 4 window rows = 65536: 4096 rows in 12 tasks.
    assert.deepStrictEqual(tasks([65, 65, 4]), [12, 12])
    assert.deepStrictEqual(tasks([64, 65, 4]), [1, 1])
    // Four rows of 16384 features: as many tasks as rows.
    assert.deepStrictEqual(tasks([3, 3, 4096]), [4, 4])
  })
})

describe("wasm reduce_window: the strided walk", () => {
  it("windows along the last axis, every kind of step, ranks 1 to 3", () => {
    checkWindow({ shape: [9], window: [3], strides: [2], padding: [[2, 1]] }, 50)
    checkWindow({ shape: [5], window: [2], base: [2], dil: [2], padding: [[1, 3]] }, 51)
    checkWindow(
      {
        shape: [3, 7],
        window: [2, 2],
        padding: [
          [1, 0],
          [-1, 2]
        ],
        dil: [2, 1]
      },
      52
    )
    checkWindow(
      {
        shape: [2, 3, 6],
        window: [1, 2, 3],
        strides: [2, 1, 2],
        base: [1, 2, 1],
        dil: [1, 1, 2],
        padding: [
          [0, 1],
          [1, 1],
          [2, 0]
        ]
      },
      53
    )
    checkWindow(
      {
        shape: [4, 5, 3],
        window: [3, 1, 2],
        base: [2, 1, 1],
        padding: [
          [2, 1],
          [0, 0],
          [0, 0]
        ]
      },
      54
    )
    checkWindow({ shape: [3], window: [2], padding: [[4, 4]], base: [2] }, 55)
  })

  it("max and min keep the first of equal extremes and let NaN win", () => {
    const x = new Float32Array([0, -0, 1, -0, 0, Number.NaN, 2, -0, -0, 0])
    for (const comp of ["max", "min"] as const) {
      const p = windowParams({ shape: [x.length], window: [2] }, comp)
      check(fresh(), reduceWindowKernel, "reduce_window", [x], [aval([x.length], "float32")], p, comp)
    }
  })

  it("a last axis that is not a unit window does not run the pool", () => {
    // Each of the pool's conditions broken alone on the last axis.
    const lastAxis: ReadonlyArray<Partial<WindowCase>> = [
      { window: [2, 2] },
      { strides: [1, 2] },
      {
        padding: [
          [0, 0],
          [1, 0]
        ]
      },
      {
        padding: [
          [0, 0],
          [0, 1]
        ]
      },
      { base: [1, 2] },
      { window: [2, 2], dil: [1, 2] }
    ]
    for (const [j, change] of lastAxis.entries()) {
      const ts = checkWindow({ shape: [3, 5], window: [2, 1], ...change }, 60 + j)
      assert.deepStrictEqual(poolKeys(ts), [], `change ${j}`)
    }
  })

  it("rank 0 copies the element; an empty output writes nothing; int32 falls back", () => {
    for (const comp of ["add", "max", "min"] as const) {
      const p: ReduceWindowParams = {
        computation: comp,
        windowDimensions: [],
        windowStrides: [],
        padding: [],
        baseDilation: [],
        windowDilation: []
      }
      check(fresh(), reduceWindowKernel, "reduce_window", [new Float32Array([-2.5])], [aval([], "float32")], p, comp)
    }
    const t = fresh()
    const p = windowParams({ shape: [2, 3], window: [3, 1] }, "max")
    assert.deepStrictEqual(
      call(t, reduceWindowKernel, "reduce_window", [quarters(6, 1, false)], [aval([2, 3], "float32")], p),
      [new Float32Array(0)]
    )
    assert.strictEqual(t.runs.length, 0)
    const r = call(fresh(), reduceWindowKernel, "reduce_window", [new Int32Array(6)], [aval([2, 3], "int32")], p)
    assert.strictEqual(r, "fallback")
  })
})
