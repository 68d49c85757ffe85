/**
 * Elementwise functions NumPy users reach for that have no primitive of their own: inverse and
 * hyperbolic trigonometry, `isinf`, `nanToNum`, `logaddexp`, `arrayEqual`. Each is composed from
 * primitives, so `vmap`, `grad` and `jit` see through it. Where a formula would overflow or lose
 * precision, the input is split with `where` on a clamped copy so that the branch not taken can
 * produce neither an inf nor a NaN gradient.
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { checkOptionKeys } from "./options.ts"
import { DTypeError } from "../ArrayError.ts"
import { shapeEquals } from "../shape.ts"
import { asArray, fromScalar } from "./creation.ts"
import {
  abs,
  add,
  arctan2,
  convertTo,
  divide,
  equal,
  exp,
  expm1,
  isfinite,
  isnan,
  log,
  log1p,
  logicalAnd,
  logicalOr,
  maximum,
  multiply,
  negative,
  promote,
  sign,
  sqrt,
  subtract,
  where
} from "./elementwise.ts"
import { all } from "./reductions.ts"

const floatOf = (op: string, x: ArrayLike): JArray => {
  const a = asArray(x)
  if (a.dtype === "key<fry>")
    throw new DTypeError({
      op,
      dtypes: [a.dtype],
      reason: "PRNG key arrays do not support arithmetic; use random.keyData for their uint32 data"
    })
  return a.dtype === "float32" ? a : convertTo(a, "float32", a.weakType)
}

/** A float32 constant with x's weak type, so constants do not change the result's type. */
const like = (v: number, x: JArray): JArray => fromScalar(v, "float32", x.weakType)

/** Inverse tangent, in `(-pi/2, pi/2)`. */
export const arctan = (x: ArrayLike): JArray => {
  const a = floatOf("arctan", x)
  return arctan2(a, like(1, a))
}

/** Inverse sine; NaN outside `[-1, 1]`. */
export const arcsin = (x: ArrayLike): JArray => {
  const a = floatOf("arcsin", x)
  return arctan2(a, sqrt(multiply(subtract(1, a), add(1, a))))
}

/** Inverse cosine, in `[0, pi]`; NaN outside `[-1, 1]`. */
export const arccos = (x: ArrayLike): JArray => {
  const a = floatOf("arccos", x)
  return arctan2(sqrt(multiply(subtract(1, a), add(1, a))), a)
}

/** Where `|x|` is below `bound`, `small(x)`; elsewhere `large(x)`, each fed only the inputs it is used for. */
const split = (a: JArray, bound: number, small: (v: JArray) => JArray, large: (v: JArray) => JArray): JArray => {
  const isSmall = logicalOr(abs(a).lt(bound), isnan(a))
  return where(isSmall, small(where(isSmall, a, like(0, a))), large(where(isSmall, like(bound, a), a)))
}

/** Hyperbolic sine: `expm1` near zero (for precision), `exp(|x| - ln 2)` beyond (so `sinh(89)` is finite). */
export const sinh = (x: ArrayLike): JArray =>
  split(
    floatOf("sinh", x),
    1,
    (v) => multiply(subtract(expm1(v), expm1(negative(v))), 0.5),
    (v) => {
      const m = abs(v)
      return multiply(sign(v), subtract(exp(subtract(m, Math.LN2)), multiply(exp(negative(m)), 0.5)))
    }
  )

/** Hyperbolic cosine, finite up to `|x|` of about 89 as in float32. */
export const cosh = (x: ArrayLike): JArray => {
  const m = abs(floatOf("cosh", x))
  return add(exp(subtract(m, Math.LN2)), multiply(exp(negative(m)), 0.5))
}

/** `f` extended to an odd function: `-f(-x)` for negative `x` (its gradient at 0 is `f'(0)`, unlike `sign(x) * f(|x|)`). */
const odd = (v: JArray, f: (m: JArray) => JArray): JArray => {
  const neg = v.lt(0)
  const r = f(where(neg, negative(v), v))
  return where(neg, negative(r), r)
}

