/**
 * Finds import cycles among the library's modules (src/). Value imports and re-exports count;
 * `import type` does not, since it leaves no trace at run time. Prints each cycle (strongly connected
 * component) and exits 1 when there is one. `npm test` runs it through test/structure.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"

export const sourceFiles = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith(".ts") ? [p] : []
  })

const importRe = /^\s*(?:import|export)\s+(type\s+)?(?:[^"';]*?\s+from\s+)?["']([^"']+)["']/gm

/** The value-import graph of the files under `root`. */
export const importGraph = (root: string, includeTypes = false): Map<string, Array<string>> => {
  const graph = new Map<string, Array<string>>()
  for (const file of sourceFiles(root)) {
    const text = readFileSync(file, "utf8")
    const deps: Array<string> = []
    for (const m of text.matchAll(importRe)) {
      const [, typeOnly, spec] = m
      if (!spec!.startsWith(".")) continue
      if (typeOnly !== undefined && !includeTypes) continue
      // `import { type A, type B }` is type-only too.
      const clause = m[0]
      const braces = /\{([^}]*)\}/.exec(clause)
      if (
        !includeTypes &&
        braces !== null &&
        !/\*/.test(clause) &&
        braces[1]!
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "")
          .every((s) => s.startsWith("type "))
      )
        continue
      deps.push(resolve(dirname(file), spec!))
    }
    graph.set(resolve(file), deps)
  }
  return graph
}

/** Strongly connected components with more than one file (or a file importing itself). */
export const cycles = (graph: Map<string, Array<string>>): Array<Array<string>> => {
  let index = 0
  const idx = new Map<string, number>(),
    low = new Map<string, number>(),
    onStack = new Set<string>()
  const stack: Array<string> = []
  const out: Array<Array<string>> = []
  const strong = (v: string): void => {
    idx.set(v, index)
    low.set(v, index)
    index++
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue
      if (!idx.has(w)) {
        strong(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!))
    }
    if (low.get(v) === idx.get(v)) {
      const comp: Array<string> = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        comp.push(w)
      } while (w !== v)
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp)
    }
  }
  for (const v of graph.keys()) if (!idx.has(v)) strong(v)
  return out
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = resolve(process.argv[2] ?? "src")
  const includeTypes = process.argv.includes("--types")
  const found = cycles(importGraph(root, includeTypes))
  for (const c of found)
    console.log(
      `cycle of ${c.length} files:\n  ${c
        .map((f) => relative(process.cwd(), f))
        .sort()
        .join("\n  ")}`
    )
  console.log(found.length === 0 ? "no import cycles" : `${found.length} import cycle(s)`)
  process.exit(found.length === 0 ? 0 : 1)
}
