/**
 * More of NumPy's creation and shape functions, composed from existing operations: `geomspace`,
 * `tri`, `triuIndices`, `trilIndices`, `diagflat`, `rot90`, `atLeast3d`, `arraySplit`, `vander`,
 * `fliplr`, `flipud`, `dstack`, `columnStack`, `append`, `empty`, `emptyLike`. Sizes, offsets and
 * axes are static (JavaScript numbers), as JAX requires of them under `jit`; the array arguments
 * batch, stage and differentiate like the operations they are made of.
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ArgumentError, AxisError, DTypeError, ShapeError } from "../ArrayError.ts"
import { isDType } from "../DType.ts"
import type { NumericDType } from "../DType.ts"
import { normalizeAxis } from "../shape.ts"
import { arange, asArray, fromHost, fromScalar, full } from "./creation.ts"
import type { DTypeOption } from "./creation.ts"
import { convertTo, multiply, power } from "./elementwise.ts"
import { diag } from "./extraShape.ts"
import { checkOptionKeys } from "./options.ts"
import { atLeast2d, concatenate, expandDims, flip, ravel, reshape, split, transpose } from "./shapeOps.ts"

const checkInt = (op: string, name: string, v: unknown): void => {
  if (typeof v !== "number" || !Number.isInteger(v))
    throw new ArgumentError({ op, reason: `${name} must be an integer, got ${String(v)}` })
}

const checkSize = (op: string, name: string, v: unknown): void => {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0)
    throw new ArgumentError({ op, reason: `${name} must be a non-negative integer, got ${String(v)}` })
}

const checkDType = (op: string, dtype: unknown): void => {
  if (dtype !== undefined && (!isDType(dtype) || dtype === "key<fry>"))
    throw new DTypeError({
      op,
      dtypes: [String(dtype)],
      reason: "not a numeric dtype (float32, int32, uint32, bool, complex64)"
    })
}

/** Options of {@link geomspace}. */
export interface GeomspaceOptions {
  /** Whether `stop` is the last value (default `true`); if not, `num` values before it. */
  readonly endpoint?: boolean | undefined
  /** The result's dtype (default float32); an integer dtype truncates the float32 values, as JAX. */
  readonly dtype?: NumericDType | undefined
}

/**
 * `num` numbers spaced evenly on a log scale from `start` to `stop` (a geometric progression), like
 * `jnp.geomspace`: `sign(start) * logspace(log10(|start|), log10(|stop|), num)`, computed in float32
 * as JAX does (so the ends are `start` and `stop` to float32 rounding, not exactly). `start` and
 * `stop` must be non-zero and of the same sign: an `ArgumentError` where JAX returns NaNs.
 * @category creation
 * @since 0.2.0
 */
export const geomspace = (start: number, stop: number, num = 50, options?: GeomspaceOptions): JArray => {
  checkOptionKeys("geomspace", options, ["endpoint", "dtype"])
  checkSize("geomspace", "num", num)
  checkDType("geomspace", options?.dtype)
  if (typeof start !== "number" || typeof stop !== "number" || !Number.isFinite(start) || !Number.isFinite(stop))
    throw new ArgumentError({
      op: "geomspace",
      reason: `start and stop must be finite numbers, got ${String(start)} and ${String(stop)}`
    })
  if (start === 0 || stop === 0)
    throw new ArgumentError({
      op: "geomspace",
      reason: `a geometric sequence cannot include zero (start ${start}, stop ${stop})`
    })
  if (Math.sign(start) !== Math.sign(stop))
    throw new ArgumentError({
      op: "geomspace",
      reason: `start and stop must have the same sign, got ${start} and ${stop}`
    })
  const endpoint = options?.endpoint ?? true
  const sign = Math.sign(start)
  const f = Math.fround
  const lo = f(Math.log10(f(f(start) / sign)))
  const hi = f(Math.log10(f(f(stop) / sign)))
  // The exponents as JAX's linspace computes them in float32: lo * (1 - t) + hi * t, t = i / div.
  const div = endpoint ? num - 1 : num
  const exps = new Float32Array(num)
  for (let i = 0; i < num; i++) {
    if (endpoint && i === num - 1 && num > 1) exps[i] = hi
    else {
      const t = div > 0 ? f(i / div) : 0
      exps[i] = f(f(lo * f(1 - t)) + f(hi * t))
    }
  }
  const values = multiply(sign, power(fromScalar(10, "float32"), fromHost(exps, [num], "float32")))
  const d = options?.dtype ?? "float32"
  return d === "float32" ? values : convertTo(values, d)
}

