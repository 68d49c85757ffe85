/**
 * gpu.js sources of the elementwise primitives (unary, binary with broadcasting, select, and the
 * conversions between float32 and bool) on float32 and bool operands.
 *
 * Values are floats in the kernel: bool is 0 or 1. Each body reads `v0`, `v1`, ... and returns the
 * result. Functions whose obvious GLSL form loses precision or range are written out: `log1p` and
 * `expm1` use the `log(u)·x/(u-1)` correction, `sin` and `cos` reduce their argument exactly (Cephes), `tanh` goes through `expm1`, `erf` is a Taylor series
 * near zero and a Chebyshev-fitted `erfc` beyond, `erf_inv` is Giles's single-precision polynomial
 * (the one XLA uses), `pow` handles negative bases and the C special cases, `max`/`min` propagate NaN.
 * What cannot be done exactly in float arithmetic (`rem`, `nextafter`, `is_finite`, anything on
 * integers) has no source here, so the backend runs it on the cpu kernels.
 */
import type { Aval } from "../DType.ts"
import type { ArithmeticPrimitive, ComparisonPrimitive, UnaryPrimitive } from "../Primitive.ts"
import { sizeOf } from "../shape.ts"
import { broadcastStrides, kernelSource, lit, offsets } from "./codegen.ts"

/**
 * Statements setting `out` to `log(x)`. WGSL's and GLSL's `log` are undefined at zero and below (a
 * software Vulkan driver returns log|x|, and a finite value at zero), so -inf at ±0 and NaN below
 * zero and at NaN are computed here, at run time (GLSL has no literals for them).
 */
const logOf = (out: string, x: string): string =>
  `let ${out} = (${x} - ${x}) / (${x} - ${x});\n` +
  `if (${x} > 0.0) { ${out} = Math.log(${x}); }\n` +
  `if (${x} === 0.0) { ${out} = -1.0 / Math.abs(${x}); }`

/**
 * Statements setting `out` to `log1p(x)` without the cancellation of `log(1 + x)` near zero (+inf
 * and NaN give themselves, -inf NaN).
 */
const log1p = (out: string, x: string): string =>
  `let u_${out} = 1.0 + ${x};\n` +
  `${logOf(`l_${out}`, `u_${out}`)}\n` +
  `let ${out} = ${x};\n` +
  `if (u_${out} !== 1.0 && u_${out} - u_${out} === 0.0) { ${out} = l_${out} * (${x} / (u_${out} - 1.0)); }\n` +
  `if (u_${out} < 0.0) { ${out} = l_${out}; }`

/** Statements setting `out` to `expm1(x)` without the cancellation of `exp(x) - 1` near zero. */
const expm1 = (out: string, x: string): string =>
  `let u_${out} = Math.exp(${x});\n` +
  `let ${out} = ${x};\n` +
  `if (u_${out} !== 1.0) { ${out} = u_${out} - 1.0; if (${out} !== -1.0 && Math.abs(${x}) < 1.0) { ${out} = ${out} * (${x} / Math.log(u_${out})); } }`

const horner = (coeffs: ReadonlyArray<number>, x: string): string =>
  coeffs.slice(1).reduce((acc, c) => `(${lit(c)} + ${x} * ${acc})`, lit(coeffs[0]!))

// 2/√π · Σ (-1)ⁿ x^(2n+1) / (n! (2n+1)), highest power first; at |x| < 0.5 the dropped terms are < 1e-9.
const erfTaylor = [
  0.00012055332981789664, -0.0008548327023450852, 0.005223977625442188, -0.026866170645131252, 0.11283791670955126,
  -0.37612638903183754, 1.1283791670955126
]
// Numerical Recipes' erfc fit (fractional error below 1.2e-7), highest power first.
const erfcFit = [
  0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368,
  -1.26551223
]
// M. Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011), single precision.
const erfInvCentral = [
  2.81022636e-8, 3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164,
  0.246640727, 1.50140941
]
const erfInvTail = [
  -0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
  1.00167406, 2.83297682
]

const erfBody = [
  "const ax = Math.abs(v0);",
  "let r = 0.0;",
  "if (ax < 0.5) {",
  "  const x2 = v0 * v0;",
  `  r = v0 * ${horner(erfTaylor, "x2")};`,
  "} else {",
  "  const t = 1.0 / (1.0 + 0.5 * ax);",
  `  const c = t * Math.exp(-ax * ax + ${horner(erfcFit, "t")});`,
  "  r = 1.0 - c;",
  "  if (v0 < 0.0) { r = c - 1.0; }",
  "}",
  "return r;"
].join("\n")

