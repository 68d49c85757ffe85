/**
 * Searching sorted arrays and counting into bins: `searchsorted`, `digitize`, `bincount`,
 * `histogram`, `interp`, `unique`, `countNonzero`. Each is written with comparisons against every
 * bin at once (an `[..., bins]` mask reduced over its last axis), so the output shape never depends
 * on the data and everything batches, stages and differentiates like its parts. `bincount` and
 * `unique` have data-dependent lengths: inside transforms they need the static `length`/`size`, as
 * in JAX.
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ArgumentError, ConcretizationError, ShapeError } from "../ArrayError.ts"
import { arange, asArray, fromScalar, linspace } from "./creation.ts"
import {
  add,
  convertTo,
  divide,
  equal,
  greater,
  less,
  lessEqual,
  maximum,
  multiply,
  notEqual,
  subtract,
  where
} from "./elementwise.ts"
import { nonzero } from "./extraSearch.ts"
import { getItem, take } from "./indexing.ts"
import { checkOptionKeys } from "./options.ts"
import { max, min, sum } from "./reductions.ts"
import { concatenate, expandDims, ravel } from "./shapeOps.ts"
import { sort } from "./sorting.ts"

const vector = (op: string, what: string, x: ArrayLike): JArray => {
  const a = asArray(x)
  if (a.ndim !== 1)
    throw new ShapeError({ op, shapes: [a.shape], reason: `${what} must be 1-d, got shape (${a.shape.join(", ")})` })
  return a
}

const concrete = (op: string, x: JArray, what: string, fix: string): number => {
  if (x.tracer !== undefined) {
    throw new ConcretizationError({
      op,
      reason: `${what} depends on the data, and this Array is traced by ${x.tracer.trace.name}; ${fix}`
    })
  }
  return Number(x.item())
}

/** Options of {@link searchsorted}. */
export interface SearchsortedOptions {
  /** `"left"` (default): the first position where `v` fits; `"right"`: the last. */
  readonly side?: "left" | "right" | undefined
}

/**
 * Where each element of `v` would be inserted into the sorted 1-d `a` to keep it sorted (int32, the
 * shape of `v`), like `jnp.searchsorted`.
 * @category searching
 * @since 0.1.0
 */
export const searchsorted = (a: ArrayLike, v: ArrayLike, options?: SearchsortedOptions): JArray => {
  checkOptionKeys("searchsorted", options, ["side"])
  const side = options?.side ?? "left"
  if (side !== "left" && side !== "right")
    throw new ArgumentError({
      op: "searchsorted",
      reason: `side must be "left" or "right", got ${JSON.stringify(side)}`
    })
  const sorted = vector("searchsorted", "a", a)
  const values = expandDims(asArray(v), -1)
  // The insertion point is how many entries lie before the value.
  const before = side === "left" ? less(sorted, values) : lessEqual(sorted, values)
  return sum(convertTo(before, "int32"), -1)
}

/**
 * The index of the bin of `bins` (monotonic, increasing or decreasing) each element of `x` falls
 * in, like `jnp.digitize`; `right` makes the bins closed on the right.
 * @category searching
 * @since 0.1.0
 */
export const digitize = (x: ArrayLike, bins: ArrayLike, right = false): JArray => {
  const b = vector("digitize", "bins", bins)
  if (b.shape[0] === 0) return convertTo(multiply(asArray(x), 0), "int32")
  const n = b.shape[0]!
  const side = right ? "left" : "right"
  const increasing = searchsorted(b, x, { side })
  const reversed = getItem(b, [{ step: -1 }])
  const decreasing = subtract(n, searchsorted(reversed, x, { side }))
  return where(lessEqual(getItem(b, [0]), getItem(b, [n - 1])), increasing, decreasing)
}

/** Options of {@link bincount}. */
export interface BincountOptions {
  /** A weight per element of `x` (counts are sums of weights); default one each. */
  readonly weights?: ArrayLike | undefined
  /** The least number of bins. */
  readonly minlength?: number | undefined
  /** The exact number of bins (static): required inside `jit`, `vmap` and `grad`; values past it are dropped. */
  readonly length?: number | undefined
}

/**
 * How many times each non-negative integer occurs in the 1-d `x` (or the sum of its `weights`),
 * like `jnp.bincount`. Negative values count in bin 0, as in JAX.
 * @category searching
 * @since 0.1.0
 */
