/**
 * The `fft` kernel: XLA's four transform kinds over the trailing axes, any length. A power-of-two
 * length runs the iterative radix-2 algorithm; other lengths up to 64 the direct transform; longer
 * ones Bluestein's algorithm (a chirp convolution done with power-of-two transforms), so every length
 * costs `O(n log n)`. Lines are
 * transformed in double precision and rounded to float32 once at the end.
 */
import { sizeOf } from "../shape.ts"
import { fromParts, toComplex64 } from "./complex.ts"
import type { CpuKernel } from "./kernel.ts"

/**
 * `cos(2πm/n)` and `sin(2πm/n)` for `m < n`, exact where they are 0 or ±1 and symmetric
 * (`cos(2π(n-m)/n) = cos(2πm/n)`, ...), so that sums that cancel in exact arithmetic (the imaginary
 * part of a real signal's zero frequency, a Nyquist term) cancel here too.
 */
const twiddles = (n: number): { readonly cos: Float64Array; readonly sin: Float64Array } => {
  const cos = new Float64Array(n),
    sin = new Float64Array(n)
  for (let m = 0; m <= n / 2; m++) {
    let c: number, t: number
    if ((4 * m) % n === 0) {
      const q = (4 * m) / n
      c = q === 0 ? 1 : q === 2 ? -1 : 0
      t = q === 1 ? 1 : 0
    } else if (4 * m < n) {
      c = Math.cos((2 * Math.PI * m) / n)
      t = Math.sin((2 * Math.PI * m) / n)
    } else {
      // The second quadrant from the first: cos(π - a) = -cos a, sin(π - a) = sin a.
      c = -Math.cos((2 * Math.PI * (n / 2 - m)) / n)
      t = Math.sin((2 * Math.PI * (n / 2 - m)) / n)
    }
    cos[m] = c
    sin[m] = t
    if (m > 0 && m < n - m) {
      cos[n - m] = c
      sin[n - m] = -t
    }
  }
  return { cos, sin }
}

/** Lengths up to this that are not powers of two run the direct O(n²) transform. */
const DIRECT_MAX = 64

const directPlans = new Map<number, { readonly cos: Float64Array; readonly sin: Float64Array }>()

/** The direct transform with exact-symmetric twiddles (indices `jk mod n`). */
const direct = (re: Float64Array, im: Float64Array, sign: number): void => {
  const n = re.length
  let plan = directPlans.get(n)
  if (plan === undefined) {
    plan = twiddles(n)
    directPlans.set(n, plan)
  }
  const { cos, sin } = plan
  const xr = Float64Array.from(re),
    xi = Float64Array.from(im)
  // Neumaier's compensated sums: terms that cancel exactly (1 + cos a + cos(π - a) - 1) give 0.
  const sum = new Float64Array(4)
  const add = (at: number, v: number): void => {
    const s0 = sum[at]!,
      t = s0 + v
    sum[at + 1]! += Math.abs(s0) >= Math.abs(v) ? s0 - t + v : v - t + s0
    sum[at] = t
  }
  for (let k = 0; k < n; k++) {
    sum.fill(0)
    for (let j = 0, m = 0; j < n; j++, m = (m + k) % n) {
      const c = cos[m]!,
        t = sign * sin[m]!
      add(0, xr[j]! * c)
      add(0, -xi[j]! * t)
      add(2, xr[j]! * t)
      add(2, xi[j]! * c)
    }
    re[k] = sum[0]! + sum[1]!
    im[k] = sum[2]! + sum[3]!
  }
}

interface Radix2Plan {
  readonly n: number
  readonly cos: Float64Array
  readonly sin: Float64Array
  readonly rev: Uint32Array
}

const radix2Plans = new Map<number, Radix2Plan>()

const radix2Plan = (n: number): Radix2Plan => {
  let plan = radix2Plans.get(n)
  if (plan === undefined) {
    const { cos, sin } = twiddles(n)
    const rev = new Uint32Array(n)
    const bits = Math.round(Math.log2(n))
    for (let i = 0; i < n; i++) {
      let r = 0
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b)
      rev[i] = r
    }
    plan = { n, cos, sin, rev }
    radix2Plans.set(n, plan)
  }
  return plan
}

