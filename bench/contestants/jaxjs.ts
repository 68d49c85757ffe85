/**
 * jax-js (`@jax-js/jax`) on its WebAssembly device. jax-js counts references: every function
 * consumes its Array arguments, `x.ref` adds a reference, `dataSync()` reads an array back and
 * consumes it, and a jitted function's `dispose()` frees its constants. Each call here passes
 * `.ref`s of the inputs it keeps, reads the result back (which frees it), and teardown frees the
 * inputs, so the live arrays are the same before and after every call.
 */
import * as jax from "@jax-js/jax"
import type { Case, Contestant, RowId, Skip } from "../harness.ts"
import { localCase } from "../harness.ts"
import { packageVersion } from "../versions.ts"
import {
  CHAIN_SIZE,
  inputs,
  LAYER_WIDTH,
  LEARNING_RATE,
  MLP_BATCH,
  MLP_SIZES,
  PEGRAD_BATCH,
  PEGRAD_WIDTH
} from "../rows.ts"

const np = jax.numpy
type JxArray = jax.Array

const f32 = (data: Float32Array, shape: Array<number>): JxArray => np.array(data, { shape, dtype: np.float32 })

type Dense = { w: JxArray; b: JxArray }
type Params = Array<Dense>

const chain = (x: JxArray): JxArray => np.tanh(x.ref.mul(2).add(1)).mul(x)

const pegradLoss = (w: JxArray, x: JxArray): JxArray => np.sum(np.tanh(np.matmul(x, w)))

const crossEntropy = (params: Params, x: JxArray, y: JxArray): JxArray => {
  let h = x
  for (const [i, layer] of params.entries()) {
    h = np.matmul(h, layer.w).add(layer.b)
    if (i < params.length - 1) h = jax.nn.relu(h)
  }
  return np.mean(np.sum(y.mul(jax.nn.logSoftmax(h, -1)), -1)).mul(-1)
}

const stackForward = (layers: Params, x: JxArray): JxArray => {
  let h = x
  for (const layer of layers) h = np.tanh(np.matmul(h, layer.w).add(layer.b))
  return h
}

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
        () => void np.matmul(a.ref, b.ref).dataSync(),
        () => {
          a.dispose()
          b.dispose()
        }
      )
    }
    case "chain-eager": {
      // jax-js arrays are lazy: the chain runs when dataSync asks for it
      const x = f32(inputs.chain(), [CHAIN_SIZE])
      return localCase(
        () => void chain(x.ref).dataSync(),
        () => x.dispose()
      )
    }
    case "chain-jit": {
      const x = f32(inputs.chain(), [CHAIN_SIZE])
      const f = jax.jit(chain)
      return localCase(
        () => void f(x.ref).dataSync(),
        () => {
          f.dispose()
          x.dispose()
        }
      )
    }
    case "pegrad": {
      const d = inputs.pegrad()
      const w = f32(d.w, [PEGRAD_WIDTH, PEGRAD_WIDTH])
      const xs = f32(d.xs, [PEGRAD_BATCH, PEGRAD_WIDTH])
      const f = jax.jit(jax.vmap(jax.grad(pegradLoss), [null, 0]))
      return localCase(
        () => void f(w.ref, xs.ref).dataSync(),
        () => {
          f.dispose()
          w.dispose()
          xs.dispose()
        }
      )
    }
    case "mlp-step": {
      const d = inputs.mlp()
      let params: Params = d.layers.map((l) => ({ w: f32(l.w, [l.din, l.dout]), b: f32(l.b, [l.dout]) }))
      const x = f32(d.x, [MLP_BATCH, MLP_SIZES[0]])
      const y = f32(d.y, [MLP_BATCH, MLP_SIZES[MLP_SIZES.length - 1]!])
      const step = jax.jit((ps: Params, xb: JxArray, yb: JxArray): [JxArray, Params] => {
        const [value, grads] = jax.valueAndGrad(crossEntropy)(jax.tree.ref(ps), xb, yb)
        const next = ps.map((p, i) => {
          const g = grads[i]!
          return { w: p.w.sub(g.w.mul(LEARNING_RATE)), b: p.b.sub(g.b.mul(LEARNING_RATE)) }
        })
        return [value, next]
      })
      return localCase(
        async () => {
          // the step consumes the old parameters (they are freed) and returns new ones
          const [value, next] = step(params, x.ref, y.ref)
          params = next
          await jax.blockUntilReady(params)
          value.dataSync()
        },
        () => {
          step.dispose()
          jax.tree.dispose(params)
          x.dispose()
          y.dispose()
        }
      )
    }
    case "nnx-jit-100": {
      // no Modules: jit over the same 100 layers as a pytree of arrays
      const d = inputs.stack()
      const layers: Params = d.layers.map((l) => ({
        w: f32(l.w, [LAYER_WIDTH, LAYER_WIDTH]),
        b: f32(l.b, [LAYER_WIDTH])
      }))
      const x = f32(d.x, [LAYER_WIDTH])
      const f = jax.jit(stackForward)
      return localCase(
        () => void f(jax.tree.ref(layers), x.ref).dataSync(),
        () => {
          f.dispose()
          jax.tree.dispose(layers)
          x.dispose()
        },
        "jit over a pytree (list of {w, b} records): jax-js has no Modules"
      )
    }
    case "split-merge-100":
    case "split-merge-deep":
      return { skip: "jax-js has no Modules or graph split/merge" }
  }
}

/** The jax-js contestant, on the wasm device (`jax.init("wasm")`). */
export const jaxjs = async (): Promise<Contestant> => {
  const devices = await jax.init("wasm")
  if (!devices.includes("wasm")) throw new Error(`jax-js: the wasm device did not start (got ${devices.join(", ")})`)
  jax.defaultDevice("wasm")
  return {
    label: "jax-js wasm",
    version: `@jax-js/jax ${packageVersion("@jax-js/jax")}`,
    setup: (row) => Promise.resolve(makeCase(row))
  }
}
