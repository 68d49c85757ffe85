/**
 * `jnp.pad` with every mode JAX has: constant, edge, reflect and symmetric (even or odd), wrap,
 * linear_ramp, the statistics (maximum, minimum, mean, median) and empty. Each mode is built from
 * slices, flips, concatenations and elementwise arithmetic, one axis after another, so gradients,
 * `vmap` and `jit` come from those operations' own rules; the corner regions therefore take the
 * value the last padded axis gives them, as in NumPy.
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ArgumentError, DTypeError } from "../ArrayError.ts"
import { bind1 } from "../bind.ts"
import type { NumericDType } from "../DType.ts"
import { asArray, fromHost, fromScalar } from "./creation.ts"
import { add, convertTo, floor, multiply, round, subtract } from "./elementwise.ts"
import { median } from "./extraReductions.ts"
import { checkOptionKeys } from "./options.ts"
import { max, mean, min } from "./reductions.ts"
import { broadcastTo, concatenate, flip, pad as padConstantScalar } from "./shapeOps.ts"

/** How `pad` fills the new elements. */
export type PadMode =
  | "constant"
  | "edge"
  | "reflect"
  | "symmetric"
  | "wrap"
  | "linear_ramp"
  | "maximum"
  | "minimum"
  | "mean"
  | "median"
  | "empty"

const MODES: ReadonlyArray<PadMode> = [
  "constant",
  "edge",
  "reflect",
  "symmetric",
  "wrap",
  "linear_ramp",
  "maximum",
  "minimum",
  "mean",
  "median",
  "empty"
]

/** One value for every side, one `[before, after]` pair for every axis, or a pair per axis. */
export type PerAxis<A> = A | readonly [A, A] | ReadonlyArray<readonly [A, A]>

/** Options of {@link pad}. */
export interface PadOptions {
  /** `"constant"` (the default) unless given. */
  readonly mode?: PadMode | undefined
  /** `"constant"`: the value before and after each axis (0 by default). */
  readonly constantValues?: PerAxis<number> | undefined
  /** `"linear_ramp"`: the value each ramp starts from at the outer edge (0 by default). */
  readonly endValues?: PerAxis<number> | undefined
  /** The statistic modes: how many edge elements each side's statistic reads (all by default). */
  readonly statLength?: PerAxis<number> | null | undefined
  /** `"reflect"`/`"symmetric"`: `"odd"` reflects the values through the edge value too. */
  readonly reflectType?: "even" | "odd" | undefined
}

const KEYS = ["mode", "constantValues", "endValues", "statLength", "reflectType"]

/** Spreads a {@link PerAxis} argument to one `[before, after]` pair per axis. */
const perAxis = (
  what: string,
  v: PerAxis<number>,
  ndim: number,
  integral: boolean
): Array<readonly [number, number]> => {
  const bad = (): never => {
    throw new ArgumentError({
      op: "pad",
      reason: `${what} must be a number, a [before, after] pair, or one pair per axis (${ndim}), got ${JSON.stringify(v)}`
    })
  }
  const pair = (p: unknown): readonly [number, number] => {
    if (typeof p === "number") return [p, p]
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== "number" || typeof p[1] !== "number") return bad()
    return [p[0], p[1]]
  }
  let out: Array<readonly [number, number]>
  if (typeof v === "number") out = Array.from({ length: ndim }, () => [v, v] as const)
  else if (!Array.isArray(v)) return bad()
  else if (v.length === 0 && ndim === 0) out = []
  else if (typeof v[0] === "number") out = Array.from({ length: ndim }, () => pair(v))
  else if (v.length === 1) out = Array.from({ length: ndim }, () => pair(v[0]))
  else if (v.length === ndim) out = (v as ReadonlyArray<unknown>).map(pair)
  else return bad()
  if (integral && out.some(([b, a]) => !Number.isInteger(b) || !Number.isInteger(a) || b < 0 || a < 0)) {
    throw new ArgumentError({ op: "pad", reason: `${what} must hold non-negative integers, got ${JSON.stringify(v)}` })
  }
  return out
}

const sliceAxis = (x: JArray, axis: number, start: number, stop: number): JArray =>
  bind1("slice", [x], {
    startIndices: x.shape.map((_, i) => (i === axis ? start : 0)),
    limitIndices: x.shape.map((d, i) => (i === axis ? stop : d)),
    strides: x.shape.map(() => 1)
  })

/** `x` (size 1 along `axis`) repeated `n` times along it. */
const repeatEdge = (x: JArray, axis: number, n: number): JArray =>
  broadcastTo(
    x,
    x.shape.map((d, i) => (i === axis ? n : d))
  )

