/**
 * The cpu reference kernels of `conv_general_dilated` and `reduce_window`: one output element at a
 * time, straight from the definitions, so that the fast kernels have something plain to agree with.
 *
 * Both walk "dilated input coordinates": an input with base (lhs) dilation `d` has its element `j` at
 * position `j * d`, padding `lo` shifts positions by `lo`, and a position between elements or outside
 * the input reads the identity (0 for a convolution and a sum, -inf/+inf or the extreme integer for
 * max/min). float32 convolutions accumulate in double and round once.
 */
import { allocHost } from "../DType.ts"
import type { DType } from "../DType.ts"
import type { ReduceWindowParams } from "../conv.ts"
import { sizeOf, stridesOf } from "../shape.ts"
import type { CpuKernel } from "./kernel.ts"

/** Index of an input element from a dilated, padded position, or -1 when it falls on a hole or outside. */
const sourceIndex = (pos: number, lo: number, dilation: number, n: number): number => {
  const q = pos - lo
  if (q < 0 || q % dilation !== 0) return -1
  const j = q / dilation
  return j < n ? j : -1
}

/** Calls `f` with each multi-index of `shape` in row-major order (the array is reused). */
const forEachIndex = (shape: ReadonlyArray<number>, f: (idx: ReadonlyArray<number>) => void): void => {
  if (shape.some((d) => d === 0)) return
  const idx = shape.map(() => 0)
  for (;;) {
    f(idx)
    let a = shape.length - 1
    while (a >= 0) {
      idx[a]!++
      if (idx[a]! < shape[a]!) break
      idx[a] = 0
      a--
    }
    if (a < 0) return
  }
}

export const convKernel: CpuKernel<"conv_general_dilated"> = ([lhs, rhs], [la, ra], [oa], p) => {
  const { lhsSpec, rhsSpec, outSpec } = p.dimensionNumbers
  const ls = stridesOf(la!.shape),
    rs = stridesOf(ra!.shape),
    os = stridesOf(oa!.shape)
  const nsp = la!.shape.length - 2
  const N = la!.shape[lhsSpec[0]!]!,
    O = ra!.shape[rhsSpec[0]!]!,
    I = ra!.shape[rhsSpec[1]!]!
  const groups = p.featureGroupCount * p.batchGroupCount
  const perGroup = O / groups
  const outN = N / p.batchGroupCount
  const inSp = lhsSpec.slice(2).map((a) => la!.shape[a]!)
  const kSp = rhsSpec.slice(2).map((a) => ra!.shape[a]!)
  const outSp = outSpec.slice(2).map((a) => oa!.shape[a]!)
  const out = allocHost(oa!.dtype, sizeOf(oa!.shape))
  const float = oa!.dtype === "float32"
  const x = lhs!,
    w = rhs!
  forEachIndex([outN, O, ...outSp], (oi) => {
    const n = oi[0]!,
      o = oi[1]!
    const g = Math.floor(o / perGroup)
    // Feature groups read their slice of lhs features; batch groups read their block of lhs examples.
    const nb = p.batchGroupCount > 1 ? g * outN + n : n
    const c0 = p.featureGroupCount > 1 ? g * I : 0
    let acc = 0
    forEachIndex(kSp, (k) => {
      let lOff = nb * ls[lhsSpec[0]!]!
      let rOff = o * rs[rhsSpec[0]!]!
      for (let d = 0; d < nsp; d++) {
        const pos = oi[2 + d]! * p.windowStrides[d]! + k[d]! * p.rhsDilation[d]!
        const j = sourceIndex(pos, p.padding[d]![0], p.lhsDilation[d]!, inSp[d]!)
        if (j < 0) return
        lOff += j * ls[lhsSpec[2 + d]!]!
        rOff += k[d]! * rs[rhsSpec[2 + d]!]!
      }
      for (let i = 0; i < I; i++) {
        const a = x[lOff + (c0 + i) * ls[lhsSpec[1]!]!]!,
          b = w[rOff + i * rs[rhsSpec[1]!]!]!
        acc = float ? acc + a * b : (acc + Math.imul(a, b)) | 0
      }
    })
    let at = n * os[outSpec[0]!]! + o * os[outSpec[1]!]!
    for (let d = 0; d < nsp; d++) at += oi[2 + d]! * os[outSpec[2 + d]!]!
    out[at] = acc
  })
  return [out]
}

/** The identity of a windowed reduction in `dtype`: where padding and holes read from. */
export const windowIdentity = (computation: ReduceWindowParams["computation"], dtype: DType): number => {
  if (computation === "add") return 0
  const high = computation === "min"
  switch (dtype) {
    case "float32":
      return high ? Infinity : -Infinity
    case "int32":
      return high ? 2147483647 : -2147483648
    case "uint32":
      return high ? 4294967295 : 0
    default:
      return high ? 1 : 0
  }
}

export const reduceWindowKernel: CpuKernel<"reduce_window"> = ([x], [xa], [oa], p) => {
  const xs = stridesOf(xa!.shape)
  const out = allocHost(oa!.dtype, sizeOf(oa!.shape))
  const init = windowIdentity(p.computation, xa!.dtype)
  const combine =
    p.computation === "add"
      ? oa!.dtype === "float32"
        ? (a: number, b: number) => a + b
        : (a: number, b: number) => (a + b) | 0
      : // NaN wins max and min, as in XLA.
        p.computation === "max"
        ? (a: number, b: number) => (b > a || b !== b ? b : a)
        : (a: number, b: number) => (b < a || b !== b ? b : a)
  const rank = xa!.shape.length
  let at = 0
  forEachIndex(oa!.shape, (oi) => {
    let acc = init
    forEachIndex(p.windowDimensions, (k) => {
      let off = 0
      for (let d = 0; d < rank; d++) {
        const j = sourceIndex(
          oi[d]! * p.windowStrides[d]! + k[d]! * p.windowDilation[d]!,
          p.padding[d]![0],
          p.baseDilation[d]!,
          xa!.shape[d]!
        )
        if (j < 0) {
          acc = combine(acc, init)
          return
        }
        off += j * xs[d]!
      }
      acc = combine(acc, x![off]!)
    })
    out[at++] = acc
  })
  return [out]
}
