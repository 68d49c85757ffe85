/**
 * effect-nnx contestants: one per backend (the default one, cpu when the default is not cpu, and
 * webgpu where an adapter answers). Each call runs with that backend current, reads its result back,
 * and disposes what it made (`Backend.tidy`, then the result). The read is `withData`, the zero-copy
 * read (as JAX's `np.asarray` is on its CPU backend): in a loop, `dataSync()` would copy a large
 * result or hold its block until the garbage collector runs. On webgpu, which reads asynchronously,
 * it is `await x.data()`: the call waits for the device and the readback.
 */
import { Cause, Effect, Exit } from "effect"
import { Backend, grad, jit, jnp, nn, nnx, vmap } from "../../src/index.ts"
import type { Array as JArray } from "../../src/index.ts"
import type { Contestant, RowId, Skip } from "../harness.ts"
import { localCase } from "../harness.ts"
import {
  CHAIN_SIZE,
  DEEP_CHAIN,
  inputs,
  LAYER_WIDTH,
  LEARNING_RATE,
  MLP_BATCH,
  MLP_SIZES,
  PEGRAD_BATCH,
  PEGRAD_WIDTH
} from "../rows.ts"

class Linear extends nnx.Module {
  kernel: nnx.Param<JArray>
  bias: nnx.Param<JArray>
  constructor(kernel: JArray, bias: JArray) {
    super()
    this.kernel = new nnx.Param(kernel)
    this.bias = new nnx.Param(bias)
  }
  call(x: JArray): JArray {
    return x.matmul(this.kernel.value).add(this.bias.value)
  }
}

/** The training-step row's model: Linear layers with relu between them. */
class MLP extends nnx.Module {
  layers: Array<Linear>
  constructor(layers: Array<Linear>) {
    super()
    this.layers = layers
  }
  call(x: JArray): JArray {
    let h = x
    for (const [i, layer] of this.layers.entries()) {
      h = layer.call(h)
      if (i < this.layers.length - 1) h = nn.relu(h)
    }
    return h
  }
}

/** The lifted-overhead rows' model: x → tanh(layer(x)) through every layer. */
class Stack extends nnx.Module {
  layers: Array<Linear>
  constructor(layers: Array<Linear>) {
    super()
    this.layers = layers
  }
  call(x: JArray): JArray {
    let h = x
    for (const layer of this.layers) h = jnp.tanh(layer.call(h))
    return h
  }
}

const f32 = (data: Float32Array, shape: ReadonlyArray<number>): JArray => jnp.fromHost(data, shape, "float32")

const paramsOf = (layers: ReadonlyArray<Linear>): Array<JArray> => layers.flatMap((l) => [l.kernel.value, l.bias.value])

const disposeLayers = (layers: ReadonlyArray<Linear>): void => {
  for (const a of paramsOf(layers)) a.dispose()
}

const crossEntropy = (model: MLP, x: JArray, y: JArray): JArray =>
  jnp.mean(jnp.sum(y.mul(nn.logSoftmax(model.call(x))), -1)).neg()

/** Plain SGD: every Param moves against its gradient (as test/lifted/training.test.ts writes it). */
const sgd = (model: MLP, grads: nnx.State, lr: number): void => {
  const params = nnx.state(model, nnx.Param)
  nnx.update(
    model,
    params.map((path, leaf) => {
      const g = grads.at(...path) as nnx.Variable<unknown>
      const p = leaf as nnx.Param<JArray>
      return p.replace(p.value.sub((g.value as JArray).mul(lr)))
    })
  )
}

const chain = (x: JArray): JArray => jnp.tanh(x.mul(2).add(1)).mul(x)

const pegradLoss = (w: JArray, x: JArray): JArray => jnp.sum(jnp.tanh(x.matmul(w)))

interface Calls {
  readonly call: () => void | Promise<void>
  readonly teardown: () => void
  readonly note?: string
}

const calls = (call: () => void | Promise<void>, teardown: () => void, note?: string): Calls =>
  note === undefined ? { call, teardown } : { call, teardown, note }

