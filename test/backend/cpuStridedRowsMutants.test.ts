/**
 * The strided iteration shared by the cpu reference kernels (src/backend/cpu/stridedRows.ts: axis
 * collapsing, the row cursor, strided and tiled copies, row tables), exercised through the copy
 * kernels (transpose, slice, pad, concatenate, broadcast_in_dim, dynamic_update_slice, gather) called
 * directly through the cpu kernel table. Expected values come from naive index arithmetic written
 * here, independent of the kernels (issue 16: tests that catch injected bugs).
 */
import { describe, expect, it } from "vitest"
import { sizeOf } from "../../src/backend/shape.ts"
import type { Arr } from "../support/cpuKernelCall.ts"
import { naive, ravel } from "../support/multiIndex.ts"
import { arr, call } from "../support/cpuKernelCall.ts"

const values = (x: Arr): Array<number> => Array.from(x.data)
const range = (n: number, from = 0): Array<number> => Array.from({ length: n }, (_, k) => k + from)
const iota = (shape: ReadonlyArray<number>) => arr("int32", shape, range(sizeOf(shape), 1))

const transposed = (x: Arr, perm: ReadonlyArray<number>): Array<number> => {
  const outShape = perm.map((p) => x.shape[p]!)
  return naive(outShape, (idx) => {
    const src = new Array<number>(perm.length)
    perm.forEach((p, i) => {
      src[p] = idx[i]!
    })
    return x.data[ravel(src, x.shape)]!
  })
}

describe("transposing copies", () => {
  const cases: ReadonlyArray<[ReadonlyArray<number>, ReadonlyArray<number>]> = [
    // tiled: both axes at least 8, across the 32-element tile edges
    [
      [40, 37],
      [1, 0]
    ],
    [
      [8, 8],
      [1, 0]
    ],
    [
      [9, 70],
      [1, 0]
    ],
    // tiled with an outer axis walked by the row cursor, and the tile axis chosen among several
    [
      [3, 9, 10],
      [2, 0, 1]
    ],
    [
      [3, 9, 10],
      [0, 2, 1]
    ],
    [
      [10, 3, 9],
      [1, 2, 0]
    ],
    [
      [9, 2, 10, 3],
      [3, 1, 2, 0]
    ],
    [
      [2, 9, 3, 10],
      [3, 0, 2, 1]
    ],
    // too small to tile
    [
      [7, 40],
      [1, 0]
    ],
    [
      [40, 7],
      [1, 0]
    ],
    [
      [2, 3, 4],
      [2, 1, 0]
    ],
    [
      [2, 1, 3],
      [2, 1, 0]
    ],
    [
      [1, 5, 1, 4],
      [3, 2, 1, 0]
    ]
  ]
  it.each(cases)("shape %j, permutation %j", (shape, perm) => {
    const x = iota(shape)
    const r = call("transpose", { permutation: perm }, x)
    expect(r.shape).toEqual(perm.map((p) => shape[p]!))
    expect(values(r)).toEqual(transposed(x, perm))
  })
  it("transposes float32 and keys of a tiled size", () => {
    const x = arr(
      "float32",
      [12, 9],
      range(108).map((k) => k / 4)
    )
    expect(values(call("transpose", { permutation: [1, 0] }, x))).toEqual(transposed(x, [1, 0]))
    const words = arr("uint32", [10, 9, 2], range(180))
    const keys = call("random_wrap", {}, words)
    const t = call("transpose", { permutation: [1, 0] }, keys)
    expect(values(t)).toEqual(transposed(words, [1, 0, 2]))
  })
})

