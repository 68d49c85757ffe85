/**
 * More of NumPy's elementwise functions, as `jax.numpy` defines them: `cbrt`, `hypot`, `copysign`,
 * `signbit`, `ldexp`, `frexp`, `fmax`/`fmin`, `sinc`, `heaviside`, the angle conversions,
 * `floatPower`, `fabs`, `logaddexp2`, `isposinf`/`isneginf`, `divmod` and `modf`. Each is composed
 * from primitives, so `vmap`, `grad` and `jit` see through it; where a formula has a point it cannot
 * evaluate (`sinc` at 0, `hypot` of two zeros), that point is fed a safe input so that neither the
 * value nor the gradient sees an inf or a NaN.
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { DTypeError } from "../ArrayError.ts"
import { bind1 } from "../bind.ts"
import { asArray, fromScalar } from "./creation.ts"
import {
  abs,
  add,
  convertTo,
  divide,
  equal,
  exp2,
  floorDivide,
  greater,
  isnan,
  less,
  log,
  logicalAnd,
  logicalNot,
  logicalOr,
  maximum,
  minimum,
  multiply,
  negative,
  power,
  promote,
  remainder,
  sign,
  sin,
  sqrt,
  subtract,
  trunc,
  where
} from "./elementwise.ts"
import { isinf } from "./extraMath.ts"
import { broadcastArrays } from "./shapeOps.ts"

/** `x` as float32 (integers and booleans converted, keeping a weak type); keys and complex refused. */
const realFloat = (op: string, x: ArrayLike): JArray => {
  const a = asArray(x)
  if (a.dtype === "key<fry>" || a.dtype === "complex64")
    throw new DTypeError({ op, dtypes: [a.dtype], reason: "defined on real numbers only" })
  return a.dtype === "float32" ? a : convertTo(a, "float32", a.weakType)
}

/** Two operands promoted together, then as float32 (JAX's `promote_args_inexact`); complex refused. */
const realFloats = (op: string, x: ArrayLike, y: ArrayLike): [JArray, JArray] => {
  const [a, b] = promote(op, [x, y]) as [JArray, JArray]
  return [realFloat(op, a), realFloat(op, b)]
}

/** A float32 constant with `x`'s weak type, so that constants do not change the result's type. */
const like = (v: number, x: JArray): JArray => fromScalar(v, "float32", x.weakType)

/**
 * The real cube root, negative for negative `x` (`cbrt(-8)` is -2): `|x|^(1/3)` refined by one Newton
 * step, so that exact cubes give exact roots; 0, the infinities and NaN map to themselves.
 */
export const cbrt = (x: ArrayLike): JArray => {
  const a = realFloat("cbrt", x)
  const m = abs(a)
  const special = logicalOr(equal(m, 0), logicalOr(isinf(m), isnan(m)))
  const safe = where(special, like(1, a), m)
  const y = power(safe, like(1 / 3, a))
  // y - (y³ - m) / (3y²), evaluated as y - (y - m / y²) / 3.
  const refined = subtract(y, divide(subtract(y, divide(safe, multiply(y, y))), 3))
  return where(special, a, multiply(sign(a), refined))
}

/**
 * `sqrt(x1² + x2²)` without overflow or underflow in the squares (as JAX: the larger magnitude
 * times `sqrt(1 + (smaller / larger)²)`); `inf` if either is infinite, even with a NaN.
 */
export const hypot = (x1: ArrayLike, x2: ArrayLike): JArray => {
  const [a0, b0] = realFloats("hypot", x1, x2)
  const [a, b] = [abs(a0), abs(b0)]
  const infinite = logicalOr(isinf(a), isinf(b))
  const big = maximum(a, b)
  const small = minimum(a, b)
  const zero = equal(big, 0)
  const ratio = divide(small, where(zero, like(1, big), big))
  const out = multiply(big, sqrt(add(1, multiply(ratio, ratio))))
  return where(infinite, like(Infinity, out), out)
}

/**
 * Whether the sign bit is set: true for negative numbers, `-0` and NaNs with the sign bit; for
 * integers `x < 0`; false for booleans and unsigned integers.
 */
export const signbit = (x: ArrayLike): JArray => {
  const a = asArray(x)
  switch (a.dtype) {
    case "float32":
      return less(bind1("bitcast_convert_type", [a], { newDtype: "int32" }), 0)
    case "int32":
      return less(a, 0)
    case "uint32":
    case "bool":
      return bind1("broadcast_in_dim", [fromScalar(false, "bool")], { shape: a.shape, broadcastDimensions: [] })
    default:
      throw new DTypeError({ op: "signbit", dtypes: [a.dtype], reason: "defined on real numbers only" })
  }
}

