/**
 * Host arrays and direct calls of the cpu reference kernels (src/backend/cpu), for the suites that
 * test the kernels themselves whichever backend the vitest project makes the default.
 */
import { allocHost, aval } from "../../src/backend/DType.ts"
import type { DType, HostArray } from "../../src/backend/DType.ts"
import { cpuKernels } from "../../src/backend/cpu/kernels.ts"
import { abstractEval } from "../../src/backend/Primitive.ts"
import type { FirstOrderPrimitive, Params } from "../../src/backend/Primitive.ts"
import { sizeOf } from "../../src/backend/shape.ts"

/** A kernel operand or result: storage words, shape and dtype. */
export interface Arr {
  readonly data: HostArray
  readonly shape: ReadonlyArray<number>
  readonly dtype: DType
}

/** `values` are storage words: two per complex64 or key element. */
export const arr = (dtype: DType, shape: ReadonlyArray<number>, values: ArrayLike<number>): Arr => {
  const data = allocHost(dtype, sizeOf(shape))
  data.set(Array.from(values))
  return { data, shape, dtype }
}

/** Runs a primitive through the kernel table, with output avals from shape inference. */
export const callAll = <P extends FirstOrderPrimitive>(
  prim: P,
  params: Params<P>,
  ...xs: ReadonlyArray<Arr>
): Array<Arr> => {
  const inAvals = xs.map((x) => aval(x.shape, x.dtype))
  const outAvals = abstractEval[prim](inAvals, params)
  const outs = cpuKernels[prim](
    xs.map((x) => x.data),
    inAvals,
    outAvals,
    params
  )
  return outs.map((data, i) => ({ data, shape: outAvals[i]!.shape, dtype: outAvals[i]!.dtype }))
}

/** The first result of {@link callAll}. */
export const call = <P extends FirstOrderPrimitive>(prim: P, params: Params<P>, ...xs: ReadonlyArray<Arr>): Arr =>
  callAll(prim, params, ...xs)[0]!
