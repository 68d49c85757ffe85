/**
 * `conv_general_dilated` and `reduce_window` against JAX (test/goldens/conv.json, written by
 * tools/goldens/conv.py): values, gradients w.r.t. both operands, JVPs and vmap, on every backend
 * project (cpu, wasm, wasm:1). Also: the kernel against a naive reference over random configurations,
 * jit against eager, finite differences, and every error the front end and shape inference raise.
 */
import { fc, test } from "@fast-check/vitest"
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { grad, jit, jnp, jvp, lax, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { abstractEval } from "../../src/backend/Primitive.ts"

interface Result {
  readonly shape: ReadonlyArray<number>
  readonly dtype: string
  readonly data: ReadonlyArray<number | null>
  readonly special?: Record<string, string>
}
type Pads = string | ReadonlyArray<readonly [number, number]>
interface ConvCase {
  readonly name: string
  readonly strides: ReadonlyArray<number>
  readonly padding: Pads
  readonly lhsDilation: ReadonlyArray<number> | null
  readonly rhsDilation: ReadonlyArray<number> | null
  readonly dimensionNumbers: readonly [string, string, string] | null
  readonly featureGroupCount: number
  readonly batchGroupCount: number
  readonly lhs: Result
  readonly rhs: Result
  readonly out: Result
  readonly w: Result
  readonly gradLhs: Result
  readonly gradRhs: Result
}
interface RwCase {
  readonly name: string
  readonly computation: "add" | "max" | "min"
  readonly init: number | null
  readonly windowDimensions: ReadonlyArray<number>
  readonly windowStrides: ReadonlyArray<number>
  readonly padding: Pads
  readonly baseDilation: ReadonlyArray<number> | null
  readonly windowDilation: ReadonlyArray<number> | null
  readonly x: Result
  readonly out: Result
  readonly w: Result
  readonly grad: Result | null
  readonly t: Result
  readonly jvp: Result | null
}
interface Goldens {
  readonly conv: ReadonlyArray<ConvCase>
  readonly convTranspose: ReadonlyArray<{
    readonly name: string
    readonly strides: ReadonlyArray<number>
    readonly padding: Pads
    readonly transposeKernel: boolean
    readonly useConsistentPadding: boolean
    readonly rhsDilation: ReadonlyArray<number> | null
    readonly lhs: Result
    readonly rhs: Result
    readonly out: Result
  }>
  readonly reduceWindow: ReadonlyArray<RwCase>
  readonly vmap: ReadonlyArray<{
    readonly name: string
    readonly inAxes: readonly [number | null, number | null]
    readonly featureGroupCount?: number
    readonly batchGroupCount?: number
    readonly lhs: Result
    readonly rhs: Result
    readonly out: Result
  }>
}

const goldens = JSON.parse(readFileSync(new URL("../goldens/conv.json", import.meta.url), "utf8")) as Goldens

const values = (r: Result): Array<number> =>
  r.data.map((v, i) => {
    const s = r.special?.[String(i)]
    return s === undefined ? Number(v) : s === "nan" ? NaN : s === "inf" ? Infinity : -Infinity
  })
const arr = (r: Result): JArray => jnp.reshape(jnp.array(values(r), { dtype: "float32" }), r.shape)

const close = (got: JArray, want: Result | JArray, tol = 1e-4): void => {
  const w =
    "data" in want && typeof want.data !== "function" ? values(want as Result) : Array.from((want as JArray).dataSync())
  expect(got.shape).toEqual([...want.shape])
  const g = Array.from(got.dataSync())
  g.forEach((v, i) => {
    const e = w[i]!
    if (!Number.isFinite(e)) return expect(v).toBe(e)
    if (Math.abs(v - e) > tol * (1 + Math.abs(e))) throw new Error(`element ${i}: got ${v}, expected ${e}`)
  })
}

const padding = (p: Pads): lax.ConvPadding => (typeof p === "string" ? (p as "SAME") : p)

const convOf =
  (c: ConvCase) =>
  (l: JArray, r: JArray): JArray =>
    lax.convGeneralDilated(l, r, c.strides, padding(c.padding), {
      lhsDilation: c.lhsDilation ?? undefined,
      rhsDilation: c.rhsDilation ?? undefined,
      dimensionNumbers: c.dimensionNumbers,
      featureGroupCount: c.featureGroupCount,
      batchGroupCount: c.batchGroupCount
    })

describe("conv_general_dilated against JAX", () => {
  for (const c of goldens.conv) {
    it(`${c.name}: value and gradients of both operands`, () => {
      const f = convOf(c)
      const l = arr(c.lhs),
        r = arr(c.rhs),
        w = arr(c.w)
      close(f(l, r), c.out)
      const [gl, gr] = grad((a: JArray, b: JArray) => jnp.sum(jnp.multiply(f(a, b), w)), { argnums: [0, 1] })(
        l,
        r
      ) as unknown as [JArray, JArray]
      close(gl, c.gradLhs)
      close(gr, c.gradRhs)
    })
  }

  for (const c of goldens.convTranspose) {
    it(`conv_transpose ${c.name}`, () => {
      const out = lax.convTranspose(arr(c.lhs), arr(c.rhs), c.strides, padding(c.padding) as "SAME", {
        rhsDilation: c.rhsDilation ?? undefined,
        transposeKernel: c.transposeKernel,
        useConsistentPadding: c.useConsistentPadding
      })
      close(out, c.out)
    })
  }

  for (const c of goldens.vmap) {
    it(`vmap ${c.name}`, () => {
      const f = (l: JArray, r: JArray): JArray =>
        lax.convGeneralDilated(l, r, [1, 1], c.batchGroupCount === undefined ? "SAME" : "VALID", {
          featureGroupCount: c.featureGroupCount ?? 1,
          batchGroupCount: c.batchGroupCount ?? 1
        })
      close(vmap(f, { inAxes: c.inAxes })(arr(c.lhs), arr(c.rhs)), c.out)
    })
  }
})

const rwOf =
  (c: RwCase) =>
  (x: JArray): JArray =>
    lax.reduceWindow(
      x,
      c.init ?? (c.computation === "add" ? 0 : c.computation === "max" ? -Infinity : Infinity),
      c.computation,
      c.windowDimensions,
      c.windowStrides,
      padding(c.padding),
      {
        baseDilation: c.baseDilation ?? undefined,
        windowDilation: c.windowDilation ?? undefined
      }
    )

describe("reduce_window against JAX", () => {
  for (const c of goldens.reduceWindow) {
    it(`${c.name}: value, gradient and JVP (ties go to the first window element)`, () => {
      const f = rwOf(c)
      const x = arr(c.x)
      close(f(x), c.out)
      if (c.grad !== null) close(grad((a: JArray) => jnp.sum(jnp.multiply(f(a), arr(c.w))))(x), c.grad)
      if (c.jvp !== null) close(jvp(f, [x], [arr(c.t)])[1] as JArray, c.jvp)
    })
  }

  it("lax.max / lax.add as the computation", () => {
    const x = jnp.reshape(jnp.arange(12).astype("float32"), [3, 4])
    close(
      lax.reduceWindow(x, -Infinity, lax.max, [2, 2], [1, 2], "VALID"),
      lax.reduceWindow(x, -Infinity, "max", [2, 2], [1, 2], "VALID")
    )
    close(lax.reduceWindow(x, 0, lax.add, [3, 1], [1, 1], "VALID"), jnp.sum(x, 0, { keepdims: true }))
  })

  it("int32 operands reduce exactly", () => {
    const x = jnp.reshape(jnp.arange(10), [2, 5])
    expect(lax.reduceWindow(x, 0, "add", [1, 2], [1, 1], "VALID").tolist()).toEqual([
      [1, 3, 5, 7],
      [11, 13, 15, 17]
    ])
    expect(lax.reduceWindow(x, -2147483648, "max", [2, 3], [1, 2], "SAME").tolist()).toEqual([
      [6, 8, 9],
      [6, 8, 9]
    ])
  })
})

// ---------------------------------------------------------------------------------------------
// Kernel against a naive reference

/** A straight-from-the-definition NHWC/HWIO convolution over plain numbers. */
const naiveConv = (
  x: ReadonlyArray<number>,
  xs: ReadonlyArray<number>,
  w: ReadonlyArray<number>,
  ws: ReadonlyArray<number>,
  strides: ReadonlyArray<number>,
  pads: ReadonlyArray<readonly [number, number]>,
  ld: ReadonlyArray<number>,
  rd: ReadonlyArray<number>,
  fg: number
): { shape: Array<number>; data: Array<number> } => {
  const [N, H, W, C] = xs as [number, number, number, number]
  const [KH, KW, I, O] = ws as [number, number, number, number]
  const dil = (n: number, d: number) => (n === 0 ? 0 : (n - 1) * d + 1)
  const oh = Math.max(0, Math.floor((dil(H, ld[0]!) + pads[0]![0] + pads[0]![1] - dil(KH, rd[0]!)) / strides[0]!) + 1)
  const ow = Math.max(0, Math.floor((dil(W, ld[1]!) + pads[1]![0] + pads[1]![1] - dil(KW, rd[1]!)) / strides[1]!) + 1)
  const out: Array<number> = []
  for (let n = 0; n < N; n++)
    for (let y = 0; y < oh; y++)
      for (let z = 0; z < ow; z++)
        for (let o = 0; o < O; o++) {
          const g = Math.floor(o / (O / fg))
          let s = 0
          for (let a = 0; a < KH; a++)
            for (let b = 0; b < KW; b++) {
              const py = y * strides[0]! + a * rd[0]! - pads[0]![0],
                pz = z * strides[1]! + b * rd[1]! - pads[1]![0]
              if (py < 0 || pz < 0 || py % ld[0]! !== 0 || pz % ld[1]! !== 0) continue
              const iy = py / ld[0]!,
                iz = pz / ld[1]!
              if (iy >= H || iz >= W) continue
              for (let i = 0; i < I; i++)
                s += x[((n * H + iy) * W + iz) * C + g * I + i]! * w[((a * KW + b) * I + i) * O + o]!
            }
          out.push(s)
        }
  return { shape: [N, oh, ow, O], data: out }
}

const config = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 7 }),
  w: fc.integer({ min: 1, max: 7 }),
  groups: fc.integer({ min: 1, max: 3 }),
  i: fc.integer({ min: 1, max: 3 }),
  og: fc.integer({ min: 1, max: 3 }),
  kh: fc.integer({ min: 1, max: 3 }),
  kw: fc.integer({ min: 1, max: 3 }),
  strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  ld: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  rd: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  pads: fc.tuple(
    fc.tuple(fc.integer({ min: -1, max: 2 }), fc.integer({ min: -1, max: 2 })),
    fc.tuple(fc.integer({ min: -1, max: 2 }), fc.integer({ min: 0, max: 2 }))
  ),
  seed: fc.integer({ min: 0, max: 1000 })
})

