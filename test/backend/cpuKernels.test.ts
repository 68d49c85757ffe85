import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import type { DType } from "../../src/backend/DType.ts"
import { sizeOf } from "../../src/backend/shape.ts"
import type { Arr } from "../support/cpuKernelCall.ts"
import { naive, ravel } from "../support/multiIndex.ts"
import { arr, call, callAll } from "../support/cpuKernelCall.ts"

const f32 = (shape: ReadonlyArray<number>, values: ArrayLike<number>) => arr("float32", shape, values)
const i32 = (shape: ReadonlyArray<number>, values: ArrayLike<number>) => arr("int32", shape, values)
const u32 = (shape: ReadonlyArray<number>, values: ArrayLike<number>) => arr("uint32", shape, values)

const none = {}
const values = (x: Arr): Array<number> => Array.from(x.data)

// ---- naive multi-index helpers, independent of the kernels' stride machinery ----
const at = (x: Arr, idx: ReadonlyArray<number>): number => x.data[ravel(idx, x.shape)]!

const shapeArb = (maxRank: number, maxDim = 4) => fc.array(fc.integer({ min: 1, max: maxDim }), { maxLength: maxRank })
const filled = (shape: ReadonlyArray<number>, seed: number, dtype: DType = "float32"): Arr =>
  arr(
    dtype,
    shape,
    Array.from({ length: sizeOf(shape) }, (_, k) => ((k * 7919 + seed * 104729) % 23) - 11)
  )
const ulps = (a: number, b: number): number => {
  const v = new DataView(new ArrayBuffer(8))
  v.setFloat32(0, a)
  v.setFloat32(4, b)
  return Math.abs(v.getInt32(0) - v.getInt32(4))
}

