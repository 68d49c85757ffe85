/**
 * The TypeScript blocks of README.md and every docs/*.md page are programs that type-check (all in one
 * TypeScript program) and run, printing or giving what their comments say (the rules are in
 * test/support/docExamples.ts). Pages that show excerpts of an example program are checked to quote it
 * verbatim instead: the program itself is type-checked with the project and run by its own test.
 */
import { readFileSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  checkExample,
  describeMismatches,
  exampleDir,
  exampleName,
  pageExamples,
  pages,
  typeCheck
} from "../support/docExamples.ts"
import type { Example } from "../support/docExamples.ts"

/** Pages made of excerpts of a program, and the program (run by test/examples/*.test.ts). */
const excerpts: Record<string, string> = {
  "docs/mnist.md": "examples/mnist.ts",
  "docs/service.md": "examples/service.ts"
}

const checked = pages().filter((p) => excerpts[p] === undefined)
const examples = new Map<string, Array<Example>>(checked.map((p) => [p, pageExamples(p)]))
const { dir, remove } = exampleDir("pages")
afterAll(remove)

let typeErrors = new Map<string, Array<string>>()
beforeAll(() => {
  typeErrors = new Map(typeCheck([...examples.values()].flat(), dir).map((r) => [exampleName(r.example), r.errors]))
}, 120_000)

it("every page's TypeScript blocks type-check", () => {
  const failing = [...typeErrors.entries()].map(([name, errors]) => `${name}\n  ${errors.join("\n  ")}`)
  expect(failing, `${failing.length} blocks do not type-check:\n${failing.join("\n")}`).toEqual([])
})

for (const [page, blocks] of [...examples].filter(([, b]) => b.length > 0)) {
  describe(page, () => {
    for (const example of blocks) {
      it(`${exampleName(example)} runs and prints what its comments say`, async () => {
        const { mismatches } = await checkExample(example, dir)
        expect(mismatches, describeMismatches(example, mismatches)).toEqual([])
      })
    }
  })
}

/** Text with each line's indentation removed: a quote may be indented differently from its source. */
const unindented = (text: string): string =>
  text
    .split("\n")
    .map((l) => l.trimStart())
    .join("\n")
    .trimEnd()

for (const [page, program] of Object.entries(excerpts)) {
  it(`${page} quotes ${program} verbatim`, () => {
    const source = unindented(readFileSync(new URL(`../../${program}`, import.meta.url), "utf8"))
    const doc = readFileSync(new URL(`../../${page}`, import.meta.url), "utf8")
    const blocks = [...doc.matchAll(/^```ts\n([\s\S]*?)^```/gm)].map((m) => m[1]!)
    expect(blocks.length).toBeGreaterThan(0)
    const missing = blocks.filter((b) => !source.includes(unindented(b)))
    expect(missing, `blocks of ${page} not found in ${program}:\n${missing.join("\n---\n")}`).toEqual([])
  })
}
