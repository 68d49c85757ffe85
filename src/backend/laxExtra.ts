/**
 * The rest of `jax.lax`'s everyday helpers, composed from the primitives: `clamp`, `integerPow`,
 * `square`, `selectN`, `rev`, `sliceInDim`, `indexInDim`, `dynamicIndexInDim`, `broadcast`,
 * `broadcastToRank`, `collapse`, the inverse and hyperbolic trigonometric functions, `tan`, `erfc`,
 * `cbrt`, `exp2`, `populationCount` and `clz`. As in `jax.lax` (and unlike `jnp`), operands are not
 * promoted: dtypes must already agree, and the float functions refuse integers.
 *
 * @since 0.2.0
 */
import type { Array } from "./Array.ts"
import { isArray } from "./Array.ts"
import { ArgumentError, DTypeError, ShapeError } from "./ArrayError.ts"
import { bind1 } from "./bind.ts"
import type { DType } from "./DType.ts"
import { normalizeAxes, normalizeAxis } from "./shape.ts"
import { dynamicSlice } from "./lax.ts"
import { fromScalar } from "./numpy/creation.ts"
import * as E from "./numpy/elementwise.ts"
import * as X from "./numpy/extraMath.ts"
import { cbrt as cbrtOf } from "./numpy/moreMath.ts"
import { flip, reshape } from "./numpy/shapeOps.ts"

/** `v` broadcast to `shape` as `dtype`. */
const full = (v: number | boolean, dtype: DType, shape: ReadonlyArray<number>): Array =>
  bind1("broadcast_in_dim", [fromScalar(v, dtype as "float32")], { shape, broadcastDimensions: [] })

const check = (op: string, x: unknown): Array => {
  if (!isArray(x)) throw new ArgumentError({ op, reason: `expected an Array, got ${x === null ? "null" : typeof x}` })
  return x
}

const floatOnly =
  (op: string, f: (x: Array) => Array) =>
  (x: Array): Array => {
    const a = check(op, x)
    if (a.dtype !== "float32" && a.dtype !== "complex64")
      throw new DTypeError({ op, dtypes: [a.dtype], reason: "needs a floating-point operand (lax does not promote)" })
    return f(a)
  }

/**
 * `x` clamped to `[min, max]`, like `jax.lax.clamp(min, x, max)`: `min` and `max` are scalars (0-d
 * arrays or numbers) or arrays of `x`'s shape, of `x`'s dtype.
 */
export const clamp = (min: Array | number, x: Array, max: Array | number): Array => {
  const a = check("lax.clamp", x)
  const bound = (b: Array | number, name: string): Array => {
    const v = typeof b === "number" ? fromScalar(b, a.dtype as "float32", false) : check("lax.clamp", b)
    if (v.dtype !== a.dtype)
      throw new DTypeError({ op: "lax.clamp", dtypes: [v.dtype, a.dtype], reason: `${name} must have x's dtype` })
    if (v.ndim === 0) return bind1("broadcast_in_dim", [v], { shape: a.shape, broadcastDimensions: [] })
    if (v.shape.length !== a.shape.length || v.shape.some((d, i) => d !== a.shape[i]))
      throw new ShapeError({
        op: "lax.clamp",
        shapes: [v.shape, a.shape],
        reason: `${name} must be a scalar or of x's shape`
      })
    return v
  }
  return bind1("min", [bind1("max", [a, bound(min, "min")], {}), bound(max, "max")], {})
}

/**
 * `x` to the integer power `y` by repeated squaring (`jax.lax.integer_pow`); a negative `y` gives
 * `1 / x^|y|`, for floating-point `x` only.
 */
