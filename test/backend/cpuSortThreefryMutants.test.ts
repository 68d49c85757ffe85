/**
 * The cpu reference kernels for `sort` (src/backend/cpu/sort.ts) and `threefry2x32`
 * (src/backend/cpu/threefry.ts), called directly through the cpu kernel table so that they run
 * whichever backend the vitest project makes the default. Expected values are JAX's (jax.lax.sort and
 * the threefry2x32 primitive on cpu), written out by hand (issue 16: tests that catch injected bugs).
 */
import { describe, expect, it } from "vitest"
import { jnp, lax } from "effect-nnx"
import { aval } from "../../src/backend/DType.ts"
import { cpuKernels } from "../../src/backend/cpu/kernels.ts"
import { sizeOf } from "../../src/backend/shape.ts"
import type { Arr } from "../support/cpuKernelCall.ts"
import { arr, call, callAll } from "../support/cpuKernelCall.ts"

const f32 = (shape: ReadonlyArray<number>, v: ArrayLike<number>) => arr("float32", shape, v)
const i32 = (shape: ReadonlyArray<number>, v: ArrayLike<number>) => arr("int32", shape, v)
const u32 = (shape: ReadonlyArray<number>, v: ArrayLike<number>) => arr("uint32", shape, v)
const values = (x: Arr): Array<number> => Array.from(x.data)
const range = (n: number): Array<number> => Array.from({ length: n }, (_, k) => k)

describe("sort of a lone float32 operand ties -0 with +0, stably, as JAX does", () => {
  // jnp.sort(jnp.array([0., -0., 1., -1., 0., -0.])) in JAX 0.10.2: [-1, 0, -0, 0, -0, 1].
  const input = [0, -0, 1, -1, 0, -0]
  const want = [-1, 0, -0, 0, -0, 1]

  it("in the cpu kernel, along the last axis and along a strided one", () => {
    expect(values(call("sort", { dimension: 0, numKeys: 1 }, f32([6], input)))).toEqual(want)
    // Two lanes along axis 0 of a (6, 2) array: the input and its negation.
    const strided = input.flatMap((v) => [v, -v])
    const out = values(call("sort", { dimension: 0, numKeys: 1 }, f32([6, 2], strided)))
    expect(out.filter((_, i) => i % 2 === 0)).toEqual(want)
    expect(out.filter((_, i) => i % 2 === 1)).toEqual([-1, -0, 0, -0, 0, 1])
    // Lanes without both zeros are left to the typed array's order.
    expect(values(call("sort", { dimension: 0, numKeys: 1 }, f32([3], [2, -0, -1])))).toEqual([-1, -0, 2])
  })

  it("on the default backend, short lanes and long (radix-sorted) ones", () => {
    expect(jnp.sort(jnp.array(input, { dtype: "float32" })).tolist()).toEqual(want)
    const grid = jnp.array(
      [
        [-0, 0],
        [0, -0]
      ],
      { dtype: "float32" }
    )
    expect(lax.sort(grid, 0).tolist()).toEqual([
      [-0, 0],
      [0, -0]
    ])
    // One Array gives one Array, as in JAX; anything else is named.
    expect(lax.sort(grid).shape).toEqual([2, 2])
    expect(() => lax.sort(3 as never)).toThrow("sort: expected an Array or a list of Arrays to sort")
    const long = Array.from({ length: 200 }, (_, k) => (k % 3 === 0 ? -0 : k % 3 === 1 ? 0 : k - 100))
    const sorted = jnp.sort(jnp.array(long, { dtype: "float32" })).tolist() as Array<number>
    const zeros = long.filter((v) => v === 0)
    const at = sorted.indexOf(0)
    expect(sorted.slice(at, at + zeros.length)).toEqual(zeros)
  })
})

