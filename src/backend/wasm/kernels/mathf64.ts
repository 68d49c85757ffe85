/**
 * Vectorised double-precision exp, expm1, log, log1p, tanh and logistic on f64x2 lanes, for the
 * float32 transcendentals of the generated kernels.
 *
 * exp, log, log1p (and logistic, `1 / (1 + exp(-x))`) are ports of fdlibm, branch for branch: the
 * cpu reference computes a float32 `exp(x)` as `Math.exp(x)` in double and rounds once, and V8's
 * (and SpiderMonkey's) `Math.exp`, `log` and `log1p` are fdlibm's. The same operations in the same
 * order give the same double, so the rounded float32 is the same bit for bit, where another
 * approximation accurate to 1e-16 would still differ about once in 2^28 elements (when its double
 * lands on the other side of a float32 rounding boundary). Where an engine's `Math` uses another
 * library (newer V8 takes log and log1p from LLVM's libc, correctly rounded), both are within one
 * double ulp, and the float32 results differ only in those rare double-rounding cases.
 *
 * fdlibm's branches become lane selects: every lane computes each path's value and keeps the one its
 * own argument selects, so a function costs the sum of its paths. That is cheap for exp, log and
 * log1p (their paths share the work), but fdlibm's expm1 has six paths and tanh calls it, which made
 * tanh twice as slow as needed; tanh and expm1 are therefore not fdlibm's but one short path valid
 * for float32 arguments (the only ones kernels pass): a Taylor polynomial after the usual `k ln2`
 * reduction, within 2^-52 relative, so their float32 results differ from the reference's only in
 * those rare double-rounding cases.
 *
 * fdlibm reads the high word of a double for its range tests; on f64 lanes a test `hx >= 0x40862e42`
 * of `|x|` is the float compare `|x| >= 0x40862e42_00000000`, and the bit surgery of log and log1p
 * runs on i64 lanes (see `simd.ts`).
 *
 * @since 0.2.0
 */
import type { FunctionBuilder } from "../encoder.ts"
import { bind, d, fromWords, get, highWord, pow2, q, toF64, withHighWord } from "./simd.ts"
import type { Expr } from "./simd.ts"

/** The f64x2 functions. */
export type MathF64 = "exp" | "expm1" | "log" | "log1p" | "tanh" | "logistic"

/**
 * Emits code that pushes `name(x)` for the f64x2 in local `x`; `use(name, y)` pushes another
 * function of local `y` (a call, or its code inlined).
 */
type Body = (f: FunctionBuilder, x: number, use: (name: MathF64, y: number) => void) => void

const ln2Hi = 6.93147180369123816490e-01
const ln2Lo = 1.90821492927058770002e-10
const invln2 = 1.44269504088896338700e+00
const two54 = 1.80143985094819840000e+16
const inf = Infinity

/** `mask ? a : b` chained: the first mask that holds picks its value. */
const cases = (otherwise: Expr, ...pairs: ReadonlyArray<readonly [mask: Expr, value: Expr]>): Expr =>
  pairs.reduceRight<Expr>((rest, [mask, value]) => d.sel(value, rest, mask), otherwise)

/**
 * The reduction `x = k ln2 + hi - lo` shared by exp and expm1. fdlibm's three paths are one here:
 * for 0.5 ln2 < |x| < 1.5 ln2 the general `k = (int)(x / ln2 ± 0.5)` is the special path's ±1, and
 * for |x| <= 0.5 ln2 (k = 0) `hi = x - 0 * ln2hi` and `lo = 0 * ln2lo` are fdlibm's `x` and 0.
 */
const reduce = (f: FunctionBuilder, x: Expr, ax: number, neg: number) => {
  const far = bind(f, d.ge(get(ax), d.k(fromWords(0x3fd62e43)))) // |x| > 0.5 ln2
  const k = bind(f, d.and(d.trunc(d.add(d.mul(d.k(invln2), x), d.sel(d.k(-0.5), d.k(0.5), get(neg)))), get(far)))
  const hi = bind(f, d.sub(x, d.mul(get(k), d.k(ln2Hi))))
  const lo = bind(f, d.mul(get(k), d.k(ln2Lo)))
  return { k, hi, lo }
}

/**
 * fdlibm `exp`. Its k = 0 result `1 - ((x c) / (c - 2) - x)` is the general `1 - ((lo - (x c) / (2 - c)) - hi)`
 * with lo = 0 and hi = x: negating a quotient's divisor negates it exactly.
 */
