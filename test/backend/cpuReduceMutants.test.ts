/**
 * The cpu reference kernels for reductions, argmax/argmin and cumulative scans
 * (src/backend/cpu/reduce.ts), called directly through the cpu kernel table so that they run
 * whichever backend the vitest project makes the default. Expected values are JAX/XLA's, written out
 * by hand; on bool, XLA's add and mul are logical or and and (issue 16: tests that catch injected bugs).
 */
import { describe, expect, it } from "vitest"
import { aval } from "../../src/backend/DType.ts"
import type { DType } from "../../src/backend/DType.ts"
import { cpuKernels } from "../../src/backend/cpu/kernels.ts"
import type { CumulativePrimitive, ReducePrimitive } from "../../src/backend/Primitive.ts"
import type { Arr } from "../support/cpuKernelCall.ts"
import { arr, call } from "../support/cpuKernelCall.ts"

const f32 = (shape: ReadonlyArray<number>, v: ArrayLike<number>) => arr("float32", shape, v)
const i32 = (shape: ReadonlyArray<number>, v: ArrayLike<number>) => arr("int32", shape, v)
const u32 = (shape: ReadonlyArray<number>, v: ArrayLike<number>) => arr("uint32", shape, v)
const bool = (shape: ReadonlyArray<number>, v: ArrayLike<number>) => arr("bool", shape, v)
const values = (x: Arr): Array<number> => Array.from(x.data)
const red = (prim: ReducePrimitive, axes: ReadonlyArray<number>, x: Arr): Array<number> =>
  values(call(prim, { axes }, x))
const scan = (prim: CumulativePrimitive, axis: number, reverse: boolean, x: Arr): Array<number> =>
  values(call(prim, { axis, reverse }, x))

/**
 * The reduction kernel called without shape inference, which refuses max/min over an empty axis:
 * the kernel itself gives XLA's identity there.
 */
const reduceEmpty = (prim: ReducePrimitive, dtype: DType): Array<number> => {
  const out = cpuKernels[prim]([arr(dtype, [2, 0], []).data], [aval([2, 0], dtype)], [aval([2], dtype)], { axes: [1] })
  return Array.from(out[0]!)
}

