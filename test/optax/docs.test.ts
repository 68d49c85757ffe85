/**
 * docs/optax.md's examples run and print what their comments say: each ```ts block that imports
 * effect-nnx is written to a temporary module (the import pointed at this checkout) and imported
 * with console.log captured; the `// ` lines right below a `console.log(...)` line are its output.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { format } from "node:util"
import { afterAll, describe, expect, it } from "vitest"

const doc = readFileSync(new URL("../../docs/optax.md", import.meta.url), "utf8")
const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.split("\n").length > 2)
const entry = fileURLToPath(new URL("../../src/index.ts", import.meta.url))
const dir = mkdtempSync(join(tmpdir(), "effect-nnx-optax-docs-"))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

const expectedOutputs = (code: string): Array<string> => {
  const lines = code.split("\n")
  const out: Array<string> = []
  lines.forEach((line, i) => {
    if (!line.includes("console.log(")) return
    const below: Array<string> = []
    for (let j = i + 1; j < lines.length && lines[j]!.startsWith("// "); j++) below.push(lines[j]!.slice(3))
    out.push(below.join("\n"))
  })
  return out
}

describe("docs/optax.md examples", () => {
  it("has its examples", () => {
    expect(blocks.length).toBe(5)
  })

  blocks.forEach((code, i) => {
    it(`example ${i + 1} prints what it says`, async () => {
      const file = join(dir, `example${i}.ts`)
      writeFileSync(file, `${code.replace(/from "effect-nnx"/g, `from ${JSON.stringify(entry)}`)}\nexport {}\n`)
      const printed: Array<string> = []
      const log = console.log
      console.log = (...args: Array<unknown>) => void printed.push(format(...args))
      try {
        await import(pathToFileURL(file).href)
      } finally {
        console.log = log
      }
      // The training loop prints one line per epoch from one console.log call.
      expect(printed.join("\n")).toBe(expectedOutputs(code).join("\n"))
    })
  })
})