const exp: Body = (f, xl) => {
  const x = get(xl)
  const ax = bind(f, d.abs(x))
  const neg = bind(f, d.lt(x, d.k(0)))
  const { k, hi, lo } = reduce(f, x, ax, neg)
  const r = bind(f, d.sub(get(hi), get(lo)))
  const t = bind(f, d.mul(get(r), get(r)))
  const c = bind(f, d.sub(get(r), d.mul(get(t), d.horner(get(t), [
    1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05,
    -1.65339022054652515390e-06, 4.13813679705723846039e-08
  ]))))
  const y = bind(f, d.sub(d.k(1), d.sub(d.sub(get(lo), d.div(d.mul(get(r), get(c)), d.sub(d.k(2), get(c)))), get(hi))))
  const tiny = d.lt(get(k), d.k(-1021))
  const top = d.eq(get(k), d.k(1024))
  const scale = pow2(d.sel(d.add(get(k), d.k(1000)), d.sel(d.k(1), get(k), top), tiny))
  const after = d.sel(d.k(9.33263618503218878990e-302), d.sel(d.k(8.988465674311579539e307), d.k(1), top), tiny)
  cases(
    d.mul(d.mul(get(y), scale), after),
    [d.gt(x, d.k(7.09782712893383973096e+02)), d.k(inf)],
    [d.lt(x, d.k(-7.45133219101941108420e+02)), d.k(0)],
    [d.lt(get(ax), d.k(fromWords(0x3e300000))), d.add(d.k(1), x)],
    [d.eq(x, d.k(1)), d.k(2.718281828459045)]
  )(f)
}

/** 1/2!, 1/3!, ..., 1/13!: expm1(r) = r + r^2 (1/2! + r (1/3! + ...)) to within 1e-17 for |r| <= ln2 / 2. */
const taylor = Array.from({ length: 12 }, (_, i) => {
  let factorial = 1
  for (let n = 2; n <= i + 2; n++) factorial *= n
  return 1 / factorial
})

/**
 * expm1 for arguments in [-18, 89]: `2^k (1 + p(r)) - 1` with x = k ln2 + r, written
 * `p 2^k + (2^k - 1)` (both exact scalings or exact, one rounding), within 2^-52 relative.
 */
const expm1Core = (f: FunctionBuilder, x: Expr): number => {
  const k = bind(f, (g) => {
    d.mul(x, d.k(invln2))(g)
    g.f64x2_nearest()
  })
  const r = bind(f, d.sub(d.sub(x, d.mul(get(k), d.k(ln2Hi))), d.mul(get(k), d.k(ln2Lo))))
  const p = d.add(get(r), d.mul(d.mul(get(r), get(r)), d.horner(get(r), taylor)))
  const scale = bind(f, pow2(get(k)))
  return bind(f, d.add(d.mul(p, get(scale)), d.sub(get(scale), d.k(1))))
}

/**
 * expm1 of float32 arguments (not fdlibm's: see the module doc). Beyond [-18, 89] the float32 result
 * is -1 or infinity.
 */
const expm1: Body = (f, xl) => {
  const x = get(xl)
  cases(
    get(expm1Core(f, x)),
    [d.gt(x, d.k(89)), d.k(inf)],
    [d.lt(x, d.k(-18)), d.k(-1)],
    [d.eq(x, d.k(0)), x]
  )(f)
}

/**
 * tanh of float32 arguments: `e / (e + 2)` with e = expm1(2|x|), the sign copied from x; from
 * |x| >= 9.1 on, tanh rounds to ±1 in float32.
 */
const tanh: Body = (f, xl) => {
  const x = get(xl)
  const ax = bind(f, d.abs(x))
  const e = expm1Core(f, d.add(get(ax), get(ax)))
  const t = d.sel(d.k(1), d.div(get(e), d.add(get(e), d.k(2))), d.ge(get(ax), d.k(9.1)))
  d.or(d.and(x, d.k(-0)), t)(f)
}

const lg = [
  6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01, 2.222219843214978396e-01,
  1.818357216161805012e-01, 1.531383769920937332e-01, 1.479819860511658591e-01
] as const

