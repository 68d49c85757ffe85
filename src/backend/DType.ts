/**
 * Element types of arrays, their storage, and JAX's type promotion rules.
 *
 * The dtypes are the ones JAX uses with 64-bit mode off: `float32`, `int32`, `uint32`, `bool`,
 * `complex64` (JAX's default complex type: two float32 words per element, real then imaginary), plus
 * typed PRNG keys `key<fry>` (threefry2x32 keys, two uint32 words per element, the trailing 2 hidden
 * from the shape as in JAX). A value may be *weakly typed*: a JavaScript number used as an operand is
 * weak, so `x.add(1)` keeps `x`'s dtype, as a Python scalar does in JAX.
 *
 * @since 0.1.0
 */

/**
 * @category models
 * @since 0.1.0
 */
export type DType = "float32" | "int32" | "uint32" | "bool" | "complex64" | "key<fry>"

/**
 * The numeric dtypes (every dtype but keys).
 * @category models
 * @since 0.1.0
 */
export type NumericDType = Exclude<DType, "key<fry>">

/** @category constants @since 0.1.0 */
export const dtypes: ReadonlyArray<DType> = ["float32", "int32", "uint32", "bool", "complex64", "key<fry>"]

/** @category guards @since 0.1.0 */
export const isDType = (u: unknown): u is DType =>
  typeof u === "string" && (dtypes as ReadonlyArray<string>).includes(u)

/** @category guards @since 0.1.0 */
export const isFloating = (d: DType): d is "float32" => d === "float32"
/** @category guards @since 0.2.0 */
export const isComplex = (d: DType): d is "complex64" => d === "complex64"
/** Floating or complex: the dtypes that carry tangents (`jnp.inexact`). @category guards @since 0.2.0 */
export const isInexact = (d: DType): d is "float32" | "complex64" => d === "float32" || d === "complex64"
/** @category guards @since 0.1.0 */
export const isInteger = (d: DType): d is "int32" | "uint32" => d === "int32" || d === "uint32"
/** @category guards @since 0.1.0 */
export const isKey = (d: DType): d is "key<fry>" => d === "key<fry>"
/** @category guards @since 0.1.0 */
export const isNumeric = (d: DType): d is NumericDType => d !== "key<fry>"

/**
 * The typed array that stores a dtype's elements on the host.
 * A `complex64` array's storage is a Float32Array of interleaved (real, imaginary) pairs.
 * @category models
 * @since 0.1.0
 */
export type HostArray = Float32Array | Int32Array | Uint32Array | Uint8Array

/** Bytes one element takes, as JAX reports it (`nbytes`): a threefry key is 2 × uint32, complex64 2 × float32. */
export const itemSize = (d: DType): number => {
  switch (d) {
    case "float32":
    case "int32":
    case "uint32":
      return 4
    case "bool":
      return 1
    case "complex64":
    case "key<fry>":
      return 8
  }
}

/** Storage words per logical element: keys are two uint32 words, complex64 two float32 words. */
export const wordsPerElement = (d: DType): number => (d === "key<fry>" || d === "complex64" ? 2 : 1)

/** Allocates zeroed host storage for `size` logical elements of `d`. */
export const allocHost = (d: DType, size: number): HostArray => {
  switch (d) {
    case "float32":
      return new Float32Array(size)
    case "int32":
      return new Int32Array(size)
    case "uint32":
      return new Uint32Array(size)
    case "bool":
      return new Uint8Array(size)
    case "complex64":
      return new Float32Array(size * 2)
    case "key<fry>":
      return new Uint32Array(size * 2)
  }
}

/**
 * Converts a JavaScript number to the value a dtype stores, with XLA's conversion semantics. For
 * `complex64` it is the real word (the imaginary word of a real number is 0).
 */
export const castScalar = (d: NumericDType, x: number): number => {
  switch (d) {
    case "float32":
    case "complex64":
      return Math.fround(x)
    case "int32":
      if (Number.isNaN(x)) return 0
      if (x >= 2147483647) return 2147483647
      if (x <= -2147483648) return -2147483648
      return Math.trunc(x) | 0
    case "uint32":
      if (Number.isNaN(x) || x <= 0) return 0
      if (x >= 4294967295) return 4294967295
      return Math.trunc(x) >>> 0
    case "bool":
      return x !== 0 ? 1 : 0
  }
}

/**
 * An abstract value: what is known about an array without its data. Used for shape and dtype
 * inference and, later, by tracers.
 * @category models
 * @since 0.1.0
 */
export interface Aval {
  readonly shape: ReadonlyArray<number>
  readonly dtype: DType
  readonly weakType: boolean
}

/** @category constructors @since 0.1.0 */
export const aval = (shape: ReadonlyArray<number>, dtype: DType, weakType = false): Aval => ({ shape, dtype, weakType })

type Rank = "bool" | "weakInt" | "int" | "weakFloat" | "float" | "weakComplex" | "complex"

const rankOf = (d: DType, weak: boolean): Rank => {
  switch (d) {
    case "bool":
      return "bool"
    case "int32":
    case "uint32":
      return weak ? "weakInt" : "int"
    case "float32":
      return weak ? "weakFloat" : "float"
    case "complex64":
      return weak ? "weakComplex" : "complex"
    case "key<fry>":
      throw new TypeError("key arrays take no part in type promotion")
  }
}

/**
 * JAX's type promotion (`jnp.promote_types` with weak types), restricted to effect-nnx's dtypes with
 * 64-bit mode off: `int32` with `uint32` gives `int64`, which canonicalizes to `int32`; a weak operand
 * takes the other's dtype when that is at least as high in the lattice. Complex is above float:
 * `float32` with `complex64` gives `complex64`; a weak complex (a complex literal) with a strong
 * `float32` gives a strong `complex64`, and with anything lower a weak one, as in JAX.
 * @category promotion
 * @since 0.1.0
 */
export const promoteTypes = (
  a: { readonly dtype: NumericDType; readonly weakType: boolean },
  b: { readonly dtype: NumericDType; readonly weakType: boolean }
): { readonly dtype: NumericDType; readonly weakType: boolean } => {
  if (a.dtype === b.dtype) return { dtype: a.dtype, weakType: a.weakType && b.weakType }
  const ra = rankOf(a.dtype, a.weakType)
  const rb = rankOf(b.dtype, b.weakType)
  if (ra === "complex" || rb === "complex") return { dtype: "complex64", weakType: false }
  if (ra === "weakComplex" || rb === "weakComplex")
    return { dtype: "complex64", weakType: !(ra === "float" || rb === "float") }
  if (ra === "float" || rb === "float") return { dtype: "float32", weakType: false }
  if (ra === "weakFloat" || rb === "weakFloat") return { dtype: "float32", weakType: true }
  if (ra === "int" && rb === "int") return { dtype: "int32", weakType: false } // int32 ⊔ uint32 = int64 → int32
  if (ra === "int") return { dtype: a.dtype, weakType: false }
  if (rb === "int") return { dtype: b.dtype, weakType: false }
  // weak int with bool, or two weak ints of different storage
  return { dtype: "int32", weakType: true }
}

/** Promotes any number of operands; see {@link promoteTypes}. */
export const promoteAll = (
  xs: ReadonlyArray<{ readonly dtype: NumericDType; readonly weakType: boolean }>
): { readonly dtype: NumericDType; readonly weakType: boolean } => {
  if (xs.length === 0) return { dtype: "float32", weakType: true }
  let acc = xs[0]!
  for (let i = 1; i < xs.length; i++) acc = promoteTypes(acc, xs[i]!)
  return acc
}
