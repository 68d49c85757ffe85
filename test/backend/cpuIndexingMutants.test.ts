/**
 * The cpu reference kernels for gather/scatter (src/backend/cpu/indexing.ts) and the structural
 * kernels (src/backend/cpu/structural.ts), called directly through the cpu kernel table so that they
 * run whichever backend the vitest project makes the default. Expected values are written out by hand
 * from JAX/XLA semantics (issue 16: tests that catch injected bugs).
 */
import { describe, expect, it } from "vitest"
import { allocHost, aval } from "../../src/backend/DType.ts"
import type { DType } from "../../src/backend/DType.ts"
import { cpuKernels } from "../../src/backend/cpu/kernels.ts"
import type { GatherParams, IndexMode } from "../../src/backend/Primitive.ts"
import { sizeOf } from "../../src/backend/shape.ts"
import type { Arr } from "../support/cpuKernelCall.ts"
import { call, arr as hostArr } from "../support/cpuKernelCall.ts"

/** `values` are storage words: two per complex64 or key element. */
const arr = (dtype: DType, shape: ReadonlyArray<number>, values: ArrayLike<number>): Arr => {
  const words = dtype === "complex64" || dtype === "key<fry>" ? 2 : 1
  const made = hostArr(dtype, shape, values)
  expect(made.data.length).toBe(sizeOf(shape) * words)
  return made
}
const f32 = (shape: ReadonlyArray<number>, v: ArrayLike<number>) => arr("float32", shape, v)
const i32 = (shape: ReadonlyArray<number>, v: ArrayLike<number>) => arr("int32", shape, v)
const u32 = (shape: ReadonlyArray<number>, v: ArrayLike<number>) => arr("uint32", shape, v)
const bool = (shape: ReadonlyArray<number>, v: ArrayLike<number>) => arr("bool", shape, v)
const c64 = (shape: ReadonlyArray<number>, v: ArrayLike<number>) => arr("complex64", shape, v)
const keys = (shape: ReadonlyArray<number>, v: ArrayLike<number>) => arr("key<fry>", shape, v)
const range = (n: number, from = 0): Array<number> => Array.from({ length: n }, (_, k) => k + from)

const values = (x: Arr): Array<number> => Array.from(x.data)
const none = {}
const gp = (indexedAxes: ReadonlyArray<number>, mode: IndexMode, batchDims = 0): GatherParams => ({
  indexedAxes,
  batchDims,
  mode
})