/** Inverse hyperbolic sine: `log1p` form for moderate `|x|`, `log(2|x|)` where `x^2` would overflow. */
export const arcsinh = (x: ArrayLike): JArray =>
  split(
    floatOf("arcsinh", x),
    1e15,
    (v) =>
      odd(v, (m) => {
        const m2 = multiply(m, m)
        return log1p(add(m, divide(m2, add(1, sqrt(add(1, m2))))))
      }),
    (v) => odd(v, (m) => add(log(m), Math.LN2))
  )

/** Inverse hyperbolic cosine; NaN below 1. */
export const arccosh = (x: ArrayLike): JArray =>
  split(
    floatOf("arccosh", x),
    1e15,
    (v) => {
      const t = subtract(v, 1)
      return log1p(add(t, sqrt(multiply(t, add(v, 1)))))
    },
    (v) => add(log(v), Math.LN2)
  )

/** Inverse hyperbolic tangent; `±inf` at `±1`, NaN beyond. */
export const arctanh = (x: ArrayLike): JArray => {
  const a = floatOf("arctanh", x)
  return multiply(subtract(log1p(a), log1p(negative(a))), 0.5)
}

/** `true` where `x` is `+inf` or `-inf`; never for integers or booleans. */
export const isinf = (x: ArrayLike): JArray => {
  const a = asArray(x)
  if (a.dtype === "key<fry>")
    throw new DTypeError({ op: "isinf", dtypes: [a.dtype], reason: "PRNG key arrays have no infinities" })
  if (a.dtype !== "float32") return equal(a, a).not()
  return equal(abs(a), Infinity)
}

const FLOAT32_MAX = 3.4028234663852886e38

/**
 * Replaces NaN with `nan` (0), `+inf` with `posinf` (the largest float32) and `-inf` with `neginf`
 * (the most negative float32). Integers and booleans pass through.
 */
export const nanToNum = (
  x: ArrayLike,
  options?: { readonly nan?: number; readonly posinf?: number | null; readonly neginf?: number | null }
): JArray => {
  checkOptionKeys("nan_to_num", options, ["nan", "posinf", "neginf"])
  const a = asArray(x)
  if (a.dtype === "key<fry>")
    throw new DTypeError({ op: "nan_to_num", dtypes: [a.dtype], reason: "PRNG key arrays have no NaNs" })
  if (a.dtype !== "float32") return a
  // Strong constants, as JAX's: a weak scalar input gives a strong float32.
  const c = (v: number): JArray => fromScalar(v, "float32", false)
  const pos = c(options?.posinf ?? FLOAT32_MAX)
  const neg = c(options?.neginf ?? -FLOAT32_MAX)
  const out = where(isnan(a), c(options?.nan ?? 0), a)
  return where(equal(a, Infinity), pos, where(equal(a, -Infinity), neg, out))
}

/**
 * `log(exp(x1) + exp(x2))` without overflow. Written as `m + log(exp(x1 - m) + exp(x2 - m))` with
 * `m = max(x1, x2)`, whose gradient is exact even where `x1 == x2`.
 */
export const logaddexp = (x1: ArrayLike, x2: ArrayLike): JArray => {
  const [a0, b0] = promote("logaddexp", [x1, x2]) as [JArray, JArray]
  const a = floatOf("logaddexp", a0)
  const b = floatOf("logaddexp", b0)
  const m = maximum(a, b)
  const finite = isfinite(m)
  const safe = where(finite, m, like(0, m))
  const body = add(safe, log(add(exp(subtract(a, safe)), exp(subtract(b, safe)))))
  // Where the maximum is infinite the answer is the maximum (inf + anything, or both -inf); NaN propagates.
  return where(finite, body, add(m, where(isnan(a).or(isnan(b)), a.add(b), like(0, m))))
}

/**
 * `true` when both have the same shape and equal elements (a scalar bool Array, not an error, when
 * the shapes differ). `equalNan: true` counts NaNs in the same places as equal.
 */
export const arrayEqual = (a1: ArrayLike, a2: ArrayLike, options?: { readonly equalNan?: boolean }): JArray => {
  checkOptionKeys("array_equal", options, ["equalNan"])
  const [a, b] = promote("array_equal", [a1, a2]) as [JArray, JArray]
  if (!shapeEquals(a.shape, b.shape)) return fromScalar(false, "bool", false)
  let eq = equal(a, b)
  if (options?.equalNan === true) eq = logicalOr(eq, logicalAnd(isnan(a), isnan(b)))
  return all(eq)
}