/** In-place unnormalized DFT of a power-of-two length: `sign` -1 forward, +1 inverse. */
const radix2 = (re: Float64Array, im: Float64Array, sign: number): void => {
  const n = re.length
  if (n <= 1) return
  const { cos, sin, rev } = radix2Plan(n)
  for (let i = 0; i < n; i++) {
    const j = rev[i]!
    if (j > i) {
      let t = re[i]!
      re[i] = re[j]!
      re[j] = t
      t = im[i]!
      im[i] = im[j]!
      im[j] = t
    }
  }
  for (let size = 2; size <= n; size *= 2) {
    const half = size / 2,
      step = n / size
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step]!,
          wi = sign * sin[k * step]!
        const a = start + k,
          b = a + half
        const xr = re[b]! * wr - im[b]! * wi
        const xi = re[b]! * wi + im[b]! * wr
        re[b] = re[a]! - xr
        im[b] = im[a]! - xi
        re[a]! += xr
        im[a]! += xi
      }
    }
  }
}

interface BluesteinPlan {
  readonly m: number
  /** The chirp `exp(-iπk²/n)`. */
  readonly wr: Float64Array
  readonly wi: Float64Array
  /** The transform of the conjugate chirp, wrapped to length `m`. */
  readonly br: Float64Array
  readonly bi: Float64Array
}

const bluesteinPlans = new Map<number, BluesteinPlan>()

const bluesteinPlan = (n: number): BluesteinPlan => {
  let plan = bluesteinPlans.get(n)
  if (plan === undefined) {
    let m = 1
    while (m < 2 * n - 1) m *= 2
    const wr = new Float64Array(n),
      wi = new Float64Array(n)
    for (let k = 0; k < n; k++) {
      // k² mod 2n keeps the angle small, so the chirp stays accurate for long transforms.
      const a = (Math.PI * ((k * k) % (2 * n))) / n
      wr[k] = Math.cos(a)
      wi[k] = -Math.sin(a)
    }
    const br = new Float64Array(m),
      bi = new Float64Array(m)
    br[0] = wr[0]!
    bi[0] = -wi[0]!
    for (let k = 1; k < n; k++) {
      br[k] = br[m - k] = wr[k]!
      bi[k] = bi[m - k] = -wi[k]!
    }
    radix2(br, bi, -1)
    plan = { m, wr, wi, br, bi }
    bluesteinPlans.set(n, plan)
  }
  return plan
}

/** In-place unnormalized DFT of any length: `sign` -1 forward, +1 inverse. */
const dft = (re: Float64Array, im: Float64Array, sign: number): void => {
  const n = re.length
  if (n <= 1) return
  if ((n & (n - 1)) === 0) return radix2(re, im, sign)
  if (n <= DIRECT_MAX) return direct(re, im, sign)
  // The inverse is the conjugate of the forward transform of the conjugate.
  const { m, wr, wi: wiF, br, bi } = bluesteinPlan(n)
  const ar = new Float64Array(m),
    ai = new Float64Array(m)
  for (let k = 0; k < n; k++) {
    const xr = re[k]!,
      xi = -sign * im[k]!,
      cr = wr[k]!,
      ci = wiF[k]!
    ar[k] = xr * cr - xi * ci
    ai[k] = xr * ci + xi * cr
  }
  radix2(ar, ai, -1)
  for (let k = 0; k < m; k++) {
    const xr = ar[k]!,
      xi = ai[k]!
    ar[k] = xr * br[k]! - xi * bi[k]!
    ai[k] = xr * bi[k]! + xi * br[k]!
  }
  radix2(ar, ai, 1)
  for (let k = 0; k < n; k++) {
    const xr = ar[k]! / m,
      xi = ai[k]! / m,
      cr = wr[k]!,
      ci = wiF[k]!
    re[k] = xr * cr - xi * ci
    im[k] = -sign * (xr * ci + xi * cr)
  }
}

