/**
 * The docs runner (test/support/docExamples.ts) compares what it should and only that: a wrong output
 * comment is a mismatch, prose is not compared, and a continuing page's blocks see the ones before.
 */
import { writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { checkExample, continuingMarker, exampleDir, pageExamples, typeCheck } from "../support/docExamples.ts"
import type { Example } from "../support/docExamples.ts"

const { dir, remove } = exampleDir("runner")
afterAll(remove)

let n = 0
const example = (code: string): Example => ({ file: `runner-${n}.md`, line: ++n, code, before: "", after: "" })
const mismatchesOf = async (code: string) =>
  (await checkExample(example(`import { jnp } from "effect-nnx"\n${code}\n`), dir)).mismatches

describe("the docs runner", () => {
  it("compares values with value comments, in TypeScript's notation", async () => {
    expect(
      await mismatchesOf(
        `jnp.arange(3).tolist() // [0, 1, 2]\njnp.arange(3).dtype // "int32"\njnp.ones([2]) // Array([1., 1.], dtype=float32)`
      )
    ).toEqual([])
    const [m] = await mismatchesOf("jnp.arange(3).tolist() // [0, 1, 3]")
    expect(m?.actual).toBe("[0, 1, 2]")
  })

  it("compares what console.log prints, as Node prints it or as TypeScript literals", async () => {
    expect(
      await mismatchesOf(`console.log(["a", null], 2) // ["a", null] 2\nconsole.log([1, 2])\n// [ 1, 2 ]`)
    ).toEqual([])
    expect(await mismatchesOf(`console.log("x") // y`)).toHaveLength(1)
  })

  it("leaves prose alone, and allows prose after a value", async () => {
    expect(
      await mismatchesOf(
        `jnp.ones([3]).shape // [3]; every value is 1\njnp.ones([3]) // a vector of ones\nconst x = jnp.ones([2]) // [5, 5]`
      )
    ).toEqual([])
  })

  it("runs a continuing page's blocks in the scope of the blocks before them", async () => {
    const page = join(dir, "page.md")
    writeFileSync(
      page,
      `${continuingMarker}\n\n\`\`\`ts\nimport { jnp } from "effect-nnx"\n\`\`\`\n\n\`\`\`ts\nconst x = jnp.arange(3)\n\`\`\`\n\n\`\`\`ts\nconst y = x.add(1)\ny.tolist() // [1, 2, 3]\n\`\`\`\n\n\`\`\`ts\nconst x = "again"\nx // "again"\n\`\`\`\n`
    )
    const blocks = pageExamples(relative(fileURLToPath(new URL("../../", import.meta.url)), page))
    expect(blocks).toHaveLength(3)
    expect(typeCheck(blocks, dir)).toEqual([])
    for (const b of blocks) expect((await checkExample(b, dir)).mismatches).toEqual([])
  })
})
