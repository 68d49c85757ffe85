/**
 * The CPU reference backend: one kernel per primitive, matching XLA's CPU results with 64-bit mode
 * off. The table is total over {@link Primitive}, so a new primitive without a kernel does not compile.
 *
 * @since 0.1.0
 */
import { convKernel, reduceWindowKernel } from "./conv.ts"
import { binaryKernel, selectKernel } from "./binary.ts"
import { bitcastConvertTypeKernel, convertElementTypeKernel } from "./convert.ts"
import { dotGeneralKernel } from "./dotGeneral.ts"
import { gatherKernel, scatterAddKernel, scatterKernel } from "./indexing.ts"
import type { CpuKernelTable } from "./kernel.ts"
import { argKernel, cumulativeKernel, reduceKernel } from "./reduce.ts"
import { sortKernel } from "./sort.ts"
import {
  broadcastInDimKernel, concatenateKernel, dynamicSliceKernel, dynamicUpdateSliceKernel, identityKernel, iotaKernel,
  padKernel, sliceKernel, transposeKernel
} from "./structural.ts"
import { threefry2x32Kernel } from "./threefry.ts"
import { notKernel, roundKernel, unaryKernel } from "./unary.ts"

/**
 * Kernels by primitive.
 * @category backends
 * @since 0.1.0
 */
export const cpuKernels: CpuKernelTable = {
  neg: unaryKernel("neg"), exp: unaryKernel("exp"), log: unaryKernel("log"), sin: unaryKernel("sin"),
  cos: unaryKernel("cos"), tanh: unaryKernel("tanh"), logistic: unaryKernel("logistic"), sqrt: unaryKernel("sqrt"),
  rsqrt: unaryKernel("rsqrt"), abs: unaryKernel("abs"), sign: unaryKernel("sign"), floor: unaryKernel("floor"),
  ceil: unaryKernel("ceil"), erf: unaryKernel("erf"), erf_inv: unaryKernel("erf_inv"), log1p: unaryKernel("log1p"),
  expm1: unaryKernel("expm1"), is_finite: unaryKernel("is_finite"), not: notKernel, round: roundKernel,

  add: binaryKernel("add"), sub: binaryKernel("sub"), mul: binaryKernel("mul"), div: binaryKernel("div"),
  rem: binaryKernel("rem"), pow: binaryKernel("pow"), max: binaryKernel("max"), min: binaryKernel("min"),
  and: binaryKernel("and"), or: binaryKernel("or"), xor: binaryKernel("xor"), shift_left: binaryKernel("shift_left"),
  shift_right_logical: binaryKernel("shift_right_logical"), shift_right_arithmetic: binaryKernel("shift_right_arithmetic"),
  nextafter: binaryKernel("nextafter"), atan2: binaryKernel("atan2"),
  eq: binaryKernel("eq"), ne: binaryKernel("ne"), lt: binaryKernel("lt"), le: binaryKernel("le"),
  gt: binaryKernel("gt"), ge: binaryKernel("ge"),
  select: selectKernel,

  convert_element_type: convertElementTypeKernel,
  bitcast_convert_type: bitcastConvertTypeKernel,

  reduce_sum: reduceKernel("reduce_sum"), reduce_max: reduceKernel("reduce_max"), reduce_min: reduceKernel("reduce_min"),
  reduce_prod: reduceKernel("reduce_prod"), reduce_and: reduceKernel("reduce_and"), reduce_or: reduceKernel("reduce_or"),
  argmax: argKernel("argmax"), argmin: argKernel("argmin"),
  cumsum: cumulativeKernel("cumsum"), cumprod: cumulativeKernel("cumprod"),
  cummax: cumulativeKernel("cummax"), cummin: cumulativeKernel("cummin"),

  broadcast_in_dim: broadcastInDimKernel,
  reshape: identityKernel(), squeeze: identityKernel(), expand_dims: identityKernel(),
  transpose: transposeKernel,
  slice: sliceKernel,
  dynamic_slice: dynamicSliceKernel,
  dynamic_update_slice: dynamicUpdateSliceKernel,
  concatenate: concatenateKernel,
  pad: padKernel,
  iota: iotaKernel,
  random_wrap: identityKernel(), random_unwrap: identityKernel(), stop_gradient: identityKernel(),

  gather: gatherKernel, scatter: scatterKernel, scatter_add: scatterAddKernel,
  dot_general: dotGeneralKernel,
  conv_general_dilated: convKernel,
  reduce_window: reduceWindowKernel,
  sort: sortKernel,
  threefry2x32: threefry2x32Kernel
}
