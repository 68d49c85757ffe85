/** Products: `matmul` (NumPy broadcasting of batch dimensions), `dot`, `tensordot`, `outer`, `inner`. */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ShapeError } from "../ArrayError.ts"
import { bind1 } from "../bind.ts"
import { broadcastShapes, normalizeAxes } from "../shape.ts"
import { asArray } from "./creation.ts"
import { conj, multiply, promote } from "./elementwise.ts"
import { broadcastTo, reshape } from "./shapeOps.ts"

const dotGeneral = (
  a: JArray,
  b: JArray,
  lc: ReadonlyArray<number>,
  rc: ReadonlyArray<number>,
  lb: ReadonlyArray<number> = [],
  rb: ReadonlyArray<number> = []
): JArray => bind1("dot_general", [a, b], { lhsContracting: lc, rhsContracting: rc, lhsBatch: lb, rhsBatch: rb })

/**
 * Matrix product with NumPy semantics: 1-d operands are promoted to matrices and the added axis
 * removed; leading (batch) dimensions broadcast.
 */
export const matmul = (x: ArrayLike, y: ArrayLike): JArray => {
  const [a0, b0] = promote("matmul", [x, y]) as [JArray, JArray]
  if (a0.ndim === 0 || b0.ndim === 0) {
    throw new ShapeError({
      op: "matmul",
      shapes: [a0.shape, b0.shape],
      reason: "operands must have at least one dimension; use multiply for scalars"
    })
  }
  const a = a0.ndim === 1 ? reshape(a0, [1, a0.shape[0]!]) : a0
  const b = b0.ndim === 1 ? reshape(b0, [b0.shape[0]!, 1]) : b0
  const k = a.shape[a.ndim - 1]!
  if (k !== b.shape[b.ndim - 2]) {
    throw new ShapeError({
      op: "matmul",
      shapes: [a0.shape, b0.shape],
      reason: `contraction dimensions differ (${k} vs ${b.shape[b.ndim - 2]})`
    })
  }
  let out: JArray
  if (b.ndim === 2) {
    out = dotGeneral(a, b, [a.ndim - 1], [0])
  } else {
    const batch = broadcastShapes("matmul", [a.shape.slice(0, -2), b.shape.slice(0, -2)])
    const aa = broadcastTo(a, [...batch, ...a.shape.slice(-2)])
    const bb = broadcastTo(b, [...batch, ...b.shape.slice(-2)])
    const bd = batch.map((_, i) => i)
    out = dotGeneral(aa, bb, [batch.length + 1], [batch.length], bd, bd)
  }
  if (a0.ndim === 1) out = reshape(out, [...out.shape.slice(0, -2), out.shape[out.ndim - 1]!])
  if (b0.ndim === 1) out = reshape(out, out.shape.slice(0, -1))
  return out
}

/** NumPy `dot`: scalars multiply; otherwise contracts the last axis of `x` with the second-to-last of `y`. */
export const dot = (x: ArrayLike, y: ArrayLike): JArray => {
  const [a, b] = promote("dot", [x, y]) as [JArray, JArray]
  if (a.ndim === 0 || b.ndim === 0) return multiply(a, b)
  const rc = b.ndim === 1 ? 0 : b.ndim - 2
  if (a.shape[a.ndim - 1] !== b.shape[rc]) {
    throw new ShapeError({
      op: "dot",
      shapes: [a.shape, b.shape],
      reason: `contraction dimensions differ (${a.shape[a.ndim - 1]} vs ${b.shape[rc]})`
    })
  }
  return dotGeneral(a, b, [a.ndim - 1], [rc])
}

/** Contracts `axes` (a count of trailing/leading axes, or explicit lists). */
export const tensordot = (
  x: ArrayLike,
  y: ArrayLike,
  axes: number | readonly [ReadonlyArray<number>, ReadonlyArray<number>] = 2
): JArray => {
  const [a, b] = promote("tensordot", [x, y]) as [JArray, JArray]
  const [la, lb] =
    typeof axes === "number"
      ? [Array.from({ length: axes }, (_, i) => a.ndim - axes + i), Array.from({ length: axes }, (_, i) => i)]
      : [normalizeAxes("tensordot", axes[0], a.ndim), normalizeAxes("tensordot", axes[1], b.ndim)]
  return dotGeneral(a, b, la, lb)
}

export const inner = (x: ArrayLike, y: ArrayLike): JArray => {
  const [a, b] = promote("inner", [x, y]) as [JArray, JArray]
  if (a.ndim === 0 || b.ndim === 0) return multiply(a, b)
  return dotGeneral(a, b, [a.ndim - 1], [b.ndim - 1])
}

export const outer = (x: ArrayLike, y: ArrayLike): JArray => {
  const a = reshape(asArray(x), [-1])
  const b = reshape(asArray(y), [-1])
  return multiply(reshape(a, [a.size, 1]), reshape(b, [1, b.size]))
}

/** The dot product of the flattened arrays, the first conjugated (as `jnp.vdot`). */
export const vdot = (x: ArrayLike, y: ArrayLike): JArray =>
  dot(reshape(conj(asArray(x)), [-1]), reshape(asArray(y), [-1]))
