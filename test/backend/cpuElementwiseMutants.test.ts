/**
 * The cpu reference kernels for elementwise binary and unary primitives, `select` and the dtype
 * conversions (src/backend/cpu/binary.ts, unary.ts, convert.ts), called directly through the cpu
 * kernel table so that they run whichever backend the vitest project makes the default. Expected
 * values are JAX/XLA's (checked against jax 0.4 on cpu), written out by hand (issue 16: tests that
 * catch injected bugs).
 */
import { describe, expect, it } from "vitest"
import { DTypeError } from "../../src/backend/ArrayError.ts"
import { aval } from "../../src/backend/DType.ts"
import type { DType } from "../../src/backend/DType.ts"
import { cpuKernels } from "../../src/backend/cpu/kernels.ts"
import type { BinaryPrimitive } from "../../src/backend/Primitive.ts"
import { sizeOf } from "../../src/backend/shape.ts"
import type { Arr } from "../support/cpuKernelCall.ts"
import { arr, call } from "../support/cpuKernelCall.ts"

const f32 = (shape: ReadonlyArray<number>, v: ArrayLike<number>) => arr("float32", shape, v)
const i32 = (shape: ReadonlyArray<number>, v: ArrayLike<number>) => arr("int32", shape, v)
const u32 = (shape: ReadonlyArray<number>, v: ArrayLike<number>) => arr("uint32", shape, v)
const bool = (shape: ReadonlyArray<number>, v: ArrayLike<number>) => arr("bool", shape, v)
const c64 = (shape: ReadonlyArray<number>, v: ArrayLike<number>) => arr("complex64", shape, v)
const vec = (dtype: DType, v: ReadonlyArray<number>) => arr(dtype, [v.length], v)
const values = (x: Arr): Array<number> => Array.from(x.data)
const none = {}
const bin = (prim: BinaryPrimitive, a: Arr, b: Arr): Array<number> => values(call(prim, none, a, b))

/** Distance in float32 units in the last place. */
const ulps = (a: number, b: number): number => {
  const v = new DataView(new ArrayBuffer(8))
  v.setFloat32(0, a)
  v.setFloat32(4, b)
  return Math.abs(v.getInt32(0) - v.getInt32(4))
}

/** `x` broadcast to `shape` (equal rank), by naive index arithmetic. */
const expand = (x: Arr, shape: ReadonlyArray<number>): Arr => {
  const n = sizeOf(shape)
  const out: Array<number> = []
  for (let flat = 0; flat < n; flat++) {
    let rest = flat,
      src = 0,
      stride = 1
    const idx = new Array<number>(shape.length)
    for (let i = shape.length - 1; i >= 0; i--) {
      idx[i] = rest % shape[i]!
      rest = Math.floor(rest / shape[i]!)
    }
    for (let i = shape.length - 1; i >= 0; i--) {
      if (x.shape[i] !== 1) src += idx[i]! * stride
      stride *= x.shape[i]!
    }
    out.push(x.data[src]!)
  }
  return arr(x.dtype, shape, out)
}

