/**
 * The CPU reference backend: one kernel per primitive, matching XLA's CPU results with 64-bit mode
 * off. The table is total over {@link Primitive}, so a new primitive without a kernel does not compile.
 *
 * @since 0.1.0
 */
import { convKernel, reduceWindowKernel } from "./conv.ts"
import { binaryKernel, selectKernel } from "./binary.ts"
import {
  complexBinaryKernel,
  complexCumulativeKernel,
  complexDotGeneralKernel,
  complexFromPartsKernel,
  complexPadKernel,
  complexReduceKernel,
  complexSelectKernel,
  complexToRealKernel,
  complexUnaryKernel,
  withComplex
} from "./complex.ts"
import { eigKernel } from "./eig.ts"
import { fftKernel } from "./fft.ts"
import { bitcastConvertTypeKernel, convertElementTypeKernel } from "./convert.ts"
import { dotGeneralKernel } from "./dotGeneral.ts"
import { gatherKernel, scatterAddKernel, scatterKernel } from "./indexing.ts"
import type { CpuKernelTable } from "./kernel.ts"
import { argKernel, cumulativeKernel, reduceKernel } from "./reduce.ts"
import { sortKernel } from "./sort.ts"
import {
  broadcastInDimKernel,
  concatenateKernel,
  dynamicSliceKernel,
  dynamicUpdateSliceKernel,
  identityKernel,
  iotaKernel,
  padKernel,
  sliceKernel,
  transposeKernel
} from "./structural.ts"
import { threefry2x32Kernel } from "./threefry.ts"
import { notKernel, roundKernel, unaryKernel } from "./unary.ts"

/**
 * Kernels by primitive.
 * @category backends
 * @since 0.1.0
 */
export const cpuKernels: CpuKernelTable = {
  neg: withComplex(unaryKernel("neg"), complexUnaryKernel("neg")),
  exp: withComplex(unaryKernel("exp"), complexUnaryKernel("exp")),
  log: withComplex(unaryKernel("log"), complexUnaryKernel("log")),
  sin: withComplex(unaryKernel("sin"), complexUnaryKernel("sin")),
  cos: withComplex(unaryKernel("cos"), complexUnaryKernel("cos")),
  tanh: withComplex(unaryKernel("tanh"), complexUnaryKernel("tanh")),
  logistic: withComplex(unaryKernel("logistic"), complexUnaryKernel("logistic")),
  sqrt: withComplex(unaryKernel("sqrt"), complexUnaryKernel("sqrt")),
  rsqrt: withComplex(unaryKernel("rsqrt"), complexUnaryKernel("rsqrt")),
  abs: withComplex(unaryKernel("abs"), complexToRealKernel("abs")),
  sign: withComplex(unaryKernel("sign"), complexUnaryKernel("sign")),
  floor: unaryKernel("floor"),
  ceil: unaryKernel("ceil"),
  erf: unaryKernel("erf"),
  erf_inv: unaryKernel("erf_inv"),
  log1p: withComplex(unaryKernel("log1p"), complexUnaryKernel("log1p")),
  expm1: withComplex(unaryKernel("expm1"), complexUnaryKernel("expm1")),
  is_finite: unaryKernel("is_finite"),
  not: notKernel,
  round: roundKernel,

  add: withComplex(binaryKernel("add"), complexBinaryKernel("add")),
  sub: withComplex(binaryKernel("sub"), complexBinaryKernel("sub")),
  mul: withComplex(binaryKernel("mul"), complexBinaryKernel("mul")),
  div: withComplex(binaryKernel("div"), complexBinaryKernel("div")),
  rem: binaryKernel("rem"),
  pow: binaryKernel("pow"),
  max: withComplex(binaryKernel("max"), complexBinaryKernel("max")),
  min: withComplex(binaryKernel("min"), complexBinaryKernel("min")),
  and: binaryKernel("and"),
  or: binaryKernel("or"),
  xor: binaryKernel("xor"),
  shift_left: binaryKernel("shift_left"),
  shift_right_logical: binaryKernel("shift_right_logical"),
  shift_right_arithmetic: binaryKernel("shift_right_arithmetic"),
  nextafter: binaryKernel("nextafter"),
  atan2: binaryKernel("atan2"),
  eq: withComplex(binaryKernel("eq"), complexBinaryKernel("eq")),
  ne: withComplex(binaryKernel("ne"), complexBinaryKernel("ne")),
  lt: withComplex(binaryKernel("lt"), complexBinaryKernel("lt")),
  le: withComplex(binaryKernel("le"), complexBinaryKernel("le")),
  gt: withComplex(binaryKernel("gt"), complexBinaryKernel("gt")),
  ge: withComplex(binaryKernel("ge"), complexBinaryKernel("ge")),
  select: withComplex(selectKernel, complexSelectKernel),

  real: complexToRealKernel("real"),
  imag: complexToRealKernel("imag"),
  conj: complexUnaryKernel("conj"),
  complex: complexFromPartsKernel,
  fft: fftKernel,
  eig: eigKernel,

  convert_element_type: convertElementTypeKernel,
  bitcast_convert_type: bitcastConvertTypeKernel,

  reduce_sum: withComplex(reduceKernel("reduce_sum"), complexReduceKernel("reduce_sum")),
  reduce_max: reduceKernel("reduce_max"),
  reduce_min: reduceKernel("reduce_min"),
  reduce_prod: withComplex(reduceKernel("reduce_prod"), complexReduceKernel("reduce_prod")),
  reduce_and: reduceKernel("reduce_and"),
  reduce_or: reduceKernel("reduce_or"),
  argmax: argKernel("argmax"),
  argmin: argKernel("argmin"),
  cumsum: withComplex(cumulativeKernel("cumsum"), complexCumulativeKernel("cumsum")),
  cumprod: withComplex(cumulativeKernel("cumprod"), complexCumulativeKernel("cumprod")),
  cummax: cumulativeKernel("cummax"),
  cummin: cumulativeKernel("cummin"),

  broadcast_in_dim: broadcastInDimKernel,
  reshape: identityKernel(),
  squeeze: identityKernel(),
  expand_dims: identityKernel(),
  transpose: transposeKernel,
  slice: sliceKernel,
  dynamic_slice: dynamicSliceKernel,
  dynamic_update_slice: dynamicUpdateSliceKernel,
  concatenate: concatenateKernel,
  pad: withComplex(padKernel, complexPadKernel),
  iota: iotaKernel,
  random_wrap: identityKernel(),
  random_unwrap: identityKernel(),
  stop_gradient: identityKernel(),

  gather: gatherKernel,
  scatter: scatterKernel,
  scatter_add: scatterAddKernel,
  dot_general: withComplex(dotGeneralKernel, complexDotGeneralKernel),
  conv_general_dilated: convKernel,
  reduce_window: reduceWindowKernel,
  sort: sortKernel,
  threefry2x32: threefry2x32Kernel
}
