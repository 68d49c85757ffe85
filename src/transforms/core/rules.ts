/**
 * The rule types each transform needs per primitive. Every table is total over its primitives, so
 * a primitive without a rule does not compile.
 */
import type { Array as JArray } from "../../backend/Array.ts"
import type { FirstOrderPrimitive, HigherOrderPrimitive, Params, Primitive } from "../../backend/Primitive.ts"

/** Where a batched value's batch axis is, or `null` for a value shared by the whole batch. */
export type BatchDim = number | null

/**
 * Batching: given operands with their batch axes, compute the batched outputs and where their batch
 * axes are, with a constant number of primitive applications (never a loop over the batch).
 */
export type BatchRule<P extends Primitive> = (
  vals: ReadonlyArray<JArray>,
  dims: ReadonlyArray<BatchDim>,
  params: Params<P>,
  axisSize: number
) => readonly [ReadonlyArray<JArray>, ReadonlyArray<BatchDim>]

/**
 * Forward mode: primal outputs and their tangents from primal inputs and tangents. `null` is a
 * symbolic zero tangent (integer and boolean values always have one).
 */
export type JvpRule<P extends Primitive> = (
  primals: ReadonlyArray<JArray>,
  tangents: ReadonlyArray<JArray | null>,
  params: Params<P>
) => readonly [ReadonlyArray<JArray>, ReadonlyArray<JArray | null>]

/**
 * Reverse mode: cotangents of the inputs from the primal inputs and outputs and the outputs'
 * cotangents (`null`: zero). Only inputs with `needs[i]` must get a cotangent; `null` means zero.
 */
export type VjpRule<P extends Primitive> = (
  primals: ReadonlyArray<JArray>,
  outputs: ReadonlyArray<JArray>,
  cotangents: ReadonlyArray<JArray | null>,
  params: Params<P>,
  needs: ReadonlyArray<boolean>
) => ReadonlyArray<JArray | null>

export type FirstOrderTable<R extends { [P in Primitive]: unknown }> = { readonly [P in FirstOrderPrimitive]: R[P] }
export type HigherOrderTable<R extends { [P in Primitive]: unknown }> = { readonly [P in HigherOrderPrimitive]: R[P] }

export type BatchRules = { readonly [P in Primitive]: BatchRule<P> }
export type JvpRules = { readonly [P in Primitive]: JvpRule<P> }
export type VjpRules = { readonly [P in Primitive]: VjpRule<P> }
