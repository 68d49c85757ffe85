/**
 * docs/graph.md's examples run: each ```ts block is written to a temporary module (its
 * `effect-nnx` and `effect` imports pointed at this checkout) and imported; none may throw.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { afterAll, describe, expect, it } from "vitest"

const doc = readFileSync(new URL("../../docs/graph.md", import.meta.url), "utf8")
const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)
const entry = fileURLToPath(new URL("../../src/index.ts", import.meta.url))
const effect = createRequire(import.meta.url).resolve("effect")
const dir = mkdtempSync(join(tmpdir(), "effect-nnx-docs-"))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("docs/graph.md examples", () => {
  it("has examples", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(8)
  })

  blocks.forEach((code, i) => {
    const title = code.split("\n").find((l) => l.startsWith("class ") || l.startsWith("const ")) ?? `block ${i}`
    it(`example ${i + 1} runs (${title.slice(0, 60)})`, async () => {
      const source = code.replace(/from "effect-nnx"/g, `from ${JSON.stringify(entry)}`).replace(/from "effect"/g, `from ${JSON.stringify(effect)}`)
      const file = join(dir, `example${i}.ts`)
      writeFileSync(file, `${source}\nexport {}\n`)
      const log = console.log
      console.log = () => {}
      try {
        await import(pathToFileURL(file).href)
      } finally {
        console.log = log
      }
    })
  })
})
