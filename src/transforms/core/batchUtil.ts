/** Helpers shared by batching rules: moving and materialising batch axes. */
import type { Array as JArray } from "../../backend/Array.ts"
import { bind1 } from "../../backend/bind.ts"
import type { BatchDim } from "./rules.ts"

/** Moves axis `from` of `x` to position `to`. */
export const moveAxis = (x: JArray, from: number, to: number): JArray => {
  if (from === to) return x
  const perm = x.shape.map((_, i) => i).filter((i) => i !== from)
  perm.splice(to, 0, from)
  return bind1("transpose", [x], { permutation: perm })
}

/** Puts the batch axis first; an unbatched value is broadcast to the batch size. */
export const toFront = (x: JArray, d: BatchDim, size: number): JArray => {
  if (d === null) {
    return bind1("broadcast_in_dim", [x], {
      shape: [size, ...x.shape],
      broadcastDimensions: x.shape.map((_, i) => i + 1)
    })
  }
  return moveAxis(x, d, 0)
}

/** Puts the batch axis first, or adds a leading axis of size 1 to an unbatched value (for size-1 broadcasting). */
export const toFrontOrUnit = (x: JArray, d: BatchDim): JArray =>
  d === null ? bind1("expand_dims", [x], { dimensions: [0] }) : moveAxis(x, d, 0)

/** Moves the batch axis to `to`, broadcasting an unbatched value. */
export const toAxis = (x: JArray, d: BatchDim, to: number, size: number): JArray => moveAxis(toFront(x, d, size), 0, to)
