/**
 * Runs the ```ts blocks of a docs page as programs and checks what they print: each block is written
 * to a temporary module (its `effect-nnx` import pointed at this checkout) and imported with
 * console.log captured. A `console.log(...)` line's expected output is its trailing `// ...`
 * comment, or the `// ` lines right below it. Shared by the docs tests of several pages.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { format } from "node:util"

const entry = fileURLToPath(new URL("../../src/index.ts", import.meta.url))

/** The ```ts blocks of a page under docs/. */
export const docBlocks = (page: string): Array<string> => {
  const doc = readFileSync(new URL(`../../docs/${page}`, import.meta.url), "utf8")
  return [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)
}

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

/** A temporary folder for a page's example modules, and a function that removes it. */
export const exampleDir = (name: string): { readonly dir: string; readonly remove: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), `effect-nnx-${name}-docs-`))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Runs a block as a module in `dir`; what its console.log calls printed, one entry per call. */
export const runExample = async (code: string, dir: string, name: string): Promise<Array<string>> => {
  const file = join(dir, `${name}.ts`)
  writeFileSync(file, `${code.replace(/from "effect-nnx"/g, `from ${JSON.stringify(entry)}`)}\nexport {}\n`)
  const printed: Array<string> = []
  const log = console.log
  console.log = (...args: Array<unknown>) => void printed.push(format(...args))
  try {
    await import(pathToFileURL(file).href)
  } finally {
    console.log = log
  }
  return printed
}
