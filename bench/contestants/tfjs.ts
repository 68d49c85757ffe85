/**
 * TensorFlow.js (`@tensorflow/tfjs-core` with `@tensorflow/tfjs-backend-wasm`) on its wasm
 * backend. In Node the backend reads its .wasm binary from its own folder in node_modules (its
 * Emscripten loader's default; `setWasmPaths` would fetch instead), so nothing is downloaded.
 * Every call runs inside `tf.tidy` (intermediates freed), reads its result with `dataSync()`
 * and disposes it; a row whose tensor count grows across its samples is reported.
 *
 * tfjs-core's Node build (the CommonJS bundle Node resolves) registers no gradients: the
 * `@tensorflow/tfjs` package adds them from tfjs-core's ES module files, which Node cannot load
 * as they are (extensionless imports). {@link registerGradients} bundles those files with esbuild
 * (a dev dependency) into a temporary module and imports it; the registrations land in tfjs's
 * global registry, which every copy of tfjs-core shares.
 */
import { build } from "esbuild"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { pathToFileURL } from "node:url"
import * as tf from "@tensorflow/tfjs-core"
import "@tensorflow/tfjs-backend-wasm"
import type { Case, Contestant, RowId, Skip } from "../harness.ts"
import { localCase } from "../harness.ts"
import { CHAIN_SIZE, inputs, LEARNING_RATE, MLP_BATCH, MLP_SIZES, PEGRAD_BATCH, PEGRAD_WIDTH } from "../rows.ts"
import { packageVersion } from "../versions.ts"

const f32 = (data: Float32Array, shape: Array<number>): tf.Tensor => tf.tensor(data, shape, "float32")

/** A call computing `f` in a tidy scope, reading the result back and disposing it. */
const reading = (f: () => tf.Tensor) => () => {
  const out = tf.tidy(f)
  out.dataSync()
  out.dispose()
}

let variables = 0

const makeCase = (row: RowId): Case | Skip => {
  switch (row) {
    case "matmul-128":
    case "matmul-512":
    case "matmul-1024":
    case "matmul-2048": {
      const n = Number(row.slice("matmul-".length))
      const d = inputs.matmul(n)
      const a = f32(d.a, [n, n])
      const b = f32(d.b, [n, n])
      return localCase(
        reading(() => tf.matMul(a, b)),
        () => tf.dispose([a, b])
      )
    }
    case "chain-eager": {
      const x = f32(inputs.chain(), [CHAIN_SIZE])
      return localCase(
        reading(() => tf.mul(tf.tanh(tf.add(tf.mul(x, 2), 1)), x)),
        () => x.dispose()
      )
    }
    case "chain-jit":
      return { skip: "TF.js has no jit" }
    case "pegrad": {
      // no vmap in TF.js: the per-example gradient written out, x_i ⊗ (1 - tanh(x_i @ w)²)
      const d = inputs.pegrad()
      const w = f32(d.w, [PEGRAD_WIDTH, PEGRAD_WIDTH])
      const xs = f32(d.xs, [PEGRAD_BATCH, PEGRAD_WIDTH])
      return localCase(
        reading(() => {
          const t = tf.tanh(tf.matMul(xs, w))
          const dt = tf.sub(1, tf.square(t))
          return tf.mul(tf.expandDims(xs, 2), tf.expandDims(dt, 1))
        }),
        () => tf.dispose([w, xs]),
        "gradient formula written by hand (TF.js has no vmap)"
      )
    }
    case "mlp-step": {
      const d = inputs.mlp()
      const id = variables++
      /** A Variable shares its initial tensor's data but does not own the tensor: dispose it. */
      const variable = (init: tf.Tensor, name: string): tf.Variable => {
        const v = tf.variable(init, true, name)
        init.dispose()
        return v
      }
      const params = d.layers.map((l, i) => ({
        w: variable(f32(l.w, [l.din, l.dout]), `mlp${id}_w${i}`),
        b: variable(f32(l.b, [l.dout]), `mlp${id}_b${i}`)
      }))
      const varList = params.flatMap((p) => [p.w, p.b])
      const x = f32(d.x, [MLP_BATCH, MLP_SIZES[0]])
      const y = f32(d.y, [MLP_BATCH, MLP_SIZES[MLP_SIZES.length - 1]!])
      const loss = (): tf.Scalar => {
        let h: tf.Tensor = x
        for (const [i, p] of params.entries()) {
          h = tf.add(tf.matMul(h, p.w), p.b)
          if (i < params.length - 1) h = tf.relu(h)
        }
        return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(h, -1)), -1))) as tf.Scalar
      }
      return localCase(
        reading(() => {
          const { value, grads } = tf.variableGrads(loss, varList)
          for (const v of varList) v.assign(tf.sub(v, tf.mul(grads[v.name]!, LEARNING_RATE)))
          return value
        }),
        () => tf.dispose([...varList, x, y]),
        "tf.variableGrads and Variable.assign (eager; TF.js has no jit)"
      )
    }
    case "nnx-jit-100":
    case "split-merge-100":
    case "split-merge-deep":
      return { skip: "TF.js has no jit, Modules or graph split/merge" }
  }
}

/** Registers TF.js's gradients (see the module comment). */
const registerGradients = async (): Promise<void> => {
  const core = dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-core/package.json"))
  const bundle = await build({
    entryPoints: [join(core, "dist", "register_all_gradients.js")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    write: false,
    logLevel: "silent"
  })
  const dir = mkdtempSync(join(tmpdir(), "effect-nnx-bench-"))
  try {
    const file = join(dir, "tfjs-gradients.mjs")
    writeFileSync(file, bundle.outputFiles[0]!.text)
    await import(pathToFileURL(file).href)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The TF.js contestant, on the wasm backend. */
export const tfjs = async (): Promise<Contestant> => {
  if (!(await tf.setBackend("wasm"))) throw new Error("TF.js: the wasm backend did not start")
  await tf.ready()
  await registerGradients()
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")
  const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")
  return {
    label: "TF.js wasm",
    version: `@tensorflow/tfjs-core ${packageVersion("@tensorflow/tfjs-core")} + @tensorflow/tfjs-backend-wasm ${packageVersion("@tensorflow/tfjs-backend-wasm")} (SIMD ${simd ? "on" : "off"}, threads ${threads ? "on" : "off"})`,
    setup: (row) => {
      const before = tf.memory().numTensors
      const c = makeCase(row)
      if ("skip" in c) return Promise.resolve(c)
      return Promise.resolve({
        ...c,
        teardown: async () => {
          await c.teardown()
          const leaked = tf.memory().numTensors - before
          if (leaked > 0) console.warn(`TF.js: ${leaked} tensors left after ${row}`)
        }
      })
    }
  }
}
