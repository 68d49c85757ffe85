/**
 * How a `dot_general` reads as a batched matrix product: its batch, free and contracting axes on
 * each side, and the sizes `[B, M, K] · [B, K, N] -> [B, M, N]` they flatten to. Every backend's
 * kernel starts from it.
 */
import type { Aval } from "./DType.ts"
import type { Params } from "./Primitive.ts"
import { normalizeAxes, sizeOf } from "./shape.ts"

/** The axes and sizes of one `dot_general`. */
export interface DotDims {
  readonly lc: ReadonlyArray<number>
  readonly rc: ReadonlyArray<number>
  readonly lb: ReadonlyArray<number>
  readonly rb: ReadonlyArray<number>
  readonly lFree: ReadonlyArray<number>
  readonly rFree: ReadonlyArray<number>
  readonly B: number
  readonly M: number
  readonly K: number
  readonly N: number
}

export const dotDims = (l: Aval, r: Aval, params: Params<"dot_general">): DotDims => {
  const lc = normalizeAxes("dot_general", params.lhsContracting, l.shape.length)
  const rc = normalizeAxes("dot_general", params.rhsContracting, r.shape.length)
  const lb = normalizeAxes("dot_general", params.lhsBatch, l.shape.length)
  const rb = normalizeAxes("dot_general", params.rhsBatch, r.shape.length)
  const lFree = l.shape.map((_, i) => i).filter((i) => !lc.includes(i) && !lb.includes(i))
  const rFree = r.shape.map((_, i) => i).filter((i) => !rc.includes(i) && !rb.includes(i))
  const size = (shape: ReadonlyArray<number>, axes: ReadonlyArray<number>): number => sizeOf(axes.map((a) => shape[a]!))
  return {
    lc,
    rc,
    lb,
    rb,
    lFree,
    rFree,
    B: size(l.shape, lb),
    M: size(l.shape, lFree),
    K: size(l.shape, lc),
    N: size(r.shape, rFree)
  }
}
