/**
 * Vectorised float32 exp, expm1, tanh and logistic on f32x4 lanes.
 *
 * These four are the transcendentals of activations, softmax and gates, so they sit inside the
 * hottest fused kernels; computed in double (`mathf64.ts`), each float32 vector costs two f64x2
 * evaluations of fdlibm-sized polynomials, and `tanh(x * 2 + 1) * x` over a million floats spent
 * nine tenths of its time in `tanh`. Here they run on four float32 lanes with a polynomial just long
 * enough for float32 (tanh as a rational function), as XLA's CPU backend does: the results are
 * within a few float32 ulps of the correctly rounded value (the wasm elementwise tests measure the
 * bound against `Math` in double),
 * not bit for bit the cpu reference's `Math.exp` rounded once. log and log1p stay in double: the
 * random distributions built on them are compared with JAX bit for bit.
 *
 * Every operation is a plain multiply or add (no fused multiply-add, whose rounding depends on the
 * hardware), so a kernel gives the same bits on every machine and for any thread count.
 *
 * The shared core reduces `x = k ln2 + r` with |r| <= ln2 / 2 (Cody and Waite's two-part ln2, the
 * high part short enough that `k * ln2Hi` is exact for every k used here) and evaluates
 * `expm1(r) = r (1 + r (1/2! + r (1/3! + ... + r / 7!)))`, whose truncation error `r^8 / 8!` is under
 * 2^-27 relative. Scaling by `2^k` is exact: the exponent field built from k.
 *
 * @since 0.2.0
 */
import type { FunctionBuilder } from "../encoder.ts"
import { bind, get } from "./simd.ts"
import type { Expr } from "./simd.ts"

/** The f32x4 functions. */
export type MathF32 = "exp" | "expm1" | "tanh" | "logistic"

type Emit = (f: FunctionBuilder) => unknown
const apply =
  (emit: Emit) =>
  (...args: ReadonlyArray<Expr>): Expr =>
  (f) => {
    for (const a of args) a(f)
    emit(f)
  }

/** f32x4 and i32x4 expressions. */
const s = {
  k:
    (x: number): Expr =>
    (f) => {
      f.f32x4(x)
    },
  ik:
    (x: number): Expr =>
    (f) => {
      f.i32x4(x)
    },
  add: apply((f) => f.f32x4_add()),
  sub: apply((f) => f.f32x4_sub()),
  mul: apply((f) => f.f32x4_mul()),
  div: apply((f) => f.f32x4_div()),
  abs: apply((f) => f.f32x4_abs()),
  /** `b < a ? b : a`: one instruction where `min` is several, and a NaN in `a` passes through. */
  pmin: apply((f) => f.f32x4_pmin()),
  /** `a < b ? b : a`: a NaN in `a` passes through. */
  pmax: apply((f) => f.f32x4_pmax()),
  and: apply((f) => f.v128_and()),
  or: apply((f) => f.v128_or()),
  iadd: apply((f) => f.i32x4_add()),
  isub: apply((f) => f.i32x4_sub()),
  shl:
    (a: Expr, n: number): Expr =>
    (f) => {
      a(f)
      f.i32(n).i32x4_shl()
    },
  shrS:
    (a: Expr, n: number): Expr =>
    (f) => {
      a(f)
      f.i32(n).i32x4_shr_s()
    }
}

const ln2 = Math.LN2
/** ln2 with its low mantissa bits cleared: `k * ln2Hi` is exact for |k| < 2^11. */
const ln2Hi = Math.fround(Math.floor(ln2 * 4096) / 4096)
const ln2Lo = Math.fround(ln2 - ln2Hi)
const invLn2 = Math.fround(1 / ln2)
/** 1.5 · 2^23 and its bits: see `core`. */
const magic = 12582912
const magicBits = 0x4b400000

/** 1/2!, ..., 1/7!, rounded to float32. */
const inverseFactorials = Array.from({ length: 6 }, (_, i) => {
  let factorial = 1
  for (let n = 2; n <= i + 2; n++) factorial *= n
  return Math.fround(1 / factorial)
})

/** `2^k` for int32 lanes k in [-126, 127]: the exponent field. */
const pow2 = (k: Expr): Expr => s.shl(s.iadd(k, s.ik(127)), 23)

interface Reduced {
  /** k as int32 lanes. */
  readonly k: number
  /** expm1(r), with r's sign (and -0 kept). */
  readonly q: number
}

/** The reduction and the polynomial shared by every function here. */
const core = (f: FunctionBuilder, x: Expr): Reduced => {
  // Adding 1.5 · 2^23 rounds x / ln2 to the nearest integer (ties to even, as `nearest`) and leaves
  // that integer in the low bits of the sum: k comes out as an int32 with one subtraction, where a
  // float-to-int conversion is a long sequence on x64.
  const shifted = bind(f, s.add(s.mul(x, s.k(invLn2)), s.k(magic)))
  const kf = bind(f, s.sub(get(shifted), s.k(magic)))
  const r = bind(f, s.sub(s.sub(x, s.mul(get(kf), s.k(ln2Hi))), s.mul(get(kf), s.k(ln2Lo))))
  // Estrin's scheme: pairs of coefficients combine in parallel, so the dependency chain through the
  // polynomial is three multiply-adds long instead of six (the loop is latency-bound, not throughput-bound).
  const c = inverseFactorials
  const u = bind(f, s.mul(get(r), get(r)))
  const pair = (i: number): Expr => s.add(s.k(c[i]!), s.mul(get(r), s.k(c[i + 1]!)))
  const h = s.add(pair(0), s.mul(get(u), s.add(pair(2), s.mul(get(u), pair(4)))))
  const q = bind(f, s.mul(get(r), s.add(s.k(1), s.mul(get(r), h))))
  const k = bind(f, s.isub(get(shifted), s.ik(magicBits)))
  return { k, q }
}

