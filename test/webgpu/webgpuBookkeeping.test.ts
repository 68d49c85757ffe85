/**
 * The webgpu backend's bookkeeping, on the JavaScript stand-in for the GPU (test/support/cpuWebgpu.ts):
 * its kernel cache and counters, uploads and read-backs done once, views that share storage, what
 * runs on the device, buffers from elsewhere, a destroyed backend, the start-up check of a device
 * that computes wrongly, and the messages of a lost device. The stand-in runs the backend's real
 * queue, so these hold on Dawn too; they are here because they need a fresh backend each.
 */
import { Cause, Effect, Exit, Option } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { Backend, jit, jnp, lax } from "effect-nnx"
import type { PendingReadError } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import type { Aval } from "../../src/backend/DType.ts"
import type { WebgpuPlatform } from "../../src/backend/webgpu/Webgpu.ts"
import { makeIn, makeWith } from "../../src/backend/webgpu/Webgpu.ts"
import { cpuGpuJs, makeCpuWebgpu, standInAdapter } from "../support/cpuWebgpu.ts"
import type { StandInMemory } from "../support/cpuWebgpu.ts"

const made: Array<Backend.WebgpuBackend> = []
afterEach(async () => {
  for (const b of made.splice(0)) {
    await b.flush()
    b.destroy()
  }
})

const fresh = async (options: Parameters<typeof makeCpuWebgpu>[0] = {}) => {
  const { backend, memory } = await makeCpuWebgpu(options)
  made.push(backend)
  return { b: backend, memory }
}

const f32 = (shape: ReadonlyArray<number>): Aval => ({ shape, dtype: "float32", weakType: false })

const onWasm = <A>(f: () => A): A => Backend.withBackend(Backend.defaultBackend(), f)

/**
 * A gpu.js-shaped module whose kernels resolve with `result(size)`: a device that answers wrongly,
 * or with something that is not a device buffer.
 */
const oddGpuJs = (result: (size: number) => unknown): Backend.GpuJs => {
  class Odd {
    createKernel(_source: string, settings: { readonly output: ReadonlyArray<number> }) {
      const size = settings.output[0]!
      return Object.assign(() => Promise.resolve(result(size)), { destroy: () => {} })
    }
    destroy() {
      oddLog.destroyed++
    }
  }
  return { GPU: Odd as unknown as Backend.GpuJs["GPU"] }
}

/** How many GPUs `oddGpuJs` made and destroyed. */
const oddLog = { destroyed: 0 }

/** A device handle over `data`. */
const handle = (data: unknown) => ({
  toArray: () => Promise.resolve(data),
  delete: () => {},
  clone() {
    return this
  }
})

const startError = async (gpujs: Backend.GpuJs, options: Backend.WebgpuOptions = {}): Promise<unknown> => {
  try {
    made.push(await makeWith(gpujs, standInAdapter, options))
  } catch (e) {
    return e
  }
  return undefined
}