describe("sort", () => {
  it("orders NaN keys last, ties -0 with +0, and keeps equal keys in order", () => {
    const k = f32([8], [2, NaN, -0, 1, NaN, 0, -Infinity, 2])
    const [sk, sp] = callAll("sort", { dimension: 0, numKeys: 1 }, k, i32([8], range(8)))
    expect(values(sk!)).toEqual([-Infinity, -0, 0, 1, 2, 2, NaN, NaN])
    expect(values(sp!)).toEqual([6, 2, 5, 3, 0, 7, 1, 4])
    const [zk, zp] = callAll("sort", { dimension: 0, numKeys: 1 }, f32([3], [0, -0, 0]), i32([3], [0, 1, 2]))
    expect(values(zk!)).toEqual([0, -0, 0])
    expect(values(zp!)).toEqual([0, 1, 2])
  })
  it("breaks ties on the first key by the second, NaN last in each", () => {
    const a = f32([6], [1, NaN, 1, NaN, 0, 1]),
      b = f32([6], [NaN, 3, 2, 1, 5, NaN]),
      c = i32([6], range(6))
    const [x, y, z] = callAll("sort", { dimension: 0, numKeys: 2 }, a, b, c)
    expect(values(x!)).toEqual([0, 1, 1, 1, NaN, NaN])
    expect(values(y!)).toEqual([5, 2, NaN, NaN, 1, 3])
    expect(values(z!)).toEqual([4, 2, 0, 5, 3, 1])
  })
  it("sorts only by the first numKeys operands, stably, over many ties", () => {
    // 40 elements with 4 distinct keys: the permutation must keep each key's elements in order.
    const keys = range(40).map((k) => (k * 7) % 4)
    const second = range(40).map((k) => 39 - k)
    const [sk, s2, sp] = callAll(
      "sort",
      { dimension: 0, numKeys: 1 },
      i32([40], keys),
      i32([40], second),
      i32([40], range(40))
    )
    const want = range(40).sort((p, q) => keys[p]! - keys[q]! || p - q)
    expect(values(sp!)).toEqual(want)
    expect(values(sk!)).toEqual(want.map((p) => keys[p]!))
    expect(values(s2!)).toEqual(want.map((p) => second[p]!))
  })
  it("sorts lanes along a middle axis, operands together", () => {
    // shape [2, 3, 2], dimension 1: outer 2, inner 2
    const x = f32([2, 3, 2], [3, 1, 1, 2, 2, 0, 5, 5, 4, 4, 0, 6])
    const [sx, sy] = callAll("sort", { dimension: 1, numKeys: 1 }, x, i32([2, 3, 2], range(12)))
    expect(values(sx!)).toEqual([1, 0, 2, 1, 3, 2, 0, 4, 4, 5, 5, 6])
    expect(values(sy!)).toEqual([2, 5, 4, 1, 0, 3, 10, 9, 8, 7, 6, 11])
  })
  it("sorts a lone operand's lanes along any axis", () => {
    const x = f32([2, 3, 2], [3, 1, 2, 9, 8, 7, NaN, 0, -1, 2, 2, 1])
    expect(values(call("sort", { dimension: 1, numKeys: 1 }, x))).toEqual([2, 1, 3, 7, 8, 9, -1, 0, 2, 1, NaN, 2])
    expect(values(call("sort", { dimension: -1, numKeys: 1 }, i32([2, 3], [3, 1, 2, 0, -5, 7])))).toEqual([
      1, 2, 3, -5, 0, 7
    ])
    expect(values(call("sort", { dimension: 0, numKeys: 1 }, u32([3], [0x80000000, 1, 5])))).toEqual([1, 5, 0x80000000])
    // lanes side by side: sorting lane 0 of the first block must not reach into the second block
    expect(values(call("sort", { dimension: 1, numKeys: 1 }, f32([2, 2, 2], [5, 0, 6, 0, 1, 0, 0, 0])))).toEqual([
      5, 0, 6, 0, 0, 0, 1, 0
    ])
    // the input is left as it was
    const y = i32([3], [3, 1, 2])
    call("sort", { dimension: 0, numKeys: 1 }, y)
    expect(values(y)).toEqual([3, 1, 2])
  })
})