class ChainNode extends nnx.Module {
  w: nnx.Param<JArray>
  next: ChainNode | null
  constructor(w: JArray, next: ChainNode | null) {
    super()
    this.w = new nnx.Param(w)
    this.next = next
  }
}

/**
 * Runs `f`, then disposes every array it made except those in its result: the current backend's own
 * `tidy` where it has one (wasm, gpu.js), else `Backend.tidy`.
 */
const tidy = <A>(f: () => A): A => {
  const b = Backend.currentBackend()
  return Backend.isWasmBackend(b) ? b.tidy(f) : Backend.tidy(f)
}

/*
 * `traced`: each jitted function is traced once in the row's set-up, outside any tidy, because
 * arrays a trace makes (constants of the compiled program) would otherwise be disposed by the tidy
 * around the first call while the cache still holds them.
 */

/** Reads the first and last elements, so that the result is really there. */
const touch = (d: ArrayLike<number>): number => (d[0] ?? 0) + (d[d.length - 1] ?? 0)

/** Whether the current backend reads back asynchronously (webgpu). */
const isAsync = (): boolean => Backend.currentBackend().read !== undefined

/** A call whose result is read back and disposed, with everything it made in between. */
const reading = (f: () => JArray) => (): void | Promise<void> => {
  const out = tidy(f)
  if (isAsync())
    return out.data().then((d) => {
      touch(d)
      out.dispose()
    })
  out.withData(touch)
  out.dispose()
}

/**
 * Why a row is not measured on a software WebGPU adapter (SwiftShader runs the shaders on the CPU at
 * about 0.2 GFLOP/s): the large products take seconds to minutes per call, and split+merge runs no
 * array operation, so its webgpu column would repeat the wasm one.
 */
const softwareSkips: Partial<Record<RowId, string>> = {
  "matmul-1024": "about 11 s per call",
  "matmul-2048": "about 90 s per call",
  "split-merge-100": "it runs no array operation, so it would repeat the wasm column",
  "split-merge-deep": "it runs no array operation, so it would repeat the wasm column"
}

/** Set-up work an asynchronous backend is still doing: awaited before the row is measured. */
const pendingSetups: Array<Promise<void>> = []

