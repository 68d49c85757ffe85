/**
 * Every `@example` block of the doc comments under src/ is a program that type-checks (all of them in
 * one TypeScript program) and runs, printing or giving what its comments say (the rules are in
 * test/support/docExamples.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  checkExample,
  describeMismatches,
  exampleDir,
  exampleName,
  sourceExamples,
  typeCheck
} from "../support/docExamples.ts"

const { examples, unfenced } = sourceExamples()
const { dir, remove } = exampleDir("src")
afterAll(remove)

let typeErrors = new Map<string, Array<string>>()
beforeAll(() => {
  typeErrors = new Map(typeCheck(examples, dir).map((r) => [exampleName(r.example), r.errors]))
}, 120_000)

describe("@example blocks in src/", () => {
  it("every @example is a ```ts block", () => {
    expect(unfenced, `@example tags without a \`\`\`ts fence on the next line:\n${unfenced.join("\n")}`).toEqual([])
  })

  it("has examples", () => {
    expect(examples.length).toBeGreaterThan(100)
  })

  it("every example type-checks", () => {
    const failing = [...typeErrors.entries()].map(([name, errors]) => `${name}\n  ${errors.join("\n  ")}`)
    expect(failing, `${failing.length} @example blocks do not type-check:\n${failing.join("\n")}`).toEqual([])
  })

  for (const example of examples) {
    it(`${exampleName(example)} runs and gives what its comments say`, async () => {
      const { mismatches } = await checkExample(example, dir)
      expect(mismatches, describeMismatches(example, mismatches)).toEqual([])
    })
  }
})