describe("elementwise", () => {
  const bcastCase = shapeArb(4).chain((out) => {
    const side = fc.tuple(...out.map((d) => fc.constantFrom(d, 1)))
    return fc.tuple(side, side, fc.integer({ min: 0, max: 99 }))
  })
  const refs: Record<string, (a: number, b: number) => number> = {
    add: (a, b) => Math.fround(a + b),
    mul: (a, b) => Math.fround(a * b),
    sub: (a, b) => a - b,
    max: Math.max,
    lt: (a, b) => (a < b ? 1 : 0),
    pow: (a, b) => Math.fround(a ** b)
  }
  test.prop([bcastCase, fc.constantFrom("add", "mul", "sub", "max", "lt", "pow")])(
    "binary ops broadcast size-1 dims",
    ([sa, sb, seed], op) => {
      const out = sa.map((d, i) => Math.max(d, sb[i]!))
      const a = filled(sa, seed)
      const b = filled(sb, seed + 1)
      const r = call(op as "add", none, a, b)
      expect(r.shape).toEqual(out)
      const ref = naive(out, (idx) =>
        refs[op]!(
          at(
            a,
            idx.map((v, i) => (sa[i] === 1 ? 0 : v))
          ),
          at(
            b,
            idx.map((v, i) => (sb[i] === 1 ? 0 : v))
          )
        )
      )
      expect(values(r)).toEqual(ref)
    }
  )
  test.prop([bcastCase])("select broadcasts predicate and branches", ([sa, sb, seed]) => {
    const out = sa.map((d, i) => Math.max(d, sb[i]!))
    const p = arr(
      "bool",
      sa,
      naive(sa, (idx) => idx.reduce((s, v) => s + v, seed) % 2)
    )
    const a = filled(sb, seed, "int32")
    const b = filled(out, seed + 3, "int32")
    const ref = naive(out, (idx) =>
      at(
        p,
        idx.map((v, i) => (sa[i] === 1 ? 0 : v))
      )
        ? at(
            a,
            idx.map((v, i) => (sb[i] === 1 ? 0 : v))
          )
        : at(b, idx)
    )
    expect(values(call("select", none, p, a, b))).toEqual(ref)
  })
  it("select moves key elements as word pairs", () => {
    const keys = call("random_wrap", none, u32([2, 2], [1, 2, 3, 4]))
    const other = call("random_wrap", none, u32([1, 2], [9, 9]))
    const r = call("select", none, arr("bool", [2], [0, 1]), keys, other)
    expect(r.dtype).toBe("key<fry>")
    expect(values(r)).toEqual([9, 9, 3, 4])
  })
  it("wraps int32 and uint32 overflow", () => {
    expect(values(call("add", none, i32([2], [2147483647, -2147483648]), i32([2], [1, -1])))).toEqual([
      -2147483648, 2147483647
    ])
    expect(values(call("mul", none, i32([2], [65536, 123456789]), i32([2], [65536, 987654321])))).toEqual([
      0,
      Math.imul(123456789, 987654321)
    ])
    expect(values(call("sub", none, u32([1], [0]), u32([1], [1])))).toEqual([0xffffffff])
    expect(values(call("mul", none, u32([1], [0xffffffff]), u32([1], [0xffffffff])))).toEqual([1])
    expect(values(call("neg", none, i32([2], [-2147483648, 5])))).toEqual([-2147483648, -5])
    expect(values(call("abs", none, i32([2], [-2147483648, -5])))).toEqual([-2147483648, 5])
  })
  it("divides integers toward zero, with XLA's division by zero", () => {
    const a = i32([6], [7, -7, 7, 5, -2147483648, -2147483648]),
      b = i32([6], [-2, 2, 0, 0, -1, 1])
    expect(values(call("div", none, a, b))).toEqual([-3, -3, -1, -1, -2147483648, -2147483648])
    expect(values(call("rem", none, a, b))).toEqual([1, -1, 7, 5, 0, 0])
    expect(values(call("div", none, u32([2], [7, 0xfffffffe]), u32([2], [0, 3])))).toEqual([0xffffffff, 1431655764])
    expect(values(call("rem", none, f32([2], [-7.5, 7.5]), f32([2], [2, -2])))).toEqual([-1.5, 1.5])
  })
  it("raises integers to powers by squaring", () => {
    const r = call("pow", none, i32([6], [3, 2, 2, -1, 1, -3]), i32([6], [4, 31, -1, -3, -5, 3]))
    expect(values(r)).toEqual([81, -2147483648, 0, -1, 1, -27])
    expect(values(call("pow", none, f32([3], [1, -1, 2]), f32([3], [NaN, Infinity, 0.5])))).toEqual([
      1,
      1,
      Math.fround(Math.SQRT2)
    ])
  })
  it("shifts by 32 or more give 0, or the sign for arithmetic shifts", () => {
    const a = i32([5], [1, 1, -8, 8, -1]),
      s = i32([5], [32, -1, 40, 40, 3])
    expect(values(call("shift_left", none, a, s))).toEqual([0, 0, 0, 0, -8])
    expect(values(call("shift_right_arithmetic", none, a, s))).toEqual([0, 0, -1, 0, -1])
    expect(values(call("shift_right_logical", none, a, s))).toEqual([0, 0, 0, 0, 0x1fffffff])
    const u = u32([3], [0x80000000, 0x80000000, 0x80000000]),
      t = u32([3], [4, 33, 33])
    expect(values(call("shift_right_arithmetic", none, u, t))).toEqual([0xf8000000, 0xffffffff, 0xffffffff])
    expect(values(call("shift_right_logical", none, u, t))).toEqual([0x08000000, 0, 0])
  })
  it("propagates NaN through max/min and handles nextafter", () => {
    expect(values(call("max", none, f32([2], [NaN, 1]), f32([2], [1, NaN])))).toEqual([NaN, NaN])
    expect(values(call("min", none, f32([1], [NaN]), f32([1], [-Infinity])))).toEqual([NaN])
    const r = call("nextafter", none, f32([5], [1, 0, -0, 1, NaN]), f32([5], [2, -1, 1, 1, 0]))
    expect(values(r)).toEqual([1 + 2 ** -23, -(2 ** -149), 2 ** -149, 1, NaN])
    expect(values(call("nextafter", none, f32([2], [-1, 3.4028234663852886e38]), f32([2], [0, Infinity])))).toEqual([
      -1 + 2 ** -24,
      Infinity
    ])
  })
  it("rounds halves away from zero or to even; sign and not", () => {
    const x = f32([6], [0.5, 1.5, 2.5, -0.5, -2.5, -0.3])
    expect(values(call("round", { method: "toNearestEven" }, x))).toEqual([0, 2, 2, -0, -2, -0])
    expect(values(call("round", { method: "awayFromZero" }, x))).toEqual([1, 2, 3, -1, -3, -0])
    expect(values(call("sign", none, f32([4], [-2, 0, NaN, 3])))).toEqual([-1, 0, NaN, 1])
    expect(values(call("not", none, arr("bool", [2], [0, 1])))).toEqual([1, 0])
    expect(values(call("not", none, i32([2], [0, 5])))).toEqual([-1, -6])
    expect(values(call("is_finite", none, f32([3], [1, Infinity, NaN])))).toEqual([1, 0, 0])
  })
  it("computes erf and erf_inv within 2 ulp of float32", () => {
    const cases: Array<[number, number]> = [
      [1, 0.8427007929497149],
      [0.5, 0.5204998778130465],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [-1, -0.8427007929497149],
      [1e-3, 0.0011283787909692363],
      [0, 0]
    ]
    const e = call(
      "erf",
      none,
      f32(
        [cases.length],
        cases.map((c) => c[0])
      )
    )
    cases.forEach(([, ref], i) => expect(ulps(e.data[i]!, ref)).toBeLessThanOrEqual(2))
    const inv: Array<[number, number]> = [
      [0.5, 0.4769362762044699],
      [-0.5, -0.4769362762044699],
      [0.25, 0.2253120550121781],
      [0.75, 0.8134198475976185],
      [0, 0]
    ]
    const r = call(
      "erf_inv",
      none,
      f32(
        [inv.length],
        inv.map((c) => c[0])
      )
    )
    inv.forEach(([, ref], i) => expect(ulps(r.data[i]!, ref)).toBeLessThanOrEqual(2))
    // Round trips through both polynomial branches (w < 5 and the tail beyond |x| ≈ 0.9966).
    const xs = f32([8], [-0.999, -0.9, -1e-4, 0.3, 0.9, 0.99, 0.998046875, 0.99999])
    const back = call("erf", none, call("erf_inv", none, xs))
    values(xs).forEach((x, i) => expect(ulps(back.data[i]!, x)).toBeLessThanOrEqual(4))
    expect(values(call("erf_inv", none, f32([3], [1, -1, 1.5])))).toEqual([Infinity, -Infinity, NaN])
  })
})

