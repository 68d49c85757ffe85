/**
 * Backend selection: gpu.js where it starts on a GPU, the wasm backend otherwise, saying which was chosen.
 *
 * @since 0.1.0
 */
import { Effect, Layer } from "effect"
import { Backend } from "./Backend.ts"
import type { BackendImpl } from "./BackendImpl.ts"
import { defaultBackend } from "./wasm/default.ts"
import type { GpujsOptions, GpuMode } from "./gpujs/Gpujs.ts"
import { isGpujsBackend, make as makeGpujs } from "./gpujs/Gpujs.ts"
import type { GpuUnavailableError } from "./gpujs/GpujsError.ts"

/**
 * What {@link auto} chose and why.
 * @category models
 * @since 0.1.0
 */
export interface Selection {
  readonly backend: BackendImpl
  /** `"gpujs:<mode>"` or `"wasm"`. */
  readonly chosen: string
  /** Why gpu.js was not used, when it was not. */
  readonly reason: string | undefined
}

/**
 * The gpu.js modes {@link select} tries when no mode is named: the GPU ones. gpu.js's WebAssembly and
 * JavaScript modes start everywhere but are slower than the wasm backend's kernels (see
 * docs/benchmarks.md), so without a GPU mode the wasm backend is the better choice.
 * @category constants
 * @since 0.1.0
 */
export const gpuModes: ReadonlyArray<GpuMode> = ["headlessgl", "webgl2", "webgl"]

/**
 * Tries gpu.js and falls back to the wasm backend; never fails. Without `options.mode` it tries the
 * GPU modes ({@link gpuModes}: headless-gl in Node, WebGL2 then WebGL in browsers); with one, only
 * that mode (`"gpu"` is gpu.js's own choice, which ends in WebAssembly). Logs the choice at info
 * level and returns it with the reason gpu.js was not used.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backend } from "effect-nnx"
 *
 * const { chosen, reason } = await Effect.runPromise(Backend.select())
 * // chosen: "gpujs:webgl2" in a browser, "wasm" in Node without headless-gl; reason says why
 * console.log(chosen, reason)
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const select = (options: GpujsOptions = {}): Effect.Effect<Selection> => {
  const modes = options.mode === undefined ? gpuModes : [options.mode]
  const attempt = (i: number, reasons: ReadonlyArray<string>): Effect.Effect<Selection> => {
    const mode = modes[i]
    if (mode === undefined)
      return Effect.succeed({ backend: defaultBackend(), chosen: "wasm", reason: reasons.join("; ") })
    return makeGpujs({ ...options, mode }).pipe(
      Effect.map((backend): Selection => ({ backend, chosen: `gpujs:${backend.mode}`, reason: undefined })),
      Effect.catchTag("GpuUnavailableError", (e) => attempt(i + 1, [...reasons, e.message]))
    )
  }
  return attempt(0, []).pipe(
    Effect.tap((s) =>
      Effect.logInfo(
        s.reason === undefined ? `effect-nnx backend: ${s.chosen}` : `effect-nnx backend: wasm (${s.reason})`
      )
    )
  )
}

/**
 * The backend {@link select} chooses.
 * @category constructors
 * @since 0.1.0
 */
export const auto = (options: GpujsOptions = {}): Effect.Effect<BackendImpl> =>
  Effect.map(select(options), (s) => s.backend)

const release = (backend: BackendImpl): Effect.Effect<void> =>
  Effect.sync(() => {
    if (isGpujsBackend(backend)) backend.destroy()
  })

/**
 * A layer making a gpujs backend the Backend service; it fails when gpu.js does not start, and
 * releases the backend's kernels and device memory when the layer's scope closes.
 * @category layers
 * @since 0.1.0
 */
export const layerGpujs = (options: GpujsOptions = {}): Layer.Layer<never, GpuUnavailableError> =>
  Layer.effect(Backend, Effect.acquireRelease(makeGpujs(options), release))

/**
 * A layer with the backend {@link select} chooses: gpu.js where it starts on a GPU, else wasm.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backend, jnp } from "effect-nnx"
 *
 * const program = Backend.run(() => jnp.ones([128, 128]).matmul(jnp.ones([128, 128])).sum().item())
 * await Effect.runPromise(program.pipe(Effect.provide(Backend.layerAuto())))
 * ```
 * @category layers
 * @since 0.1.0
 */
export const layerAuto = (options: GpujsOptions = {}): Layer.Layer<never> =>
  Layer.effect(Backend, Effect.acquireRelease(auto(options), release))
