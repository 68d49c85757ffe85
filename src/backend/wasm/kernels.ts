/**
 * The wasm kernels by primitive. A primitive missing here runs the cpu reference kernel on views of
 * the WebAssembly memory, counted as a fallback (see docs/engine.md for the coverage).
 *
 * @since 0.2.0
 */
import { argKernel } from "./kernels/argReduce.ts"
import { convKernel, reduceWindowKernel } from "./kernels/conv.ts"
import { dotGeneral } from "./kernels/dotGeneral.ts"
import { binaryKernel, convertKernel, roundKernel, selectKernel, unaryKernel } from "./kernels/elementwise.ts"
import { extraKernels } from "./kernels/extra.ts"
import { reduceKernel } from "./kernels/reduce.ts"
import {
  broadcastInDimKernel,
  concatenateKernel,
  dynamicSliceKernel,
  dynamicUpdateSliceKernel,
  iotaKernel,
  padKernel,
  sliceKernel,
  transposeKernel
} from "./kernels/structural.ts"
import type { WasmKernelTable } from "./runtime.ts"

export const wasmKernels: WasmKernelTable = {
  // Elementwise and reductions (kernels/elementwise.ts, kernels/reduce.ts): keys fall back.
  neg: unaryKernel("neg"),
  exp: unaryKernel("exp"),
  log: unaryKernel("log"),
  sin: unaryKernel("sin"),
  cos: unaryKernel("cos"),
  tanh: unaryKernel("tanh"),
  logistic: unaryKernel("logistic"),
  sqrt: unaryKernel("sqrt"),
  rsqrt: unaryKernel("rsqrt"),
  abs: unaryKernel("abs"),
  sign: unaryKernel("sign"),
  floor: unaryKernel("floor"),
  ceil: unaryKernel("ceil"),
  erf: unaryKernel("erf"),
  erf_inv: unaryKernel("erf_inv"),
  log1p: unaryKernel("log1p"),
  expm1: unaryKernel("expm1"),
  not: unaryKernel("not"),
  is_finite: unaryKernel("is_finite"),
  round: roundKernel,
  add: binaryKernel("add"),
  sub: binaryKernel("sub"),
  mul: binaryKernel("mul"),
  div: binaryKernel("div"),
  rem: binaryKernel("rem"),
  pow: binaryKernel("pow"),
  max: binaryKernel("max"),
  min: binaryKernel("min"),
  and: binaryKernel("and"),
  or: binaryKernel("or"),
  xor: binaryKernel("xor"),
  shift_left: binaryKernel("shift_left"),
  shift_right_logical: binaryKernel("shift_right_logical"),
  shift_right_arithmetic: binaryKernel("shift_right_arithmetic"),
  nextafter: binaryKernel("nextafter"),
  atan2: binaryKernel("atan2"),
  eq: binaryKernel("eq"),
  ne: binaryKernel("ne"),
  lt: binaryKernel("lt"),
  le: binaryKernel("le"),
  gt: binaryKernel("gt"),
  ge: binaryKernel("ge"),
  select: selectKernel,
  convert_element_type: convertKernel,
  reduce_sum: reduceKernel("reduce_sum"),
  reduce_max: reduceKernel("reduce_max"),
  reduce_min: reduceKernel("reduce_min"),
  reduce_prod: reduceKernel("reduce_prod"),
  reduce_and: reduceKernel("reduce_and"),
  reduce_or: reduceKernel("reduce_or"),
  argmax: argKernel("argmax"),
  argmin: argKernel("argmin"),
  // Copies (kernels/structural.ts), keys included.
  broadcast_in_dim: broadcastInDimKernel,
  transpose: transposeKernel,
  slice: sliceKernel,
  dynamic_slice: dynamicSliceKernel,
  dynamic_update_slice: dynamicUpdateSliceKernel,
  concatenate: concatenateKernel,
  pad: padKernel,
  iota: iotaKernel,
  dot_general: dotGeneral,
  conv_general_dilated: convKernel,
  reduce_window: reduceWindowKernel,
  // threefry2x32, cumulative ops, gather/scatter, sort, bitcast (kernels/extra.ts).
  ...extraKernels
}
