/**
 * The cumulative scans `cumsum`, `cumprod`, `cummax` and `cummin` along any axis, either way, with
 * the cpu kernel's exact results.
 *
 * The input is viewed as `[outer, n, inner]` and every lane along the axis is scanned in order, as
 * the cpu kernel does: float32 sums and products keep their running value in double and round each
 * output from it (so `cumsum` is not a float32 prefix sum: the reference's rounding is kept), min
 * and max fold in float32 (exact, NaN-propagating, -0 below +0, as `Math.max` does), integers wrap,
 * and on bool a sum is a logical or. Lanes run side by side in vectors of four: up to sixteen
 * neighbouring columns when `inner > 1` (vector loads, a whole cache line per step, measured 2x
 * faster than four columns down a long axis), otherwise four neighbouring rows, loaded lane by lane.
 * Work is split by groups of lanes, each scanned whole by one task, so the thread count changes
 * nothing.
 *
 * @since 0.2.0
 */
import type { DType } from "../../DType.ts"
import type { CumulativePrimitive } from "../../Primitive.ts"
import type { FunctionBuilder } from "../encoder.ts"
import type { WasmKernel } from "../runtime.ts"
import { load, store, walk } from "./codegen.ts"
import { parallelThreshold } from "./elementwise.ts"
import { bytesOf } from "./plan.ts"
import { highHalf, lowHalves } from "./simd.ts"

/** How a scan folds: in double lanes (float32 sums and products) or on the stored lanes. */
interface Scan {
  readonly double: boolean
  /** The starting value: a double, an f32 or the i32 bits of the stored lanes. */
  readonly identity: number
  readonly vector: (f: FunctionBuilder) => unknown
}

/** The scan of `prim` over `dtype` as the cpu kernel computes it, or undefined where it has none. */
const scanOf = (prim: CumulativePrimitive, dtype: DType): Scan | undefined => {
  const float = dtype === "float32",
    signed = dtype === "int32"
  if (dtype === "key<fry>") return undefined
  switch (prim) {
    case "cumsum":
      if (float) return { double: true, identity: 0, vector: (f) => f.f64x2_add() }
      return dtype === "bool"
        ? { double: false, identity: 0, vector: (f) => f.v128_or() }
        : { double: false, identity: 0, vector: (f) => f.i32x4_add() }
    case "cumprod":
      // On 0/1 lanes a product is the logical and the cpu kernel computes with imul.
      return float
        ? { double: true, identity: 1, vector: (f) => f.f64x2_mul() }
        : { double: false, identity: 1, vector: (f) => f.i32x4_mul() }
    case "cummax":
      if (float) return { double: false, identity: -Infinity, vector: (f) => f.f32x4_max() }
      return signed
        ? { double: false, identity: -0x80000000, vector: (f) => f.i32x4_max_s() }
        : { double: false, identity: 0, vector: (f) => f.i32x4_max_u() }
    case "cummin":
      if (float) return { double: false, identity: Infinity, vector: (f) => f.f32x4_min() }
      return signed
        ? { double: false, identity: 0x7fffffff, vector: (f) => f.i32x4_min_s() }
        : { double: false, identity: -1, vector: (f) => f.i32x4_min_u() }
  }
}

/**
 * Lanes scanned together: sixteen neighbouring columns (a cache line of float32 per step) when the
 * axis is not the last, four rows otherwise.
 */
const widthOf = (inner: number): number => (inner > 1 ? Math.min(16, 4 * Math.ceil(inner / 4)) : 4)

/**
 * Builds `run(task, tasks, input, output)`: units of {@link widthOf} lanes, `laneStride` elements
 * apart, each scanned over `n` steps of `step` elements from its first element (its last when
 * reversed).
 */