describe("reductions along the last axis and along a leading axis", () => {
  // m is [[a, b, c], [d, e, f]]: axis 1 reduces within rows (the accumulator's stride is 0 along a
  // row), axis 0 across rows (a stride-1 accumulator row).
  it("sums float32 in double, rounding once", () => {
    const m = f32([2, 3], [1.5, -2, 0.25, 16777216, 1, 1])
    expect(red("reduce_sum", [1], m)).toEqual([-0.25, 16777218])
    expect(red("reduce_sum", [0], m)).toEqual([16777218, -1, 1.25])
    const c = f32([3, 2], [16777216, 1, 1, 2, 1, 3])
    expect(red("reduce_sum", [0], c)).toEqual([16777218, 6])
    const r = call("reduce_sum", { axes: [0] }, f32([2], [0.1, 0.2]))
    expect(r.data).toBeInstanceOf(Float32Array)
    expect(values(r)).toEqual([Math.fround(Math.fround(0.1) + Math.fround(0.2))])
  })
  it("sums int32 and uint32 with wraparound", () => {
    const m = i32([2, 3], [2147483647, 1, 5, -3, 4, -2147483648])
    expect(red("reduce_sum", [1], m)).toEqual([-2147483643, -2147483647])
    expect(red("reduce_sum", [0], m)).toEqual([2147483644, 5, -2147483643])
    const u = u32([2, 2], [0xffffffff, 2, 3, 0xfffffffe])
    expect(red("reduce_sum", [1], u)).toEqual([1, 1])
    expect(red("reduce_sum", [0], u)).toEqual([2, 0])
    const r = call("reduce_sum", { axes: [1] }, m)
    expect(r.data).toBeInstanceOf(Int32Array)
    expect(call("reduce_sum", { axes: [1] }, u).data).toBeInstanceOf(Uint32Array)
  })
  it("multiplies floats and wrapping ints", () => {
    const m = f32([2, 3], [1.5, -2, 3, 0.5, 4, -1])
    expect(red("reduce_prod", [1], m)).toEqual([-9, -2])
    expect(red("reduce_prod", [0], m)).toEqual([0.75, -8, -3])
    const n = i32([2, 3], [65536, 65536, 3, -2, 7, 5])
    expect(red("reduce_prod", [1], n)).toEqual([0, -70])
    expect(red("reduce_prod", [0], n)).toEqual([-131072, 458752, 15])
  })
  it("takes max and min of every dtype", () => {
    const f = f32([2, 3], [-5, -2, -3, -1.5, -7, -0.5])
    expect(red("reduce_max", [1], f)).toEqual([-2, -0.5])
    expect(red("reduce_max", [0], f)).toEqual([-1.5, -2, -0.5])
    const g = f32([2, 3], [5, 2, 3, 1.5, 7, 0.5])
    expect(red("reduce_min", [1], g)).toEqual([2, 0.5])
    expect(red("reduce_min", [0], g)).toEqual([1.5, 2, 0.5])
    const i = i32([2, 3], [-5, -2, -3, -1, -7, -2147483648])
    expect(red("reduce_max", [1], i)).toEqual([-2, -1])
    expect(red("reduce_max", [0], i)).toEqual([-1, -2, -3])
    expect(red("reduce_min", [1], i32([2, 2], [5, 2, 3, 2147483646]))).toEqual([2, 3])
    expect(red("reduce_min", [0], i32([2, 2], [5, 2, 3, 2147483646]))).toEqual([3, 2])
    const u = u32([2, 2], [5, 0x80000000, 3, 7])
    expect(red("reduce_max", [1], u)).toEqual([0x80000000, 7])
    expect(red("reduce_max", [0], u)).toEqual([5, 0x80000000])
    expect(red("reduce_min", [1], u)).toEqual([5, 3])
    expect(red("reduce_min", [0], u)).toEqual([3, 7])
    expect(red("reduce_max", [0], u32([2], [1, 2]))).toEqual([2])
    const b = bool([3, 2], [1, 1, 0, 1, 0, 0])
    expect(red("reduce_max", [1], b)).toEqual([1, 1, 0])
    expect(red("reduce_min", [1], b)).toEqual([1, 0, 0])
    expect(red("reduce_max", [0], b)).toEqual([1, 1])
    expect(red("reduce_min", [0], b)).toEqual([0, 0])
  })
  it("ands and ors bools, and sums and multiplies them as or and and", () => {
    const b = bool([3, 2], [1, 1, 0, 1, 0, 0])
    for (const [prim, rows, cols] of [
      ["reduce_and", [1, 0, 0], [0, 0]],
      ["reduce_prod", [1, 0, 0], [0, 0]],
      ["reduce_or", [1, 1, 0], [1, 1]],
      ["reduce_sum", [1, 1, 0], [1, 1]]
    ] as const) {
      expect(red(prim, [1], b)).toEqual(rows)
      expect(red(prim, [0], b)).toEqual(cols)
    }
    expect(red("reduce_and", [0], bool([2, 2], [1, 1, 1, 0]))).toEqual([1, 0])
    expect(red("reduce_sum", [0, 1], bool([2, 2], [1, 1, 1, 1]))).toEqual([1])
    expect(call("reduce_or", { axes: [0] }, b).data).toBeInstanceOf(Uint8Array)
  })
})

