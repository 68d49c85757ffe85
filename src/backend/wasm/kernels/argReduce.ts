/**
 * argmax and argmin: the first index of the extreme along one axis, a NaN counting as the extreme
 * (the first NaN wins and nothing replaces it), as the cpu kernel scans.
 *
 * The input is viewed as `[outer, n, inner]`. With `inner > 1` the lanes are four neighbouring
 * outputs, each scanning its column in order and keeping `(best, index)`; a lane takes a new element
 * only when it is strictly better (or the first NaN), so ties keep the first index. With `inner = 1`
 * lane j scans elements j, j + 4, ... the same way, and the four lanes are merged at the end by value,
 * then by the smaller index, which picks what one sequential scan would.
 *
 * @since 0.2.0
 */
import type { DType } from "../../DType.ts"
import type { FunctionBuilder } from "../encoder.ts"
import type { WasmKernel } from "../runtime.ts"
import { load, store, walk } from "./codegen.ts"
import { parallelThreshold } from "./elementwise.ts"
import { bytesOf } from "./plan.ts"

type Compare = (f: FunctionBuilder) => unknown

/** Lane compares `v better than b` and scalar ones, per dtype. */
const comparisons = (dtype: DType, max: boolean): { readonly lanes: Compare; readonly scalar: Compare } => {
  switch (dtype) {
    case "float32":
      return max
        ? { lanes: (f) => f.f32x4_gt(), scalar: (f) => f.f32_gt() }
        : { lanes: (f) => f.f32x4_lt(), scalar: (f) => f.f32_lt() }
    case "int32":
      return max
        ? { lanes: (f) => f.i32x4_gt_s(), scalar: (f) => f.i32_gt_s() }
        : { lanes: (f) => f.i32x4_lt_s(), scalar: (f) => f.i32_lt_s() }
    default:
      return max
        ? { lanes: (f) => f.i32x4_gt_u(), scalar: (f) => f.i32_gt_u() }
        : { lanes: (f) => f.i32x4_lt_u(), scalar: (f) => f.i32_lt_u() }
  }
}

