/**
 * NumPy-style elementwise operations: JAX type promotion (weak JavaScript scalars), NumPy
 * broadcasting, then one primitive.
 */
import { isArray } from "../Array.ts"
import { checkOptionKeys } from "./options.ts"
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ArgumentError, DTypeError } from "../ArrayError.ts"
import { bind1 } from "../bind.ts"
import type { NumericDType } from "../DType.ts"
import { promoteAll } from "../DType.ts"
import type { BinaryPrimitive, UnaryPrimitive } from "../Primitive.ts"
import { broadcastShapes } from "../shape.ts"
import { asArray, fromScalar } from "./creation.ts"
import { integerLiteral } from "./literals.ts"

const numericOf = (op: string, x: JArray): NumericDType => {
  if (x.dtype === "key<fry>") {
    throw new DTypeError({
      op,
      dtypes: [x.dtype],
      reason: "PRNG key arrays do not support arithmetic; use random.keyData for their uint32 data"
    })
  }
  return x.dtype
}

/** Converts to `dtype`, keeping the operand's weak flag when the dtype is unchanged. */
export const convertTo = (x: JArray, dtype: NumericDType, weakType = false): JArray =>
  x.dtype === dtype && x.weakType === weakType ? x : bind1("convert_element_type", [x], { newDtype: dtype, weakType })

/** Promotes operands to one dtype, JAX style; JavaScript scalars are weak and made directly. */
export const promote = (op: string, xs: ReadonlyArray<ArrayLike>): Array<JArray> => {
  const typed = xs.map((x) =>
    isArray(x)
      ? { dtype: numericOf(op, x), weakType: x.weakType }
      : { dtype: scalarKind(x), weakType: typeof x === "number" }
  )
  const { dtype, weakType } = promoteAll(typed)
  return xs.map((x) =>
    isArray(x)
      ? convertTo(x, dtype, weakType)
      : fromScalar(typeof x === "number" ? integerLiteral(op, x, dtype, true) : x, dtype, weakType)
  )
}

const scalarKind = (x: number | boolean): NumericDType =>
  typeof x === "boolean" ? "bool" : Number.isInteger(x) ? "int32" : "float32"

/** Reshapes operands to a common rank with leading 1s (no data is copied) after checking broadcasting. */
export const broadcastRanks = (op: string, xs: ReadonlyArray<JArray>): Array<JArray> => {
  broadcastShapes(
    op,
    xs.map((x) => x.shape)
  )
  const nd = Math.max(...xs.map((x) => x.ndim))
  return xs.map((x) =>
    x.ndim === nd ? x : bind1("reshape", [x], { newSizes: [...new Array<number>(nd - x.ndim).fill(1), ...x.shape] })
  )
}

const binary = (
  op: string,
  prim: BinaryPrimitive,
  x: ArrayLike,
  y: ArrayLike,
  allowed?: ReadonlyArray<NumericDType>
): JArray => {
  const [a, b] = broadcastRanks(op, promote(op, [x, y])) as [JArray, JArray]
  if (allowed !== undefined && !allowed.includes(a.dtype as NumericDType)) {
    throw new DTypeError({ op, dtypes: [a.dtype], reason: `expected ${allowed.join(" or ")}` })
  }
  return bind1(prim, [a, b], {})
}

/** Integer and boolean operands of a float function become float32; float32 and complex64 stay. */
const toFloat = (x: JArray): JArray =>
  x.dtype === "float32" || x.dtype === "complex64" ? x : convertTo(x, "float32", x.weakType)

const unaryFloat =
  (op: string, prim: UnaryPrimitive) =>
  (x: ArrayLike): JArray => {
    const a = asArray(x)
    numericOf(op, a)
    return bind1(prim, [toFloat(a)], {})
  }

/** `x + y`; on booleans, logical or (as NumPy). */
export const add = (x: ArrayLike, y: ArrayLike): JArray => {
  const [a, b] = broadcastRanks("add", promote("add", [x, y])) as [JArray, JArray]
  return bind1(a.dtype === "bool" ? "or" : "add", [a, b], {})
}
export const subtract = (x: ArrayLike, y: ArrayLike): JArray =>
  binary("subtract", "sub", x, y, ["float32", "int32", "uint32", "complex64"])
