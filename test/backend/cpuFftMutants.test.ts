/**
 * The cpu `fft` kernel (src/backend/cpu/fft.ts), called directly through the cpu kernel table (issue
 * 16: tests that catch injected bugs): the four transform kinds over one to three trailing axes with
 * batch axes, at lengths of every algorithm (radix-2, the direct transform up to 64, Bluestein's past
 * it, and the boundaries), against the DFT by its definition in double; exact zeros where exact
 * arithmetic cancels (the imaginary parts of a real signal's zero and Nyquist frequencies); IRFFT's
 * Hermitian rebuild with the imaginary parts of its zero and Nyquist terms dropped; empty lengths.
 */
import { describe, expect, it } from "vitest"
import { aval } from "../../src/backend/DType.ts"
import { cpuKernels } from "../../src/backend/cpu/kernels.ts"
import { abstractEval } from "../../src/backend/Primitive.ts"
import type { Params } from "../../src/backend/Primitive.ts"
import { sizeOf } from "../../src/backend/shape.ts"
import { unravel } from "../support/multiIndex.ts"

/** mulberry32: a seeded uniform generator on [0, 1). */
const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const fft = (p: Params<"fft">, shape: ReadonlyArray<number>, data: Float32Array) => {
  const inAvals = [aval(shape, p.fftType === "RFFT" ? "float32" : "complex64")]
  const outAvals = abstractEval.fft(inAvals, p)
  const out = cpuKernels.fft([data], inAvals, outAvals, p)[0]!
  expect(out).toBeInstanceOf(Float32Array)
  return { out: out as Float32Array, shape: outAvals[0]!.shape }
}

/**
 * The DFT by its definition over `axes` of a complex array (parts in double): `sign` -1 forward, +1
 * inverse (then divided by the lengths).
 */
const dftRef = (
  re: ArrayLike<number>,
  im: ArrayLike<number>,
  shape: ReadonlyArray<number>,
  axes: ReadonlyArray<number>,
  sign: number
): { re: Float64Array; im: Float64Array } => {
  const n = sizeOf(shape)
  const outRe = new Float64Array(n),
    outIm = new Float64Array(n)
  const scale = sign > 0 ? axes.reduce((s, a) => s * shape[a]!, 1) : 1
  for (let o = 0; o < n; o++) {
    const oi = unravel(o, shape)
    let sr = 0,
      si = 0
    for (let e = 0; e < n; e++) {
      const ei = unravel(e, shape)
      if (oi.some((v, d) => !axes.includes(d) && v !== ei[d])) continue
      // angle = sign · 2π Σ k_a j_a / n_a, reduced mod 1 turn exactly in integers
      let turns = 0
      for (const a of axes) turns += ((oi[a]! * ei[a]!) % shape[a]!) / shape[a]!
      const ang = sign * 2 * Math.PI * turns
      const c = Math.cos(ang),
        s = Math.sin(ang)
      sr += re[e]! * c - im[e]! * s
      si += re[e]! * s + im[e]! * c
    }
    outRe[o] = sr / scale
    outIm[o] = si / scale
  }
  return { re: outRe, im: outIm }
}

/** Every part within `tol` times the largest modulus of the expected result (float32 rounding of double work). */
const expectNear = (got: ArrayLike<number>, want: ArrayLike<number>, label: string, tol = 2e-6): void => {
  expect(got.length, label).toBe(want.length)
  let scale = 1e-30
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!))
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= tol * scale)) expect.fail(`${label}: word ${i} is ${got[i]}, want ${want[i]}`)
  }
}

const interleave = (re: ArrayLike<number>, im: ArrayLike<number>): Array<number> =>
  Array.from({ length: 2 * re.length }, (_, i) => (i % 2 === 0 ? re[i >> 1]! : im[i >> 1]!))

