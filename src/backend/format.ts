/**
 * The printed form of an Array, following JAX's `repr` (NumPy's `array2string` with `, ` separators,
 * 75-column lines, summarisation past 1000 elements): `Array([1, 2], dtype=int32)`.
 *
 * In the TypeScript style (the default) the numbers keep NumPy's formatting (`1.`, `1.5e-05`,
 * aligned columns), which is the array's own notation; what is Python's spelling changes:
 * booleans are `true`/`false` (aligned only across the rows of 2-d and higher arrays), shapes are
 * lists (`shape=[0, 3]`), `weakType=true`, and `String(x)` separates elements with `, `.
 */
import type { Array as JArray } from "./Array.ts"
import type { DisplayStyle } from "./displayStyle.ts"
import { sizeOf, stridesOf } from "./shape.ts"

const LINE_WIDTH = 75
const THRESHOLD = 1000
const EDGE_ITEMS = 3

/** Shortest decimal digits that read back as the same float32. */
const shortestFloat32 = (x: number): string => {
  for (let p = 1; p <= 9; p++) {
    const s = x.toPrecision(p)
    if (Math.fround(Number(s)) === x) return s
  }
  return x.toPrecision(9)
}

/**
 * Whether NumPy writes a sign on non-negative numbers: `"-"` only on negatives (the default), `"+"`
 * always (the imaginary parts of complex numbers).
 */
type Sign = "-" | "+"

const plus = (x: number, sign: Sign): string => (sign === "+" && !(x < 0 || Object.is(x, -0)) ? "+" : "")

/** Splits a finite float32 into sign, integer digits and fraction digits, NumPy "maxprec" style. */
const positional = (x: number, precision: number, sign: Sign = "-"): { int: string; frac: string } => {
  const short = shortestFloat32(x)
  let [int, frac = ""] = Number(short)
    .toFixed(Math.min(100, Math.max(0, fracDigits(short))))
    .split(".") as [string, string?]
  if (frac.length > precision) {
    ;[int, frac = ""] = x.toFixed(precision).split(".") as [string, string?]
    frac = frac.replace(/0+$/, "")
  }
  if (x === 0 && Object.is(x, -0)) int = "-0"
  return { int: plus(x, sign) + int!, frac }
}

const fracDigits = (s: string): number => {
  const m = /^-?(\d*)(?:\.(\d*))?(?:e([+-]\d+))?$/.exec(s)
  if (m === null) return 0
  const f = (m[2] ?? "").length
  const e = Number(m[3] ?? 0)
  return Math.max(0, f - e)
}

const scientific = (x: number, precision: number, sign: Sign = "-"): { mant: string; frac: string; exp: string } => {
  const short = shortestFloat32(Math.abs(x))
  let digits = Number(short).toExponential()
  let [m, e] = digits.split("e") as [string, string]
  let [, frac = ""] = m.split(".")
  if (frac.length > precision) {
    digits = Math.abs(x).toExponential(precision)
    ;[m, e] = digits.split("e") as [string, string]
    frac = (m.split(".")[1] ?? "").replace(/0+$/, "")
  }
  const ei = Number(e)
  const exp = (ei < 0 ? "-" : "+") + String(Math.abs(ei)).padStart(2, "0")
  return { mant: (x < 0 || Object.is(x, -0) ? "-" : plus(x, sign)) + m.split(".")[0]!, frac, exp }
}

type Formatter = (x: number) => string