const makeCase = (row: RowId): Calls | Skip => {
  const current = Backend.currentBackend()
  const softwareSkip = softwareSkips[row]
  if (Backend.isWebgpuBackend(current) && current.adapter.software && softwareSkip !== undefined)
    return {
      skip: `not measured on a software WebGPU adapter (${Backend.describeAdapter(current.adapter)}): ${softwareSkip}`
    }
  if (row === "matmul-2048" && current.name === "cpu")
    return { skip: "not measured on the cpu reference backend: a 2048² product takes minutes" }
  switch (row) {
    case "matmul-128":
    case "matmul-512":
    case "matmul-1024":
    case "matmul-2048": {
      const n = Number(row.slice("matmul-".length))
      const d = inputs.matmul(n)
      const a = f32(d.a, [n, n])
      const b = f32(d.b, [n, n])
      return calls(
        reading(() => a.matmul(b)),
        () => {
          a.dispose()
          b.dispose()
        }
      )
    }
    case "chain-eager": {
      const x = f32(inputs.chain(), [CHAIN_SIZE])
      return calls(
        reading(() => chain(x)),
        () => x.dispose()
      )
    }
    case "chain-jit": {
      const x = f32(inputs.chain(), [CHAIN_SIZE])
      const f = jit(chain)
      f(x).dispose() // traced outside any tidy: see `traced`
      return calls(
        reading(() => f(x)),
        () => {
          f.clearCache()
          x.dispose()
        }
      )
    }
    case "pegrad": {
      const d = inputs.pegrad()
      const w = f32(d.w, [PEGRAD_WIDTH, PEGRAD_WIDTH])
      const xs = f32(d.xs, [PEGRAD_BATCH, PEGRAD_WIDTH])
      const f = jit(vmap(grad(pegradLoss), { inAxes: [null, 0] }))
      f(w, xs).dispose()
      return calls(
        reading(() => f(w, xs)),
        () => {
          f.clearCache()
          w.dispose()
          xs.dispose()
        }
      )
    }
    case "mlp-step": {
      const d = inputs.mlp()
      const model = new MLP(d.layers.map((l) => new Linear(f32(l.w, [l.din, l.dout]), f32(l.b, [l.dout]))))
      const x = f32(d.x, [MLP_BATCH, MLP_SIZES[0]])
      const y = f32(d.y, [MLP_BATCH, MLP_SIZES[MLP_SIZES.length - 1]!])
      const step = nnx.jit((m: MLP, xb: JArray, yb: JArray) => {
        const [value, grads] = nnx.valueAndGrad(crossEntropy).sync(m, xb, yb)
        sgd(m, grads, LEARNING_RATE)
        return value
      })
      /** One step; it replaces the parameters: the new ones are kept out of the tidy, the old ones freed. */
      const run = (within: <A>(f: () => A) => A): void | Promise<void> => {
        const old = paramsOf(model.layers)
        const [loss] = within(() => [step.sync(model, x, y), ...paramsOf(model.layers)] as const)
        const done = () => {
          loss.dispose()
          const kept = new Set(paramsOf(model.layers))
          for (const a of old) if (!kept.has(a)) a.dispose()
        }
        // On webgpu, the loss is read once the step's kernels (the new parameters' too) have run.
        if (isAsync()) return loss.data().then(done)
        loss.dataSync()
        done()
      }
      const first = run((f) => f())
      if (first !== undefined) pendingSetups.push(first)
      return calls(
        () => run(tidy),
        () => {
          disposeLayers(model.layers)
          x.dispose()
          y.dispose()
        }
      )
    }
    case "nnx-jit-100": {
      const d = inputs.stack()
      const model = new Stack(
        d.layers.map((l) => new Linear(f32(l.w, [LAYER_WIDTH, LAYER_WIDTH]), f32(l.b, [LAYER_WIDTH])))
      )
      const x = f32(d.x, [LAYER_WIDTH])
      const f = nnx.jit((m: Stack, v: JArray) => m.call(v))
      f.sync(model, x).dispose()
      return calls(
        reading(() => f.sync(model, x)),
        () => {
          disposeLayers(model.layers)
          x.dispose()
        }
      )
    }
    case "split-merge-100": {
      const d = inputs.stack()
      const model = new Stack(
        d.layers.map((l) => new Linear(f32(l.w, [LAYER_WIDTH, LAYER_WIDTH]), f32(l.b, [LAYER_WIDTH])))
      )
      // no array is made: merge rebuilds Modules and Variables around the same arrays
      return calls(
        () => {
          const [graphdef, state] = nnx.split(model)
          nnx.merge(graphdef, state)
        },
        () => disposeLayers(model.layers)
      )
    }
    case "split-merge-deep": {
      const w = jnp.zeros([])
      let chain: ChainNode | null = null
      for (let i = 0; i < DEEP_CHAIN; i++) chain = new ChainNode(w, chain)
      const root = chain!
      const before = process.memoryUsage().heapUsed
      const kept = nnx.split(root)
      const heapMB = Math.max(0, process.memoryUsage().heapUsed - before) / 2 ** 20
      void kept
      return calls(
        () => {
          const [graphdef, state] = nnx.split(root)
          nnx.merge(graphdef, state)
        },
        () => w.dispose(),
        `one split's GraphDef and State: about ${heapMB.toFixed(0)} MB of heap`
      )
    }
  }
}