describe("the webgpu backend's kernels and counters", () => {
  it("compiles a kernel once per source and size, uploads a host value once, and reads a value back once", async () => {
    const { b } = await fresh()
    const x = Backend.withBackend(b, () => jnp.array([1, 2, 3, 4], { dtype: "float32" }))
    const before = { ...b.gpuStats }
    const y = Backend.withBackend(b, () => x.add(x).mul(x))
    await y.blockUntilReady()
    // One upload although x is used three times, one kernel per operation.
    expect(b.gpuStats.uploads - before.uploads).toBe(1)
    expect(b.gpuStats.gpuLaunches - before.gpuLaunches).toBe(3)
    const compiled = b.gpuStats.kernelsCompiled
    expect(compiled - before.kernelsCompiled).toBe(3)
    // The same operations again: launched, not compiled.
    const z = Backend.withBackend(b, () => x.add(x).mul(x))
    await z.blockUntilReady()
    expect(b.gpuStats.kernelsCompiled).toBe(compiled)
    expect(b.gpuStats.gpuLaunches - before.gpuLaunches).toBe(5)
    // Another size is another kernel.
    const w = Backend.withBackend(b, () => jnp.array([1, 2, 3], { dtype: "float32" }).add(1))
    await w.blockUntilReady()
    expect(b.gpuStats.kernelsCompiled).toBe(compiled + 2)
    // Reading twice reads the device once.
    const downloads = b.gpuStats.downloads
    expect(Array.from(await y.data())).toEqual([2, 8, 18, 32])
    expect(Array.from(await y.data())).toEqual([2, 8, 18, 32])
    expect(y.tolist()).toEqual([2, 8, 18, 32])
    expect(b.gpuStats.downloads - downloads).toBe(0)
    expect(b.gpuStats.queued).toBe(0)
    expect(b.gpuStats.kernelErrors).toBe(0)
    expect(b.gpuStats.cpuOps.size).toBe(0)
  })

  it("counts queued operations until they have run", async () => {
    const { b } = await fresh()
    const y = Backend.withBackend(b, () => jnp.ones([4]).add(1).mul(3))
    expect(b.gpuStats.queued).toBeGreaterThan(0)
    await y.blockUntilReady()
    expect(b.gpuStats.queued).toBe(0)
    expect(b.stats.byPrimitive.get("add")).toBe(1)
    expect(b.stats.byPrimitive.get("mul")).toBe(1)
  })

  it("reads bool and integer values back as their dtype", async () => {
    const { b } = await fresh()
    const [gt, n] = Backend.withBackend(b, () => {
      const x = jnp.array([0.25, 0.5, 0.75, 1], { dtype: "float32" })
      return [x.gt(0.5), x.mul(4).astype("int32")] as const
    })
    expect(gt.dtype).toBe("bool")
    expect(Array.from(await gt.data())).toEqual([0, 0, 1, 1])
    expect(await gt.data()).toBeInstanceOf(Uint8Array)
    expect(Array.from(await n.data())).toEqual([1, 2, 3, 4])
    expect(await n.data()).toBeInstanceOf(Int32Array)
  })

  it("shares storage for a reshape: no kernel, no copy, the same values", async () => {
    const { b } = await fresh()
    const x = Backend.withBackend(b, () => jnp.arange(6).astype("float32").mul(2))
    await x.blockUntilReady()
    const launches = b.gpuStats.gpuLaunches
    const uploads = b.gpuStats.uploads
    const reshapes = b.stats.byPrimitive.get("reshape") ?? 0
    const r = Backend.withBackend(b, () => x.reshape([2, 3]))
    expect(r.tolist()).toEqual([
      [0, 2, 4],
      [6, 8, 10]
    ])
    expect(b.gpuStats.gpuLaunches).toBe(launches)
    expect(b.gpuStats.uploads).toBe(uploads)
    expect(b.stats.byPrimitive.get("reshape")).toBe(reshapes + 1)
    // Disposing the original leaves the view readable.
    x.dispose()
    expect(r.tolist()).toEqual([
      [0, 2, 4],
      [6, 8, 10]
    ])
  })

  it("says which operations run as kernels: float math on the device, integers, complex numbers on the cpu", async () => {
    const { b } = await fresh()
    const add = { shape: [4], dtype: "float32", weakType: false } as const
    expect(b.runsOnGpu("add", [add, add], [add], {})).toBe(true)
    expect(b.runsOnGpu("tanh", [add], [add], {})).toBe(true)
    const c = { shape: [4], dtype: "complex64", weakType: false } as const
    expect(b.runsOnGpu("add", [c, c], [c], {})).toBe(false)
    expect(b.runsOnGpu("neg", [add], [c], {})).toBe(false)
    expect(b.runsOnGpu("real", [c], [add], {})).toBe(false)
    const bool = { shape: [4], dtype: "bool", weakType: false } as const
    expect(b.runsOnGpu("eq", [c, add], [bool], {})).toBe(false)
    const i = { shape: [4], dtype: "int32", weakType: false } as const
    expect(b.runsOnGpu("shift_left", [i, i], [i], {})).toBe(false)
  })

  it("reads a dynamic slice's start from the device before planning its kernel", async () => {
    const { b } = await fresh()
    const run = () => {
      const x = jnp.arange(10).astype("float32").mul(3)
      const start = jnp.array(2, { dtype: "int32" }).add(jnp.array(1, { dtype: "int32" }))
      return lax.dynamicSlice(x, [start], [4])
    }
    expect(Array.from(await Backend.withBackend(b, run).data())).toEqual([9, 12, 15, 18])
    // The same shapes with another start: planned again, not taken from the cache.
    const other = Backend.withBackend(b, () =>
      lax.dynamicSlice(jnp.arange(10).astype("float32").mul(3), [jnp.array(5, { dtype: "int32" })], [4])
    )
    expect(Array.from(await other.data())).toEqual([15, 18, 21, 24])
    // A start past the end is clamped so that the window stays inside, as XLA does.
    const clamped = Backend.withBackend(b, () =>
      lax.dynamicSlice(jnp.arange(10).astype("float32"), [jnp.array(9, { dtype: "int32" })], [4])
    )
    expect(Array.from(await clamped.data())).toEqual([6, 7, 8, 9])
    expect(b.gpuStats.cpuOps.get("dynamic_slice")).toBeUndefined()
    const updated = Backend.withBackend(b, () =>
      lax.dynamicUpdateSlice(jnp.zeros([6]), jnp.ones([2]), [jnp.array(3, { dtype: "int32" })])
    )
    expect(Array.from(await updated.data())).toEqual([0, 0, 0, 1, 1, 0])
    expect(onWasm(run).tolist()).toEqual([9, 12, 15, 18])
  })
})