/** Options of {@link tri}. */
export interface TriOptions {
  /** The diagonal below which (inclusive) the ones are: 0 the main, positive above, negative below. */
  readonly k?: number | undefined
  /** The result's dtype (default float32). */
  readonly dtype?: NumericDType | undefined
}

/** A static `rows`×`cols` boolean mask, true where `j - i <= k`. */
const lowerMask = (rows: number, cols: number, k: number): Uint8Array => {
  const data = new Uint8Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = c - r <= k ? 1 : 0
  return data
}

/**
 * The `n`×`m` (`m` defaults to `n`) array with ones at and below the `k`-th diagonal and zeros
 * elsewhere (`j - i <= k`), like `jnp.tri`; float32 unless `dtype` is given.
 * @category creation
 * @since 0.2.0
 */
export const tri = (n: number, m?: number, options?: TriOptions): JArray => {
  checkOptionKeys("tri", options, ["k", "dtype"])
  checkSize("tri", "n", n)
  if (m !== undefined) checkSize("tri", "m", m)
  const k = options?.k ?? 0
  checkInt("tri", "k", k)
  checkDType("tri", options?.dtype)
  const cols = m ?? n
  const mask = fromHost(lowerMask(n, cols, k), [n, cols], "bool")
  const d = options?.dtype ?? "float32"
  return d === "bool" ? mask : convertTo(mask, d)
}

const triangleIndices = (op: string, n: number, k: number, m: number | undefined, lower: boolean): [JArray, JArray] => {
  checkSize(op, "n", n)
  checkInt(op, "k", k)
  if (m !== undefined) checkSize(op, "m", m)
  const cols = m ?? n
  const rows: Array<number> = []
  const columns: Array<number> = []
  for (let r = 0; r < n; r++)
    for (let c = 0; c < cols; c++)
      if (lower ? c - r <= k : c - r >= k) {
        rows.push(r)
        columns.push(c)
      }
  return [
    fromHost(Int32Array.from(rows), [rows.length], "int32"),
    fromHost(Int32Array.from(columns), [columns.length], "int32")
  ]
}

/**
 * The row and column indices (int32, row-major order) of the upper triangle of an `n`×`m` array
 * (`m` defaults to `n`): the entries with `j - i >= k`, like `jnp.triu_indices`.
 * `x.at[...triuIndices(n)]`-style use is `jnp.getItem(x, jnp.triuIndices(n))`.
 * @category creation
 * @since 0.2.0
 */
export const triuIndices = (n: number, k = 0, m?: number): [JArray, JArray] =>
  triangleIndices("triuIndices", n, k, m, false)

/**
 * The row and column indices (int32, row-major order) of the lower triangle of an `n`×`m` array
 * (`m` defaults to `n`): the entries with `j - i <= k`, like `jnp.tril_indices`.
 * @category creation
 * @since 0.2.0
 */
export const trilIndices = (n: number, k = 0, m?: number): [JArray, JArray] =>
  triangleIndices("trilIndices", n, k, m, true)

/**
 * The square matrix with the flattened `v` on its `k`-th diagonal (positive above the main one,
 * negative below) and zeros elsewhere, like `jnp.diagflat`: `diag(ravel(v), k)`.
 * @category creation
 * @since 0.2.0
 */
export const diagflat = (v: ArrayLike, k = 0): JArray => {
  checkInt("diagflat", "k", k)
  return diag(ravel(asArray(v)), k)
}

/**
 * `m` rotated by 90 degrees `k` times, counterclockwise in the plane of `axes` (from the first axis
 * towards the second; a negative `k` turns clockwise), like `jnp.rot90`. Needs at least 2 dimensions.
 * @category shape
 * @since 0.2.0
 */
export const rot90 = (m: ArrayLike, k = 1, axes: readonly [number, number] = [0, 1]): JArray => {
  const a = asArray(m)
  checkInt("rot90", "k", k)
  if (!Array.isArray(axes) || axes.length !== 2)
    throw new ArgumentError({ op: "rot90", reason: `axes must be a pair of axes, got ${JSON.stringify(axes)}` })
  if (a.ndim < 2)
    throw new ShapeError({ op: "rot90", shapes: [a.shape], reason: "needs an array of at least 2 dimensions" })
  const ax1 = normalizeAxis("rot90", axes[0], a.ndim)
  const ax2 = normalizeAxis("rot90", axes[1], a.ndim)
  if (ax1 === ax2)
    throw new AxisError({
      op: "rot90",
      axis: [axes[0], axes[1]],
      ndim: a.ndim,
      reason: "the two axes must be different"
    })
  const turns = ((k % 4) + 4) % 4
  if (turns === 0) return a
  if (turns === 2) return flip(flip(a, ax1), ax2)
  const perm = a.shape.map((_, i) => (i === ax1 ? ax2 : i === ax2 ? ax1 : i))
  return turns === 1 ? transpose(flip(a, ax2), perm) : flip(transpose(a, perm), ax2)
}

