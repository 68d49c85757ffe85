/**
 * Array creation: from nested JavaScript arrays and scalars, and the NumPy constructors
 * (`zeros`, `ones`, `full`, `arange`, `linspace`, `eye`, ...).
 */
import { Array as JArray, isArray } from "../Array.ts"
import type { ArrayLike, Complex } from "../Array.ts"
import { ArgumentError, ArrayLiteralError, DTypeError, ShapeError } from "../ArrayError.ts"
import { currentBackend } from "../current.ts"
import { bind1 } from "../bind.ts"
import type { DType, HostArray, NumericDType } from "../DType.ts"
import { allocHost, castScalar, dtypes, isDType, wordsPerElement } from "../DType.ts"
import { isValidShape, sizeOf } from "../shape.ts"
import { integerLiteral } from "./literals.ts"
import { checkOptionKeys } from "./options.ts"

/**
 * Nested JavaScript arrays of numbers, booleans and complex numbers `{ re, im }` (or Arrays, which
 * are stacked).
 */
export type ArrayLiteral = number | boolean | Complex | JArray | ReadonlyArray<ArrayLiteral>

/** Whether `u` is a complex literal `{ re, im }` (two numbers). */
export const isComplexLiteral = (u: unknown): u is Complex =>
  typeof u === "object" &&
  u !== null &&
  !Array.isArray(u) &&
  !isArray(u) &&
  typeof (u as { re?: unknown }).re === "number" &&
  typeof (u as { im?: unknown }).im === "number"

/** Makes a complex64 array from a float32 computation of the same values (the imaginary parts zero). */
const viaFloat32 = (d: NumericDType, make: (d: NumericDType) => JArray): JArray =>
  d === "complex64" ? convert(make("float32"), "complex64") : make(d)

/** Options of array constructors. */
export interface DTypeOption {
  readonly dtype?: NumericDType | undefined
}

/** The typed array class that stores each dtype's words, by name. */
const storageClass: { readonly [D in DType]: string } = {
  float32: "Float32Array",
  int32: "Int32Array",
  uint32: "Uint32Array",
  bool: "Uint8Array",
  complex64: "Float32Array",
  "key<fry>": "Uint32Array"
}

/**
 * Wraps host storage in a new array on the current backend (copies it). `data` is the dtype's storage
 * (what `allocHost` makes): a Float32Array for float32 and complex64 (real and imaginary words
 * interleaved), Int32Array, Uint32Array for uint32 and keys (two words per key), Uint8Array of 0/1 for
 * bool, with exactly one element (word pair) per element of `shape`. Key arrays are never weakly
 * typed, as in JAX.
 */
export const fromHost = (data: HostArray, shape: ReadonlyArray<number>, dtype: DType, weakType = false): JArray => {
  if (!isDType(dtype)) {
    throw new DTypeError({
      op: "fromHost",
      dtypes: [String(dtype)],
      reason: `not a dtype (${dtypes.join(", ")})`
    })
  }
  const dims = checkShape("fromHost", shape)
  const expected = storageClass[dtype]
  // The typed array's own name, also for subclasses (Node's Buffer) and arrays from other realms.
  const got = ArrayBuffer.isView(data) ? Object.prototype.toString.call(data).slice(8, -1) : describe(data)
  if (got !== expected) {
    throw new ArgumentError({ op: "fromHost", reason: `${dtype} data is stored in a ${expected}, got ${got}` })
  }
  const words = sizeOf(dims) * wordsPerElement(dtype)
  if (data.length !== words) {
    throw new ArgumentError({
      op: "fromHost",
      reason: `shape [${dims.join(", ")}] of ${dtype} needs ${words} storage words, got ${data.length}`
    })
  }
  if (dtype === "bool") {
    const bad = data.findIndex((v) => v > 1)
    if (bad >= 0) {
      throw new ArgumentError({ op: "fromHost", reason: `bool data holds 0 or 1, got ${data[bad]} at index ${bad}` })
    }
  }
  if (weakType !== false && weakType !== true) {
    throw new ArgumentError({ op: "fromHost", reason: `weakType is a boolean, got ${describe(weakType)}` })
  }
  if (weakType && dtype === "key<fry>") {
    throw new DTypeError({ op: "fromHost", dtypes: [dtype], reason: "key arrays are never weakly typed" })
  }
  return wrapHost(data, [...dims], dtype, weakType)
}

/** {@link fromHost} for storage the library made itself, unchecked (scalars are made on hot paths). */
const wrapHost = (data: HostArray, shape: ReadonlyArray<number>, dtype: DType, weakType: boolean): JArray => {
  const aval = { shape, dtype, weakType }
  const backend = currentBackend()
  return JArray.fromBuffer(backend.upload(data, aval), aval, backend)
}