describe("binary kernels, value by value", () => {
  it("adds, subtracts and multiplies each dtype family", () => {
    expect(bin("add", vec("float32", [1.5, -2, 0.1]), vec("float32", [2.25, 0.5, 0.2]))).toEqual([
      3.75,
      -1.5,
      Math.fround(Math.fround(0.1) + Math.fround(0.2))
    ])
    expect(bin("sub", vec("int32", [5, -3, -2147483648]), vec("int32", [7, -10, 1]))).toEqual([-2, 7, 2147483647])
    expect(bin("sub", vec("float32", [5, 0.5]), vec("float32", [7.5, 2]))).toEqual([-2.5, -1.5])
    expect(bin("mul", vec("float32", [1.5, -2, 3]), vec("float32", [3, 0.25, 1e-45]))).toEqual([
      4.5,
      -0.5,
      Math.fround(3 * Math.fround(1e-45))
    ])
    expect(bin("mul", vec("int32", [7, -3, 0x10001]), vec("int32", [6, 5, 0x10001]))).toEqual([42, -15, 0x20001])
    expect(bin("mul", vec("uint32", [7, 0x80000000]), vec("uint32", [6, 3]))).toEqual([42, 0x80000000])
  })
  it("divides floats with IEEE infinities and NaN, and integers toward zero", () => {
    expect(bin("div", vec("float32", [7, 1, -1, 0, 1]), vec("float32", [2, 0, 0, 0, 3]))).toEqual([
      3.5,
      Infinity,
      -Infinity,
      NaN,
      Math.fround(1 / 3)
    ])
    expect(bin("div", vec("int32", [7, -9, 0]), vec("int32", [2, 4, 0]))).toEqual([3, -2, -1])
    expect(bin("div", vec("uint32", [0xffffffff, 9, 0]), vec("uint32", [2, 4, 0]))).toEqual([0x7fffffff, 2, 0xffffffff])
  })
  it("takes fmod remainders of floats and x rem 0 = x of integers", () => {
    expect(bin("rem", vec("float32", [7.5, -7.5, 5, Infinity, 5]), vec("float32", [2, 2, 0, 2, Infinity]))).toEqual([
      1.5,
      -1.5,
      NaN,
      NaN,
      5
    ])
    expect(bin("rem", vec("int32", [-7, 7, 9]), vec("int32", [3, -3, 0]))).toEqual([-1, 1, 9])
    expect(bin("rem", vec("uint32", [7, 5, 0xffffffff]), vec("uint32", [0, 3, 10]))).toEqual([7, 2, 5])
  })
  it("raises floats to powers with C's special cases", () => {
    const a = vec("float32", [1, -1, -1, -1, 2, 2, -2, 0, -1, -1, 3])
    const b = vec("float32", [NaN, Infinity, -Infinity, NaN, Infinity, -Infinity, 0.5, -1, 3, 2, -2])
    expect(bin("pow", a, b)).toEqual([1, 1, 1, NaN, Infinity, 0, NaN, Infinity, -1, 1, Math.fround(1 / 9)])
  })
  it("raises integers to powers, negative exponents included", () => {
    const a = vec("int32", [-1, -1, 2, 1, 2, 0, -2, 5, -2, -3, 3, 7])
    const b = vec("int32", [-2, -3, -1, -5, 0, 0, -1, 1, 3, 2, 5, 10])
    expect(bin("pow", a, b)).toEqual([1, -1, 0, 1, 1, 1, 0, 5, -8, 9, 243, Math.imul(282475249, 1)])
    // Negative exponents give 0 for every base but ±1, odd bases included (no squaring loop runs).
    expect(bin("pow", vec("int32", [3, -3, 5, 2]), vec("int32", [-1, -2, -7, -2147483648]))).toEqual([0, 0, 0, 0])
    // Exponents of 2^31 and more (as uint32) square the base 31 or 32 times, wrapping.
    const u = bin("pow", vec("uint32", [3, 1, 2, 0xffffffff, 3]), vec("uint32", [0x80000000, 0x80000001, 33, 3, 0]))
    expect(u).toEqual([1, 1, 0, 0xffffffff, 1])
  })
  it("takes max and min of each dtype", () => {
    expect(bin("max", vec("int32", [3, -5]), vec("int32", [-2, 7]))).toEqual([3, 7])
    expect(bin("min", vec("int32", [3, -5]), vec("int32", [-2, 7]))).toEqual([-2, -5])
    expect(bin("max", vec("uint32", [0x80000000, 1]), vec("uint32", [1, 2]))).toEqual([0x80000000, 2])
    expect(bin("min", vec("uint32", [0x80000000, 1]), vec("uint32", [1, 2]))).toEqual([1, 1])
    expect(bin("min", vec("float32", [1.5, -0.5, NaN]), vec("float32", [2, -1, 0]))).toEqual([1.5, -1, NaN])
    expect(bin("max", vec("bool", [0, 0, 1, 1]), vec("bool", [0, 1, 0, 1]))).toEqual([0, 1, 1, 1])
    expect(bin("min", vec("bool", [0, 0, 1, 1]), vec("bool", [0, 1, 0, 1]))).toEqual([0, 0, 0, 1])
  })
  it("ands, ors and xors bits and bools", () => {
    expect(bin("and", vec("int32", [12, -1]), vec("int32", [10, 5]))).toEqual([8, 5])
    expect(bin("or", vec("int32", [12, -1]), vec("int32", [10, 5]))).toEqual([14, -1])
    expect(bin("xor", vec("int32", [12, -1]), vec("int32", [10, 5]))).toEqual([6, -6])
    expect(bin("xor", vec("uint32", [0xffffffff]), vec("uint32", [1]))).toEqual([0xfffffffe])
    const p = vec("bool", [0, 0, 1, 1]),
      q = vec("bool", [0, 1, 0, 1])
    expect(bin("and", p, q)).toEqual([0, 0, 0, 1])
    expect(bin("or", p, q)).toEqual([0, 1, 1, 1])
    expect(bin("xor", p, q)).toEqual([0, 1, 1, 0])
  })
  it("shifts by in-range amounts", () => {
    expect(bin("shift_left", vec("int32", [3, -1, 5]), vec("int32", [2, 31, 0]))).toEqual([12, -2147483648, 5])
    expect(bin("shift_left", vec("uint32", [1, 3, 1]), vec("uint32", [31, 32, 0xffffffff]))).toEqual([0x80000000, 0, 0])
    expect(bin("shift_right_logical", vec("int32", [-16, 16, 7]), vec("int32", [28, 2, 31]))).toEqual([15, 4, 0])
    expect(bin("shift_right_arithmetic", vec("int32", [-16, 16, 7]), vec("int32", [2, 2, 31]))).toEqual([-4, 4, 0])
    expect(bin("shift_right_arithmetic", vec("int32", [-16, 16]), vec("int32", [32, -3]))).toEqual([-1, 0])
  })
  it("steps to the next float32 toward the second operand", () => {
    const r = bin(
      "nextafter",
      vec("float32", [0, -0, 1, -1, 2, 1, -1, NaN]),
      vec("float32", [-0, 0, NaN, -2, 2, 0, -Infinity, 1])
    )
    expect(r).toEqual([-0, 0, NaN, -1 - 2 ** -23, 2, 1 - 2 ** -24, -1 - 2 ** -23, NaN])
    expect(bin("nextafter", vec("float32", [2 ** -149, -(2 ** -149)]), vec("float32", [0, 0]))).toEqual([0, -0])
  })
  it("takes atan2 in all four quadrants", () => {
    const r = bin("atan2", vec("float32", [1, -1, 0, 1]), vec("float32", [-1, -1, -1, 1]))
    expect(r).toEqual([
      Math.fround((3 * Math.PI) / 4),
      Math.fround((-3 * Math.PI) / 4),
      Math.fround(Math.PI),
      Math.fround(Math.PI / 4)
    ])
  })
  it("compares, with NaN unordered and uint32 read unsigned", () => {
    const a = vec("float32", [1, 2, 3, NaN]),
      b = vec("float32", [2, 2, 2, NaN])
    expect(bin("eq", a, b)).toEqual([0, 1, 0, 0])
    expect(bin("ne", a, b)).toEqual([1, 0, 1, 1])
    expect(bin("lt", a, b)).toEqual([1, 0, 0, 0])
    expect(bin("le", a, b)).toEqual([1, 1, 0, 0])
    expect(bin("gt", a, b)).toEqual([0, 0, 1, 0])
    expect(bin("ge", a, b)).toEqual([0, 1, 1, 0])
    const u = vec("uint32", [0x80000000, 1]),
      w = vec("uint32", [1, 0x80000000])
    expect(bin("gt", u, w)).toEqual([1, 0])
    expect(bin("le", u, w)).toEqual([0, 1])
    expect(call("eq", none, u, w).dtype).toBe("bool")
  })
})

