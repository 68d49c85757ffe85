/**
 * The gpujs backend's own contract, on every gpu.js mode that starts here: data stays on the device
 * between operations and is read back only when the host needs it; integer, bit and PRNG operations
 * run on the cpu kernels with exactly the cpu backend's answers; kernels are cached; a failing kernel
 * falls back (logged) or throws a typed error, never returning a number; memory is released by
 * disposal, by the finalizer, and stays flat over a long run of operations.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import { runInNewContext } from "node:vm"
import { setFlagsFromString } from "node:v8"
import { Backend, grad, jnp, random, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { eachGpujs, gpujsCandidates } from "./backends.ts"

const close = (a: ReadonlyArray<number>, b: ReadonlyArray<number>, tol = 1e-5): boolean =>
  a.length === b.length && a.every((x, i) => Math.abs(x - b[i]!) <= tol * (1 + Math.abs(b[i]!)))

const flat = (x: JArray): Array<number> => Array.from(x.dataSync())

describe.each(eachGpujs)("the gpujs backend on %s", (label, candidate) => {
  const b = candidate.backend
  if (b === undefined) {
    it.skip(`${label} does not start here: ${candidate.reason}`, () => {})
    return
  }
  const on = <A>(f: () => A): A => Backend.withBackend(b, f)

  it("keeps a chain of float operations on the device and reads back once, on tolist", () => {
    on(() => {
      const x = jnp.linspace(-1, 1, 64).reshape(8, 8)
      const w = jnp.ones([8, 8]).mul(0.5)
      const before = b.gpuStats.downloads
      const cpuOpsBefore = [...b.gpuStats.cpuOps.values()].reduce((s, n) => s + n, 0)
      const y = jnp.tanh(x.matmul(w).add(x.T)).mul(2).sum(0)
      assert.strictEqual(b.gpuStats.downloads, before, "no read-back between chained operations")
      assert.strictEqual(
        [...b.gpuStats.cpuOps.values()].reduce((s, n) => s + n, 0),
        cpuOpsBefore,
        "nothing fell back"
      )
      const want = Backend.withBackend(Backend.cpu, () =>
        flat(
          jnp
            .tanh(
              jnp
                .linspace(-1, 1, 64)
                .reshape(8, 8)
                .matmul(jnp.ones([8, 8]).mul(0.5))
                .add(jnp.linspace(-1, 1, 64).reshape(8, 8).T)
            )
            .mul(2)
            .sum(0)
        )
      )
      assert.isTrue(close(flat(y), want))
      assert.strictEqual(b.gpuStats.downloads, before + 1)
      y.tolist()
      assert.strictEqual(b.gpuStats.downloads, before + 1, "a read-back is kept")
    })
  })

  it("runs integer, bit and PRNG operations on the cpu kernels, exactly", () => {
    const run = () => {
      const k = random.split(random.key(42), 3)
      const bits = random.bits(k.get(1), [5])
      const i = jnp.arange(10).mul(123456789).floorDiv(7).xor(0x5555)
      const big = jnp.array([16777217, 2147483647], { dtype: "int32" }).add(1)
      return [random.keyData(k).tolist(), bits.tolist(), i.tolist(), big.tolist()]
    }
    const want = Backend.withBackend(Backend.cpu, run)
    const before = b.gpuStats.cpuOps.get("threefry2x32") ?? 0
    assert.deepStrictEqual(on(run), want)
    assert.isAbove(b.gpuStats.cpuOps.get("threefry2x32") ?? 0, before)
  })

  it("samples uniform and normal numbers like the cpu backend (float parts on gpu.js)", () => {
    const run = () => [flat(random.uniform(random.key(7), [256])), flat(random.normal(random.key(8), [256]))] as const
    const [u, n] = on(run)
    const [cu, cn] = Backend.withBackend(Backend.cpu, run)
    assert.isTrue(close(u, cu, 1e-6))
    assert.isTrue(close(n, cn, 1e-4))
  })

  it("vmap(grad) of a layer matches the cpu backend", () => {
    const loss = (w: JArray, x: JArray) => jnp.sum(jnp.tanh(x.matmul(w)))
    const run = () =>
      flat(
        vmap(grad(loss), { inAxes: [null, 0] })(
          jnp.linspace(-1, 1, 12).reshape(4, 3),
          jnp.linspace(0, 2, 40).reshape(10, 4)
        )
      )
    assert.isTrue(close(on(run), Backend.withBackend(Backend.cpu, run)))
  })

  it("chunks long reductions, tiles long contractions and indexes large arrays exactly", () => {
    const run = () => {
      const x = jnp.arange(3_000_000).astype("float32").reshape(1500, 2000)
      const t = x.T.get("1999:", ":").reshape(-1) // element (j, i) of the transpose: i · 2000 + j
      const long = jnp.sin(jnp.arange(50_000).astype("float32"))
      const sum = jnp.sum(long)
      const mx = jnp.max(long.mul(3))
      const dot = jnp.dot(long, jnp.cos(jnp.arange(50_000).astype("float32")))
      const rows = jnp.sum(x.get("0:4", ":").reshape(4, 2000).mul(1e-3), 1)
      return [
        flat(t.get("0:5")),
        flat(t.get("-5:")),
        [sum.item() as number, mx.item() as number, dot.item() as number],
        flat(rows)
      ]
    }
    const got = on(run)
    const want = Backend.withBackend(Backend.cpu, run)
    assert.deepStrictEqual(got[0], want[0])
    assert.deepStrictEqual(got[1], want[1])
    assert.isTrue(close(got[2]!, want[2]!, 1e-3), `${got[2]} vs ${want[2]}`)
    assert.isTrue(close(got[3]!, want[3]!, 1e-5), `${got[3]} vs ${want[3]}`)
  })

  it("places float work on gpu.js and integer work on the cpu kernels", () => {
    const f32 = { shape: [3], dtype: "float32", weakType: false } as const
    const i32 = { shape: [3], dtype: "int32", weakType: false } as const
    assert.isTrue(b.runsOnGpu("add", [f32, f32], [f32], {}))
    assert.isTrue(b.runsOnGpu("exp", [f32], [f32], {}))
    assert.isFalse(b.runsOnGpu("add", [i32, i32], [i32], {}))
    assert.isFalse(b.runsOnGpu("rem", [f32, f32], [f32], {}))
    assert.isFalse(
      b.runsOnGpu("argmax", [f32], [{ shape: [], dtype: "int32", weakType: false }], { axis: 0, indexDtype: "int32" })
    )
  })

  it("gives each call of one kernel its own output", () => {
    on(() => {
      const x = jnp.ones([6])
      const a = x.mul(2)
      const c = x.mul(3)
      const d = a.mul(c)
      assert.deepStrictEqual(
        [a.tolist(), c.tolist(), d.tolist()],
        [
          [2, 2, 2, 2, 2, 2],
          [3, 3, 3, 3, 3, 3],
          [6, 6, 6, 6, 6, 6]
        ]
      )
    })
  })

  it("compiles each kernel once: a repeated computation hits the cache", () => {
    const step = () => on(() => jnp.sum(jnp.exp(jnp.ones([7, 5]).mul(0.25)), 1).tolist())
    step()
    const compiled = b.gpuStats.kernelsCompiled
    step()
    step()
    assert.strictEqual(b.gpuStats.kernelsCompiled, compiled)
  })

  it("releases device memory on dispose, keeping storage shared by reshapes alive", () => {
    on(() => {
      const x = jnp.ones([4, 4]).mul(3)
      const y = x.reshape(16)
      const base = b.gpuStats.memory.liveStorages
      x.dispose()
      assert.strictEqual(b.gpuStats.memory.liveStorages, base, "y still shares the storage")
      assert.deepStrictEqual(y.tolist(), new Array(16).fill(3))
      y.dispose()
      assert.strictEqual(b.gpuStats.memory.liveStorages, base - 1)
    })
  })

  it("tidy disposes what a block made except its result, and nests", () => {
    on(() => {
      const base = b.gpuStats.memory.liveStorages
      const [kept, inner] = Backend.tidy(() => {
        const t = jnp.ones([5]).mul(2).add(1)
        const i = Backend.tidy(() => t.mul(t).sub(1))
        return [t.add(i), i] as const
      })
      assert.strictEqual(b.gpuStats.memory.liveStorages, base + 2)
      assert.deepStrictEqual(kept.tolist(), [11, 11, 11, 11, 11])
      assert.deepStrictEqual(inner.tolist(), [8, 8, 8, 8, 8])
      kept.dispose()
      inner.dispose()
      assert.strictEqual(b.gpuStats.memory.liveStorages, base)
    })
  })

  it("frees what a garbage-collected array held (the finalizer)", async () => {
    setFlagsFromString("--expose-gc")
    const gc = runInNewContext("gc") as () => void
    const before = b.gpuStats.memory.finalized
    on(() => {
      for (let i = 0; i < 50; i++) jnp.ones([3]).mul(i)
    })
    for (let i = 0; i < 10 && b.gpuStats.memory.finalized === before; i++) {
      gc()
      await new Promise((r) => setTimeout(r, 10))
    }
    assert.isAbove(b.gpuStats.memory.finalized, before)
  })
})

describe("a soak of many operations", () => {
  // 100,000 operations where one costs microseconds; GL modes (a draw call each, about 0.2 ms in
  // software rendering) run 10,000, which is enough to see textures accumulate if any leaked.
  for (const candidate of gpujsCandidates) {
    const b = candidate.backend
    if (b === undefined) continue
    const n = b.mode === "headlessgl" ? 10_000 : 100_000
    it(`keeps memory flat over ${n.toLocaleString("en")} operations on ${candidate.label}`, () => {
      Backend.withBackend(b, () => {
        let x = jnp.zeros([4])
        const live = b.gpuStats.memory.liveStorages
        const device = b.gpuStats.memory.liveDevice
        const heap = process.memoryUsage().heapUsed
        for (let i = 0; i < n; i++) {
          // tidy releases the temporaries (here the weak scalar 1) at once.
          const y = Backend.tidy(() => x.add(1))
          x.dispose()
          x = y
        }
        assert.deepStrictEqual(x.tolist(), [n, n, n, n])
        assert.isAtMost(b.gpuStats.memory.liveStorages, live + 1)
        assert.isAtMost(b.gpuStats.memory.liveDevice, device + 1)
        assert.isBelow(process.memoryUsage().heapUsed - heap, 64 * 1024 * 1024)
      })
    })
  }
})

/** A gpu.js whose kernels fail at run time when their source matches `failing`. */
const failingGpuJs = async (failing: RegExp): Promise<Backend.GpuJs> => {
  const real = Backend.asGpuJs(await import("gpu.js"))!
  const Real = real.GPU
  class Failing extends (Real as unknown as new (
    settings?: object
  ) => { createKernel(source: string, settings: object): unknown }) {
    override createKernel(source: string, settings: object): unknown {
      const kernel = super.createKernel(source, settings)
      if (!failing.test(source)) return kernel
      return Object.assign(
        () => {
          throw new Error("simulated driver failure")
        },
        { destroy: () => {} }
      )
    }
  }
  return Backend.asGpuJs({ GPU: Failing }) ?? real
}