describe("gather", () => {
  it("fills out-of-range single elements with JAX's per-dtype defaults", () => {
    const idx = i32([3, 1], [1, 5, -1])
    const p = gp([0], "fill")
    expect(values(call("gather", p, f32([2], [7, 8]), idx))).toEqual([8, NaN, NaN])
    expect(values(call("gather", p, i32([2], [7, 8]), idx))).toEqual([8, -2147483648, -2147483648])
    expect(values(call("gather", p, u32([2], [7, 8]), idx))).toEqual([8, 0xffffffff, 0xffffffff])
    expect(values(call("gather", p, bool([2], [0, 0]), idx))).toEqual([0, 1, 1])
  })
  it("fills out-of-range slices with JAX's per-dtype defaults", () => {
    const idx = i32([2, 1], [2, 1])
    const p = gp([0], "fill")
    expect(values(call("gather", p, f32([2, 2], [1, 2, 3, 4]), idx))).toEqual([NaN, NaN, 3, 4])
    expect(values(call("gather", p, i32([2, 2], [1, 2, 3, 4]), idx))).toEqual([-2147483648, -2147483648, 3, 4])
    expect(values(call("gather", p, u32([2, 2], [1, 2, 3, 4]), idx))).toEqual([0xffffffff, 0xffffffff, 3, 4])
    expect(values(call("gather", p, bool([2, 2], [0, 0, 0, 1]), idx))).toEqual([1, 1, 0, 1])
    // complex64 fills NaN + NaN j; keys fill every word with 0xffffffff.
    expect(values(call("gather", p, c64([2], [1, 2, 3, 4]), i32([3, 1], [1, -1, 0])))).toEqual([3, 4, NaN, NaN, 1, 2])
    expect(values(call("gather", p, keys([2], [1, 2, 3, 4]), i32([2, 1], [9, 1])))).toEqual([
      0xffffffff, 0xffffffff, 3, 4
    ])
  })
  it("clamps negative and too-large indices in clip and promise_in_bounds modes (XLA gather clamps)", () => {
    const x = i32([4], [10, 11, 12, 13])
    const idx = i32([5, 1], [-7, -1, 0, 3, 4])
    for (const mode of ["clip", "promise_in_bounds"] as const) {
      expect(values(call("gather", gp([0], mode), x, idx))).toEqual([10, 10, 10, 13, 13])
      // the general path: rows of a [4, 2] operand
      const m = i32([4, 2], range(8))
      expect(values(call("gather", gp([0], mode), m, idx))).toEqual([0, 1, 0, 1, 0, 1, 6, 7, 6, 7])
      // two indexed axes, each clamped on its own
      const g = i32([3, 4], range(12))
      expect(values(call("gather", gp([0, 1], mode), g, i32([3, 2], [-1, 9, 5, -2, 1, 2])))).toEqual([3, 8, 6])
    }
    // uint32 indices of 2^31 or more are large positive numbers: clamped to the end
    expect(values(call("gather", gp([0], "clip"), x, u32([2, 1], [0x80000000, 0xffffffff])))).toEqual([13, 13])
  })
  it("fills when any one of several indexed axes is out of range", () => {
    const g = f32([3, 4], range(12))
    const idx = i32([4, 2], [1, 2, 3, 0, 0, -1, 2, 3])
    expect(values(call("gather", gp([0, 1], "fill"), g, idx))).toEqual([6, NaN, NaN, 11])
    expect(values(call("gather", gp([1, 0], "fill"), g, idx))).toEqual([9, 3, NaN, NaN])
  })
  it("gathers nothing from an empty axis, even in clip mode", () => {
    const e = i32([0], [])
    expect(values(call("gather", gp([0], "clip"), e, i32([2, 1], [0, -1])))).toEqual([-2147483648, -2147483648])
    const e2 = i32([2, 0], [])
    expect(values(call("gather", gp([0, 1], "clip"), e2, i32([1, 2], [1, 0])))).toEqual([-2147483648])
  })
  it("pairs two batch dims with the operand's leading axes", () => {
    // operand [2, 3, 4]: batch over axes 0 and 1, index axis 2
    const x = i32([2, 3, 4], range(24))
    const idx = i32([2, 3, 1], [0, 1, 2, 3, 0, 7])
    const r = call("gather", gp([2], "fill", 2), x, idx)
    expect(r.shape).toEqual([2, 3])
    expect(values(r)).toEqual([0, 5, 10, 15, 16, -2147483648])
    // batch over axis 0, indexing axis 2, keeping axis 1 as a rest axis
    const r2 = call("gather", gp([2], "clip", 1), x, i32([2, 2, 1], [3, -4, 1, 9]))
    expect(r2.shape).toEqual([2, 2, 3])
    expect(values(r2)).toEqual([3, 7, 11, 0, 4, 8, 13, 17, 21, 15, 19, 23])
  })
  it("gathers, scatters and adds slices of a middle axis (rest axes on both sides)", () => {
    // operand [2, 3, 2], indexed axis 1: each index row selects x[:, i, :]
    const x = f32([2, 3, 2], range(12))
    expect(values(call("gather", gp([1], "clip"), x, i32([2, 1], [2, 0])))).toEqual([4, 5, 10, 11, 0, 1, 6, 7])
    expect(values(call("gather", gp([1], "fill"), x, i32([2, 1], [5, 1])))).toEqual([NaN, NaN, NaN, NaN, 2, 3, 8, 9])
    const z = i32([2, 3, 2], new Array<number>(12).fill(0))
    const upd = i32([2, 2, 2], range(8, 1))
    expect(values(call("scatter", gp([1], "fill"), z, i32([2, 1], [2, 0]), upd))).toEqual([
      5, 6, 0, 0, 1, 2, 7, 8, 0, 0, 3, 4
    ])
    const ones = i32([2, 3, 2], new Array<number>(12).fill(1))
    expect(values(call("scatter_add", gp([1], "clip"), ones, i32([2, 1], [1, 7]), upd))).toEqual([
      1, 1, 2, 3, 6, 7, 1, 1, 4, 5, 8, 9
    ])
    expect(values(ones)).toEqual(new Array<number>(12).fill(1))
  })
  it("reports a bad indexed axis under the primitive's name", () => {
    const x = aval([3], "float32"),
      idx = aval([2, 1], "int32"),
      out = aval([2], "float32")
    const p = gp([4], "clip")
    const data = [allocHost("float32", 3), allocHost("int32", 2)]
    expect(() => cpuKernels.gather(data, [x, idx], [out], p)).toThrow(/gather/)
    const withUpd = [...data, allocHost("float32", 2)]
    expect(() => cpuKernels.scatter(withUpd, [x, idx, out], [x], p)).toThrow(/scatter\b(?!_add)/)
    expect(() => cpuKernels.scatter_add(withUpd, [x, idx, out], [x], p)).toThrow(/scatter_add/)
  })
  it("gathers complex rows with both words", () => {
    const x = c64([3], [1, -1, 2, -2, 3, -3])
    expect(values(call("gather", gp([0], "clip"), x, i32([2, 1], [2, 0])))).toEqual([3, -3, 1, -1])
  })
})