describe("binary kernels, broadcasting", () => {
  const cases: ReadonlyArray<[ReadonlyArray<number>, ReadonlyArray<number>]> = [
    [
      [2, 3],
      [2, 3]
    ],
    [
      [2, 3],
      [1, 1]
    ],
    [
      [1, 1],
      [2, 3]
    ],
    [
      [2, 3],
      [1, 3]
    ],
    [
      [1, 3],
      [2, 3]
    ],
    [
      [2, 1],
      [1, 3]
    ],
    [
      [3, 1],
      [3, 4]
    ],
    [
      [2, 1, 3],
      [1, 2, 1]
    ],
    [
      [1, 2, 1],
      [2, 2, 3]
    ]
  ]
  const prims: ReadonlyArray<[BinaryPrimitive, DType]> = [
    ["add", "float32"],
    ["sub", "float32"],
    ["sub", "int32"],
    ["mul", "float32"],
    ["mul", "int32"],
    ["div", "float32"],
    ["div", "int32"],
    ["div", "uint32"],
    ["rem", "float32"],
    ["rem", "int32"],
    ["pow", "float32"],
    ["pow", "int32"],
    ["max", "float32"],
    ["min", "int32"],
    ["and", "int32"],
    ["or", "int32"],
    ["xor", "int32"],
    ["shift_left", "int32"],
    ["shift_right_logical", "int32"],
    ["shift_right_arithmetic", "int32"],
    ["nextafter", "float32"],
    ["atan2", "float32"],
    ["eq", "int32"],
    ["ne", "int32"],
    ["lt", "float32"],
    ["le", "float32"],
    ["gt", "int32"],
    ["ge", "int32"]
  ]
  const fill = (dtype: DType, shape: ReadonlyArray<number>, seed: number): Arr =>
    arr(
      dtype,
      shape,
      Array.from({ length: sizeOf(shape) }, (_, k) => {
        const v = ((k * 5 + seed * 3) % 7) - 2
        return dtype === "uint32" ? v + 3 : dtype === "float32" ? v + 0.5 : v
      })
    )
  it.each(prims)("%s on %s matches the operands broadcast by hand", (prim, dtype) => {
    for (const [sa, sb] of cases) {
      const out = sa.map((d, i) => Math.max(d, sb[i]!))
      const a = fill(dtype, sa, 1),
        b = fill(dtype, sb, 2)
      const r = call(prim, none, a, b)
      expect(r.shape).toEqual(out)
      expect(values(r)).toEqual(values(call(prim, none, expand(a, out), expand(b, out))))
    }
  })
  it("operands of different sizes are not read as same-shaped", () => {
    // sub is not symmetric, and each operand holds distinct values, so any mix-up of strides shows.
    const a = f32([2, 3], [1, 2, 3, 4, 5, 6]),
      b = f32([1, 3], [10, 20, 30])
    expect(values(call("sub", none, a, b))).toEqual([-9, -18, -27, -6, -15, -24])
    expect(values(call("sub", none, b, a))).toEqual([9, 18, 27, 6, 15, 24])
    expect(values(call("sub", none, f32([2, 1], [1, 2]), b))).toEqual([-9, -19, -29, -8, -18, -28])
    expect(values(call("sub", none, a, f32([1, 1], [1])))).toEqual([0, 1, 2, 3, 4, 5])
    expect(values(call("sub", none, f32([1, 1], [1]), a))).toEqual([0, -1, -2, -3, -4, -5])
  })
  it("gives empty results for zero-size operands", () => {
    const r = call("add", none, f32([0, 3], []), f32([1, 3], [1, 2, 3]))
    expect(r.shape).toEqual([0, 3])
    expect(values(r)).toEqual([])
    expect(values(call("add", none, f32([2, 0], []), f32([1, 1], [1])))).toEqual([])
  })
})