describe("conversions", () => {
  it("saturates float to int and maps NaN to 0", () => {
    const x = f32([6], [1e10, -1e10, NaN, -2.7, 2.7, Infinity])
    expect(values(call("convert_element_type", { newDtype: "int32", weakType: false }, x))).toEqual([
      2147483647, -2147483648, 0, -2, 2, 2147483647
    ])
    expect(values(call("convert_element_type", { newDtype: "uint32", weakType: false }, x))).toEqual([
      0xffffffff, 0, 0, 0, 2, 0xffffffff
    ])
    expect(
      values(call("convert_element_type", { newDtype: "bool", weakType: false }, f32([3], [NaN, 0, -0.5])))
    ).toEqual([1, 0, 1])
    expect(values(call("convert_element_type", { newDtype: "uint32", weakType: false }, i32([1], [-1])))).toEqual([
      0xffffffff
    ])
    expect(
      values(call("convert_element_type", { newDtype: "int32", weakType: false }, u32([1], [0x80000000])))
    ).toEqual([-2147483648])
    expect(
      values(call("convert_element_type", { newDtype: "float32", weakType: false }, i32([1], [16777217])))
    ).toEqual([16777216])
  })
  it("bitcasts the 32-bit pattern", () => {
    expect(values(call("bitcast_convert_type", { newDtype: "uint32" }, f32([2], [1, -0])))).toEqual([
      0x3f800000, 0x80000000
    ])
    expect(values(call("bitcast_convert_type", { newDtype: "float32" }, i32([1], [0x40490fdb])))).toEqual([
      Math.fround(Math.PI)
    ])
  })
})