/** `x * y`; on booleans, logical and. */
export const multiply = (x: ArrayLike, y: ArrayLike): JArray => {
  const [a, b] = broadcastRanks("multiply", promote("multiply", [x, y])) as [JArray, JArray]
  return bind1(a.dtype === "bool" ? "and" : "mul", [a, b], {})
}
/** True division: integer operands are converted to float32 first. */
export const divide = (x: ArrayLike, y: ArrayLike): JArray => {
  const [a, b] = promote("divide", [x, y]) as [JArray, JArray]
  return binary("divide", "div", toFloat(a), toFloat(b))
}
export const trueDivide = divide
/** Floor division (rounds toward negative infinity, as Python's `//`). */
export const floorDivide = (x: ArrayLike, y: ArrayLike): JArray => {
  const [a, b] = broadcastRanks("floor_divide", promote("floor_divide", [x, y])) as [JArray, JArray]
  if (a.dtype === "float32") return bind1("floor", [bind1("div", [a, b], {})], {})
  if (a.dtype === "uint32") return bind1("div", [a, b], {})
  if (a.dtype === "bool")
    throw new DTypeError({ op: "floor_divide", dtypes: ["bool"], reason: "not defined on booleans" })
  // Truncating division, one less where the signs differ and the division is inexact (Python's //).
  const q = bind1("div", [a, b], {})
  const r = bind1("rem", [a, b], {})
  const zero = broadcastRanks("floor_divide", [fromScalar(0, "int32", a.weakType), r])[0]!
  const adjust = bind1(
    "and",
    [bind1("ne", [bind1("sign", [a], {}), bind1("sign", [b], {})], {}), bind1("ne", [r, zero], {})],
    {}
  )
  const one = broadcastRanks("floor_divide", [fromScalar(1, "int32", a.weakType), q])[0]!
  return bind1("select", [adjust, bind1("sub", [q, one], {}), q], {})
}
/** Integer divisors of zero become one, so that `x % 0` is 0 as in `jnp.remainder`. */
const safeDivisor = (b: JArray): JArray => {
  if (b.dtype === "float32") return b
  const d = b.dtype as NumericDType
  const zero = broadcastRanks("remainder", [fromScalar(0, d, b.weakType), b])[0]!
  const one = broadcastRanks("remainder", [fromScalar(1, d, b.weakType), b])[0]!
  return bind1("select", [bind1("eq", [b, zero], {}), one, b], {})
}
/** Remainder with the sign of the divisor (Python's `%`, `jnp.remainder`). */
export const remainder = (x: ArrayLike, y: ArrayLike): JArray => {
  const [a, b] = broadcastRanks("remainder", promote("remainder", [x, y])) as [JArray, JArray]
  if (a.dtype === "bool") throw new DTypeError({ op: "remainder", dtypes: ["bool"], reason: "not defined on booleans" })
  const r = bind1("rem", [a, safeDivisor(b)], {})
  if (a.dtype === "uint32") return r
  const zero = broadcastRanks("remainder", [fromScalar(0, a.dtype as NumericDType, true), r])[0]!
  const zb = broadcastRanks("remainder", [fromScalar(0, a.dtype as NumericDType, true), b])[0]!
  const fix = bind1(
    "and",
    [bind1("ne", [r, zero], {}), bind1("ne", [bind1("lt", [r, zero], {}), bind1("lt", [b, zb], {})], {})],
    {}
  )
  return bind1("select", [fix, bind1("add", [r, b], {}), r], {})
}
export const mod = remainder
/** C-style remainder (sign of the dividend), `jnp.fmod`. */
export const fmod = (x: ArrayLike, y: ArrayLike): JArray => {
  const [a, b] = broadcastRanks("fmod", promote("fmod", [x, y])) as [JArray, JArray]
  if (a.dtype === "bool") throw new DTypeError({ op: "fmod", dtypes: ["bool"], reason: "not defined on booleans" })
  return bind1("rem", [a, safeDivisor(b)], {})
}
export const power = (x: ArrayLike, y: ArrayLike): JArray => {
  const [a, b] = promote("power", [x, y]) as [JArray, JArray]
  if (a.dtype === "complex64") return complexPower(a, b, y)
  const c = a.dtype === "bool" ? [convertTo(a, "int32"), convertTo(b, "int32")] : [a, b]
  return binary("power", "pow", c[0]!, c[1]!)
}
export const maximum = (x: ArrayLike, y: ArrayLike): JArray => binary("maximum", "max", x, y)
export const minimum = (x: ArrayLike, y: ArrayLike): JArray => binary("minimum", "min", x, y)
export const equal = (x: ArrayLike, y: ArrayLike): JArray => binary("equal", "eq", x, y)
export const notEqual = (x: ArrayLike, y: ArrayLike): JArray => binary("not_equal", "ne", x, y)
export const less = (x: ArrayLike, y: ArrayLike): JArray => binary("less", "lt", x, y)
export const lessEqual = (x: ArrayLike, y: ArrayLike): JArray => binary("less_equal", "le", x, y)
export const greater = (x: ArrayLike, y: ArrayLike): JArray => binary("greater", "gt", x, y)
export const greaterEqual = (x: ArrayLike, y: ArrayLike): JArray => binary("greater_equal", "ge", x, y)
export const bitwiseAnd = (x: ArrayLike, y: ArrayLike): JArray =>
  binary("bitwise_and", "and", x, y, ["bool", "int32", "uint32"])
