/**
 * Products and sequences built from shifted copies of their inputs: `convolve`, `correlate`,
 * `polyval`, `diff`, `cross`, `kron`, `select`, `lexsort`, `logspace`. Each is a short composition
 * of existing operations (static slices, broadcasts, `where`), so every transform applies to it.
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ArgumentError, AxisError, ShapeError } from "../ArrayError.ts"
import { asArray, fromScalar, linspace } from "./creation.ts"
import { add, convertTo, multiply, notEqual, power, subtract, where, promote } from "./elementwise.ts"
import { getItem, takeAlongAxis } from "./indexing.ts"
import { checkOptionKeys } from "./options.ts"
import { broadcastTo, concatenate, moveaxis, reshape, stack } from "./shapeOps.ts"
import { argsort } from "./sorting.ts"
import { pad } from "./padding.ts"

const normAxis = (op: string, axis: number, ndim: number): number => {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw new AxisError({ op, axis, ndim, reason: "axis out of bounds" })
  }
  return axis < 0 ? axis + ndim : axis
}

const vector = (op: string, what: string, x: ArrayLike): JArray => {
  const a = asArray(x)
  if (a.ndim !== 1)
    throw new ShapeError({ op, shapes: [a.shape], reason: `${what} must be 1-d, got shape (${a.shape.join(", ")})` })
  return a
}

/** `mode` of {@link convolve} and {@link correlate}. */
export type ConvolveMode = "full" | "same" | "valid"

const convolveImpl = (op: string, x: ArrayLike, y: ArrayLike, mode: ConvolveMode): JArray => {
  if (mode !== "full" && mode !== "same" && mode !== "valid")
    throw new ArgumentError({ op, reason: `mode must be "full", "same" or "valid", got ${JSON.stringify(mode)}` })
  // Integer inputs give floats, as in JAX (the products are summed in floating point).
  const [a0, v0] = promote(op, [vector(op, "a", x), vector(op, "v", y)]).map((t) =>
    t.dtype === "float32" ? t : convertTo(t, "float32")
  ) as [JArray, JArray]
  if (a0.size === 0 || v0.size === 0) throw new ArgumentError({ op, reason: "the inputs must not be empty" })
  // Convolution is symmetric: shift copies of the longer input, one per element of the shorter.
  const [a, v] = a0.size >= v0.size ? [a0, v0] : [v0, a0]
  const n = a.size
  const m = v.size
  let full: JArray | undefined
  for (let j = 0; j < m; j++) {
    const term = multiply(pad(a, [[j, m - 1 - j]]), getItem(v, [j]))
    full = full === undefined ? term : add(full, term)
  }
  const out = full!
  if (mode === "full") return out
  if (mode === "same") {
    const start = Math.floor((m - 1) / 2)
    return getItem(out, [{ start, stop: start + n }])
  }
  return getItem(out, [{ start: m - 1, stop: n }])
}

/**
 * The discrete linear convolution of two 1-d arrays, like `jnp.convolve` (`mode` `"full"` by
 * default, `"same"` or `"valid"`).
 * @category products
 * @since 0.1.0
 */
export const convolve = (
  a: ArrayLike,
  v: ArrayLike,
  options?: { readonly mode?: ConvolveMode | undefined }
): JArray => {
  checkOptionKeys("convolve", options, ["mode"])
  return convolveImpl("convolve", a, v, options?.mode ?? "full")
}

/**
 * The cross-correlation of two 1-d arrays, like `jnp.correlate` (`mode` `"valid"` by default).
 * @category products
 * @since 0.1.0
 */
export const correlate = (
  a: ArrayLike,
  v: ArrayLike,
  options?: { readonly mode?: ConvolveMode | undefined }
): JArray => {
  checkOptionKeys("correlate", options, ["mode"])
  return convolveImpl("correlate", a, getItem(vector("correlate", "v", v), [{ step: -1 }]), options?.mode ?? "valid")
}

/**
 * The polynomial with coefficients `p` (highest power first) at `x`, by Horner's rule, like
 * `jnp.polyval`.
 * @category products
 * @since 0.1.0
 */
