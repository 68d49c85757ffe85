/**
 * Text helpers shared by the graph's printed forms: literals of static values in either display
 * style (TypeScript's `"noise"`, `false`, `null`, `["a", null]`; Python's, as Flax prints them,
 * `'noise'`, `False`, `None`, `['a', None]`), array summaries (`Array float32[10, 3]`, in Python's
 * style `Array float32(10, 3)`), and element/byte counts (`90 (360 B)`), with Flax's number
 * formatting.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../backend/Array.ts"
import { isArray } from "../backend/Array.ts"
import type { DisplayStyle } from "../backend/displayStyle.ts"
import { formatShapeIn } from "../backend/format.ts"

/** A shape as a Python tuple: `()`, `(10,)`, `(10, 3)`. */
export const formatShape = (shape: ReadonlyArray<number>): string =>
  `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`

/**
 * An array's dtype and shape, as Flax's displays show an array: `Array float32[10, 3]` and for PRNG
 * key arrays `Array key<fry>[10]`; in Python's style `Array float32(10, 3)` and `Array key<fry(10,)>`
 * (Flax puts the shape inside the key dtype's brackets).
 */
export const arraySummary = (x: JArray, style: DisplayStyle): string => {
  const shape = formatShapeIn(x.shape, style)
  const d: string = x.dtype
  if (style === "typescript") return `Array ${d}${shape}`
  return d.endsWith(">") ? `Array ${d.slice(0, -1)}${shape}>` : `Array ${d}${shape}`
}

/** A record key as an object literal writes it: bare when it is an identifier, else quoted. */
export const tsKey = (k: string): string => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k))

/** A record key in the given style: `kernel`, `"a b"`, or Python's `'kernel'`. */
export const keyIn = (k: string, style: DisplayStyle): string => (style === "python" ? pyString(k) : tsKey(k))

/** A static value's literal in the given style ({@link pyRepr} or {@link tsRepr}). */
export const reprIn = (u: unknown, style: DisplayStyle): string => (style === "python" ? pyRepr(u) : tsRepr(u))

