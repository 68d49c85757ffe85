/**
 * The cpu reference kernels of `conv_general_dilated` and `reduce_window` (src/backend/cpu/conv.ts),
 * called directly (issue 16: tests that catch injected bugs), against naive references written here
 * from the definitions (a dilated, padded input read one multi-index at a time) and against a few
 * results worked out by hand: every layout kind, 0 to 3 spatial axes, strides, negative padding, lhs
 * and rhs dilation, feature and batch groups, empty operands, float32 summed in double and rounded
 * once, int32 and uint32 wrap-around, the identities of max and min per dtype, NaN and signed zeros.
 */
import { describe, expect, it } from "vitest"
import { convDimensionNumbers } from "../../src/backend/conv.ts"
import type { ConvParams, ReduceWindowParams } from "../../src/backend/conv.ts"
import { convKernel, reduceWindowKernel, windowIdentity } from "../../src/backend/cpu/conv.ts"
import { allocHost, aval } from "../../src/backend/DType.ts"
import type { DType, HostArray } from "../../src/backend/DType.ts"
import { abstractEval } from "../../src/backend/Primitive.ts"
import { sizeOf } from "../../src/backend/shape.ts"
import { naive, ravel, unravel } from "../support/multiIndex.ts"

/** mulberry32: a seeded uniform generator on [0, 1). */
const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const host = (dtype: DType, values: ArrayLike<number>): HostArray => {
  const h = allocHost(dtype, values.length)
  h.set(Array.from(values))
  return h
}

/** Values of a dtype: float32 with fractions, int32 and uint32 large enough that products wrap. */
const values = (dtype: DType, n: number, rnd: () => number): HostArray => {
  const v = Array.from({ length: n }, () => {
    const u = rnd()
    if (dtype === "float32") return (u - 0.5) * 8
    if (dtype === "int32") return Math.floor((u - 0.5) * 2 ** 32)
    return Math.floor(u * 2 ** 32)
  })
  return host(dtype, v)
}

const runConv = (
  dtype: DType,
  x: HostArray,
  xShape: ReadonlyArray<number>,
  w: HostArray,
  wShape: ReadonlyArray<number>,
  p: ConvParams
): { out: HostArray; shape: ReadonlyArray<number> } => {
  const avals = [aval(xShape, dtype), aval(wShape, dtype)]
  const outAvals = abstractEval.conv_general_dilated(avals, p)
  const out = convKernel([x, w], avals, outAvals, p)[0]!
  return { out, shape: outAvals[0]!.shape }
}

