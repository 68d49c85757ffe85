/**
 * docs/mnist.md shows the example's code as it is: every TypeScript block is a verbatim part of
 * examples/mnist.ts and every Python block a verbatim part of examples/mnist_flax.py (the test of
 * the example itself is mnist.test.ts).
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8")
const blocks = (doc: string, lang: string): Array<string> => {
  const out: Array<string> = []
  const re = new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g")
  for (let m = re.exec(doc); m !== null; m = re.exec(doc)) out.push(m[1]!)
  return out
}

describe("docs/mnist.md", () => {
  const doc = read("docs/mnist.md")
  it("shows the TypeScript example's code verbatim", () => {
    const source = read("examples/mnist.ts")
    const ts = blocks(doc, "ts")
    assert.isAtLeast(ts.length, 2)
    for (const b of ts)
      assert.include(source, b.trimEnd(), "a TypeScript block of docs/mnist.md is not in examples/mnist.ts")
  })
  it("shows the Flax version's code verbatim", () => {
    const source = read("examples/mnist_flax.py")
    const py = blocks(doc, "python")
    assert.isAtLeast(py.length, 2)
    for (const b of py)
      assert.include(source, b.trimEnd(), "a Python block of docs/mnist.md is not in examples/mnist_flax.py")
  })
})
