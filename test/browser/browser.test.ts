/**
 * effect-nnx in a browser: a bundle of the library (esbuild) served on localhost runs a vmapped
 * matmul and a gradient step on gpu.js's WebGL2 mode in headless Chromium (Debian's, driven by
 * playwright-core), and the results equal the cpu backend's to float32 tolerance.
 *
 * Chromium comes from Debian's `chromium` package: where it is missing and this runs as root, the
 * test installs it with apt-get; otherwise it skips, saying why. WebGL2 runs on SwiftShader (software),
 * since the machine has no GPU and Chromium is started with --disable-gpu.
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
import type { PageResult } from "./page.ts"

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

const expectClose = (got: unknown, want: unknown, what: string): void => {
  const g = flatten(got), w = flatten(want)
  expect(g.length, what).toBe(w.length)
  expect(g.length, what).toBeGreaterThan(0)
  g.forEach((v, i) => expect(Math.abs(v - w[i]!), `${what}[${i}]: ${v} vs ${w[i]}`).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(w[i]!))))
}

describe.skipIf(missing !== undefined)(`in headless Chromium${missing === undefined ? "" : ` (skipped: ${missing})`}`, () => {
  let url = ""
  let close = (): void => {}
  let dir = ""

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [new URL("./page.ts", import.meta.url).pathname],
      bundle: true, format: "esm", platform: "browser", conditions: ["source"], write: false, logLevel: "silent"
    })
    const js = bundle.outputFiles[0]!.contents
    const html = `<!doctype html><meta charset="utf-8"><title>effect-nnx</title><script type="module" src="/page.js"></script>`
    const server = createServer((req, res) => {
      if (req.url === "/page.js") res.writeHead(200, { "content-type": "text/javascript" }).end(js)
      else if (req.url === "/" || req.url === "/index.html") res.writeHead(200, { "content-type": "text/html" }).end(html)
      else res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    close = () => server.close()
    dir = mkdtempSync(join(tmpdir(), "effect-nnx-chromium-"))
  }, 120_000)

  afterAll(() => {
    close()
    if (dir !== "") rmSync(dir, { recursive: true, force: true })
  })

  it("runs a vmapped matmul and a grad step on WebGL2 with the cpu backend's results", async () => {
    // playwright passes the fresh profile directory as --user-data-dir.
    const context = await chromium.launchPersistentContext(dir, {
      executablePath: chromiumPath,
      headless: true,
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader", "--use-angle=swiftshader",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-quic"
      ]
    })
    try {
      const page = await context.newPage()
      const logs: Array<string> = []
      page.on("console", (m) => logs.push(m.text()))
      page.on("pageerror", (e) => logs.push(String(e)))
      await page.goto(url)
      await page.waitForFunction(() => (globalThis as { effectNnxResult?: unknown }).effectNnxResult !== undefined, undefined, { timeout: 90_000 })
      const result = await page.evaluate(() => (globalThis as unknown as { effectNnxResult: PageResult }).effectNnxResult)
      expect(result.error, logs.join("\n")).toBeUndefined()
      expect(result.mode).toBe("webgl2")
      expect(result.kernelErrors).toBe(0)
      expect(result.gpuLaunches).toBeGreaterThan(5)
      expectClose(result.vmapped.gpu, result.vmapped.cpu, "vmapped matmul")
      expectClose(result.step.gpu, result.step.cpu, "grad step")
    } finally {
      await context.close()
    }
  }, 180_000)
})
