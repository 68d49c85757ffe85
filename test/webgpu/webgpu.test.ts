/**
 * The webgpu backend's own behaviour: asynchronous evaluation behind the synchronous API, the typed
 * error of a synchronous read, reads as Effects, memory released while operations are still queued,
 * work that runs on the cpu kernels inside the queue, control flow decided on the device, failing
 * kernels and a lost device, fusion, and a training loop with lifted transforms.
 */
import { inspect } from "node:util"
import { Cause, Effect, Exit } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { Backend, jit, jnp, lax, nnx, optax, PendingReadError, random } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { eachWebgpu, flushAll, webgpu } from "./backend.ts"

// Nothing stays queued when the file ends: Dawn must not call back into a finished test worker.
afterAll(flushAll)

const onWasm = <A>(f: () => A): A => Backend.withBackend(Backend.defaultBackend(), f)

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 2e-5): void => {
  expect(got.length).toBe(want.length)
  for (let i = 0; i < want.length; i++)
    expect(Math.abs(got[i]! - want[i]!), `element ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(
      tol * (1 + Math.abs(want[i]!))
    )
}

describe.each(eachWebgpu)("the webgpu backend (%s)", (_, candidate) => {
  if (candidate.backend === undefined) {
    it.skip(`does not start here: ${candidate.reason}`, () => {})
    return
  }
  const b = candidate.backend
  const on = <A>(f: () => A): A => Backend.withBackend(b, f)

  it("says which adapter it runs on", () => {
    expect(b.adapter.vendor.length + b.adapter.architecture.length).toBeGreaterThan(0)
    expect(Backend.describeAdapter(b.adapter)).toMatch(/\S/)
    if (/swiftshader/i.test(b.adapter.architecture)) expect(b.adapter.software).toBe(true)
  })

  it("returns arrays at once and reads them asynchronously; a synchronous read first is a typed error", async () => {
    const run = () => jnp.tanh(jnp.arange(12).astype("float32").reshape([3, 4]).mul(0.25)).sum(1)
    const y = on(run)
    expect(y.shape).toEqual([3])
    let thrown: unknown
    try {
      y.tolist()
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeInstanceOf(PendingReadError)
    expect((thrown as PendingReadError)._tag).toBe("PendingReadError")
    expect((thrown as Error).message).toContain("float32[3]")
    expect((thrown as Error).message).toContain("await x.data()")
    expect(() => on(() => jnp.sum(y)).item()).toThrow(PendingReadError)
    expect(() => String(y)).toThrow(PendingReadError)
    // console.log shows what it can instead of throwing.
    expect(inspect(on(() => y.mul(3)))).toBe(
      "Array(<not read back from webgpu yet: await x.blockUntilReady()>, shape=(3,), dtype=float32)"
    )
    close(await y.data(), onWasm(run).dataSync())
    // Once read back, synchronous reads work.
    close(y.tolist() as Array<number>, onWasm(run).tolist() as Array<number>)
    const z = on(() => y.mul(2))
    expect(await z.blockUntilReady()).toBe(z)
    close(z.dataSync(), onWasm(() => run().mul(2)).dataSync())
  })

  it("reads as Effects: Backend.data, tolist, item and blockUntilReady", async () => {
    const x = on(() => jnp.arange(4).astype("float32").mul(1.5))
    expect(Array.from(await Effect.runPromise(Backend.data(x)))).toEqual([0, 1.5, 3, 4.5])
    expect(await Effect.runPromise(Backend.tolist(on(() => x.reshape([2, 2]))))).toEqual([
      [0, 1.5],
      [3, 4.5]
    ])
    expect(await Effect.runPromise(Backend.item(on(() => jnp.sum(x))))).toBe(9)
    const tree = on(() => ({ a: x.add(1), b: [x.mul(2)] }))
    const ready = await Effect.runPromise(Backend.blockUntilReady(tree))
    expect(ready).toBe(tree)
    expect(ready.b[0]!.tolist()).toEqual([0, 3, 6, 9])
    // A disposed array fails in the error channel with its typed error.
    const gone = on(() => x.add(2))
    gone.dispose()
    const failure = await Effect.runPromise(Effect.flip(Backend.data(gone)))
    expect(failure._tag).toBe("DTypeError")
    expect(failure.message).toContain("disposed")
    // A traced value cannot be read: data() rejects with the ConcretizationError.
    await expect(
      (async () => {
        let inner: Promise<unknown> = Promise.resolve()
        jit((v: JArray) => {
          inner = v.data()
          return v
        })(jnp.ones([2]))
        return inner
      })()
    ).rejects.toMatchObject({ _tag: "ConcretizationError" })
  })

  it("keeps an input alive for the operations queued on it after it is disposed", async () => {
    // A backend of its own: its counters see only this test's arrays.
    const own = await candidate.fresh({ onKernelError: "fail" })
    const memory = own.gpuStats.memory
    const x = Backend.withBackend(own, () => jnp.array([0, 1, 2, 3, 4, 5], { dtype: "float32" }))
    expect(memory.liveStorages).toBe(1)
    // The tidy disposes the product and the two weak constants while both operations are queued;
    // the queue keeps them until it has run.
    const y = Backend.withBackend(own, () => Backend.tidy(() => x.mul(2).add(1)))
    x.dispose()
    expect(memory.liveStorages).toBe(5)
    expect(own.gpuStats.queued).toBe(2)
    expect(Array.from(await y.data())).toEqual([1, 3, 5, 7, 9, 11])
    expect(own.gpuStats.queued).toBe(0)
    expect(memory.liveStorages).toBe(1)
    expect(memory.liveDevice).toBe(1)
    y.dispose()
    expect(memory.liveStorages).toBe(0)
    expect(memory.liveDevice).toBe(0)
    own.destroy()
  })

  it("frees a result disposed before the queue computed it as soon as it is computed", async () => {
    const own = await candidate.fresh({ onKernelError: "fail" })
    const memory = own.gpuStats.memory
    const x = Backend.withBackend(own, () => jnp.array([1, 2, 3], { dtype: "float32" }))
    const y = Backend.withBackend(own, () => jnp.exp(x))
    y.dispose()
    await own.flush()
    expect(memory.liveStorages).toBe(1)
    expect(memory.liveDevice).toBe(1) // x's upload; y's buffer went when it was made
    await expect(y.data()).rejects.toMatchObject({ _tag: "DTypeError" })
    x.dispose()
    expect(memory.liveStorages).toBe(0)
    own.destroy()
  })

  it("runs integer, bit and PRNG operations on the cpu kernels inside the queue, exactly", async () => {
    const run = () => {
      const k = random.split(random.key(42), 3)
      return [
        random.keyData(k),
        random.bits(k.get(1), [5]),
        jnp.arange(10).mul(123456789).floorDiv(7),
        random.uniform(random.key(7), [64]),
        random.normal(random.key(8), [64])
      ]
    }
    const before = b.gpuStats.cpuOps.get("threefry2x32") ?? 0
    const got = on(run)
    const want = onWasm(run)
    for (let i = 0; i < 3; i++) expect(Array.from(await got[i]!.data())).toEqual(Array.from(want[i]!.dataSync()))
    close(await got[3]!.data(), want[3]!.dataSync(), 1e-6)
    close(await got[4]!.data(), want[4]!.dataSync(), 1e-5)
    expect(b.gpuStats.cpuOps.get("threefry2x32") ?? 0).toBeGreaterThan(before)
  })

  it("decides control flow on the device: while, cond and switch on computed predicates, eagerly and under jit", async () => {
    const loop = (x: JArray) =>
      lax.whileLoop(
        (s: readonly [JArray, JArray]) => jnp.sum(s[1]).lt(100),
        (s: readonly [JArray, JArray]) => [s[0].add(1), s[1].mul(1.5).add(1)] as const,
        [jnp.array(0), x] as const
      )
    const branchy = (x: JArray) =>
      lax.cond(
        jnp.max(x).gt(2),
        (v: JArray) =>
          lax.switch(jnp.argmax(v), [(u: JArray) => u.mul(2), (u: JArray) => jnp.sin(u), (u: JArray) => u.neg()], v),
        (v: JArray) => loop(v)[1],
        x
      )
    const x = () => jnp.array([0.5, 1.5, 2.5], { dtype: "float32" })
    const [n, v] = on(() => loop(x()))
    const [wn, wv] = onWasm(() => loop(x()))
    expect(Array.from(await n.data())).toEqual(Array.from(wn.dataSync()))
    close(await v.data(), wv.dataSync())
    for (const f of [branchy, jit(branchy)]) {
      for (const input of [x, () => x().mul(0.5)]) {
        close(await on(() => f(input())).data(), onWasm(() => f(input())).dataSync())
      }
    }
    // A while loop nested in a while loop's body.
    const nested = (x: JArray) =>
      lax.whileLoop(
        (s: JArray) => jnp.sum(s).lt(50),
        (s: JArray) => loop(s.add(1))[1],
        x
      )
    close(await on(() => nested(x())).data(), onWasm(() => nested(x())).dataSync())
  })

  it("releases a device-decided loop's iterations as it goes", async () => {
    const own = await candidate.fresh({ onKernelError: "fail" })
    const memory = own.gpuStats.memory
    const x = Backend.withBackend(own, () => jnp.array([0.5, 1], { dtype: "float32" }))
    const [n, v] = Backend.withBackend(own, () =>
      Backend.tidy(() =>
        lax.whileLoop(
          (s: readonly [JArray, JArray]) => s[0].lt(60),
          (s: readonly [JArray, JArray]) => [s[0].add(1), jnp.tanh(s[1]).add(s[1].mul(0.5))] as const,
          [jnp.array(0), x] as const
        )
      )
    )
    expect(Array.from(await n.data())).toEqual([60])
    await v.data()
    // x, the loop's two results, and its programs' three literals (60, 1, 0.5), which outlive the
    // tidy around the call because the queued loop runs them: sixty iterations of carries and
    // predicates are gone.
    expect(memory.liveStorages).toBe(6)
    for (const a of [x, n, v]) a.dispose()
    expect(memory.liveStorages).toBe(3)
    own.destroy()
  })

  it("fuses a jitted elementwise chain into one kernel", async () => {
    const f = jit((x: JArray) => jnp.tanh(x.mul(2).add(1)).mul(x))
    const x = on(() => jnp.linspace(-2, 2, 1000))
    await on(() => f(x)).data()
    Backend.resetStats(b)
    const y = on(() => f(x))
    expect(b.stats.byPrimitive.get("fused")).toBe(1)
    expect(b.stats.dispatches).toBe(1)
    close(await y.data(), onWasm(() => f(jnp.linspace(-2, 2, 1000))).dataSync())
  })

  it("gives log and log1p's values at and below their domain, as the cpu kernels (WGSL's log is undefined there)", async () => {
    const x = () => jnp.array([-1.5, -0.5, 0, -0, 2, Number.NaN, Number.POSITIVE_INFINITY], { dtype: "float32" })
    const logs = Array.from(await on(() => jnp.log(x())).data())
    expect(logs.slice(0, 4)).toEqual([Number.NaN, Number.NaN, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY])
    expect(logs[4]).toBeCloseTo(Math.log(2), 6)
    expect(logs.slice(5)).toEqual([Number.NaN, Number.POSITIVE_INFINITY])
    const y = () =>
      jnp.array([-2, -1, 1e-8, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN], { dtype: "float32" })
    const log1ps = Array.from(await on(() => jnp.log1p(y())).data())
    expect(log1ps).toEqual(Array.from(onWasm(() => jnp.log1p(y())).dataSync()))
    expect(log1ps).toEqual([
      Number.NaN,
      Number.NEGATIVE_INFINITY,
      log1ps[2],
      Number.POSITIVE_INFINITY,
      Number.NaN,
      Number.NaN
    ])
    expect(log1ps[2]).toBeCloseTo(1e-8, 12)
    // Fused under jit too.
    const f = jit((v: JArray) => jnp.log(v).mul(2))
    expect(Array.from(await on(() => f(x())).data()).slice(0, 4)).toEqual([
      Number.NaN,
      Number.NaN,
      Number.NEGATIVE_INFINITY,
      Number.NEGATIVE_INFINITY
    ])
  })

  it("concatenates more arrays than one kernel may read (WebGPU's 8 storage buffers), in chained kernels", async () => {
    for (const n of [7, 8, 15, 16]) {
      const parts = (make: <A>(g: () => A) => A) =>
        Array.from({ length: n }, (_, k) => make(() => jnp.array([k, k + 0.5], { dtype: "float32" }).reshape([1, 2])))
      const got = on(() => jnp.concatenate(parts(on), 0))
      expect(got.shape).toEqual([n, 2])
      expect(Array.from(await got.data())).toEqual(
        Array.from(onWasm(() => jnp.concatenate(parts(onWasm), 0)).dataSync())
      )
    }
  })

  it("fuses a program reading up to 7 arrays (WebGPU's 8 storage buffers, one for the output), and runs a wider one op by op", async () => {
    const f = jit((...xs: Array<JArray>) => xs.reduce((s, x) => jnp.tanh(s.mul(x)).add(x)))
    for (const n of [7, 8, 12]) {
      const inputs = (make: <A>(g: () => A) => A) =>
        Array.from({ length: n }, (_, k) => make(() => jnp.linspace(-1, 1, 5).add(k * 0.1)))
      const want = onWasm(() => f(...inputs(onWasm))).dataSync()
      const xs = inputs(on)
      await on(() => f(...xs)).blockUntilReady()
      Backend.resetStats(b)
      const y = on(() => f(...xs))
      close(await y.data(), want)
      expect(b.stats.byPrimitive.get("fused") ?? 0, `${n} inputs`).toBe(n <= 7 ? 1 : 0)
      expect(b.gpuStats.kernelErrors).toBe(0)
    }
  })

  it("trains a model with nnx.jit, valueAndGrad and an optimizer by providing its layer, as on wasm", async () => {
    const step = nnx.jit((m: nnx.Linear, opt: nnx.Optimizer<nnx.Linear>, x: JArray, y: JArray) => {
      const [loss, grads] = nnx.valueAndGrad((mm: nnx.Linear) => jnp.mean(mm.call(x).sub(y).pow(2))).sync(m)
      opt.update(m, grads)
      return loss
    })
    const program = Effect.gen(function* () {
      const { model, optimizer, x, y } = yield* Backend.run(() => {
        const model = new nnx.Linear(3, 2, { rngs: new nnx.Rngs({ params: 0 }) })
        const optimizer = new nnx.Optimizer(model, optax.adam(0.05), { wrt: nnx.Param })
        const x = jnp.linspace(-1, 1, 12).reshape([4, 3])
        return { model, optimizer, x, y: jnp.sin(x.matmul(jnp.ones([3, 2]))) }
      })
      const losses: Array<JArray> = []
      for (let i = 0; i < 5; i++) losses.push(yield* step(model, optimizer, x, y))
      const values = yield* Effect.forEach(losses, Backend.item)
      const kernel = yield* Backend.data(model.kernel.value)
      return { values: values as Array<number>, kernel, backend: model.kernel.value }
    })
    const got = await Effect.runPromise(program.pipe(Effect.provide(Backend.layer(b))))
    const want = await Effect.runPromise(program)
    expect(got.backend.isConcrete).toBe(true)
    close(got.values, want.values, 1e-4)
    expect(got.values[4]).toBeLessThan(got.values[0]!)
    close(got.kernel, want.kernel, 1e-4)
    expect(b.gpuStats.gpuLaunches).toBeGreaterThan(0)
  })

  // Mutation runs skip it: it takes seconds, and the exact counters of the tests above see a leak.
  it.skipIf(process.env["EFFECT_NNX_MUTATION_SEED"] !== undefined)(
    "keeps memory flat over a soak of 100,000 operations",
    async () => {
      const storages = b.gpuStats.memory.liveStorages
      const device = b.gpuStats.memory.liveDevice
      let w = on(() => jnp.zeros([256]))
      for (let i = 0; i < 25_000; i++) {
        const next = on(() => Backend.tidy(() => w.sub(jnp.tanh(w.add(1)).mul(0.01))))
        w.dispose()
        w = next
        if (i % 5000 === 4999) {
          await w.blockUntilReady()
          // Never above where it started (the garbage collector may release older arrays meanwhile).
          expect(b.gpuStats.memory.liveStorages).toBeLessThanOrEqual(storages + 1)
          expect(b.gpuStats.memory.liveDevice).toBeLessThanOrEqual(device + 1)
        }
      }
      expect((await w.data())[0]).toBeCloseTo(-0.99, 1)
      w.dispose()
      expect(b.gpuStats.memory.liveStorages).toBeLessThanOrEqual(storages)
    },
    300_000
  )
})

describe.each(eachWebgpu)("failing kernels and a lost device on webgpu (%s)", (_, candidate) => {
  if (candidate.backend === undefined) {
    it.skip(`does not start here: ${candidate.reason}`, () => {})
    return
  }
  it("runs a failing kernel's operation on the cpu kernels, reported once", async () => {
    const logged: Array<string> = []
    const b = await candidate.fresh({
      failure: { marker: "Math.exp", reason: "shader compilation failed" },
      log: (m) => logged.push(m)
    })
    const run = () => jnp.exp(jnp.linspace(0, 1, 8)).add(1)
    close(await Backend.withBackend(b, run).data(), onWasm(run).dataSync())
    close(await Backend.withBackend(b, run).data(), onWasm(run).dataSync())
    expect(b.gpuStats.kernelErrors).toBe(1)
    expect(logged).toHaveLength(1)
    expect(logged[0]).toContain("exp")
    expect(logged[0]).toContain("shader compilation failed")
    expect(b.gpuStats.cpuOps.get("exp")).toBe(2)
    b.destroy()
  })

  it("with onKernelError: 'fail', the results and everything computed from them fail with the GpuKernelError", async () => {
    const b = await candidate.fresh({
      failure: { marker: "Math.exp", reason: "shader compilation failed" },
      onKernelError: "fail"
    })
    const [e, after, fine] = Backend.withBackend(b, () => {
      const e = jnp.exp(jnp.linspace(0, 1, 8))
      return [e, e.mul(2), jnp.linspace(0, 1, 8).mul(2)] as const
    })
    await expect(e.data()).rejects.toBeInstanceOf(Backend.GpuKernelError)
    await expect(after.data()).rejects.toMatchObject({ _tag: "GpuKernelError", op: "exp" })
    expect(() => after.dataSync()).toThrow(Backend.GpuKernelError)
    const exit = await Effect.runPromiseExit(Backend.data(after))
    expect(Exit.isFailure(exit) && Cause.hasFails(exit.cause)).toBe(true)
    expect(Array.from(await fine.data())).toEqual(Array.from(onWasm(() => jnp.linspace(0, 1, 8).mul(2)).dataSync()))
    b.destroy()
    expect(() => Backend.withBackend(b, () => jnp.ones([2]).add(1))).toThrow(/destroyed/)
  })

  it("a lost device fails what was queued and everything after it with GpuDeviceLostError", async () => {
    const b = await candidate.fresh({
      failure: { marker: "Math.log", reason: "WebGPU device was lost; call kernel.destroy()" }
    })
    const y = Backend.withBackend(b, () => jnp.log(jnp.linspace(1, 2, 4)))
    await expect(y.data()).rejects.toMatchObject({ _tag: "GpuDeviceLostError" })
    expect(() => Backend.withBackend(b, () => jnp.ones([2]).add(1))).toThrow(Backend.GpuDeviceLostError)
    const exit = await Effect.runPromiseExit(Backend.data(y))
    expect(Exit.isFailure(exit) && Cause.hasFails(exit.cause)).toBe(true)
  })
})

describe("Backend.auto with WebGPU", () => {
  it("takes WebGPU on a hardware adapter, passes over a software one unless asked, and says why", async () => {
    const s = await Effect.runPromise(Backend.select())
    try {
      if (webgpu === undefined) {
        expect(s.chosen).not.toBe("webgpu")
        expect(s.reason ?? "").toMatch(/webgpu/i)
      } else if (webgpu.adapter.software) {
        expect(s.chosen).not.toBe("webgpu")
        expect(s.reason).toContain("software")
      } else {
        expect(s.chosen).toBe("webgpu")
        expect(s.adapter).toBe(Backend.describeAdapter(webgpu.adapter))
      }
    } finally {
      if (s.chosen !== "wasm") (s.backend as Backend.WebgpuBackend).destroy()
    }
  })

  it.skipIf(webgpu === undefined)(
    "takes a software adapter with webgpu: 'any', and skips WebGPU with 'off'",
    async () => {
      const any = await Effect.runPromise(Backend.select({ webgpu: "any" }))
      expect(any.chosen).toBe("webgpu")
      expect(any.adapter).toBe(Backend.describeAdapter(webgpu!.adapter))
      expect(Backend.isWebgpuBackend(any.backend)).toBe(true)
      ;(any.backend as Backend.WebgpuBackend).destroy()
      const off = await Effect.runPromise(Backend.select({ webgpu: "off", mode: "webgl2" }))
      expect(off.chosen).toBe("wasm")
      expect(off.reason).not.toMatch(/webgpu/i)
    }
  )

  it.skipIf(webgpu === undefined)(
    "layerWebgpu provides the backend to a program that reads asynchronously",
    async () => {
      const program = Backend.run(() =>
        jnp
          .ones([3, 3])
          .matmul(jnp.ones([3, 3]))
          .sum()
      ).pipe(
        Effect.flatMap((x) =>
          Effect.zip(
            Backend.item(x),
            Effect.sync(() => x.isConcrete)
          )
        )
      )
      const [total, concrete] = await Effect.runPromise(program.pipe(Effect.provide(Backend.layerWebgpu())))
      expect(total).toBe(27)
      expect(concrete).toBe(true)
    }
  )
})
