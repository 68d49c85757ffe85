/**
 * The shape of a CPU kernel: typed-array inputs in, typed-array outputs out. Inputs are never
 * mutated (arrays are immutable and may share storage); outputs are freshly allocated unless the
 * kernel only reinterprets its input (reshape), in which case it may return the input itself.
 */
import type { Aval, HostArray } from "../DType.ts"
import type { FirstOrderPrimitive, Params, Primitive } from "../Primitive.ts"

export type CpuKernel<P extends Primitive> = (
  inputs: ReadonlyArray<HostArray>,
  inAvals: ReadonlyArray<Aval>,
  outAvals: ReadonlyArray<Aval>,
  params: Params<P>
) => Array<HostArray>

export type CpuKernelTable = { readonly [P in FirstOrderPrimitive]: CpuKernel<P> }
