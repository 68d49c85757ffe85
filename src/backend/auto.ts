/**
 * Backend selection: WebGPU on a GPU where an adapter answers, gpu.js's WebGL modes next, the wasm
 * backend otherwise, saying which was chosen and why.
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
import { describeAdapter, isWebgpuBackend, make as makeWebgpu } from "./webgpu/Webgpu.ts"
import type { WebgpuOptions } from "./webgpu/Webgpu.ts"

/**
 * What {@link auto} chose and why.
 * @category models
 * @since 0.1.0
 */
export interface Selection {
  readonly backend: BackendImpl
  /** `"webgpu"`, `"gpujs:<mode>"` or `"wasm"`. */
  readonly chosen: string
  /** Why the backends tried before the chosen one were not used (`undefined` when the first was). */
  readonly reason: string | undefined
  /** The WebGPU adapter, when webgpu was chosen (`"nvidia ampere (NVIDIA A100)"`). */
  readonly adapter?: string
}

/**
 * Options of {@link select}: gpu.js's, and whether to try WebGPU first.
 * @category models
 * @since 0.2.0
 */
export interface AutoOptions extends GpujsOptions {
  /**
   * WebGPU, tried first when no gpu.js `mode` is named: `"gpu"` (the default) takes a hardware
   * adapter only, `"any"` also a software one (SwiftShader: slower than wasm, useful for tests),
   * `"off"` skips it. The webgpu backend evaluates asynchronously: read values with
   * `await x.data()` or `Backend.data(x)`.
   */
  readonly webgpu?: "gpu" | "any" | "off"
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
 * Tries the GPU backends in order and falls back to the wasm backend; never fails. Without
 * `options.mode`: WebGPU on a hardware adapter (see {@link AutoOptions.webgpu}), then gpu.js's GPU
 * modes ({@link gpuModes}: headless-gl in Node, WebGL2 then WebGL in browsers); with a `mode`, only
 * that gpu.js mode (`"gpu"` is gpu.js's own choice, which ends in WebAssembly). Logs the choice at
 * info level and returns it with the reason the backends before it were not used.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backend } from "effect-nnx"
 *
 * const { chosen, reason, adapter } = await Effect.runPromise(Backend.select())
 * // chosen: "webgpu" on a machine with a GPU (adapter names it), "gpujs:webgl2" in a browser
 * // without WebGPU, "wasm" otherwise; reason says why the others were passed over
 * console.log(chosen, adapter, reason)
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const select = (options: AutoOptions = {}): Effect.Effect<Selection> => {
  const { webgpu = "gpu", ...gpujsOptions } = options
  const modes = options.mode === undefined ? gpuModes : [options.mode]
  const attempt = (i: number, reasons: ReadonlyArray<string>): Effect.Effect<Selection> => {
    const mode = modes[i]
    if (mode === undefined)
      return Effect.succeed({ backend: defaultBackend(), chosen: "wasm", reason: reasons.join("; ") })
    return makeGpujs({ ...gpujsOptions, mode }).pipe(
      Effect.map(
        (backend): Selection => ({
          backend,
          chosen: `gpujs:${backend.mode}`,
          reason: reasons.length === 0 ? undefined : reasons.join("; ")
        })
      ),
      Effect.catchTag("GpuUnavailableError", (e) => attempt(i + 1, [...reasons, e.message]))
    )
  }
  const tryWebgpu: Effect.Effect<Selection> =
    options.mode !== undefined || webgpu === "off"
      ? attempt(0, [])
      : makeWebgpu(gpujsOptions).pipe(
          Effect.flatMap((backend): Effect.Effect<Selection> => {
            const adapter = describeAdapter(backend.adapter)
            if (backend.adapter.software && webgpu !== "any") {
              backend.destroy()
              return attempt(0, [`WebGPU's adapter is software (${adapter}), slower than wasm`])
            }
            return Effect.succeed({ backend, chosen: "webgpu", reason: undefined, adapter })
          }),
          Effect.catchTag("GpuUnavailableError", (e) => attempt(0, [e.message]))
        )
  return tryWebgpu.pipe(
    Effect.tap((s) =>
      Effect.logInfo(
        `effect-nnx backend: ${s.chosen}${s.adapter === undefined ? "" : ` on ${s.adapter}`}${s.reason === undefined ? "" : ` (${s.reason})`}`
      )
    )
  )
}

/**
 * The backend {@link select} chooses.
 * @category constructors
 * @since 0.1.0
 */
export const auto = (options: AutoOptions = {}): Effect.Effect<BackendImpl> =>
  Effect.map(select(options), (s) => s.backend)

const release = (backend: BackendImpl): Effect.Effect<void> =>
  Effect.sync(() => {
    if (isGpujsBackend(backend) || isWebgpuBackend(backend)) backend.destroy()
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
 * A layer making a webgpu backend the Backend service; it fails when WebGPU does not start here, and
 * releases the backend's kernels when the layer's scope closes. Read values asynchronously under it
 * (`Backend.data`, `Backend.tolist`, `Backend.item`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backend, jnp } from "effect-nnx"
 *
 * const program = Backend.run(() => jnp.ones([256, 256]).matmul(jnp.ones([256, 256])).sum())
 * const total = await Effect.runPromise(
 *   program.pipe(Effect.flatMap(Backend.item), Effect.provide(Backend.layerWebgpu()))
 * )
 * ```
 * @category layers
 * @since 0.2.0
 */
export const layerWebgpu = (options: WebgpuOptions = {}): Layer.Layer<never, GpuUnavailableError> =>
  Layer.effect(Backend, Effect.acquireRelease(makeWebgpu(options), release))

/**
 * A layer with the backend {@link select} chooses: WebGPU or gpu.js where they start on a GPU, else
 * wasm. Read values with `Backend.data` / `Backend.item` under it: WebGPU reads asynchronously.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backend, jnp } from "effect-nnx"
 *
 * const program = Backend.run(() => jnp.ones([128, 128]).matmul(jnp.ones([128, 128])).sum())
 * await Effect.runPromise(program.pipe(Effect.flatMap(Backend.item), Effect.provide(Backend.layerAuto())))
 * ```
 * @category layers
 * @since 0.1.0
 */
export const layerAuto = (options: AutoOptions = {}): Layer.Layer<never> =>
  Layer.effect(Backend, Effect.acquireRelease(auto(options), release))
