/**
 * The wasm kernels of the primitives that ran the cpu reference kernel until now: the threefry
 * cipher under every random number, the cumulative scans, gather and scatter, sort, and the bit
 * reinterpretation `random.uniform` goes through. Kept as one table so that `kernels.ts` spreads it
 * in with one line.
 *
 * @since 0.2.0
 */
import type { WasmKernel, WasmKernelTable } from "../runtime.ts"
import { cumulativeKernel } from "./cumulative.ts"
import { gatherKernel, scatterAddKernel, scatterOverwriteKernel } from "./indexing.ts"
import { count } from "./plan.ts"
import { sortKernel } from "./sort.ts"
import { threefryKernel } from "./threefry.ts"

/**
 * bitcast_convert_type: the same 32-bit words under another dtype, copied (the output is its own
 * array; only the primitives in the backend's aliasing set share storage).
 * @category kernels
 * @since 0.2.0
 */
export const bitcastKernel: WasmKernel<"bitcast_convert_type"> = (rt, inputs, outputs, inAvals) => {
  const from = inputs[0]!
  rt.u8().copyWithin(outputs[0]!, from, from + 4 * count(inAvals[0]!.shape))
}

/**
 * The kernels, by primitive.
 * @category kernels
 * @since 0.2.0
 */
export const extraKernels: WasmKernelTable = {
  threefry2x32: threefryKernel,
  cumsum: cumulativeKernel("cumsum"),
  cumprod: cumulativeKernel("cumprod"),
  cummax: cumulativeKernel("cummax"),
  cummin: cumulativeKernel("cummin"),
  gather: gatherKernel,
  scatter: scatterOverwriteKernel,
  scatter_add: scatterAddKernel,
  sort: sortKernel,
  bitcast_convert_type: bitcastKernel
}
