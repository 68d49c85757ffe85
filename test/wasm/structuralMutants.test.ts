/**
 * The wasm copy kernels (src/backend/wasm/kernels/structural.ts) called directly on a test runtime
 * that records the tasks each run asks for and runs them one after another (issue 16: tests that
 * catch injected bugs), against the cpu reference kernels: every dtype, complex64 and PRNG keys (two
 * words per element, moved as units) included, size-1 axes broadcast or kept, negative dimensions,
 * clamped dynamic starts of both index dtypes, and iota along every axis.
 */
import { assert, describe, it } from "@effect/vitest"
import type { DType, HostArray } from "../../src/backend/DType.ts"
import { allocHost } from "../../src/backend/DType.ts"
import {
  broadcastInDimKernel,
  concatenateKernel,
  copy,
  dynamicSliceKernel,
  dynamicUpdateSliceKernel,
  iotaKernel,
  padKernel,
  sliceKernel,
  transposeKernel
} from "../../src/backend/wasm/kernels/structural.ts"
import { aval, mulberry32, size } from "./support.ts"
import { check, testRuntime } from "./kernelRuntime.ts"

const rnd = mulberry32(20261205)

const dtypes: ReadonlyArray<DType> = ["float32", "int32", "uint32", "bool", "complex64", "key<fry>"]

/** Distinct values (no NaN payloads, which a float copy need not keep). */
const data = (dtype: DType, shape: ReadonlyArray<number>): HostArray => {
  const h = allocHost(dtype, size(shape))
  for (let i = 0; i < h.length; i++)
    h[i] =
      dtype === "bool"
        ? rnd() < 0.5
          ? 1
          : 0
        : dtype === "float32" || dtype === "complex64"
          ? (i + 1) * (rnd() < 0.5 ? -1.25 : 0.75)
          : dtype === "int32"
            ? (i + 1) * -7919
            : (i + 1) * 2654435761
  return h
}

