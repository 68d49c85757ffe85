/**
 * What the wasm kernel suites share: the backends they compare (the cpu reference, and wasm with one
 * and two threads, closed after the file) and a small seeded generator, so a failing case reproduces.
 */
import { afterAll } from "vitest"
import { Backend } from "effect-nnx"

/** The cpu reference and wasm backends with 1 and 2 threads; their worker threads end after the file. */
export const kernelBackends = () => {
  const cpu = Backend.makeCpu()
  const wasm1 = Backend.makeWasm({ threads: 1 })
  const wasm2 = Backend.makeWasm({ threads: 2 })
  afterAll(() => {
    wasm1.close()
    wasm2.close()
  })
  return { cpu, wasm1, wasm2 }
}

/** mulberry32: a seeded uniform generator on [0, 1). */
export const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