export const polyval = (p: ArrayLike, x: ArrayLike): JArray => {
  const c = vector("polyval", "p", p)
  let acc: JArray = multiply(asArray(x), 0)
  for (let i = 0; i < c.size; i++) acc = add(multiply(acc, x), getItem(c, [i]))
  return acc
}

/** Options of {@link diff}. */
export interface DiffOptions {
  /** Values put before `a` along `axis` before differencing. */
  readonly prepend?: ArrayLike | undefined
  /** Values put after `a` along `axis` before differencing. */
  readonly append?: ArrayLike | undefined
}

/**
 * The `n`-th discrete difference along `axis` (last by default), like `jnp.diff`; booleans give
 * `a[i+1] != a[i]`.
 * @category products
 * @since 0.1.0
 */
export const diff = (a: ArrayLike, n = 1, axis = -1, options?: DiffOptions): JArray => {
  checkOptionKeys("diff", options, ["prepend", "append"])
  let x = asArray(a)
  if (x.ndim === 0)
    throw new ShapeError({ op: "diff", shapes: [x.shape], reason: "needs an array of at least 1 dimension" })
  if (!Number.isInteger(n) || n < 0)
    throw new ArgumentError({ op: "diff", reason: `n must be a non-negative integer, got ${n}` })
  const ax = normAxis("diff", axis, x.ndim)
  const edge = (e: ArrayLike): JArray => {
    // A scalar stands for a slice of length 1 along the axis, as in NumPy.
    const v = asArray(e)
    return v.ndim === 0
      ? broadcastTo(
          v,
          x.shape.map((d, i) => (i === ax ? 1 : d))
        )
      : v
  }
  if (options?.prepend !== undefined || options?.append !== undefined) {
    x = concatenate(
      [
        ...(options?.prepend === undefined ? [] : [edge(options.prepend)]),
        x,
        ...(options?.append === undefined ? [] : [edge(options.append)])
      ],
      ax
    )
  }
  for (let k = 0; k < n; k++) {
    const hi = getItem(
      x,
      x.shape.map((_, i) => (i === ax ? { start: 1 } : {}))
    )
    const lo = getItem(
      x,
      x.shape.map((_, i) => (i === ax ? { stop: -1 } : {}))
    )
    x = x.dtype === "bool" ? notEqual(hi, lo) : subtract(hi, lo)
  }
  return x
}

/**
 * The cross product of 3-vectors (or 2-vectors, giving the z component) along `axis` (last by
 * default), like `jnp.cross`.
 * @category products
 * @since 0.1.0
 */
export const cross = (a: ArrayLike, b: ArrayLike, options?: { readonly axis?: number | undefined }): JArray => {
  checkOptionKeys("cross", options, ["axis"])
  const [x0, y0] = promote("cross", [a, b]) as [JArray, JArray]
  if (x0.ndim === 0 || y0.ndim === 0)
    throw new ShapeError({
      op: "cross",
      shapes: [x0.shape, y0.shape],
      reason: "needs vectors (arrays of at least 1 dimension)"
    })
  const axis = options?.axis ?? -1
  const x = moveaxis(x0, normAxis("cross", axis, x0.ndim), -1)
  const y = moveaxis(y0, normAxis("cross", axis, y0.ndim), -1)
  const dx = x.shape[x.ndim - 1]!
  const dy = y.shape[y.ndim - 1]!
  if ((dx !== 2 && dx !== 3) || (dy !== 2 && dy !== 3)) {
    throw new ShapeError({
      op: "cross",
      shapes: [x0.shape, y0.shape],
      reason: `the vectors along axis ${axis} must have 2 or 3 components, got ${dx} and ${dy}`
    })
  }
  const part = (v: JArray, i: number): JArray =>
    i < v.shape[v.ndim - 1]! ? getItem(v, ["...", i]) : multiply(getItem(v, ["...", 0]), 0)
  const [a0, a1, a2] = [part(x, 0), part(x, 1), part(x, 2)]
  const [b0, b1, b2] = [part(y, 0), part(y, 1), part(y, 2)]
  const z = subtract(multiply(a0, b1), multiply(a1, b0))
  if (dx === 2 && dy === 2) return z
  const c = stack([subtract(multiply(a1, b2), multiply(a2, b1)), subtract(multiply(a2, b0), multiply(a0, b2)), z], -1)
  return moveaxis(c, -1, normAxis("cross", axis, c.ndim))
}