/** fdlibm `log`. */
const log: Body = (f, xl) => {
  const x0 = get(xl)
  const small = bind(f, q.lt(highWord(x0), q.k(0x00100000n)))
  const x = bind(f, d.sel(d.mul(x0, d.k(two54)), x0, get(small)))
  const hx0 = bind(f, highWord(get(x)))
  const hx = bind(f, q.and(get(hx0), q.k(0x000fffffn)))
  const i = bind(f, q.and(q.add(get(hx), q.k(0x95f64n)), q.k(0x100000n)))
  const k = bind(f, q.add(q.sub(q.add(q.shrS(get(hx0), 20), q.shrS(get(i), 20)), q.k(1023n)), d.and(get(small), q.k(-54n))))
  const fx = bind(f, d.sub(withHighWord(get(x), q.or(get(hx), q.xor(get(i), q.k(0x3ff00000n)))), d.k(1)))
  const dk = bind(f, toF64(get(k)))
  const k0 = bind(f, q.eq(get(k), q.k(0n)))
  const F = get(fx)
  const DK = get(dk)
  // -2^-20 <= f < 2^-20
  const R0 = bind(f, d.mul(d.mul(F, F), d.sub(d.k(0.5), d.mul(d.k(0.33333333333333333), F))))
  const near = cases(
    d.sub(d.mul(DK, d.k(ln2Hi)), d.sub(d.sub(get(R0), d.mul(DK, d.k(ln2Lo))), F)),
    [d.and(d.eq(F, d.k(0)), get(k0)), d.k(0)],
    [d.eq(F, d.k(0)), d.add(d.mul(DK, d.k(ln2Hi)), d.mul(DK, d.k(ln2Lo)))],
    [get(k0), d.sub(F, get(R0))]
  )
  const s = bind(f, d.div(F, d.add(d.k(2), F)))
  const z = bind(f, d.mul(get(s), get(s)))
  const w = bind(f, d.mul(get(z), get(z)))
  const t1 = d.mul(get(w), d.horner(get(w), [lg[1], lg[3], lg[5]]))
  const t2 = d.mul(get(z), d.horner(get(w), [lg[0], lg[2], lg[4], lg[6]]))
  const R = bind(f, d.add(t2, t1))
  const wide = q.gt(q.or(q.sub(get(hx), q.k(0x6147an)), q.sub(q.k(0x6b851n), get(hx))), q.k(0n))
  const hfsq = bind(f, d.mul(d.mul(d.k(0.5), F), F))
  const S = get(s)
  const general = cases(
    d.sub(d.mul(DK, d.k(ln2Hi)), d.sub(d.sub(d.mul(S, d.sub(F, get(R))), d.mul(DK, d.k(ln2Lo))), F)),
    [d.and(wide, get(k0)), d.sub(F, d.sub(get(hfsq), d.mul(S, d.add(get(hfsq), get(R)))))],
    [wide, d.sub(d.mul(DK, d.k(ln2Hi)), d.sub(d.sub(get(hfsq), d.add(d.mul(S, d.add(get(hfsq), get(R))), d.mul(DK, d.k(ln2Lo)))), F))],
    [get(k0), d.sub(F, d.mul(S, d.sub(F, get(R))))]
  )
  cases(
    general,
    [d.eq(x0, d.k(0)), d.k(-inf)],
    [d.lt(x0, d.k(0)), d.k(NaN)],
    [d.ne(x0, x0), d.add(x0, x0)],
    [d.eq(x0, d.k(inf)), x0],
    [q.lt(q.and(q.add(get(hx), q.k(2n)), q.k(0x000fffffn)), q.k(3n)), near]
  )(f)
}