const floatFormatter = (values: ReadonlyArray<number>, sign: Sign = "-"): Formatter => {
  const finite = values.filter((v) => Number.isFinite(v))
  const nonZero = finite.filter((v) => v !== 0).map(Math.abs)
  let exp = false
  if (nonZero.length > 0) {
    const max = Math.max(...nonZero)
    const min = Math.min(...nonZero)
    exp = max >= 1e8 || min < 0.0001 || max / min > 1000
  }
  const hasNonFinite = finite.length !== values.length
  const negInf = sign === "+" || values.some((v) => v === -Infinity)
  const nonFiniteOf = (x: number): string => (x > 0 || Number.isNaN(x) ? plus(x, sign) : "") + nonFinite(x)
  if (exp) {
    const parts = finite.map((v) => scientific(v, 8, sign))
    const padLeft = Math.max(0, ...parts.map((p) => p.mant.length))
    const padRight = Math.max(0, ...parts.map((p) => p.frac.length))
    const expSize = Math.max(0, ...parts.map((p) => p.exp.length - 1))
    const total = padLeft + 1 + padRight + 2 + expSize
    return (x) => {
      if (!Number.isFinite(x)) return nonFiniteOf(x).padStart(total)
      const p = scientific(x, 8, sign)
      return (
        p.mant.padStart(padLeft) +
        "." +
        p.frac.padEnd(padRight, "0") +
        "e" +
        p.exp[0] +
        p.exp.slice(1).padStart(expSize, "0")
      )
    }
  }
  const parts = finite.map((v) => positional(v, 8, sign))
  let padLeft = Math.max(0, ...parts.map((p) => p.int.length))
  const padRight = Math.max(0, ...parts.map((p) => p.frac.length))
  if (hasNonFinite) padLeft = Math.max(padLeft, 3 - (padRight + 1), 3 + (negInf ? 1 : 0) - (padRight + 1))
  return (x) => {
    if (!Number.isFinite(x)) return nonFiniteOf(x).padStart(padLeft + 1 + padRight)
    const p = positional(x, 8, sign)
    return p.int.padStart(padLeft) + "." + p.frac.padEnd(padRight)
  }
}

const nonFinite = (x: number): string => (Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf")

const formatterFor = (dtype: string, values: ReadonlyArray<number>, style: DisplayStyle, ndim: number): Formatter => {
  switch (dtype) {
    case "bool": {
      if (style === "python") return (x) => (x !== 0 ? "True" : "False").padStart(5)
      const width = ndim < 2 ? 0 : values.some((v) => v === 0) ? 5 : 4
      return (x) => (x !== 0 ? "true" : "false").padStart(width)
    }
    case "float32":
      return floatFormatter(values)
    default: {
      const width = Math.max(0, ...values.map((v) => String(v).length))
      return (x) => String(x).padStart(width)
    }
  }
}

/**
 * NumPy's complex format: the real parts formatted together, the imaginary parts together with a
 * sign always, and `j` before the imaginary part's trailing padding (`[ 1. +2.j  , -3.5-0.25j]`).
 * It formats element indices: `re[i]`, `im[i]`.
 */
const complexFormatter = (
  re: ReadonlyArray<number>,
  im: ReadonlyArray<number>,
  summaryRe: ReadonlyArray<number>,
  summaryIm: ReadonlyArray<number>
): Formatter => {
  const fr = floatFormatter(summaryRe)
  const fi = floatFormatter(summaryIm, "+")
  return (i) => {
    const s = fi(im[i]!)
    const end = s.trimEnd().length
    return fr(re[i]!) + s.slice(0, end) + "j" + s.slice(end)
  }
}

/** Real and imaginary parts of interleaved complex storage. */
const complexParts = (data: ArrayLike<number>): { re: Array<number>; im: Array<number>; index: Array<number> } => {
  const n = data.length >> 1
  const re = new Array<number>(n),
    im = new Array<number>(n),
    index = new Array<number>(n)
  for (let i = 0; i < n; i++) {
    re[i] = data[2 * i]!
    im[i] = data[2 * i + 1]!
    index[i] = i
  }
  return { re, im, index }
}

/** What `fmt` reads and how, for every dtype: complex arrays are formatted by element index. */
const layoutFor = (
  x: JArray,
  data: ArrayLike<number>,
  style: DisplayStyle,
  summarise: boolean
): { values: ArrayLike<number>; fmt: Formatter } => {
  if (x.dtype === "complex64") {
    const { re, im, index } = complexParts(data)
    return {
      values: index,
      fmt: complexFormatter(re, im, summaryValues(re, x.shape, summarise), summaryValues(im, x.shape, summarise))
    }
  }
  return { values: data, fmt: formatterFor(x.dtype, summaryValues(data, x.shape, summarise), style, x.ndim) }
}

/** A complex scalar as NumPy's `str` writes it: `(1+2j)`, `(1.5-0j)`. */
const complexScalar = (re: number, im: number): string => {
  const part = (v: number): string =>
    Number.isFinite(v) ? String(Number(shortestFloat32(v))).replace(/^-0$/, "-0") : nonFinite(v)
  const r = Object.is(re, -0) ? "-0" : part(re)
  const i = Object.is(im, -0) ? "-0" : part(im)
  return `(${r}${i.startsWith("-") ? "" : "+"}${i}j)`
}

/** The indices NumPy looks at when summarising: the first and last EDGE_ITEMS along every axis. */
const summaryValues = (data: ArrayLike<number>, shape: ReadonlyArray<number>, summarise: boolean): Array<number> => {
  if (!summarise) return Array.from(data)
  const strides = stridesOf(shape)
  const out: Array<number> = []
  const walk = (axis: number, offset: number): void => {
    if (axis === shape.length) {
      out.push(data[offset]!)
      return
    }
    const n = shape[axis]!
    const idx =
      2 * EDGE_ITEMS < n
        ? [
            ...Array.from({ length: EDGE_ITEMS }, (_, i) => i),
            ...Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i)
          ]
        : Array.from({ length: n }, (_, i) => i)
    for (const i of idx) walk(axis + 1, offset + i * strides[axis]!)
  }
  walk(0, 0)
  return out
}

