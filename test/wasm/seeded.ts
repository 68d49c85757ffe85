/**
 * Helpers of the wasm suites that import nothing of the library's entry point, so that mutation runs
 * of the kernel generators stay light: a seeded generator, and a runner of the f64x2 math.
 */
import { ModuleBuilder } from "../../src/backend/wasm/encoder.ts"
import { inlineMathF64 } from "../../src/backend/wasm/kernels/mathf64.ts"
import type { MathF64 } from "../../src/backend/wasm/kernels/mathf64.ts"

/** mulberry32: a seeded uniform generator on [0, 1), so that a failing case reproduces. */
export const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** `name` of every double of `xs`, two lanes at a time, by a module built afresh. */
export const evaluateMathF64 = (name: MathF64, xs: Float64Array): Float64Array => {
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 16, shared: true })
  const m = new ModuleBuilder({ initialPages: 16, maximumPages: 16, shared: true })
  m.addFunction("run", ["i32"], [], (f) => {
    const i = f.local("i32"),
      x = f.local("v128")
    f.forLoop(i, { const: 0 }, 0, { const: 16 }, () => {
      f.get(i).get(i).v128_load().set(x)
      inlineMathF64(f, name, x)
      f.v128_store()
    })
  })
  const instance = new WebAssembly.Instance(new WebAssembly.Module(m.encode()), { env: { memory } })
  new Float64Array(memory.buffer, 0, xs.length).set(xs)
  ;(instance.exports["run"] as (bytes: number) => void)(xs.length * 8)
  return new Float64Array(memory.buffer, 0, xs.length).slice()
}