describe("buffers and the backend's life", () => {
  it("copies uploaded host data: changing the source afterwards changes nothing", async () => {
    const { b } = await fresh()
    const data = Float32Array.of(1, 2, 3)
    const buffer = b.upload(data, f32([3]))
    data[0] = 100
    expect(Array.from(await b.read(buffer, f32([3])))).toEqual([1, 2, 3])
    b.dispose(buffer)
  })

  it("disposes new uploads in a tidy, and keeps arrays moved in, kept, or returned", async () => {
    const { b } = await fresh()
    let made: Backend.DeviceBuffer | undefined
    let moved: Backend.DeviceBuffer | undefined
    let kept: Backend.DeviceBuffer | undefined
    const returned = b.tidy(() => {
      made = b.upload(Float32Array.of(1), f32([1]))
      moved = b.upload(Float32Array.of(2), f32([1]), { moved: true })
      kept = b.upload(Float32Array.of(3), f32([1]))
      b.keep?.(kept)
      return Backend.withBackend(b, () => jnp.ones([2]))
    })
    expect(b.released?.(made!)).toBe(true)
    expect(b.released?.(moved!)).toBe(false)
    expect(b.released?.(kept!)).toBe(false)
    expect(returned.tolist()).toEqual([1, 1])
    expect(Array.from(await b.read(moved!, f32([1])))).toEqual([2])
    for (const x of [moved!, kept!]) b.dispose(x)
    expect(b.released?.(kept!)).toBe(true)
  })

  it("refuses to read a released buffer, or a buffer of another backend", async () => {
    const { b } = await fresh()
    const buffer = b.upload(Float32Array.of(1, 2), f32([2]))
    b.dispose(buffer)
    await expect(b.read(buffer, f32([2]))).rejects.toThrow("webgpu: a released buffer was read")
    const other = Backend.defaultBackend().upload(Float32Array.of(1, 2), f32([2]))
    expect(() => b.execute("neg", [other], [f32([2])], [f32([2])], {})).toThrow(
      /webgpu backend: got a buffer of backend wasm/
    )
    expect(() => b.dispose(other)).toThrow(/got a buffer of backend wasm/)
    expect(() => b.dispose({ backend: "webgpu" })).toThrow(/got a buffer of backend webgpu/)
    Backend.defaultBackend().dispose?.(other)
  })

  it("releases a result's device memory when it and its operations are done", async () => {
    const { b, memory } = await fresh()
    const live = memory.live
    const x = b.upload(Float32Array.of(1, 2, 3), f32([3]))
    const [y] = b.execute("mul", [x, x], [f32([3]), f32([3])], [f32([3])], {})
    // The operation holds its input: disposing it while queued frees nothing yet.
    b.dispose(x)
    expect(Array.from(await b.read(y!, f32([3])))).toEqual([1, 4, 9])
    expect(memory.live).toBe(live + 1)
    expect(b.gpuStats.memory.liveStorages).toBe(1)
    b.dispose(y!)
    expect(memory.live).toBe(live)
    expect(b.gpuStats.memory.liveStorages).toBe(0)
    expect(b.gpuStats.memory.liveDevice).toBe(0)
  })

  it("after destroy: operations fail with a GpuKernelError, jit compiles nothing for it, destroy again does nothing", async () => {
    const { b } = await fresh()
    const x = Backend.withBackend(b, () => jnp.ones([3]))
    const f = jit((v: JArray) => jnp.tanh(v).mul(2))
    const want = onWasm(() => jnp.tanh(jnp.ones([3])).mul(2)).dataSync()
    for (const [i, v] of (await Backend.withBackend(b, () => f(x)).data()).entries()) expect(v).toBeCloseTo(want[i]!, 6)
    expect(b.stats.byPrimitive.get("fused")).toBe(1)
    b.destroy()
    expect(() => b.destroy()).not.toThrow()
    expect(() => Backend.withBackend(b, () => x.add(1))).toThrow(/webgpu.*the backend was destroyed/)
    expect(() => Backend.withBackend(b, () => x.add(1))).toThrow(Backend.GpuKernelError)
    expect(b.compileFused?.({ inputs: [], outputs: [], nodes: [] } as never)).toBeUndefined()
    expect(() => b.defer?.([], [], async () => [])).toThrow(/control flow.*destroyed|destroyed/)
  })
})

