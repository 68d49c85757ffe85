/**
 * docs/engine.md's examples run, and print what their comments say (see test/support/docExamples.ts).
 */
import { afterAll, describe, expect, it } from "vitest"
import { docBlocks, exampleDir, expectedOutputs, runExample } from "../support/docExamples.ts"

const blocks = docBlocks("engine.md")
const { dir, remove } = exampleDir("engine")
afterAll(remove)

describe("docs/engine.md examples", () => {
  it("has examples that print", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2)
    expect(blocks.every((b) => expectedOutputs(b).length > 0)).toBe(true)
  })

  blocks.forEach((code, i) => {
    it(`example ${i + 1} prints what its comments say`, async () => {
      expect(await runExample(code, dir, `example${i}`)).toEqual(expectedOutputs(code))
    })
  })
})
