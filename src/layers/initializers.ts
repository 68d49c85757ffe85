/**
 * `nnx.initializers`: functions that make a layer's initial parameters, as `jax.nn.initializers`
 * (which Flax re-exports as `nnx.initializers`). An initializer is `(key, shape, dtype?) => Array`;
 * the names without arguments (`zeros`, `ones`) are initializers themselves, the others
 * (`normal(0.02)`, `lecunNormal()`, `orthogonal()`) build one. Given the same key, every
 * initializer returns the values JAX's does: the samplers underneath are JAX's, and the arithmetic
 * around them (variance rounded to float32, then `sqrt`, then a product) is done in the same order
 * and dtype. `orthogonal` differs only by float32 rounding: its QR decomposition is computed here by
 * Householder reflections rather than by LAPACK.
 *
 * @example
 * ```ts
 * import { nnx, random } from "effect-nnx"
 *
 * const init = nnx.initializers.heNormal()
 * const w = init(random.key(0), [3, 4]) // like jax.nn.initializers.he_normal()(key, (3, 4))
 * ```
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../backend/Array.ts"
import { ArgumentError, ShapeError } from "../backend/ArrayError.ts"
import type { DType, NumericDType } from "../backend/DType.ts"
import { arange, asArray, eye, full, zeros as jnpZeros } from "../backend/numpy/creation.ts"
import { divide, equal, greaterEqual, multiply, sign, sqrt, subtract, where } from "../backend/numpy/elementwise.ts"
import { indexUpdate } from "../backend/numpy/indexing.ts"
import { outer } from "../backend/numpy/linalg.ts"
import { sum } from "../backend/numpy/reductions.ts"
import { moveaxis, reshape, stack, transpose } from "../backend/numpy/shapeOps.ts"
import {
  normal as sampleNormal,
  truncatedNormal as sampleTruncated,
  uniform as sampleUniform
} from "../backend/random/index.ts"
import type { ShapeLike } from "../backend/random/shapes.ts"
import { canonicalShape } from "../backend/random/shapes.ts"

/**
 * An initializer: a function of a PRNG key, a shape and an optional dtype (float32 by default),
 * as `jax.nn.initializers.Initializer`.
 * @category initializers
 * @since 0.1.0
 */
export type Initializer = (key: JArray, shape: ShapeLike, dtype?: DType) => JArray

const product = (xs: ReadonlyArray<number>): number => xs.reduce((a, b) => a * b, 1)

/** A scalar of the parameter dtype: JAX rounds every constant to it before multiplying. */
const scalar = (x: number, dtype: NumericDType): JArray => asArray(x, dtype)

const numeric = (op: string, dtype: DType | undefined): NumericDType => {
  if (dtype === "key<fry>")
    throw new ArgumentError({ op, reason: "an initializer cannot make PRNG keys; use a float dtype" })
  return dtype ?? "float32"
}

/**
 * Fills with zeros, as `jax.nn.initializers.zeros` (the bias default of Flax's layers).
 * @category initializers
 * @since 0.1.0
 */
export const zeros: Initializer = (_key, shape, dtype) =>
  jnpZeros(canonicalShape("initializers.zeros", shape), { dtype: numeric("initializers.zeros", dtype) })

/**
 * Fills with ones, as `jax.nn.initializers.ones` (the scale default of the norm layers).
 * @category initializers
 * @since 0.1.0
 */
export const ones: Initializer = (_key, shape, dtype) =>
  full(canonicalShape("initializers.ones", shape), 1, { dtype: numeric("initializers.ones", dtype) })

/** Flax's `zeros_init()`: the `zeros` initializer. @category initializers @since 0.1.0 */
export const zerosInit = (): Initializer => zeros

/** Flax's `ones_init()`: the `ones` initializer. @category initializers @since 0.1.0 */
export const onesInit = (): Initializer => ones

/**
 * Fills with `value`, as `jax.nn.initializers.constant(value)`.
 * @category initializers
 * @since 0.1.0
 */
export const constant =
  (value: number, dtype?: NumericDType): Initializer =>
  (_key, shape, d) =>
    full(canonicalShape("initializers.constant", shape), value, { dtype: numeric("initializers.constant", d ?? dtype) })

/**
 * Uniform in `[0, scale)`, as `jax.nn.initializers.uniform(scale)`.
 * @category initializers
 * @since 0.1.0
 */
export const uniform =
  (scale = 1e-2, dtype?: NumericDType): Initializer =>
  (key, shape, d) => {
    const dt = numeric("initializers.uniform", d ?? dtype)
    return multiply(sampleUniform(key, shape, { dtype: dt }), scalar(scale, dt))
  }