describe("select", () => {
  it("picks a whole branch for a scalar-like predicate", () => {
    const a = i32([2, 2], [1, 2, 3, 4]),
      b = i32([2, 2], [5, 6, 7, 8])
    expect(values(call("select", none, bool([1, 1], [1]), a, b))).toEqual([1, 2, 3, 4])
    expect(values(call("select", none, bool([1, 1], [0]), a, b))).toEqual([5, 6, 7, 8])
    expect(values(call("select", none, bool([1, 1], [2]), a, b))).toEqual([1, 2, 3, 4])
    // a scalar-like branch fills
    const s = i32([1, 1], [9])
    expect(values(call("select", none, bool([1, 1], [1]), s, b))).toEqual([9, 9, 9, 9])
    expect(values(call("select", none, bool([1, 1], [0]), a, s))).toEqual([9, 9, 9, 9])
    expect(values(call("select", none, bool([1, 1], [1]), a, s))).toEqual([1, 2, 3, 4])
    // a branch broadcast along one axis takes the general path
    const row = i32([1, 2], [10, 20])
    expect(values(call("select", none, bool([1, 1], [1]), row, b))).toEqual([10, 20, 10, 20])
    expect(values(call("select", none, bool([1, 1], [0]), a, row))).toEqual([10, 20, 10, 20])
    // both branches scalar-like: the output has one element
    expect(values(call("select", none, bool([1], [0]), f32([1], [1.5]), f32([1], [2.5])))).toEqual([2.5])
  })
  it("selects element by element, the predicate broadcasting too", () => {
    const a = f32([2, 2], [1, 2, 3, 4]),
      b = f32([2, 2], [5, 6, 7, 8])
    expect(values(call("select", none, bool([2, 2], [1, 0, 0, 1]), a, b))).toEqual([1, 6, 7, 4])
    expect(values(call("select", none, bool([2, 1], [0, 1]), a, b))).toEqual([5, 6, 3, 4])
    expect(values(call("select", none, bool([1, 2], [0, 1]), a, b))).toEqual([5, 2, 7, 4])
    expect(values(call("select", none, bool([2, 2], [1, 0, 0, 1]), f32([1, 2], [1, 2]), b))).toEqual([1, 6, 7, 2])
    expect(values(call("select", none, bool([2, 2], [1, 0, 0, 1]), a, f32([2, 1], [5, 7])))).toEqual([1, 5, 7, 4])
    expect(values(call("select", none, bool([0, 2], []), f32([0, 2], []), f32([0, 2], [])))).toEqual([])
  })
  it("moves key elements whole under a scalar or per-element predicate", () => {
    const keys = call("random_wrap", none, u32([2, 2], [1, 2, 3, 4]))
    const one = call("random_wrap", none, u32([1, 2], [9, 8]))
    expect(values(call("select", none, bool([1], [1]), keys, one))).toEqual([1, 2, 3, 4])
    expect(values(call("select", none, bool([1], [0]), keys, one))).toEqual([9, 8, 9, 8])
    expect(values(call("select", none, bool([1], [1]), one, keys))).toEqual([9, 8, 9, 8])
    expect(values(call("select", none, bool([2], [1, 0]), keys, one))).toEqual([1, 2, 9, 8])
    expect(values(call("select", none, bool([2], [0, 1]), keys, keys))).toEqual([1, 2, 3, 4])
  })
})