/** fdlibm `log1p`. */
const log1p: Body = (f, xl) => {
  const x = get(xl)
  const hx = bind(f, highWord(x))
  const ax = bind(f, q.and(get(hx), q.k(0x7fffffffn)))
  // k = 0 when sqrt(2)/2 <= 1 + x < sqrt(2): f = x exactly.
  const direct = bind(f, d.and(q.lt(get(hx), q.k(0x3fda827an)), q.or(q.gt(get(hx), q.k(0n)), q.le(get(hx), q.k(BigInt(0xbfd2bec4 | 0))))))
  const huge = bind(f, q.ge(get(hx), q.k(0x43400000n)))
  const u = bind(f, d.sel(x, d.add(d.k(1), x), get(huge)))
  const hu0 = bind(f, highWord(get(u)))
  const k0 = bind(f, q.sub(q.shrS(get(hu0), 20), q.k(1023n)))
  const c0 = d.div(d.sel(d.sub(d.k(1), d.sub(get(u), x)), d.sub(x, d.sub(get(u), d.k(1))), q.gt(get(k0), q.k(0n))), get(u))
  const hu = bind(f, q.and(get(hu0), q.k(0x000fffffn)))
  const low = bind(f, q.lt(get(hu), q.k(0x6a09en)))
  const uN = withHighWord(get(u), d.sel(q.or(get(hu), q.k(0x3ff00000n)), q.or(get(hu), q.k(0x3fe00000n)), get(low)))
  const c = bind(f, d.sel(d.k(0), d.sel(d.k(0), c0, get(huge)), get(direct)))
  const k = bind(f, d.sel(q.k(0n), d.sel(get(k0), q.add(get(k0), q.k(1n)), get(low)), get(direct)))
  // fdlibm's `hu == 0` (|f| < 2^-20), after its `hu = (0x00100000 - hu) >> 2` on the upper branch.
  const huNext = d.sel(get(hu), q.shrS(q.sub(q.k(0x00100000n), get(hu)), 2), get(low))
  const huZero = bind(f, d.andnot(q.eq(huNext, q.k(0n)), get(direct)))
  const fx = bind(f, d.sel(x, d.sub(uN, d.k(1)), get(direct)))
  const F = get(fx)
  const dk = bind(f, toF64(get(k)))
  const DK = get(dk)
  const kIsZero = bind(f, q.eq(get(k), q.k(0n)))
  const hfsq = bind(f, d.mul(d.mul(d.k(0.5), F), F))
  const R0 = bind(f, d.mul(get(hfsq), d.sub(d.k(1), d.mul(d.k(0.66666666666666666), F))))
  const near = cases(
    d.sub(d.mul(DK, d.k(ln2Hi)), d.sub(d.sub(get(R0), d.add(d.mul(DK, d.k(ln2Lo)), get(c))), F)),
    [d.and(d.eq(F, d.k(0)), get(kIsZero)), d.k(0)],
    [d.eq(F, d.k(0)), d.add(d.mul(DK, d.k(ln2Hi)), d.add(get(c), d.mul(DK, d.k(ln2Lo))))],
    [get(kIsZero), d.sub(F, get(R0))]
  )
  const s = bind(f, d.div(F, d.add(d.k(2), F)))
  const z = bind(f, d.mul(get(s), get(s)))
  const R = bind(f, d.mul(get(z), d.horner(get(z), lg)))
  const sR = bind(f, d.mul(get(s), d.add(get(hfsq), get(R))))
  const general = d.sel(
    d.sub(F, d.sub(get(hfsq), get(sR))),
    d.sub(d.mul(DK, d.k(ln2Hi)), d.sub(d.sub(get(hfsq), d.add(get(sR), d.add(d.mul(DK, d.k(ln2Lo)), get(c)))), F)),
    get(kIsZero))
  const A = (mask: Expr) => d.and(q.lt(get(hx), q.k(0x3fda827an)), mask)
  cases(
    general,
    [A(q.ge(get(ax), q.k(0x3ff00000n))), d.sel(d.k(-inf), d.k(NaN), d.eq(x, d.k(-1)))],
    [A(q.lt(get(ax), q.k(0x3c900000n))), x],
    [A(q.lt(get(ax), q.k(0x3e200000n))), d.sub(x, d.mul(d.mul(x, x), d.k(0.5)))],
    [q.ge(get(hx), q.k(0x7ff00000n)), d.add(x, x)],
    [get(huZero), near]
  )(f)
}

/** The cpu kernel's `1 / (1 + Math.exp(-x))`. */
const logistic: Body = (f, xl, use) => {
  const negated = bind(f, d.neg(get(xl)))
  const e = bind(f, () => use("exp", negated))
  d.div(d.k(1), d.add(d.k(1), get(e)))(f)
}

/** The bodies by name. */
const mathF64: { readonly [K in MathF64]: Body } = { exp, expm1, log, log1p, tanh, logistic }

/** Pushes `name(x)` for local `x`, with every function it uses inlined. */
export const inlineMathF64 = (f: FunctionBuilder, name: MathF64, x: number): void => {
  const use = (n: MathF64, y: number): void => mathF64[n](f, y, use)
  use(name, x)
}