describe("structural", () => {
  const permArb = shapeArb(4).chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.shuffledSubarray(
        shape.map((_, i) => i),
        { minLength: shape.length }
      )
    )
  )
  test.prop([permArb])("transpose matches a naive loop and inverts", ([shape, perm]) => {
    const x = filled(shape, 3)
    const t = call("transpose", { permutation: perm }, x)
    expect(values(t)).toEqual(
      naive(t.shape, (idx) =>
        at(
          x,
          perm.map((_, i) => idx[perm.indexOf(i)]!)
        )
      )
    )
    const inv = perm.map((_, i) => perm.indexOf(i))
    expect(values(call("transpose", { permutation: inv }, t))).toEqual(values(x))
    const flat = call("reshape", { newSizes: [sizeOf(shape)] }, t)
    expect(values(call("reshape", { newSizes: t.shape }, flat))).toEqual(values(t))
  })
  test.prop([
    fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 40 })),
    fc.constantFrom<Array<number>>([2, 1, 0], [2, 0, 1], [1, 2, 0])
  ])("transposes large enough for the tiled copy", (shape, perm) => {
    const x = filled(shape, 1, "int32")
    const t = call("transpose", { permutation: perm }, x)
    expect(values(t)).toEqual(
      naive(t.shape, (idx) =>
        at(
          x,
          perm.map((_, i) => idx[perm.indexOf(i)]!)
        )
      )
    )
  })
  it("transposes and broadcasts keys as units", () => {
    const keys = call(
      "random_wrap",
      none,
      u32(
        [2, 3, 2],
        Array.from({ length: 12 }, (_, k) => k)
      )
    )
    expect(values(call("transpose", { permutation: [1, 0] }, keys))).toEqual([0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11])
    const b = call("broadcast_in_dim", { shape: [2, 2, 3], broadcastDimensions: [0, 2] }, keys)
    expect(values(call("random_unwrap", none, b)).slice(0, 12)).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5])
  })
  it("slices, concatenates and updates keys as units", () => {
    const keys = call("random_wrap", none, u32([4, 2], [1, 2, 3, 4, 5, 6, 7, 8]))
    const sliced = call("slice", { startIndices: [1], limitIndices: [4], strides: [2] }, keys)
    expect(values(sliced)).toEqual([3, 4, 7, 8])
    expect(values(call("concatenate", { dimension: 0 }, sliced, keys)).slice(0, 6)).toEqual([3, 4, 7, 8, 1, 2])
    expect(values(call("dynamic_slice", { sliceSizes: [2] }, keys, i32([], [3])))).toEqual([5, 6, 7, 8])
    const upd = call("dynamic_update_slice", none, keys, sliced, i32([], [1]))
    expect(values(upd)).toEqual([1, 2, 3, 4, 7, 8, 7, 8])
  })
  test.prop([
    shapeArb(3).chain((s) =>
      fc.tuple(fc.constant(s), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 4, maxLength: 4 }))
    )
  ])("broadcast_in_dim matches a naive loop", ([shape, extra]) => {
    const x = filled(shape, 5)
    const target = [extra[0]!, ...shape.flatMap((d, i) => [d === 1 ? extra[i + 1]! : d])]
    const dims = shape.map((_, i) => i + 1)
    const r = call("broadcast_in_dim", { shape: target, broadcastDimensions: dims }, x)
    expect(values(r)).toEqual(
      naive(target, (idx) =>
        at(
          x,
          shape.map((d, i) => (d === 1 ? 0 : idx[i + 1]!))
        )
      )
    )
  })
  const sliceArb = shapeArb(3, 6).chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.tuple(
        ...shape.map((d) =>
          fc.tuple(fc.integer({ min: 0, max: d }), fc.integer({ min: 0, max: d }), fc.integer({ min: 1, max: 3 }))
        )
      )
    )
  )
  test.prop([sliceArb])("slice with strides matches a naive loop", ([shape, spec]) => {
    const x = filled(shape, 7, "int32")
    const starts = spec.map(([a, b]) => Math.min(a, b)),
      limits = spec.map(([a, b]) => Math.max(a, b))
    const strides = spec.map((s) => s[2])
    const r = call("slice", { startIndices: starts, limitIndices: limits, strides }, x)
    expect(values(r)).toEqual(
      naive(r.shape, (idx) =>
        at(
          x,
          idx.map((v, i) => starts[i]! + v * strides[i]!)
        )
      )
    )
  })
  test.prop([sliceArb])("pad with interior padding matches a naive loop", ([shape, spec]) => {
    const x = filled(shape, 2)
    const config = spec.map(([lo, hi, int]) => [lo % 3, hi % 2, int - 1] as const)
    const r = call("pad", { config }, x, f32([], [99]))
    const ref = naive(r.shape, (idx) => {
      const src = idx.map((v, i) => (v - config[i]![0]) / (config[i]![2] + 1))
      return src.every((s, i) => Number.isInteger(s) && s >= 0 && s < shape[i]!) ? at(x, src) : 99
    })
    expect(values(r)).toEqual(ref)
  })
  test.prop([
    shapeArb(3).filter((s) => s.length > 0),
    fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }),
    fc.nat()
  ])("concatenate matches a naive loop", (shape, sizes, axisSeed) => {
    const d = axisSeed % shape.length
    const parts = sizes.map((n, j) =>
      filled(
        shape.map((s, i) => (i === d ? n : s)),
        j
      )
    )
    const r = call("concatenate", { dimension: d - shape.length }, ...parts)
    const ref = naive(r.shape, (idx) => {
      let k = idx[d]!,
        j = 0
      while (k >= parts[j]!.shape[d]!) k -= parts[j++]!.shape[d]!
      return at(
        parts[j]!,
        idx.map((v, i) => (i === d ? k : v))
      )
    })
    expect(values(r)).toEqual(ref)
  })
  it("clamps dynamic slice and update starts", () => {
    const x = i32(
      [3, 4],
      Array.from({ length: 12 }, (_, k) => k)
    )
    expect(values(call("dynamic_slice", { sliceSizes: [2, 2] }, x, i32([], [5]), i32([], [-3])))).toEqual([4, 5, 8, 9])
    const u = call("dynamic_update_slice", none, x, i32([1, 2], [-1, -2]), u32([], [0xffffffff]), i32([], [1]))
    expect(values(u)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, -1, -2, 11])
  })
  it("iota counts along its dimension", () => {
    expect(values(call("iota", { dtype: "int32", shape: [2, 3], dimension: 1 }))).toEqual([0, 1, 2, 0, 1, 2])
    expect(values(call("iota", { dtype: "float32", shape: [2, 3], dimension: -2 }))).toEqual([0, 0, 0, 1, 1, 1])
  })
})