describe("starting the webgpu backend", () => {
  it("checks a first matmul: a device that computes wrongly is unavailable, saying what it got", async () => {
    const e = await startError(oddGpuJs((size) => handle(new Float32Array(size))))
    expect(e).toBeInstanceOf(Backend.GpuUnavailableError)
    expect((e as Error).message).toContain("a test matmul gave [0, 0] instead of [4.5, 9]")
    expect(e).toMatchObject({ mode: "webgpu" })
    // The GPU it made is released.
    const destroyed = oddLog.destroyed
    await startError(oddGpuJs((size) => handle(new Float32Array(size))))
    expect(oddLog.destroyed).toBe(destroyed + 1)
    for (const wrong of [
      [4.5, 0],
      [0, 9]
    ]) {
      const partly = await startError(
        oddGpuJs((size) => handle(size === 2 ? Float32Array.from(wrong) : new Float32Array(size)))
      )
      expect((partly as Error).message).toContain(`a test matmul gave [${wrong.join(", ")}] instead of [4.5, 9]`)
    }
  })

  it("a kernel that returns no device buffer, or a read-back that is not a Float32Array, is named", async () => {
    const none = await startError(
      oddGpuJs((size) => new Float32Array(size)),
      { onKernelError: "fail" }
    )
    expect(none).toBeInstanceOf(Backend.GpuUnavailableError)
    expect((none as Error).message).toContain("gpu.js returned no device buffer ([object Float32Array])")
    const odd = await startError(oddGpuJs((size) => handle(new Array(size).fill(1))))
    expect((odd as Error).message).toContain("gpu.js read back something other than a Float32Array")
  })

  it("a gpu.js whose GPU cannot be made is unavailable with gpu.js's reason", async () => {
    class Broken {
      constructor() {
        throw new Error("no WebGPU context")
      }
    }
    const e = await startError({ GPU: Broken as unknown as Backend.GpuJs["GPU"] })
    expect(e).toBeInstanceOf(Backend.GpuUnavailableError)
    expect((e as Error).message).toContain("gpu.js did not start: no WebGPU context")
  })

  it("with the default fallback, a device whose kernels all fail still starts and computes on the cpu kernels", async () => {
    const logged: Array<string> = []
    const memory: StandInMemory = { live: 0 }
    const gpujs = await cpuGpuJs(memory, { marker: "", reason: "no shader compiles" })
    const b = await makeWith(gpujs, standInAdapter, { log: (m) => logged.push(m) })
    made.push(b)
    expect(logged.join("\n")).toContain("no shader compiles")
    const y = Backend.withBackend(b, () => jnp.ones([2]).add(1))
    expect(Array.from(await y.data())).toEqual([2, 2])
    expect(b.gpuStats.cpuOps.get("add")).toBe(1)
    // Every failing kernel is reported once, with the operation it ran instead.
    expect(logged.filter((m) => m.includes("running add on the cpu kernels instead"))).toHaveLength(1)
  })
})

describe("a lost device", () => {
  it.each(["WebGPU device was lost", "Device is lost (reason: destroyed)", "device lost: the GPU process crashed"])(
    "reads %j as a lost device, and fails everything after it with the same error",
    async (reason) => {
      const { b } = await fresh({ failure: { marker: "Math.log", reason } })
      const x = Backend.withBackend(b, () => jnp.linspace(1, 2, 4).mul(2))
      const y = Backend.withBackend(b, () => jnp.log(x))
      const z = Backend.withBackend(b, () => x.add(1))
      let first: unknown
      await y.data().catch((e: unknown) => {
        first = e
      })
      expect(first).toBeInstanceOf(Backend.GpuDeviceLostError)
      expect((first as Error).message).toContain(reason)
      // Queued after the loss: the same error, also for a value computed before it but not read yet.
      await expect(z.data()).rejects.toBe(first)
      await expect(x.data()).rejects.toBe(first)
      expect(() => Backend.withBackend(b, () => x.mul(2))).toThrow(first as Error)
    }
  )

  it("a device error that is not a loss is a GpuKernelError of the operation", async () => {
    const { b } = await fresh({
      failure: { marker: "Math.log", reason: "device limits exceeded" },
      onKernelError: "fail"
    })
    const y = Backend.withBackend(b, () => jnp.log(jnp.linspace(1, 2, 4)))
    await expect(y.data()).rejects.toMatchObject({ _tag: "GpuKernelError", op: "log" })
    // The device itself still works.
    expect(Array.from(await Backend.withBackend(b, () => jnp.ones([2]).add(1)).data())).toEqual([2, 2])
  })
})

/** A gpu.js-shaped module over the stand-in that records what the backend asks of it. */
const recordingGpuJs = async () => {
  const memory: StandInMemory = { live: 0 }
  const inner = await cpuGpuJs(memory)
  const log = {
    made: [] as Array<unknown>,
    kernels: [] as Array<Record<string, unknown>>,
    destroyed: 0,
    kernelsDestroyed: 0
  }
  const Inner = inner.GPU as unknown as new (
    s: unknown
  ) => {
    createKernel(
      src: string,
      settings: Record<string, unknown>
    ): ((...a: Array<unknown>) => unknown) & {
      destroy(): void
    }
    destroy(): void
  }
  class Recording {
    private readonly gpu: InstanceType<typeof Inner>
    constructor(settings: unknown) {
      log.made.push(settings)
      this.gpu = new Inner(settings)
    }
    createKernel(src: string, settings: Record<string, unknown>) {
      log.kernels.push(settings)
      const kernel = this.gpu.createKernel(src, settings)
      return Object.assign((...a: Array<unknown>) => kernel(...a), {
        destroy: () => {
          log.kernelsDestroyed++
          kernel.destroy()
        }
      })
    }
    destroy() {
      log.destroyed++
      this.gpu.destroy()
    }
  }
  return { gpujs: { GPU: Recording as unknown as Backend.GpuJs["GPU"] }, log }
}