describe("threefry2x32", () => {
  const fry = (k1: Arr, k2: Arr, x1: Arr, x2: Arr): [Array<number>, Array<number>] => {
    const [y1, y2] = callAll("threefry2x32", {}, k1, k2, x1, x2)
    return [values(y1!), values(y2!)]
  }
  const one = (v: number) => u32([1], [v])
  it("matches the Random123 known-answer vectors", () => {
    expect(fry(one(0), one(0), one(0), one(0))).toEqual([[0x6b200159], [0x99ba4efe]])
    expect(fry(one(0xffffffff), one(0xffffffff), one(0xffffffff), one(0xffffffff))).toEqual([
      [0x1cb996fc],
      [0xbb002be7]
    ])
    expect(fry(one(0x13198a2e), one(0x03707344), one(0x243f6a88), one(0x85a308d3))).toEqual([
      [0xc4923a9c],
      [0x483df7a0]
    ])
  })
  it("encrypts whole operands element by element", () => {
    expect(fry(u32([2], [1, 2]), u32([2], [3, 4]), u32([2], [5, 6]), u32([2], [7, 8]))).toEqual([
      [194261826, 2249715778],
      [3454386844, 3488079913]
    ])
  })
  it("shares a single-element key across counters", () => {
    const x1 = u32([5], [0, 1, 2, 3, 4]),
      x2 = u32([5], [10, 11, 12, 13, 14])
    const want: [Array<number>, Array<number>] = [
      [1639331883, 1094505698, 1678658585, 2005252144, 4225687329],
      [3185291670, 1010467606, 3437757118, 1048391607, 3029115267]
    ]
    expect(fry(u32([1], [7]), u32([1], [9]), x1, x2)).toEqual(want)
    expect(fry(u32([5], [7, 7, 7, 7, 7]), u32([5], [9, 9, 9, 9, 9]), x1, x2)).toEqual(want)
  })
  it("shares single-element counters across keys", () => {
    const k1 = u32([3], [1, 2, 0xffffffff]),
      k2 = u32([3], [3, 4, 5])
    const got = fry(k1, k2, u32([1], [5]), u32([1], [7]))
    expect(got[0][0]).toBe(194261826)
    expect(got[1][0]).toBe(3454386844)
    expect(got).toEqual(fry(k1, k2, u32([3], [5, 5, 5]), u32([3], [7, 7, 7])))
  })
  it("broadcasts operands along some axes", () => {
    // k1 [2, 1], k2 [1, 3], x1 [2, 3], x2 [2, 1] into [2, 3]
    expect(fry(u32([2, 1], [1, 2]), u32([1, 3], [3, 4, 5]), u32([2, 3], range(6)), u32([2, 1], [100, 200]))).toEqual([
      [1136534766, 3450647382, 1624568480, 39390971, 2920077540, 673328460],
      [4250986864, 2926153611, 4166229735, 943371110, 174726300, 113991348]
    ])
  })
  it("broadcasts along inner and outer axes of rank 3 as if expanded by hand", () => {
    const out = [2, 3, 2]
    const expand = (x: Arr): Arr => {
      const v: Array<number> = []
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 3; j++)
          for (let k = 0; k < 2; k++) {
            const idx = [i, j, k].map((c, d) => (x.shape[d] === 1 ? 0 : c))
            v.push(x.data[(idx[0]! * x.shape[1]! + idx[1]!) * x.shape[2]! + idx[2]!]!)
          }
      return u32(out, v)
    }
    const k1 = u32([2, 1, 2], [1, 2, 3, 4]),
      k2 = u32([1, 3, 1], [5, 6, 7]),
      x1 = u32([2, 3, 1], [8, 9, 10, 11, 12, 13]),
      x2 = u32([1, 1, 2], [0xfffffffe, 0x80000000])
    const got = fry(k1, k2, x1, x2)
    expect(got[0].length).toBe(sizeOf(out))
    expect(got).toEqual(fry(expand(k1), expand(k2), expand(x1), expand(x2)))
  })
  it("refuses operands that are not uint32 storage", () => {
    const a = aval([1], "uint32")
    const run = () =>
      cpuKernels.threefry2x32(
        [new Uint32Array(1), new Uint32Array(1), new Int32Array(1), new Uint32Array(1)],
        [a, a, a, a],
        [a, a],
        {}
      )
    expect(run).toThrow(TypeError)
    expect(run).toThrow("threefry2x32: operands must be uint32 storage")
  })
})