const complexData = (n: number, seed: number): Float32Array => {
  const rnd = mulberry32(seed)
  return Float32Array.from({ length: 2 * n }, () => rnd() * 2 - 1)
}
const parts = (z: Float32Array) => ({
  re: Array.from({ length: z.length / 2 }, (_, i) => z[2 * i]!),
  im: Array.from({ length: z.length / 2 }, (_, i) => z[2 * i + 1]!)
})

const lengths1 = [1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 31, 60, 63, 64, 65, 66, 96, 100, 127, 128]

describe("FFT and IFFT against the DFT by definition", () => {
  for (const fftType of ["FFT", "IFFT"] as const) {
    it(`${fftType} of one axis, every algorithm and its boundaries`, () => {
      for (const n of lengths1) {
        const shape = [2, n]
        const x = complexData(2 * n, n)
        const { re, im } = parts(x)
        const want = dftRef(re, im, shape, [1], fftType === "FFT" ? -1 : 1)
        expectNear(fft({ fftType, fftLengths: [n] }, shape, x).out, interleave(want.re, want.im), `${fftType} ${n}`)
      }
    })

    it(`${fftType} of two and three axes, with batch axes`, () => {
      for (const [shape, k] of [
        [[3, 4, 6], 2],
        [[2, 5, 8], 2],
        [[3, 2, 67], 2],
        [[2, 3, 4, 5], 3],
        [[4, 3], 2]
      ] as const) {
        const x = complexData(sizeOf(shape), shape.length * 10 + k)
        const { re, im } = parts(x)
        const axes = Array.from({ length: k }, (_, i) => shape.length - k + i)
        const want = dftRef(re, im, shape, axes, fftType === "FFT" ? -1 : 1)
        const lengths = shape.slice(shape.length - k)
        expectNear(
          fft({ fftType, fftLengths: lengths }, shape, x).out,
          interleave(want.re, want.im),
          `${fftType} ${shape}`
        )
      }
    })
  }

  it("a real signal's zero and Nyquist frequencies have exactly zero imaginary parts", () => {
    for (const n of [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 24, 30, 32, 36, 40, 48, 50, 60, 62, 64]) {
      const rnd = mulberry32(500 + n)
      const x = Float32Array.from({ length: 2 * n }, (_, i) => (i % 2 === 0 ? rnd() * 2 - 1 : 0))
      const { out } = fft({ fftType: "FFT", fftLengths: [n] }, [n], x)
      expect(Object.is(out[1], 0) || Object.is(out[1], -0), `zero frequency of ${n}: ${out[1]}`).toBe(true)
      expect(out[n + 1] === 0, `Nyquist term of ${n}: ${out[n + 1]}`).toBe(true)
    }
  })

  it("transforms of simple signals come out exact", () => {
    // An impulse: all ones; a constant: n at the zero frequency and exact zeros elsewhere, for
    // lengths whose twiddles are exact (0 and ±1 only).
    for (const n of [1, 2, 4]) {
      const impulse = new Float32Array(2 * n)
      impulse[0] = 1
      expect(Array.from(fft({ fftType: "FFT", fftLengths: [n] }, [n], impulse).out)).toEqual(
        interleave(new Array(n).fill(1), new Array(n).fill(0))
      )
      const constant = Float32Array.from({ length: 2 * n }, (_, i) => (i % 2 === 0 ? 1 : 0))
      const { out } = fft({ fftType: "FFT", fftLengths: [n] }, [n], constant)
      expect(Array.from(out).map(Math.abs)).toEqual(interleave([n, ...new Array(n - 1).fill(0)], new Array(n).fill(0)))
    }
    // e^{2πi k/4} at k = 1: a single spike at frequency 1 (forward) of height 4.
    const tone = Float32Array.from([1, 0, 0, 1, -1, 0, 0, -1])
    expect(Array.from(fft({ fftType: "FFT", fftLengths: [4] }, [4], tone).out)).toEqual([0, 0, 4, 0, 0, 0, 0, 0])
    expect(Array.from(fft({ fftType: "IFFT", fftLengths: [4] }, [4], tone).out)).toEqual([0, 0, 0, 0, 0, 0, 1, 0])
  })

  it("the direct transform's compensated sums cancel a constant signal exactly at these lengths", () => {
    // Exactly symmetric twiddles and Neumaier's sums: every non-zero frequency of a constant is 0.
    for (const n of [5, 7, 10, 14, 20, 28, 40, 56]) {
      const constant = Float32Array.from({ length: 2 * n }, (_, i) => (i % 2 === 0 ? 1 : 0))
      const { out } = fft({ fftType: "FFT", fftLengths: [n] }, [n], constant)
      expect(Array.from(out.slice(2)), `length ${n}`).toEqual(new Array(2 * n - 2).fill(0))
      expect(out[0]).toBe(n)
    }
  })

  it("empty axes give empty results", () => {
    expect(fft({ fftType: "FFT", fftLengths: [0] }, [3, 0], new Float32Array(0)).out.length).toBe(0)
    expect(fft({ fftType: "IFFT", fftLengths: [2, 0] }, [2, 0], new Float32Array(0)).out.length).toBe(0)
  })
})