describe("what the backend asks of gpu.js", () => {
  it("a WebGPU-mode GPU, and pipelined, immutable single-precision kernels sized to their outputs", async () => {
    const { gpujs, log } = await recordingGpuJs()
    const b = await makeWith(gpujs, standInAdapter, {})
    made.push(b)
    expect(log.made).toEqual([{ mode: "webgpu" }])
    expect(b.name).toBe("webgpu")
    log.kernels.length = 0
    await Backend.withBackend(b, () => jnp.ones([7]).add(1)).blockUntilReady()
    expect(log.kernels.length).toBeGreaterThan(0)
    for (const settings of log.kernels) {
      expect(settings).toMatchObject({ pipeline: true, immutable: true, precision: "single", tactic: "precision" })
      expect(settings["loopMaxIterations"]).toBeGreaterThan(4 * 1024)
    }
    expect(log.kernels.at(-1)!["output"]).toEqual([7])
    // The start-up check leaves no counts behind.
    const fresh = await makeWith((await recordingGpuJs()).gpujs, standInAdapter, {})
    made.push(fresh)
    expect(fresh.stats.dispatches).toBe(0)
    expect(fresh.stats.byPrimitive.size).toBe(0)
  })

  it("destroy releases every kernel and the GPU once", async () => {
    const { gpujs, log } = await recordingGpuJs()
    const b = await makeWith(gpujs, standInAdapter, {})
    await Backend.withBackend(b, () => jnp.ones([3]).mul(2).add(1)).blockUntilReady()
    const kernels = b.gpuStats.kernelsCompiled
    b.destroy()
    b.destroy()
    expect(log.destroyed).toBe(1)
    expect(log.kernelsDestroyed).toBe(kernels)
  })

  it("refuses what gpu.js returns that is not a device buffer, naming it", async () => {
    const cases: ReadonlyArray<readonly [unknown, string]> = [
      [null, "[object Null]"],
      [undefined, "[object Undefined]"],
      [42, "[object Number]"],
      [{ delete() {}, clone() {} }, "[object Object]"],
      [{ toArray() {}, clone() {} }, "[object Object]"],
      [{ toArray() {}, delete() {} }, "[object Object]"]
    ]
    for (const [result, named] of cases) {
      const e = await startError(
        oddGpuJs(() => result),
        { onKernelError: "fail" }
      )
      expect(e).toBeInstanceOf(Backend.GpuUnavailableError)
      expect((e as Error).message).toContain(`gpu.js returned no device buffer (${named})`)
    }
  })

  it("reports a failing kernel on console.warn unless given a log", async () => {
    const memory: StandInMemory = { live: 0 }
    const gpujs = await cpuGpuJs(memory, { marker: "Math.exp", reason: "shader compilation failed" })
    const b = await makeWith(gpujs, standInAdapter, {})
    made.push(b)
    const warned: Array<unknown> = []
    const original = console.warn
    console.warn = (m: unknown) => warned.push(m)
    try {
      expect(Array.from(await Backend.withBackend(b, () => jnp.exp(jnp.zeros([2]))).data())).toEqual([1, 1])
    } finally {
      console.warn = original
    }
    expect(warned).toHaveLength(1)
    expect(String(warned[0])).toContain("running exp on the cpu kernels instead")
    expect(String(warned[0])).toContain("shader compilation failed")
  })

  it("tells webgpu backends apart", async () => {
    const { b } = await fresh()
    expect(Backend.isWebgpuBackend(b)).toBe(true)
    expect(Backend.isWebgpuBackend(Backend.defaultBackend())).toBe(false)
    expect(Backend.isWebgpuBackend({ ...Backend.defaultBackend(), name: "webgpu" })).toBe(false)
  })
})