export const integerPow = (x: Array, y: number): Array => {
  const a = check("lax.integerPow", x)
  if (!Number.isInteger(y))
    throw new ArgumentError({ op: "lax.integerPow", reason: `the exponent must be an integer, got ${y}` })
  const float = a.dtype === "float32" || a.dtype === "complex64"
  if (y < 0 && !float)
    throw new DTypeError({
      op: "lax.integerPow",
      dtypes: [a.dtype],
      reason: `integers cannot be raised to negative powers, got ${y}`
    })
  let result: Array | undefined
  let base = a
  for (let k = Math.abs(y); k > 0; k = Math.floor(k / 2)) {
    if (k % 2 === 1) result = result === undefined ? base : bind1("mul", [result, base], {})
    if (k > 1) base = bind1("mul", [base, base], {})
  }
  const one = full(1, a.dtype, a.shape)
  const positive = result ?? one
  return y < 0 ? bind1("div", [one, positive], {}) : positive
}

/** `x · x`, like `jax.lax.square`. */
export const square = (x: Array): Array => bind1("mul", [check("lax.square", x), x], {})

/**
 * `cases[which]` elementwise, like `jax.lax.select_n`: `which` is a bool array (two cases: `false`
 * picks the first) or an int32/uint32 array of case numbers, of the cases' shape (or a scalar).
 */
export const selectN = (which: Array, ...cases: ReadonlyArray<Array>): Array => {
  const w = check("lax.selectN", which)
  if (cases.length === 0) throw new ArgumentError({ op: "lax.selectN", reason: "needs at least one case" })
  const first = check("lax.selectN", cases[0])
  for (const c of cases) {
    check("lax.selectN", c)
    if (
      c.dtype !== first.dtype ||
      c.shape.length !== first.shape.length ||
      c.shape.some((d, i) => d !== first.shape[i])
    )
      throw new ShapeError({
        op: "lax.selectN",
        shapes: cases.map((k) => k.shape),
        reason: "the cases must share a shape and a dtype"
      })
  }
  if (w.dtype === "bool" && cases.length > 2)
    throw new DTypeError({ op: "lax.selectN", dtypes: [w.dtype], reason: "a bool selector picks between two cases" })
  if (w.dtype !== "bool" && w.dtype !== "int32" && w.dtype !== "uint32")
    throw new DTypeError({ op: "lax.selectN", dtypes: [w.dtype], reason: "the selector must be bool, int32 or uint32" })
  if (w.ndim !== 0 && (w.shape.length !== first.shape.length || w.shape.some((d, i) => d !== first.shape[i])))
    throw new ShapeError({
      op: "lax.selectN",
      shapes: [w.shape, first.shape],
      reason: "the selector must be a scalar or of the cases' shape"
    })
  const sel = w.ndim === 0 ? bind1("broadcast_in_dim", [w], { shape: first.shape, broadcastDimensions: [] }) : w
  if (cases.length === 1) return first
  if (sel.dtype === "bool") return bind1("select", [sel, cases[1]!, first], {})
  let out = first
  for (let i = 1; i < cases.length; i++)
    out = bind1("select", [bind1("eq", [sel, full(i, sel.dtype, sel.shape)], {}), cases[i]!, out], {})
  return out
}

/** `x` reversed along `dimensions`, like `jax.lax.rev`. */
export const rev = (x: Array, dimensions: ReadonlyArray<number>): Array => {
  const a = check("lax.rev", x)
  const dims = normalizeAxes("lax.rev", dimensions, a.ndim)
  return dims.length === 0 ? a : flip(a, dims)
}