describe("gather and scatter", () => {
  const gatherArb = fc
    .record({
      shape: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
      batch: fc.integer({ min: 0, max: 1 }),
      idxShape: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
      axisBits: fc.nat(15),
      seed: fc.nat(1000),
      clip: fc.boolean(),
      uint: fc.boolean()
    })
    .filter((g) => g.shape.length > g.batch)
  const setup = (g: typeof gatherArb extends fc.Arbitrary<infer T> ? T : never) => {
    const axes = g.shape.map((_, i) => i).filter((i) => i >= g.batch && (g.axisBits >> i) & 1)
    const iShape = [...g.shape.slice(0, g.batch), ...g.idxShape, axes.length]
    const raw = Array.from({ length: sizeOf(iShape) }, (_, k) => ((k * 31 + g.seed) % 9) - 3)
    const indices = g.uint ? u32(iShape, raw) : i32(iShape, raw)
    const rest = g.shape.map((_, i) => i).filter((i) => i >= g.batch && !axes.includes(i))
    const params = {
      indexedAxes: axes.map((a) => a - g.shape.length),
      batchDims: g.batch,
      mode: g.clip ? ("clip" as const) : ("fill" as const)
    }
    /** The operand index an output index reads, or undefined when filled. */
    const source = (out: ReadonlyArray<number>): Array<number> | undefined => {
      const row = out.slice(0, iShape.length - 1)
      const src = g.shape.map(() => 0)
      for (let i = 0; i < g.batch; i++) src[i] = out[i]!
      for (let t = 0; t < axes.length; t++) {
        const d = g.shape[axes[t]!]!
        const v = at(indices, [...row, t])
        if (v >= 0 && v < d) src[axes[t]!] = v
        else if (g.clip) src[axes[t]!] = v < 0 ? 0 : d - 1
        else return undefined
      }
      rest.forEach((a, j) => {
        src[a] = out[row.length + j]!
      })
      return src
    }
    return { indices, params, source }
  }
  test.prop([gatherArb])("gather matches a naive loop in both modes", (g) => {
    const { indices, params, source } = setup(g)
    const x = filled(g.shape, g.seed)
    const r = call("gather", params, x, indices)
    expect(values(r)).toEqual(
      naive(r.shape, (idx) => {
        const s = source(idx)
        return s ? at(x, s) : NaN
      })
    )
  })
  test.prop([gatherArb])("scatter_add matches a naive loop in both modes", (g) => {
    const { indices, params, source } = setup(g)
    const x = filled(g.shape, g.seed, "int32")
    const outShape = call("gather", params, x, indices).shape
    const upd = filled(outShape, g.seed + 1, "int32")
    const ref = values(x)
    naive(outShape, (idx) => {
      const s = source(idx)
      if (s) {
        const o = ravel(s, g.shape)
        ref[o] = ref[o]! + at(upd, idx)
      }
      return 0
    })
    expect(values(call("scatter_add", params, x, indices, upd))).toEqual(ref)
  })
  it("scatter keeps the last update; fill mode drops out-of-range updates", () => {
    const x = f32([4], [0, 0, 0, 0])
    const p = { indexedAxes: [0], batchDims: 0, mode: "fill" as const }
    expect(values(call("scatter", p, x, i32([3, 1], [1, 1, 7]), f32([3], [5, 6, 9])))).toEqual([0, 6, 0, 0])
    expect(values(call("scatter", { ...p, mode: "clip" }, x, i32([3, 1], [1, 1, 7]), f32([3], [5, 6, 9])))).toEqual([
      0, 6, 0, 9
    ])
    expect(values(call("gather", p, u32([2], [1, 2]), u32([2, 1], [0x80000000, 1])))).toEqual([0xffffffff, 2])
  })
  it("gathers key rows as units", () => {
    const keys = call("random_wrap", none, u32([3, 2], [1, 2, 3, 4, 5, 6]))
    const r = call("gather", { indexedAxes: [0], batchDims: 0, mode: "clip" }, keys, i32([2, 1], [2, 0]))
    expect(values(r)).toEqual([5, 6, 1, 2])
  })
})