const pseudo = (n: number, seed: number): Array<number> =>
  Array.from({ length: n }, (_, k) => Math.fround(Math.sin(seed * 13.1 + k * 7.7) * 2))

describe("the convolution kernel against a naive reference", () => {
  test.prop([config], { numRuns: 60 })("random shapes, strides, dilations, paddings and groups", (c) => {
    const C = c.groups * c.i,
      O = c.groups * c.og
    const xs = [c.n, c.h, c.w, C],
      ws = [c.kh, c.kw, c.i, O]
    const xd = pseudo(
        xs.reduce((a, b) => a * b),
        c.seed
      ),
      wd = pseudo(
        ws.reduce((a, b) => a * b),
        c.seed + 1
      )
    const want = naiveConv(xd, xs, wd, ws, c.strides, c.pads, c.ld, c.rd, c.groups)
    const got = lax.convGeneralDilated(
      jnp.reshape(jnp.array(xd, { dtype: "float32" }), xs),
      jnp.reshape(jnp.array(wd, { dtype: "float32" }), ws),
      c.strides,
      c.pads,
      { lhsDilation: c.ld, rhsDilation: c.rd, dimensionNumbers: ["NHWC", "HWIO", "NHWC"], featureGroupCount: c.groups }
    )
    expect(got.shape).toEqual(want.shape)
    const g = got.dataSync()
    want.data.forEach((v, k) => expect(Math.abs(g[k]! - v)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(v))))
  })

  test.prop([config], { numRuns: 20 })("the same convolution in NCHW/OIHW layout", (c) => {
    const C = c.groups * c.i,
      O = c.groups * c.og
    const x = jnp.reshape(jnp.array(pseudo(c.n * c.h * c.w * C, c.seed), { dtype: "float32" }), [c.n, c.h, c.w, C])
    const w = jnp.reshape(jnp.array(pseudo(c.kh * c.kw * c.i * O, c.seed + 1), { dtype: "float32" }), [
      c.kh,
      c.kw,
      c.i,
      O
    ])
    const opts = { lhsDilation: c.ld, rhsDilation: c.rd, featureGroupCount: c.groups }
    const nhwc = lax.convGeneralDilated(x, w, c.strides, c.pads, {
      ...opts,
      dimensionNumbers: ["NHWC", "HWIO", "NHWC"]
    })
    const nchw = lax.convGeneralDilated(
      jnp.transpose(x, [0, 3, 1, 2]),
      jnp.transpose(w, [3, 2, 0, 1]),
      c.strides,
      c.pads,
      opts
    )
    close(jnp.transpose(nchw, [0, 2, 3, 1]), nhwc, 1e-5)
  })

  it("int32 convolutions are exact", () => {
    const x = jnp.reshape(jnp.arange(2 * 3 * 5), [2, 3, 5])
    const w = jnp.reshape(jnp.arange(4 * 3 * 2), [4, 3, 2])
    const got = lax.convGeneralDilated(x, w, [1], "VALID")
    const want = lax.convGeneralDilated(x.astype("float32"), w.astype("float32"), [1], "VALID")
    expect(got.dtype).toBe("int32")
    expect(got.tolist()).toEqual(want.astype("int32").tolist())
  })

  it("empty outputs and empty contractions", () => {
    expect(lax.conv(jnp.zeros([0, 2, 4]), jnp.ones([3, 2, 2]), [1], "VALID").shape).toEqual([0, 3, 3])
    expect(lax.conv(jnp.ones([1, 2, 2]), jnp.ones([3, 2, 3]), [1], "VALID").shape).toEqual([1, 3, 0])
    close(lax.conv(jnp.ones([1, 0, 4]), jnp.ones([3, 0, 2]), [1], "VALID"), jnp.zeros([1, 3, 3]))
  })
})

