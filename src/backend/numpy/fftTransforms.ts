/**
 * The transforms of `jnp.fft`: `fft`, `ifft`, `rfft`, `irfft`, `hfft`, `ihfft` and their 2-d and
 * n-d forms, as JAX's `jax.numpy.fft` builds them on `lax.fft`: the chosen axes move last, are
 * cropped or zero-padded to the requested lengths, transformed (at most three axes per `fft`
 * primitive, more in stages), scaled for `norm`, and moved back.
 *
 * @since 0.2.0
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ArgumentError, AxisError, DTypeError } from "../ArrayError.ts"
import { bind1 } from "../bind.ts"
import type { FftType } from "../Primitive.ts"
import { normalizeAxis } from "../shape.ts"
import { asArray, fromScalar } from "./creation.ts"
import { conj, convertTo, multiply } from "./elementwise.ts"
import { checkOptionKeys } from "./options.ts"

/** JAX's normalisations: `"backward"` (the default: the inverse divides by n), `"ortho"`, `"forward"`. */
export type FftNorm = "backward" | "ortho" | "forward"

/** Options of the one-dimensional transforms. */
export interface FftOptions {
  /** The length of the transform (the input is cropped or zero-padded to it); the axis's length by default. */
  readonly n?: number | undefined
  /** The axis to transform; -1 by default. */
  readonly axis?: number | undefined
  readonly norm?: FftNorm | undefined
}

/** Options of the n-dimensional transforms. */
export interface FftNOptions {
  /** The lengths of the transforms, one per axis in `axes`. */
  readonly s?: ReadonlyArray<number> | undefined
  /** The axes to transform: every axis (`fftn`), the last two (`fft2`), or the last `s.length`. */
  readonly axes?: ReadonlyArray<number> | undefined
  readonly norm?: FftNorm | undefined
}

const range = (lo: number, hi: number): Array<number> => Array.from({ length: Math.max(0, hi - lo) }, (_, i) => lo + i)

/** Moves axes `from` to positions `to` (both lists of distinct axes), as `jnp.moveaxis`. */
const moveAxes = (x: JArray, from: ReadonlyArray<number>, to: ReadonlyArray<number>): JArray => {
  const rest = range(0, x.ndim).filter((a) => !from.includes(a))
  const perm = new Array<number>(x.ndim)
  from.forEach((a, i) => (perm[to[i]!] = a))
  let r = 0
  for (let i = 0; i < x.ndim; i++) if (perm[i] === undefined) perm[i] = rest[r++]!
  return perm.every((p, i) => p === i) ? x : bind1("transpose", [x], { permutation: perm })
}

/** Crops or zero-pads each axis to `shape`. */
const fitTo = (x: JArray, shape: ReadonlyArray<number>): JArray => {
  let a = x
  if (shape.some((d, i) => d < a.shape[i]!)) {
    a = bind1("slice", [a], {
      startIndices: a.shape.map(() => 0),
      limitIndices: a.shape.map((d, i) => Math.min(d, shape[i]!)),
      strides: a.shape.map(() => 1)
    })
  }
  if (shape.some((d, i) => d > a.shape[i]!)) {
    const zero = a.dtype === "complex64" ? convertTo(fromScalar(0, "float32"), "complex64") : fromScalar(0, "float32")
    a = bind1("pad", [a, zero], {
      config: a.shape.map((d, i): readonly [number, number, number] => [0, shape[i]! - d, 0])
    })
  }
  return a
}

/** JAX's `_fft_core_nd`: at most three axes per primitive. */
const fftNd = (x: JArray, type: FftType, s: ReadonlyArray<number>): JArray => {
  if (s.length <= 3) return bind1("fft", [x], { fftType: type, fftLengths: s })
  const n = s.length === 4 ? 2 : 3
  const src = range(x.ndim - s.length, x.ndim - n)
  const dst = range(x.ndim - s.length + n, x.ndim)
  if (type === "RFFT" || type === "FFT") {
    let a = bind1("fft", [x], { fftType: type, fftLengths: s.slice(-n) })
    a = moveAxes(a, src, dst)
    a = fftNd(a, "FFT", s.slice(0, -n))
    return moveAxes(a, dst, src)
  }
  let a = moveAxes(x, src, dst)
  a = fftNd(a, "IFFT", s.slice(0, -n))
  a = moveAxes(a, dst, src)
  return bind1("fft", [a], { fftType: type, fftLengths: s.slice(-n) })
}

