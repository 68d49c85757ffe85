/**
 * The wasm `dot_general` for float32, int32, uint32 and bool: every layout of batch, free and
 * contracting axes becomes a batched product `C[b] = A[b] · B[b]`, run by the packed GEMM
 * (`gemm.ts`) or, with a single row or column, a matrix-vector kernel (`gemv.ts`).
 *
 * The plan of a product (`gemmPlan.ts`: strides, kernel, threads, blocks, scratch layout) depends only
 * on shapes, dtype and dimension numbers, so it is cached per product; a call then takes the scratch
 * region, gathers an operand if the plan says so, and runs the kernel, once per round.
 *
 * float32 accumulates in float32 (with fused multiply-adds where relaxed SIMD has them), as XLA does on
 * CPU; the cpu reference accumulates in double, so the two agree to float32 rounding scaled by K.
 * Results are identical for any number of threads.
 *
 * @since 0.2.0
 */
import { copyStrided } from "../../cpu/stridedRows.ts"
import { stridesOf } from "../../shape.ts"
import type { Aval } from "../../DType.ts"
import type { Params } from "../../Primitive.ts"
import type { WasmKernel, WasmRuntime } from "../runtime.ts"
import { buildGemm, elementBytes, gemmKey } from "./gemm.ts"
import { planDotGeneral } from "./gemmPlan.ts"
import type { DotPlan, Placement } from "./gemmPlan.ts"
import { buildGemv, gemvKey } from "./gemv.ts"
import { copy } from "./structural.ts"

/** Plans by product (a few hundred distinct products at most in a program; cleared beyond that). */
const plans = new Map<string, DotPlan | undefined>()

/** Where a placed operand is read: its input address, or `at` after gathering it there. */
const place = (rt: WasmRuntime, p: Placement, input: number, at: number, eb: number): number => {
  if (p.gather === undefined) return input
  if (eb === 4) {
    copy(rt, "int32", p.gather.shape, input, p.gather.strides, at, stridesOf(p.gather.shape))
    return at
  }
  const view = rt.u8()
  copyStrided(p.gather.shape, view, stridesOf(p.gather.shape), at, view, p.gather.strides, input)
  return at
}

/**
 * The last plan per dimension numbers object, with the avals and runtime it was made for: a jit
 * plan's steps pass the same objects on every call, which spares building the key string (a
 * noticeable part of a call over many small products).
 */
const lastPlan = new WeakMap<
  object,
  {
    readonly l: Aval
    readonly r: Aval
    readonly rt: WasmRuntime
    readonly threads: number
    readonly plan: DotPlan | undefined
  }
>()

/** The cached plan of a product (undefined: the kernels cannot run it; fall back). */
export const dotPlanFor = (rt: WasmRuntime, l: Aval, r: Aval, params: Params<"dot_general">): DotPlan | undefined => {
  const last = lastPlan.get(params)
  if (last !== undefined && last.l === l && last.r === r && last.rt === rt && last.threads === rt.threads)
    return last.plan
  const plan = plannedProduct(rt, l, r, params)
  lastPlan.set(params, { l, r, rt, threads: rt.threads, plan })
  return plan
}

const plannedProduct = (rt: WasmRuntime, l: Aval, r: Aval, params: Params<"dot_general">): DotPlan | undefined => {
  const key = `${l.dtype};${l.shape};${r.shape};${params.lhsContracting};${params.rhsContracting};${params.lhsBatch};${params.rhsBatch};${rt.threads};${rt.relaxedSimd}`
  let plan = plans.get(key)
  if (plan === undefined && !plans.has(key)) {
    if (plans.size >= 512) plans.clear()
    plan = planDotGeneral(l, r, params, rt.threads, rt.relaxedSimd)
    plans.set(key, plan)
  }
  return plan
}

/** Bytes of temporaries a plan needs (see {@link runDotPlan}'s `scratchAt`). */
export const dotScratchBytes = (plan: DotPlan): number =>
  plan.kind === "gemm" ? plan.offsets.total : plan.kind === "gemv" ? plan.shares.byteLength : 0

/**
 * Runs a planned product of the operands at byte addresses `lhs` and `rhs` into `out`. Temporaries go
 * to `scratchAt` when given (a caller that keeps its own data in the scratch region reserves
 * {@link dotScratchBytes} after it), else to the runtime's scratch region.
 */
export const runDotPlan = (
  rt: WasmRuntime,
  plan: DotPlan,
  lhs: number,
  rhs: number,
  out: number,
  scratchAt?: number
): void => {
  switch (plan.kind) {
    case "empty":
      return
    case "zeros":
      rt.u8().fill(0, out, out + plan.bytes)
      return
    case "gemv": {
      const { config, shares, strides: s } = plan
      const desc = scratchAt ?? rt.scratch(shares.byteLength)
      rt.i32().set(shares, desc / 4)
      const [x, v] = plan.xIsLhs ? [lhs, rhs] : [rhs, lhs]
      const kernel = rt.kernel(gemvKey(config), (m) => buildGemv(m, config))
      rt.run(kernel, plan.form, [desc, x, v, out, s[0], s[1], s[2], s[3], s[4], s[5], plan.K], shares.length / 6)
      return
    }
    case "gemm": {
      const { config, offsets, M, N, K, lhs: lp, rhs: rp } = plan
      const eb = elementBytes(config.element)
      const scratch = scratchAt ?? rt.scratch(offsets.total)
      const a = place(rt, lp, lhs, scratch + offsets.gatherA, eb)
      const b = place(rt, rp, rhs, scratch + offsets.gatherB, eb)
      const [sAb, sAm, sAk] = lp.strides,
        [sBb, sBk, sBn] = rp.strides
      const kernel = rt.kernel(gemmKey(config), (m) => buildGemm(m, config))
      const counter = scratch,
        flags = scratch + offsets.flags
      for (const { b0, b1, n0, n1, mc, nc, flags: flagCount } of plan.rounds) {
        rt.i32().fill(0, counter / 4, flags / 4 + flagCount)
        rt.run(
          kernel,
          "gemm",
          [
            counter,
            flags,
            a + b0 * sAb,
            sAb,
            sAm,
            sAk,
            b + b0 * sBb + n0 * sBn,
            sBb,
            sBk,
            sBn,
            scratch + offsets.packed,
            out + b0 * M * N * eb + n0 * eb,
            M * N * eb,
            N * eb,
            M,
            K,
            plan.kc,
            mc,
            nc,
            b1 - b0,
            n1 - n0,
            scratch + offsets.work,
            plan.workBytes
          ],
          plan.tasks
        )
      }
      return
    }
  }
}

export const dotGeneral: WasmKernel<"dot_general"> = (rt, inputs, outputs, inAvals, _outAvals, params) => {
  const plan = dotPlanFor(rt, inAvals[0]!, inAvals[1]!, params)
  if (plan === undefined) return "fallback"
  runDotPlan(rt, plan, inputs[0]!, inputs[1]!, outputs[0]!)
}