export const bincount = (x: ArrayLike, options?: BincountOptions): JArray => {
  checkOptionKeys("bincount", options, ["weights", "minlength", "length"])
  const a = vector("bincount", "x", x)
  if (a.dtype !== "int32" && a.dtype !== "uint32" && a.dtype !== "bool") {
    throw new ArgumentError({
      op: "bincount",
      reason: `x must be an integer array, got ${a.dtype}; convert it with .astype("int32")`
    })
  }
  const minlength = options?.minlength ?? 0
  if (!Number.isInteger(minlength) || minlength < 0)
    throw new ArgumentError({ op: "bincount", reason: `minlength must be a non-negative integer, got ${minlength}` })
  // Checked before the number of bins is read from the data (a read that waits for the device).
  const w = options?.weights === undefined ? undefined : asArray(options.weights)
  if (w !== undefined && w.shape.join(",") !== a.shape.join(","))
    throw new ShapeError({ op: "bincount", shapes: [a.shape, w.shape], reason: "weights must have the shape of x" })
  let length = options?.length
  if (length === undefined) {
    const top =
      a.size === 0
        ? 0
        : concrete(
            "bincount",
            max(a),
            "the number of bins",
            "pass a static length, e.g. jnp.bincount(x, { length: 10 })"
          ) + 1
    length = Math.max(minlength, top)
  }
  if (!Number.isInteger(length) || length < 0)
    throw new ArgumentError({ op: "bincount", reason: `length must be a non-negative integer, got ${length}` })
  const idx = maximum(convertTo(a, "int32"), 0)
  const hits = equal(expandDims(idx, -1), arange(length))
  if (w === undefined) return sum(convertTo(hits, "int32"), 0)
  return sum(where(hits, expandDims(w, -1), 0), 0)
}

/** Options of {@link histogram}. */
export interface HistogramOptions {
  /** The lower and upper edge; default the data's minimum and maximum. */
  readonly range?: readonly [number, number] | undefined
  /** A weight per element of `a`. */
  readonly weights?: ArrayLike | undefined
  /** Return a probability density (integrating to 1) instead of counts. */
  readonly density?: boolean | undefined
}

/**
 * Counts of `a` in `bins` equal bins (or between the given edges), and the bin edges, like
 * `jnp.histogram`. The last bin includes its right edge.
 * @category searching
 * @since 0.1.0
 */
export const histogram = (
  a: ArrayLike,
  bins: number | ArrayLike = 10,
  options?: HistogramOptions
): [JArray, JArray] => {
  checkOptionKeys("histogram", options, ["range", "weights", "density"])
  const data = ravel(asArray(a))
  let edges: JArray
  if (typeof bins === "number") {
    if (!Number.isInteger(bins) || bins < 1)
      throw new ArgumentError({
        op: "histogram",
        reason: `bins must be a positive integer or an array of edges, got ${bins}`
      })
    let [lo, hi] = options?.range ?? [
      data.size === 0 ? 0 : concrete("histogram", min(data), "the range", "pass range: [lo, hi]"),
      data.size === 0 ? 1 : concrete("histogram", max(data), "the range", "pass range: [lo, hi]")
    ]
    if (lo > hi) throw new ArgumentError({ op: "histogram", reason: `range must be increasing, got [${lo}, ${hi}]` })
    // An empty range is widened by half on each side, as NumPy does.
    if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5]
    edges = linspace(lo, hi, bins + 1)
  } else {
    edges = convertTo(vector("histogram", "bins", bins), "float32")
  }
  const n = edges.shape[0]! - 1
  const last = getItem(edges, [n])
  // Bin k holds edges[k] <= x < edges[k+1]; the value at the last edge goes in the last bin.
  const place = subtract(searchsorted(edges, data, { side: "right" }), 1)
  const bin = where(equal(data, last), n - 1, place)
  const hits = equal(expandDims(bin, -1), arange(n))
  const w = options?.weights === undefined ? fromScalar(1, "float32") : expandDims(ravel(asArray(options.weights)), -1)
  const counts = sum(where(hits, w, 0), 0)
  const hist = convertTo(counts, "float32")
  if (options?.density !== true) return [hist, edges]
  const widths = subtract(getItem(edges, [{ start: 1 }]), getItem(edges, [{ stop: n }]))
  return [divide(divide(hist, sum(hist)), widths), edges]
}