describe("unary kernels", () => {
  // float32 results within 1 ulp of JAX's (XLA's own float32 approximations may differ by one).
  const x = [-1.5, 0.25, 2]
  const refs: ReadonlyArray<["exp" | "sin" | "cos" | "tanh" | "logistic" | "log1p" | "expm1", Array<number>]> = [
    ["exp", [0.22313016653060913, 1.2840254306793213, 7.389056205749512]],
    ["sin", [-0.9974949955940247, 0.24740396440029144, 0.9092974066734314]],
    ["cos", [0.07073719799518585, 0.9689124226570129, -0.416146844625473]],
    ["tanh", [-0.9051482081413269, 0.24491865932941437, 0.9640275835990906]],
    ["logistic", [0.18242552876472473, 0.562176525592804, 0.8807970285415649]],
    ["log1p", [NaN, 0.2231435477733612, 1.0986123085021973]],
    ["expm1", [-0.7768698334693909, 0.2840254008769989, 6.389056205749512]]
  ]
  it.each(refs)("%s is within 1 ulp of JAX", (prim, ref) => {
    const r = values(call(prim, none, f32([3], x)))
    ref.forEach((v, i) => (Number.isNaN(v) ? expect(r[i]).toBeNaN() : expect(ulps(r[i]!, v)).toBeLessThanOrEqual(1)))
  })
  it("log, sqrt and rsqrt, with their edge values", () => {
    const near = (got: Array<number>, ref: Array<number>) =>
      ref.forEach((v, i) =>
        Number.isFinite(v) ? expect(ulps(got[i]!, v)).toBeLessThanOrEqual(1) : expect(got[i]).toEqual(v)
      )
    near(values(call("log", none, f32([5], [1.5, 0.25, 2, 0, -1]))), [
      0.40546509623527527,
      -1.3862943649291992,
      0.6931471824645996,
      -Infinity,
      NaN
    ])
    near(values(call("sqrt", none, f32([5], [1.5, 0.25, 2, -1, -0]))), [
      1.2247449159622192,
      0.5,
      1.4142135381698608,
      NaN,
      -0
    ])
    near(values(call("rsqrt", none, f32([5], [1.5, 0.25, 2, 0, -1]))), [
      0.8164965510368347,
      2,
      0.7071067690849304,
      Infinity,
      NaN
    ])
    expect(values(call("exp", none, f32([2], [-Infinity, 0])))).toEqual([0, 1])
    expect(values(call("logistic", none, f32([3], [0, Infinity, -Infinity])))).toEqual([0.5, 1, 0])
  })
  it("negates, takes abs and sign of floats and ints", () => {
    expect(values(call("neg", none, f32([3], [1.5, -0, 0])))).toEqual([-1.5, 0, -0])
    expect(values(call("neg", none, i32([2], [3, -7])))).toEqual([-3, 7])
    expect(values(call("abs", none, f32([3], [-1.5, -0, 2])))).toEqual([1.5, 0, 2])
    expect(values(call("sign", none, i32([3], [-5, 0, 7])))).toEqual([-1, 0, 1])
    expect(values(call("sign", none, f32([2], [-0, 1e-30])))).toEqual([-0, 1])
  })
  it("floors and ceils", () => {
    expect(values(call("floor", none, f32([4], [-1.5, 2.5, -0.2, 3])))).toEqual([-2, 2, -1, 3])
    expect(values(call("ceil", none, f32([4], [-1.5, 2.5, -0.2, 3])))).toEqual([-1, 3, -0, 3])
  })
  it("rounds non-halves to the nearest integer either way", () => {
    const x = f32([8], [0.7, -0.7, 1.2, 3.5, -3.5, 2.5, 1.5, 5])
    expect(values(call("round", { method: "toNearestEven" }, x))).toEqual([1, -1, 1, 4, -4, 2, 2, 5])
    expect(values(call("round", { method: "awayFromZero" }, x))).toEqual([1, -1, 1, 4, -4, 3, 2, 5])
  })
  it("nots bools logically and ints bitwise; is_finite", () => {
    expect(values(call("not", none, bool([3], [1, 0, 1])))).toEqual([0, 1, 0])
    expect(values(call("not", none, u32([2], [0, 0xfffffffe])))).toEqual([0xffffffff, 1])
    expect(values(call("is_finite", none, f32([5], [1, Infinity, -Infinity, NaN, -3e38])))).toEqual([1, 0, 0, 0, 1])
    expect(call("is_finite", none, f32([1], [1])).dtype).toBe("bool")
  })
  it("erf and erf_inv on every element", () => {
    const e = values(call("erf", none, f32([3], [0.5, -2, 0])))
    expect(ulps(e[0]!, 0.5204998778130465)).toBeLessThanOrEqual(2)
    expect(ulps(e[1]!, -0.9953222650189527)).toBeLessThanOrEqual(2)
    expect(e[2]).toBe(0)
    const r = values(call("erf_inv", none, f32([3], [0.5, -0.25, 0])))
    expect(ulps(r[0]!, 0.4769362762044699)).toBeLessThanOrEqual(2)
    expect(ulps(r[1]!, -0.2253120550121781)).toBeLessThanOrEqual(2)
    expect(r[2]).toBe(0)
  })
})