/** `x[start:limit:stride]` along `axis`, like `jax.lax.slice_in_dim` (negative bounds count from the end). */
export const sliceInDim = (x: Array, start: number | null, limit: number | null, stride = 1, axis = 0): Array => {
  const a = check("lax.sliceInDim", x)
  const ax = normalizeAxis("lax.sliceInDim", axis, a.ndim)
  const n = a.shape[ax]!
  const at = (v: number | null, dflt: number): number => (v === null ? dflt : v < 0 ? v + n : v)
  const s = at(start, 0)
  const e = at(limit, n)
  if (!Number.isInteger(stride) || stride < 1)
    throw new ArgumentError({ op: "lax.sliceInDim", reason: `stride must be a positive integer, got ${stride}` })
  if (!(Number.isInteger(s) && Number.isInteger(e) && s >= 0 && s <= e && e <= n))
    throw new ArgumentError({
      op: "lax.sliceInDim",
      reason: `start ${start} and limit ${limit} must give 0 <= start <= limit <= ${n} on axis ${axis}`
    })
  return bind1("slice", [a], {
    startIndices: a.shape.map((_, d) => (d === ax ? s : 0)),
    limitIndices: a.shape.map((m, d) => (d === ax ? e : m)),
    strides: a.shape.map((_, d) => (d === ax ? stride : 1))
  })
}

/** The `index`-th slice along `axis` (negative counts from the end), kept as a size-1 axis unless `keepdims` is false. */
export const indexInDim = (x: Array, index: number, axis = 0, keepdims = true): Array => {
  const a = check("lax.indexInDim", x)
  const ax = normalizeAxis("lax.indexInDim", axis, a.ndim)
  const n = a.shape[ax]!
  const i = index < 0 ? index + n : index
  if (!Number.isInteger(i) || i < 0 || i >= n)
    throw new ArgumentError({
      op: "lax.indexInDim",
      reason: `index ${index} is out of bounds for axis ${axis} of size ${n}`
    })
  const s = sliceInDim(a, i, i + 1, 1, ax)
  return keepdims
    ? s
    : reshape(
        s,
        a.shape.filter((_, d) => d !== ax)
      )
}

/** {@link indexInDim} with a traced (Array) or static index, clamped into range as `dynamicSlice` does. */
export const dynamicIndexInDim = (x: Array, index: Array | number, axis = 0, keepdims = true): Array => {
  const a = check("lax.dynamicIndexInDim", x)
  const ax = normalizeAxis("lax.dynamicIndexInDim", axis, a.ndim)
  const s = dynamicSlice(
    a,
    a.shape.map((_, d) => (d === ax ? index : 0)),
    a.shape.map((m, d) => (d === ax ? 1 : m))
  )
  return keepdims
    ? s
    : reshape(
        s,
        a.shape.filter((_, d) => d !== ax)
      )
}

/** `x` with leading axes of `sizes` added, like `jax.lax.broadcast`. */
export const broadcast = (x: Array, sizes: ReadonlyArray<number>): Array => {
  const a = check("lax.broadcast", x)
  return bind1("broadcast_in_dim", [a], {
    shape: [...sizes, ...a.shape],
    broadcastDimensions: a.shape.map((_, i) => sizes.length + i)
  })
}

/** `x` with leading size-1 axes added up to `rank`, like `jax.lax.broadcast_to_rank`. */
export const broadcastToRank = (x: Array, rank: number): Array => {
  const a = check("lax.broadcastToRank", x)
  if (!Number.isInteger(rank) || rank < 0)
    throw new ArgumentError({ op: "lax.broadcastToRank", reason: `rank must be a non-negative integer, got ${rank}` })
  return a.ndim >= rank ? a : reshape(a, [...new globalThis.Array<number>(rank - a.ndim).fill(1), ...a.shape])
}

/** Axes `start` up to (not including) `stop` merged into one, like `jax.lax.collapse`. */
export const collapse = (x: Array, start: number, stop?: number | null): Array => {
  const a = check("lax.collapse", x)
  const s = start < 0 ? start + a.ndim : start
  const e = stop === undefined || stop === null ? a.ndim : stop < 0 ? stop + a.ndim : stop
  if (!(Number.isInteger(s) && Number.isInteger(e) && s >= 0 && s <= e && e <= a.ndim))
    throw new ArgumentError({
      op: "lax.collapse",
      reason: `start ${start} and stop ${stop} must give 0 <= start <= stop <= ${a.ndim}`
    })
  const merged = a.shape.slice(s, e).reduce((p, d) => p * d, 1)
  return reshape(a, [...a.shape.slice(0, s), merged, ...a.shape.slice(e)])
}

