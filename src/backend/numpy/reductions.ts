/** NumPy reductions with `axis` and `keepdims`, and cumulative sums. */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { DTypeError } from "../ArrayError.ts"
import { bind1 } from "../bind.ts"
import type { ReducePrimitive } from "../Primitive.ts"
import { normalizeAxes, normalizeAxis } from "../shape.ts"
import { asArray } from "./creation.ts"
import { convertTo, divide, multiply, sqrt, subtract } from "./elementwise.ts"
import { checkOptionKeys } from "./options.ts"
import { reshape } from "./shapeOps.ts"

/** An axis, a list of axes, or `null`/omitted for all axes. */
export type Axis = number | ReadonlyArray<number> | null | undefined

export interface ReduceOptions {
  readonly keepdims?: boolean | undefined
}

const resolveAxes = (op: string, x: JArray, axis: Axis): Array<number> =>
  axis === null || axis === undefined
    ? x.shape.map((_, i) => i)
    : normalizeAxes(op, typeof axis === "number" ? [axis] : axis, x.ndim)

const keep = (x: JArray, out: JArray, axes: ReadonlyArray<number>, keepdims: boolean | undefined): JArray =>
  keepdims === true
    ? reshape(
        out,
        x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      )
    : out

const noKeys = (op: string, x: JArray): void => {
  if (x.dtype === "key<fry>")
    throw new DTypeError({ op, dtypes: [x.dtype], reason: "PRNG key arrays cannot be reduced" })
}

const reduction =
  (op: string, prim: ReducePrimitive, boolTo?: "int32") =>
  (x: ArrayLike, axis?: Axis, options?: ReduceOptions): JArray => {
    checkOptionKeys(op, options, ["keepdims"])
    let a = asArray(x)
    noKeys(op, a)
    if (boolTo !== undefined && a.dtype === "bool") a = convertTo(a, boolTo)
    const axes = resolveAxes(op, a, axis)
    return keep(a, bind1(prim, [a], { axes }), axes, options?.keepdims)
  }

export const sum = reduction("sum", "reduce_sum", "int32")
export const prod = reduction("prod", "reduce_prod", "int32")
export const max = reduction("max", "reduce_max")
export const min = reduction("min", "reduce_min")
export const amax = max
export const amin = min

const toBool = (a: JArray): JArray =>
  a.dtype === "bool"
    ? a
    : bind1(
        "ne",
        [
          a,
          bind1("broadcast_in_dim", [convertTo(asArray(0), a.dtype as "float32")], {
            shape: a.shape,
            broadcastDimensions: []
          })
        ],
        {}
      )
export const all = (x: ArrayLike, axis?: Axis, options?: ReduceOptions): JArray =>
  reduction("all", "reduce_and")(toBool(asArray(x)), axis, options)
export const any = (x: ArrayLike, axis?: Axis, options?: ReduceOptions): JArray =>
  reduction("any", "reduce_or")(toBool(asArray(x)), axis, options)

const count = (x: JArray, axes: ReadonlyArray<number>): number => axes.reduce((n, i) => n * x.shape[i]!, 1)

/** Arithmetic mean; integer inputs give float32. */
export const mean = (x: ArrayLike, axis?: Axis, options?: ReduceOptions): JArray => {
  checkOptionKeys("mean", options, ["keepdims"])
  const a = asArray(x)
  noKeys("mean", a)
  const f = a.dtype === "float32" || a.dtype === "complex64" ? a : convertTo(a, "float32", a.weakType)
  const axes = resolveAxes("mean", f, axis)
  return divide(sum(f, axes, options), count(f, axes))
}

/** Variance with `ddof` (0 by default). */
export const variance = (x: ArrayLike, axis?: Axis, options?: ReduceOptions & { readonly ddof?: number }): JArray => {
  checkOptionKeys("var", options, ["keepdims", "ddof"])
  const a = asArray(x)
  noKeys("var", a)
  const f = a.dtype === "float32" || a.dtype === "complex64" ? a : convertTo(a, "float32", a.weakType)
  const axes = resolveAxes("var", f, axis)
  const centered = subtract(f, mean(f, axes, { keepdims: true }))
  const n = count(f, axes) - (options?.ddof ?? 0)
  // |x - mean|², real for complex input (as JAX's var).
  const squares =
    f.dtype === "complex64"
      ? bind1("real", [multiply(centered, bind1("conj", [centered], {}))], {})
      : multiply(centered, centered)
  return divide(sum(squares, axes, { keepdims: options?.keepdims }), n)
}
export { variance as var }

export const std = (x: ArrayLike, axis?: Axis, options?: ReduceOptions & { readonly ddof?: number }): JArray =>
  sqrt(variance(x, axis, options))

const argReduction =
  (op: "argmax" | "argmin") =>
  (x: ArrayLike, axis?: number | null, options?: ReduceOptions): JArray => {
    checkOptionKeys(op, options, ["keepdims"])
    let a = asArray(x)
    noKeys(op, a)
    let ax: number
    if (axis === null || axis === undefined) {
      a = reshape(a, [-1])
      ax = 0
    } else ax = normalizeAxis(op, axis, a.ndim)
    const out = bind1(op, [a], { axis: ax, indexDtype: "int32" })
    if (options?.keepdims !== true) return out
    const orig = asArray(x)
    return reshape(
      out,
      axis === null || axis === undefined ? orig.shape.map(() => 1) : orig.shape.map((d, i) => (i === ax ? 1 : d))
    )
  }
export const argmax = argReduction("argmax")
export const argmin = argReduction("argmin")

const cumulative =
  (op: string, prim: "cumsum" | "cumprod" | "cummax" | "cummin") =>
  (x: ArrayLike, axis?: number | null): JArray => {
    let a = asArray(x)
    noKeys(op, a)
    if (a.dtype === "bool" && (prim === "cumsum" || prim === "cumprod")) a = convertTo(a, "int32")
    if (axis === null || axis === undefined) {
      a = reshape(a, [-1])
      axis = 0
    }
    return bind1(prim, [a], { axis: normalizeAxis(op, axis, a.ndim), reverse: false })
  }
export const cumsum = cumulative("cumsum", "cumsum")
export const cumprod = cumulative("cumprod", "cumprod")
