/**
 * The library's modules import one another one way: no module reaches back to one that imports it
 * (value imports; `import type` leaves nothing at run time). Array's methods are installed from the
 * numpy side and the interpreters' rule tables from above them, which is what keeps it so.
 */
import { resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { cycles, importGraph } from "../../scripts/import-cycles.ts"

describe("imports", () => {
  it("src/ has no import cycle", () => {
    const found = cycles(importGraph(resolve(import.meta.dirname, "../../src")))
    expect(found.map((c) => c.map((f) => f.replace(/.*\/src\//, "src/")).sort())).toEqual([])
  })

  it("the checker finds a cycle when there is one", () => {
    const g = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a"]],
      ["d", ["a"]]
    ])
    expect(cycles(g).map((c) => [...c].sort())).toEqual([["a", "b", "c"]])
  })
})