describe("scatter and scatter_add", () => {
  it("scatter: the last of duplicate updates wins, also for slices", () => {
    const x = i32([3, 2], [0, 0, 0, 0, 0, 0])
    const upd = i32([3, 2], [1, 2, 3, 4, 5, 6])
    expect(values(call("scatter", gp([0], "fill"), x, i32([3, 1], [2, 0, 2]), upd))).toEqual([3, 4, 0, 0, 5, 6])
    // the operand is not modified
    expect(values(x)).toEqual([0, 0, 0, 0, 0, 0])
  })
  it("scatter_add sums duplicates; bool scatter_add is logical or", () => {
    const p = gp([0], "fill")
    expect(
      values(call("scatter_add", p, f32([3], [1, 1, 1]), i32([4, 1], [0, 2, 0, 0]), f32([4], [1, 2, 3, 4])))
    ).toEqual([9, 1, 3])
    const b = call("scatter_add", p, bool([3], [1, 0, 0]), i32([4, 1], [0, 1, 1, 2]), bool([4], [1, 1, 1, 0]))
    expect(values(b)).toEqual([1, 1, 0])
    const c = call("scatter_add", p, c64([2], [1, 1, 0, 0]), i32([2, 1], [0, 0]), c64([2], [1, 2, 3, 4]))
    expect(values(c)).toEqual([5, 7, 0, 0])
    // slices of bools: or per element
    const bs = call("scatter_add", p, bool([2, 2], [1, 0, 0, 0]), i32([2, 1], [0, 0]), bool([2, 2], [1, 1, 0, 1]))
    expect(values(bs)).toEqual([1, 1, 0, 0])
    // or-ing a row touches exactly that row's elements, in order
    const br = call("scatter_add", p, bool([3, 2], [0, 0, 0, 0, 0, 0]), i32([2, 1], [0, 2]), bool([2, 2], [0, 1, 1, 0]))
    expect(values(br)).toEqual([0, 1, 0, 0, 1, 0])
  })
  it("drops out-of-range updates in fill and promise_in_bounds modes (XLA scatter skips them)", () => {
    for (const mode of ["fill", "promise_in_bounds"] as const) {
      const p = gp([0], mode)
      const idx = i32([4, 1], [-1, 3, 1, 0x7fffffff])
      expect(values(call("scatter_add", p, i32([3], [0, 0, 0]), idx, i32([4], [1, 2, 3, 4])))).toEqual([0, 3, 0])
      expect(values(call("scatter", p, i32([3, 2], range(6)), idx, i32([4, 2], range(8, 10))))).toEqual([
        0, 1, 14, 15, 4, 5
      ])
      expect(values(call("scatter", p, i32([3], [0, 0, 0]), u32([1, 1], [0x80000000]), i32([1], [5])))).toEqual([
        0, 0, 0
      ])
    }
  })
  it("clamps out-of-range updates in clip mode", () => {
    const p = gp([0], "clip")
    const idx = i32([4, 1], [-1, 3, 1, 0x7fffffff])
    expect(values(call("scatter_add", p, i32([3], [0, 0, 0]), idx, i32([4], [1, 2, 3, 4])))).toEqual([1, 3, 6])
    expect(values(call("scatter", p, i32([3], [0, 0, 0]), u32([1, 1], [0x80000000]), i32([1], [5])))).toEqual([0, 0, 5])
    // an empty axis takes no update even in clip mode
    expect(values(call("scatter", p, i32([0], []), i32([1, 1], [0]), i32([1], [5])))).toEqual([])
  })
  it("scatters with batch dims and two indexed axes", () => {
    const x = i32([2, 2, 3], new Array<number>(12).fill(0))
    const idx = i32([2, 1, 2], [1, 2, 0, 1])
    const r = call("scatter_add", gp([1, 2], "fill", 1), x, idx, i32([2, 1], [5, 7]))
    expect(values(r)).toEqual([0, 0, 0, 0, 0, 5, 0, 7, 0, 0, 0, 0])
    const s = call("scatter", gp([2], "clip", 1), x, i32([2, 1, 1], [9, -3]), i32([2, 1, 2], [1, 2, 3, 4]))
    expect(values(s)).toEqual([0, 0, 1, 0, 0, 2, 3, 0, 0, 4, 0, 0])
  })
})

