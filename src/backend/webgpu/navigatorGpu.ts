/**
 * Finding WebGPU: `navigator.gpu` in browsers and workers; in Node, Dawn's bindings from the `webgpu`
 * package, installed as `navigator.gpu` the way a browser provides it (gpu.js looks for it there).
 *
 * `webgpu` is an optional peer dependency, loaded only when a webgpu backend is asked for. On a
 * machine without a GPU, Dawn finds an adapter through a software Vulkan driver (SwiftShader, which
 * Debian's chromium package ships): docs/webgpu.md says how to point `VK_ICD_FILENAMES` at it.
 */

/** What a WebGPU adapter says about itself (`GPUAdapter.info`). */
export interface AdapterInfo {
  readonly vendor: string
  readonly architecture: string
  readonly device: string
  readonly description: string
  /** Whether it is a software (fallback) adapter, such as SwiftShader. */
  readonly software: boolean
}

interface GpuLike {
  requestAdapter(): Promise<unknown>
}

const isRecord = (u: unknown): u is Record<string, unknown> =>
  (typeof u === "object" || typeof u === "function") && u !== null

const navigatorOf = (): Record<string, unknown> | undefined => {
  const nav: unknown = (globalThis as Record<string, unknown>)["navigator"]
  return isRecord(nav) ? nav : undefined
}

const gpuOf = (): GpuLike | undefined => {
  const gpu = navigatorOf()?.["gpu"]
  return isRecord(gpu) && typeof gpu["requestAdapter"] === "function" ? (gpu as unknown as GpuLike) : undefined
}

const isNode = (): boolean => {
  const proc: unknown = (globalThis as Record<string, unknown>)["process"]
  return isRecord(proc) && isRecord(proc["versions"]) && typeof proc["versions"]["node"] === "string"
}

const text = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/**
 * Makes `navigator.gpu` available: already there in browsers; in Node, created from the `webgpu`
 * package (Dawn). Returns why not when it cannot be.
 */
export const ensureNavigatorGpu = async (): Promise<string | undefined> => {
  if (gpuOf() !== undefined) return undefined
  if (!isNode()) return "this JavaScript environment has no WebGPU (navigator.gpu is missing)"
  // A variable specifier: bundlers must not try to bundle Dawn's native addon into browser code.
  const specifier = "webgpu"
  let loaded: unknown
  try {
    loaded = await import(/* @vite-ignore */ specifier)
  } catch (e) {
    const code = isRecord(e) ? e["code"] : undefined
    return code === "ERR_MODULE_NOT_FOUND"
      ? "the `webgpu` package (Dawn's Node bindings) is not installed: npm install webgpu@0.6.2, with an npm override to that version (docs/webgpu.md)"
      : `the \`webgpu\` package did not load: ${text(e)} (see docs/webgpu.md)`
  }
  const mod = isRecord(loaded) && isRecord(loaded["default"]) && !("create" in loaded) ? loaded["default"] : loaded
  if (!isRecord(mod) || typeof mod["create"] !== "function" || !isRecord(mod["globals"]))
    return "the `webgpu` package exports no `create` and `globals`"
  const g = globalThis as Record<string, unknown>
  // WebGPU's classes and constants (GPUBufferUsage, ...), where the runtime lacks them.
  for (const [k, v] of Object.entries(mod["globals"])) if (!(k in g)) g[k] = v
  let gpu: unknown
  try {
    gpu = (mod["create"] as (flags: ReadonlyArray<string>) => unknown)([])
  } catch (e) {
    return `Dawn did not start: ${text(e)}`
  }
  let nav = navigatorOf()
  if (nav === undefined) {
    nav = {}
    g["navigator"] = nav
  }
  Object.defineProperty(nav, "gpu", { value: gpu, configurable: true, enumerable: true, writable: true })
  return undefined
}

/**
 * Asks for an adapter; returns what it is, or why there is none. Dawn without a GPU or a software
 * Vulkan driver answers `null`.
 */
export const requestAdapterInfo = async (): Promise<AdapterInfo | string> => {
  const gpu = gpuOf()
  if (gpu === undefined) return "navigator.gpu is missing"
  let adapter: unknown
  try {
    adapter = await gpu.requestAdapter()
  } catch (e) {
    return `requestAdapter failed: ${text(e)}`
  }
  if (!isRecord(adapter))
    return isNode()
      ? "WebGPU found no adapter: no GPU with a Vulkan driver here; without a GPU, point VK_ICD_FILENAMES at SwiftShader's ICD (docs/webgpu.md)"
      : "WebGPU found no adapter (the browser may need --enable-unsafe-webgpu, or the GPU is blocklisted)"
  const info = isRecord(adapter["info"]) ? adapter["info"] : {}
  const field = (k: string): string => (typeof info[k] === "string" ? (info[k] as string) : "")
  const device = field("device")
  const description = field("description")
  const software =
    adapter["isFallbackAdapter"] === true ||
    info["isFallbackAdapter"] === true ||
    /swiftshader|llvmpipe|lavapipe|software/i.test(`${device} ${description} ${field("architecture")}`)
  return { vendor: field("vendor"), architecture: field("architecture"), device, description, software }
}

/** A short label of an adapter: `"nvidia ampere (NVIDIA A100)"`, `"google swiftshader (software)"`. */
export const describeAdapter = (a: AdapterInfo): string => {
  const name = [a.vendor, a.architecture].filter((s) => s !== "").join(" ") || "unknown adapter"
  const detail = a.description !== "" ? a.description : a.device
  return `${name}${detail !== "" ? ` (${detail})` : ""}${a.software ? ", software" : ""}`
}
