/**
 * The process-wide wasm backend, made on first use (its memory and worker threads cost nothing until
 * then).
 *
 * @since 0.2.0
 */
import type { WasmBackend } from "./Wasm.ts"
import { make } from "./Wasm.ts"

let instance: WasmBackend | undefined

/**
 * The default backend: one wasm backend per process (or worker), with the machine's cores.
 * @category instances
 * @since 0.2.0
 */
export const defaultBackend = (): WasmBackend => (instance ??= make())
