/**
 * Elementwise unary kernels. Each primitive gets its own loop so V8 inlines the per-element
 * operation; float32 results are computed in double and rounded once by the Float32Array store,
 * integer results wrap by the Int32Array/Uint32Array store.
 */
import { allocHost } from "../DType.ts"
import type { HostArray } from "../DType.ts"
import type { UnaryPrimitive } from "../Primitive.ts"
import { sizeOf } from "../shape.ts"
import { erfF32, erfInvF32 } from "./erf.ts"
import type { CpuKernel } from "./kernel.ts"

type Loop = (o: HostArray, a: HostArray, n: number) => void

/** Round half away from zero; the sign of zero survives because `Math.sign(-0.3) * 0` is -0. */
const roundAway = (x: number): number => Math.sign(x) * Math.floor(Math.abs(x) + 0.5)

/** Round half to even: `Math.round` rounds halves up, so undo that on odd results of exact halves. */
const roundEven = (x: number): number => {
  const r = Math.round(x)
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r
}

// One literal per loop, never a factory: closures from one literal share V8's type feedback, which
// would turn the per-element call megamorphic.
const loops: {
  readonly [K in Exclude<UnaryPrimitive, "not"> | "not_bool" | "not_int" | "round_away" | "round_even"]: Loop
} = {
  neg: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = -a[i]!
  },
  exp: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.exp(a[i]!)
  },
  log: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.log(a[i]!)
  },
  sin: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.sin(a[i]!)
  },
  cos: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.cos(a[i]!)
  },
  tanh: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.tanh(a[i]!)
  },
  logistic: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = 1 / (1 + Math.exp(-a[i]!))
  },
  sqrt: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.sqrt(a[i]!)
  },
  rsqrt: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = 1 / Math.sqrt(a[i]!)
  },
  // Math.abs(-2^31) is 2^31, which the Int32Array store wraps back to INT_MIN, as XLA does.
  abs: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.abs(a[i]!)
  },
  sign: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.sign(a[i]!)
  },
  floor: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.floor(a[i]!)
  },
  ceil: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.ceil(a[i]!)
  },
  round_away: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = roundAway(a[i]!)
  },
  round_even: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = roundEven(a[i]!)
  },
  erf: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = erfF32(a[i]!)
  },
  erf_inv: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = erfInvF32(a[i]!)
  },
  log1p: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.log1p(a[i]!)
  },
  expm1: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = Math.expm1(a[i]!)
  },
  not_bool: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = a[i]! === 0 ? 1 : 0
  },
  not_int: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = ~a[i]!
  },
  is_finite: (o, a, n) => {
    for (let i = 0; i < n; i++) o[i] = Number.isFinite(a[i]!) ? 1 : 0
  }
}

const run = (loop: Loop, input: HostArray, outDtype: Parameters<typeof allocHost>[0], n: number): Array<HostArray> => {
  const out = allocHost(outDtype, n)
  loop(out, input, n)
  return [out]
}

/** The kernel of a unary primitive other than `not`, whose loop depends on the dtype. */
export const unaryKernel = <P extends Exclude<UnaryPrimitive, "not">>(prim: P): CpuKernel<P> => {
  const loop = loops[prim]
  return (inputs, _inAvals, outAvals) => {
    const out = outAvals[0]!
    return run(loop, inputs[0]!, out.dtype, sizeOf(out.shape))
  }
}

/** Logical not for bool, bitwise not for integers. */
export const notKernel: CpuKernel<"not"> = (inputs, inAvals, outAvals) => {
  const out = outAvals[0]!
  return run(inAvals[0]!.dtype === "bool" ? loops.not_bool : loops.not_int, inputs[0]!, out.dtype, sizeOf(out.shape))
}

export const roundKernel: CpuKernel<"round"> = (inputs, _inAvals, outAvals, params) => {
  const out = outAvals[0]!
  const loop = params.method === "toNearestEven" ? loops.round_even : loops.round_away
  return run(loop, inputs[0]!, out.dtype, sizeOf(out.shape))
}