/**
 * Normal with mean 0 and standard deviation `stddev`, as `jax.nn.initializers.normal(stddev)`.
 * @category initializers
 * @since 0.1.0
 */
export const normal =
  (stddev = 1e-2, dtype?: NumericDType): Initializer =>
  (key, shape, d) => {
    const dt = numeric("initializers.normal", d ?? dtype)
    return multiply(sampleNormal(key, shape, { dtype: dt }), scalar(stddev, dt))
  }

/**
 * Options of {@link truncatedNormal}.
 * @category initializers
 * @since 0.1.0
 */
export interface TruncatedNormalOptions {
  readonly dtype?: NumericDType | undefined
  /** Lower bound, in standard deviations, applied before scaling (default -2). */
  readonly lower?: number | undefined
  /** Upper bound, in standard deviations, applied before scaling (default 2). */
  readonly upper?: number | undefined
}

/**
 * A standard normal truncated to `(lower, upper)`, times `stddev`, as
 * `jax.nn.initializers.truncated_normal(stddev)`. Unlike `varianceScaling`, the standard deviation
 * is not corrected for the truncation.
 * @category initializers
 * @since 0.1.0
 */
export const truncatedNormal =
  (stddev = 1e-2, options?: TruncatedNormalOptions): Initializer =>
  (key, shape, d) => {
    const dt = numeric("initializers.truncatedNormal", d ?? options?.dtype)
    const draw = sampleTruncated(key, options?.lower ?? -2, options?.upper ?? 2, shape, { dtype: dt })
    return multiply(draw, scalar(stddev, dt))
  }

/**
 * The axes `varianceScaling` reads fans from: one axis or several (their sizes multiply).
 * @category initializers
 * @since 0.1.0
 */
export type FanAxes = number | ReadonlyArray<number>

/**
 * Options of {@link varianceScaling} and the initializers built on it.
 * @category initializers
 * @since 0.1.0
 */
export interface FanOptions {
  /** The input axes (default -2). */
  readonly inAxis?: FanAxes | undefined
  /** The output axes (default -1). */
  readonly outAxis?: FanAxes | undefined
  /** Axes that are neither, left out of both fans (default none). */
  readonly batchAxis?: FanAxes | undefined
  readonly dtype?: NumericDType | undefined
}

/**
 * How `varianceScaling` turns fans into the denominator of the variance.
 * @category initializers
 * @since 0.1.0
 */
export type FanMode = "fan_in" | "fan_out" | "fan_avg" | "fan_geo_avg"

/**
 * The distribution `varianceScaling` draws from.
 * @category initializers
 * @since 0.1.0
 */
export type FanDistribution = "truncated_normal" | "normal" | "uniform"

const axisSize = (op: string, shape: ReadonlyArray<number>, axes: FanAxes): number => {
  const list = typeof axes === "number" ? [axes] : axes
  return product(
    list.map((a) => {
      const i = a < 0 ? a + shape.length : a
      if (!Number.isInteger(i) || i < 0 || i >= shape.length) {
        throw new ShapeError({
          op,
          shapes: [shape],
          reason: `axis ${a} is out of range for a ${shape.length}-dimensional weight`
        })
      }
      return shape[i]!
    })
  )
}

/**
 * The effective input and output sizes of a weight: axes outside `inAxis`, `outAxis` and
 * `batchAxis` are a convolution's receptive field and multiply both fans.
 */
const computeFans = (
  op: string,
  shape: ReadonlyArray<number>,
  inAxis: FanAxes,
  outAxis: FanAxes,
  batchAxis: FanAxes
): readonly [number, number] => {
  if (inAxis === -2 && shape.length <= 1) {
    throw new ShapeError({
      op,
      shapes: [shape],
      reason: `cannot compute the fans of a ${shape.length}-dimensional weight with the default inAxis; it must be at least 2-dimensional, or pass inAxis`
    })
  }
  const inSize = axisSize(op, shape, inAxis)
  const outSize = axisSize(op, shape, outAxis)
  const batchSize = axisSize(op, shape, batchAxis)
  // Divided in this order, as JAX does, so the float64 fans match to the last bit.
  const receptive = product(shape) / inSize / outSize / batchSize
  return [inSize * receptive, outSize * receptive]
}

/** The standard deviation of a standard normal truncated to (-2, 2). */
const TRUNCATED_STDDEV = 0.87962566103423978

