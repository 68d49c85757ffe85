/**
 * docs/layers-conv.md's examples run and print what their comments say (see
 * test/support/docExamples.ts).
 */
import { afterAll, describe, expect, it } from "vitest"
import { docBlocks, exampleDir, expectedOutputs, runExample } from "../support/docExamples.ts"

const blocks = docBlocks("layers-conv.md")
const { dir, remove } = exampleDir("layers-conv")
afterAll(remove)

describe("docs/layers-conv.md examples", () => {
  it("has examples that print", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4)
  })

  blocks.forEach((code, i) => {
    it(`example ${i + 1} prints what its comments say`, async () => {
      expect(await runExample(code, dir, `example${i}`)).toEqual(expectedOutputs(code))
    })
  })
})
