/**
 * Where array data lives and kernels run. `Backend` is an Effect service whose default is the wasm
 * backend (WebAssembly SIMD kernels on every core), so code that never provides a layer still runs;
 * a layer picks another backend for a whole program: `cpu` (the reference kernels in JavaScript),
 * `gpujs`, or one chosen by `auto`.
 *
 * Array operations are synchronous, so the backend in force is also held in a dynamically scoped
 * "current backend": {@link withBackend} sets it for a synchronous block and {@link run} sets it from
 * the Effect service for the extent of a computation.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import { isArrayError } from "./ArrayError.ts"
import type { ArrayError } from "./ArrayError.ts"
import type { BackendImpl } from "./BackendImpl.ts"
import { withBackend } from "./current.ts"
import { defaultBackend } from "./wasm/default.ts"
import { cpu } from "./cpu/Cpu.ts"

export * from "./BackendImpl.ts"
export { cpu, makeCpu } from "./cpu/Cpu.ts"
export { currentBackend, withBackend } from "./current.ts"
export { defaultBackend } from "./wasm/default.ts"
export { isWasmBackend, make as makeWasm } from "./wasm/Wasm.ts"
export type { WasmBackend, WasmOptions, WasmStats } from "./wasm/Wasm.ts"

/**
 * The Backend service. Its default is the wasm backend ({@link defaultBackend}); provide a layer to
 * choose another.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backend, jnp } from "effect-nnx"
 *
 * const program = Backend.run(() => jnp.arange(3).mul(2).tolist())
 * Effect.runSync(program) // [0, 2, 4]
 * ```
 * @category services
 * @since 0.1.0
 */
export const Backend: Context.Reference<BackendImpl> = Context.Reference<BackendImpl>("effect-nnx/Backend", {
  defaultValue: () => defaultBackend()
})

/**
 * A layer that makes `backend` the Backend service.
 * @category layers
 * @since 0.1.0
 */
export const layer = (backend: BackendImpl): Layer.Layer<never> => Layer.succeed(Backend, backend)

/**
 * The cpu layer.
 * @category layers
 * @since 0.1.0
 */
export const layerCpu: Layer.Layer<never> = layer(cpu)

/**
 * Runs synchronous array code with the Backend service as the current backend. An array error thrown
 * inside becomes a typed failure; any other exception is a defect.
 * @category combinators
 * @since 0.1.0
 */
export const run = <A>(f: () => A): Effect.Effect<A, ArrayError> =>
  Effect.flatMap(Backend, (backend) =>
    Effect.suspend(() => {
      try {
        return Effect.succeed(withBackend(backend, f))
      } catch (e) {
        if (isArrayError(e)) return Effect.fail(e)
        return Effect.die(e)
      }
    })
  )