describe("reductions over several axes and empty axes", () => {
  it("keeps the unreduced axes in order", () => {
    // x[i, j, k] = 100 i + 10 j + k, shape [2, 3, 4]
    const v: Array<number> = []
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) v.push(100 * i + 10 * j + k)
    const x = f32([2, 3, 4], v)
    expect(call("reduce_sum", { axes: [1] }, x).shape).toEqual([2, 4])
    expect(red("reduce_sum", [1], x)).toEqual([30, 33, 36, 39, 330, 333, 336, 339])
    expect(red("reduce_max", [0, 2], x)).toEqual([103, 113, 123])
    expect(red("reduce_min", [2, 0], x)).toEqual([0, 10, 20])
    expect(red("reduce_sum", [0, 1, 2], x)).toEqual([1476])
    expect(red("reduce_sum", [], f32([2], [1.5, 2]))).toEqual([1.5, 2])
    expect(red("reduce_sum", [-1], x)).toEqual([6, 46, 86, 406, 446, 486])
  })
  it("gives the identity of each reduction over an empty axis", () => {
    expect(red("reduce_sum", [1], f32([2, 0], []))).toEqual([0, 0])
    expect(red("reduce_sum", [1], i32([2, 0], []))).toEqual([0, 0])
    expect(red("reduce_prod", [1], f32([2, 0], []))).toEqual([1, 1])
    expect(red("reduce_prod", [1], i32([2, 0], []))).toEqual([1, 1])
    expect(red("reduce_prod", [1], u32([2, 0], []))).toEqual([1, 1])
    expect(red("reduce_prod", [1], bool([2, 0], []))).toEqual([1, 1])
    expect(red("reduce_sum", [1], bool([2, 0], []))).toEqual([0, 0])
    expect(red("reduce_and", [1], bool([2, 0], []))).toEqual([1, 1])
    expect(red("reduce_or", [1], bool([2, 0], []))).toEqual([0, 0])
    expect(reduceEmpty("reduce_max", "float32")).toEqual([-Infinity, -Infinity])
    expect(reduceEmpty("reduce_max", "int32")).toEqual([-2147483648, -2147483648])
    expect(reduceEmpty("reduce_max", "uint32")).toEqual([0, 0])
    expect(reduceEmpty("reduce_max", "bool")).toEqual([0, 0])
    expect(reduceEmpty("reduce_min", "float32")).toEqual([Infinity, Infinity])
    expect(reduceEmpty("reduce_min", "int32")).toEqual([2147483647, 2147483647])
    expect(reduceEmpty("reduce_min", "uint32")).toEqual([0xffffffff, 0xffffffff])
    expect(reduceEmpty("reduce_min", "bool")).toEqual([1, 1])
  })
})

describe("reductions over a middle axis, the last axis kept", () => {
  // x[i, j, k] with shape [2, 3, 2], reduced over j: rows run along k, and a row that ran one element
  // too far would add x[i, j + 1, 0] into the next output slot.
  const v = [3, -1, 4, 1, -5, 9, 2, 6, -5, 3, 5, -8]
  it("for every kind and integer dtype", () => {
    expect(red("reduce_sum", [1], i32([2, 3, 2], v))).toEqual([2, 9, 2, 1])
    expect(red("reduce_prod", [1], i32([2, 3, 2], v))).toEqual([-60, -9, -50, -144])
    expect(red("reduce_max", [1], i32([2, 3, 2], v))).toEqual([4, 9, 5, 6])
    expect(red("reduce_min", [1], i32([2, 3, 2], v))).toEqual([-5, -1, -5, -8])
    expect(red("reduce_sum", [1], u32([2, 3, 2], v.map(Math.abs)))).toEqual([12, 11, 12, 17])
    expect(red("reduce_prod", [1], f32([2, 3, 2], v))).toEqual([-60, -9, -50, -144])
    expect(red("reduce_min", [1], f32([2, 3, 2], v))).toEqual([-5, -1, -5, -8])
    const b = v.map((x) => (x > 0 ? 1 : 0))
    expect(red("reduce_and", [1], bool([2, 3, 2], b))).toEqual([0, 0, 0, 0])
    expect(red("reduce_or", [1], bool([2, 3, 2], b))).toEqual([1, 1, 1, 1])
    expect(red("reduce_and", [1], bool([2, 3, 2], [1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1]))).toEqual([1, 0, 0, 1])
    expect(red("reduce_or", [1], bool([2, 3, 2], [0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0]))).toEqual([1, 0, 0, 1])
    expect(red("reduce_sum", [1], bool([2, 3, 2], [0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0]))).toEqual([1, 0, 0, 1])
  })
  it("stop each row at its end, whichever block holds the extreme", () => {
    // The first block holds the larger (or smaller, or false) values: a row running one element long
    // would carry them into the second block's first output.
    const hi = [9, 9, 9, 9, 9, 9, 1, 2, 3, 4, 5, 6]
    expect(red("reduce_max", [1], i32([2, 3, 2], hi))).toEqual([9, 9, 5, 6])
    expect(
      red(
        "reduce_min",
        [1],
        i32(
          [2, 3, 2],
          hi.map((x) => -x)
        )
      )
    ).toEqual([-9, -9, -5, -6])
    expect(red("reduce_and", [1], bool([2, 3, 2], [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]))).toEqual([0, 0, 1, 1])
    expect(red("reduce_or", [1], bool([2, 2], [0, 0, 1, 0]))).toEqual([0, 1])
    expect(red("reduce_or", [0], bool([3, 2], [0, 0, 0, 0, 0, 1]))).toEqual([0, 1])
  })
  it("multiply int32 with wraparound, exactly, past 2^53", () => {
    const big = i32([2, 2], [123456789, 987654321, 987654321, 3])
    expect(red("reduce_prod", [1], big)).toEqual([Math.imul(123456789, 987654321), Math.imul(987654321, 3)])
    expect(red("reduce_prod", [0], big)).toEqual([Math.imul(123456789, 987654321), Math.imul(987654321, 3)])
    expect(scan("cumprod", 0, false, i32([3], [123456789, 987654321, 3]))).toEqual([
      123456789,
      Math.imul(123456789, 987654321),
      Math.imul(Math.imul(123456789, 987654321), 3)
    ])
  })
})