describe("kernel failures", () => {
  it.effect("fall back to the cpu kernels, reported once, with the right answer", () =>
    Effect.gen(function* () {
      const logged: Array<string> = []
      const gpujs = yield* Effect.promise(() => failingGpuJs(/Math\.exp/))
      const b = yield* Backend.makeGpujs({ mode: "cpu", gpujs, log: (m) => logged.push(m) })
      const run = () => jnp.exp(jnp.arange(4).astype("float32")).tolist()
      const got = Backend.withBackend(b, () => [run(), run()])
      assert.deepStrictEqual(got[0], Backend.withBackend(Backend.cpu, run))
      assert.deepStrictEqual(got[1], got[0])
      assert.strictEqual(logged.length, 1)
      assert.match(logged[0]!, /exp.*simulated driver failure/)
      assert.strictEqual(b.gpuStats.kernelErrors, 1)
    })
  )

  it.effect("throw a GpuKernelError with onKernelError: fail", () =>
    Effect.gen(function* () {
      const gpujs = yield* Effect.promise(() => failingGpuJs(/Math\.exp/))
      const b = yield* Backend.makeGpujs({ mode: "cpu", gpujs, onKernelError: "fail" })
      const error = Backend.withBackend(b, () => {
        try {
          jnp.exp(jnp.ones([3]))
          return undefined
        } catch (e) {
          return e
        }
      })
      assert.instanceOf(error, Backend.GpuKernelError)
    })
  )

  it.effect("that break the start-up check make the mode unavailable", () =>
    Effect.gen(function* () {
      const gpujs = yield* Effect.promise(() => failingGpuJs(/./))
      const exit = yield* Effect.exit(Backend.makeGpujs({ mode: "cpu", gpujs, onKernelError: "fail" }))
      assert.isTrue(Exit.isFailure(exit))
    })
  )
})