describe("reductions", () => {
  const reduceArb = shapeArb(4).chain((s) => fc.tuple(fc.constant(s), fc.subarray(s.map((_, i) => i))))
  test.prop([reduceArb, fc.constantFrom("reduce_sum", "reduce_max", "reduce_prod")])(
    "reduce matches a naive loop",
    ([shape, axes], prim) => {
      const x = filled(shape, 4, "int32")
      const r = call(prim as "reduce_sum", { axes }, x)
      const combine =
        prim === "reduce_sum" ? (a: number, b: number) => (a + b) | 0 : prim === "reduce_max" ? Math.max : Math.imul
      const init = prim === "reduce_sum" ? 0 : prim === "reduce_max" ? -2147483648 : 1
      const ref = new Array<number>(sizeOf(r.shape)).fill(init)
      naive(shape, (idx) => {
        const o = ravel(
          idx.filter((_, i) => !axes.includes(i)),
          r.shape
        )
        ref[o] = combine(ref[o]!, at(x, idx))
        return 0
      })
      expect(values(r)).toEqual(ref)
    }
  )
  it("wraps int sums, propagates NaN, and sums float32 in double", () => {
    expect(values(call("reduce_sum", { axes: [0] }, i32([2], [2147483647, 1])))).toEqual([-2147483648])
    expect(values(call("reduce_max", { axes: [1] }, f32([2, 2], [1, NaN, 3, 2])))).toEqual([NaN, 3])
    expect(values(call("reduce_sum", { axes: [0] }, f32([3], [16777216, 1, 1])))).toEqual([16777218])
    expect(values(call("reduce_or", { axes: [0, 1] }, arr("bool", [2, 0], [])))).toEqual([0])
  })
  it("argmax/argmin take the first extreme, and NaN is extreme", () => {
    const x = f32([2, 4], [1, 3, 3, 0, 2, NaN, 5, NaN])
    expect(values(call("argmax", { axis: 1, indexDtype: "int32" }, x))).toEqual([1, 1])
    expect(values(call("argmin", { axis: -1, indexDtype: "int32" }, x))).toEqual([3, 1])
    expect(values(call("argmax", { axis: 0, indexDtype: "int32" }, x))).toEqual([1, 1, 1, 1])
    expect(values(call("argmin", { axis: 0, indexDtype: "int32" }, x))).toEqual([0, 1, 0, 1])
  })
  test.prop([shapeArb(3).filter((s) => s.length > 0), fc.nat(), fc.boolean()])(
    "cumsum matches a naive loop",
    (shape, axisSeed, reverse) => {
      const axis = axisSeed % shape.length
      const x = filled(shape, 9)
      const r = call("cumsum", { axis, reverse }, x)
      expect(values(r)).toEqual(
        naive(shape, (idx) => {
          let s = 0
          for (let k = 0; k < shape[axis]!; k++) {
            if (reverse ? k >= idx[axis]! : k <= idx[axis]!)
              s += at(
                x,
                idx.map((v, i) => (i === axis ? k : v))
              )
          }
          return s
        })
      )
    }
  )
})