/** Concatenates along `axis`, leaving out empty parts (a zero-width side adds no operation). */
const join = (parts: ReadonlyArray<JArray>, axis: number): JArray => {
  const nonEmpty = parts.filter((p) => p.shape[axis] !== 0)
  return nonEmpty.length === 1 ? nonEmpty[0]! : concatenate(nonEmpty.length === 0 ? parts : nonEmpty, axis)
}

const requireNonEmpty = (mode: string, x: JArray, axis: number, before: number, after: number): boolean => {
  if (x.shape[axis] !== 0) return true
  if (before > 0 || after > 0)
    throw new ArgumentError({
      op: "pad",
      reason: `cannot apply "${mode}" padding to axis ${axis}, which is empty; use mode "constant"`
    })
  return false
}

/**
 * Reflection one chunk at a time: each chunk mirrors at most one period of the array as padded so
 * far, so pads wider than the array keep reflecting (and, with `"odd"`, keep extrapolating through
 * the moving edge).
 */
const reflectAxis = (
  x: JArray,
  axis: number,
  before: number,
  after: number,
  symmetric: boolean,
  odd: boolean
): JArray => {
  const n = x.shape[axis]!
  const offset = !symmetric && n > 1 ? 1 : 0
  const grow = (arr: JArray, padding: number, atStart: boolean): JArray => {
    let edge = atStart ? sliceAxis(arr, axis, 0, 1) : sliceAxis(arr, axis, arr.shape[axis]! - 1, arr.shape[axis]!)
    while (padding > 0) {
      const chunk = Math.min(padding, n - offset)
      padding -= chunk
      const m = arr.shape[axis]!
      let part = flip(
        atStart ? sliceAxis(arr, axis, offset, offset + chunk) : sliceAxis(arr, axis, m - chunk - offset, m - offset),
        axis
      )
      if (odd) {
        part = subtract(multiply(edge, 2), part)
        if (n > 1) edge = atStart ? sliceAxis(part, axis, 0, 1) : sliceAxis(part, axis, chunk - 1, chunk)
      }
      arr = atStart ? concatenate([part, arr], axis) : concatenate([arr, part], axis)
    }
    return arr
  }
  return grow(grow(x, before, true), after, false)
}

/** `[start, stop)` ramps of `count` steps toward `edge`, in JAX's float32 arithmetic (`linspace` without its endpoint). */
const ramp = (edge: JArray, start: number, count: number, axis: number, dtype: NumericDType): JArray => {
  const steps = new Float32Array(count)
  const oneMinus = new Float32Array(count)
  for (let i = 0; i < count; i++) {
    steps[i] = Math.fround(i / count)
    oneMinus[i] = Math.fround(1 - steps[i]!)
  }
  const along = edge.shape.map((_, i) => (i === axis ? count : 1))
  const e = convertTo(edge, "float32")
  let r = add(
    multiply(fromScalar(start, "float32"), fromHost(oneMinus, along, "float32")),
    multiply(e, fromHost(steps, along, "float32"))
  )
  if (dtype !== "float32") r = floor(r)
  return convertTo(r, dtype, edge.weakType)
}

type Stat = "maximum" | "minimum" | "mean" | "median"
const statOf = (mode: Stat, x: JArray, axis: number): JArray => {
  const opts = { keepdims: true }
  const v =
    mode === "maximum"
      ? max(x, axis, opts)
      : mode === "minimum"
        ? min(x, axis, opts)
        : mode === "mean"
          ? mean(x, axis, opts)
          : median(x, axis, opts)
  if (x.dtype === "float32" || x.dtype === "bool" || mode === "maximum" || mode === "minimum") return v
  // Integer arrays take the statistic rounded (half to even), as JAX.
  return convertTo(round(v), x.dtype as NumericDType, x.weakType)
}

/**
 * Pads an array (`jnp.pad`). `padWidth` is one number for every side, one `[before, after]` pair
 * for every axis, or one pair per axis; `mode` picks the fill (see {@link PadMode}).
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * jnp.pad(jnp.array([1, 2, 3]), [2, 1], { mode: "reflect" })   // [3, 2, 1, 2, 3, 2]
 * jnp.pad(jnp.ones([2, 2]), 1, { constantValues: [[1, 2], [3, 4]] })
 * ```
 */