/**
 * `(1 + q) 2^k` in two exact steps, so that k from -150 (results below the smallest subnormal) to
 * 128 (overflow to infinity) needs no special case.
 */
const scaled = (f: FunctionBuilder, { k, q }: Reduced): Expr => {
  const k1 = bind(f, s.shrS(get(k), 1))
  return s.mul(s.mul(s.add(s.k(1), get(q)), pow2(get(k1))), pow2(s.isub(get(k), get(k1))))
}

/** `2^k q + (2^k - 1)` for k in [-126, 127]: expm1 without cancellation for every k it serves. */
const minusOne = (f: FunctionBuilder, { k, q }: Reduced): Expr => {
  const scale = bind(f, pow2(get(k)))
  return s.add(s.mul(get(q), get(scale)), s.sub(get(scale), s.k(1)))
}

const signBit = s.ik(-0x80000000)
const magnitude = s.ik(0x7fffffff)
/** `|v|` with the sign of `x`. */
const copySign = (v: Expr, x: Expr): Expr => s.or(s.and(v, magnitude), s.and(x, signBit))

type Body = (f: FunctionBuilder, x: number) => void

/** exp: below -104 every float32 result rounds to 0, above 89 to infinity; NaN passes through the clamps. */
const exp: Body = (f, xl) => {
  const x = bind(f, s.pmax(s.pmin(get(xl), s.k(89)), s.k(-104)))
  scaled(f, core(f, get(x)))(f)
}

/**
 * expm1: below -18 the float32 result is -1; beyond k = 24, `2^k - 1` rounds to `2^k` and the exp
 * path (with its two-step scaling up to overflow) is the same value. expm1 keeps the sign of its
 * argument, -0 included, which the final addition of `2^0 - 1 = +0` would lose.
 */
const expm1: Body = (f, xl) => {
  const x = bind(f, s.pmax(s.pmin(get(xl), s.k(89)), s.k(-18)))
  const c = core(f, get(x))
  const big = bind(f, apply((g) => g.i32x4_gt_s())(get(c.k), s.ik(24)))
  const v = apply((g) => g.v128_bitselect())(scaled(f, c), minusOne(f, c), get(big))
  copySign(v, get(xl))(f)
}

/**
 * tanh as `x P(x²) / Q(x²)`, P and Q of degree 4 with positive coefficients (a rational minimax fit
 * to tanh(x)/x on [0, 9], relative error under 0.35 float32 ulp before rounding; fitted by
 * `tools/mathf32/fit_tanh.py`), x clamped to [-9, 9]: from |x| = 9 on, float32 tanh is ±1, and the
 * fit gives exactly that at 9. Ten multiply-adds and a division, where exp-based forms need a range
 * reduction and a longer polynomial: about twice as fast as the expm1 form it replaced.
 * All-positive coefficients keep Horner's rounding small (measured over every float32 in
 * [2^-10, 12]: within 6 ulps of the correctly rounded value, 47% exact; XLA's CPU tanh, measured
 * the same way, is within 5, 29% exact).
 * The result is clamped to [-1, 1], which rounding could pass by an ulp near 9. Odd by construction:
 * -0 stays -0, NaN passes through the clamps, tiny x give x.
 */
const tanhP = [1, 0.13381022214889526, 0.0034955828450620174, 2.0608986233128235e-5, 1.335450949824235e-8]
const tanhQ = [1, 0.46714335680007935, 0.025876963511109352, 0.00032856257166713476, 7.776499728606723e-7]

const horner = (cs: ReadonlyArray<number>, t: Expr): Expr => {
  let r: Expr = s.k(cs[cs.length - 1]!)
  for (let i = cs.length - 2; i >= 0; i--) r = s.add(s.mul(r, t), s.k(cs[i]!))
  return r
}

const tanh: Body = (f, xl) => {
  const x = bind(f, s.pmax(s.pmin(get(xl), s.k(9)), s.k(-9)))
  const t = bind(f, s.mul(get(x), get(x)))
  s.pmax(s.pmin(s.mul(get(x), s.div(horner(tanhP, get(t)), horner(tanhQ, get(t)))), s.k(1)), s.k(-1))(f)
}

/**
 * logistic from e = exp(-|x|), which cannot overflow: `1 / (1 + e)` for x >= 0 and `e / (1 + e)`
 * below, so that far-negative arguments keep their tiny (subnormal) results instead of `1 / inf`.
 */
const logistic: Body = (f, xl) => {
  const negAbs = bind(f, apply((g) => g.f32x4_neg())(s.abs(get(xl))))
  const e = bind(f, () => exp(f, negAbs))
  const numerator = apply((g) => g.v128_bitselect())(s.k(1), get(e), apply((g) => g.f32x4_ge())(get(xl), s.k(0)))
  s.div(numerator, s.add(s.k(1), get(e)))(f)
}

const bodies: { readonly [K in MathF32]: Body } = { exp, expm1, tanh, logistic }

/** Pushes `name(x)` for the f32x4 in local `x`, inlined. */
export const inlineMathF32 = (f: FunctionBuilder, name: MathF32, x: number): void => {
  bodies[name](f, x)
}