describe("cumulative", () => {
  it("scans integers with wraparound, in either direction", () => {
    const x = i32([4], [65536, 65536, 3, -1])
    expect(values(call("cumprod", { axis: 0, reverse: false }, x))).toEqual([65536, 0, 0, 0])
    expect(values(call("cumprod", { axis: 0, reverse: true }, x))).toEqual([0, -196608, -3, -1])
    expect(values(call("cummax", { axis: 0, reverse: true }, x))).toEqual([65536, 65536, 3, -1])
    expect(values(call("cummin", { axis: -1, reverse: false }, f32([3], [2, NaN, 1])))).toEqual([2, NaN, NaN])
  })
})

describe("dot_general", () => {
  const dim = fc.integer({ min: 1, max: 4 })
  const dotArb = fc.tuple(dim, dim, dim, dim, fc.boolean(), fc.constantFrom<DType>("float32", "int32"))
  test.prop([dotArb])("matches a naive loop with batch dims and transposed operands", ([B, M, K, N, flip, dtype]) => {
    // lhs [M, B, K], rhs [K, N, B] (or [B, N, K] when flipped), to exercise the relayout.
    const lhs = filled([M, B, K], 1, dtype)
    const rhs = flip ? filled([B, N, K], 2, dtype) : filled([K, N, B], 2, dtype)
    const params = flip
      ? { lhsContracting: [-1], rhsContracting: [2], lhsBatch: [1], rhsBatch: [0] }
      : { lhsContracting: [2], rhsContracting: [0], lhsBatch: [-2], rhsBatch: [2] }
    const r = call("dot_general", params, lhs, rhs)
    expect(r.shape).toEqual([B, M, N])
    expect(values(r)).toEqual(
      naive([B, M, N], ([b, m, n]) => {
        let s = 0
        for (let k = 0; k < K; k++) s += at(lhs, [m!, b!, k]) * at(rhs, flip ? [b!, n!, k] : [k, n!, b!])
        return s
      })
    )
  })
  it("wraps int32 products and ors bools", () => {
    const p = { lhsContracting: [1], rhsContracting: [0], lhsBatch: [], rhsBatch: [] }
    expect(values(call("dot_general", p, i32([1, 2], [65536, 1]), i32([2, 1], [65536, 5])))).toEqual([5])
    expect(values(call("dot_general", p, arr("bool", [1, 2], [1, 0]), arr("bool", [2, 2], [0, 1, 1, 1])))).toEqual([
      0, 1
    ])
  })
})

describe("sort", () => {
  it("sorts stably by the keys and permutes the other operands", () => {
    const keys = f32([6], [3, 1, NaN, 1, -Infinity, 3])
    const payload = i32([6], [0, 1, 2, 3, 4, 5])
    const [k, p] = callAll("sort", { dimension: 0, numKeys: 1 }, keys, payload)
    expect(values(k!)).toEqual([-Infinity, 1, 1, 3, 3, NaN])
    expect(values(p!)).toEqual([4, 1, 3, 0, 5, 2])
  })
  it("sorts lexicographically by several keys along any axis", () => {
    const a = i32([2, 3], [1, 0, 1, 2, 2, 2]),
      b = i32([2, 3], [5, 9, 4, 3, 1, 2])
    const [x, y] = callAll("sort", { dimension: 1, numKeys: 2 }, a, b)
    expect(values(x!)).toEqual([0, 1, 1, 2, 2, 2])
    expect(values(y!)).toEqual([9, 4, 5, 1, 2, 3])
    const single = call("sort", { dimension: 0, numKeys: 1 }, f32([3, 2], [NaN, 2, 1, NaN, 0, 1]))
    expect(values(single)).toEqual([0, 1, 1, 2, NaN, NaN])
  })
})
