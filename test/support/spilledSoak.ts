/**
 * Run by test/wasm/spilledGc.test.ts in a process of its own (with `--expose-gc`): a synchronous
 * loop that never disposes, on a wasm backend with a 4 MiB resident limit, so nearly every array it
 * makes is moved out to the JavaScript heap. No finalizer can run during the loop; the garbage
 * collector must still be able to take the moved-out elements. Prints one JSON line per report.
 */
import { Backend, jnp } from "effect-nnx"

const steps = Number(process.argv[2] ?? 1200)
const b = Backend.makeWasm({ threads: 1, residentLimitBytes: 4 << 20 })
const gc = (globalThis as { gc?: () => void }).gc
Backend.withBackend(b, () => {
  let w = jnp.zeros([65536])
  for (let i = 1; i <= steps; i++) {
    w = w.sub(jnp.tanh(w.add(1)).mul(0.01))
    if (i % 300 === 0) {
      gc?.()
      const m = process.memoryUsage()
      console.log(JSON.stringify({ step: i, arrayBuffers: m.arrayBuffers, spilled: b.stats.storage.spilled }))
    }
  }
})
