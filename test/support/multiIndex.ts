/**
 * Naive multi-index helpers for reference results, independent of the kernels' stride machinery:
 * row-major index arithmetic one element at a time.
 */
import { sizeOf } from "../../src/backend/shape.ts"

/** The multi-index of the `flat`-th element (row-major) of an array of `shape`. */
export const unravel = (flat: number, shape: ReadonlyArray<number>): Array<number> => {
  const idx = new Array<number>(shape.length).fill(0)
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = flat % shape[i]!
    flat = Math.floor(flat / shape[i]!)
  }
  return idx
}

/** The row-major position of the multi-index `idx` in an array of `shape`. */
export const ravel = (idx: ReadonlyArray<number>, shape: ReadonlyArray<number>): number =>
  idx.reduce((acc, v, i) => acc * shape[i]! + v, 0)

/** The elements of an array of `shape` whose element at each multi-index is `f` of it. */
export const naive = (shape: ReadonlyArray<number>, f: (idx: Array<number>) => number): Array<number> =>
  Array.from({ length: sizeOf(shape) }, (_, k) => f(unravel(k, shape)))