const erfInvBody = [
  "const ax = Math.abs(v0);",
  "if (ax >= 1.0) {",
  // ±1 gives ±inf and beyond gives NaN, computed at run time (GLSL has no literals for them).
  "  if (ax === 1.0) { return v0 / (ax - 1.0); }",
  "  return (ax - ax) / (ax - ax);",
  "}",
  "const negx2 = -(v0 * v0);",
  log1p("lw", "negx2"),
  "let w = -lw;",
  "let p = 0.0;",
  "if (w < 5.0) {",
  "  w = w - 2.5;",
  `  p = ${horner(erfInvCentral, "w")};`,
  "} else {",
  "  w = Math.sqrt(w) - 3.0;",
  `  p = ${horner(erfInvTail, "w")};`,
  "}",
  "return p * v0;"
].join("\n")

const tanhBody = [
  "const ax = Math.abs(v0);",
  "const m2 = -2.0 * ax;",
  expm1("e", "m2"),
  "const t = -e / (2.0 + e);",
  "if (v0 < 0.0) { return -t; }",
  "return t;"
].join("\n")

// Cephes' sinf/cosf: the argument is reduced by multiples of π/4 (π/4 split in three parts, exact
// products for arguments up to about 8192) and the polynomials below are accurate to an ulp or two on
// [-π/4, π/4]. WGSL's and GLSL's own sin/cos promise only an absolute error of about 2^-11.
const sinCoeffs = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1]
const cosCoeffs = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2]

/** Statements reducing `ax` (≥ 0): `j` the octant in 0..7 after rounding up odd ones, `r` the remainder. */
const octantReduction = [
  "let j = Math.floor(ax * 1.2732395447351628);",
  "let y = j;",
  "if (j - 2.0 * Math.floor(j * 0.5) === 1.0) { j = j + 1.0; y = y + 1.0; }",
  "j = j - 8.0 * Math.floor(j * 0.125);",
  "const r = ((ax - y * 0.78515625) - y * 2.4187564849853516e-4) - y * 3.774894977445941e-8;",
  "const z = r * r;",
  `const ps = ${horner(sinCoeffs, "z")} * z * r + r;`,
  `const pc = ${horner(cosCoeffs, "z")} * z * z - 0.5 * z + 1.0;`
].join("\n")

const sinBody = [
  "if (v0 === 0.0) { return v0; }",
  "const ax = Math.abs(v0);",
  octantReduction,
  "let s = 1.0;",
  "if (v0 < 0.0) { s = -1.0; }",
  "if (j > 3.0) { s = -s; j = j - 4.0; }",
  "if (j === 1.0 || j === 2.0) { return s * pc; }",
  "return s * ps;"
].join("\n")

const cosBody = [
  "const ax = Math.abs(v0);",
  octantReduction,
  "let s = 1.0;",
  "if (j > 3.0) { s = -s; j = j - 4.0; }",
  "if (j > 1.0) { s = -s; }",
  "if (j === 1.0 || j === 2.0) { return s * ps; }",
  "return s * pc;"
].join("\n")

const roundAwayBody = [
  "const ax = Math.abs(v0);",
  "const f = Math.floor(ax);",
  "let r = f;",
  "if (ax - f >= 0.5) { r = f + 1.0; }",
  "if (v0 < 0.0) { return -r; }",
  "if (v0 > 0.0) { return r; }",
  "return v0;"
].join("\n")

const roundEvenBody = [
  "const f = Math.floor(v0);",
  "const d = v0 - f;",
  "let r = f;",
  "if (d > 0.5) { r = f + 1.0; }",
  "if (d === 0.5) { const h = f * 0.5; if (h !== Math.floor(h)) { r = f + 1.0; } }",
  "if (r === 0.0) { return v0 * 0.0; }",
  "return r;"
].join("\n")

// gpu.js types no boolean variables, so the tests are kept as 0/1 floats.
const powBody = [
  "const ax = Math.abs(v0);",
  "const ay = Math.abs(v1);",
  "if (v0 === 1.0 || v1 === 0.0) { return 1.0; }",
  "if (ax === 1.0 && ay > 3.0e38) { return 1.0; }",
  "let isInt = 0.0;",
  "if (v1 === Math.floor(v1)) { isInt = 1.0; }",
  "const half = v1 * 0.5;",
  "let odd = 0.0;",
  "if (isInt > 0.5 && ay < 1.6e7 && half !== Math.floor(half)) { odd = 1.0; }",
  "if (ax === 0.0) {",
  "  if (v1 > 0.0) { if (odd > 0.5) { return v0; } return 0.0; }",
  "  if (odd > 0.5) { return 1.0 / v0; }",
  "  return 1.0 / ax;",
  "}",
  "if (v0 < 0.0 && isInt < 0.5) { return (ax - ax) / (ax - ax); }",
  "const m = Math.pow(ax, v1);",
  "if (v0 < 0.0 && odd > 0.5) { return -m; }",
  "return m;"
].join("\n")

