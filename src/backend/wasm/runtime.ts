/**
 * What a wasm kernel sees of the backend: the shared WebAssembly memory, compiled kernel modules and
 * the thread pool that runs them on every core.
 *
 * Kernel modules are generated with the encoder ({@link ModuleBuilder}) once per key (a primitive,
 * its dtypes and shapes, or a fused program) and instantiated on the calling thread and on each
 * worker over the same memory. Every exported kernel function takes `(task, tasks, ...args)`, all
 * `i32`, and does its share `task` of `tasks` equal shares of the work, so one call can run on any
 * number of threads with identical results (a share never depends on how many threads run).
 *
 * Modules may import `env.memory` and the host math functions named in {@link hostMath}
 * (`env.sin`, ...: `f64 -> f64`, or `(f64, f64) -> f64` for the binary ones); workers provide the
 * same imports.
 *
 * @since 0.2.0
 */
import type { Aval } from "../DType.ts"
import type { FirstOrderPrimitive, Params } from "../Primitive.ts"
import { ModuleBuilder } from "./encoder.ts"

/** Host math functions a kernel module may import, with their arity. */
export const hostMath = {
  sin: 1,
  cos: 1,
  tan: 1,
  asin: 1,
  acos: 1,
  atan: 1,
  sinh: 1,
  cosh: 1,
  tanh: 1,
  asinh: 1,
  acosh: 1,
  atanh: 1,
  exp: 1,
  expm1: 1,
  log: 1,
  log1p: 1,
  log2: 1,
  log10: 1,
  cbrt: 1,
  atan2: 2,
  pow: 2
} as const satisfies Record<string, 1 | 2>

export type HostMathName = keyof typeof hostMath

/** The import object of every kernel module, built from `Math` by name (workers do the same). */
export const kernelImports = (memory: WebAssembly.Memory): WebAssembly.Imports => {
  const env: Record<string, WebAssembly.ImportValue> = { memory }
  for (const name of Object.keys(hostMath))
    env[name] = (Math as unknown as Record<string, WebAssembly.ImportValue>)[name]!
  return { env }
}

/** A compiled kernel module. */
export interface Kernel {
  readonly id: number
  readonly key: string
  /** The module's bytes (workers compile them too). */
  readonly bytes: Uint8Array<ArrayBuffer>
  /** The calling thread's instance's exports. */
  readonly exports: Readonly<Record<string, (...args: Array<number>) => unknown>>
}

/** Builds a kernel module with `build`, and instantiates it over `imports` on the calling thread. @internal */
export const instantiateKernel = (
  id: number,
  key: string,
  build: (m: ModuleBuilder) => void,
  imports: WebAssembly.Imports
): Kernel => {
  const m = new ModuleBuilder({ initialPages, maximumPages, shared: true })
  build(m)
  const bytes = m.encode()
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports)
  return { id, key, bytes, exports: instance.exports as unknown as Kernel["exports"] }
}

/**
 * The runtime kernels use.
 * @category models
 * @since 0.2.0
 */
export interface WasmRuntime {
  readonly memory: WebAssembly.Memory
  /** Total threads, the caller included (1 when workers are unavailable). */
  readonly threads: number
  /** Whether `f32x4_relaxed_madd` validates here (fused multiply-add lanes). */
  readonly relaxedSimd: boolean
  /** The kernel for `key`, built by `build` (which must import memory as shared) the first time. */
  kernel(key: string, build: (m: ModuleBuilder) => void): Kernel
  /**
   * Runs export `name` of `kernel` as `tasks` shares: `name(task, tasks, ...args)` for every task,
   * spread over the pool's threads; `tasks <= 1` runs on the calling thread only.
   */
  run(kernel: Kernel, name: string, args: ReadonlyArray<number>, tasks: number): void
  /**
   * A region of `bytes` bytes (64-byte aligned) a kernel may use for temporaries (packed panels)
   * until it returns. A later `scratch` call may return the same region.
   */
  scratch(bytes: number): number
  /** Views of the memory as it is now (recreated after the memory grows). */
  f32(): Float32Array
  i32(): Int32Array
  u32(): Uint32Array
  u8(): Uint8Array
}

/** Pages of the shared memory: initial and maximum (4 GiB, the 32-bit address space). */
export const initialPages = 256
export const maximumPages = 65536

/**
 * A wasm kernel: reads its inputs at the given byte addresses and writes its outputs at the given
 * (already allocated) addresses. It may answer `"fallback"` before writing anything when it cannot
 * run these dtypes or parameters correctly; the backend then runs the cpu reference kernel and counts
 * the fallback (see `WasmStats.fallbacks`), so nothing falls back silently.
 */
export type WasmKernel<P extends FirstOrderPrimitive> = (
  rt: WasmRuntime,
  inputs: ReadonlyArray<number>,
  outputs: ReadonlyArray<number>,
  inAvals: ReadonlyArray<Aval>,
  outAvals: ReadonlyArray<Aval>,
  params: Params<P>
) => void | "fallback"

/** The wasm kernels by primitive; a missing entry runs the cpu reference kernel, counted. */
export type WasmKernelTable = { readonly [P in FirstOrderPrimitive]?: WasmKernel<P> }
