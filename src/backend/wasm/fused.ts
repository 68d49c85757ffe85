/**
 * Fused programs compiled to one generated WebAssembly kernel each.
 *
 * A {@link FusedProgram} is already an elementwise plan (see `kernels/plan.ts`): its inputs carry
 * their strides over the index space, its outputs are contiguous over the space (`map`) or over the
 * kept axes (`reduce`). So it goes through the same code generator as every eager elementwise
 * primitive and reduction, which is what makes a fused kernel's results the unfused chain's, bit for
 * bit: each node computes and rounds exactly as its eager kernel does.
 *
 * @since 0.2.0
 */
import type { FusedProgram } from "../fusion.ts"
import { compilePlan } from "./kernels/elementwise.ts"
import { rowMajor } from "./kernels/plan.ts"
import type { Plan } from "./kernels/plan.ts"
import type { WasmRuntime } from "./runtime.ts"

/** A compiled fused program: runs on input addresses, writing the (allocated) output addresses. */
export type FusedRun = (inputs: ReadonlyArray<number>, outputs: ReadonlyArray<number>) => void

/** The plan of a fused program. */
export const planOf = (program: FusedProgram): Plan => {
  const contiguous = rowMajor(program.shape)
  return {
    shape: program.shape,
    inputs: program.inputs.map((i) => ({ dtype: i.dtype, strides: i.strides })),
    nodes: program.nodes,
    outputs:
      program.outputs.kind === "map"
        ? { kind: "map", results: program.outputs.nodes.map((node) => ({ node, strides: contiguous })) }
        : program.outputs
  }
}

/**
 * Compiles `program`, or answers `undefined` when it cannot run as one kernel (a node without an
 * exact wasm form, such as one on PRNG keys); `jit`'s plan then runs its primitives one by one.
 */
export const compileFused = (rt: WasmRuntime, program: FusedProgram): FusedRun | undefined => {
  const run = compilePlan(rt, planOf(program))
  return run === undefined ? undefined : (inputs, outputs) => run([...inputs, ...outputs])
}