/**
 * The Kronecker product: blocks `a[i, j] * b`, like `jnp.kron`.
 * @category products
 * @since 0.1.0
 */
export const kron = (a: ArrayLike, b: ArrayLike): JArray => {
  const [x0, y0] = promote("kron", [a, b]) as [JArray, JArray]
  const nd = Math.max(x0.ndim, y0.ndim)
  const x = reshape(x0, [...Array<number>(nd - x0.ndim).fill(1), ...x0.shape])
  const y = reshape(y0, [...Array<number>(nd - y0.ndim).fill(1), ...y0.shape])
  // Interleave the axes: (a0, 1, a1, 1, ...) times (1, b0, 1, b1, ...), then merge each pair.
  const xi = reshape(
    x,
    x.shape.flatMap((d) => [d, 1])
  )
  const yi = reshape(
    y,
    y.shape.flatMap((d) => [1, d])
  )
  return reshape(
    multiply(xi, yi),
    x.shape.map((d, i) => d * y.shape[i]!)
  )
}

/**
 * Picks, elementwise, from the first choice whose condition holds (else `defaultValue`), like
 * `jnp.select`.
 * @category products
 * @since 0.1.0
 */
export const select = (
  condlist: ReadonlyArray<ArrayLike>,
  choicelist: ReadonlyArray<ArrayLike>,
  defaultValue: ArrayLike = 0
): JArray => {
  if (condlist.length !== choicelist.length) {
    throw new ArgumentError({
      op: "select",
      reason: `condlist has ${condlist.length} entries but choicelist has ${choicelist.length}; give one choice per condition`
    })
  }
  if (condlist.length === 0) throw new ArgumentError({ op: "select", reason: "condlist must not be empty" })
  let out = asArray(defaultValue)
  for (let i = condlist.length - 1; i >= 0; i--) {
    const cond = asArray(condlist[i]!)
    if (cond.dtype !== "bool")
      throw new ArgumentError({ op: "select", reason: `condlist[${i}] must be a boolean array, got ${cond.dtype}` })
    out = where(cond, choicelist[i]!, out)
  }
  return out
}

/**
 * The indices that sort by several keys, the last key first (a stable sort per key), like
 * `jnp.lexsort`; the keys are sorted along `axis` (last by default).
 * @category products
 * @since 0.1.0
 */
export const lexsort = (keys: ReadonlyArray<ArrayLike>, axis = -1): JArray => {
  if (keys.length === 0) throw new ArgumentError({ op: "lexsort", reason: "needs at least one key" })
  const ks = keys.map((k) => asArray(k))
  const shape = ks[0]!.shape.join(",")
  if (ks.some((k) => k.shape.join(",") !== shape))
    throw new ShapeError({ op: "lexsort", shapes: ks.map((k) => k.shape), reason: "all keys must have the same shape" })
  if (ks[0]!.ndim === 0)
    throw new ShapeError({ op: "lexsort", shapes: [ks[0]!.shape], reason: "keys must have at least 1 dimension" })
  const ax = normAxis("lexsort", axis, ks[0]!.ndim)
  // Sorting stably by the least significant key first leaves the most significant one in charge.
  let order = argsort(ks[0]!, ax)
  for (let i = 1; i < ks.length; i++) {
    const within = argsort(takeAlongAxis(ks[i]!, order, ax), ax)
    order = takeAlongAxis(order, within, ax)
  }
  return order
}

/**
 * `num` numbers spaced evenly on a log scale: `base ** linspace(start, stop)`, like `jnp.logspace`.
 * @category creation
 * @since 0.1.0
 */
export const logspace = (
  start: number,
  stop: number,
  num = 50,
  options?: { readonly endpoint?: boolean | undefined; readonly base?: number | undefined }
): JArray => {
  checkOptionKeys("logspace", options, ["endpoint", "base"])
  const exponents = linspace(start, stop, num, { endpoint: options?.endpoint ?? true })
  return power(fromScalar(options?.base ?? 10, "float32"), exponents)
}