export const bitwiseOr = (x: ArrayLike, y: ArrayLike): JArray =>
  binary("bitwise_or", "or", x, y, ["bool", "int32", "uint32"])
export const bitwiseXor = (x: ArrayLike, y: ArrayLike): JArray =>
  binary("bitwise_xor", "xor", x, y, ["bool", "int32", "uint32"])
export const leftShift = (x: ArrayLike, y: ArrayLike): JArray =>
  binary("left_shift", "shift_left", x, y, ["int32", "uint32"])
export const rightShift = (x: ArrayLike, y: ArrayLike): JArray => {
  const [a, b] = promote("right_shift", [x, y]) as [JArray, JArray]
  return binary("right_shift", a.dtype === "uint32" ? "shift_right_logical" : "shift_right_arithmetic", a, b, [
    "int32",
    "uint32"
  ])
}
export const arctan2 = (x: ArrayLike, y: ArrayLike): JArray => {
  const [a, b] = promote("arctan2", [x, y]) as [JArray, JArray]
  return binary("arctan2", "atan2", toFloat(a), toFloat(b))
}
export const nextafter = (x: ArrayLike, y: ArrayLike): JArray => {
  const [a, b] = promote("nextafter", [x, y]) as [JArray, JArray]
  return binary("nextafter", "nextafter", toFloat(a), toFloat(b))
}
export const bitwiseNot = (x: ArrayLike): JArray => {
  const a = asArray(x)
  if (!["bool", "int32", "uint32"].includes(a.dtype))
    throw new DTypeError({ op: "bitwise_not", dtypes: [a.dtype], reason: "expected bool, int32 or uint32" })
  return bind1("not", [a], {})
}
export const invert = bitwiseNot

const toBool = (x: ArrayLike): JArray => {
  const a = asArray(x)
  numericOf("logical", a)
  return a.dtype === "bool"
    ? a
    : bind1("ne", [a, broadcastRanks("logical", [fromScalar(0, a.dtype as NumericDType, true), a])[0]!], {})
}
export const logicalNot = (x: ArrayLike): JArray => bind1("not", [toBool(x)], {})
export const logicalAnd = (x: ArrayLike, y: ArrayLike): JArray => binary("logical_and", "and", toBool(x), toBool(y))
export const logicalOr = (x: ArrayLike, y: ArrayLike): JArray => binary("logical_or", "or", toBool(x), toBool(y))
export const logicalXor = (x: ArrayLike, y: ArrayLike): JArray => binary("logical_xor", "xor", toBool(x), toBool(y))

export const negative = (x: ArrayLike): JArray => {
  const a = asArray(x)
  if (numericOf("negative", a) === "bool")
    throw new DTypeError({ op: "negative", dtypes: ["bool"], reason: "not defined on booleans; use logicalNot" })
  return bind1("neg", [a], {})
}
export const positive = (x: ArrayLike): JArray => asArray(x)
export const abs = (x: ArrayLike): JArray => {
  const a = asArray(x)
  const d = numericOf("abs", a)
  return d === "uint32" || d === "bool" ? a : bind1("abs", [a], {})
}
export const absolute = abs
export const sign = (x: ArrayLike): JArray => {
  const a = asArray(x)
  const d = numericOf("sign", a)
  if (d === "uint32" || d === "bool")
    return convertTo(bind1("gt", [a, broadcastRanks("sign", [fromScalar(0, d, true), a])[0]!], {}), d, a.weakType)
  return bind1("sign", [a], {})
}
/** Floor, ceil and round leave integers unchanged, as in NumPy; complex numbers are not ordered. */
const rounding =
  (op: string, prim: "floor" | "ceil") =>
  (x: ArrayLike): JArray => {
    const a = asArray(x)
    const d = numericOf(op, a)
    if (d === "complex64")
      throw new DTypeError({
        op,
        dtypes: [d],
        reason: "not defined on complex numbers; apply it to jnp.real and jnp.imag"
      })
    return d === "float32" ? bind1(prim, [a], {}) : a
  }