const extendLine = (s: string, line: string, word: string, width: number, prefix: string): [string, string] => {
  let wrap = line.length + word.length > width
  if (line.length <= prefix.length) wrap = false
  if (wrap) {
    s += line.trimEnd() + "\n"
    line = prefix
  }
  return [s, line + word]
}

const formatNested = (
  data: ArrayLike<number>,
  shape: ReadonlyArray<number>,
  fmt: Formatter,
  lineWidth: number,
  nextLinePrefix: string,
  summarise: boolean,
  sep: string
): string => {
  const strides = stridesOf(shape)
  const recur = (axis: number, offset: number, hanging: string, width: number): string => {
    if (axis === shape.length) return fmt(data[offset]!)
    const axesLeft = shape.length - axis
    const nextHanging = hanging + " "
    const nextWidth = width - 1
    const n = shape[axis]!
    const summary = summarise && 2 * EDGE_ITEMS < n
    const lead = summary ? EDGE_ITEMS : 0
    const trail = summary ? EDGE_ITEMS : n
    const at = (i: number): number => offset + (i < 0 ? n + i : i) * strides[axis]!
    let s = ""
    if (axesLeft === 1) {
      const elemWidth = width - 1
      let line = hanging
      for (let i = 0; i < lead; i++) {
        ;[s, line] = extendLine(s, line, recur(axis + 1, at(i), nextHanging, nextWidth), elemWidth, hanging)
        line += sep
      }
      if (summary) {
        ;[s, line] = extendLine(s, line, "...", elemWidth, hanging)
        line += sep
      }
      for (let i = trail; i > 1; i--) {
        ;[s, line] = extendLine(s, line, recur(axis + 1, at(-i), nextHanging, nextWidth), elemWidth, hanging)
        line += sep
      }
      ;[s, line] = extendLine(s, line, recur(axis + 1, at(-1), nextHanging, nextWidth), elemWidth, hanging)
      s += line
    } else {
      const lineSep = sep.trimEnd() + "\n".repeat(axesLeft - 1)
      for (let i = 0; i < lead; i++) s += hanging + recur(axis + 1, at(i), nextHanging, nextWidth) + lineSep
      if (summary) s += hanging + "..." + lineSep
      for (let i = trail; i > 1; i--) s += hanging + recur(axis + 1, at(-i), nextHanging, nextWidth) + lineSep
      s += hanging + recur(axis + 1, at(-1), nextHanging, nextWidth)
    }
    return "[" + s.slice(hanging.length) + "]"
  }
  return recur(0, 0, nextLinePrefix, lineWidth)
}