const toAtLeast3d = (x: ArrayLike): JArray => {
  const a = asArray(x)
  if (a.ndim >= 3) return a
  if (a.ndim === 0) return reshape(a, [1, 1, 1])
  if (a.ndim === 1) return reshape(a, [1, a.shape[0]!, 1])
  return expandDims(a, 2)
}

/**
 * Views with at least 3 dimensions, like `jnp.atleast_3d`: a scalar becomes `(1, 1, 1)`, a vector of
 * length `n` `(1, n, 1)`, a matrix `(m, n)` `(m, n, 1)`; more dimensions are left alone. One argument
 * gives one array, several give a list.
 * @category shape
 * @since 0.2.0
 */
export function atLeast3d(x: ArrayLike): JArray
export function atLeast3d(x: ArrayLike, y: ArrayLike, ...rest: ReadonlyArray<ArrayLike>): Array<JArray>
export function atLeast3d(...xs: ReadonlyArray<ArrayLike>): JArray | Array<JArray> {
  if (xs.length === 0) throw new ArgumentError({ op: "atLeast3d", reason: "needs at least one array" })
  return xs.length === 1 ? toAtLeast3d(xs[0]!) : xs.map(toAtLeast3d)
}

/**
 * Splits along `axis` into `sections` parts, which need not be equal (the first `n % sections` get
 * one element more), or at the given indices, like `jnp.array_split`.
 * @category shape
 * @since 0.2.0
 */
export const arraySplit = (
  x: ArrayLike,
  indicesOrSections: number | ReadonlyArray<number>,
  axis = 0
): Array<JArray> => {
  const a = asArray(x)
  if (a.ndim === 0)
    throw new ShapeError({ op: "arraySplit", shapes: [a.shape], reason: "a 0-d array has no axis to split along" })
  const ax = normalizeAxis("arraySplit", axis, a.ndim)
  if (typeof indicesOrSections !== "number") {
    if (
      !Array.isArray(indicesOrSections) ||
      indicesOrSections.some((i) => typeof i !== "number" || !Number.isInteger(i))
    )
      throw new ArgumentError({
        op: "arraySplit",
        reason: `indices must be a list of integers, got ${JSON.stringify(indicesOrSections)}`
      })
    return split(a, indicesOrSections, ax)
  }
  const sections = indicesOrSections
  if (!Number.isInteger(sections) || sections < 1)
    throw new ArgumentError({
      op: "arraySplit",
      reason: `the number of sections must be a positive integer, got ${sections}`
    })
  const n = a.shape[ax]!
  const base = Math.floor(n / sections)
  const extra = n % sections
  const cuts: Array<number> = []
  let at = 0
  for (let i = 0; i + 1 < sections; i++) {
    at += base + (i < extra ? 1 : 0)
    cuts.push(at)
  }
  return split(a, cuts, ax)
}

/** Options of {@link vander}. */
export interface VanderOptions {
  /** Powers increasing left to right (`x^0, x^1, ...`); default `false`, decreasing. */
  readonly increasing?: boolean | undefined
}

/**
 * The Vandermonde matrix of the 1-d `x`: `n` columns (default `x`'s length) of powers of `x`,
 * decreasing from `x^(n-1)` to `x^0` unless `increasing`, like `jnp.vander`. The powers are in `x`'s
 * dtype (integer powers of an integer `x`).
 * @category creation
 * @since 0.2.0
 */
export const vander = (x: ArrayLike, n?: number, options?: VanderOptions): JArray => {
  checkOptionKeys("vander", options, ["increasing"])
  const a = asArray(x)
  if (a.ndim !== 1)
    throw new ShapeError({ op: "vander", shapes: [a.shape], reason: `x must be 1-d, got ${a.ndim} dimensions` })
  if (a.dtype === "bool" || a.dtype === "key<fry>")
    throw new DTypeError({ op: "vander", dtypes: [a.dtype], reason: "needs a numeric x; convert it with astype" })
  const cols = n ?? a.shape[0]!
  checkSize("vander", "n", cols)
  const increasing = options?.increasing ?? false
  const exps = increasing ? arange(0, cols, 1, { dtype: a.dtype }) : arange(cols - 1, -1, -1, { dtype: a.dtype })
  return power(expandDims(a, -1), exps)
}

/**
 * `m` with the order of its columns (axis 1) reversed, like `jnp.fliplr`; needs 2 dimensions or more.
 * @category shape
 * @since 0.2.0
 */