/** The convolution from its definition, one output element at a time (float32: double sums in the kernel's order). */
const convRef = (
  dtype: DType,
  x: HostArray,
  xShape: ReadonlyArray<number>,
  w: HostArray,
  wShape: ReadonlyArray<number>,
  outShape: ReadonlyArray<number>,
  p: ConvParams
): Array<number> => {
  const { lhsSpec, rhsSpec, outSpec } = p.dimensionNumbers
  const nsp = xShape.length - 2
  const fg = p.featureGroupCount,
    bg = p.batchGroupCount
  const O = wShape[rhsSpec[0]!]!,
    I = wShape[rhsSpec[1]!]!
  const perGroup = O / (fg * bg)
  const outN = outShape[outSpec[0]!]!
  const kShape = rhsSpec.slice(2).map((a) => wShape[a]!)
  return naive(outShape, (oi) => {
    const n = oi[outSpec[0]!]!,
      o = oi[outSpec[1]!]!
    const g = Math.floor(o / perGroup)
    const batch = bg > 1 ? g * outN + n : n
    const feature0 = fg > 1 ? g * I : 0
    let acc = 0
    for (let kf = 0; kf < sizeOf(kShape); kf++) {
      const k = unravel(kf, kShape)
      const src: Array<number> = []
      for (let d = 0; d < nsp; d++) {
        const pos = oi[outSpec[2 + d]!]! * p.windowStrides[d]! + k[d]! * p.rhsDilation[d]! - p.padding[d]![0]
        const ld = p.lhsDilation[d]!
        if (pos < 0 || pos % ld !== 0 || pos / ld >= xShape[lhsSpec[2 + d]!]!) break
        src.push(pos / ld)
      }
      if (src.length < nsp) continue
      for (let i = 0; i < I; i++) {
        const xi = new Array<number>(xShape.length),
          wi = new Array<number>(wShape.length)
        xi[lhsSpec[0]!] = batch
        xi[lhsSpec[1]!] = feature0 + i
        wi[rhsSpec[0]!] = o
        wi[rhsSpec[1]!] = i
        for (let d = 0; d < nsp; d++) {
          xi[lhsSpec[2 + d]!] = src[d]!
          wi[rhsSpec[2 + d]!] = k[d]!
        }
        const a = x[ravel(xi, xShape)]!,
          b = w[ravel(wi, wShape)]!
        acc = dtype === "float32" ? acc + a * b : (acc + Math.imul(a, b)) | 0
      }
    }
    return acc
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

const checkConv = (c: ConvCase, dtype: DType, seed: number): void => {
  const rank = c.layout[0].length
  const nsp = rank - 2
  const dn = convDimensionNumbers(rank, c.layout)
  const fg = c.fg ?? 1,
    bg = c.bg ?? 1
  const G = fg * bg
  const C = fg * c.i,
    O = G * c.og,
    N = bg * c.n
  const xShape = new Array<number>(rank),
    wShape = new Array<number>(rank)
  ;[N, C, ...c.spatial].forEach((d, a) => (xShape[dn.lhsSpec[a]!] = d))
  ;[O, c.i, ...c.k].forEach((d, a) => (wShape[dn.rhsSpec[a]!] = d))
  const ones = new Array<number>(nsp).fill(1)
  const p: ConvParams = {
    windowStrides: c.strides ?? ones,
    padding: c.padding ?? ones.map(() => [0, 0] as const),
    lhsDilation: c.lhsDilation ?? ones,
    rhsDilation: c.rhsDilation ?? ones,
    dimensionNumbers: dn,
    featureGroupCount: fg,
    batchGroupCount: bg
  }
  const rnd = mulberry32(seed)
  const x = values(dtype, sizeOf(xShape), rnd),
    w = values(dtype, sizeOf(wShape), rnd)
  const { out, shape } = runConv(dtype, x, xShape, w, wShape, p)
  expect(out).toBeInstanceOf(allocHost(dtype, 0).constructor)
  const want = host(dtype, convRef(dtype, x, xShape, w, wShape, shape, p))
  expect(Array.from(out)).toEqual(Array.from(want))
}

const cases: ReadonlyArray<ConvCase> = [
  { layout: ["NHWC", "HWIO", "NHWC"], n: 2, spatial: [4, 5], k: [2, 3], i: 3, og: 2 },
  { layout: ["NCHW", "OIHW", "NCHW"], n: 2, spatial: [5, 4], k: [3, 2], i: 2, og: 3, strides: [2, 1] },
  {
    layout: ["HNCW", "IOWH", "CWNH"],
    n: 2,
    spatial: [5, 6],
    k: [2, 3],
    i: 2,
    og: 2,
    strides: [1, 2],
    padding: [
      [-1, 2],
      [2, -1]
    ],
    lhsDilation: [2, 1],
    rhsDilation: [1, 2]
  },
  { layout: ["NCW", "OIW", "NCW"], n: 3, spatial: [7], k: [3], i: 2, og: 2, fg: 2, padding: [[1, 1]] },
  { layout: ["NWC", "WIO", "NWC"], n: 2, spatial: [6], k: [2], i: 2, og: 3, bg: 2, lhsDilation: [3] },
  {
    layout: ["NCHW", "OIHW", "NHWC"],
    n: 1,
    spatial: [4, 4],
    k: [2, 2],
    i: 1,
    og: 2,
    bg: 3,
    rhsDilation: [2, 1],
    padding: [
      [1, 0],
      [0, 2]
    ]
  },
  { layout: ["NC", "OI", "NC"], n: 3, spatial: [], k: [], i: 4, og: 3 },
  { layout: ["NC", "IO", "CN"], n: 2, spatial: [], k: [], i: 2, og: 2, fg: 2 },
  {
    layout: ["NCDHW", "DHWIO", "NDHWC"],
    n: 1,
    spatial: [3, 4, 3],
    k: [2, 2, 2],
    i: 2,
    og: 2,
    strides: [1, 2, 1],
    lhsDilation: [1, 1, 2],
    padding: [
      [0, 1],
      [1, 0],
      [-1, 1]
    ]
  },
  { layout: ["NHWC", "HWIO", "NHWC"], n: 2, spatial: [3, 3], k: [1, 1], i: 1, og: 1, fg: 1 }
]

describe("conv_general_dilated equals its definition", () => {
  for (const [ci, c] of cases.entries()) {
    for (const dtype of ["float32", "int32", "uint32"] as const) {
      it(`case ${ci} (${c.layout.join(",")}) in ${dtype}`, () => checkConv(c, dtype, 100 * ci + dtype.length))
    }
  }

  it("a 1-D convolution worked out by hand: padding, stride and dilation", () => {
    // x = [1, 2, 3, 4, 5], w = [1, 10], padding [1, 2], lhs dilation 2 (x reads 1 0 2 0 3 0 4 0 5),
    // stride 3: windows start at positions -1, 2, 5, 8 of the dilated input.
    const dn = convDimensionNumbers(3, ["NCW", "OIW", "NCW"])
    const p: ConvParams = {
      windowStrides: [3],
      padding: [[1, 2]],
      lhsDilation: [2],
      rhsDilation: [1],
      dimensionNumbers: dn,
      featureGroupCount: 1,
      batchGroupCount: 1
    }
    const { out, shape } = runConv(
      "float32",
      host("float32", [1, 2, 3, 4, 5]),
      [1, 1, 5],
      host("float32", [1, 10]),
      [1, 1, 2],
      p
    )
    expect(shape).toEqual([1, 1, 4])
    // windows: [pad, 1] → 10; [2, 0] → 2; [0, 4] → 40; [5, pad] → 5
    expect(Array.from(out)).toEqual([10, 2, 40, 5])
  })

  it("rounds a float32 sum once, from double", () => {
    const dn = convDimensionNumbers(3, ["NWC", "WIO", "NWC"])
    const p: ConvParams = {
      windowStrides: [1],
      padding: [[0, 0]],
      lhsDilation: [1],
      rhsDilation: [1],
      dimensionNumbers: dn,
      featureGroupCount: 1,
      batchGroupCount: 1
    }
    // 2^24 + 1 + 1: in float32 step by step each +1 is lost; in double the sum is exact.
    const { out } = runConv(
      "float32",
      host("float32", [16777216, 1, 1]),
      [1, 3, 1],
      host("float32", [1, 1, 1]),
      [3, 1, 1],
      p
    )
    expect(Array.from(out)).toEqual([16777218])
  })

  it("wraps int32 products and sums", () => {
    const dn = convDimensionNumbers(2, ["NC", "OI", "NC"])
    const p: ConvParams = {
      windowStrides: [],
      padding: [],
      lhsDilation: [],
      rhsDilation: [],
      dimensionNumbers: dn,
      featureGroupCount: 1,
      batchGroupCount: 1
    }
    const { out } = runConv("int32", host("int32", [65536, 2147483647]), [1, 2], host("int32", [65536, 2]), [1, 2], p)
    // 65536² wraps to 0; 2147483647 · 2 wraps to -2.
    expect(Array.from(out)).toEqual([-2])
  })

  it("gives zeros with no input features, and nothing for an empty output", () => {
    const dn = convDimensionNumbers(3, ["NCW", "OIW", "NCW"])
    const p: ConvParams = {
      windowStrides: [1],
      padding: [[0, 0]],
      lhsDilation: [1],
      rhsDilation: [1],
      dimensionNumbers: dn,
      featureGroupCount: 1,
      batchGroupCount: 1
    }
    const zero = runConv("float32", host("float32", []), [2, 0, 3], host("float32", []), [2, 0, 2], p)
    expect(zero.shape).toEqual([2, 2, 2])
    expect(Array.from(zero.out)).toEqual(new Array(8).fill(0))
    const empty = runConv("float32", host("float32", []), [0, 1, 3], host("float32", [1, 2, 3, 4]), [2, 1, 2], p)
    expect(empty.shape).toEqual([0, 2, 2])
    expect(empty.out.length).toBe(0)
    const narrow = runConv("float32", host("float32", [1, 2]), [1, 1, 2], host("float32", [1, 2, 3]), [1, 1, 3], p)
    expect(narrow.shape).toEqual([1, 1, 0])
    expect(narrow.out.length).toBe(0)
  })
})

// ---- reduce_window ---------------------------------------------------------------------------

const runWindow = (
  dtype: DType,
  x: HostArray,
  shape: ReadonlyArray<number>,
  p: ReduceWindowParams
): { out: HostArray; shape: ReadonlyArray<number> } => {
  const avals = [aval(shape, dtype)]
  const outAvals = abstractEval.reduce_window(avals, p)
  return { out: reduceWindowKernel([x], avals, outAvals, p)[0]!, shape: outAvals[0]!.shape }
}

/** reduce_window from its definition: the window's elements in row-major order, holes and padding read the identity. */
const windowRef = (
  dtype: DType,
  x: HostArray,
  shape: ReadonlyArray<number>,
  outShape: ReadonlyArray<number>,
  p: ReduceWindowParams
): Array<number> => {
  const id =
    p.computation === "add"
      ? 0
      : dtype === "float32"
        ? p.computation === "max"
          ? -Infinity
          : Infinity
        : dtype === "int32"
          ? p.computation === "max"
            ? -(2 ** 31)
            : 2 ** 31 - 1
          : dtype === "uint32"
            ? p.computation === "max"
              ? 0
              : 2 ** 32 - 1
            : p.computation === "max"
              ? 0
              : 1
  return naive(outShape, (oi) => {
    let acc = id
    for (let kf = 0; kf < sizeOf(p.windowDimensions); kf++) {
      const k = unravel(kf, p.windowDimensions)
      let v = id
      const src: Array<number> = []
      for (let d = 0; d < shape.length; d++) {
        const pos = oi[d]! * p.windowStrides[d]! + k[d]! * p.windowDilation[d]! - p.padding[d]![0]
        const bd = p.baseDilation[d]!
        if (pos < 0 || pos % bd !== 0 || pos / bd >= shape[d]!) break
        src.push(pos / bd)
      }
      if (src.length === shape.length) v = x[ravel(src, shape)]!
      if (p.computation === "add") acc = dtype === "float32" ? acc + v : (acc + v) | 0
      else if (Number.isNaN(acc)) continue
      else if (Number.isNaN(v) || (p.computation === "max" ? v > acc : v < acc)) acc = v
    }
    return acc
  })
}

interface WindowCase {
  readonly shape: ReadonlyArray<number>
  readonly window: ReadonlyArray<number>
  readonly strides?: ReadonlyArray<number>
  readonly padding?: ReadonlyArray<readonly [number, number]>
  readonly base?: ReadonlyArray<number>
  readonly dil?: ReadonlyArray<number>
}

const windowCases: ReadonlyArray<WindowCase> = [
  { shape: [5], window: [2] },
  { shape: [7], window: [3], strides: [2], padding: [[2, 1]] },
  {
    shape: [3, 4],
    window: [2, 2],
    padding: [
      [1, 1],
      [0, 2]
    ],
    base: [2, 1]
  },
  {
    shape: [4, 5],
    window: [3, 2],
    strides: [1, 2],
    dil: [2, 1],
    padding: [
      [-1, 2],
      [1, 0]
    ]
  },
  {
    shape: [2, 3, 4],
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
  { shape: [3], window: [2], padding: [[3, 3]], base: [2] }
]

const windowData = (dtype: DType, n: number, rnd: () => number): HostArray => {
  const v = Array.from({ length: n }, () => {
    const u = rnd()
    if (dtype === "float32") {
      if (u < 0.08) return Number.NaN
      if (u < 0.16) return -0
      if (u < 0.24) return 0
      return Math.round((u - 0.5) * 12) / 4
    }
    if (dtype === "int32") return Math.floor((u - 0.5) * 2 ** 32)
    if (dtype === "uint32") return Math.floor(u * 2 ** 32)
    return u < 0.5 ? 1 : 0
  })
  return host(dtype, v)
}

describe("reduce_window equals its definition", () => {
  for (const [ci, c] of windowCases.entries()) {
    const ones = c.shape.map(() => 1)
    const p = (computation: ReduceWindowParams["computation"]): ReduceWindowParams => ({
      computation,
      windowDimensions: c.window,
      windowStrides: c.strides ?? ones,
      padding: c.padding ?? ones.map(() => [0, 0] as const),
      baseDilation: c.base ?? ones,
      windowDilation: c.dil ?? ones
    })
    for (const dtype of ["float32", "int32", "uint32", "bool"] as const) {
      for (const comp of ["add", "max", "min"] as const) {
        if (dtype === "bool" && comp === "add") continue
        it(`case ${ci} ${comp} in ${dtype}`, () => {
          const rnd = mulberry32(1000 + 10 * ci + dtype.length)
          const x = windowData(dtype, sizeOf(c.shape), rnd)
          const { out, shape } = runWindow(dtype, x, c.shape, p(comp))
          expect(out).toBeInstanceOf(allocHost(dtype, 0).constructor)
          expect(Array.from(out)).toEqual(Array.from(host(dtype, windowRef(dtype, x, c.shape, shape, p(comp)))))
        })
      }
    }
  }

  const p1 = (computation: ReduceWindowParams["computation"], window: number, pad = 0): ReduceWindowParams => ({
    computation,
    windowDimensions: [window],
    windowStrides: [1],
    padding: [[pad, pad]],
    baseDilation: [1],
    windowDilation: [1]
  })
  const f = (comp: ReduceWindowParams["computation"], xs: ReadonlyArray<number>, window: number, pad = 0) =>
    Array.from(runWindow("float32", host("float32", xs), [xs.length], p1(comp, window, pad)).out)

  it("keeps the first of equal extremes (signed zeros) and lets NaN win", () => {
    expect(f("max", [-0, 0, -0], 2).map((v) => Object.is(v, -0))).toEqual([true, false])
    expect(f("min", [0, -0, 0], 2).map((v) => Object.is(v, 0))).toEqual([true, false])
    expect(f("max", [Number.NaN, 5, 1], 2)).toEqual([Number.NaN, 5])
    expect(f("max", [1, Number.NaN, 7], 2)).toEqual([Number.NaN, Number.NaN])
    expect(f("min", [Number.NaN, -5, 1], 2)).toEqual([Number.NaN, -5])
    expect(f("min", [1, Number.NaN, -7], 2)).toEqual([Number.NaN, Number.NaN])
    expect(f("max", [-3, -1, -2], 2, 1)).toEqual([-3, -1, -1, -2])
    expect(f("min", [3, 1, 2], 2, 1)).toEqual([3, 1, 1, 2])
    expect(f("add", [1.5, -2, 4], 3, 1)).toEqual([-0.5, 3.5, 2])
  })

  it("sums float32 in double and rounds once; wraps integers", () => {
    expect(f("add", [16777216, 1, 1], 3)).toEqual([16777218])
    const i = runWindow("int32", host("int32", [2147483647, 1, 2]), [3], p1("add", 2)).out
    expect(Array.from(i)).toEqual([-2147483648, 3])
    const u = runWindow("uint32", host("uint32", [4294967295, 2, 3]), [3], p1("add", 2)).out
    expect(Array.from(u)).toEqual([1, 5])
  })

  it("reads the identity of each dtype where the window is all padding", () => {
    for (const dtype of ["float32", "int32", "uint32", "bool"] as const) {
      for (const comp of ["max", "min"] as const) {
        const { out } = runWindow(dtype, host(dtype, [1]), [1], p1(comp, 1, 1))
        expect(Array.from(out)).toEqual([windowIdentity(comp, dtype), 1, windowIdentity(comp, dtype)])
      }
    }
    expect(windowIdentity("add", "float32")).toBe(0)
    expect(windowIdentity("add", "int32")).toBe(0)
    expect(windowIdentity("max", "float32")).toBe(-Infinity)
    expect(windowIdentity("min", "float32")).toBe(Infinity)
    expect(windowIdentity("max", "int32")).toBe(-2147483648)
    expect(windowIdentity("min", "int32")).toBe(2147483647)
    expect(windowIdentity("max", "uint32")).toBe(0)
    expect(windowIdentity("min", "uint32")).toBe(4294967295)
    expect(windowIdentity("max", "bool")).toBe(0)
    expect(windowIdentity("min", "bool")).toBe(1)
  })

  it("handles rank 0 and empty outputs", () => {
    const p0: ReduceWindowParams = {
      computation: "max",
      windowDimensions: [],
      windowStrides: [],
      padding: [],
      baseDilation: [],
      windowDilation: []
    }
    expect(Array.from(runWindow("float32", host("float32", [2.5]), [], p0).out)).toEqual([2.5])
    expect(Array.from(runWindow("float32", host("float32", [2.5]), [], { ...p0, computation: "add" }).out)).toEqual([
      2.5
    ])
    const empty = runWindow("float32", host("float32", [1, 2]), [2], p1("add", 3))
    expect(empty.shape).toEqual([0])
    expect(empty.out.length).toBe(0)
    const empty2 = runWindow("float32", host("float32", []), [0, 3], {
      ...p1("max", 1),
      windowDimensions: [1, 1],
      windowStrides: [1, 1],
      padding: [
        [0, 0],
        [0, 0]
      ],
      baseDilation: [1, 1],
      windowDilation: [1, 1]
    })
    expect(empty2.out.length).toBe(0)
  })
})