describe("RFFT and IRFFT", () => {
  it("RFFT keeps n/2 + 1 frequencies of the last axis, then transforms the others", () => {
    for (const shape of [[1], [2], [3, 5], [2, 8], [2, 7], [2, 3, 4], [3, 6, 6], [2, 65], [1, 2, 3, 70]] as const) {
      for (const k of [1, 2, 3]) {
        if (k > shape.length) continue
        const rnd = mulberry32(shape.length * 100 + k)
        const x = Float32Array.from({ length: sizeOf(shape) }, () => rnd() * 2 - 1)
        const axes = Array.from({ length: k }, (_, i) => shape.length - k + i)
        const full = dftRef(x, new Float64Array(x.length), shape, axes, -1)
        const n = shape[shape.length - 1]!
        const keep = Math.floor(n / 2) + 1
        const want: Array<number> = []
        for (let e = 0; e < full.re.length; e++) {
          if (e % n < keep) want.push(full.re[e]!, full.im[e]!)
        }
        const got = fft({ fftType: "RFFT", fftLengths: shape.slice(shape.length - k) }, shape, x)
        expect(got.shape).toEqual([...shape.slice(0, -1), keep])
        expectNear(got.out, want, `RFFT ${shape} over ${k}`)
      }
    }
  })

  it("RFFT of an empty last axis gives one zero frequency per row", () => {
    const got = fft({ fftType: "RFFT", fftLengths: [0] }, [3, 0], new Float32Array(0))
    expect(got.shape).toEqual([3, 1])
    expect(Array.from(got.out)).toEqual([0, 0, 0, 0, 0, 0])
    const got2 = fft({ fftType: "RFFT", fftLengths: [2, 0] }, [2, 0], new Float32Array(0))
    expect(got2.shape).toEqual([2, 1])
    expect(Array.from(got2.out)).toEqual([0, 0, 0, 0])
  })

  /** IRFFT by definition: rebuild Y (Y_k = X_k below n/2 + 1, conj X_{n-k} above), inverse DFT, real part. */
  const irfftRef = (x: Float32Array, shape: ReadonlyArray<number>, lengths: ReadonlyArray<number>): Array<number> => {
    const k = lengths.length
    const n = lengths[k - 1]!
    const half = shape[shape.length - 1]!
    const outShape = [...shape.slice(0, -1), n]
    const re = new Float64Array(sizeOf(outShape)),
      im = new Float64Array(sizeOf(outShape))
    for (let o = 0; o < re.length; o++) {
      const oi = unravel(o, outShape)
      const last = oi[oi.length - 1]!
      const conj = last >= half
      // Mirror every transformed axis for the conjugate half (Hermitian symmetry of the full transform).
      const src = oi.slice()
      if (conj) {
        for (let a = outShape.length - k; a < outShape.length - 1; a++) src[a] = (outShape[a]! - oi[a]!) % outShape[a]!
        src[src.length - 1] = n - last
      }
      let flat = 0
      for (let d = 0; d < shape.length; d++) flat = flat * shape[d]! + src[d]!
      re[o] = x[2 * flat]!
      im[o] = conj ? -x[2 * flat + 1]! : x[2 * flat + 1]!
    }
    const axes = Array.from({ length: k }, (_, i) => outShape.length - k + i)
    return Array.from(dftRef(re, im, outShape, axes, 1).re)
  }

  it("IRFFT of one axis, odd and even lengths of every algorithm", () => {
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 30, 63, 64, 65, 66, 100]) {
      const half = Math.floor(n / 2) + 1
      const shape = [2, half]
      const x = complexData(2 * half, 900 + n)
      const got = fft({ fftType: "IRFFT", fftLengths: [n] }, shape, x)
      expect(got.shape).toEqual([2, n])
      expectNear(got.out, irfftRef(x, shape, [n]), `IRFFT ${n}`)
    }
  })

  it("IRFFT drops the imaginary parts of the zero and Nyquist terms", () => {
    // X = [1 + 5i, 0, 2 - 7i] for n = 4: the imaginary parts 5 and -7 do not reach the result.
    const got = fft({ fftType: "IRFFT", fftLengths: [4] }, [3], Float32Array.from([1, 5, 0, 0, 2, -7]))
    expect(Array.from(got.out)).toEqual([0.75, -0.25, 0.75, -0.25])
    // n = 3: X = [3 + 4i, 1 + 2i] → Y = [3, 1 + 2i, 1 - 2i]; x_t = (3 + 2 cos(2πt/3) - 4 sin(2πt/3)) / 3.
    const odd = fft({ fftType: "IRFFT", fftLengths: [3] }, [2], Float32Array.from([3, 4, 1, 2]))
    expectNear(
      odd.out,
      [0, 1, 2].map((t) => (3 + 2 * Math.cos((2 * Math.PI * t) / 3) - 4 * Math.sin((2 * Math.PI * t) / 3)) / 3),
      "odd",
      1e-7
    )
  })

  it("IRFFT over two and three axes inverts RFFT", () => {
    for (const [shape, k] of [
      [[3, 4], 2],
      [[2, 5, 6], 2],
      [[3, 4, 5], 3],
      [[2, 3, 2, 7], 3]
    ] as const) {
      const rnd = mulberry32(shape.length * 31 + k)
      const x = Float32Array.from({ length: sizeOf(shape) }, () => rnd() * 2 - 1)
      const lengths = shape.slice(shape.length - k)
      const spec = fft({ fftType: "RFFT", fftLengths: lengths }, shape, x)
      const back = fft({ fftType: "IRFFT", fftLengths: lengths }, spec.shape, spec.out)
      expect(back.shape).toEqual(shape)
      expectNear(back.out, x, `round trip ${shape}`, 4e-6)
      expectNear(back.out, irfftRef(spec.out, spec.shape, lengths), `IRFFT ${shape}`, 4e-6)
    }
  })

  it("IRFFT of a non-Hermitian spectrum over two axes takes JAX's rebuild", () => {
    const shape = [3, 3]
    const x = complexData(9, 77)
    const got = fft({ fftType: "IRFFT", fftLengths: [3, 4] }, shape, x)
    expect(got.shape).toEqual([3, 4])
    // The leading axis is inverted first as a complex transform, then the last axis rebuilt.
    const lead = dftRef(parts(x).re, parts(x).im, shape, [0], 1)
    expectNear(got.out, irfftRef(Float32Array.from(interleave(lead.re, lead.im)), shape, [4]), "two-axis IRFFT", 4e-6)
  })

  it("IRFFT of length 0 gives an empty result", () => {
    const got = fft({ fftType: "IRFFT", fftLengths: [0] }, [2, 1], Float32Array.from([1, 2, 3, 4]))
    expect(got.shape).toEqual([2, 0])
    expect(got.out.length).toBe(0)
  })
})