/** The dtype JAX gives a JavaScript scalar: integral numbers are int32, others float32. */
export const scalarDType = (x: number | boolean): NumericDType =>
  typeof x === "boolean" ? "bool" : Number.isInteger(x) && Math.abs(x) < 2 ** 31 ? "int32" : "float32"

/** A 0-d array holding `x`. Without a dtype it is weakly typed, like a Python scalar in JAX. */
export const fromScalar = (x: number | boolean, dtype?: NumericDType, weakType?: boolean): JArray => {
  const d = dtype ?? scalarDType(x)
  const data = allocHost(d, 1)
  data[0] = castScalar(d, typeof x === "boolean" ? (x ? 1 : 0) : x)
  return wrapHost(data, [], d, weakType ?? (dtype === undefined && typeof x !== "boolean"))
}

const checkDTypeOption = (op: string, dtype: unknown): void => {
  if (dtype !== undefined && (!isDType(dtype) || dtype === "key<fry>")) {
    throw new DTypeError({
      op,
      dtypes: [String(dtype)],
      reason: "not a numeric dtype (float32, int32, uint32, bool, complex64)"
    })
  }
}

/** Converts an Array, number or boolean to an Array, optionally of a dtype. */
export const asArray = (x: ArrayLike, dtype?: NumericDType): JArray => {
  checkDTypeOption("asarray", dtype)
  if (isArray(x)) return dtype === undefined || x.dtype === dtype ? x : convert(x, dtype)
  if (typeof x !== "number" && typeof x !== "boolean") {
    throw new ArrayLiteralError({ path: "", reason: `expected an Array, a number or a boolean, got ${describe(x)}` })
  }
  return fromScalar(dtype === undefined ? x : integerOf("asarray", x, dtype), dtype)
}

/** A scalar bound for an explicitly asked-for dtype: integers must fit it (see {@link integerLiteral}). */
const integerOf = (op: string, x: number | boolean, dtype: NumericDType): number | boolean =>
  typeof x === "number" ? integerLiteral(op, x, dtype, false) : x

const convert = (x: JArray, dtype: NumericDType): JArray =>
  bind1("convert_element_type", [x], { newDtype: dtype, weakType: false })

const describe = (u: unknown): string => (u === null ? "null" : Array.isArray(u) ? "an array" : typeof u)

/**
 * Makes an array from nested JavaScript arrays, like `jnp.array`. Integral numbers give `int32`,
 * any other number `float32`, booleans `bool`; a scalar without a dtype is weakly typed. Arrays
 * among the elements are stacked.
 */
export const array = (data: ArrayLiteral, options?: DTypeOption): JArray => {
  checkOptionKeys("array", options, ["dtype"])
  const dtype = options?.dtype
  checkDTypeOption("array", dtype)
  if (isArray(data)) return dtype === undefined ? data : convert(data, dtype)
  if (typeof data === "number" || typeof data === "boolean")
    return fromScalar(dtype === undefined ? data : integerOf("array", data, dtype), dtype)
  if (isComplexLiteral(data)) return complexLiteral([data], [], dtype)
  if (!Array.isArray(data))
    throw new ArrayLiteralError({
      path: "",
      reason: `expected nested arrays of numbers or booleans, got ${describe(data)}`
    })
  if (containsArray(data)) return stackLiteral(data, dtype)
  const shape: Array<number> = []
  let level: unknown = data
  while (Array.isArray(level)) {
    shape.push(level.length)
    level = level[0]
  }
  const flat: Array<number | boolean | Complex> = []
  const walk = (v: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof v === "number" || typeof v === "boolean" || isComplexLiteral(v)) flat.push(v)
      else
        throw new ArrayLiteralError({
          path,
          reason: Array.isArray(v)
            ? `ragged nesting: expected a scalar, found an array (the first row set depth ${shape.length})`
            : `expected a number or boolean${typeof v === "object" && v !== null ? " (or a complex number { re, im })" : ""}, got ${describe(v)}`
        })
      return
    }
    if (!Array.isArray(v))
      throw new ArrayLiteralError({
        path,
        reason: `ragged nesting: expected an array of length ${shape[depth]}, got ${describe(v)}`
      })
    if (v.length !== shape[depth])
      throw new ArrayLiteralError({ path, reason: `ragged nesting: expected length ${shape[depth]}, got ${v.length}` })
    for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, `${path}[${i}]`)
  }
  walk(data, 0, "")
  if (flat.some(isComplexLiteral) || dtype === "complex64") return complexLiteral(flat, shape, dtype)
  const reals = flat as ReadonlyArray<number | boolean>
  const d: NumericDType = dtype ?? inferDType(reals)
  const out = allocHost(d, flat.length)
  for (let i = 0; i < reals.length; i++) {
    const v = reals[i]!
    out[i] = castScalar(
      d,
      typeof v === "boolean" ? (v ? 1 : 0) : dtype === undefined ? v : integerLiteral("array", v, d, false)
    )
  }
  return fromHost(out, shape, d)
}

