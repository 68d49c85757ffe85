/**
 * The few parts of gpu.js this backend uses, with types of their own. gpu.js's published typings are
 * loose (`any` for kernel arguments, results and contexts), so the module is loaded as `unknown`
 * and checked at run time here, once; the rest of the backend sees only these interfaces.
 *
 * gpu.js is loaded lazily (a dynamic `import`), so programs that never ask for the gpujs backend
 * never pay for loading it.
 */

/**
 * gpu.js's execution modes. `headlessgl` (Node, the `gl` addon), `webgl2` and `webgl` (browsers) run
 * GLSL fragment shaders over float textures; `webasm` compiles kernels to WebAssembly; `cpu` runs
 * them as JavaScript. `gpu` lets gpu.js pick the first that works in that order.
 */
export type GpuMode = "gpu" | "headlessgl" | "webgl2" | "webgl" | "webasm" | "cpu"

/** Every concrete mode, in gpu.js's own order of preference. */
export const concreteModes: ReadonlyArray<Exclude<GpuMode, "gpu">> = ["headlessgl", "webgl2", "webgl", "webasm", "cpu"]

/** Whether a mode keeps results in GPU textures (as opposed to typed arrays in main memory). */
export const isGlMode = (mode: string): boolean => mode === "headlessgl" || mode === "webgl2" || mode === "webgl"

/** A kernel output kept on the device by `pipeline: true` in a GL mode. */
export interface GpuTexture {
  toArray(): unknown
  delete(): void
}

/** What a kernel takes: a host float array, a texture from an earlier kernel, or a number. */
export type KernelArgument = Float32Array | GpuTexture | number

/** A compiled kernel: callable with its arguments. */
export interface GpuKernel {
  (...args: Array<KernelArgument>): unknown
  destroy(removeCanvasReferences?: boolean): void
}

/** The settings this backend passes to `createKernel`. */
export interface KernelSettings {
  readonly output: ReadonlyArray<number>
  readonly pipeline: boolean
  readonly immutable: boolean
  readonly precision: "single"
  readonly tactic: "precision"
  readonly loopMaxIterations: number
  readonly argumentTypes?: ReadonlyArray<string>
}

/** A `GPU` instance. */
export interface GpuInstance {
  createKernel(source: string, settings: KernelSettings): GpuKernel
  destroy(): unknown
}

/** The `GPU` class. */
export interface GpuConstructor {
  new (settings?: { readonly mode?: GpuMode; readonly canvas?: unknown; readonly context?: unknown }): GpuInstance
  readonly isHeadlessGLSupported: boolean
  readonly isWebGL2Supported: boolean
  readonly isWebGLSupported: boolean
  readonly isWebAssemblySupported: boolean
  readonly isSinglePrecisionSupported: boolean
}

/** The loaded gpu.js module. */
export interface GpuJs {
  readonly GPU: GpuConstructor
}

const isRecord = (u: unknown): u is Record<string, unknown> =>
  (typeof u === "object" || typeof u === "function") && u !== null

const isGpuConstructor = (u: unknown): u is GpuConstructor => typeof u === "function" && "isWebGL2Supported" in u

/**
 * Finds gpu.js's `GPU` class in whatever a module loader returned: the CommonJS exports, an ES
 * namespace with them as `default`, or a browser global bundle's namespace.
 */
export const asGpuJs = (loaded: unknown): GpuJs | undefined => {
  if (!isRecord(loaded)) return undefined
  const direct = loaded["GPU"]
  if (isGpuConstructor(direct)) return { GPU: direct }
  const fallback = loaded["default"]
  if (isRecord(fallback) && isGpuConstructor(fallback["GPU"])) return { GPU: fallback["GPU"] }
  return undefined
}

/** The message for a gpu.js that cannot be imported: it is an optional peer dependency. */
export const missingGpuJs = (e: unknown): string => {
  const code = isRecord(e) ? e["code"] : undefined
  const text = e instanceof Error ? e.message : String(e)
  return code === "ERR_MODULE_NOT_FOUND" || /Cannot find (module|package) 'gpu\.js'/.test(text)
    ? "gpu.js is not installed; it is an optional peer dependency of effect-nnx, needed only for the gpujs backends: npm install gpu.js@2.24.1"
    : `gpu.js could not be loaded: ${text}`
}

/** Loads gpu.js; fails when the package is missing or is not gpu.js. */
export const loadGpuJs = async (): Promise<GpuJs> => {
  // The `.catch` makes a missing gpu.js a run-time failure for bundlers (esbuild, Vite) instead of a
  // build error: it is an optional peer dependency, and a browser bundle without it must build.
  const loaded: unknown = await import("gpu.js").catch((e: unknown) => {
    throw e
  })
  const gpujs = asGpuJs(loaded)
  if (gpujs === undefined) throw new TypeError("the module 'gpu.js' does not export a GPU class")
  return gpujs
}

/** Whether a kernel result is a host array (cpu and webasm modes) rather than a texture. */
export const isHostResult = (u: unknown): u is Float32Array => u instanceof Float32Array

/** Whether a kernel result is a texture (GL modes with `pipeline: true`). */
export const isTexture = (u: unknown): u is GpuTexture =>
  isRecord(u) && typeof u["toArray"] === "function" && typeof u["delete"] === "function"
