/**
 * docs/engine.md's examples run, and print what their comments say: each ```ts block is written to a
 * temporary module (its `effect-nnx` import pointed at this checkout) and imported with console.log
 * captured. A `console.log(...)` line's expected output is its trailing `// ...` comment, or the
 * `// ` lines right below it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { format } from "node:util"
import { afterAll, describe, expect, it } from "vitest"

const doc = readFileSync(new URL("../../docs/engine.md", import.meta.url), "utf8")
const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)
const entry = fileURLToPath(new URL("../../src/index.ts", import.meta.url))
const dir = mkdtempSync(join(tmpdir(), "effect-nnx-engine-docs-"))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The output a block's comments promise, one entry per console.log call. */
export const expectedOutputs = (code: string): Array<string> => {
  const lines = code.split("\n")
  const out: Array<string> = []
  lines.forEach((line, i) => {
    if (!line.includes("console.log(")) return
    const trailing = /\)\s*\/\/ (.*)$/.exec(line)
    if (trailing !== null) return void out.push(trailing[1]!.trim())
    const below: Array<string> = []
    for (let j = i + 1; j < lines.length && lines[j]!.startsWith("// "); j++) below.push(lines[j]!.slice(3))
    out.push(below.join("\n"))
  })
  return out
}

describe("docs/engine.md examples", () => {
  it("has examples that print", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2)
    expect(blocks.every((b) => expectedOutputs(b).length > 0)).toBe(true)
  })

  blocks.forEach((code, i) => {
    it(`example ${i + 1} prints what its comments say`, async () => {
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
      expect(printed).toEqual(expectedOutputs(code))
    })
  })
})
