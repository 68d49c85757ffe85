/**
 * `npm run bench`: effect-nnx side by side with jax-js (wasm), TensorFlow.js (wasm) and, when
 * `EFFECT_NNX_BENCH_PYTHON` names a Python with jax (and flax), JAX on XLA's CPU backend. One
 * interleaved run: per row, every contestant warms up, then they take turns round after round.
 * Prints the tables and writes docs/benchmarks.md and docs/benchmarks.svg. A benchmark, not a
 * test: nothing is asserted about the numbers.
 *
 * Environment:
 *   BENCH_BUDGET_MS          measuring time per row, all contestants together (default 4000)
 *   BENCH_ROUNDS             rounds per row when calls are fast enough (default 10; at least 3)
 *   BENCH_ROWS               comma-separated row ids or prefixes (default: all), e.g. matmul,mlp-step
 *   EFFECT_NNX_BENCH_PYTHON  a Python with jax (and flax) to add the JAX column
 *   BENCH_GPUJS              gpu.js modes to add as effect-nnx columns, e.g. webasm,headlessgl
 *   BENCH_WRITE              1: write docs/benchmarks.{md,svg} even for a subset of rows; 0: never
 *                            (default: only when every row ran)
 *   BENCH_JSON               a file to write the raw results to
 */
import { execFileSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { arch, cpus, release, totalmem, type } from "node:os"
import { effectNnx, effectNnxBackends } from "./contestants/effectNnx.ts"
import { jaxjs } from "./contestants/jaxjs.ts"
import { jaxPython } from "./contestants/jaxPython.ts"
import { tfjs } from "./contestants/tfjs.ts"
import type { Cell, Contestant } from "./harness.ts"
import { measureRow, rowIds } from "./harness.ts"
import type { Results } from "./report.ts"
import { derivedTable, footnotes, markdownTable, ratioTable, svgPlot, textTable, timeTable } from "./report.ts"
import { rows as allRows, selectRows } from "./rows.ts"

const env = process.env
const log = (line: string): void => void process.stderr.write(line + "\n")
const positive = (name: string, fallback: number): number => {
  const v = Number(env[name] ?? fallback)
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, got ${env[name]}`)
  return v
}

const budgetMs = positive("BENCH_BUDGET_MS", 4000)
const maxRounds = Math.max(3, Math.floor(positive("BENCH_ROUNDS", 10)))
const rows = selectRows(env["BENCH_ROWS"])
const gpuModeNames = ["gpu", "headlessgl", "webgl2", "webgl", "webasm", "cpu"] as const
const gpujsModes = (env["BENCH_GPUJS"] ?? "")
  .split(",")
  .map((s) => s.trim())
  .filter((s) => s.length > 0)
  .map((m) => {
    const mode = gpuModeNames.find((g) => g === m)
    if (mode === undefined) throw new Error(`BENCH_GPUJS: unknown gpu.js mode ${m} (modes: ${gpuModeNames.join(", ")})`)
    return mode
  })

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

// ---- contestants ----

const repoVersion = (): string => {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: new URL("..", import.meta.url),
      stdio: ["ignore", "pipe", "ignore"]
    })
      .toString()
      .trim()
    return `effect-nnx ${pkg.version} (commit ${commit})`
  } catch {
    return `effect-nnx ${pkg.version}`
  }
}

const contestants: Array<Contestant> = []
const destroyers: Array<() => void> = []
const absent: Array<string> = []
const effectVersion = repoVersion()
for (const b of await effectNnxBackends(gpujsModes, log, (line) => absent.push(line))) {
  contestants.push(effectNnx(b.backend, b.label, effectVersion))
  if (b.destroy !== undefined) destroyers.push(b.destroy)
}
const defaultLabel = contestants[0]!.label
for (const [name, start] of [
  ["jax-js", jaxjs],
  ["TF.js", tfjs]
] as const) {
  try {
    contestants.push(await start())
  } catch (e) {
    absent.push(`${name}: ${message(e)}`)
    log(`${name} skipped: ${message(e)}`)
  }
}
const python = env["EFFECT_NNX_BENCH_PYTHON"]
if (python !== undefined && python !== "") {
  try {
    contestants.push(await jaxPython(python, log))
  } catch (e) {
    absent.push(`JAX: ${message(e)}`)
    log(`JAX skipped: ${message(e)}`)
  }
} else absent.push("JAX: EFFECT_NNX_BENCH_PYTHON is not set")

// ---- measure ----

const labels = contestants.map((c) => c.label)
log(`contestants: ${labels.join(", ")}`)
log(`rows: ${rows.map((r) => r.id).join(", ")}; budget ${budgetMs} ms per row, up to ${maxRounds} rounds`)
const started = performance.now()
const cells: Array<Array<Cell>> = []
for (const row of rows) {
  const t = performance.now()
  process.stderr.write(`${row.id} ... `)
  cells.push(await measureRow(row, contestants, { budgetMs, maxRounds, log }))
  log(`${((performance.now() - t) / 1000).toFixed(1)} s`)
}
const elapsedS = (performance.now() - started) / 1000
for (const c of contestants) await c.close?.()
for (const d of destroyers) d()

// ---- report ----

const results: Results = { rows, labels, cells, baseline: 0 }
const notes = footnotes(results)
const header = ["row", ...labels]
const times = timeTable(results, notes)
const ratios = ratioTable(results)
const derived = derivedTable(results)
const noteLines = notes.notes.map((n, i) => `${i + 1}. ${n}`)

console.log(
  `\nMedian ms per call (interquartile range over ${maxRounds}-round samples; each call reads its result back)\n`
)
console.log(textTable(header, times))
console.log(`\nTime relative to ${defaultLabel} (below 1× is faster)\n`)
console.log(textTable(header, ratios))
if (derived.length > 0) {
  console.log(`\nThroughput\n`)
  console.log(textTable(header, derived))
}
if (noteLines.length > 0) console.log(`\nNotes\n${noteLines.join("\n")}`)
if (absent.length > 0) console.log(`\nNot included: ${absent.join("; ")}`)
console.log(`\n${rows.length} rows in ${elapsedS.toFixed(elapsedS < 10 ? 1 : 0)} s`)

const cpuList = cpus()
const machine = `${cpuList.length} × ${cpuList[0]?.model.trim() ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${type()} ${release()} ${arch()}, Node ${process.versions.node}`
const date = new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC"

const jsonPath = env["BENCH_JSON"]
if (jsonPath !== undefined && jsonPath !== "") {
  writeFileSync(
    jsonPath,
    JSON.stringify(
      {
        date,
        machine,
        budgetMs,
        maxRounds,
        contestants: contestants.map((c) => ({ label: c.label, version: c.version })),
        rows: rows.map((r, i) => ({ ...r, cells: cells[i] }))
      },
      null,
      2
    )
  )
  log(`raw results written to ${jsonPath}`)
}

const write = env["BENCH_WRITE"] === "1" || (env["BENCH_WRITE"] !== "0" && rows.length === rowIds.length)
if (!write) {
  log("docs/benchmarks.md not written (a subset of rows; BENCH_WRITE=1 writes it anyway)")
} else {
  const svg = svgPlot(results, `Median time per call, log scale (whiskers: fastest to slowest round) — ${date}`)
  writeFileSync(new URL("../docs/benchmarks.svg", import.meta.url), svg)
  const md = [
    "# Benchmarks",
    "",
    "effect-nnx side by side with [jax-js](https://github.com/ekzhang/jax-js) and",
    "[TensorFlow.js](https://github.com/tensorflow/tfjs) on their WebAssembly backends, and with JAX on",
    "XLA's CPU backend (Flax NNX for the lifted rows), on the same machine in one interleaved run.",
    "Numbers depend on the machine, and are a snapshot: `npm run bench` regenerates this page.",
    "",
    `Measured ${date} on ${machine}, ${elapsedS.toFixed(elapsedS < 10 ? 1 : 0)} s in all.`,
    "",
    "![Median time per call, log scale](benchmarks.svg)",
    "",
    "## Results",
    "",
    `Median milliseconds per call, with the interquartile range of the per-round means in parentheses.`,
    "",
    markdownTable(header, times),
    "",
    `Time relative to ${defaultLabel}, effect-nnx's default backend (below 1× is faster than it):`,
    "",
    markdownTable(header, ratios),
    "",
    ...(derived.length > 0 ? ["Throughput, from the medians:", "", markdownTable(header, derived), ""] : []),
    ...(noteLines.length > 0 ? ["Notes:", "", ...noteLines, ""] : []),
    "n/a: the contestant has no such feature:",
    "",
    ...rows.flatMap((row, i) =>
      cells[i]!.flatMap((c, j) => (c.kind === "skip" ? [`- ${row.title}, ${labels[j]}: ${c.reason}.`] : []))
    ),
    ...(absent.length > 0 ? ["", `Not in this run: ${absent.join("; ")}.`] : []),
    "",
    "## Contestants",
    "",
    ...contestants.map((c) => `- **${c.label}**: ${c.version}`),
    "",
    "Threads: effect-nnx as listed above (its wasm backend shares kernels across worker threads; its",
    "cpu backend runs on the calling thread); jax-js and TF.js run their WebAssembly kernels on one",
    "thread here (they use threads only through Web Workers, which Node does not provide as a global);",
    "XLA uses every core.",
    "",
    "## What each row measures",
    "",
    "| row | one call |",
    "| --- | --- |",
    ...allRows.filter((r) => rows.includes(r)).map((r) => `| ${r.title} | ${r.measures} |`),
    "",
    "Each contestant writes the row in its own library's idiom: effect-nnx with `jnp`, `jit`, `vmap`,",
    "`grad` and, for the MLP and the stack, Modules holding `nnx.Param`s under `nnx.jit` and",
    "`nnx.valueAndGrad` with plain SGD through `nnx.update`; jax-js with `jit`, `vmap`, `grad` and",
    "`valueAndGrad` over a pytree of parameters; TF.js with `tf.variableGrads` and `Variable.assign`;",
    "JAX with `jax.jit`, `jax.vmap`, `jax.value_and_grad` and Flax's `nnx.jit`, `nnx.split`,",
    "`nnx.merge`. The code is in `bench/contestants/` and `bench/jax_bench.py`.",
    "",
    "## Method",
    "",
    "- One run, interleaved: for each row every contestant sets up its inputs and makes two warm-up",
    "  calls (the first compiles: `jit` tracing, XLA compilation, kernel generation; the second",
    "  estimates a call's time). Then the contestants take turns, round after round, the first to go",
    "  rotating each round; in its turn a contestant makes a batch of calls sized so that the row takes",
    `  about the budget (${budgetMs} ms here, shared by the contestants), at most ${maxRounds} rounds and at least 3.`,
    "  A sample is a round's mean time per call; the tables give the median and quartiles of the samples,",
    "  the plot's whiskers their minimum and maximum.",
    "- Every call forces completion and reads its result back to the host: `data()` (effect-nnx),",
    "  `dataSync()` (jax-js, TF.js), `block_until_ready` and a NumPy copy (JAX). The training step",
    "  reads the loss and waits for the new parameters.",
    "- Nothing leaks across calls: effect-nnx calls run in a tidy (the wasm backend's `tidy`, else",
    "  `Backend.tidy`) and dispose their result (the training step keeps its new parameters and",
    "  disposes the ones they replace; jitted functions are traced in the set-up, outside any tidy);",
    "  jax-js calls pass `.ref`s of the inputs they keep (jax-js functions consume their arguments) and",
    "  `dataSync()` frees the result; TF.js calls run in `tf.tidy` and dispose their result, and the",
    "  bench reports any row whose tensor count grows. Inputs are freed after each row.",
    "- JAX runs in a separate Python process (`bench/jax_bench.py --serve`) that times its own calls and",
    "  answers over a pipe, so its turns interleave with the others'.",
    "",
    "## How to run",
    "",
    "```sh",
    "npm run bench                                          # effect-nnx, jax-js, TF.js",
    "EFFECT_NNX_BENCH_PYTHON=python3 npm run bench          # also JAX; any Python with jax and flax installed",
    "BENCH_ROWS=matmul,mlp-step BENCH_BUDGET_MS=1000 npm run bench   # a few rows, quickly",
    "```",
    "",
    "| variable | meaning |",
    "| --- | --- |",
    "| `BENCH_BUDGET_MS` | measuring time per row, all contestants together (default 4000; warm-up and set-up come on top) |",
    "| `BENCH_ROUNDS` | rounds per row when calls are fast enough (default 10; at least 3 are done) |",
    `| \`BENCH_ROWS\` | comma-separated row ids or prefixes: ${rowIds.map((id) => `\`${id}\``).join(", ")} |`,
    "| `EFFECT_NNX_BENCH_PYTHON` | a Python with jax (and flax for the two lifted rows): adds the JAX column |",
    "| `BENCH_GPUJS` | gpu.js modes to add as effect-nnx columns (`webasm`, `headlessgl` under `xvfb-run -a` after `npm run build:gl`, ...) |",
    "| `BENCH_WRITE` | `1` writes this page even when `BENCH_ROWS` selects a subset, `0` never writes it |",
    "| `BENCH_JSON` | a file to write the raw samples' statistics to |",
    "",
    "`python bench/jax_bench.py` alone (with `--rows` and `--budget-ms`) prints JAX's medians as JSON.",
    "The npm packages of jax-js and TF.js are dev dependencies; TF.js's wasm backend loads its",
    "`.wasm` binary from `node_modules`, so a run downloads nothing.",
    ""
  ].join("\n")
  writeFileSync(new URL("../docs/benchmarks.md", import.meta.url), md)
  log("written: docs/benchmarks.md, docs/benchmarks.svg")
}
// gpu.js and the wasm runtimes may hold handles open
process.exit(0)
