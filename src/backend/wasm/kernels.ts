/**
 * The wasm kernels by primitive. A primitive missing here runs the cpu reference kernel on views of
 * the WebAssembly memory, counted as a fallback (see docs/engine.md for the coverage).
 *
 * @since 0.2.0
 */
import type { WasmKernelTable } from "./runtime.ts"

export const wasmKernels: WasmKernelTable = {}