/** Builds `run(task, tasks, input, output)` over `[outer, n, inner]`. */
const build = (f: FunctionBuilder, dtype: DType, max: boolean, outer: number, n: number, inner: number): void => {
  const bytes = bytesOf(dtype)
  const float = dtype === "float32"
  const cmp = comparisons(dtype, max)
  const blocks = Math.ceil(inner / 4)
  const units = inner > 1 ? outer * blocks : outer
  const lo = f.local("i32"),
    hi = f.local("i32")
  f.taskRange(units, lo, hi)
  const ptrs = [f.local("i32"), f.local("i32")]
  const best = f.local("v128"),
    index = f.local("v128"),
    k = f.local("v128"),
    take = f.local("v128")
  const at = f.local("i32")
  /** take = (v better than best, or v the first NaN) and best not NaN, within `valid` lanes. */
  const update = (v: number, valid: number) => {
    f.get(v).get(best)
    cmp.lanes(f)
    if (float) f.get(v).get(v).f32x4_ne().v128_or().get(best).get(best).f32x4_ne().v128_andnot()
    if (valid < 4) f.i32x4(valid > 0 ? -1 : 0, valid > 1 ? -1 : 0, valid > 2 ? -1 : 0, 0).v128_and()
    f.set(take)
    f.get(v).get(best).get(take).v128_bitselect().set(best)
    f.get(k).get(index).get(take).v128_bitselect().set(index)
  }
  if (inner > 1) {
    const tail = inner - (blocks - 1) * 4
    const column = (valid: number) => {
      f.get(ptrs[0]!).set(at)
      f.i32x4(0).set(k)
      const first = load(f, at, dtype, 1, 0, valid)
      f.get(first).set(best)
      f.i32x4(0).set(index)
      const step = f.local("i32"),
        end = f.local("i32")
      f.i32(n).set(end)
      f.forLoop(step, { const: 1 }, end, { const: 1 }, () => {
        f.get(at)
          .i32(inner * bytes)
          .i32_add()
          .set(at)
        f.get(k).i32x4(1).i32x4_add().set(k)
        update(load(f, at, dtype, 1, 0, valid), 4)
      })
      store(f, ptrs[1]!, "int32", 1, 0, valid, index)
    }
    const axes = [
      { size: outer, strides: [n * inner * bytes, inner * 4] },
      { size: blocks, strides: [4 * bytes, 16] }
    ]
    walk(f, axes, ptrs, [2, 3], lo, hi, (idx) => {
      if (tail === 4) column(4)
      else
        f.get(idx[1]!)
          .i32(blocks - 1)
          .i32_eq()
          .if(
            () => column(tail),
            () => column(4)
          )
    })
    return
  }
  // inner = 1: lanes along the axis, merged at the end.
  const B = f.local(float ? "f32" : "i32"),
    I = f.local("i32"),
    v = f.local(float ? "f32" : "i32"),
    j = f.local("i32")
  walk(f, [{ size: outer, strides: [n * bytes, 4] }], ptrs, [2, 3], lo, hi, () => {
    const firstValid = Math.min(4, n)
    f.get(ptrs[0]!).set(at)
    f.get(load(f, at, dtype, 1, 0, firstValid)).set(best)
    f.i32x4(0, 1, 2, 3).set(index).i32x4(0, 1, 2, 3).set(k)
    const full = Math.floor(n / 4)
    if (full > 1) {
      const step = f.local("i32"),
        end = f.local("i32")
      f.i32(full).set(end)
      f.forLoop(step, { const: 1 }, end, { const: 1 }, () => {
        f.get(at)
          .i32(4 * bytes)
          .i32_add()
          .set(at)
        f.get(k).i32x4(4).i32x4_add().set(k)
        update(load(f, at, dtype, 1, 0, 4), 4)
      })
    }
    if (n > 4 && n % 4 !== 0) {
      f.get(at)
        .i32(4 * bytes)
        .i32_add()
        .set(at)
      f.get(k).i32x4(4).i32x4_add().set(k)
      update(load(f, at, dtype, 1, 0, n % 4), n % 4)
    }
    // Merge lanes 1 .. 3 into lane 0 in scalar code: NaN first, then value, then the smaller index.
    const extract = (lane: number) =>
      float ? f.get(best).f32x4_extract_lane(lane) : f.get(best).i32x4_extract_lane(lane)
    extract(0)
    f.set(B)
    f.get(index).i32x4_extract_lane(0).set(I)
    for (let lane = 1; lane < firstValid; lane++) {
      extract(lane)
      f.set(v)
      f.get(index).i32x4_extract_lane(lane).set(j)
      // better = v > B, or equal with a smaller index; for floats a NaN beats a number, and NaNs order by index.
      f.get(v).get(B)
      cmp.scalar(f)
      f.get(v).get(B)
      if (float) f.f32_eq()
      else f.i32_eq()
      f.get(j).get(I).i32_lt_s().i32_and().i32_or()
      if (float) {
        const vNaN = () => f.get(v).get(v).f32_ne()
        const bNaN = () => f.get(B).get(B).f32_ne()
        // numbers: better and B is not NaN; NaN: v is NaN and (B is not NaN or j < I).
        bNaN()
        f.i32_eqz().i32_and()
        vNaN()
        bNaN()
        f.i32_eqz().get(j).get(I).i32_lt_s().i32_or().i32_and().i32_or()
      }
      f.if(() => {
        f.get(v).set(B).get(j).set(I)
      })
    }
    f.get(ptrs[1]!).get(I).i32_store()
  })
}

/**
 * The kernel of argmax or argmin.
 * @category kernels
 * @since 0.2.0
 */
export const argKernel =
  <P extends "argmax" | "argmin">(prim: P): WasmKernel<P> =>
  (rt, inputs, outputs, inAvals, _outAvals, params) => {
    const a = inAvals[0]!
    if (a.dtype === "key<fry>") return "fallback"
    const rank = a.shape.length
    const axis = params.axis < 0 ? params.axis + rank : params.axis
    const size = (xs: ReadonlyArray<number>) => xs.reduce((p, q) => p * q, 1)
    const outer = size(a.shape.slice(0, axis)),
      n = a.shape[axis]!,
      inner = size(a.shape.slice(axis + 1))
    if (outer * inner === 0) return
    const kernel = rt.kernel(`arg:${prim}:${a.dtype}:${outer}:${n}:${inner}`, (m) =>
      m.addFunction("run", ["i32", "i32", "i32", "i32"], [], (f) =>
        build(f, a.dtype, prim === "argmax", outer, n, inner)
      )
    )
    const total = outer * n * inner
    const units = inner > 1 ? outer * Math.ceil(inner / 4) : outer
    const tasks = total < parallelThreshold ? 1 : Math.max(1, Math.min(rt.threads, units))
    rt.run(kernel, "run", [inputs[0]!, outputs[0]!], tasks)
  }
