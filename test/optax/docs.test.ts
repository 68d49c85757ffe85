/**
 * docs/optax.md's examples run and print what their comments say (see test/support/docExamples.ts);
 * one-line blocks (import lines) are skipped.
 */
import { afterAll, describe, expect, it } from "vitest"
import { docBlocks, exampleDir, expectedOutputs, runExample } from "../support/docExamples.ts"

const blocks = docBlocks("optax.md").filter((b) => b.split("\n").length > 2)
const { dir, remove } = exampleDir("optax")
afterAll(remove)

describe("docs/optax.md examples", () => {
  it("has its examples", () => {
    expect(blocks.length).toBe(5)
  })

  blocks.forEach((code, i) => {
    it(`example ${i + 1} prints what it says`, async () => {
      const printed = await runExample(code, dir, `example${i}`)
      // The training loop prints one line per epoch from one console.log call.
      expect(printed.join("\n")).toBe(expectedOutputs(code).join("\n"))
    })
  })
})
