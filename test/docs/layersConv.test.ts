/**
 * docs/layers-conv.md's examples run and print what their comments say (the same convention as
 * docs/engine.md: a `console.log(...)` line's expected output is its trailing `// ...` comment).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { format } from "node:util"
import { afterAll, describe, expect, it } from "vitest"

const doc = readFileSync(new URL("../../docs/layers-conv.md", import.meta.url), "utf8")
const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)
const entry = fileURLToPath(new URL("../../src/index.ts", import.meta.url))
const dir = mkdtempSync(join(tmpdir(), "effect-nnx-conv-docs-"))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

const expected = (code: string): Array<string> =>
  code.split("\n").flatMap((line) => {
    const m = /console\.log\(.*\)\s*\/\/ (.*)$/.exec(line)
    return m === null ? [] : [m[1]!.trim()]
  })

describe("docs/layers-conv.md examples", () => {
  it("has examples that print", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4)
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
      expect(printed).toEqual(expected(code))
    })
  })
})