/** `|x1|` with the sign of `x2` (its sign bit, so `-0` counts as negative), as float32. */
export const copysign = (x1: ArrayLike, x2: ArrayLike): JArray => {
  const [a, b] = realFloats("copysign", x1, x2)
  const m = abs(a)
  return where(signbit(b), negative(m), m)
}

/** `2^k` for integral `k` in [-126, 127], exactly, as a float32 built from its exponent bits. */
const powerOfTwo = (k: JArray): JArray =>
  bind1(
    "bitcast_convert_type",
    [
      bind1(
        "shift_left",
        [
          add(k, 127),
          bind1("broadcast_in_dim", [fromScalar(23, "int32")], { shape: k.shape, broadcastDimensions: [] })
        ],
        {}
      )
    ],
    { newDtype: "float32" }
  )

/**
 * `x1 · 2^x2` for an integer `x2`, exact while the result is a normal float32: the power is applied
 * in three exact steps, so that an `x1` near the float32 limits still scales (`ldexp(1e-40, 200)`).
 */
export const ldexp = (x1: ArrayLike, x2: ArrayLike): JArray => {
  const e0 = asArray(x2)
  if (e0.dtype !== "int32" && e0.dtype !== "uint32" && e0.dtype !== "bool")
    throw new DTypeError({ op: "ldexp", dtypes: [e0.dtype], reason: "the exponent x2 must be an integer array" })
  const m0 = realFloat("ldexp", x1)
  const [m, e1] = broadcastArrays(m0, e0.dtype === "int32" ? e0 : convertTo(e0, "int32")) as [JArray, JArray]
  // Beyond ±381 every finite float32 overflows or underflows anyway. Three exact steps of at most
  // 2^127 (or 2^-126) each: a third of the exponent (rounded toward zero), half of the rest, the rest.
  const e = minimum(maximum(e1, -378), 381)
  const int = (v: number): JArray =>
    bind1("broadcast_in_dim", [fromScalar(v, "int32")], { shape: e.shape, broadcastDimensions: [] })
  const first = bind1("div", [e, int(3)], {})
  const second = bind1("div", [subtract(e, first), int(2)], {})
  const third = subtract(subtract(e, first), second)
  return multiply(multiply(multiply(m, powerOfTwo(first)), powerOfTwo(second)), powerOfTwo(third))
}

/**
 * The mantissa in `[0.5, 1)` (with `x`'s sign) and the int32 exponent with `x = m · 2^e`; for 0,
 * the infinities and NaN, `(x, 0)`. Subnormal inputs are scaled to normal first, as JAX does.
 */
export const frexp = (x: ArrayLike): [JArray, JArray] => {
  const a = realFloat("frexp", x)
  const int = (v: number): JArray =>
    bind1("broadcast_in_dim", [fromScalar(v, "int32")], { shape: a.shape, broadcastDimensions: [] })
  const subnormal = less(abs(a), 1.1754943508222875e-38)
  const scaled = where(subnormal, multiply(a, like(8388608, a)), a)
  const bits = bind1("bitcast_convert_type", [scaled], { newDtype: "int32" })
  const biased = bind1("and", [bind1("shift_right_logical", [bits, int(23)], {}), int(0xff)], {})
  const exponent = subtract(subtract(biased, 126), where(subnormal, int(23), int(0)))
  const mantissaBits = bind1("or", [bind1("and", [bits, int(0x807fffff | 0)], {}), int(0x3f000000)], {})
  const mantissa = bind1("bitcast_convert_type", [mantissaBits], { newDtype: "float32" })
  const special = logicalOr(equal(a, 0), logicalOr(isinf(a), isnan(a)))
  return [where(special, a, mantissa), where(special, int(0), exponent)]
}

/** The larger of `x1` and `x2`, ignoring a NaN (NaN only where both are). */
export const fmax = (x1: ArrayLike, x2: ArrayLike): JArray => {
  const [a, b] = promote("fmax", [x1, x2]) as [JArray, JArray]
  return where(logicalOr(greater(a, b), isnan(b)), a, b)
}

/** The smaller of `x1` and `x2`, ignoring a NaN (NaN only where both are). */
export const fmin = (x1: ArrayLike, x2: ArrayLike): JArray => {
  const [a, b] = promote("fmin", [x1, x2]) as [JArray, JArray]
  return where(logicalOr(less(a, b), isnan(b)), a, b)
}