// ---------------------------------------------------------------------------------------------
// Transforms

describe("transforms of convolutions", () => {
  const x = jnp.reshape(jnp.array(pseudo(2 * 6 * 5 * 4, 3), { dtype: "float32" }), [2, 6, 5, 4])
  const w = jnp.reshape(jnp.array(pseudo(3 * 2 * 2 * 6, 4), { dtype: "float32" }), [3, 2, 2, 6])
  const f = (a: JArray, b: JArray): JArray =>
    lax.convGeneralDilated(
      a,
      b,
      [2, 1],
      [
        [1, 0],
        [2, 1]
      ],
      {
        lhsDilation: [1, 2],
        rhsDilation: [2, 1],
        dimensionNumbers: ["NHWC", "HWIO", "NHWC"],
        featureGroupCount: 2
      }
    )
  const loss = (a: JArray, b: JArray): JArray => jnp.sum(jnp.tanh(f(a, b)))

  it("jit equals eager, for the value and both gradients", () => {
    close(jit(f)(x, w), f(x, w), 1e-5)
    const g = grad(loss, { argnums: [0, 1] }) as unknown as (a: JArray, b: JArray) => [JArray, JArray]
    const [ja, jb] = jit(g)(x, w),
      [ea, eb] = g(x, w)
    close(ja, ea, 1e-5)
    close(jb, eb, 1e-5)
  })

  it("gradients match central finite differences", () => {
    const [ga, gb] = (grad(loss, { argnums: [0, 1] }) as unknown as (a: JArray, b: JArray) => [JArray, JArray])(x, w)
    const eps = 1e-2
    const probe = (which: 0 | 1, k: number): number => {
      const base = which === 0 ? x : w
      const flat = Array.from(base.dataSync())
      const at = (d: number) => {
        const v = flat.slice()
        v[k] = v[k]! + d
        const moved = jnp.reshape(jnp.array(v, { dtype: "float32" }), base.shape)
        return Number((which === 0 ? loss(moved, w) : loss(x, moved)).item())
      }
      return (at(eps) - at(-eps)) / (2 * eps)
    }
    for (const k of [0, 7, 33, 101, 239]) expect(Math.abs(ga.dataSync()[k]! - probe(0, k))).toBeLessThan(2e-2)
    for (const k of [0, 5, 17, 42, 71]) expect(Math.abs(gb.dataSync()[k]! - probe(1, k))).toBeLessThan(2e-2)
  })

  it("vmap of grad gives per-example kernel gradients", () => {
    const per = vmap((a: JArray) => grad((b: JArray) => loss(jnp.expandDims(a, 0), b))(w))(x)
    expect(per.shape).toEqual([2, ...w.shape])
    close(jnp.sum(per, 0), grad((b: JArray) => loss(x, b))(w), 1e-4)
  })

  it("batch groups differentiate (the kernel gradient of a depthwise conv)", () => {
    const h = (a: JArray, b: JArray): JArray => lax.convGeneralDilated(a, b, [1, 1], "VALID", { batchGroupCount: 2 })
    const a = jnp.reshape(jnp.array(pseudo(4 * 2 * 4 * 4, 9), { dtype: "float32" }), [4, 2, 4, 4])
    const b = jnp.reshape(jnp.array(pseudo(4 * 2 * 2 * 2, 8), { dtype: "float32" }), [4, 2, 2, 2])
    const [gaJ, gbJ] = (
      jit(grad((p: JArray, q: JArray) => jnp.sum(jnp.square(h(p, q))), { argnums: [0, 1] })) as unknown as (
        p: JArray,
        q: JArray
      ) => [JArray, JArray]
    )(a, b)
    expect(gaJ.shape).toEqual(a.shape)
    expect(gbJ.shape).toEqual(b.shape)
  })

  it("jit of a pooled, strided network equals eager", () => {
    const net = (a: JArray, b: JArray): JArray =>
      lax.reduceWindow(jnp.maximum(f(a, b), 0), -Infinity, "max", [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
    close(jit(net)(x, w), net(x, w), 1e-5)
    const g = grad((a: JArray) => jnp.sum(net(a, w)))
    close(jit(g)(x), g(x), 1e-5)
  })
})

// ---------------------------------------------------------------------------------------------
// Errors

const message = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    return `${(e as { _tag?: string })._tag}: ${(e as Error).message}`
  }
  throw new Error("expected an error")
}