/** Options of {@link interp}. */
export interface InterpOptions {
  /** The value left of `xp[0]`; default `fp[0]`. */
  readonly left?: number | undefined
  /** The value right of `xp[-1]`; default `fp[-1]`. */
  readonly right?: number | undefined
}

/**
 * Piecewise-linear interpolation of the points (`xp`, increasing, and `fp`) at `x`, like
 * `jnp.interp`.
 * @category searching
 * @since 0.1.0
 */
export const interp = (x: ArrayLike, xp: ArrayLike, fp: ArrayLike, options?: InterpOptions): JArray => {
  checkOptionKeys("interp", options, ["left", "right"])
  const px = convertTo(vector("interp", "xp", xp), "float32")
  const pf = convertTo(vector("interp", "fp", fp), "float32")
  if (px.shape[0] !== pf.shape[0])
    throw new ShapeError({ op: "interp", shapes: [px.shape, pf.shape], reason: "xp and fp must have the same length" })
  const n = px.shape[0]!
  if (n === 0) throw new ArgumentError({ op: "interp", reason: "xp and fp must not be empty" })
  const at = convertTo(asArray(x), "float32")
  // The segment [xp[i-1], xp[i]] holding x, clamped to the first and last segments.
  const i = maximum(searchsorted(px, at, { side: "right" }), 1)
  const hiIdx = where(greater(i, n - 1), n - 1, i)
  const loIdx = maximum(subtract(hiIdx, 1), 0)
  const x0 = take(px, loIdx)
  const x1 = take(px, hiIdx)
  const f0 = take(pf, loIdx)
  const f1 = take(pf, hiIdx)
  const dx = subtract(x1, x0)
  const flat = equal(dx, 0)
  const slope = divide(subtract(f1, f0), where(flat, 1, dx))
  let f = where(flat, f0, add(f0, multiply(subtract(at, x0), slope)))
  f = where(less(at, getItem(px, [0])), options?.left ?? getItem(pf, [0]), f)
  return where(greater(at, getItem(px, [n - 1])), options?.right ?? getItem(pf, [n - 1]), f)
}

/** Options of {@link unique}. */
export interface UniqueOptions {
  /** The static number of values returned: required inside `jit`, `vmap` and `grad`. */
  readonly size?: number | undefined
  /** What pads the result past the distinct values; default the smallest value. */
  readonly fillValue?: number | undefined
}

/**
 * The sorted distinct values of `x` (flattened), like `jnp.unique`. With `size` the result has
 * exactly that many entries: cut, or padded with `fillValue`.
 * @category searching
 * @since 0.1.0
 */
export const unique = (x: ArrayLike, options?: UniqueOptions): JArray => {
  checkOptionKeys("unique", options, ["size", "fillValue"])
  const s = sort(ravel(asArray(x)))
  if (s.size === 0) return s
  // An entry is new where it differs from the one before it.
  const fresh = concatenate([lessEqual(arange(1), 0), notEqual(getItem(s, [{ start: 1 }]), getItem(s, [{ stop: -1 }]))])
  if (options?.size === undefined && s.tracer !== undefined) {
    throw new ConcretizationError({
      op: "unique",
      reason: `the number of distinct values depends on the data, and this Array is traced by ${s.tracer.trace.name}; pass a static size, e.g. jnp.unique(x, { size: 10 })`
    })
  }
  const [where_] = nonzero(fresh, options?.size === undefined ? undefined : { size: options.size })
  const values = take(s, where_!)
  if (options?.fillValue === undefined) return values
  const count = sum(convertTo(fresh, "int32"))
  return where(
    less(arange(values.shape[0]!), count),
    values,
    fromScalar(options.fillValue, s.dtype === "key<fry>" ? "float32" : s.dtype)
  )
}

/**
 * How many elements of `x` are non-zero (along `axis`), as int32, like `jnp.count_nonzero`.
 * @category searching
 * @since 0.1.0
 */
export const countNonzero = (
  x: ArrayLike,
  axis?: number | ReadonlyArray<number> | null,
  options?: { readonly keepdims?: boolean | undefined }
): JArray => {
  checkOptionKeys("countNonzero", options, ["keepdims"])
  const a = asArray(x)
  return sum(convertTo(a.dtype === "bool" ? a : notEqual(a, 0), "int32"), axis ?? null, {
    keepdims: options?.keepdims ?? false
  })
}