describe("windows and strided copies", () => {
  it("slices long contiguous rows (copied in bulk) and short ones", () => {
    const x = iota([3, 100])
    for (const [lo, hi] of [
      [5, 80],
      [0, 100],
      [10, 73],
      [10, 74],
      [1, 4]
    ] as const) {
      const r = call("slice", { startIndices: [1, lo], limitIndices: [3, hi], strides: [1, 1] }, x)
      expect(values(r)).toEqual(naive([2, hi - lo], ([i, j]) => x.data[(i! + 1) * 100 + j! + lo]!))
    }
  })
  it("slices with steps along each axis", () => {
    const x = iota([5, 6, 7])
    const r = call("slice", { startIndices: [1, 0, 2], limitIndices: [5, 6, 7], strides: [2, 3, 2] }, x)
    expect(r.shape).toEqual([2, 2, 3])
    expect(values(r)).toEqual(
      naive([2, 2, 3], ([i, j, k]) => x.data[ravel([1 + 2 * i!, 3 * j!, 2 + 2 * k!], [5, 6, 7])]!)
    )
    const long = iota([2, 200])
    const s = call("slice", { startIndices: [0, 1], limitIndices: [2, 200], strides: [1, 2] }, long)
    expect(values(s)).toEqual(naive([2, 100], ([i, j]) => long.data[i! * 200 + 1 + 2 * j!]!))
  })
  it("pads with edges and interior, the copy strided in the output", () => {
    const x = iota([2, 3])
    const r = call(
      "pad",
      {
        config: [
          [1, 0, 1],
          [2, 1, 0]
        ]
      },
      x,
      arr("int32", [], [0])
    )
    expect(r.shape).toEqual([4, 6])
    expect(values(r)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 5, 6, 0])
    const wide = iota([2, 70])
    const p = call(
      "pad",
      {
        config: [
          [0, 1, 0],
          [3, 0, 0]
        ]
      },
      wide,
      arr("int32", [], [-1])
    )
    expect(values(p)).toEqual(naive([3, 73], ([i, j]) => (i! < 2 && j! >= 3 ? wide.data[i! * 70 + j! - 3]! : -1)))
  })
  it("concatenates along inner and outer axes", () => {
    const a = iota([2, 3]),
      b = arr("int32", [2, 70], range(140, 100))
    const r = call("concatenate", { dimension: 1 }, a, b)
    expect(values(r)).toEqual(naive([2, 73], ([i, j]) => (j! < 3 ? a.data[i! * 3 + j!]! : b.data[i! * 70 + j! - 3]!)))
    const c = call("concatenate", { dimension: 0 }, iota([1, 3]), iota([2, 3]))
    expect(values(c)).toEqual([1, 2, 3, 1, 2, 3, 4, 5, 6])
  })
  it("updates a window in place of a copy", () => {
    const op = arr("int32", [4, 80], new Array(320).fill(0))
    const upd = arr("int32", [2, 70], range(140, 1))
    const r = call("dynamic_update_slice", {}, op, upd, arr("int32", [], [1]), arr("int32", [], [5]))
    expect(values(r)).toEqual(
      naive([4, 80], ([i, j]) => (i! >= 1 && i! < 3 && j! >= 5 && j! < 75 ? upd.data[(i! - 1) * 70 + j! - 5]! : 0))
    )
  })
  it("broadcasts along leading, middle and trailing axes", () => {
    const x = iota([3, 1, 4])
    const r = call("broadcast_in_dim", { shape: [2, 3, 5, 4], broadcastDimensions: [1, 2, 3] }, x)
    expect(values(r)).toEqual(naive([2, 3, 5, 4], ([, j, , l]) => x.data[j! * 4 + l!]!))
    const col = iota([3])
    const c = call("broadcast_in_dim", { shape: [3, 9, 10], broadcastDimensions: [0] }, col)
    expect(values(c)).toEqual(naive([3, 9, 10], ([i]) => i! + 1))
    const row = iota([10])
    const w = call("broadcast_in_dim", { shape: [9, 10], broadcastDimensions: [1] }, row)
    expect(values(w)).toEqual(naive([9, 10], ([, j]) => j! + 1))
  })
  it("gathers windows that are not contiguous, row by row from a table", () => {
    // columns 2 and 0 of a [3, 4, 5] operand: each slice is [3, 5] rows 20 elements apart
    const x = iota([3, 4, 5])
    const idx = arr("int32", [2, 1], [2, 0])
    const r = call("gather", { indexedAxes: [1], batchDims: 0, mode: "clip" }, x, idx)
    expect(r.shape).toEqual([2, 3, 5])
    expect(values(r)).toEqual(naive([2, 3, 5], ([g, i, k]) => x.data[(i! * 4 + [2, 0][g!]!) * 5 + k!]!))
  })
  it("gathers rows of a window with a row table", () => {
    // rows 2 and 0 of a [3, 4, 70] operand, each a [4, 70] slice walked row by row
    const x = iota([3, 4, 70])
    const idx = arr("int32", [2, 1], [2, 0])
    const r = call("gather", { indexedAxes: [0], batchDims: 0, mode: "clip" }, x, idx)
    expect(values(r)).toEqual(naive([2, 4, 70], ([g, i, j]) => x.data[([2, 0][g!]! * 4 + i!) * 70 + j!]!))
  })
})