describe("structural", () => {
  it("transposes ranks 0 through 5", () => {
    expect(values(call("transpose", { permutation: [] }, f32([], [4])))).toEqual([4])
    expect(values(call("transpose", { permutation: [0] }, f32([3], [1, 2, 3])))).toEqual([1, 2, 3])
    const x3 = i32([2, 3, 2], range(12))
    expect(values(call("transpose", { permutation: [2, 0, 1] }, x3))).toEqual([0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11])
    const x5 = i32([2, 1, 2, 1, 2], range(8))
    // reverses the axes: out[a, b, c, d, e] = x[e, d, c, b, a]
    const t5 = call("transpose", { permutation: [4, 3, 2, 1, 0] }, x5)
    expect(t5.shape).toEqual([2, 1, 2, 1, 2])
    expect(values(t5)).toEqual([0, 4, 2, 6, 1, 5, 3, 7])
  })
  it("transposes complex elements as word pairs", () => {
    const x = c64([2, 2], [1, 10, 2, 20, 3, 30, 4, 40])
    expect(values(call("transpose", { permutation: [1, 0] }, x))).toEqual([1, 10, 3, 30, 2, 20, 4, 40])
  })
  it("broadcasts scalars, complex scalars, keys and to empty shapes", () => {
    expect(values(call("broadcast_in_dim", { shape: [2, 2], broadcastDimensions: [] }, i32([], [7])))).toEqual([
      7, 7, 7, 7
    ])
    expect(values(call("broadcast_in_dim", { shape: [3], broadcastDimensions: [] }, c64([], [1, 2])))).toEqual([
      1, 2, 1, 2, 1, 2
    ])
    const k = call("broadcast_in_dim", { shape: [2, 1], broadcastDimensions: [1] }, keys([1], [5, 6]))
    expect(values(k)).toEqual([5, 6, 5, 6])
    expect(values(call("broadcast_in_dim", { shape: [0, 3], broadcastDimensions: [1] }, f32([3], [1, 2, 3])))).toEqual(
      []
    )
    expect(values(call("broadcast_in_dim", { shape: [2, 3], broadcastDimensions: [0] }, f32([2], [1, 2])))).toEqual([
      1, 1, 1, 2, 2, 2
    ])
    expect(values(call("broadcast_in_dim", { shape: [2, 3], broadcastDimensions: [1] }, bool([3], [1, 0, 1])))).toEqual(
      [1, 0, 1, 1, 0, 1]
    )
  })
  it("slices complex values with strides", () => {
    const x = c64([5], range(10))
    expect(values(call("slice", { startIndices: [1], limitIndices: [5], strides: [2] }, x))).toEqual([2, 3, 6, 7])
  })
  it("dynamic slices and updates clamp starts for complex and keys", () => {
    const x = c64([4], range(8))
    expect(values(call("dynamic_slice", { sliceSizes: [2] }, x, i32([], [3])))).toEqual([4, 5, 6, 7])
    expect(values(call("dynamic_slice", { sliceSizes: [2] }, x, i32([], [-5])))).toEqual([0, 1, 2, 3])
    expect(values(call("dynamic_slice", { sliceSizes: [2] }, x, u32([], [1])))).toEqual([2, 3, 4, 5])
    const u = call("dynamic_update_slice", none, x, c64([1], [-1, -2]), i32([], [9]))
    expect(values(u)).toEqual([0, 1, 2, 3, 4, 5, -1, -2])
    const m = i32([3, 3], range(9))
    expect(values(call("dynamic_slice", { sliceSizes: [3, 1] }, m, i32([], [2]), i32([], [2])))).toEqual([2, 5, 8])
    const mu = call("dynamic_update_slice", none, m, i32([2, 1], [-1, -2]), i32([], [5]), i32([], [-1]))
    expect(values(mu)).toEqual([0, 1, 2, -1, 4, 5, -2, 7, 8])
    const ku = call("dynamic_update_slice", none, keys([3], range(6)), keys([1], [9, 9]), i32([], [1]))
    expect(values(ku)).toEqual([0, 1, 9, 9, 4, 5])
  })
  it("concatenates empty parts and complex values along any axis", () => {
    const a = i32([2, 0], [])
    const b = i32([2, 2], [1, 2, 3, 4])
    const c = i32([2, 1], [5, 6])
    expect(values(call("concatenate", { dimension: 1 }, a, b, a, c))).toEqual([1, 2, 5, 3, 4, 6])
    expect(values(call("concatenate", { dimension: 0 }, i32([0, 2], []), i32([0, 2], [])))).toEqual([])
    const z1 = c64([1, 1], [1, 2])
    const z2 = c64([1, 2], [3, 4, 5, 6])
    expect(values(call("concatenate", { dimension: -1 }, z2, z1))).toEqual([3, 4, 5, 6, 1, 2])
    expect(values(call("concatenate", { dimension: 0 }, z1, c64([1, 1], [7, 8])))).toEqual([1, 2, 7, 8])
  })
  it("pads bool and int32 arrays with low, high and interior padding", () => {
    expect(values(call("pad", { config: [[1, 2, 1]] }, i32([3], [1, 2, 3]), i32([], [-9])))).toEqual([
      -9, 1, -9, 2, -9, 3, -9, -9
    ])
    const r = call(
      "pad",
      {
        config: [
          [0, 1, 0],
          [2, 0, 1]
        ]
      },
      bool([2, 2], [1, 0, 0, 1]),
      bool([], [0])
    )
    expect(r.shape).toEqual([3, 5])
    expect(values(r)).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0])
    expect(values(call("pad", { config: [[1, 1, 3]] }, f32([0], []), f32([], [2])))).toEqual([2, 2])
  })
  it("iota counts along any axis in every dtype", () => {
    expect(values(call("iota", { dtype: "uint32", shape: [2, 3, 2], dimension: 1 }))).toEqual([
      0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2
    ])
    expect(values(call("iota", { dtype: "int32", shape: [3], dimension: -1 }))).toEqual([0, 1, 2])
    expect(values(call("iota", { dtype: "float32", shape: [2, 2], dimension: 0 }))).toEqual([0, 0, 1, 1])
  })
  it("reports a bad axis under the primitive's name", () => {
    const x = aval([2], "float32")
    expect(() => cpuKernels.concatenate([allocHost("float32", 2)], [x], [x], { dimension: 3 })).toThrow(/concatenate/)
    expect(() => cpuKernels.iota([], [], [x], { dtype: "float32", shape: [2], dimension: 3 })).toThrow(/iota/)
  })
  it("returns the input when broadcasting only adds size-1 axes, and a typed array when empty", () => {
    const x = f32([3], [1, 2, 3])
    const same = call("broadcast_in_dim", { shape: [1, 3, 1], broadcastDimensions: [1] }, x)
    expect(same.data).toBe(x.data)
    const empty = call("broadcast_in_dim", { shape: [0, 3], broadcastDimensions: [1] }, x)
    expect(empty.data).toBeInstanceOf(Float32Array)
    expect(empty.data.length).toBe(0)
  })
  it("dynamic_update_slice leaves its operand unchanged", () => {
    const x = i32([3], [1, 2, 3])
    expect(values(call("dynamic_update_slice", none, x, i32([1], [9]), i32([], [1])))).toEqual([1, 9, 3])
    expect(values(x)).toEqual([1, 2, 3])
  })
  it("reinterpretations return their input", () => {
    const x = f32([2, 2], [1, 2, 3, 4])
    expect(call("reshape", { newSizes: [4] }, x).data).toBe(x.data)
    expect(call("transpose", { permutation: [0, 1] }, x).data).toBe(x.data)
  })
})