/** A string as Python's `repr` prints it: single quotes unless only double quotes avoid escapes. */
export const pyString = (s: string): string => {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'"
  let out = quote
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    if (ch === "\\") out += "\\\\"
    else if (ch === quote) out += `\\${quote}`
    else if (ch === "\n") out += "\\n"
    else if (ch === "\r") out += "\\r"
    else if (ch === "\t") out += "\\t"
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`
    else out += ch
  }
  return out + quote
}

/** A number as Python prints it: integers plainly, `nan`, `inf`, exponents with two digits. */
export const pyNumber = (x: number): string => {
  if (Number.isNaN(x)) return "nan"
  if (x === Infinity) return "inf"
  if (x === -Infinity) return "-inf"
  const s = String(x)
  const m = /^(-?[\d.]+)e([+-])(\d+)$/.exec(s)
  return m === null ? s : `${m[1]}e${m[2]}${m[3]!.padStart(2, "0")}`
}

const isPlainRecord = (u: object): boolean => {
  const proto: unknown = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

/** Lists and records nested deeper than this print as `[...]`/`{...}`, so deep metadata cannot overflow the stack. */
const MAX_REPR_DEPTH = 32

/**
 * A static value as a Python literal: strings quoted, `True`/`False`, `None` for `null` and
 * `undefined`, lists `[...]`, records `{'k': v}`, arrays summarized; other objects by their own
 * `toString` or class name. Cycles, and nesting past 32 levels, print as `[...]`/`{...}`.
 */
export const pyRepr = (u: unknown, seen: Set<object> = new Set(), depth = 0): string => {
  switch (typeof u) {
    case "string":
      return pyString(u)
    case "number":
      return pyNumber(u)
    case "boolean":
      return u ? "True" : "False"
    case "undefined":
      return "None"
    case "bigint":
      return u.toString()
    case "symbol":
      return u.toString()
    case "function":
      return /^class\b/.test(Function.prototype.toString.call(u))
        ? `<class '${u.name}'>`
        : `<function ${u.name || "<anonymous>"}>`
    case "object": {
      if (u === null) return "None"
      if (isArray(u)) return arraySummary(u, "python")
      if (Array.isArray(u)) {
        if (seen.has(u) || depth >= MAX_REPR_DEPTH) return "[...]"
        seen.add(u)
        const s = `[${u.map((x: unknown) => pyRepr(x, seen, depth + 1)).join(", ")}]`
        seen.delete(u)
        return s
      }
      if (isPlainRecord(u)) {
        if (seen.has(u) || depth >= MAX_REPR_DEPTH) return "{...}"
        seen.add(u)
        const s = `{${Object.entries(u)
          .map(([k, v]) => `${pyString(k)}: ${pyRepr(v, seen, depth + 1)}`)
          .join(", ")}}`
        seen.delete(u)
        return s
      }
      const own = (u as { toString?: unknown }).toString
      if (typeof own === "function" && own !== Object.prototype.toString) return String(u)
      const ctor: unknown = (u as { constructor?: unknown }).constructor
      return `<${typeof ctor === "function" && ctor.name !== "" ? ctor.name : "object"}>`
    }
  }
}

/**
 * A static value as TypeScript writes it: strings in double quotes, `true`/`false`, `null`,
 * `undefined`, lists `[...]`, records `{ k: v }`, arrays summarized, classes `[class Name]`,
 * functions `[Function: name]`; other objects by their own `toString` or class name. Cycles, and
 * nesting past 32 levels, print as `[...]`/`{...}`.
 */
export const tsRepr = (u: unknown, seen: Set<object> = new Set(), depth = 0): string => {
  switch (typeof u) {
    case "string":
      return JSON.stringify(u)
    case "number":
    case "boolean":
    case "undefined":
    case "symbol":
      return String(u)
    case "bigint":
      return `${u}n`
    case "function":
      return /^class\b/.test(Function.prototype.toString.call(u))
        ? `[class ${u.name || "(anonymous)"}]`
        : `[Function: ${u.name || "(anonymous)"}]`
    case "object": {
      if (u === null) return "null"
      if (isArray(u)) return arraySummary(u, "typescript")
      if (Array.isArray(u)) {
        if (seen.has(u) || depth >= MAX_REPR_DEPTH) return "[...]"
        seen.add(u)
        const s = `[${u.map((x: unknown) => tsRepr(x, seen, depth + 1)).join(", ")}]`
        seen.delete(u)
        return s
      }
      if (isPlainRecord(u)) {
        if (seen.has(u) || depth >= MAX_REPR_DEPTH) return "{...}"
        const entries = Object.entries(u)
        if (entries.length === 0) return "{}"
        seen.add(u)
        const s = `{ ${entries.map(([k, v]) => `${tsKey(k)}: ${tsRepr(v, seen, depth + 1)}`).join(", ")} }`
        seen.delete(u)
        return s
      }
      const own = (u as { toString?: unknown }).toString
      if (typeof own === "function" && own !== Object.prototype.toString) return String(u)
      const ctor: unknown = (u as { constructor?: unknown }).constructor
      return `<${typeof ctor === "function" && ctor.name !== "" ? ctor.name : "object"}>`
    }
  }
}

/**
 * How many elements and bytes some state takes (Flax's `SizeBytes`).
 * @category models
 * @since 0.1.0
 */
export interface SizeBytes {
  readonly size: number
  readonly bytes: number
}

/** @internal */
export const zeroSize: SizeBytes = { size: 0, bytes: 0 }

/** @internal */
export const addSize = (a: SizeBytes, b: SizeBytes): SizeBytes => ({ size: a.size + b.size, bytes: a.bytes + b.bytes })

/** Elements and bytes of the arrays in a value (an Array, or lists and records of them). */
export const sizeBytesOf = (u: unknown): SizeBytes => {
  let size = 0
  let bytes = 0
  const stack: Array<unknown> = [u]
  const seen = new Set<object>()
  while (stack.length > 0) {
    const x = stack.pop()
    if (typeof x !== "object" || x === null) continue
    if (isArray(x)) {
      size += x.size
      bytes += x.nbytes
    } else if (!seen.has(x) && (Array.isArray(x) || isPlainRecord(x))) {
      seen.add(x)
      for (const v of Object.values(x)) stack.push(v)
    }
  }
  return { size, bytes }
}

/** An integer with thousands separators, as Python's `f"{n:,}"`. */
export const withCommas = (n: number): string => {
  const s = Math.trunc(Math.abs(n)).toString()
  const grouped = s.replace(/\B(?=(\d{3})+(?!\d))/g, ",")
  return n < 0 ? `-${grouped}` : grouped
}

/** Whether the float `x` lies exactly halfway between two one-decimal numbers (`x * 20` is odd). */
const isExactTenthTie = (x: number): boolean => {
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  const hi = view.getUint32(0)
  const lo = view.getUint32(4)
  const expBits = (hi >>> 20) & 0x7ff
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo)
  let exp: number
  if (expBits === 0) exp = -1074
  else {
    mant |= 1n << 52n
    exp = expBits - 1075
  }
  // x = mant * 2^exp; 20x = 5 * mant * 2^(exp + 2) must be an odd integer.
  let num = 5n * mant
  let e = exp + 2
  while (e < 0 && num % 2n === 0n) {
    num /= 2n
    e++
  }
  if (e < 0) return false
  return e === 0 && num % 2n === 1n
}

/** `f"{x:,.1f}"` in Python: one decimal, exact ties to even, thousands separators. */
const oneDecimal = (x: number): string => {
  let s = x.toFixed(1)
  if (isExactTenthTie(x)) {
    const down = Math.floor(x * 10)
    const tenths = down % 2 === 0 ? down : down + 1
    s = (tenths / 10).toFixed(1)
  }
  const [int, frac] = s.split(".") as [string, string]
  return `${withCommas(Number(int))}.${frac}`
}

/** Bytes as Flax prints them: `360 B`, `1.2 KB`, `3.4 MB`, `1.0 GB`. */
export const formatBytes = (bytes: number): string => {
  if (bytes > 1e9) return `${oneDecimal(bytes / 1e9)} GB`
  if (bytes > 1e6) return `${oneDecimal(bytes / 1e6)} MB`
  if (bytes > 1e3) return `${oneDecimal(bytes / 1e3)} KB`
  return `${withCommas(bytes)} B`
}

/** Elements and bytes as Flax prints them: `90 (360 B)`. */
export const formatSizeBytes = (s: SizeBytes): string => `${withCommas(s.size)} (${formatBytes(s.bytes)})`