describe("argmax and argmin", () => {
  it("take the first extreme along a middle axis", () => {
    // shape [2, 3, 2]: outer 2, n 3, inner 2
    const x = f32([2, 3, 2], [1, 9, 5, 9, 5, 0, 7, -1, 7, -3, 2, -3])
    expect(values(call("argmax", { axis: 1, indexDtype: "int32" }, x))).toEqual([1, 0, 0, 0])
    expect(values(call("argmin", { axis: 1, indexDtype: "int32" }, x))).toEqual([0, 2, 2, 1])
    expect(values(call("argmax", { axis: 0, indexDtype: "int32" }, x))).toEqual([1, 0, 1, 0, 0, 0])
    expect(values(call("argmin", { axis: 2, indexDtype: "int32" }, x))).toEqual([0, 0, 1, 1, 1, 1])
  })
  it("keep a leading NaN and take the first NaN later on", () => {
    const x = f32([2, 3], [NaN, 5, NaN, 1, NaN, NaN])
    expect(values(call("argmax", { axis: 1, indexDtype: "int32" }, x))).toEqual([0, 1])
    expect(values(call("argmin", { axis: 1, indexDtype: "int32" }, x))).toEqual([0, 1])
  })
  it("leave the next block's lanes alone", () => {
    // shape [2, 2, 2], axis 1: the second block's first lane starts with NaN, which wins there.
    const x = f32([2, 2, 2], [1, 2, 3, 0, NaN, 5, 4, 6])
    expect(values(call("argmax", { axis: 1, indexDtype: "int32" }, x))).toEqual([1, 0, 0, 1])
    expect(values(call("argmin", { axis: 1, indexDtype: "int32" }, x))).toEqual([0, 1, 0, 0])
  })
  it("compare uint32 unsigned, and bools", () => {
    expect(values(call("argmax", { axis: 0, indexDtype: "int32" }, u32([3], [1, 0x80000000, 0x80000000])))).toEqual([1])
    expect(values(call("argmin", { axis: 0, indexDtype: "int32" }, u32([3], [0x80000000, 1, 1])))).toEqual([1])
    expect(values(call("argmax", { axis: 0, indexDtype: "int32" }, bool([3], [0, 1, 1])))).toEqual([1])
    expect(values(call("argmin", { axis: 0, indexDtype: "int32" }, i32([4], [3, -2, 5, -2])))).toEqual([1])
  })
})