describe("Backend.auto", () => {
  it.effect("chooses a GPU mode of gpu.js where one starts, else wasm, and says so", () =>
    Effect.gen(function* () {
      // WebGPU is left out here (test/webgpu covers it): these are the gpu.js modes' choices.
      const s = yield* Backend.select({ webgpu: "off" })
      const started = gpujsCandidates.find((c) => c.backend !== undefined && c.label === "gpujs:headlessgl")
      if (started === undefined) assert.strictEqual(s.chosen, "wasm")
      else assert.match(s.chosen, /^gpujs:/)
      if (s.chosen !== "wasm") (s.backend as Backend.GpujsBackend).destroy()
    })
  )

  it.effect("takes gpu.js's own choice when asked for mode gpu", () =>
    Effect.gen(function* () {
      const s = yield* Backend.select({ mode: "gpu" })
      assert.match(s.chosen, /^gpujs:(headlessgl|webasm)$/)
      if (s.chosen !== "wasm") (s.backend as Backend.GpujsBackend).destroy()
    })
  )

  it.effect("falls back to the wasm backend with the reason when gpu.js does not start", () =>
    Effect.gen(function* () {
      const s = yield* Backend.select({ mode: "webgl2" })
      assert.strictEqual(s.chosen, "wasm")
      assert.strictEqual(s.backend, Backend.defaultBackend())
      assert.match(s.reason ?? "", /webgl2/)
    })
  )

  it.effect("layerAuto provides the chosen backend and releases it with the scope", () =>
    Effect.gen(function* () {
      const result = yield* Backend.run(() =>
        jnp
          .ones([3, 3])
          .matmul(jnp.ones([3, 3]))
          .sum()
      ).pipe(Effect.flatMap(Backend.item), Effect.provide(Backend.layerAuto()))
      assert.strictEqual(result, 27)
    })
  )

  it.effect("layerGpujs fails with GpuUnavailableError where the mode does not start", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Layer.build(Backend.layerGpujs({ mode: "webgl" })).pipe(Effect.scoped))
      assert.strictEqual(error._tag, "GpuUnavailableError")
    })
  )
})