/**
 * An array literal with complex elements (or asked to be complex64): complex64, unless another dtype
 * was asked for, which takes the real parts (as a conversion does).
 */
const complexLiteral = (
  flat: ReadonlyArray<number | boolean | Complex>,
  shape: ReadonlyArray<number>,
  dtype: NumericDType | undefined
): JArray => {
  const out = new Float32Array(2 * flat.length)
  flat.forEach((v, i) => {
    if (isComplexLiteral(v)) {
      out[2 * i] = v.re
      out[2 * i + 1] = v.im
    } else out[2 * i] = typeof v === "boolean" ? (v ? 1 : 0) : v
  })
  const c = fromHost(out, shape, "complex64")
  return dtype === undefined || dtype === "complex64" ? c : convert(c, dtype)
}

const inferDType = (flat: ReadonlyArray<number | boolean>): NumericDType => {
  if (flat.length === 0) return "float32"
  if (flat.every((v) => typeof v === "boolean")) return "bool"
  return flat.some((v) => typeof v === "number" && (!Number.isInteger(v) || Math.abs(v) >= 2 ** 31))
    ? "float32"
    : "int32"
}

const containsArray = (data: ReadonlyArray<ArrayLiteral>): boolean =>
  data.some((v) => isArray(v) || (Array.isArray(v) && containsArray(v as ReadonlyArray<ArrayLiteral>)))

const stackLiteral = (data: ReadonlyArray<ArrayLiteral>, dtype: NumericDType | undefined): JArray => {
  const parts = data.map((v) => array(v, dtype === undefined ? undefined : { dtype }))
  const first = parts[0]!
  parts.forEach((p, i) => {
    if (p.shape.length !== first.shape.length || p.shape.some((d, j) => d !== first.shape[j])) {
      throw new ArrayLiteralError({
        path: `[${i}]`,
        reason: `ragged nesting: shape (${p.shape.join(", ")}) differs from (${first.shape.join(", ")})`
      })
    }
  })
  const { dtype: d, weakType } = parts.reduce(
    (acc, p) => (p.dtype === acc.dtype ? acc : { dtype: promoteLiteral(acc.dtype, p.dtype), weakType: false }),
    { dtype: first.dtype as NumericDType, weakType: false }
  )
  void weakType
  const expanded = parts.map((p) =>
    bind1("expand_dims", [p.dtype === d && !p.weakType ? p : convert(p, d)], { dimensions: [0] })
  )
  return bind1("concatenate", expanded, { dimension: 0 })
}

const promoteLiteral = (a: DType, b: DType): NumericDType => {
  const order: ReadonlyArray<NumericDType> = ["bool", "uint32", "int32", "float32", "complex64"]
  return order[Math.max(order.indexOf(a as NumericDType), order.indexOf(b as NumericDType))]!
}

/** Arrays index their elements with int32, so none holds 2^31 elements or more. */
const MAX_ELEMENTS = 2 ** 31 - 1

const checkShape = (op: string, shape: ReadonlyArray<number> | number): ReadonlyArray<number> => {
  const s = typeof shape === "number" ? [shape] : shape
  if (!Array.isArray(s)) {
    throw new ShapeError({
      op,
      shapes: [],
      reason:
        `a shape is a list of non-negative integers (or one integer), got ${describe(s)} ${JSON.stringify(s) ?? ""}`.trimEnd()
    })
  }
  if (!isValidShape(s)) throw new ShapeError({ op, shapes: [s], reason: "a shape is a list of non-negative integers" })
  const size = sizeOf(s)
  if (size > MAX_ELEMENTS)
    throw new ShapeError({
      op,
      shapes: [s],
      reason: `${size} elements is more than an array holds (at most 2^31 - 1, as indices are int32); use a smaller shape`
    })
  return s
}

/** An array of `shape` filled with `value`. */
export const full = (shape: ReadonlyArray<number> | number, value: number | boolean, options?: DTypeOption): JArray => {
  const s = checkShape("full", shape)
  checkOptionKeys("full", options, ["dtype"])
  checkDTypeOption("full", options?.dtype)
  if (typeof value !== "number" && typeof value !== "boolean") {
    throw new ArgumentError({
      op: "full",
      reason: `fillValue must be a number or a boolean, got ${describe(value)}${typeof value === "string" ? ` ${JSON.stringify(value)}; write it as a number` : ""}`
    })
  }
  const d = options?.dtype ?? scalarDType(value)
  if (d === "complex64") return viaFloat32(d, (f) => full(s, value, { dtype: f }))
  const data = allocHost(d, sizeOf(s))
  data.fill(
    castScalar(
      d,
      typeof value === "boolean"
        ? value
          ? 1
          : 0
        : options?.dtype === undefined
          ? value
          : integerLiteral("full", value, d, false)
    )
  )
  return fromHost(data, s, d)
}