export const fliplr = (m: ArrayLike): JArray => {
  const a = asArray(m)
  if (a.ndim < 2)
    throw new ShapeError({ op: "fliplr", shapes: [a.shape], reason: "needs an array of at least 2 dimensions" })
  return flip(a, 1)
}

/**
 * `m` with the order of its rows (axis 0) reversed, like `jnp.flipud`; needs 1 dimension or more.
 * @category shape
 * @since 0.2.0
 */
export const flipud = (m: ArrayLike): JArray => {
  const a = asArray(m)
  if (a.ndim < 1)
    throw new ShapeError({ op: "flipud", shapes: [a.shape], reason: "needs an array of at least 1 dimension" })
  return flip(a, 0)
}

/**
 * Joins arrays along a third axis (depth), after `atLeast3d` (a vector of length `n` becomes
 * `(1, n, 1)`), like `jnp.dstack`; dtypes promote as in `concatenate`.
 * @category shape
 * @since 0.2.0
 */
export const dstack = (xs: ReadonlyArray<ArrayLike>): JArray => {
  if (xs.length === 0) throw new ArgumentError({ op: "dstack", reason: "needs at least one array" })
  return concatenate(xs.map(toAtLeast3d), 2)
}

/**
 * Joins 1-d arrays as the columns of a 2-d array (2-d arrays join as they are, scalars as one
 * element), like `jnp.column_stack`; dtypes promote as in `concatenate`.
 * @category shape
 * @since 0.2.0
 */
export const columnStack = (xs: ReadonlyArray<ArrayLike>): JArray => {
  if (xs.length === 0) throw new ArgumentError({ op: "columnStack", reason: "needs at least one array" })
  return concatenate(
    xs.map((x) => {
      const a = asArray(x)
      return a.ndim < 2 ? transpose(atLeast2d(a)) : a
    }),
    1
  )
}

/**
 * `values` appended after `arr`, like `jnp.append`: without `axis` (or with `null`) both are
 * flattened first; with one, they are concatenated along it and must match on the other axes. Dtypes
 * promote as in `concatenate`.
 * @category shape
 * @since 0.2.0
 */
export const append = (arr: ArrayLike, values: ArrayLike, axis?: number | null): JArray =>
  axis === undefined || axis === null ? concatenate([ravel(arr), ravel(values)], 0) : concatenate([arr, values], axis)

const checkShape = (op: string, shape: unknown): Array<number> => {
  const s = typeof shape === "number" ? [shape] : shape
  if (!Array.isArray(s) || s.some((d) => typeof d !== "number" || !Number.isInteger(d) || d < 0))
    throw new ArgumentError({
      op,
      reason: `shape must be a non-negative integer or a list of them, got ${JSON.stringify(shape)}`
    })
  return s as Array<number>
}

/**
 * An array of `shape`, like `jnp.empty`: JAX has no uninitialized memory, so it is zeros (float32
 * unless `dtype` is given).
 * @category creation
 * @since 0.2.0
 */
export const empty = (shape: ReadonlyArray<number> | number, options?: DTypeOption): JArray => {
  checkOptionKeys("empty", options, ["dtype"])
  checkDType("empty", options?.dtype)
  return full(checkShape("empty", shape), 0, { dtype: options?.dtype ?? "float32" })
}

/** Options of {@link emptyLike}. */
export interface EmptyLikeOptions extends DTypeOption {
  /** The result's shape, instead of the prototype's. */
  readonly shape?: ReadonlyArray<number> | number | undefined
}

/**
 * Zeros with the shape and dtype of `x` (or the `shape` and `dtype` given), like `jnp.empty_like`:
 * JAX's is zeros too. A weakly typed `x` (a JavaScript number) gives a weakly typed result unless
 * `dtype` is given, as in JAX.
 * @category creation
 * @since 0.2.0
 */
export const emptyLike = (x: ArrayLike, options?: EmptyLikeOptions): JArray => {
  checkOptionKeys("emptyLike", options, ["dtype", "shape"])
  checkDType("emptyLike", options?.dtype)
  const a = asArray(x)
  if (a.dtype === "key<fry>" && options?.dtype === undefined)
    throw new DTypeError({ op: "emptyLike", dtypes: [a.dtype], reason: "not a numeric dtype; pass a dtype" })
  const shape = options?.shape === undefined ? a.shape : checkShape("emptyLike", options.shape)
  const d: NumericDType = options?.dtype ?? (a.dtype as NumericDType)
  const z = full(shape, 0, { dtype: d })
  return options?.dtype === undefined && a.weakType ? convertTo(z, d, true) : z
}
