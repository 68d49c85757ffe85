/**
 * docs/layers.md's examples run: each ```ts block is written to a temporary module (its
 * `effect-nnx` imports pointed at this checkout) and imported; what it prints with console.log must
 * equal the `// > ` lines of the block, in order.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { inspect } from "node:util"
import { fileURLToPath, pathToFileURL } from "node:url"
import { afterAll, describe, expect, it } from "vitest"

const doc = readFileSync(new URL("../../docs/layers.md", import.meta.url), "utf8")
const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)
const entry = fileURLToPath(new URL("../../src/index.ts", import.meta.url))
const dir = mkdtempSync(join(tmpdir(), "effect-nnx-layers-docs-"))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("docs/layers.md examples", () => {
  it("has examples", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6)
  })

  blocks.forEach((code, i) => {
    it(`example ${i + 1} runs and prints what the page says`, async () => {
      const expected = code.split("\n").filter((l) => l.trim().startsWith("// > ")).map((l) => l.trim().slice(5))
      const source = code.replace(/from "effect-nnx"/g, `from ${JSON.stringify(entry)}`)
      const file = join(dir, `example${i}.ts`)
      writeFileSync(file, `${source}\nexport {}\n`)
      const printed: Array<string> = []
      const log = console.log
      console.log = (...args: Array<unknown>) => {
        printed.push(args.map((a) => (typeof a === "string" ? a : inspect(a, { breakLength: Infinity }))).join(" "))
      }
      try {
        await import(pathToFileURL(file).href)
      } finally {
        console.log = log
      }
      expect(printed).toEqual(expected)
    })
  })
})
