/**
 * `jnp.linalg.norm`: vector norms over one axis, matrix norms over two, as JAX's (and NumPy's) `ord`
 * table; the 2-norm, nuclear norm and `-2` come from the singular values.
 *
 * @since 0.1.0
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ArgumentError, AxisError } from "../ArrayError.ts"
import { normalizeAxes } from "../shape.ts"
import { abs, convertTo, multiply, notEqual, power, sqrt } from "./elementwise.ts"
import { f32, floatInput } from "./linalgCommon.ts"
import { checkOptionKeys } from "./options.ts"
import { svdvals } from "./linalgSpectral.ts"
import { max, min, sum } from "./reductions.ts"
import { expandDims, transpose } from "./shapeOps.ts"

/**
 * Options of {@link norm}.
 * @category models
 * @since 0.1.0
 */
export interface NormOptions {
  /**
   * Vectors: `2` (default), `Infinity`, `-Infinity`, `0` (count of non-zeros), `1`, or any other
   * number `p` (`sum(|x|^p)^(1/p)`). Matrices: `"fro"` (default), `"nuc"`, `1`, `-1`, `2`, `-2`,
   * `Infinity`, `-Infinity`.
   */
  readonly ord?: number | "fro" | "nuc" | null | undefined
  /** One axis (a vector norm) or two (a matrix norm); default: every axis (see {@link norm}). */
  readonly axis?: number | readonly [number] | readonly [number, number] | null | undefined
  readonly keepdims?: boolean | undefined
}

const op = "linalg.norm"

/**
 * A vector or matrix norm, like `jnp.linalg.norm`. Without `axis`, the default `ord` gives the 2-norm
 * of all elements (of any rank); with an `ord`, the input must be a vector or a matrix.
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * jnp.linalg.norm(jnp.array([3, 4])).item() // 5
 * jnp.linalg.norm(jnp.array([[1, -2], [3, 4]]), { ord: 1 }).item() // 6 (largest column sum)
 * ```
 * @category linear algebra
 * @since 0.1.0
 */
export const norm = (x: ArrayLike, options?: NormOptions): JArray => {
  checkOptionKeys(op, options, ["ord", "axis", "keepdims"])
  const a = floatInput(op, x, 0)
  const ord = options?.ord ?? null
  const keepdims = options?.keepdims ?? false
  const axisOpt = options?.axis ?? null
  if (ord !== null && typeof ord !== "number" && ord !== "fro" && ord !== "nuc") {
    throw new ArgumentError({ op, reason: `ord must be a number, "fro" or "nuc", got ${JSON.stringify(ord)}` })
  }
  if (axisOpt === null && ord === null) return sqrt(sum(multiply(a, a), null, { keepdims }))
  const axes =
    axisOpt === null
      ? a.shape.map((_, i) => i)
      : normalizeAxes(op, typeof axisOpt === "number" ? [axisOpt] : axisOpt, a.ndim)
  if (axes.length === 1) return vectorNorm(a, ord, axes[0]!, keepdims)
  if (axes.length === 2) return matrixNorm(a, ord, axes as unknown as readonly [number, number], keepdims)
  throw new AxisError({
    op,
    axis: axes,
    ndim: a.ndim,
    reason: "pass one axis for a vector norm or two for a matrix norm (an ord without axis needs a 1-d or 2-d input)"
  })
}

const vectorNorm = (a: JArray, ord: number | "fro" | "nuc" | null, axis: number, keepdims: boolean): JArray => {
  const k = { keepdims }
  if (ord === null || ord === 2) return sqrt(sum(multiply(a, a), axis, k))
  if (typeof ord === "string")
    throw new ArgumentError({ op, reason: `ord ${JSON.stringify(ord)} is a matrix norm; a vector norm takes a number` })
  if (ord === Infinity) return max(abs(a), axis, k)
  if (ord === -Infinity) return min(abs(a), axis, k)
  if (ord === 0) return sum(convertTo(notEqual(a, 0), "float32"), axis, k)
  if (ord === 1) return sum(abs(a), axis, k)
  if (Number.isNaN(ord)) throw new ArgumentError({ op, reason: "ord must not be NaN" })
  // The order and its reciprocal are float32 constants, as JAX makes them.
  return power(sum(power(abs(a), f32(ord)), axis, k), f32(1 / Math.fround(ord)))
}

const matrixNorm = (
  a: JArray,
  ord: number | "fro" | "nuc" | null,
  axes: readonly [number, number],
  keepdims: boolean
): JArray => {
  const [r, c] = axes
  const k = { keepdims }
  if (ord === null || ord === "fro") return sqrt(sum(multiply(a, a), [r, c], k))
  if (ord === 1 || ord === -1 || ord === Infinity || ord === -Infinity) {
    // 1: largest column sum (sum over rows); Infinity: largest row sum.
    const [inner, outer] = ord === 1 || ord === -1 ? [r, c] : [c, r]
    const outerAfter = !keepdims && outer > inner ? outer - 1 : outer
    const sums = sum(abs(a), inner, k)
    return ord > 0 ? max(sums, outerAfter, k) : min(sums, outerAfter, k)
  }
  if (ord === 2 || ord === -2 || ord === "nuc") {
    const rest = a.shape.map((_, i) => i).filter((i) => i !== r && i !== c)
    const s = svdvals(transpose(a, [...rest, r, c]))
    const y = ord === 2 ? max(s, -1) : ord === -2 ? min(s, -1) : sum(s, -1)
    return keepdims
      ? expandDims(
          y,
          [...axes].sort((p, q) => p - q)
        )
      : y
  }
  throw new ArgumentError({
    op,
    reason: `invalid order ${String(ord)} for a matrix norm; use "fro", "nuc", ±1, ±2 or ±Infinity`
  })
}