/** The normalised sinc, `sin(πx) / (πx)`, 1 at 0 (with gradient 0 there, as JAX). */
export const sinc = (x: ArrayLike): JArray => {
  const a = realFloat("sinc", x)
  const zero = equal(a, 0)
  const px = multiply(where(zero, like(1, a), a), Math.PI)
  return where(zero, like(1, a), divide(sin(px), px))
}

/** 0 where `x1 < 0`, 1 where `x1 > 0`, `x2` where `x1` is 0, and NaN for a NaN `x1`. */
export const heaviside = (x1: ArrayLike, x2: ArrayLike): JArray => {
  const [a, b] = realFloats("heaviside", x1, x2)
  return where(less(a, 0), like(0, a), where(greater(a, 0), like(1, a), where(isnan(a), a, b)))
}

/** Degrees to radians. */
export const deg2rad = (x: ArrayLike): JArray => multiply(realFloat("deg2rad", x), Math.PI / 180)
/** Radians to degrees. */
export const rad2deg = (x: ArrayLike): JArray => multiply(realFloat("rad2deg", x), 180 / Math.PI)
/** Degrees to radians (NumPy's other name for {@link deg2rad}). */
export const radians = (x: ArrayLike): JArray => multiply(realFloat("radians", x), Math.PI / 180)
/** Radians to degrees (NumPy's other name for {@link rad2deg}). */
export const degrees = (x: ArrayLike): JArray => multiply(realFloat("degrees", x), 180 / Math.PI)

/** `x1 ** x2` in float32 whatever the operands' dtypes (so `floatPower(2, -1)` is 0.5). */
export const floatPower = (x1: ArrayLike, x2: ArrayLike): JArray => {
  const [a, b] = promote("float_power", [x1, x2]) as [JArray, JArray]
  const f = (v: JArray): JArray =>
    v.dtype === "float32" || v.dtype === "complex64" ? v : convertTo(v, "float32", v.weakType)
  return power(f(a), f(b))
}

/** The absolute value as float32 (NumPy's `fabs`; complex refused). */
export const fabs = (x: ArrayLike): JArray => abs(realFloat("fabs", x))

/**
 * `log2(2^x1 + 2^x2)` without overflow: `m + log2(2^(x1 - m) + 2^(x2 - m))` with `m = max(x1, x2)`,
 * whose gradient is exact even where `x1 == x2` (as {@link logaddexp}).
 */
export const logaddexp2 = (x1: ArrayLike, x2: ArrayLike): JArray => {
  const [a, b] = realFloats("logaddexp2", x1, x2)
  const m = maximum(a, b)
  const finite = logicalAnd(less(abs(m), Infinity), logicalNot(isnan(m)))
  const safe = where(finite, m, like(0, m))
  const body = add(safe, divide(log(add(exp2(subtract(a, safe)), exp2(subtract(b, safe)))), Math.LN2))
  // Where the maximum is infinite the answer is the maximum (inf + anything, or both -inf); NaN propagates.
  return where(finite, body, add(m, where(logicalOr(isnan(a), isnan(b)), add(a, b), like(0, m))))
}

const posneginf = (op: string, x: ArrayLike, inf: number): JArray => {
  const a = asArray(x)
  if (a.dtype === "complex64" || a.dtype === "key<fry>")
    throw new DTypeError({ op, dtypes: [a.dtype], reason: "defined on real numbers only" })
  return a.dtype === "float32" ? equal(a, inf) : isinf(a)
}

/** True where `x` is `+inf` (never for integers and booleans). */
export const isposinf = (x: ArrayLike): JArray => posneginf("isposinf", x, Infinity)

/** True where `x` is `-inf` (never for integers and booleans). */
export const isneginf = (x: ArrayLike): JArray => posneginf("isneginf", x, -Infinity)

/** `[floorDivide(x1, x2), remainder(x1, x2)]`, NumPy's `divmod`. */
export const divmod = (x1: ArrayLike, x2: ArrayLike): [JArray, JArray] => [floorDivide(x1, x2), remainder(x1, x2)]

/** The fractional and integral parts of `x`, each with `x`'s sign: `[x - trunc(x), trunc(x)]`. */
export const modf = (x: ArrayLike): [JArray, JArray] => {
  const a = realFloat("modf", x)
  const whole = trunc(a)
  return [subtract(a, whole), whole]
}
