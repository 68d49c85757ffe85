/**
 * Every example of the Flax NNX transforms guide, run in TypeScript (examples/guide/sections.ts),
 * prints what the guide prints. The expected text is the guide's Output and Display blocks in
 * order, with Python names camelCased (`sharding_names` → `shardingNames`, `new_param` →
 * `newParam`, `some_property` → `someProperty`). When the reference guide is checked out beside the
 * repository (../shared/reference), its blocks are read from it directly. The sections run in the
 * Python display style, which spells values as the guide does (`False`, `('a', None)`, one-line
 * displays); `npm run guide` runs them in the TypeScript style.
 */
import { existsSync, readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { runSections } from "../../examples/guide/sections.ts"

const camel = (s: string): string =>
  s
    .replace(/sharding_names/g, "shardingNames")
    .replace(/new_param/g, "newParam")
    .replace(/some_property/g, "someProperty")

/** The guide's printed blocks, in order. */
const fromReference = (text: string): Array<string> => {
  const blocks: Array<string> = []
  const re = /^(?:Output|Display):\n```text\n([\s\S]*?)\n```/gm
  for (let m = re.exec(text); m !== null; m = re.exec(text)) blocks.push(camel(m[1]!))
  return blocks
}

const referencePath = new URL("../../../shared/reference/flax-nnx-transforms-guide.md", import.meta.url)

/** The guide's blocks, as of the reference this port was written against. */
const expected: ReadonlyArray<string> = [
  "y.shape = (3, 10)",
  "<Weights( # Param: 90 (360 B)bias=<Param( # 30 (120 B)value=Array float32(10, 3))>, kernel=<Param( # 60 (240 B)value=Array float32(10, 2, 3))>,)>",
  "<Weights( # Param: 90 (360 B)bias=<Param( # 30 (120 B)value=Array float32(10, 3))>, kernel=<Param( # 60 (240 B)value=Array float32(10, 2, 3))>,)>",
  "y.shape = (3, 10)",
  "<WeightStack( # Param: 90 (360 B)bias=<Param( # 30 (120 B)value=Array float32(10, 3))>, kernel=<Param( # 60 (240 B)value=Array float32(10, 2, 3))>,)>",
  "Count( # 10 (40 B)\n  value=Array([ 1,  2,  3,  4,  5,  6,  7,  8,  9, 10], dtype=int32)\n)",
  "<Weights( # Count: 10 (40 B), Param: 60 (240 B), Total: 70 (280 B)count=<Count( # 10 (40 B)value=Array int32(10,))>, kernel=<Param( # 60 (240 B)value=Array float32(10, 2, 3))>, # Repeated python objnewParam=<Param( # 60 (240 B)value=Array float32(10, 2, 3))>, # Repeated python objsomeProperty=['a', 2, False,<3 elements...>],)>",
  "Count( # 1 (4 B)\n  value=Array(1, dtype=int32, weak_type=True)\n)",
  "False",
  "<Weights( # Param: 9 (36 B), Count: 1 (4 B), RngState: 20 (120 B), Total: 30 (160 B)bias=<Param( # 3 (12 B)value=Array float32(3,))>, count=<Count( # 1 (4 B)value=Array int32(),)>, kernel=<Param( # 6 (24 B)value=Array float32(2, 3))>, rngs=<Rngs( # RngState: 20 (120 B)noise=<RngStream( # RngState: 20 (120 B)count=<RngCount( # 10 (40 B)value=Array uint32(10,), # Visualization hidden in roundtrip modetag='noise',)>, key=<RngKey( # 10 (80 B)value=Array key<fry(10,)>, tag='noise',)>, tag='noise',)>,)>,)>",
  "False",
  "<Weights( # Param: 9 (36 B), Count: 1 (4 B), RngState: 2 (12 B), Total: 12 (52 B)bias=<Param( # 3 (12 B)value=Array float32(3,))>, count=<Count( # 1 (4 B)value=Array int32(),)>, kernel=<Param( # 6 (24 B)value=Array float32(2, 3))>, rngs=<Rngs( # RngState: 2 (12 B)noise=<RngStream( # RngState: 2 (12 B)count=<RngCount( # 1 (4 B)value=Array uint32(), tag='noise',)>, key=<RngKey( # 1 (8 B)value=Array key<fry()>, tag='noise',)>, tag='noise',)>,)>,)>",
  "Cannot mutate Param from a different trace level (https://flax.readthedocs.io/en/latest/api_reference/flax.errors.html#flax.errors.TraceContextError)",
  "Inconsistent aliasing detected. The following nodes have different prefixes:\nNode: Param\n  param: 0\n  param: 0\n  param: 1",
  "Inconsistent aliasing detected. The following nodes have different prefixes:\nNode: Param\n  param: 0\n  param: 0\n  param: 1",
  "Inner m.param.shape = (3, 5)\nInner m.param.shardingNames = ('a', None)\nOutter m.param.shape = (3, 4, 5)\nOutter m.param.shardingNames = ('a', 'b', None)",
  "Outter m.param.shape = (3, 4, 5)\nOutter m.param.shardingNames = ('a', 'b', None)"
]

describe("the Flax NNX transforms guide, in TypeScript", () => {
  const printed = runSections("python").flatMap((s) => s.blocks.map((block) => ({ title: s.title, block })))

  it("prints every block of the guide, in order", () => {
    expect(printed.map((p) => p.block)).toEqual(expected)
  })

  it.runIf(existsSync(referencePath))("matches the reference guide checked out beside the repository", () => {
    expect(fromReference(readFileSync(referencePath, "utf8"))).toEqual(expected)
  })
})

describe("npm run guide: the same sections in the TypeScript display style", () => {
  const blocks = runSections("typescript").flatMap((s) => s.blocks)

  it("prints TypeScript's spelling and multi-line displays", () => {
    expect(blocks.length).toBe(expected.length)
    expect(blocks[0]).toBe("y.shape = [3, 10]")
    expect(blocks[1]!.split("\n")).toEqual([
      "Weights( # Param: 90 (360 B)",
      "  bias=Param( # 30 (120 B)",
      "    value=Array float32[10, 3],",
      "  ),",
      "  kernel=Param( # 60 (240 B)",
      "    value=Array float32[10, 2, 3],",
      "  ),",
      ")"
    ])
    expect(blocks[6]).toContain('  someProperty=["a", 2, false],')
    expect(blocks[7]).toBe("Count( # 1 (4 B)\n  value=Array(1, dtype=int32, weakType=true)\n)")
    expect(blocks[8]).toBe("false")
    expect(blocks[15]).toContain('Inner m.param.shardingNames = ["a", null]')
    for (const block of blocks) expect(block).not.toMatch(/\b(True|False|None)\b|python obj/)
  })
})

describe("docs/transforms.md", () => {
  it("shows every printed block of the guide", () => {
    const doc = readFileSync(new URL("../../docs/transforms.md", import.meta.url), "utf8")
    for (const block of expected) expect(doc).toContain("```text\n" + block + "\n```")
  })
})
