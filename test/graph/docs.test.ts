/**
 * docs/graph.md's examples run: each ```ts block is written to a temporary module (its
 * `effect-nnx` and `effect` imports pointed at this checkout) and imported; none may throw. What
 * the blocks print of our own printed forms (`console.log(String(...))`, `displayString`,
 * `nnx.display`) must be what the `// ...` comment lines under the call show (a last line `...`
 * shows a beginning).
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

/** The comment lines under each call that prints one of our printed forms, as the text it shows. */
const shownOutputs = (code: string): Array<{ readonly text: string; readonly prefix: boolean }> => {
  const lines = code.split("\n")
  const out: Array<{ text: string; prefix: boolean }> = []
  lines.forEach((line, i) => {
    if (line.includes("//") || !/console\.log\((String|nnx\.displayString)\(|nnx\.display\(/.test(line)) return
    const shown: Array<string> = []
    for (let j = i + 1; j < lines.length && lines[j]!.startsWith("//"); j++) shown.push(lines[j]!.replace(/^\/\/ ?/, ""))
    if (shown.length === 0) return
    const prefix = shown[shown.length - 1]!.trim() === "..."
    out.push({ text: (prefix ? shown.slice(0, -1) : shown).join("\n"), prefix })
  })
  return out
}

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
      const printed: Array<string> = []
      const log = console.log
      console.log = (...args: Array<unknown>) => void printed.push(args.map(String).join(" "))
      try {
        await import(pathToFileURL(file).href)
      } finally {
        console.log = log
      }
      for (const shown of shownOutputs(code)) {
        expect(printed.some((p) => (shown.prefix ? p.startsWith(shown.text) : p === shown.text)), `printed:\n${printed.join("\n")}\n\nshown:\n${shown.text}`).toBe(true)
      }
    })
  })
})