describe("jit's fused programs on webgpu", () => {
  it("run as device kernels, and on the host when their kernel fails (once reported, then directly)", async () => {
    const f = jit((x: JArray) => jnp.tanh(x.mul(2).add(1)).mul(x))
    const want = onWasm(() => f(jnp.linspace(-1, 1, 5))).dataSync()
    const near = (got: ArrayLike<number>) => {
      for (let i = 0; i < want.length; i++) expect(got[i]!).toBeCloseTo(want[i]!, 5)
    }
    const { b } = await fresh()
    const x = Backend.withBackend(b, () => jnp.linspace(-1, 1, 5))
    await x.blockUntilReady()
    const launches = b.gpuStats.gpuLaunches
    near(await Backend.withBackend(b, () => f(x)).data())
    expect(b.gpuStats.gpuLaunches).toBeGreaterThan(launches)
    expect(b.gpuStats.cpuOps.size).toBe(0)

    const logged: Array<string> = []
    const failing = await fresh({
      failure: { marker: "done_", reason: "too many registers" },
      log: (m) => logged.push(m)
    })
    const y = Backend.withBackend(failing.b, () => jnp.linspace(-1, 1, 5))
    await y.blockUntilReady()
    near(await Backend.withBackend(failing.b, () => f(y)).data())
    expect(failing.b.gpuStats.kernelErrors).toBe(1)
    expect(logged.join("\n")).toMatch(/fused.*too many registers|too many registers.*fused/)
    const before = failing.b.gpuStats.gpuLaunches
    near(await Backend.withBackend(failing.b, () => f(y)).data())
    expect(failing.b.gpuStats.kernelErrors).toBe(1)
    expect(failing.b.gpuStats.gpuLaunches).toBe(before)
  })
})

describe("reads and views", () => {
  it("a view's buffer disposed while its storage lives on is not readable through that buffer", async () => {
    const { b } = await fresh()
    const x = b.upload(Float32Array.of(1, 2, 3, 4), f32([4]))
    const [view] = b.execute("reshape", [x], [f32([4])], [f32([2, 2])], { newSizes: [2, 2] })
    b.dispose(x)
    await expect(b.read(x, f32([4]))).rejects.toThrow("a released buffer was read")
    expect(Array.from(await b.read(view!, f32([2, 2])))).toEqual([1, 2, 3, 4])
  })

  it("retain gives a second buffer on the same value, which a tidy does not take", async () => {
    const { b } = await fresh()
    const x = b.upload(Float32Array.of(5, 6), f32([2]))
    const held = b.tidy(() => b.retain!(x))
    b.dispose(x)
    expect(b.released?.(held)).toBe(false)
    expect(Array.from(await b.read(held, f32([2])))).toEqual([5, 6])
  })

  it("a synchronous read says whether the value is still being computed or only not read back", async () => {
    const { b } = await fresh()
    const y = Backend.withBackend(b, () => jnp.ones([2, 2]).mul(3))
    const pending = (() => {
      try {
        y.dataSync()
      } catch (e) {
        return e as PendingReadError
      }
    })()
    expect(pending).toMatchObject({ _tag: "PendingReadError", op: "read", backend: "webgpu" })
    expect(pending!.message).toContain("float32[2,2] value is on the WebGPU device and still being computed")
    await b.flush()
    expect(() => y.dataSync()).toThrow(/float32\[2,2\] value is on the WebGPU device, and WebGPU reads asynchronously/)
  })

  it("frees the device buffers of a multi-step operation's intermediate steps", async () => {
    const { b, memory } = await fresh()
    const live = memory.live
    const x = b.upload(new Float32Array(5000).fill(1), f32([5000]))
    const [s] = b.execute("reduce_sum", [x], [f32([5000])], [f32([])], { axes: [0] })
    expect(Array.from(await b.read(s!, f32([])))).toEqual([5000])
    expect(b.gpuStats.gpuLaunches).toBeGreaterThan(2)
    b.dispose(x)
    expect(memory.live).toBe(live + 1)
    b.dispose(s!)
    expect(memory.live).toBe(live)
  })
})

describe("control flow the device decides", () => {
  it("fails a loop's results with the error of an operation that failed inside it", async () => {
    const { b } = await fresh({
      failure: { marker: "Math.log", reason: "shader compilation failed" },
      onKernelError: "fail"
    })
    const [i, v] = Backend.withBackend(b, () =>
      lax.whileLoop(
        (s: readonly [JArray, JArray]) => s[0].lt(3),
        (s: readonly [JArray, JArray]) => [s[0].add(1), jnp.log(s[1].add(1))] as const,
        [jnp.array(0), jnp.ones([2])] as const
      )
    )
    await expect(v.data()).rejects.toMatchObject({ _tag: "GpuKernelError", op: "log" })
    await expect(i.data()).rejects.toMatchObject({ _tag: "GpuKernelError", op: "log" })
  })
})