/** Zeros of `shape` (float32 unless a dtype is given). */
export const zeros = (shape: ReadonlyArray<number> | number, options?: DTypeOption): JArray => {
  checkOptionKeys("zeros", options, ["dtype"])
  return full(checkShape("zeros", shape), 0, { dtype: options?.dtype ?? "float32" })
}
/** Ones of `shape` (float32 unless a dtype is given). */
export const ones = (shape: ReadonlyArray<number> | number, options?: DTypeOption): JArray => {
  checkOptionKeys("ones", options, ["dtype"])
  return full(checkShape("ones", shape), 1, { dtype: options?.dtype ?? "float32" })
}

const likeDType = (x: JArray, options?: DTypeOption): NumericDType => {
  checkOptionKeys("full_like", options, ["dtype"])
  const d = options?.dtype ?? x.dtype
  if (d === "key<fry>") throw new DTypeError({ op: "full_like", dtypes: [d], reason: "not a numeric dtype" })
  return d
}
export const fullLike = (x: JArray, value: number | boolean, options?: DTypeOption): JArray =>
  full(x.shape, value, { dtype: likeDType(x, options) })
export const zerosLike = (x: JArray, options?: DTypeOption): JArray =>
  full(x.shape, 0, { dtype: likeDType(x, options) })
export const onesLike = (x: JArray, options?: DTypeOption): JArray => full(x.shape, 1, { dtype: likeDType(x, options) })

/**
 * Evenly spaced values in `[start, stop)`: `arange(stop)`, `arange(start, stop, step?)`. Integral
 * arguments give int32, any fractional one float32.
 */
export const arange = (start: number, stop?: number, step?: number, options?: DTypeOption): JArray => {
  const [lo, hi] = stop === undefined ? [0, start] : [start, stop]
  const st = step ?? 1
  if (st === 0 || !Number.isFinite(st) || !Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new ArgumentError({
      op: "arange",
      reason: `start, stop and a non-zero step must be finite (got ${lo}, ${hi}, ${st})`
    })
  }
  checkOptionKeys("arange", options, ["dtype"])
  checkDTypeOption("arange", options?.dtype)
  const d = options?.dtype ?? ([lo, hi, st].every(Number.isInteger) ? "int32" : "float32")
  if (d === "complex64") return viaFloat32(d, (f) => arange(lo, hi, st, { dtype: f }))
  const n = Math.max(0, Math.ceil((hi - lo) / st))
  const data = allocHost(d, n)
  for (let i = 0; i < n; i++) data[i] = castScalar(d, lo + i * st)
  return fromHost(data, [n], d)
}

/** `num` evenly spaced values from `start` to `stop` (inclusive unless `endpoint: false`). */
export const linspace = (
  start: number,
  stop: number,
  num = 50,
  options?: DTypeOption & { readonly endpoint?: boolean }
): JArray => {
  if (!Number.isInteger(num) || num < 0)
    throw new ArgumentError({ op: "linspace", reason: `num must be a non-negative integer, got ${num}` })
  checkOptionKeys("linspace", options, ["dtype", "endpoint"])
  checkDTypeOption("linspace", options?.dtype)
  const d = options?.dtype ?? "float32"
  if (d === "complex64") return viaFloat32(d, (f) => linspace(start, stop, num, { ...options, dtype: f }))
  const endpoint = options?.endpoint ?? true
  const div = endpoint ? num - 1 : num
  const data = allocHost(d, num)
  const f = Math.fround
  const delta = div > 0 ? f(f(f(stop) - f(start)) / div) : 0
  for (let i = 0; i < num; i++) data[i] = castScalar(d, f(f(start) + f(i * delta)))
  if (endpoint && num > 1) data[num - 1] = castScalar(d, stop)
  return fromHost(data, [num], d)
}

/** A 2-d array with ones on the `k`-th diagonal. */
export const eye = (n: number, m?: number, options?: DTypeOption & { readonly k?: number }): JArray => {
  const cols = m ?? n
  checkShape("eye", [n, cols])
  checkOptionKeys("eye", options, ["dtype", "k"])
  checkDTypeOption("eye", options?.dtype)
  const d = options?.dtype ?? "float32"
  if (d === "complex64") return viaFloat32(d, (f) => eye(n, m, { ...options, dtype: f }))
  const k = options?.k ?? 0
  const data = allocHost(d, n * cols)
  for (let i = 0; i < n; i++) {
    const j = i + k
    if (j >= 0 && j < cols) data[i * cols + j] = 1
  }
  return fromHost(data, [n, cols], d)
}

/** The `n`×`n` identity. */
export const identity = (n: number, options?: DTypeOption): JArray => eye(n, n, options)
