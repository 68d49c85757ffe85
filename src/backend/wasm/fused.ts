/**
 * Fused programs compiled to one generated WebAssembly kernel each.
 *
 * @since 0.2.0
 */
import type { FusedProgram } from "../fusion.ts"
import type { WasmRuntime } from "./runtime.ts"

/** A compiled fused program: runs on input addresses, writing the (allocated) output addresses. */
export type FusedRun = (inputs: ReadonlyArray<number>, outputs: ReadonlyArray<number>) => void

/** Compiles `program`, or answers `undefined` when it cannot run as one kernel. */
export const compileFused = (_rt: WasmRuntime, _program: FusedProgram): FusedRun | undefined => undefined