/**
 * Transforms every line along `axis` of a row-major complex array of `shape` (in place); the inverse
 * divides by the length.
 */
const alongAxis = (
  re: Float64Array,
  im: Float64Array,
  shape: ReadonlyArray<number>,
  axis: number,
  inverse: boolean
): void => {
  const n = shape[axis]!
  const inner = sizeOf(shape.slice(axis + 1))
  const outer = sizeOf(shape.slice(0, axis))
  const lr = new Float64Array(n),
    li = new Float64Array(n)
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i
      for (let k = 0; k < n; k++) {
        lr[k] = re[base + k * inner]!
        li[k] = im[base + k * inner]!
      }
      dft(lr, li, inverse ? 1 : -1)
      for (let k = 0; k < n; k++) {
        re[base + k * inner] = inverse ? lr[k]! / n : lr[k]!
        im[base + k * inner] = inverse ? li[k]! / n : li[k]!
      }
    }
  }
}

/** Keeps the first `keep` entries of the last axis (`RFFT`'s half spectrum). */
const truncateLast = (x: Float64Array, rows: number, n: number, keep: number): Float64Array => {
  const out = new Float64Array(rows * keep)
  for (let r = 0; r < rows; r++) for (let k = 0; k < keep; k++) out[r * keep + k] = x[r * n + k]!
  return out
}

export const fftKernel: CpuKernel<"fft"> = (inputs, inAvals, outAvals, params) => {
  const inShape = inAvals[0]!.shape
  const lengths = params.fftLengths
  const first = inShape.length - lengths.length
  const axes = lengths.map((_, i) => first + i)
  const last = inShape.length - 1
  switch (params.fftType) {
    case "FFT":
    case "IFFT": {
      const { re, im } = toComplex64(inputs[0]!, true)
      for (const a of axes) alongAxis(re, im, inShape, a, params.fftType === "IFFT")
      return [fromParts(re, im)]
    }
    case "RFFT": {
      const { re, im } = toComplex64(inputs[0]!, false)
      const n = inShape[last]!
      alongAxis(re, im, inShape, last, false)
      const keep = Math.floor(n / 2) + 1
      const rows = sizeOf(inShape) / Math.max(n, 1)
      const outShape = outAvals[0]!.shape
      const hr = n === 0 ? new Float64Array(sizeOf(outShape)) : truncateLast(re, rows, n, keep)
      const hi = n === 0 ? new Float64Array(sizeOf(outShape)) : truncateLast(im, rows, n, keep)
      for (const a of axes.slice(0, -1)) alongAxis(hr, hi, outShape, a, false)
      return [fromParts(hr, hi)]
    }
    case "IRFFT": {
      const { re, im } = toComplex64(inputs[0]!, true)
      for (const a of axes.slice(0, -1)) alongAxis(re, im, inShape, a, true)
      // The last axis: rebuild the Hermitian spectrum of length n from its n/2 + 1 values, invert it
      // and keep the real part (the imaginary parts of the zero and Nyquist terms drop out).
      const outShape = outAvals[0]!.shape
      const n = lengths[lengths.length - 1]!
      const half = inShape[last]!
      const rows = sizeOf(outShape) / Math.max(n, 1)
      const out = new Float32Array(sizeOf(outShape))
      const lr = new Float64Array(n),
        li = new Float64Array(n)
      for (let r = 0; r < rows; r++) {
        for (let k = 0; k < n; k++) {
          if (k < half) {
            lr[k] = re[r * half + k]!
            li[k] = im[r * half + k]!
          } else {
            lr[k] = re[r * half + (n - k)]!
            li[k] = -im[r * half + (n - k)]!
          }
        }
        dft(lr, li, 1)
        for (let k = 0; k < n; k++) out[r * n + k] = lr[k]! / n
      }
      return [out]
    }
  }
}
