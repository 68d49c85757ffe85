/**
 * A test runtime for calling the wasm kernel generators (src/backend/wasm/kernels) directly, as the
 * kernel mutation suites do (issue 16: tests that catch injected bugs): kernels run over their own
 * memory, task by task on the calling thread, every run's task count recorded; operands and outputs
 * sit between guard bytes, outputs are prefilled with garbage, and results are compared with the cpu
 * reference kernels.
 */
import { assert } from "@effect/vitest"
import { Backend } from "effect-nnx"
import type { Aval, HostArray } from "../../src/backend/DType.ts"
import { allocHost } from "../../src/backend/DType.ts"
import { abstractEval } from "../../src/backend/Primitive.ts"
import type { FirstOrderPrimitive, Params } from "../../src/backend/Primitive.ts"
import type { Kernel, WasmKernel, WasmRuntime } from "../../src/backend/wasm/runtime.ts"
import { initialPages, instantiateKernel, kernelImports, maximumPages } from "../../src/backend/wasm/runtime.ts"
import { run as runOn, size } from "./support.ts"

const cpu = Backend.makeCpu()

/** What a test runtime checks beyond the guards around outputs. */
export interface TestRuntimeOptions {
  /** Follow every scratch region with 32 guard bytes, which `call` checks after every kernel call. */
  readonly guardScratch?: boolean
  /** Have `call` check that the kernel left its array of operand pointers as it was. */
  readonly checkPointers?: boolean
  /**
   * Place inputs between guard bytes of their own (0x3c, so that an input's guard copied over an
   * output's shows), and have `call` check that the kernel changed neither an input nor its guards.
   */
  readonly checkInputs?: boolean
}

/** A runtime over its own memory: a bump allocator, kernels run task by task, every run's task count recorded. */
export const testRuntime = (threads: number, options: TestRuntimeOptions = {}) => {
  const memory = new WebAssembly.Memory({ initial: initialPages, maximum: maximumPages, shared: true })
  const imports = kernelImports(memory)
  const kernels = new Map<string, Kernel>()
  const runs: Array<{ readonly key: string; readonly tasks: number }> = []
  const scratches: Array<readonly [number, number]> = []
  let top = 1024
  const alloc = (bytes: number): number => {
    const at = top
    top = Math.ceil((top + Math.max(bytes, 1)) / 64) * 64 + 64
    const need = Math.ceil(top / 65536) - memory.buffer.byteLength / 65536
    if (need > 0) memory.grow(need)
    return at
  }
  /** Scratch followed by 32 guard bytes, checked after every kernel call. */
  const guardedScratch = (bytes: number): number => {
    const at = alloc(bytes + 32)
    new Uint8Array(memory.buffer).fill(0xa5, at + bytes, at + bytes + 32)
    scratches.push([at, bytes])
    return at
  }
  const rt: WasmRuntime = {
    memory,
    threads,
    relaxedSimd: false,
    kernel: (key, build) => {
      let k = kernels.get(key)
      if (k === undefined) {
        k = instantiateKernel(kernels.size, key, build, imports)
        kernels.set(key, k)
      }
      return k
    },
    run: (kernel, name, args, tasks) => {
      runs.push({ key: kernel.key, tasks })
      const f = kernel.exports[name]!
      const n = Math.max(1, Math.floor(tasks))
      for (let task = 0; task < n; task++) f(task, n, ...args)
    },
    scratch: options.guardScratch === true ? guardedScratch : (bytes) => alloc(bytes),
    f32: () => new Float32Array(memory.buffer),
    i32: () => new Int32Array(memory.buffer),
    u32: () => new Uint32Array(memory.buffer),
    u8: () => new Uint8Array(memory.buffer)
  }
  /** Copies `host` into fresh memory (between 32 bytes of `guard` on either side) and answers its address. */
  const place = (host: HostArray, guard = 0xa5): number => {
    const ptr = alloc(host.byteLength + 64) + 32
    new Uint8Array(memory.buffer).fill(guard, ptr - 32, ptr + host.byteLength + 32)
    new Uint8Array(memory.buffer).set(new Uint8Array(host.buffer, host.byteOffset, host.byteLength), ptr)
    return ptr
  }
  const read = (ptr: number, like: HostArray): HostArray => {
    const out = like.slice()
    new Uint8Array(out.buffer).set(new Uint8Array(memory.buffer, ptr, out.byteLength))
    return out
  }
  /** The guard bytes around an output, which no kernel may write. */
  const guards = (ptr: number, bytes: number): Array<number> => [
    ...new Uint8Array(memory.buffer, ptr - 32, 32),
    ...new Uint8Array(memory.buffer, ptr + bytes, 32)
  ]
  /** The guard bytes after every scratch region handed out, the list then cleared (none without `guardScratch`). */
  const scratchGuards = (): Array<number> =>
    scratches.splice(0).flatMap(([at, bytes]) => [...new Uint8Array(memory.buffer, at + bytes, 32)])
  return { rt, runs, options, place, read, guards, scratchGuards }
}