const checkNorm = (op: string, norm: unknown): FftNorm | undefined => {
  if (norm === undefined || norm === "backward" || norm === "ortho" || norm === "forward") return norm
  throw new ArgumentError({
    op,
    reason: `Invalid norm value ${String(norm)}; should be "backward", "ortho" or "forward"`
  })
}

/** The factor `norm` multiplies by, in float32 as JAX computes it. */
const normFactor = (name: string, norm: FftNorm, s: ReadonlyArray<number>): number => {
  const f = Math.fround
  const n = s.reduce((a, b) => f(a * b), 1)
  const inverse = name.startsWith("i")
  if (norm === "ortho") return inverse ? f(Math.sqrt(n)) : f(1 / f(Math.sqrt(n)))
  return inverse ? n : f(1 / n)
}

/** JAX's `_fft_core`. */
const fftCore = (
  name: string,
  type: FftType,
  x: ArrayLike,
  s: ReadonlyArray<number> | undefined,
  axes: ReadonlyArray<number> | undefined,
  normOption: unknown
): JArray => {
  const op = `fft.${name}`
  const norm = checkNorm(op, normOption)
  let a = asArray(x)
  if (a.dtype === "key<fry>")
    throw new DTypeError({ op, dtypes: [a.dtype], reason: "expected a numeric array, not PRNG keys" })
  if (type === "RFFT") {
    if (a.dtype === "complex64")
      throw new DTypeError({ op, dtypes: [a.dtype], reason: `only real valued inputs supported for ${name}` })
    a = convertTo(a, "float32")
  } else a = convertTo(a, "complex64")
  if (s?.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new ArgumentError({ op, reason: `Shape should be positive integers, got [${s!.join(", ")}]` })
  }
  if (s !== undefined && axes !== undefined && s.length !== axes.length) {
    throw new ArgumentError({ op, reason: `Shape and axes have different lengths (${s.length} and ${axes.length})` })
  }
  let ax =
    axes === undefined
      ? s === undefined
        ? range(0, a.ndim)
        : range(a.ndim - s.length, a.ndim)
      : axes.map((v) => normalizeAxis(op, v, a.ndim))
  if (new Set(ax).size !== ax.length) {
    throw new AxisError({
      op,
      axis: ax,
      ndim: a.ndim,
      reason: `repeated axes are not supported; got axes [${ax.join(", ")}]`
    })
  }
  if (ax.length > a.ndim) throw new AxisError({ op, axis: ax, ndim: a.ndim, reason: "more axes than the array has" })
  const original = axes === undefined ? undefined : ax
  if (original !== undefined) {
    ax = range(a.ndim - original.length, a.ndim)
    a = moveAxes(a, original, ax)
  }
  let lengths: Array<number>
  if (s !== undefined) {
    const target = a.shape.slice()
    ax.forEach((axis, i) => (target[axis] = s[i]!))
    if (type === "IRFFT") target[a.ndim - 1] = Math.floor(target[a.ndim - 1]! / 2) + 1
    a = fitTo(a, target)
    lengths = s.slice()
  } else if (type === "IRFFT") {
    lengths = ax.slice(0, -1).map((axis) => a.shape[axis]!)
    if (ax.length > 0) lengths.push(Math.max(0, 2 * (a.shape[ax[ax.length - 1]!]! - 1)))
  } else lengths = ax.map((axis) => a.shape[axis]!)
  let out = lengths.length === 0 ? a : fftNd(a, type, lengths)
  if (norm !== undefined && norm !== "backward") out = multiply(out, normFactor(name, norm, lengths))
  return original === undefined ? out : moveAxes(out, ax, original)
}

const oneAxis = (op: string, axis: unknown): number => {
  if (axis === undefined) return -1
  if (typeof axis !== "number" || !Number.isInteger(axis)) {
    throw new ArgumentError({
      op: `fft.${op}`,
      reason: `jnp.fft.${op} does not support multiple axes; use the n-dimensional form. Got axis = ${JSON.stringify(axis)}`
    })
  }
  return axis
}

const core1d = (name: string, type: FftType, x: ArrayLike, options: FftOptions | undefined): JArray => {
  checkOptionKeys(`fft.${name}`, options, ["n", "axis", "norm"])
  const n = options?.n
  return fftCore(name, type, x, n === undefined ? undefined : [n], [oneAxis(name, options?.axis)], options?.norm)
}

const coreNd = (
  name: string,
  type: FftType,
  x: ArrayLike,
  options: FftNOptions | undefined,
  defaultAxes: ReadonlyArray<number> | undefined
): JArray => {
  checkOptionKeys(`fft.${name}`, options, ["s", "axes", "norm"])
  return fftCore(name, type, x, options?.s, options?.axes ?? defaultAxes, options?.norm)
}

