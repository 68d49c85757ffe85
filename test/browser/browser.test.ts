/**
 * effect-nnx in a browser: a bundle of the library (esbuild) served on 127.0.0.1 runs in headless
 * Chromium (Debian's, driven by playwright-core), and every result equals the cpu backend's (or the
 * fused-program reference's) to float32 tolerance:
 *
 * - gpu.js's WebGL2 mode (on SwiftShader, software, since the machine has no GPU and Chromium is
 *   started with --disable-gpu): a vmapped matmul, a gradient step, the hand-built fused programs of
 *   fusedCases.ts as one kernel each, and a jitted chain as one fused dispatch;
 * - WebGPU (`--enable-unsafe-webgpu`; SwiftShader's adapter here): the webgpu backend runs the
 *   matmul, the gradient step, a device-decided while loop and a jitted chain (one fused dispatch),
 *   read back asynchronously, and a synchronous read of a queued value is a PendingReadError;
 * - the wasm backend, the default: a matmul, an elementwise chain and a jitted layer, on the page's
 *   main thread and in a module worker. The page is served cross-origin isolated (COOP same-origin,
 *   COEP require-corp), so the worker's pool gets its threads; on the main thread, where
 *   `Atomics.wait` is not allowed, the pool runs alone and says why. The test reports both.
 *
 * Chromium comes from Debian's `chromium` package: where it is missing and this runs as root, the
 * test installs it with apt-get; otherwise it skips, saying why.
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { build } from "esbuild"
import { chromium } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { FusedRun, Pair, PageResult, WasmResult } from "./page.ts"

const chromiumPath = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium"

/** Finds Chromium, installing Debian's package when possible; returns why not otherwise. */
const ensureChromium = (): string | undefined => {
  if (existsSync(chromiumPath)) return undefined
  if (process.platform !== "linux" || process.getuid?.() !== 0 || !existsSync("/usr/bin/apt-get")) {
    return `no Chromium at ${chromiumPath}, and this is not root on Debian to apt-get install it (set CHROMIUM_PATH)`
  }
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
    execFileSync("apt-get", ["update", "-qq"], { stdio: "ignore", env, timeout: 300_000 })
    execFileSync("apt-get", ["install", "-y", "-qq", "chromium"], { stdio: "ignore", env, timeout: 600_000 })
  } catch (e) {
    return `installing Debian's chromium failed: ${e instanceof Error ? e.message : String(e)}`
  }
  return existsSync(chromiumPath) ? undefined : `apt-get installed chromium but ${chromiumPath} is missing`
}

const missing = ensureChromium()

const flatten = (x: unknown): Array<number> => (Array.isArray(x) ? x.flatMap(flatten) : [x as number])

/** Element-wise closeness to float32 tolerance, NaN equal to NaN. */
const expectClose = (got: unknown, want: unknown, what: string): void => {
  const g = flatten(got),
    w = flatten(want)
  expect(g.length, what).toBe(w.length)
  expect(g.length, what).toBeGreaterThan(0)
  g.forEach((v, i) => {
    const u = w[i]!
    if (Number.isNaN(u)) expect(v, `${what}[${i}]`).toBeNaN()
    else expect(Math.abs(v - u), `${what}[${i}]: ${v} vs ${u}`).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(u)))
  })
}

const expectPair = (p: Pair, what: string): void => expectClose(p.got, p.cpu, what)

/** Headers that make the page cross-origin isolated (SharedArrayBuffer, threads for the wasm backend). */
const isolation = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
  "cross-origin-resource-policy": "same-origin"
} as const

/** A part of the page's result, or the test fails with the page's error and console. */
const part = <A extends object>(value: A | string, what: string, logs: ReadonlyArray<string>): A => {
  if (typeof value === "string") expect.fail(`${what} failed in the page: ${value}\n${logs.join("\n")}`)
  return value as A
}

/** Loads the page in a fresh headless Chromium and returns what it computed. */
const runPage = async (url: string, dir: string, logs: Array<string>): Promise<PageResult> => {
  // playwright passes the fresh profile directory as --user-data-dir.
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--enable-unsafe-webgpu",
      "--enable-unsafe-swiftshader",
      "--use-angle=swiftshader",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic"
    ]
  })
  try {
    const page = await context.newPage()
    page.on("console", (m) => logs.push(m.text()))
    page.on("pageerror", (e) => logs.push(String(e)))
    await page.goto(url)
    await page.waitForFunction(
      () => (globalThis as { effectNnxResult?: unknown }).effectNnxResult !== undefined,
      undefined,
      { timeout: 180_000 }
    )
    const got = await page.evaluate(
      () => (globalThis as unknown as { effectNnxResult: PageResult | { readonly error: string } }).effectNnxResult
    )
    if ("error" in got) throw new Error(got.error)
    return got
  } finally {
    await context.close()
  }
}

