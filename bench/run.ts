/**
 * `npm run bench`: the cpu backend against every gpu.js mode that starts here, on square matmuls
 * (128 to 1024) and a vmapped layer (forward, and per-example gradients). Each timing includes
 * reading the result back to the host, which is what forces a GPU to finish. Prints a table and
 * writes it to bench/report/latest.md. Run it under `xvfb-run -a` (after `npm run build:gl`) to
 * include gpu.js's headlessgl mode. Not a test: numbers depend on the machine.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus, totalmem } from "node:os"
import { Effect, Exit } from "effect"
import { Backend, grad, jnp, random, vmap } from "../src/index.ts"
import type { Array as JArray } from "../src/index.ts"

interface Entry {
  readonly label: string
  readonly backend: Backend.BackendImpl
}

const entries: Array<Entry> = [{ label: "cpu", backend: Backend.cpu }]
const skipped: Array<string> = []
for (const mode of ["webasm", "cpu", "headlessgl"] as const) {
  const exit = await Effect.runPromiseExit(Backend.makeGpujs({ mode }))
  if (Exit.isSuccess(exit)) entries.push({ label: `gpujs:${mode}`, backend: exit.value })
  else skipped.push(`gpujs:${mode}`)
}

const budgetMs = Number(process.env["BENCH_BUDGET_MS"] ?? 1500)

/** Median milliseconds of `f` (after one warm-up call, which also compiles kernels). */
const time = (f: () => void): number => {
  f()
  const samples: Array<number> = []
  const start = performance.now()
  while (samples.length < 3 || (performance.now() - start < budgetMs && samples.length < 50)) {
    const t = performance.now()
    f()
    samples.push(performance.now() - t)
    if (samples.length >= 1 && samples[0]! > budgetMs) break
  }
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)]!
}

interface Workload {
  readonly name: string
  readonly flops: number
  readonly setup: () => () => JArray
}

const matmul = (n: number): Workload => ({
  name: `matmul ${n}×${n}`,
  flops: 2 * n * n * n,
  setup: () => {
    const a = random.normal(random.key(1), [n, n])
    const b = random.normal(random.key(2), [n, n])
    return () => a.matmul(b)
  }
})

const layer = (batch: number, width: number): Workload => ({
  name: `vmap(layer) ${batch}×${width}`,
  flops: 2 * batch * width * width,
  setup: () => {
    const w = random.normal(random.key(3), [width, width]).mul(1 / Math.sqrt(width))
    const bias = jnp.zeros([width])
    const xs = random.normal(random.key(4), [batch, width])
    const f = vmap((x: JArray) => jnp.tanh(x.matmul(w).add(bias)))
    return () => f(xs)
  }
})

const perExampleGrads = (batch: number, width: number): Workload => ({
  name: `vmap(grad(loss)) ${batch}×${width}`,
  flops: 6 * batch * width * width,
  setup: () => {
    const w = random.normal(random.key(5), [width, width]).mul(1 / Math.sqrt(width))
    const xs = random.normal(random.key(6), [batch, width])
    const loss = (w: JArray, x: JArray) => jnp.sum(jnp.square(jnp.tanh(x.matmul(w))))
    const f = vmap(grad(loss), { inAxes: [null, 0] })
    return () => f(w, xs)
  }
})

const workloads: ReadonlyArray<Workload> = [
  matmul(128), matmul(256), matmul(512), matmul(1024),
  layer(256, 256), layer(256, 512), perExampleGrads(64, 256)
]

const rows: Array<Array<string>> = []
for (const w of workloads) {
  const row = [w.name]
  for (const e of entries) {
    const ms = Backend.withBackend(e.backend, () => {
      const run = w.setup()
      return time(() => {
        const out = Backend.tidy(run)
        out.data()
        out.dispose()
      })
    })
    row.push(`${ms < 10 ? ms.toFixed(2) : ms.toFixed(0)} ms (${(w.flops / ms / 1e6).toFixed(2)} GFLOP/s)`)
    process.stdout.write(".")
  }
  rows.push(row)
}
process.stdout.write("\n")

const header = ["workload", ...entries.map((e) => e.label)]
const table = [
  `| ${header.join(" | ")} |`,
  `| ${header.map(() => "---").join(" | ")} |`,
  ...rows.map((r) => `| ${r.join(" | ")} |`)
].join("\n")
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}`
const report = [
  "# Benchmark: cpu against gpu.js",
  "",
  `Machine: ${machine}. ${new Date().toISOString()}.`,
  `Median time per call including read-back to the host (warm: kernels compiled).`,
  skipped.length > 0 ? `Modes that did not start here: ${skipped.join(", ")}.` : "",
  "",
  table,
  ""
].join("\n")
console.log(report)
mkdirSync(new URL("./report/", import.meta.url), { recursive: true })
writeFileSync(new URL("./report/latest.md", import.meta.url), report)
console.log("written to bench/report/latest.md")
for (const e of entries) if ("destroy" in e.backend) (e.backend as Backend.GpujsBackend).destroy()
