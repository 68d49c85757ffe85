/**
 * The error function and its inverse at float32 precision.
 *
 * `erf` is evaluated in double precision and rounded once, so it is within half an ulp of float32
 * (XLA's own float32 approximation is a few ulp off; both agree to test tolerances). `erfInv` instead
 * reproduces XLA's float32 algorithm step by step, because its output feeds `random.normal` and
 * sampled values should match JAX's bit for bit where float32 arithmetic allows.
 */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI)
const INV_SQRT_PI = 1 / Math.sqrt(Math.PI)

/**
 * erf(x) = 2/√π · e^{-x²} · Σ 2ⁿ x^{2n+1} / (2n+1)!!. Every term is positive, so unlike the Taylor
 * series there is no cancellation; at |x| < 2.5 it converges in under 40 terms.
 */
const erfSeries = (x: number): number => {
  const x2 = x * x
  let term = x
  let sum = x
  for (let n = 0; n < 100; n++) {
    term *= (2 * x2) / (2 * n + 3)
    sum += term
    if (term < 1e-17 * sum) break
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum
}

/**
 * erfc(x) = e^{-x²}/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + ...)))), the Laplace continued fraction,
 * evaluated bottom-up. For x ≥ 2.5 thirty levels give a relative error below 1e-11.
 */
const erfcContinuedFraction = (x: number): number => {
  let f = x
  for (let k = 30; k >= 1; k--) f = x + k / 2 / f
  return (Math.exp(-x * x) * INV_SQRT_PI) / f
}

/** erf in double precision (about 1e-14 relative), for a float32 result. Keeps the sign of zero. */
export const erf64 = (x: number): number => {
  if (x !== x || x === 0) return x
  const ax = Math.abs(x)
  // Beyond 6, erfc(x) < 3e-17: erf is ±1 even in double precision.
  const r = ax < 2.5 ? erfSeries(ax) : ax >= 6 ? 1 : 1 - erfcContinuedFraction(ax)
  return x < 0 ? -r : r
}

/** float32 erf. */
export const erfF32 = (x: number): number => Math.fround(erf64(x))

const f = Math.fround

// M. Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011), single-precision version;
// the same coefficients XLA uses for float32 `erf_inv`.
const CENTRAL = [
  2.81022636e-8, 3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164,
  0.246640727, 1.50140941
].map(f)
const TAIL = [
  -0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
  1.00167406, 2.83297682
].map(f)

/**
 * float32 erf⁻¹, following XLA's lowering: w = -log1p(-x²) and a degree-8 polynomial in w - 2.5
 * (w < 5) or √w - 3, every operation rounded to float32 as XLA's float32 code does.
 */
export const erfInvF32 = (x: number): number => {
  const ax = Math.abs(x)
  if (ax === 1) return x * Infinity
  if (!(ax < 1)) return NaN
  let w = f(-Math.log1p(f(-f(x * x))))
  let coeffs: ReadonlyArray<number>
  if (w < 5) {
    w = f(w - 2.5)
    coeffs = CENTRAL
  } else {
    w = f(f(Math.sqrt(w)) - 3)
    coeffs = TAIL
  }
  let p = coeffs[0]!
  for (let i = 1; i < coeffs.length; i++) p = f(coeffs[i]! + f(p * w))
  return f(p * x)
}