describe.skipIf(missing !== undefined)(
  `in headless Chromium${missing === undefined ? "" : ` (skipped: ${missing})`}`,
  () => {
    let url = ""
    let close = (): void => {}
    let dir = ""
    let result: PageResult | string = "the page was not loaded"
    const logs: Array<string> = []
    const loaded = (): PageResult => {
      if (typeof result === "string") expect.fail(`the page failed: ${result}`)
      return result as PageResult
    }

    beforeAll(async () => {
      const bundle = await build({
        entryPoints: [new URL("./page.ts", import.meta.url).pathname],
        bundle: true,
        format: "esm",
        platform: "browser",
        conditions: ["source"],
        write: false,
        logLevel: "silent"
      })
      const js = bundle.outputFiles[0]!.contents
      const html = `<!doctype html><meta charset="utf-8"><title>effect-nnx</title><script type="module" src="/page.js"></script>`
      const server = createServer((req, res) => {
        if (req.url === "/page.js") res.writeHead(200, { ...isolation, "content-type": "text/javascript" }).end(js)
        else if (req.url === "/" || req.url === "/index.html")
          res.writeHead(200, { ...isolation, "content-type": "text/html" }).end(html)
        else res.writeHead(404, isolation).end()
      })
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
      close = () => server.close()
      dir = mkdtempSync(join(tmpdir(), "effect-nnx-chromium-"))
      result = await runPage(url, dir, logs).catch(
        (e: unknown) => `${e instanceof Error ? e.message : String(e)}\n${logs.join("\n")}`
      )
    }, 240_000)

    afterAll(() => {
      close()
      if (dir !== "") rmSync(dir, { recursive: true, force: true })
    })

    it("serves the page cross-origin isolated (COOP same-origin, COEP require-corp)", () => {
      expect(loaded().crossOriginIsolated).toBe(true)
    })

    it("runs a vmapped matmul and a grad step on WebGL2 with the cpu backend's results", () => {
      const gpu = part(loaded().gpujs, "gpujs", logs)
      expect(gpu.mode).toBe("webgl2")
      expect(gpu.kernelErrors).toBe(0)
      expect(gpu.gpuLaunches).toBeGreaterThan(5)
      expectPair(gpu.vmapped, "vmapped matmul")
      expectPair(gpu.step, "grad step")
    })

    it("runs each hand-built fused program as one WebGL2 kernel with the reference's answer, and a jitted chain as one fused dispatch", () => {
      const gpu = part(loaded().gpujs, "gpujs", logs)
      expect(gpu.fused, "the gpujs backend has compileFused").not.toBeNull()
      for (const run of gpu.fused as ReadonlyArray<FusedRun>) {
        expect(run.got, `${run.name}: compiled`).not.toBeNull()
        expect(run.dispatches, `${run.name}: one dispatch`).toBe(1)
        run.want.forEach((w, k) => expectClose(run.got![k], w, `${run.name} #${k}`))
      }
      expectPair(gpu.jitted, "jitted chain on WebGL2")
      expect(gpu.jitted.fused, "one fused kernel").toBe(1)
      expect(gpu.jitted.dispatches, "and nothing else").toBe(1)
    })

    it("runs the webgpu backend through navigator.gpu, reading back asynchronously", () => {
      const w = part(loaded().webgpu, "webgpu", logs)
      console.info(`webgpu in Chromium on ${w.adapter}: ${w.gpuLaunches} kernel launches`)
      expect(w.kernelErrors).toBe(0)
      expect(w.gpuLaunches).toBeGreaterThan(5)
      expect(w.syncRead).toBe("PendingReadError")
      expectPair(w.vmapped, "vmapped matmul on webgpu")
      expectPair(w.step, "grad step on webgpu")
      expectPair(w.loop, "device-decided while loop on webgpu")
      expectPair(w.jitted, "jitted chain on webgpu")
      expect(w.jitted.fused, "one fused kernel").toBe(1)
      expect(w.jitted.dispatches, "and nothing else").toBe(1)
    })

    const wasmChecks = (w: WasmResult): void => {
      expectPair(w.matmul, `matmul on wasm (${w.where})`)
      expectPair(w.chain, `elementwise chain on wasm (${w.where})`)
      expectPair(w.jitted, `jitted layer on wasm (${w.where})`)
    }

    it("runs the wasm backend on the page's main thread, alone since Atomics.wait is not allowed there", () => {
      const w = part(loaded().wasmMain, "wasm on the main thread", logs)
      console.info(
        `wasm backend on the main thread: threads ${w.threads}, reason: ${w.threadsReason ?? "none"}; jitted layer: ${w.jitted.dispatches} dispatches, ${w.jitted.fused} fused`
      )
      wasmChecks(w)
      expect(w.threads).toBe(1)
      expect(w.threadsReason).toMatch(/Atomics\.wait/)
    })

    it("runs the wasm backend with worker threads inside a Web Worker of the cross-origin isolated page", () => {
      const w = part(loaded().wasmWorker, "wasm in a worker", logs)
      console.info(
        `wasm backend in a worker: threads ${w.threads}, reason: ${w.threadsReason ?? "none"}, crossOriginIsolated ${w.crossOriginIsolated}; jitted layer: ${w.jitted.dispatches} dispatches, ${w.jitted.fused} fused`
      )
      wasmChecks(w)
      expect(w.crossOriginIsolated).toBe(true)
      expect(w.threadsReason).toBeNull()
      expect(w.threads).toBeGreaterThan(1)
    })
  }
)