/**
 * The one-dimensional discrete Fourier transform along `axis`, like `jnp.fft.fft`: complex64.
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * jnp.fft.fft(jnp.array([1, 2, 3, 4])).tolist()
 * // [{ re: 10, im: 0 }, { re: -2, im: 2 }, { re: -2, im: 0 }, { re: -2, im: -2 }]
 * ```
 * @category fft
 * @since 0.2.0
 */
export const fft = (x: ArrayLike, options?: FftOptions): JArray => core1d("fft", "FFT", x, options)
/** The inverse of {@link fft}, like `jnp.fft.ifft`. @category fft @since 0.2.0 */
export const ifft = (x: ArrayLike, options?: FftOptions): JArray => core1d("ifft", "IFFT", x, options)
/** The transform of real input, its `n/2 + 1` non-negative frequencies, like `jnp.fft.rfft`. @category fft @since 0.2.0 */
export const rfft = (x: ArrayLike, options?: FftOptions): JArray => core1d("rfft", "RFFT", x, options)
/**
 * The inverse of {@link rfft}: `n` (default `2 (m - 1)`) real values from `m` frequencies, like
 * `jnp.fft.irfft`. @category fft @since 0.2.0
 */
export const irfft = (x: ArrayLike, options?: FftOptions): JArray => core1d("irfft", "IRFFT", x, options)

/**
 * The transform of a signal whose spectrum is Hermitian (given by its first half), real output,
 * like `jnp.fft.hfft`: `irfft(conj(x)) · n`. @category fft @since 0.2.0
 */
export const hfft = (x: ArrayLike, options?: FftOptions): JArray => {
  checkOptionKeys("fft.hfft", options, ["n", "axis", "norm"])
  const a = conj(asArray(x))
  const axis = normalizeAxis("fft.hfft", oneAxis("hfft", options?.axis), a.ndim)
  const nn = options?.n ?? (a.shape[axis]! - 1) * 2
  const n = options?.n
  return multiply(fftCore("hfft", "IRFFT", a, n === undefined ? undefined : [n], [axis], options?.norm), nn)
}
/** The inverse of {@link hfft}, like `jnp.fft.ihfft`: `conj(rfft(x)) / n`. @category fft @since 0.2.0 */
export const ihfft = (x: ArrayLike, options?: FftOptions): JArray => {
  checkOptionKeys("fft.ihfft", options, ["n", "axis", "norm"])
  const a = asArray(x)
  const axis = normalizeAxis("fft.ihfft", oneAxis("ihfft", options?.axis), a.ndim)
  const nn = options?.n ?? a.shape[axis]!
  const n = options?.n
  return multiply(
    conj(fftCore("ihfft", "RFFT", a, n === undefined ? undefined : [n], [axis], options?.norm)),
    Math.fround(1 / nn)
  )
}

/** The 2-d transform over `axes` (the last two by default), like `jnp.fft.fft2`. @category fft @since 0.2.0 */
export const fft2 = (x: ArrayLike, options?: FftNOptions): JArray => coreNd("fft2", "FFT", x, options, [-2, -1])
/** @category fft @since 0.2.0 */
export const ifft2 = (x: ArrayLike, options?: FftNOptions): JArray => coreNd("ifft2", "IFFT", x, options, [-2, -1])
/** @category fft @since 0.2.0 */
export const rfft2 = (x: ArrayLike, options?: FftNOptions): JArray => coreNd("rfft2", "RFFT", x, options, [-2, -1])
/** @category fft @since 0.2.0 */
export const irfft2 = (x: ArrayLike, options?: FftNOptions): JArray => coreNd("irfft2", "IRFFT", x, options, [-2, -1])
/**
 * The n-d transform over `axes` (every axis, or the last `s.length`, by default), like
 * `jnp.fft.fftn`. @category fft @since 0.2.0
 */
export const fftn = (x: ArrayLike, options?: FftNOptions): JArray => coreNd("fftn", "FFT", x, options, undefined)
/** @category fft @since 0.2.0 */
export const ifftn = (x: ArrayLike, options?: FftNOptions): JArray => coreNd("ifftn", "IFFT", x, options, undefined)
/** @category fft @since 0.2.0 */
export const rfftn = (x: ArrayLike, options?: FftNOptions): JArray => coreNd("rfftn", "RFFT", x, options, undefined)
/** @category fft @since 0.2.0 */
export const irfftn = (x: ArrayLike, options?: FftNOptions): JArray => coreNd("irfftn", "IRFFT", x, options, undefined)