export const pad = (x: ArrayLike, padWidth: PerAxis<number>, options?: PadOptions): JArray => {
  checkOptionKeys("pad", options, KEYS)
  const a = asArray(x)
  if (a.dtype === "key<fry>")
    throw new DTypeError({ op: "pad", dtypes: [a.dtype], reason: "PRNG key arrays cannot be padded" })
  const mode = options?.mode ?? "constant"
  if (!MODES.includes(mode))
    throw new ArgumentError({
      op: "pad",
      reason: `mode ${JSON.stringify(mode)} is not one of ${MODES.map((m) => `"${m}"`).join(", ")}`
    })
  const reflectType = options?.reflectType ?? "even"
  if (reflectType !== "even" && reflectType !== "odd")
    throw new ArgumentError({
      op: "pad",
      reason: `reflectType must be "even" or "odd", got ${JSON.stringify(reflectType)}`
    })
  // Options that belong to another mode are refused, as NumPy refuses them, rather than ignored.
  const owner: Record<string, ReadonlyArray<PadMode>> = {
    constantValues: ["constant"],
    endValues: ["linear_ramp"],
    statLength: ["maximum", "minimum", "mean", "median"],
    reflectType: ["reflect", "symmetric"]
  }
  for (const [key, modes] of Object.entries(owner)) {
    if (options !== undefined && (options as Record<string, unknown>)[key] !== undefined && !modes.includes(mode)) {
      throw new ArgumentError({
        op: "pad",
        reason: `the option ${key} does not apply to mode "${mode}" (only to ${modes.map((m) => `"${m}"`).join(", ")})`
      })
    }
  }
  const widths = perAxis("padWidth", padWidth, a.ndim, true)
  const d = a.dtype as NumericDType
  let out = a
  switch (mode) {
    case "constant": {
      const values = perAxis("constantValues", options?.constantValues ?? 0, a.ndim, false)
      // One value everywhere is one `pad` primitive; per-side values pad axis by axis.
      if (values.every(([b, af]) => b === values[0]![0] && af === b))
        return padConstantScalar(a, widths, { constantValues: values[0]?.[0] ?? 0 })
      widths.forEach(([before, after], axis) => {
        const side = (n: number, v: number): JArray =>
          broadcastTo(
            fromScalar(v, d, false),
            out.shape.map((s, i) => (i === axis ? n : s))
          )
        out = join([side(before, values[axis]![0]), out, side(after, values[axis]![1])], axis)
      })
      return convertTo(out, d, a.weakType)
    }
    case "empty":
      // JAX leaves the new elements unspecified; zeros are what it gives on every backend.
      return padConstantScalar(a, widths, { constantValues: 0 })
    case "edge":
      widths.forEach(([before, after], axis) => {
        if (!requireNonEmpty(mode, out, axis, before, after)) return
        const n = out.shape[axis]!
        out = join(
          [
            repeatEdge(sliceAxis(out, axis, 0, 1), axis, before),
            out,
            repeatEdge(sliceAxis(out, axis, n - 1, n), axis, after)
          ],
          axis
        )
      })
      return out
    case "wrap":
      widths.forEach(([before, after], axis) => {
        if (!requireNonEmpty(mode, out, axis, before, after)) return
        const n = out.shape[axis]!
        // The partial copy that ends the left side, whole copies, the array, whole copies, the partial start.
        const copies = (count: number): Array<JArray> => Array.from({ length: count }, () => out)
        out = join(
          [
            sliceAxis(out, axis, n - (before % n), n),
            ...copies(Math.floor(before / n)),
            out,
            ...copies(Math.floor(after / n)),
            sliceAxis(out, axis, 0, after % n)
          ],
          axis
        )
      })
      return out
    case "reflect":
    case "symmetric":
      widths.forEach(([before, after], axis) => {
        if (!requireNonEmpty(mode, out, axis, before, after)) return
        out = reflectAxis(out, axis, before, after, mode === "symmetric", reflectType === "odd")
      })
      return out
    case "linear_ramp": {
      const ends = perAxis("endValues", options?.endValues ?? 0, a.ndim, false)
      widths.forEach(([before, after], axis) => {
        if (!requireNonEmpty(mode, out, axis, before, after)) return
        const n = out.shape[axis]!
        const lo = ramp(sliceAxis(out, axis, 0, 1), ends[axis]![0], before, axis, d)
        const hi = flip(ramp(sliceAxis(out, axis, n - 1, n), ends[axis]![1], after, axis, d), axis)
        out = join([lo, out, hi], axis)
      })
      return out
    }
    default: {
      const stat = options?.statLength
      const lengths = stat === undefined || stat === null ? null : perAxis("statLength", stat, a.ndim, true)
      if (lengths?.some(([b, af]) => b === 0 || af === 0))
        throw new ArgumentError({
          op: "pad",
          reason: "a statLength of 0 leaves no values to compute the padding from; give at least 1"
        })
      widths.forEach(([before, after], axis) => {
        if (!requireNonEmpty(mode, out, axis, before, after)) return
        const n = out.shape[axis]!
        const lb = Math.min(lengths?.[axis]![0] ?? n, n),
          la = Math.min(lengths?.[axis]![1] ?? n, n)
        const sb = statOf(mode, sliceAxis(out, axis, 0, lb), axis)
        const sa = statOf(mode, sliceAxis(out, axis, n - la, n), axis)
        out = join([repeatEdge(sb, axis, before), out, repeatEdge(sa, axis, after)], axis)
      })
      return out
    }
  }
}