export type TestRuntime = ReturnType<typeof testRuntime>

/** Runs `kernel` on `t` with outputs prefilled by `garbage`, answers the outputs (and checks their guards). */
export const call = <P extends FirstOrderPrimitive>(
  t: TestRuntime,
  kernel: WasmKernel<P>,
  prim: P,
  data: ReadonlyArray<HostArray>,
  avals: ReadonlyArray<Aval>,
  params: Params<P>,
  garbage = 0x5a,
  outAvals: ReadonlyArray<Aval> = abstractEval[prim](avals, params)
): Array<HostArray> | "fallback" => {
  const inputGuard = t.options.checkInputs === true ? 0x3c : 0xa5
  const inputs = data.map((d) => t.place(d, inputGuard))
  const around = (p: number, i: number) => t.read(p - 32, new Uint8Array(data[i]!.byteLength + 64))
  const before = inputs.map(around)
  const outHosts = outAvals.map((a) => {
    const h = allocHost(a.dtype, size(a.shape))
    new Uint8Array(h.buffer).fill(garbage)
    return h
  })
  const outputs = outHosts.map((h) => t.place(h))
  const pointers = [...inputs]
  const r = kernel(t.rt, inputs, outputs, avals, outAvals, params)
  if (t.options.checkPointers === true) assert.deepStrictEqual(inputs, pointers, "changed its operand pointers")
  if (t.options.checkInputs === true)
    inputs.forEach((p, i) => assert.deepStrictEqual(around(p, i), before[i], `changed input ${i} or its guards`))
  if (r === "fallback") return r
  if (t.options.guardScratch === true) {
    const scratchGuards = t.scratchGuards()
    assert.deepStrictEqual(scratchGuards, new Array(scratchGuards.length).fill(0xa5), "wrote past the scratch")
  }
  outputs.forEach((p, i) =>
    assert.deepStrictEqual(t.guards(p, outHosts[i]!.byteLength), new Array(64).fill(0xa5), "wrote past an output")
  )
  return outputs.map((p, i) => t.read(p, outHosts[i]!))
}

/** Compares `got` with the cpu kernel's `want` element by element: the same value (signed zeros differ) or both NaN. */
export const same = (got: HostArray, want: HostArray, label: string): void => {
  assert.strictEqual(got.length, want.length, label)
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!,
      w = want[i]!
    if (Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w))) continue
    assert.fail(`${label}: element ${i} is ${g}, the cpu kernel gives ${w}`)
  }
}

/** Runs `kernel` on `t` (outputs prefilled with 0x5a, then 0xff) and the cpu kernel, and compares every output. */
export const check = <P extends FirstOrderPrimitive>(
  t: TestRuntime,
  kernel: WasmKernel<P>,
  prim: P,
  data: ReadonlyArray<HostArray>,
  avals: ReadonlyArray<Aval>,
  params: Params<P>,
  label: string
): void => {
  const want = runOn(cpu, prim, data, avals, params)
  for (const garbage of [0x5a, 0xff]) {
    const got = call(t, kernel, prim, data, avals, params, garbage)
    assert.notStrictEqual(got, "fallback", `${label} fell back`)
    ;(got as Array<HostArray>).forEach((g, i) => same(g, want[i]!, label))
  }
}