/**
 * Draws with variance `scale / fan` (fan chosen by `mode`) from `distribution`, as
 * `jax.nn.initializers.variance_scaling`. `truncated_normal` corrects the standard deviation for
 * the truncation at ±2; `uniform` draws from `[-√(3·variance), √(3·variance))`.
 * @category initializers
 * @since 0.1.0
 */
export const varianceScaling = (
  scale: number,
  mode: FanMode,
  distribution: FanDistribution,
  options?: FanOptions
): Initializer => {
  const op = "initializers.varianceScaling"
  if (!["fan_in", "fan_out", "fan_avg", "fan_geo_avg"].includes(mode)) {
    throw new ArgumentError({
      op,
      reason: `invalid mode ${JSON.stringify(mode)}: expected fan_in, fan_out, fan_avg or fan_geo_avg`
    })
  }
  if (!["truncated_normal", "normal", "uniform"].includes(distribution)) {
    throw new ArgumentError({
      op,
      reason: `invalid distribution ${JSON.stringify(distribution)}: expected truncated_normal, normal or uniform`
    })
  }
  return (key, shape, d) => {
    const s = canonicalShape(op, shape)
    const dt = numeric(op, d ?? options?.dtype)
    const [fanIn, fanOut] = computeFans(op, s, options?.inAxis ?? -2, options?.outAxis ?? -1, options?.batchAxis ?? [])
    const denominator =
      mode === "fan_in"
        ? fanIn
        : mode === "fan_out"
          ? fanOut
          : mode === "fan_avg"
            ? (fanIn + fanOut) / 2
            : Math.sqrt(fanIn * fanOut)
    const variance = scalar(scale / denominator, dt)
    switch (distribution) {
      case "truncated_normal":
        return multiply(
          sampleTruncated(key, -2, 2, s, { dtype: dt }),
          divide(sqrt(variance), scalar(TRUNCATED_STDDEV, dt))
        )
      case "normal":
        return multiply(sampleNormal(key, s, { dtype: dt }), sqrt(variance))
      case "uniform":
        return multiply(sampleUniform(key, s, { dtype: dt, minval: -1 }), sqrt(multiply(3, variance)))
    }
  }
}

/** Glorot/Xavier uniform: `varianceScaling(1, "fan_avg", "uniform")`. @category initializers @since 0.1.0 */
export const glorotUniform = (options?: FanOptions): Initializer => varianceScaling(1, "fan_avg", "uniform", options)
/** Glorot/Xavier normal: `varianceScaling(1, "fan_avg", "truncated_normal")`. @category initializers @since 0.1.0 */
export const glorotNormal = (options?: FanOptions): Initializer =>
  varianceScaling(1, "fan_avg", "truncated_normal", options)
/** LeCun uniform: `varianceScaling(1, "fan_in", "uniform")`. @category initializers @since 0.1.0 */
export const lecunUniform = (options?: FanOptions): Initializer => varianceScaling(1, "fan_in", "uniform", options)
/** LeCun normal: `varianceScaling(1, "fan_in", "truncated_normal")`, Flax's kernel default. @category initializers @since 0.1.0 */
export const lecunNormal = (options?: FanOptions): Initializer =>
  varianceScaling(1, "fan_in", "truncated_normal", options)
/** He/Kaiming uniform: `varianceScaling(2, "fan_in", "uniform")`. @category initializers @since 0.1.0 */
export const heUniform = (options?: FanOptions): Initializer => varianceScaling(2, "fan_in", "uniform", options)
/** He/Kaiming normal: `varianceScaling(2, "fan_in", "truncated_normal")`. @category initializers @since 0.1.0 */
export const heNormal = (options?: FanOptions): Initializer => varianceScaling(2, "fan_in", "truncated_normal", options)
/** @category initializers @since 0.1.0 */
export const xavierUniform = glorotUniform
/** @category initializers @since 0.1.0 */
export const xavierNormal = glorotNormal
/** @category initializers @since 0.1.0 */
export const kaimingUniform = heUniform
/** @category initializers @since 0.1.0 */
export const kaimingNormal = heNormal

/**
 * The Q of a reduced QR decomposition of a tall matrix (`rows >= cols`), its columns signed so that
 * R's diagonal is positive — which makes it unique, and equal to what LAPACK's QR gives after JAX's
 * sign correction. Householder reflections written with whole-array operations (masks instead of
 * slices), so it traces under `vmap`, `jit` and `grad` like any other array code.
 */