/** `tan(x)` for floating-point `x`. */
export const tan = floatOnly("lax.tan", E.tan)
/** `asin(x)` for floating-point `x`. */
export const asin = floatOnly("lax.asin", X.arcsin)
/** `acos(x)` for floating-point `x`. */
export const acos = floatOnly("lax.acos", X.arccos)
/** `atan(x)` for floating-point `x`. */
export const atan = floatOnly("lax.atan", X.arctan)
/** `sinh(x)` for floating-point `x`. */
export const sinh = floatOnly("lax.sinh", X.sinh)
/** `cosh(x)` for floating-point `x`. */
export const cosh = floatOnly("lax.cosh", X.cosh)
/** `asinh(x)` for floating-point `x`. */
export const asinh = floatOnly("lax.asinh", X.arcsinh)
/** `acosh(x)` for floating-point `x`. */
export const acosh = floatOnly("lax.acosh", X.arccosh)
/** `atanh(x)` for floating-point `x`. */
export const atanh = floatOnly("lax.atanh", X.arctanh)
/** `1 - erf(x)` for float32 `x`. */
export const erfc = floatOnly("lax.erfc", (a) => E.subtract(full(1, a.dtype, a.shape), bind1("erf", [a], {})))
/** The real cube root for float32 `x`. */
export const cbrt = floatOnly("lax.cbrt", cbrtOf)
/** `2^x` for floating-point `x`. */
export const exp2 = floatOnly("lax.exp2", E.exp2)

const integerOnly = (op: string, x: Array): Array => {
  const a = check(op, x)
  if (a.dtype !== "int32" && a.dtype !== "uint32")
    throw new DTypeError({ op, dtypes: [a.dtype], reason: "needs an int32 or uint32 operand" })
  return a
}

/** The bits of `a` (int32 or uint32) as uint32, and back. */
const asBits = (a: Array): Array =>
  a.dtype === "uint32" ? a : bind1("bitcast_convert_type", [a], { newDtype: "uint32" })
const fromBits = (bits: Array, dtype: DType): Array =>
  dtype === "uint32" ? bits : bind1("bitcast_convert_type", [bits], { newDtype: "int32" })

const popcount = (v0: Array): Array => {
  const k = (c: number): Array => full(c, "uint32", v0.shape)
  const shr = (v: Array, n: number): Array => bind1("shift_right_logical", [v, k(n)], {})
  const and = (v: Array, m: number): Array => bind1("and", [v, k(m)], {})
  let v = bind1("sub", [v0, and(shr(v0, 1), 0x55555555)], {})
  v = bind1("add", [and(v, 0x33333333), and(shr(v, 2), 0x33333333)], {})
  v = and(bind1("add", [v, shr(v, 4)], {}), 0x0f0f0f0f)
  return shr(bind1("mul", [v, k(0x01010101)], {}), 24)
}

/** The number of set bits of each element (int32 or uint32), like `jax.lax.population_count`. */
export const populationCount = (x: Array): Array => {
  const a = integerOnly("lax.populationCount", x)
  return fromBits(popcount(asBits(a)), a.dtype)
}

/** The number of leading zero bits of each element (int32 or uint32; 32 for 0), like `jax.lax.clz`. */
export const clz = (x: Array): Array => {
  const a = integerOnly("lax.clz", x)
  let v = asBits(a)
  for (const n of [1, 2, 4, 8, 16])
    v = bind1("or", [v, bind1("shift_right_logical", [v, full(n, "uint32", v.shape)], {})], {})
  return fromBits(bind1("sub", [full(32, "uint32", v.shape), popcount(v)], {}), a.dtype)
}