/** JAX's repr of a concrete array, in the given style. */
export const formatArray = (x: JArray, style: DisplayStyle): string => {
  const prefix = "Array("
  const weak = style === "python" ? "weak_type=True" : "weakType=true"
  const dtypeStr = x.weakType ? `dtype=${x.dtype}, ${weak})` : `dtype=${x.dtype})`
  if (x.dtype === "key<fry>") {
    // A list shape alone would read as elements (`Array([], ...)` for a scalar key): name it.
    const shape = style === "python" ? formatShape(x.shape) : `shape=${formatShapeIn(x.shape, style)}`
    return `Array(${shape}, dtype=key<fry>) overlaying:\n${formatKeyData(x, style === "python" ? " " : ", ")}`
  }
  let s: string
  if (x.size === 0) {
    s = `[], shape=${formatShapeIn(x.shape, style)}`
  } else {
    const summarise = sizeOf(x.shape) > THRESHOLD
    const { values, fmt } = layoutFor(x, x.dataSync(), style, summarise)
    s = formatNested(values, x.shape, fmt, LINE_WIDTH - 1, " ".repeat(prefix.length + 1), summarise, ", ")
  }
  const lastLineLen = s.length - s.lastIndexOf("\n") + 1
  const sep = lastLineLen + dtypeStr.length + 1 > LINE_WIDTH ? " ".repeat(prefix.length) : " "
  return `${prefix}${s},${sep}${dtypeStr}`
}

/** Python's tuple form of a shape: `(3,)`, `(2, 3)`, `()` (as JAX's error messages write it). */
export const formatShape = (shape: ReadonlyArray<number>): string =>
  `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`

/** A shape in the given style: a tuple `(3,)` in Python's, a list `[3]` in TypeScript's. */
export const formatShapeIn = (shape: ReadonlyArray<number>, style: DisplayStyle): string =>
  style === "python" ? formatShape(shape) : `[${shape.join(", ")}]`

/** NumPy's `str` of a key array's uint32 data, as JAX prints it under a key array's repr (`sep` between words). */
const formatKeyData = (x: JArray, sep: string): string => {
  const data = x.dataSync()
  const shape = [...x.shape, 2]
  const width = Math.max(...Array.from(data, (v) => String(v).length))
  const strides = stridesOf(shape)
  const recur = (axis: number, offset: number, indent: string): string => {
    const n = shape[axis]!
    if (axis === shape.length - 1) {
      return "[" + Array.from({ length: n }, (_, i) => String(data[offset + i]).padStart(width)).join(sep) + "]"
    }
    const rows = Array.from({ length: n }, (_, i) => recur(axis + 1, offset + i * strides[axis]!, indent + " "))
    return "[" + rows.join(sep.trimEnd() + "\n".repeat(shape.length - axis - 1) + indent + " ") + "]"
  }
  return recur(0, 0, "")
}

/**
 * NumPy's `str` of a concrete array (what `print(x)` shows in JAX): `[1 2 3]`, `1.5`, `True`; in
 * the TypeScript style `[1, 2, 3]`, `1.5`, `true`.
 */
export const formatStr = (x: JArray, style: DisplayStyle): string => {
  if (x.dtype === "key<fry>") return formatArray(x, style)
  const data = x.dataSync()
  if (x.ndim === 0) {
    const v = data[0]!
    if (x.dtype === "bool") return style === "python" ? (v !== 0 ? "True" : "False") : v !== 0 ? "true" : "false"
    if (x.dtype === "complex64") return complexScalar(v, data[1]!)
    if (x.dtype !== "float32") return String(v)
    if (!Number.isFinite(v)) return nonFinite(v)
    const s = shortestFloat32(v)
    return /[.e]/.test(s) ? s.replace(/e([+-])(\d)$/, "e$10$2") : s + ".0"
  }
  if (x.size === 0) return "[]"
  const summarise = sizeOf(x.shape) > THRESHOLD
  const { values, fmt } = layoutFor(x, data, style, summarise)
  return formatNested(values, x.shape, fmt, LINE_WIDTH, " ", summarise, style === "python" ? " " : ", ")
}