describe("wasm copy kernels on a recording runtime", () => {
  it("broadcast every dtype, size-1 axes to many or to one", () => {
    const t = testRuntime(2)
    for (const dtype of dtypes)
      for (const [from, shape, broadcastDimensions] of [
        [[3], [2, 3], [1]],
        [[1], [4], [0]],
        [[1], [1], [0]],
        [
          [1, 3],
          [1, 3],
          [0, 1]
        ],
        [
          [1, 3],
          [2, 3],
          [0, 1]
        ],
        [
          [3, 1],
          [3, 5],
          [0, 1]
        ],
        [
          [2, 1, 3],
          [2, 4, 3],
          [0, 1, 2]
        ],
        [[3], [3, 2], [0]],
        [[], [2, 3], []],
        [
          [2, 3],
          [2, 5, 3],
          [0, 2]
        ]
      ] as const) {
        const a = aval(from, dtype)
        check(
          t,
          broadcastInDimKernel,
          "broadcast_in_dim",
          [data(dtype, from)],
          [a],
          { shape, broadcastDimensions },
          `broadcast ${dtype} [${from}] to [${shape}] by [${broadcastDimensions}]`
        )
      }
  })

  it("transpose every dtype, keys and complex numbers as units", () => {
    const t = testRuntime(2)
    for (const dtype of dtypes)
      for (const [shape, permutation] of [
        [
          [2, 3, 4],
          [2, 0, 1]
        ],
        [
          [2, 3, 4],
          [1, 2, 0]
        ],
        [
          [3, 4],
          [1, 0]
        ],
        [
          [1, 5],
          [1, 0]
        ],
        [[5], [0]]
      ] as const)
        check(
          t,
          transposeKernel,
          "transpose",
          [data(dtype, shape)],
          [aval(shape, dtype)],
          { permutation },
          `transpose ${dtype} [${shape}] by [${permutation}]`
        )
  })

  it("slice every dtype with starts and steps", () => {
    const t = testRuntime(2)
    for (const dtype of dtypes)
      for (const [startIndices, limitIndices, strides] of [
        [
          [1, 2],
          [9, 12],
          [2, 3]
        ],
        [
          [3, 0],
          [4, 12],
          [1, 5]
        ],
        [
          [0, 11],
          [10, 12],
          [3, 1]
        ],
        [
          [2, 4],
          [7, 9],
          [1, 1]
        ]
      ] as const)
        check(
          t,
          sliceKernel,
          "slice",
          [data(dtype, [10, 12])],
          [aval([10, 12], dtype)],
          { startIndices, limitIndices, strides },
          `slice ${dtype} [${startIndices}] to [${limitIndices}] by [${strides}]`
        )
  })

  it("clamp dynamic starts of both index dtypes into the operand", () => {
    const t = testRuntime(2)
    for (const dtype of dtypes)
      for (const [i, j] of [
        [1, 2],
        [4, 4],
        [5, -1],
        [-3, 9],
        [0, 0],
        [3, 1],
        [-0x80000000, 0x7fffffff]
      ] as const)
        for (const index of ["int32", "uint32"] as const) {
          if (index === "uint32" && (i < 0 || j < 0)) continue
          const starts =
            index === "int32" ? [Int32Array.of(i), Int32Array.of(j)] : [Uint32Array.of(i), Uint32Array.of(j)]
          const idx = [aval([], index), aval([], index)]
          check(
            t,
            dynamicSliceKernel,
            "dynamic_slice",
            [data(dtype, [6, 7]), ...starts],
            [aval([6, 7], dtype), ...idx],
            { sliceSizes: [2, 3] },
            `dynamic_slice ${dtype} at ${index} ${i}, ${j}`
          )
          check(
            t,
            dynamicUpdateSliceKernel,
            "dynamic_update_slice",
            [data(dtype, [6, 7]), data(dtype, [2, 3]), ...starts],
            [aval([6, 7], dtype), aval([2, 3], dtype), ...idx],
            {},
            `dynamic_update_slice ${dtype} at ${index} ${i}, ${j}`
          )
        }
    for (const dtype of dtypes) {
      // starts of 2^31 and more are large as uint32, negative as int32
      const big = [Uint32Array.of(0x80000001), Uint32Array.of(0xffffffff)]
      check(
        t,
        dynamicSliceKernel,
        "dynamic_slice",
        [data(dtype, [6, 7]), ...big],
        [aval([6, 7], dtype), aval([], "uint32"), aval([], "uint32")],
        { sliceSizes: [2, 3] },
        `dynamic_slice ${dtype} at uint32 2^31 + 1`
      )
      check(
        t,
        dynamicUpdateSliceKernel,
        "dynamic_update_slice",
        [data(dtype, [6, 7]), data(dtype, [2, 3]), ...big],
        [aval([6, 7], dtype), aval([2, 3], dtype), aval([], "uint32"), aval([], "uint32")],
        {},
        `dynamic_update_slice ${dtype} at uint32 2^31 + 1`
      )
      check(
        t,
        dynamicSliceKernel,
        "dynamic_slice",
        [data(dtype, [6, 7]), Uint32Array.of(1), Int32Array.of(-1)],
        [aval([6, 7], dtype), aval([], "uint32"), aval([], "int32")],
        { sliceSizes: [5, 7] },
        `dynamic_slice ${dtype} at mixed starts`
      )
    }
  })

  it("concatenate every dtype along every axis, negative ones included", () => {
    const t = testRuntime(2)
    for (const dtype of dtypes)
      for (const [shapes, dimension] of [
        [
          [
            [2, 3],
            [4, 3]
          ],
          0
        ],
        [
          [
            [2, 3],
            [2, 1],
            [2, 5]
          ],
          1
        ],
        [
          [
            [2, 3],
            [2, 1],
            [2, 5]
          ],
          -1
        ],
        [
          [
            [3, 2],
            [1, 2]
          ],
          -2
        ],
        [
          [
            [2, 0, 3],
            [2, 2, 3],
            [2, 1, 3]
          ],
          1
        ],
        [
          [
            [2, 2, 3],
            [2, 2, 1]
          ],
          -1
        ]
      ] as const)
        check(
          t,
          concatenateKernel,
          "concatenate",
          shapes.map((s) => data(dtype, s)),
          shapes.map((s) => aval(s, dtype)),
          { dimension },
          `concatenate ${dtype} on ${dimension}`
        )
  })

  it("pad every dtype with low, high and interior padding", () => {
    const t = testRuntime(2)
    // the backend runs the cpu kernel for complex64 and key pads
    for (const dtype of dtypes) {
      if (dtype === "key<fry>" || dtype === "complex64") continue
      for (const config of [
        [
          [1, 2, 0],
          [0, 1, 2]
        ],
        [
          [0, 0, 1],
          [2, 0, 0]
        ],
        [
          [3, 1, 2],
          [1, 3, 1]
        ]
      ] as const)
        check(
          t,
          padKernel,
          "pad",
          [data(dtype, [3, 4]), data(dtype, [])],
          [aval([3, 4], dtype), aval([], dtype)],
          { config },
          `pad ${dtype} by ${JSON.stringify(config)}`
        )
    }
  })

  it("write iota along every axis of every dtype", () => {
    const t = testRuntime(2)
    for (const dtype of ["int32", "uint32", "float32"] as const)
      for (const shape of [[5], [3, 4], [2, 3, 4], [1, 3], [3, 1], [2, 0, 3]])
        for (let dimension = -shape.length; dimension < shape.length; dimension++)
          check(
            t,
            iotaKernel,
            "iota",
            [],
            [],
            { dtype, shape, dimension },
            `iota ${dtype} [${shape}] along ${dimension}`
          )
  })

  it("key copy kernels by every shape and stride's digits", () => {
    const t = testRuntime(1)
    const src = t.place(Int32Array.from({ length: 64 }, (_, i) => i + 100))
    const go = (shape: ReadonlyArray<number>, from: ReadonlyArray<number>, to: ReadonlyArray<number>, n: number) => {
      const dst = t.place(new Int32Array(n).fill(-1))
      copy(t.rt, "int32", shape, src, from, dst, to)
      const want = new Int32Array(n).fill(-1)
      const walk = (axis: number, a: number, b: number): void => {
        if (axis === shape.length) {
          want[b] = a + 100
          return
        }
        for (let i = 0; i < shape[axis]!; i++) walk(axis + 1, a + i * from[axis]!, b + i * to[axis]!)
      }
      walk(0, 0, 0)
      assert.deepStrictEqual(
        Array.from(t.read(dst, new Int32Array(n))),
        Array.from(want),
        `[${shape}] [${from}] [${to}]`
      )
    }
    // without separators these print alike: shapes [1, 23] and [12, 3], strides [1, 23] and [12, 3]
    go([1, 23], [5, 1], [5, 1], 64)
    go([12, 3], [5, 1], [5, 1], 64)
    go([2, 3], [1, 23], [3, 1], 6)
    go([2, 3], [12, 3], [3, 1], 6)
    go([2, 3], [3, 1], [1, 23], 64)
    go([2, 3], [3, 1], [12, 3], 64)
  })

  it("copy nothing for empty shapes, and split long copies", () => {
    const t = testRuntime(4)
    const before = t.place(Int32Array.of(1, 2, 3))
    const dst = t.place(Int32Array.of(7, 8, 9))
    copy(t.rt, "int32", [0, 3], before, [3, 1], dst, [3, 1])
    copy(t.rt, "int32", [3, 0], before, [1, 1], dst, [1, 1])
    assert.deepStrictEqual(t.runs, [])
    assert.deepStrictEqual(Array.from(t.read(dst, new Int32Array(3))), [7, 8, 9])
    copy(t.rt, "int32", [3], before, [1], dst, [1])
    assert.deepStrictEqual(Array.from(t.read(dst, new Int32Array(3))), [1, 2, 3])
    check(
      t,
      broadcastInDimKernel,
      "broadcast_in_dim",
      [Float32Array.of(2.5)],
      [aval([], "float32")],
      { shape: [300, 400], broadcastDimensions: [] },
      "broadcast 120000"
    )
    assert.deepStrictEqual(
      t.runs.map((r) => r.tasks),
      [1, 3, 3]
    )
  })
})