describe("Backend.makeWebgpu's steps, each failing", () => {
  const standInPlatform = async (over: Partial<WebgpuPlatform> = {}): Promise<WebgpuPlatform> => {
    const gpujs = await cpuGpuJs({ live: 0 })
    return {
      loadGpuJs: async () => gpujs,
      ensureNavigatorGpu: async () => undefined,
      requestAdapterInfo: async () => standInAdapter,
      ...over
    }
  }
  const failure = async (env: WebgpuPlatform, options: Backend.WebgpuOptions = {}) => {
    const exit = await Effect.runPromiseExit(makeIn(env, options))
    if (Exit.isSuccess(exit)) {
      made.push(exit.value)
      return undefined
    }
    const error = Cause.findErrorOption(exit.cause)
    return Option.getOrUndefined(error)
  }

  it("starts where every step answers, and reports the adapter", async () => {
    const exit = await Effect.runPromiseExit(makeIn(await standInPlatform()))
    expect(Exit.isSuccess(exit)).toBe(true)
    if (Exit.isSuccess(exit)) {
      made.push(exit.value)
      expect(exit.value.adapter).toBe(standInAdapter)
    }
  })

  it("gpu.js that does not load, WebGPU missing, no adapter, a GPU that does not start: GpuUnavailableError saying which", async () => {
    const noGpuJs = await failure(
      await standInPlatform({
        loadGpuJs: async () => {
          throw Object.assign(new Error("Cannot find package 'gpu.js'"), { code: "ERR_MODULE_NOT_FOUND" })
        }
      })
    )
    expect(noGpuJs).toMatchObject({ _tag: "GpuUnavailableError", mode: "webgpu" })
    expect((noGpuJs as Error).message).toContain("gpu.js is not installed")
    const noWebgpu = await failure(
      await standInPlatform({ ensureNavigatorGpu: async () => "navigator.gpu is missing" })
    )
    expect(noWebgpu).toMatchObject({ _tag: "GpuUnavailableError", mode: "webgpu" })
    expect((noWebgpu as Error).message).toContain("navigator.gpu is missing")
    const noAdapter = await failure(
      await standInPlatform({ requestAdapterInfo: async () => "WebGPU found no adapter" })
    )
    expect((noAdapter as Error).message).toContain("WebGPU found no adapter")
    class Broken {
      constructor() {
        throw new Error("no WebGPU context")
      }
    }
    const broken = await failure(await standInPlatform(), { gpujs: { GPU: Broken as unknown as Backend.GpuJs["GPU"] } })
    expect(broken).toBeInstanceOf(Backend.GpuUnavailableError)
    expect((broken as Error).message).toContain("gpu.js did not start: no WebGPU context")
    // A gpu.js given in the options is used as it is: the platform's is not loaded.
    let loaded = false
    const given = await failure(
      await standInPlatform({
        loadGpuJs: async () => {
          loaded = true
          throw new Error("not this one")
        }
      }),
      { gpujs: await cpuGpuJs({ live: 0 }) }
    )
    expect(given).toBeUndefined()
    expect(loaded).toBe(false)
  })
})