describe("erf and erf_inv (src/backend/cpu/erf.ts)", () => {
  it("erf is the correctly rounded float32 of erf in both of its methods", () => {
    // float32 inputs; expected: Python's double math.erf rounded to float32 (JAX's own float32 erf is
    // within 1 ulp of these). Below 2.5 a series, from 2.5 to 6 a continued fraction of erfc, then ±1.
    const x = [0.1, -0.75, 1.7, 2.4999, 2.5, 3.3, -3.6, 1e-30, 0.001, 6, -7.5, 30]
    const ref = [
      0.11246291548013687, -0.7111556529998779, 0.9837904572486877, 0.9995928406715393, 0.9995930194854736,
      0.9999969601631165, -0.9999996423721313, 1.1283791266481092e-30, 0.001128378789871931, 1, -1, 1
    ]
    expect(values(call("erf", none, f32([x.length], x)))).toEqual(ref)
  })
  it("erf keeps NaN, the sign of zero and the infinities' limits", () => {
    expect(values(call("erf", none, f32([5], [NaN, -0, 0, Infinity, -Infinity])))).toEqual([NaN, -0, 0, 1, -1])
  })
  it("erf_inv reproduces XLA's float32 algorithm bit for bit", () => {
    // Central polynomial (w < 5, |x| below about 0.9966) and tail; values from jax.lax.erf_inv on cpu.
    const x = [
      0.10000000149011612, -0.6000000238418579, 0.8999999761581421, 0.9700000286102295, -0.9929999709129333,
      0.9965999722480774, 0.9966999888420105, 0.9999899864196777, -0.9999998807907104, 1.0000000031710769e-30, 0.5
    ]
    const ref = [
      0.08885598927736282, -0.5951160788536072, 1.163087010383606, 1.534485936164856, -1.9069559574127197,
      2.0711493492126465, 2.0777032375335693, 3.1232049465179443, -3.7439212799072266, 8.862268201809777e-31,
      0.4769362807273865
    ]
    expect(values(call("erf_inv", none, f32([x.length], x)))).toEqual(ref)
  })
  it("erf_inv is infinite at ±1 and NaN beyond", () => {
    expect(values(call("erf_inv", none, f32([6], [1, -1, 1.5, -2, NaN, -0])))).toEqual([
      Infinity,
      -Infinity,
      NaN,
      NaN,
      NaN,
      -0
    ])
  })
})