const orthonormalColumns = (a: JArray): JArray => {
  const [m, k] = a.shape as [number, number]
  const rowIndex = arange(m)
  let r = a
  let q = eye(m)
  const signs: Array<JArray> = []
  for (let j = 0; j < k; j++) {
    const below = greaterEqual(rowIndex, j)
    const pivot = equal(rowIndex, j)
    const x = where(below, reshape(r.get(":", j), [m]), 0)
    const norm = sqrt(sum(multiply(x, x)))
    const xj = r.get(j, j)
    // Reflect x onto -sign(x_j)·‖x‖·e_j, the choice that avoids cancellation.
    const s = where(equal(xj, 0), 1, sign(xj))
    const alpha = multiply(multiply(-1, s), norm)
    const v0 = subtract(x, where(pivot, alpha, 0))
    const vnorm = sqrt(sum(multiply(v0, v0)))
    const v = where(equal(vnorm, 0), 0, divide(v0, where(equal(vnorm, 0), 1, vnorm)))
    r = subtract(r, multiply(2, outer(v, v.matmul(r))))
    q = subtract(q, multiply(2, outer(q.matmul(v), v)))
    signs.push(sign(alpha))
  }
  const cols = q.get(":", `:${k}`)
  // JAX multiplies by sign(diag R); sign(0) = 0 only for a rank-deficient draw, which has probability 0.
  return multiply(cols, reshape(stack(signs), [1, k]))
}

/**
 * Options of {@link orthogonal}.
 * @category initializers
 * @since 0.1.0
 */
export interface OrthogonalOptions {
  /** The axis holding the columns that are orthonormal (default -1). */
  readonly columnAxis?: number | undefined
  readonly dtype?: NumericDType | undefined
}

/**
 * A (semi-)orthogonal matrix times `scale`, as `jax.nn.initializers.orthogonal(scale)`: the weight is
 * viewed as a matrix whose columns run along `columnAxis`; its rows (or columns, whichever are
 * fewer) are orthonormal. Equal to JAX's for the same key up to float32 rounding.
 * @category initializers
 * @since 0.1.0
 */
export const orthogonal =
  (scale = 1.0, options?: OrthogonalOptions): Initializer =>
  (key, shape, d) => {
    const op = "initializers.orthogonal"
    const s = canonicalShape(op, shape)
    const dt = numeric(op, d ?? options?.dtype)
    if (s.length < 2)
      throw new ShapeError({
        op,
        shapes: [s],
        reason: "the orthogonal initializer needs at least a 2-dimensional shape"
      })
    if (s.some((n) => n === 0)) return jnpZeros(s, { dtype: dt })
    const columnAxis = options?.columnAxis ?? -1
    const ca = columnAxis < 0 ? columnAxis + s.length : columnAxis
    if (!Number.isInteger(ca) || ca < 0 || ca >= s.length) {
      throw new ShapeError({ op, shapes: [s], reason: `columnAxis ${columnAxis} is out of range` })
    }
    const nCols = s[ca]!
    const nRows = product(s) / nCols
    const tall = sampleNormal(key, [Math.max(nRows, nCols), Math.min(nRows, nCols)], { dtype: dt })
    const qTall = orthonormalColumns(tall)
    const q = nRows < nCols ? transpose(qTall) : qTall
    const rest = s.filter((_, i) => i !== ca)
    return multiply(scalar(scale, dt), moveaxis(reshape(q, [...rest, nCols]), -1, ca))
  }

/**
 * A delta-orthogonal convolution kernel (3, 4 or 5 dimensions): zero except at the spatial centre,
 * which holds an orthogonal matrix, as `jax.nn.initializers.delta_orthogonal`.
 * @category initializers
 * @since 0.1.0
 */
export const deltaOrthogonal =
  (scale = 1.0, options?: OrthogonalOptions): Initializer =>
  (key, shape, d) => {
    const op = "initializers.deltaOrthogonal"
    const s = canonicalShape(op, shape)
    const dt = numeric(op, d ?? options?.dtype)
    if (s.length < 3 || s.length > 5)
      throw new ShapeError({
        op,
        shapes: [s],
        reason: "the delta orthogonal initializer needs a 3, 4 or 5-dimensional shape"
      })
    if (s[s.length - 1]! < s[s.length - 2]!) {
      throw new ShapeError({
        op,
        shapes: [s],
        reason: "fan_in (the second-to-last dimension) must be at most fan_out (the last)"
      })
    }
    const ortho = orthogonal(scale, { ...options, dtype: dt })(key, s.slice(-2))
    const centre = s.slice(0, -2).map((k) => Math.floor((k - 1) / 2))
    return indexUpdate(jnpZeros(s, { dtype: dt }), [...centre, "..."]).set(ortho)
  }
