/**
 * Sample shapes and the broadcasting of distribution parameters against them. Samplers take a shape
 * as a number or a list of numbers; parameters (bounds, probabilities) must broadcast to that shape,
 * NumPy style, without changing it.
 *
 * @since 0.1.0
 */
import type { Array } from "../Array.ts"
import { ArgumentError, ShapeError } from "../ArrayError.ts"
import type { NumericDType } from "../DType.ts"
import * as lax from "../lax.ts"
import { fromScalar } from "../numpy/creation.ts"
import { broadcastShapes, shapeEquals } from "../shape.ts"

/**
 * A sample shape: a list of non-negative integers, or one integer for a 1-d shape.
 * @category models
 * @since 0.1.0
 */
export type ShapeLike = number | ReadonlyArray<number>

const show = (s: ReadonlyArray<number>): string => `(${s.join(", ")}${s.length === 1 ? "," : ""})`

/** Validates a shape argument of `op`; a number `n` means `[n]`. */
export const canonicalShape = (op: string, shape: ShapeLike): ReadonlyArray<number> => {
  const s = typeof shape === "number" ? [shape] : shape
  if (!globalThis.Array.isArray(s) || !s.every((d) => typeof d === "number")) {
    throw new ArgumentError({
      op,
      reason: `shape must be a non-negative integer or a list of them, got ${JSON.stringify(shape)}`
    })
  }
  if (!s.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ShapeError({ op, shapes: [s], reason: "a shape is a list of non-negative integers" })
  }
  return s
}

/**
 * Checks that parameter shapes broadcast to `shape` and that broadcasting does not enlarge it, as
 * JAX requires of its samplers.
 */
export const checkParamShapes = (
  op: string,
  shape: ReadonlyArray<number>,
  params: ReadonlyArray<ReadonlyArray<number>>
): void => {
  if (params.length === 0) return
  const all = [shape, ...params]
  let b: ReadonlyArray<number>
  try {
    b = broadcastShapes(op, all)
  } catch {
    throw new ShapeError({
      op,
      shapes: all,
      reason: `parameter shapes must broadcast to the sample shape ${show(shape)}`
    })
  }
  if (!shapeEquals(b, shape)) {
    throw new ShapeError({
      op,
      shapes: all,
      reason: `broadcasting the parameters gives ${show(b)}, which differs from the sample shape ${show(shape)}`
    })
  }
}

/**
 * Prepares a parameter for elementwise use against samples of `shape`: checks that it broadcasts
 * to `shape` (NumPy rules, trailing dimensions aligned) and gives it the rank of `shape` by
 * leading unit dimensions. Elementwise primitives broadcast unit dimensions, so the parameter is
 * never materialized at the full shape.
 */
export const alignParam = (op: string, x: Array, shape: ReadonlyArray<number>): Array => {
  const off = shape.length - x.ndim
  if (off < 0 || x.shape.some((d, i) => d !== 1 && d !== shape[off + i])) {
    throw new ShapeError({
      op,
      shapes: [x.shape, shape],
      reason: `cannot broadcast a parameter of shape ${show(x.shape)} to the sample shape ${show(shape)}`
    })
  }
  return off === 0 ? x : lax.reshape(x, [...unitShape(off), ...x.shape])
}

/**
 * A constant `value` with the rank of `shape` and unit dimensions, which elementwise primitives
 * broadcast against operands of `shape`. Not weakly typed.
 */
export const filled = (value: number, dtype: NumericDType, shape: ReadonlyArray<number>): Array =>
  lax.reshape(fromScalar(value, dtype), unitShape(shape.length))

/** The shape `[1, ..., 1]` of rank `n`. */
export const unitShape = (n: number): number[] => new globalThis.Array<number>(n).fill(1)