describe("convert_element_type", () => {
  const cvt = (x: Arr, newDtype: "float32" | "int32" | "uint32" | "bool" | "complex64"): Arr =>
    call("convert_element_type", { newDtype, weakType: false }, x)
  it("makes complex numbers with a zero imaginary part from every real dtype", () => {
    expect(values(cvt(f32([2], [1.5, -2]), "complex64"))).toEqual([1.5, 0, -2, 0])
    expect(values(cvt(i32([2], [3, -16777217]), "complex64"))).toEqual([3, 0, -16777216, 0])
    expect(values(cvt(u32([2], [4294967295, 16777217]), "complex64"))).toEqual([4294967296, 0, 16777216, 0])
    expect(values(cvt(bool([2], [1, 0]), "complex64"))).toEqual([1, 0, 0, 0])
    const c = cvt(i32([1], [7]), "complex64")
    expect(c.data).toBeInstanceOf(Float32Array)
    expect(c.data.length).toBe(2)
  })
  it("keeps complex numbers whole when converting complex64 to itself", () => {
    expect(values(cvt(c64([2], [1, 2, -3, 4]), "complex64"))).toEqual([1, 2, -3, 4])
  })
  it("keeps the real part converting complex to a real dtype", () => {
    expect(values(cvt(c64([2], [1.5, 2, -3, 4]), "float32"))).toEqual([1.5, -3])
    expect(values(cvt(c64([3], [1, 2, 0, -3.5, -2.7, 1]), "int32"))).toEqual([1, 0, -2])
    expect(values(cvt(c64([3], [1, 2, 3e9, 1, -2.7, 1]), "uint32"))).toEqual([1, 3000000000, 0])
  })
  it("converts complex to bool as x != 0, as jnp.astype does", () => {
    // Either part nonzero makes true (jnp's astype to bool compares with 0).
    expect(values(cvt(c64([5], [0, 0, 0, 1, 1, 0, 0, -0, 2, 3]), "bool"))).toEqual([0, 1, 1, 0, 1])
  })
  it("converts bool to each numeric dtype", () => {
    const b = bool([3], [1, 0, 1])
    for (const d of ["float32", "int32", "uint32"] as const) {
      const r = cvt(b, d)
      expect(r.dtype).toBe(d)
      expect(values(r)).toEqual([1, 0, 1])
    }
    expect(cvt(b, "float32").data).toBeInstanceOf(Float32Array)
    expect(cvt(b, "int32").data).toBeInstanceOf(Int32Array)
    expect(cvt(b, "uint32").data).toBeInstanceOf(Uint32Array)
  })
  it("converts integers to float32 with round-to-nearest-even and to bool", () => {
    expect(values(cvt(u32([2], [4294967295, 16777219]), "float32"))).toEqual([4294967296, 16777220])
    expect(values(cvt(i32([2], [-16777219, 3]), "float32"))).toEqual([-16777220, 3])
    expect(values(cvt(i32([3], [0, -1, 5]), "bool"))).toEqual([0, 1, 1])
    expect(values(cvt(u32([2], [0x80000000, 0]), "bool"))).toEqual([1, 0])
  })
  it("saturates float32 to uint32 and truncates toward zero", () => {
    expect(values(cvt(f32([5], [4294967296, 4294967040, 0.9, -0, 7.99]), "uint32"))).toEqual([
      4294967295, 4294967040, 0, 0, 7
    ])
    expect(values(cvt(f32([3], [2147483648, -2147483904, -0.9]), "int32"))).toEqual([2147483647, -2147483648, 0])
  })
  it("returns same-dtype inputs unchanged", () => {
    for (const [x, d] of [
      [f32([2], [1.5, NaN]), "float32"],
      [i32([2], [-1, 2]), "int32"],
      [u32([1], [0xffffffff]), "uint32"],
      [bool([2], [1, 0]), "bool"]
    ] as const) {
      const r = cvt(x, d)
      expect(values(r)).toEqual(values(x))
      expect(r.data.constructor).toBe(x.data.constructor)
    }
  })
  it("refuses PRNG keys", () => {
    const key = aval([1], "key<fry>")
    const run = () =>
      cpuKernels.convert_element_type([new Uint32Array([1, 2])], [key], [aval([1], "uint32")], {
        newDtype: "uint32",
        weakType: false
      })
    expect(run).toThrow(DTypeError)
    expect(run).toThrow("convert_element_type: PRNG keys have no numeric value; use random.keyData (dtypes key<fry>)")
  })
})

