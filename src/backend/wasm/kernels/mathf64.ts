/**
 * Vectorised double-precision log and log1p on f64x2 lanes, for the float32 logarithms of the
 * generated kernels (exp, expm1, tanh and logistic run on float32 lanes: see `mathf32.ts`).
 *
 * Both are ports of fdlibm, branch for branch: the cpu reference computes a float32 `log(x)` as
 * `Math.log(x)` in double and rounds once, and V8's (and SpiderMonkey's) `Math.log` and `log1p` are
 * fdlibm's. The same operations in the same order give the same double, so the rounded float32 is
 * the same bit for bit, where another approximation accurate to 1e-16 would still differ about once
 * in 2^28 elements (when its double lands on the other side of a float32 rounding boundary). That
 * matters here: the random distributions built on log (exponential, gumbel, laplace, ...) are
 * compared with JAX bit for bit. Where an engine's `Math` uses another library (newer V8 takes log
 * and log1p from LLVM's libc, correctly rounded), both are within one double ulp, and the float32
 * results differ only in those rare double-rounding cases.
 *
 * fdlibm's branches become lane selects: every lane computes each path's value and keeps the one its
 * own argument selects, so a function costs the sum of its paths (cheap here: the paths share the work).
 *
 * fdlibm reads the high word of a double for its range tests; on f64 lanes a test `hx >= 0x40862e42`
 * of `|x|` is the float compare `|x| >= 0x40862e42_00000000`, and the bit surgery of log and log1p
 * runs on i64 lanes (see `simd.ts`).
 *
 * @since 0.2.0
 */
import type { FunctionBuilder } from "../encoder.ts"
import { bind, d, get, highWord, q, toF64, withHighWord } from "./simd.ts"
import type { Expr } from "./simd.ts"

/** The f64x2 functions. */
export type MathF64 = "log" | "log1p"

/** Emits code that pushes `name(x)` for the f64x2 in local `x`. */
type Body = (f: FunctionBuilder, x: number) => void

const ln2Hi = 6.9314718036912381649e-1
const ln2Lo = 1.90821492927058770002e-10
const two54 = 1.8014398509481984e16
const inf = Infinity

/** `mask ? a : b` chained: the first mask that holds picks its value. */
const cases = (otherwise: Expr, ...pairs: ReadonlyArray<readonly [mask: Expr, value: Expr]>): Expr =>
  pairs.reduceRight<Expr>((rest, [mask, value]) => d.sel(value, rest, mask), otherwise)

const lg = [
  6.66666666666673513e-1, 3.999999999940941908e-1, 2.857142874366239149e-1, 2.222219843214978396e-1,
  1.818357216161805012e-1, 1.531383769920937332e-1, 1.479819860511658591e-1
] as const

/** fdlibm `log`. */
const log: Body = (f, xl) => {
  const x0 = get(xl)
  const small = bind(f, q.lt(highWord(x0), q.k(0x00100000n)))
  const x = bind(f, d.sel(d.mul(x0, d.k(two54)), x0, get(small)))
  const hx0 = bind(f, highWord(get(x)))
  const hx = bind(f, q.and(get(hx0), q.k(0x000fffffn)))
  const i = bind(f, q.and(q.add(get(hx), q.k(0x95f64n)), q.k(0x100000n)))
  const k = bind(
    f,
    q.add(q.sub(q.add(q.shrS(get(hx0), 20), q.shrS(get(i), 20)), q.k(1023n)), d.and(get(small), q.k(-54n)))
  )
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
    [
      wide,
      d.sub(
        d.mul(DK, d.k(ln2Hi)),
        d.sub(d.sub(get(hfsq), d.add(d.mul(S, d.add(get(hfsq), get(R))), d.mul(DK, d.k(ln2Lo)))), F)
      )
    ],
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
  const direct = bind(
    f,
    d.and(q.lt(get(hx), q.k(0x3fda827an)), q.or(q.gt(get(hx), q.k(0n)), q.le(get(hx), q.k(BigInt(0xbfd2bec4 | 0)))))
  )
  const huge = bind(f, q.ge(get(hx), q.k(0x43400000n)))
  const u = bind(f, d.sel(x, d.add(d.k(1), x), get(huge)))
  const hu0 = bind(f, highWord(get(u)))
  const k0 = bind(f, q.sub(q.shrS(get(hu0), 20), q.k(1023n)))
  const c0 = d.div(
    d.sel(d.sub(d.k(1), d.sub(get(u), x)), d.sub(x, d.sub(get(u), d.k(1))), q.gt(get(k0), q.k(0n))),
    get(u)
  )
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
    get(kIsZero)
  )
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

/** The bodies by name. */
const mathF64: { readonly [K in MathF64]: Body } = { log, log1p }

/** Pushes `name(x)` for local `x`, with every function it uses inlined. */
export const inlineMathF64 = (f: FunctionBuilder, name: MathF64, x: number): void => {
  mathF64[name](f, x)
}