describe("convolution and window errors", () => {
  const x = jnp.ones([1, 4, 5, 5]),
    w = jnp.ones([6, 4, 3, 3])
  it.each([
    ["rank mismatch", () => lax.conv(x, jnp.ones([6, 4, 3]), [1, 1], "SAME"), "ShapeError: .*same rank"],
    ["rank below 2", () => lax.conv(jnp.ones([3]), jnp.ones([3]), [], "SAME"), "ShapeError: .*at least 2"],
    [
      "feature mismatch",
      () => lax.conv(x, jnp.ones([6, 3, 3, 3]), [1, 1], "SAME"),
      "ShapeError: .*lhs feature size 4 divided by featureGroupCount 1 must equal the rhs input-feature size 3"
    ],
    [
      "groups not dividing lhs features",
      () => lax.convGeneralDilated(x, jnp.ones([6, 1, 3, 3]), [1, 1], "SAME", { featureGroupCount: 3 }),
      "ShapeError: .*featureGroupCount 3 does not divide the lhs feature size 4"
    ],
    [
      "groups not dividing out features",
      () => lax.convGeneralDilated(x, jnp.ones([3, 2, 3, 3]), [1, 1], "SAME", { featureGroupCount: 2 }),
      "ShapeError: .*featureGroupCount 2 does not divide the rhs output-feature size 3"
    ],
    [
      "batch groups not dividing batch",
      () => lax.convGeneralDilated(x, w, [1, 1], "SAME", { batchGroupCount: 2 }),
      "ShapeError: .*batchGroupCount 2 does not divide the lhs batch size 1"
    ],
    [
      "batch groups not dividing out features",
      () =>
        lax.convGeneralDilated(jnp.ones([2, 4, 5, 5]), jnp.ones([5, 4, 3, 3]), [1, 1], "SAME", { batchGroupCount: 2 }),
      "ShapeError: .*batchGroupCount 2 does not divide the rhs output-feature size 5"
    ],
    [
      "both group kinds",
      () =>
        lax.convGeneralDilated(jnp.ones([2, 4, 5, 5]), jnp.ones([4, 2, 3, 3]), [1, 1], "SAME", {
          batchGroupCount: 2,
          featureGroupCount: 2
        }),
      "ArgumentError: .*cannot both exceed 1"
    ],
    [
      "zero groups",
      () => lax.convGeneralDilated(x, w, [1, 1], "SAME", { featureGroupCount: 0 }),
      "ArgumentError: .*positive integers, got 0 and 1"
    ],
    [
      "strides length",
      () => lax.conv(x, w, [1], "SAME"),
      "ArgumentError: .*windowStrides has 1 entries but there are 2 spatial"
    ],
    [
      "non-positive strides",
      () => lax.conv(x, w, [0, 1], "VALID"),
      "ArgumentError: .*windowStrides must be positive integers"
    ],
    [
      "dilation length",
      () => lax.convGeneralDilated(x, w, [1, 1], "VALID", { rhsDilation: [1] }),
      "ArgumentError: .*rhsDilation has 1 entries"
    ],
    [
      "padding pairs",
      () => lax.conv(x, w, [1, 1], [[1, 1]]),
      "ArgumentError: .*padding has 1 pairs but there are 2 spatial"
    ],
    ["padding rule", () => lax.conv(x, w, [1, 1], "FULL" as "SAME"), 'ArgumentError: .*padding "FULL" is not'],
    [
      "dimension numbers length",
      () => lax.convGeneralDilated(x, w, [1, 1], "SAME", { dimensionNumbers: ["NHW", "HWIO", "NHWC"] }),
      'ArgumentError: .*"NHW" has 3 letters'
    ],
    [
      "dimension numbers letter",
      () => lax.convGeneralDilated(x, w, [1, 1], "SAME", { dimensionNumbers: ["NHWX", "HWIO", "NHWC"] }),
      'ArgumentError: .*"NHWX" has no "C"'
    ],
    [
      "dimension numbers repeat",
      () => lax.convGeneralDilated(x, w, [1, 1], "SAME", { dimensionNumbers: ["NHHC", "HWIO", "NHWC"] }),
      'ArgumentError: .*"NHHC" repeats a letter'
    ],
    [
      "dimension numbers permutation",
      () =>
        lax.convGeneralDilated(x, w, [1, 1], "SAME", {
          dimensionNumbers: { lhsSpec: [0, 1, 2, 2], rhsSpec: [0, 1, 2, 3], outSpec: [0, 1, 2, 3] }
        }),
      "ArgumentError: .*lhs dimension numbers \\[0, 1, 2, 2\\] are not a permutation"
    ],
    ["mixed dtypes", () => lax.conv(x, w.astype("int32"), [1, 1], "SAME"), "DTypeError"],
    ["bool operands", () => lax.conv(x.astype("bool"), w.astype("bool"), [1, 1], "SAME"), "DTypeError"],
    [
      "named padding with lhs dilation",
      () => lax.convGeneralDilated(x, w, [1, 1], "SAME", { lhsDilation: [2, 1] }),
      'ArgumentError: .*padding "SAME" with lhsDilation \\[2, 1\\]: a named padding is not defined'
    ],
    [
      "conv_transpose rank",
      () => lax.convTranspose(jnp.ones([1, 4, 4, 2]), jnp.ones([3, 3, 2]), [1, 1], "SAME"),
      "ShapeError: .*conv_transpose.*same rank"
    ],
    [
      "conv_transpose strides",
      () => lax.convTranspose(jnp.ones([1, 4, 4, 2]), jnp.ones([3, 3, 2, 2]), [1], "SAME"),
      "ArgumentError: .*strides has 1 entries"
    ],
    [
      "conv_transpose padding rule",
      () => lax.convTranspose(jnp.ones([1, 4, 4, 2]), jnp.ones([3, 3, 2, 2]), [1, 1], "SAME_LOWER" as "SAME"),
      'ArgumentError: .*padding "SAME_LOWER" is not "SAME", "VALID"'
    ],
    [
      "window rank",
      () => lax.reduceWindow(x, 0, "add", [1, 2], [1, 1], "VALID"),
      "ArgumentError: .*one entry per operand axis \\(4\\)"
    ],
    [
      "window dims positive",
      () => lax.reduceWindow(x, 0, "add", [1, 0, 1, 1], [1, 1, 1, 1], "VALID"),
      "ArgumentError: .*windowDimensions must be positive"
    ],
    [
      "window dilation length",
      () => lax.reduceWindow(x, 0, "add", [1, 1, 1, 1], [1, 1, 1, 1], "VALID", { windowDilation: [1] }),
      "ArgumentError: .*windowDilation has 1 entries"
    ],
    [
      "window padding",
      () => lax.reduceWindow(x, 0, "add", [1, 1, 1, 1], [1, 1, 1, 1], [[0, 0]]),
      "ArgumentError: .*padding has 1 pairs but there are 4"
    ],
    [
      "window computation",
      () => lax.reduceWindow(x, 0, lax.mul, [1, 1, 1, 1], [1, 1, 1, 1], "VALID"),
      'ArgumentError: .*"add", "max", "min"'
    ],
    [
      "window init scalar",
      () => lax.reduceWindow(x, jnp.ones([2]), "add", [1, 1, 1, 1], [1, 1, 1, 1], "VALID"),
      "ShapeError: .*initValue must be a scalar"
    ],
    [
      "window sum of bools",
      () => lax.reduceWindow(x.astype("bool"), 0, "add", [1, 1, 1, 1], [1, 1, 1, 1], "VALID"),
      "DTypeError"
    ]
  ] as const)("%s", (_name, f, pattern) => {
    expect(message(f)).toMatch(new RegExp(pattern))
  })

  it("vmap reports the shapes the function sees", () => {
    expect(
      message(() => vmap((a: JArray) => lax.conv(a, jnp.ones([6, 3, 3, 3]), [1, 1], "SAME"))(jnp.ones([2, 1, 4, 5, 5])))
    ).toMatch(/ShapeError: .*\(1, 4, 5, 5\)|lhs feature size 4/)
  })
})