describe("more of the backend's bookkeeping", () => {
  it("reads back once: the first read downloads, later reads do not", async () => {
    const { b } = await fresh()
    const y = Backend.withBackend(b, () => jnp.ones([3]).mul(4))
    await b.flush()
    const before = b.gpuStats.downloads
    expect(Array.from(await y.data())).toEqual([4, 4, 4])
    expect(b.gpuStats.downloads).toBe(before + 1)
    await y.data()
    expect(b.gpuStats.downloads).toBe(before + 1)
    expect(b.gpuStats.kernelErrors).toBe(0)
  })

  it("leaves device scalars on the device: only a dynamic slice's starts are read back", async () => {
    const { b } = await fresh()
    const x = Backend.withBackend(b, () => jnp.linspace(0, 1, 6).mul(2))
    const s = Backend.withBackend(b, () => jnp.sum(x))
    await b.flush()
    const downloads = b.gpuStats.downloads
    const y = Backend.withBackend(b, () => x.add(s))
    await b.flush()
    expect(b.gpuStats.downloads).toBe(downloads)
    const start = Backend.withBackend(b, () => jnp.array(2, { dtype: "int32" }).add(1))
    const sliced = Backend.withBackend(b, () => lax.dynamicSlice(y, [start], [2]))
    await b.flush()
    // The start (computed on the cpu kernels, so on the host already) and nothing of y.
    expect(b.gpuStats.downloads).toBe(downloads)
    expect(Array.from(await sliced.data())).toEqual(
      Array.from(
        onWasm(() =>
          jnp
            .linspace(0, 1, 6)
            .mul(2)
            .add(jnp.sum(jnp.linspace(0, 1, 6).mul(2)))
        ).dataSync()
      ).slice(3, 5)
    )
    expect(b.gpuStats.kernelErrors).toBe(0)
  })

  it("after a lost device, even work on the host is refused with the loss", async () => {
    const { b } = await fresh({ failure: { marker: "Math.log", reason: "device lost" } })
    const y = Backend.withBackend(b, () => jnp.log(jnp.linspace(1, 2, 4).mul(2)))
    const n = Backend.withBackend(b, () => jnp.array([1, 2], { dtype: "int32" }).add(1))
    const lost = await y.data().catch((e: unknown) => e)
    expect(lost).toBeInstanceOf(Backend.GpuDeviceLostError)
    await expect(n.data()).rejects.toBe(lost)
  })

  it("a jit program's kernels are refused after destroy, and its failures name the fused kernel", async () => {
    const f = jit((x: JArray) => jnp.tanh(x.mul(2).add(1)).mul(x))
    const { b } = await fresh()
    const x = Backend.withBackend(b, () => jnp.linspace(-1, 1, 5))
    await Backend.withBackend(b, () => f(x)).blockUntilReady()
    b.destroy()
    let thrown: unknown
    try {
      Backend.withBackend(b, () => f(x))
    } catch (e) {
      thrown = e
    }
    expect(thrown).toMatchObject({ _tag: "GpuKernelError", op: "fused" })
    expect(() => b.defer?.([], [], async () => [])).toThrow(
      expect.objectContaining({ _tag: "GpuKernelError", op: "control flow" })
    )
    const failing = await fresh({ failure: { marker: "done_", reason: "too many registers" }, onKernelError: "fail" })
    const y = Backend.withBackend(failing.b, () => jnp.linspace(-1, 1, 5))
    await expect(Backend.withBackend(failing.b, () => f(y)).data()).rejects.toMatchObject({
      _tag: "GpuKernelError",
      op: "fused"
    })
  })

  it("a fused kernel's fallback reads inputs that are only on the device", async () => {
    const f = jit((x: JArray, z: JArray) => jnp.tanh(x.mul(2).add(z)).mul(x))
    const want = onWasm(() => f(jnp.linspace(-1, 1, 5), jnp.linspace(0, 2, 5).mul(0.5))).dataSync()
    const failing = await fresh({ failure: { marker: "done_", reason: "too many registers" }, log: () => {} })
    const [x, z] = Backend.withBackend(failing.b, () => [jnp.linspace(-1, 1, 5).mul(1), jnp.linspace(0, 2, 5).mul(0.5)])
    await failing.b.flush()
    const got = await Backend.withBackend(failing.b, () => f(x!, z!)).data()
    for (let i = 0; i < want.length; i++) expect(got[i]!).toBeCloseTo(want[i]!, 5)
    expect(failing.b.gpuStats.kernelErrors).toBe(1)
  })

  it("a tidy inside jit's trace passes tracers through", async () => {
    const { b } = await fresh()
    const f = jit((x: JArray) => Backend.tidy(() => x.mul(2).add(1)))
    expect(Array.from(await Backend.withBackend(b, () => f(jnp.array([1, 2], { dtype: "float32" }))).data())).toEqual([
      3, 5
    ])
  })

  it("keeps complex numbers on the host, and a reshape of them is a view", async () => {
    const { b } = await fresh()
    const z = Backend.withBackend(b, () => jnp.array([1, 2, 3, 4], { dtype: "float32" }).astype("complex64"))
    await b.flush()
    const r = Backend.withBackend(b, () => z.reshape([2, 2]))
    expect(b.gpuStats.cpuOps.get("reshape")).toBeUndefined()
    expect(r.shape).toEqual([2, 2])
    expect(r.tolist()).toEqual([
      [
        { re: 1, im: 0 },
        { re: 2, im: 0 }
      ],
      [
        { re: 3, im: 0 },
        { re: 4, im: 0 }
      ]
    ])
    expect(b.gpuStats.cpuOps.get("convert_element_type")).toBe(1)
  })

  it("is a webgpu backend only by its name and its adapter", async () => {
    const { b } = await fresh()
    expect(Backend.isWebgpuBackend({ ...b, name: "gpujs" })).toBe(false)
  })

  it("frees the steps a multi-step operation made when a later step fails", async () => {
    const memory: StandInMemory = { live: 0 }
    const inner = await cpuGpuJs(memory)
    let launches = 0
    let failAt = Number.POSITIVE_INFINITY
    const Inner = inner.GPU as unknown as new (
      s: unknown
    ) => {
      createKernel(src: string, settings: unknown): ((...a: Array<unknown>) => unknown) & { destroy(): void }
      destroy(): void
    }
    class Counting extends Inner {
      override createKernel(src: string, settings: unknown) {
        const kernel = super.createKernel(src, settings)
        return Object.assign(
          (...a: Array<unknown>) =>
            ++launches === failAt ? Promise.reject(new Error("out of device memory")) : kernel(...a),
          { destroy: () => kernel.destroy() }
        )
      }
    }
    const b = await makeWith({ GPU: Counting as unknown as Backend.GpuJs["GPU"] }, standInAdapter, { log: () => {} })
    made.push(b)
    const x = b.upload(new Float32Array(5000).fill(1), f32([5000]))
    const [warm] = b.execute("reduce_sum", [x], [f32([5000])], [f32([])], { axes: [0] })
    await b.read(warm!, f32([]))
    b.dispose(warm!)
    const live = memory.live
    // The reduction's second kernel fails: the first one's output is freed, the op runs on the cpu.
    failAt = launches + 2
    const [s] = b.execute("reduce_sum", [x], [f32([5000])], [f32([])], { axes: [0] })
    expect(Array.from(await b.read(s!, f32([])))).toEqual([5000])
    expect(b.gpuStats.kernelErrors).toBe(1)
    expect(memory.live).toBe(live)
  })
})