describe("bitcast_convert_type", () => {
  const bc = (x: Arr, newDtype: "float32" | "int32" | "uint32"): Arr => call("bitcast_convert_type", { newDtype }, x)
  it("reinterprets the 32-bit pattern between every pair of dtypes", () => {
    expect(values(bc(f32([2], [1, -2]), "int32"))).toEqual([0x3f800000, -1073741824])
    expect(values(bc(f32([1], [-0]), "uint32"))).toEqual([0x80000000])
    expect(values(bc(i32([2], [-1, 0x3f800000]), "uint32"))).toEqual([0xffffffff, 0x3f800000])
    expect(values(bc(u32([2], [0xffffffff, 0xc0000000]), "int32"))).toEqual([-1, -1073741824])
    expect(values(bc(u32([1], [0x3fc00000]), "float32"))).toEqual([1.5])
    expect(values(bc(i32([1], [-1082130432]), "float32"))).toEqual([-1])
    expect(values(bc(f32([1], [2.5]), "float32"))).toEqual([2.5])
    expect(bc(u32([1], [1]), "int32").data).toBeInstanceOf(Int32Array)
    expect(bc(i32([1], [1]), "uint32").data).toBeInstanceOf(Uint32Array)
    expect(bc(i32([1], [1]), "float32").data).toBeInstanceOf(Float32Array)
  })
  it("reads a view at its own offset in a shared buffer", () => {
    const backing = new Int32Array([7, -1, 0x3f800000])
    const x: Arr = { data: backing.subarray(1), shape: [2], dtype: "int32" }
    expect(values(bc(x, "uint32"))).toEqual([0xffffffff, 0x3f800000])
    expect(values(bc(x, "float32"))[1]).toBe(1)
    const c: Arr = { data: backing.subarray(1), shape: [2], dtype: "int32" }
    expect(values(call("convert_element_type", { newDtype: "uint32", weakType: false }, c))).toEqual([
      0xffffffff, 0x3f800000
    ])
  })
})