const build = (
  f: FunctionBuilder,
  scan: Scan,
  dtype: DType,
  outer: number,
  n: number,
  inner: number,
  reverse: boolean
): void => {
  const bytes = bytesOf(dtype)
  const columns = inner > 1
  const lanes = columns ? inner : outer
  const width = widthOf(inner)
  const groups = Math.ceil(lanes / width)
  const tail = lanes - (groups - 1) * width
  const laneStride = columns ? 1 : n
  const step = (columns ? inner : 1) * bytes * (reverse ? -1 : 1)
  const start = reverse ? (n - 1) * (columns ? inner : 1) * bytes : 0
  const units = columns ? outer * groups : groups
  const lo = f.local("i32"),
    hi = f.local("i32")
  f.taskRange(units, lo, hi)
  const ptrs = [f.local("i32"), f.local("i32")]
  const src = f.local("i32"),
    dst = f.local("i32"),
    k = f.local("i32"),
    end = f.local("i32")
  const result = f.local("v128")
  const identity = () => {
    if (scan.double) f.f64x2(scan.identity)
    else if (dtype === "float32") f.f32x4(scan.identity)
    else f.i32x4(scan.identity)
  }
  /** Scans `valid` lanes from the unit's pointers, in vectors of four. */
  const group = (valid: number) => {
    const vectors = Array.from({ length: Math.ceil(valid / 4) }, (_, v) => ({
      lane: 4 * v,
      valid: Math.min(4, valid - 4 * v),
      acc: [f.local("v128"), f.local("v128")]
    }))
    f.get(ptrs[0]!).i32(start).i32_add().set(src)
    f.get(ptrs[1]!).i32(start).i32_add().set(dst)
    for (const v of vectors)
      for (const a of v.acc) {
        identity()
        f.set(a)
      }
    f.i32(n).set(end)
    f.forLoop(k, { const: 0 }, end, { const: 1 }, () => {
      for (const { lane, valid: live, acc } of vectors) {
        const x = load(f, src, dtype, laneStride, lane, live)
        if (scan.double) {
          f.get(acc[0]!).get(x).f64x2_promote_low_f32x4()
          scan.vector(f)
          f.set(acc[0]!)
          f.get(acc[1]!).get(x).get(x).shuffle(highHalf).f64x2_promote_low_f32x4()
          scan.vector(f)
          f.set(acc[1]!)
          f.get(acc[0]!).f32x4_demote_f64x2_zero().get(acc[1]!).f32x4_demote_f64x2_zero().shuffle(lowHalves).set(result)
          store(f, dst, dtype, laneStride, lane, live, result)
        } else {
          f.get(acc[0]!).get(x)
          scan.vector(f)
          f.set(acc[0]!)
          store(f, dst, dtype, laneStride, lane, live, acc[0]!)
        }
      }
      f.get(src).i32(step).i32_add().set(src)
      f.get(dst).i32(step).i32_add().set(dst)
    })
  }
  const groupBytes = width * laneStride * bytes
  const axes = columns
    ? [
        { size: outer, strides: [n * inner * bytes, n * inner * bytes] },
        { size: groups, strides: [groupBytes, groupBytes] }
      ]
    : [{ size: groups, strides: [groupBytes, groupBytes] }]
  walk(f, axes, ptrs, [2, 3], lo, hi, (idx) => {
    if (tail === width) group(width)
    else
      f.get(idx[idx.length - 1]!)
        .i32(groups - 1)
        .i32_eq()
        .if(
          () => group(tail),
          () => group(width)
        )
  })
}

/**
 * The kernel of a cumulative scan.
 * @category kernels
 * @since 0.2.0
 */
export const cumulativeKernel =
  <P extends CumulativePrimitive>(prim: P): WasmKernel<P> =>
  (rt, inputs, outputs, inAvals, _outAvals, params) => {
    const a = inAvals[0]!
    const scan = scanOf(prim, a.dtype)
    if (scan === undefined) return "fallback"
    const rank = a.shape.length
    const axis = params.axis < 0 ? params.axis + rank : params.axis
    const size = (xs: ReadonlyArray<number>) => xs.reduce((p, q) => p * q, 1)
    const outer = size(a.shape.slice(0, axis)),
      n = a.shape[axis]!,
      inner = size(a.shape.slice(axis + 1))
    if (outer * n * inner === 0) return
    const kernel = rt.kernel(`cumulative:${prim}:${a.dtype}:${outer}:${n}:${inner}:${params.reverse}`, (m) =>
      m.addFunction("run", ["i32", "i32", "i32", "i32"], [], (f) =>
        build(f, scan, a.dtype, outer, n, inner, params.reverse)
      )
    )
    const width = widthOf(inner)
    const units = inner > 1 ? outer * Math.ceil(inner / width) : Math.ceil(outer / width)
    const tasks = outer * n * inner < parallelThreshold ? 1 : Math.max(1, Math.min(rt.threads, units))
    rt.run(kernel, "run", [inputs[0]!, outputs[0]!], tasks)
  }