/** A contestant running every row on `backend`. */
export const effectNnx = (backend: Backend.BackendImpl, label: string, version: string): Contestant => ({
  label,
  /** Read after the run: the wasm backend starts its threads on first use. */
  get version() {
    if (Backend.isWebgpuBackend(backend))
      return `${version}, backend "webgpu" on ${Backend.describeAdapter(backend.adapter)}`
    if (!Backend.isWasmBackend(backend)) return `${version}, backend "${backend.name}" (one thread)`
    const reason = backend.threadsReason === undefined ? "" : `: ${backend.threadsReason}`
    return `${version}, backend "${backend.name}" (${backend.threads} thread${backend.threads === 1 ? "" : "s"}${reason})`
  },
  setup: async (row) => {
    const c = Backend.withBackend(backend, () => makeCase(row))
    for (const p of pendingSetups.splice(0)) await p
    if ("skip" in c) return c
    return localCase(
      () => Backend.withBackend(backend, c.call),
      () => Backend.withBackend(backend, c.teardown),
      c.note
    )
  }
})

const isBackendImpl = (u: unknown): u is Backend.BackendImpl =>
  typeof u === "object" &&
  u !== null &&
  typeof (u as { execute?: unknown }).execute === "function" &&
  typeof (u as { name?: unknown }).name === "string"

/**
 * Backends to compare: the default one (labelled with its name), cpu when the default is not cpu,
 * and a WebAssembly backend when the package exports one (`Backend.wasm` or `Backend.makeWasm`)
 * that is not the default. Extra gpu.js modes with `BENCH_GPUJS=webasm,headlessgl`.
 */
export const effectNnxBackends = async (
  gpujsModes: ReadonlyArray<Backend.GpuMode>,
  log: (line: string) => void,
  absent: (line: string) => void = () => {}
): Promise<Array<{ readonly backend: Backend.BackendImpl; readonly label: string; readonly destroy?: () => void }>> => {
  const def = Backend.currentBackend()
  const out: Array<{ backend: Backend.BackendImpl; label: string; destroy?: () => void }> = [
    { backend: def, label: `effect-nnx ${def.name}` }
  ]
  if (def.name !== "cpu") out.push({ backend: Backend.cpu, label: "effect-nnx cpu" })
  const exported = Backend as unknown as Record<string, unknown>
  let wasm: unknown = exported["wasm"]
  if (wasm === undefined && typeof exported["makeWasm"] === "function") {
    try {
      const made: unknown = (exported["makeWasm"] as () => unknown)()
      wasm = Effect.isEffect(made) ? await Effect.runPromise(made as Effect.Effect<unknown, unknown>) : made
    } catch (e) {
      log(`Backend.makeWasm failed: ${e instanceof Error ? e.message : String(e)}`)
    }
  }
  if (isBackendImpl(wasm) && wasm !== def && wasm.name !== def.name)
    out.push({ backend: wasm, label: `effect-nnx ${wasm.name}` })
  const webgpu = await Effect.runPromiseExit(Backend.makeWebgpu())
  if (Exit.isSuccess(webgpu)) {
    const gpu = webgpu.value
    const adapter = Backend.describeAdapter(gpu.adapter)
    if (!gpu.adapter.software || process.env["BENCH_WEBGPU"] === "1") {
      out.push({ backend: gpu, label: "effect-nnx webgpu", destroy: () => gpu.destroy() })
      log(`webgpu on ${adapter}`)
    } else {
      gpu.destroy()
      const line = `effect-nnx webgpu: its adapter here is software (${adapter}), which runs the shaders on the CPU; BENCH_WEBGPU=1 measures it on the rows it finishes in reasonable time`
      log(line)
      absent(line)
    }
  } else {
    const line = `effect-nnx webgpu: WebGPU does not start here (${Cause.pretty(webgpu.cause).split("\n")[0]})`
    log(line)
    absent(line)
  }
  for (const mode of gpujsModes) {
    const exit = await Effect.runPromiseExit(Backend.makeGpujs({ mode }))
    if (Exit.isSuccess(exit)) {
      const gpu = exit.value
      out.push({ backend: gpu, label: `effect-nnx gpujs:${mode}`, destroy: () => gpu.destroy() })
    } else log(`gpu.js mode ${mode} does not start here; skipped`)
  }
  return out
}