describe("shape inference of the primitives refuses what the front end cannot produce", () => {
  const f32 = (shape: ReadonlyArray<number>) => ({ shape, dtype: "float32" as const, weakType: false })
  const base = {
    windowStrides: [1],
    padding: [[0, 0] as const],
    lhsDilation: [1],
    rhsDilation: [1],
    dimensionNumbers: { lhsSpec: [0, 1, 2], rhsSpec: [0, 1, 2], outSpec: [0, 1, 2] },
    featureGroupCount: 1,
    batchGroupCount: 1
  }
  const window = {
    computation: "add" as const,
    windowDimensions: [1, 1],
    windowStrides: [1, 1],
    padding: [[0, 0] as const, [0, 0] as const],
    baseDilation: [1, 1],
    windowDilation: [1, 1]
  }
  it.each([
    [
      "conv rank mismatch",
      () => abstractEval.conv_general_dilated([f32([1, 2, 3]), f32([1, 2])], base),
      "ShapeError: .*same rank, at least 2 \\(batch and feature\\), got 3 and 2"
    ],
    [
      "conv padding pairs",
      () => abstractEval.conv_general_dilated([f32([1, 2, 3]), f32([1, 2, 1])], { ...base, padding: [] }),
      "ArgumentError: .*padding has 0 pairs but there are 1 spatial"
    ],
    [
      "conv out spec",
      () =>
        abstractEval.conv_general_dilated([f32([1, 2, 3]), f32([1, 2, 1])], {
          ...base,
          dimensionNumbers: { ...base.dimensionNumbers, outSpec: [0, 1, 3] }
        }),
      "ArgumentError: .*out dimension numbers \\[0, 1, 3\\] are not a permutation"
    ],
    [
      "conv operand count",
      () => abstractEval.conv_general_dilated([f32([1, 2, 3])], base),
      "ArgumentError: .*expected 2 operands, got 1"
    ],
    [
      "window padding pairs",
      () => abstractEval.reduce_window([f32([2, 3])], { ...window, padding: [[0, 0]] }),
      "ArgumentError: .*padding has 1 pairs but the operand has rank 2"
    ],
    [
      "window strides positive",
      () => abstractEval.reduce_window([f32([2, 3])], { ...window, windowStrides: [1, -1] }),
      "ArgumentError: .*windowStrides must be positive integers, got \\[1, -1\\]"
    ],
    [
      "window base dilation length",
      () => abstractEval.reduce_window([f32([2, 3])], { ...window, baseDilation: [1] }),
      "ArgumentError: .*baseDilation has 1 entries but there are 2"
    ]
  ] as const)("%s", (_name, f, pattern) => {
    expect(message(f)).toMatch(new RegExp(pattern))
  })
})
