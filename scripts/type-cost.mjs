/**
 * What the type checker pays for user code: compiles each sample under `test/types/cost/` alone
 * with `tsc --extendedDiagnostics` and prints its type instantiations, types and check time, two ways:
 *
 * - against the declarations (what a user of the package pays): the sources' `.d.ts` files are
 *   emitted once into a temporary folder, and a temporary tsconfig extending tsconfig.json maps
 *   `effect-nnx` to them with `paths`; `skipLibCheck` (as in tsconfig.json and most projects) leaves
 *   the declarations unchecked, so the count is the sample's own;
 * - against the sources (as the tests compile): `effect-nnx` resolves to `src/index.ts` through the
 *   package's `source` export condition, so the count includes checking every source file the
 *   sample reaches; `empty.ts` (an import and one jnp call) gives that floor, and the column
 *   "above empty" is the sample's part.
 *
 * `effectOnly.ts` is an Effect-only file of similar size, for comparison.
 *
 *   node scripts/type-cost.mjs                  # every sample, both ways
 *   node scripts/type-cost.mjs readme.ts        # one sample (and empty.ts)
 *   node scripts/type-cost.mjs --only dts       # only against the declarations (or: --only src)
 *   node scripts/type-cost.mjs --trace DIR      # also write tsc's --generateTrace output per sample
 *   node scripts/type-cost.mjs --budget 10000   # exit 1 when readme.ts passes 10,000 against the declarations
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const samplesDir = join(root, "test/types/cost")
const tsc = join(root, "node_modules/typescript/bin/tsc")
// Inside the repository, so that `types: ["node"]` and the package's self-reference resolve as in tsconfig.json.
const work = join(root, "node_modules/.cache/type-cost")

const args = process.argv.slice(2)
const flag = (name) => {
  const i = args.indexOf(name)
  if (i < 0) return undefined
  const v = args[i + 1]
  args.splice(i, 2)
  return v
}
const traceDir = flag("--trace")
const budgetArg = flag("--budget")
const budget = budgetArg === undefined ? undefined : Number(budgetArg)
const only = flag("--only")

const samples =
  args.length > 0
    ? args
    : readdirSync(samplesDir)
        .filter((f) => f.endsWith(".ts"))
        .sort()
if (!samples.includes("empty.ts")) samples.unshift("empty.ts")

const run = (tsArgs) => {
  try {
    return execFileSync(process.execPath, [tsc, ...tsArgs], { cwd: root, encoding: "utf8", maxBuffer: 64 << 20 })
  } catch (e) {
    // Type errors (of the sample, or of work in progress elsewhere in the sources) still print the figures.
    return `${e.stdout ?? ""}`
  }
}

const measure = (mode, sample, compilerOptions) => {
  const dir = join(work, mode, sample.replace(/\W/g, "_"))
  mkdirSync(dir, { recursive: true })
  const config = join(dir, "tsconfig.json")
  writeFileSync(
    config,
    JSON.stringify(
      { extends: join(root, "tsconfig.json"), compilerOptions, include: [], files: [join(samplesDir, sample)] },
      null,
      2
    )
  )
  const extra = traceDir === undefined ? [] : ["--generateTrace", resolve(traceDir, mode, sample.replace(/\.ts$/, ""))]
  const out = run(["-p", config, "--noEmit", "--extendedDiagnostics", ...extra])
  const errors = out.split("\n").filter((l) => /error TS\d+/.test(l))
  if (errors.length > 0)
    process.stderr.write(`${mode} ${sample}: ${errors.length} type error(s), first: ${errors[0].slice(0, 300)}\n`)
  const num = (label) => {
    const m = out.match(new RegExp(`^${label}:\\s+([\\d.]+)`, "m"))
    return m === null ? NaN : Number(m[1])
  }
  return {
    sample,
    instantiations: num("Instantiations"),
    types: num("Types"),
    checkTime: num("Check time"),
    files: num("Files")
  }
}

const pad = (s, n) => String(s).padStart(n)
const table = (title, results, base) => {
  console.log(`\n${title}`)
  console.log(
    `${"sample".padEnd(16)}${pad("instantiations", 16)}${base === undefined ? "" : pad("above empty", 13)}${pad("types", 9)}${pad("check s", 9)}${pad("files", 7)}`
  )
  for (const r of results) {
    const above =
      base === undefined
        ? ""
        : pad(r.sample === "effectOnly.ts" || r === base ? "" : r.instantiations - base.instantiations, 13)
    console.log(
      `${r.sample.padEnd(16)}${pad(r.instantiations, 16)}${above}${pad(r.types, 9)}${pad(r.checkTime.toFixed(2), 9)}${pad(r.files, 7)}`
    )
  }
}

let overBudget = false
try {
  if (only === undefined || only === "dts") {
    const dts = join(work, "dts")
    run([
      "-p",
      join(root, "tsconfig.build.json"),
      "--emitDeclarationOnly",
      "--declarationMap",
      "false",
      "--sourceMap",
      "false",
      "--outDir",
      dts
    ])
    const results = samples.map((s) => measure("dts", s, { paths: { "effect-nnx": [join(dts, "index.d.ts")] } }))
    table("against the declarations (a user's view; skipLibCheck)", results)
    const readme = results.find((r) => r.sample === "readme.ts")
    if (budget !== undefined && readme !== undefined && readme.instantiations > budget) {
      console.error(
        `readme.ts costs ${readme.instantiations} instantiations against the declarations, over the budget of ${budget}`
      )
      overBudget = true
    }
  }
  if (only === undefined || only === "src") {
    const results = ["empty.ts", ...samples.filter((s) => s !== "empty.ts")].map((s) => measure("src", s, {}))
    table("against the sources (checks the sources the sample reaches)", results, results[0])
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}
if (overBudget) process.exit(1)