/** Applies a real function to the real and imaginary parts of a complex array (JAX's round and trunc). */
const partwise = (a: JArray, f: (part: JArray) => JArray): JArray =>
  bind1("complex", [f(bind1("real", [a], {})), f(bind1("imag", [a], {}))], {})
export const floor = rounding("floor", "floor")
export const ceil = rounding("ceil", "ceil")
/**
 * Rounds half to even, as `jnp.round`; with `decimals`, to that many decimal places (negative: to
 * tens, hundreds, ...), by scaling with `10 ** decimals` in float32 as JAX does (so a result can be
 * off by one unit in the last place, as JAX's). Integers are returned as they are (`decimals` must
 * not be negative for them); complex numbers round their two parts.
 */
export const round = (x: ArrayLike, decimals = 0): JArray => {
  if (!Number.isInteger(decimals))
    throw new ArgumentError({ op: "round", reason: `decimals must be an integer, got ${String(decimals)}` })
  const a = asArray(x)
  if (a.dtype === "complex64") return partwise(a, (part) => round(part, decimals))
  if (numericOf("round", a) !== "float32") {
    if (decimals < 0)
      throw new ArgumentError({
        op: "round",
        reason: `integers cannot be rounded to negative decimals, got ${decimals}`
      })
    return a
  }
  if (decimals === 0) return bind1("round", [a], { method: "toNearestEven" })
  const factor = broadcastRanks("round", [fromScalar(10 ** decimals, "float32", true), a])[0]!
  return bind1("div", [bind1("round", [bind1("mul", [a, factor], {})], { method: "toNearestEven" }), factor], {})
}
export const trunc = (x: ArrayLike): JArray => {
  const a = asArray(x)
  if (a.dtype === "complex64") return partwise(a, trunc)
  if (numericOf("trunc", a) !== "float32") return a
  const zero = broadcastRanks("trunc", [fromScalar(0, "float32", true), a])[0]!
  return bind1("select", [bind1("lt", [a, zero], {}), bind1("ceil", [a], {}), bind1("floor", [a], {})], {})
}
export const exp = unaryFloat("exp", "exp")
export const log = unaryFloat("log", "log")
export const log1p = unaryFloat("log1p", "log1p")
export const expm1 = unaryFloat("expm1", "expm1")
export const sin = unaryFloat("sin", "sin")
export const cos = unaryFloat("cos", "cos")
export const tanh = unaryFloat("tanh", "tanh")
export const sqrt = unaryFloat("sqrt", "sqrt")
export const rsqrt = unaryFloat("rsqrt", "rsqrt")
export const isfinite = (x: ArrayLike): JArray => {
  const a = asArray(x)
  if (a.dtype === "complex64")
    return bind1("and", [isfinite(bind1("real", [a], {})), isfinite(bind1("imag", [a], {}))], {})
  return numericOf("isfinite", a) === "float32" ? bind1("is_finite", [a], {}) : bind1("eq", [a, a], {})
}
export const isnan = (x: ArrayLike): JArray => {
  const a = asArray(x)
  numericOf("isnan", a)
  return bind1("ne", [a, a], {})
}
export const square = (x: ArrayLike): JArray => multiply(x, x)
export const reciprocal = (x: ArrayLike): JArray => divide(1, x)
export const tan = (x: ArrayLike): JArray => divide(sin(x), cos(x))
export const exp2 = (x: ArrayLike): JArray => exp(multiply(x, Math.LN2))
export const log2 = (x: ArrayLike): JArray => divide(log(x), Math.LN2)
export const log10 = (x: ArrayLike): JArray => divide(log(x), Math.LN10)

/** `where(condition, x, y)`: elementwise choice with broadcasting; a non-bool condition tests `!= 0`. */
export const where = (condition: ArrayLike, x: ArrayLike, y: ArrayLike): JArray => {
  const c = toBool(condition)
  const [a, b] = promote("where", [x, y]) as [JArray, JArray]
  const [cc, aa, bb] = broadcastRanks("where", [c, a, b]) as [JArray, JArray, JArray]
  return bind1("select", [cc, aa, bb], {})
}