describe("cumulative scans", () => {
  it("scan every kind forward and in reverse along a middle axis", () => {
    // shape [2, 3, 2], axis 1
    const v = [1, 2, 3, 4, 5, 6, -1, 0.5, 2, -3, 0.5, 4]
    const x = f32([2, 3, 2], v)
    expect(scan("cumsum", 1, false, x)).toEqual([1, 2, 4, 6, 9, 12, -1, 0.5, 1, -2.5, 1.5, 1.5])
    expect(scan("cumsum", 1, true, x)).toEqual([9, 12, 8, 10, 5, 6, 1.5, 1.5, 2.5, 1, 0.5, 4])
    expect(scan("cumprod", 1, false, x)).toEqual([1, 2, 3, 8, 15, 48, -1, 0.5, -2, -1.5, -1, -6])
    expect(scan("cumprod", 1, true, x)).toEqual([15, 48, 15, 24, 5, 6, -1, -6, 1, -12, 0.5, 4])
    expect(scan("cummax", 1, false, x)).toEqual([1, 2, 3, 4, 5, 6, -1, 0.5, 2, 0.5, 2, 4])
    expect(scan("cummax", 1, true, x)).toEqual([5, 6, 5, 6, 5, 6, 2, 4, 2, 4, 0.5, 4])
    expect(scan("cummin", 1, false, x)).toEqual([1, 2, 1, 2, 1, 2, -1, 0.5, -1, -3, -1, -3])
    expect(scan("cummin", 1, true, x)).toEqual([1, 2, 3, 4, 5, 6, -1, -3, 0.5, -3, 0.5, 4])
  })
  it("scan float32 in double", () => {
    expect(scan("cumsum", 0, false, f32([3], [16777216, 1, 1]))).toEqual([16777216, 16777216, 16777218])
    const r = call("cumsum", { axis: 0, reverse: false }, f32([2], [0.1, 0.2]))
    expect(r.data).toBeInstanceOf(Float32Array)
  })
  it("scan integers with wraparound and extremes of the dtype", () => {
    expect(scan("cumsum", 0, false, i32([3], [2147483647, 1, 5]))).toEqual([2147483647, -2147483648, -2147483643])
    expect(scan("cumsum", 0, true, u32([2], [0xffffffff, 2]))).toEqual([1, 2])
    expect(scan("cumprod", 0, false, i32([3], [-2, 3, 65536 * 16384]))).toEqual([-2, -6, -2147483648])
    expect(scan("cummax", 0, false, i32([3], [-5, -7, -2]))).toEqual([-5, -5, -2])
    expect(scan("cummin", 0, false, i32([3], [5, 7, 2]))).toEqual([5, 5, 2])
    expect(scan("cummin", 0, false, u32([3], [5, 0xffffffff, 3]))).toEqual([5, 5, 3])
    expect(scan("cummax", 0, false, u32([3], [5, 0x80000000, 3]))).toEqual([5, 0x80000000, 0x80000000])
    expect(scan("cummax", 0, false, f32([3], [-5, -7, -Infinity]))).toEqual([-5, -5, -5])
    expect(scan("cummin", 0, false, f32([3], [5, 7, Infinity]))).toEqual([5, 5, 5])
  })
  it("scan integers and bools in reverse along a middle axis", () => {
    // shape [2, 2, 2], axis 1
    const v = [1, 2, 3, 4, 5, 6, 7, 8]
    expect(scan("cumsum", 1, true, i32([2, 2, 2], v))).toEqual([4, 6, 3, 4, 12, 14, 7, 8])
    expect(scan("cumprod", 1, true, i32([2, 2, 2], v))).toEqual([3, 8, 3, 4, 35, 48, 7, 8])
    expect(scan("cummax", 1, true, i32([2, 2, 2], [5, 1, 3, 4, 1, 6, 7, 0]))).toEqual([5, 4, 3, 4, 7, 6, 7, 0])
    expect(scan("cummin", 1, true, u32([2, 2, 2], [5, 1, 3, 4, 1, 6, 7, 0]))).toEqual([3, 1, 3, 4, 1, 0, 7, 0])
    expect(scan("cumsum", 1, true, bool([2, 2, 2], [0, 0, 1, 0, 0, 1, 0, 0]))).toEqual([1, 0, 1, 0, 0, 1, 0, 0])
    expect(scan("cumsum", 1, false, bool([2, 2, 2], [1, 0, 1, 0, 0, 1, 1, 1]))).toEqual([1, 0, 1, 0, 0, 1, 1, 1])
  })
  it("scan bools: sums are or, products and", () => {
    expect(scan("cumsum", 0, false, bool([4], [0, 1, 1, 0]))).toEqual([0, 1, 1, 1])
    expect(scan("cumsum", 0, true, bool([4], [1, 1, 0, 0]))).toEqual([1, 1, 0, 0])
    expect(scan("cumprod", 0, false, bool([4], [1, 1, 0, 1]))).toEqual([1, 1, 0, 0])
    expect(scan("cummax", 0, false, bool([3], [0, 1, 0]))).toEqual([0, 1, 1])
    expect(scan("cummin", 0, false, bool([3], [1, 0, 1]))).toEqual([1, 0, 0])
  })
})
