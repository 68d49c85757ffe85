/**
 * Pooling over channels-last inputs, as Flax's `nnx.max_pool`, `nnx.avg_pool` and `nnx.min_pool`:
 * windowed reductions (`lax.reduceWindow`) over the spatial axes of `[...batch, ...spatial, features]`,
 * never across batch or feature axes. An input with no batch axis is pooled as a batch of one.
 *
 * @since 0.2.0
 */
import type { Array as JArray } from "../backend/Array.ts"
import { reduceWindow } from "../backend/laxConv.ts"
import type { ConvPadding } from "../backend/laxConv.ts"
import { ones } from "../backend/numpy/creation.ts"
import { divide } from "../backend/numpy/elementwise.ts"
import { expandDims, squeeze } from "../backend/numpy/shapeOps.ts"
import { fmtShape, layerError } from "./LayerError.ts"

/**
 * Window padding of a pool: a `lax` rule or one `[lo, hi]` pair per spatial axis.
 * @category layers
 * @since 0.2.0
 */
export type PoolPadding = "SAME" | "VALID" | "SAME_LOWER" | ReadonlyArray<readonly [number, number]>

/**
 * Options of the pooling functions.
 * @category layers
 * @since 0.2.0
 */
export interface PoolOptions {
  /** One per spatial axis (default 1 each). */
  readonly strides?: ReadonlyArray<number> | undefined
  /** Default `"VALID"`. */
  readonly padding?: PoolPadding | undefined
}

const pool = (
  name: string,
  inputs: JArray,
  init: number,
  computation: "add" | "max" | "min",
  windowShape: ReadonlyArray<number>,
  options: PoolOptions
): JArray => {
  const n = windowShape.length
  const nb = inputs.ndim - (n + 1)
  if (nb < 0) {
    throw layerError(
      name,
      `a ${n}D window needs inputs of rank at least ${n + 1} ([...batch, ...spatial, features]), got shape ${fmtShape(inputs.shape)}`
    )
  }
  const strides = options.strides ?? new Array<number>(n).fill(1)
  if (strides.length !== n)
    throw layerError(name, `strides (${strides.join(", ")}) need one entry per window dimension (${n})`)
  const padding = options.padding ?? "VALID"
  if (typeof padding !== "string" && padding.length !== n) {
    throw layerError(name, `padding needs one [lo, hi] pair per window dimension (${n}), got ${padding.length}`)
  }
  // reduce_window gets unit windows over the batch and feature axes; a missing batch axis is added.
  const x = nb === 0 ? expandDims(inputs, 0) : inputs
  const lead = Math.max(nb, 1)
  const unit = new Array<number>(lead).fill(1)
  const pads = typeof padding === "string" ? padding : [...unit.map(() => [0, 0] as const), ...padding, [0, 0] as const]
  const y = reduceWindow(
    x,
    init,
    computation,
    [...unit, ...windowShape, 1],
    [...unit, ...strides, 1],
    pads as ConvPadding
  )
  return nb === 0 ? squeeze(y, 0) : y
}

/**
 * Max pooling, as `flax.nnx.max_pool`: the largest value in each window (padding never wins).
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * nnx.maxPool(jnp.ones([8, 28, 28, 32]), [2, 2], { strides: [2, 2] }).shape // [8, 14, 14, 32]
 * ```
 * @category layers
 * @since 0.2.0
 */
export const maxPool = (inputs: JArray, windowShape: ReadonlyArray<number>, options: PoolOptions = {}): JArray =>
  pool("maxPool", inputs, -Infinity, "max", windowShape, options)

/**
 * Min pooling, as `flax.nnx.min_pool`.
 * @category layers
 * @since 0.2.0
 */
export const minPool = (inputs: JArray, windowShape: ReadonlyArray<number>, options: PoolOptions = {}): JArray =>
  pool("minPool", inputs, Infinity, "min", windowShape, options)

/**
 * Options of {@link avgPool}.
 * @category layers
 * @since 0.2.0
 */
export interface AvgPoolOptions extends PoolOptions {
  /** Divide by the whole window size even where it covers padding (default true, as Flax). */
  readonly countIncludePad?: boolean | undefined
}

/**
 * Average pooling, as `flax.nnx.avg_pool`. With `countIncludePad: false`, windows that cover padding
 * average over the input elements they cover only.
 * @category layers
 * @since 0.2.0
 */
export const avgPool = (inputs: JArray, windowShape: ReadonlyArray<number>, options: AvgPoolOptions = {}): JArray => {
  const y = pool("avgPool", inputs, 0, "add", windowShape, options)
  if (options.countIncludePad ?? true)
    return divide(
      y,
      windowShape.reduce((a, b) => a * b, 1)
    )
  // Count the input elements of each window by pooling ones over the same spatial shape.
  const countShape = [...inputs.shape.slice(0, -1), 1]
  if (countShape.length - 2 === windowShape.length) countShape[0] = 1
  return divide(y, pool("avgPool", ones(countShape, { dtype: y.dtype as "float32" }), 0, "add", windowShape, options))
}