/** Clamps to `[min, max]`; either bound may be omitted with `null`. */
export const clip = (x: ArrayLike, min: ArrayLike | null, max: ArrayLike | null): JArray => {
  let out = asArray(x)
  if (min !== null) out = maximum(out, min)
  if (max !== null) out = minimum(out, max)
  return out
}

/** Converts to `dtype` (strongly typed). */
export const astype = (x: ArrayLike, dtype: NumericDType): JArray => {
  const a = asArray(x)
  numericOf("astype", a)
  return convertTo(a, dtype)
}

/** `|a - b| <= atol + rtol * |b|` elementwise. */
export const isclose = (
  a: ArrayLike,
  b: ArrayLike,
  options?: { readonly rtol?: number; readonly atol?: number; readonly equalNan?: boolean }
): JArray => {
  checkOptionKeys("isclose", options, ["rtol", "atol", "equalNan"])
  const rtol = options?.rtol ?? 1e-5
  const atol = options?.atol ?? 1e-8
  const [x, y] = promote("isclose", [a, b]) as [JArray, JArray]
  if (x.dtype !== "float32" && x.dtype !== "complex64") return equal(x, y)
  // An infinity is close only to itself (|1 - inf| <= rtol · inf would say otherwise); NaN to nothing,
  // or with equalNan to NaN.
  const xInf = equal(abs(x), Infinity)
  const yInf = equal(abs(y), Infinity)
  const close = logicalAnd(
    lessEqual(abs(subtract(x, y)), add(atol, multiply(rtol, abs(y)))),
    logicalNot(logicalOr(xInf, yInf))
  )
  const r = logicalOr(close, logicalAnd(logicalAnd(xInf, yInf), equal(x, y)))
  return options?.equalNan === true ? logicalOr(r, logicalAnd(isnan(x), isnan(y))) : r
}

// ---- complex numbers --------------------------------------------------------------------------

/**
 * `x ** y` for complex operands. An integral JavaScript exponent multiplies (repeated squaring, as
 * JAX's `integer_pow` for a Python int); otherwise `exp(y log x)`, with `0 ** y` = 0 (1 for y = 0).
 */
const complexPower = (a: JArray, b: JArray, y: ArrayLike): JArray => {
  if (typeof y === "number" && Number.isInteger(y) && Math.abs(y) <= 2 ** 16) {
    let result: JArray | undefined
    let base = a
    for (let k = Math.abs(y); k > 0; k >>= 1) {
      if (k & 1) result = result === undefined ? base : multiply(result, base)
      if (k > 1) base = multiply(base, base)
    }
    const r = result ?? add(multiply(a, 0), 1)
    return y < 0 ? divide(1, r) : r
  }
  const [x, e] = broadcastRanks("power", [a, b]) as [JArray, JArray]
  const zeroBase = equal(x, 0)
  const safe = where(zeroBase, 1, x)
  const general = exp(multiply(e, log(safe)))
  return where(zeroBase, where(equal(e, 0), 1, 0), general)
}

/** The real part; a real array is its own real part (`jnp.real`). */
export const real = (x: ArrayLike): JArray => {
  const a = asArray(x)
  return numericOf("real", a) === "complex64" ? bind1("real", [a], {}) : a
}
/** The imaginary part; zeros for a real array (`jnp.imag`). */
export const imag = (x: ArrayLike): JArray => {
  const a = asArray(x)
  return numericOf("imag", a) === "complex64" ? bind1("imag", [a], {}) : multiply(a, 0)
}
/** The complex conjugate; a real array is its own conjugate (`jnp.conj`). */
export const conj = (x: ArrayLike): JArray => {
  const a = asArray(x)
  return numericOf("conj", a) === "complex64" ? bind1("conj", [a], {}) : a
}
export const conjugate = conj
/** The argument of each element, in radians (`jnp.angle`): `atan2(imag, real)`, float32. */
export const angle = (x: ArrayLike, options?: { readonly deg?: boolean }): JArray => {
  checkOptionKeys("angle", options, ["deg"])
  const a = asArray(x)
  const r =
    numericOf("angle", a) === "complex64" ? arctan2(imag(a), real(a)) : arctan2(multiply(toFloat(a), 0), toFloat(a))
  return options?.deg === true ? multiply(r, 180 / Math.PI) : r
}
/** Whether the dtype is complex (`jnp.iscomplexobj`). */
export const iscomplexobj = (x: ArrayLike): boolean => isArray(x) && x.dtype === "complex64"
