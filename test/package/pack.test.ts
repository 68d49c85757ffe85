/**
 * The package as users get it: `npm pack` (which builds first, through `prepack`), then the tarball
 * installed into a temporary consumer project with nothing else: imported from plain Node ESM, and
 * type-checked by a strict TypeScript consumer (nodenext and bundler resolution, `skipLibCheck:
 * false`). gpu.js is an optional peer dependency: the consumer does not get it, the default backend
 * works without it, and asking for a gpujs backend says how to install it.
 */
import { execFileSync } from "node:child_process"
import { build } from "esbuild"
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"

const root = new URL("../..", import.meta.url).pathname
const npm = process.platform === "win32" ? "npm.cmd" : "npm"
const tsc = join(root, "node_modules", "typescript", "bin", "tsc")
const run = (cmd: string, args: ReadonlyArray<string>, cwd: string): string =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", timeout: 600_000, stdio: ["ignore", "pipe", "pipe"] })

const consumerProgram = `
import { Effect } from "effect"
import { Backend, jnp, nnx, optax, random } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

class Model extends nnx.Module {
  linear: nnx.Linear
  constructor(rngs: nnx.Rngs) {
    super()
    this.linear = new nnx.Linear(3, 2, { rngs })
  }
  call(x: JArray): JArray {
    return this.linear.call(x)
  }
}
const model = new Model(new nnx.Rngs(0))
const y: JArray = model.call(jnp.ones([4, 3]))
const total: number = y.sum().item() as number
const keys = random.split(random.key(0))
const loss: JArray = optax.l2Loss(jnp.array([1.5, 2])).sum()
const gpu = await Effect.runPromise(Effect.flip(Backend.makeGpujs({ mode: "headlessgl" })))
console.log(JSON.stringify({ shape: y.shape, finite: Number.isFinite(total), keys: keys.shape, loss: loss.item(), gpu: gpu.message }))
`

describe("the published package", () => {
  it("packs a built dist, installs into an empty project, imports from Node ESM, type-checks strictly and bundles for the browser", async () => {
    const dir = mkdtempSync(join(tmpdir(), "effect-nnx-pack-"))
    const packed = JSON.parse(run(npm, ["pack", "--json", "--pack-destination", dir], root)) as ReadonlyArray<{
      readonly filename: string
      readonly files: ReadonlyArray<{ readonly path: string }>
    }>
    const files = new Set(packed[0]!.files.map((f) => f.path))
    for (const f of ["dist/index.js", "dist/index.d.ts", "dist/nnx.js", "LICENSE", "README.md", "package.json"])
      assert.isTrue(files.has(f), `the tarball lacks ${f}`)
    assert.isFalse(
      [...files].some((f) => f.startsWith("test/") || f.startsWith("node_modules/")),
      "the tarball ships tests or node_modules"
    )
    const tarball = join(dir, readdirSync(dir).find((f) => f.endsWith(".tgz"))!)

    const consumer = join(dir, "consumer")
    mkdirSync(consumer)
    writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }))
    run(npm, ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball], consumer)
    assert.throws(() => run(process.execPath, ["-e", "import('gpu.js')"], consumer), /Cannot find|ERR_MODULE_NOT_FOUND/)

    writeFileSync(join(consumer, "main.ts"), consumerProgram)
    // Strict type-checks against the published declarations, with both resolutions users pick; the
    // nodenext build is then run by plain Node.
    for (const [module, resolution] of [
      ["esnext", "bundler"],
      ["nodenext", "nodenext"]
    ] as const) {
      writeFileSync(
        join(consumer, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "ES2022",
            module,
            moduleResolution: resolution,
            strict: true,
            exactOptionalPropertyTypes: true,
            noUncheckedIndexedAccess: true,
            skipLibCheck: false,
            types: [],
            outDir: "out"
          },
          files: ["main.ts"]
        })
      )
      run(process.execPath, [tsc, "-p", "tsconfig.json"], consumer)
    }
    const out = JSON.parse(run(process.execPath, [join("out", "main.js")], consumer)) as {
      shape: Array<number>
      finite: boolean
      keys: Array<number>
      loss: number
      gpu: string
    }
    assert.deepStrictEqual(out.shape, [4, 2])
    assert.isTrue(out.finite)
    assert.deepStrictEqual(out.keys, [2])
    assert.strictEqual(out.loss, 3.125)
    assert.include(out.gpu, "npm install gpu.js")

    // A browser bundle of the installed package: esbuild resolves it for the browser with no Node
    // built-in among its static imports (Node-only parts are loaded on demand, where they exist).
    const bundled = await build({
      entryPoints: [join(consumer, "out", "main.js")],
      absWorkingDir: consumer,
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent"
    }).catch((e: unknown) => {
      throw new Error(`the browser bundle failed: ${JSON.stringify((e as { errors?: unknown }).errors ?? String(e))}`)
    })
    assert.deepStrictEqual(bundled.errors, [])
    const code = bundled.outputFiles[0]!.text
    assert.isAbove(code.length, 100_000)
    assert.notMatch(code, /^import [^;]* from "node:/m)
  }, 900_000)
})