/** The body of a unary primitive on `dtype`, or undefined when it must run on the cpu kernels. */
export const unaryBody = (
  prim: UnaryPrimitive | "round",
  dtype: string,
  method?: "awayFromZero" | "toNearestEven"
): string | undefined => {
  if (dtype === "bool") return prim === "not" ? "return 1.0 - v0;" : undefined
  if (dtype !== "float32") return undefined
  switch (prim) {
    case "neg":
      return "return -v0;"
    case "exp":
      return "return Math.exp(v0);"
    case "log":
      return `${logOf("r", "v0")}\nreturn r;`
    case "sin":
      return sinBody
    case "cos":
      return cosBody
    case "tanh":
      return tanhBody
    case "logistic":
      return "return 1.0 / (1.0 + Math.exp(-v0));"
    case "sqrt":
      return "return Math.sqrt(v0);"
    case "rsqrt":
      return "return 1.0 / Math.sqrt(v0);"
    case "abs":
      return "return Math.abs(v0);"
    case "sign":
      return "if (v0 > 0.0) { return 1.0; }\nif (v0 < 0.0) { return -1.0; }\nreturn v0;"
    case "floor":
      return "return Math.floor(v0);"
    case "ceil":
      return "return Math.ceil(v0);"
    case "round":
      return method === "toNearestEven" ? roundEvenBody : roundAwayBody
    case "erf":
      return erfBody
    case "erf_inv":
      return erfInvBody
    case "log1p":
      return `${log1p("r", "v0")}\nreturn r;`
    case "expm1":
      return `${expm1("r", "v0")}\nreturn r;`
    case "not":
    case "is_finite":
      return undefined
  }
}

/** The body of a binary primitive on operands of `dtype`, or undefined for the cpu kernels. */
export const binaryBody = (prim: ArithmeticPrimitive | ComparisonPrimitive, dtype: string): string | undefined => {
  switch (prim) {
    case "eq":
      return "if (v0 === v1) { return 1.0; }\nreturn 0.0;"
    case "ne":
      return "if (v0 === v1) { return 0.0; }\nreturn 1.0;"
    case "lt":
      return "if (v0 < v1) { return 1.0; }\nreturn 0.0;"
    case "le":
      return "if (v0 <= v1) { return 1.0; }\nreturn 0.0;"
    case "gt":
      return "if (v0 > v1) { return 1.0; }\nreturn 0.0;"
    case "ge":
      return "if (v0 >= v1) { return 1.0; }\nreturn 0.0;"
    case "max":
      return dtype === "bool" ? "return Math.max(v0, v1);" : "if (v1 > v0 || v1 !== v1) { return v1; }\nreturn v0;"
    case "min":
      return dtype === "bool" ? "return Math.min(v0, v1);" : "if (v1 < v0 || v1 !== v1) { return v1; }\nreturn v0;"
    case "and":
      return dtype === "bool" ? "return v0 * v1;" : undefined
    case "or":
      return dtype === "bool" ? "return Math.max(v0, v1);" : undefined
    case "xor":
      return dtype === "bool" ? "if (v0 === v1) { return 0.0; }\nreturn 1.0;" : undefined
    default:
      break
  }
  if (dtype !== "float32") return undefined
  switch (prim) {
    case "add":
      return "return v0 + v1;"
    case "sub":
      return "return v0 - v1;"
    case "mul":
      return "return v0 * v1;"
    case "div":
      return "return v0 / v1;"
    case "pow":
      return powBody
    case "atan2":
      return "return Math.atan2(v0, v1);"
    default:
      return undefined
  }
}

/** `select(pred, onTrue, onFalse)` on float32 or bool branches. */
export const selectBody = "if (v0 > 0.5) { return v1; }\nreturn v2;"

/** float32 → bool: nonzero (NaN included) is true. */
export const toBoolBody = "if (v0 === 0.0) { return 0.0; }\nreturn 1.0;"

/**
 * A complete elementwise kernel: operand `k` is read at its broadcast position (each operand has the
 * output's rank, size-1 axes broadcasting), then `body` computes the result from `v0, v1, ...`.
 */
export const elementwiseSource = (inAvals: ReadonlyArray<Aval>, outAval: Aval, body: string): string => {
  const n = sizeOf(outAval.shape)
  const lines: Array<string> = []
  const strided: Array<number> = []
  inAvals.forEach((a, k) => {
    const size = sizeOf(a.shape)
    if (size === n) lines.push(`let j${k} = i;`)
    else if (size === 1) lines.push(`let j${k} = 0.0;`)
    else strided.push(k)
  })
  if (strided.length > 0) {
    lines.push(
      offsets(
        "i",
        outAval.shape,
        strided.map((k) => broadcastStrides(inAvals[k]!.shape)),
        strided.map((k) => `j${k}`)
      )
    )
  }
  inAvals.forEach((_, k) => lines.push(`const v${k} = x${k}[j${k}];`))
  lines.push(body)
  return kernelSource(inAvals.length, lines.join("\n"))
}
