/**
 * What `graphDefToJson` / `saveGraphDef` write, the GraphDef loaders read back: metadata and static
 * attributes with keys the loaders refuse (`constructor`, `prototype`, `__proto__`), or nested so
 * deep that the document passes the loaders' nesting limit, are refused when saving, with a message
 * that says why, instead of making a file nothing can load. Values right at the limit round-trip.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { jnp, nnx } from "effect-nnx"
import { failure } from "../support/thrown.ts"

/** A record nested `levels` deep (`{a: {a: ... 1}}`, `levels` records). */
const nested = (levels: number): unknown => {
  let v: unknown = 1
  for (let i = 0; i < levels; i++) v = { a: v }
  return v
}

const paramWith = (metadata: Record<string, unknown>) => nnx.graphdef({ w: new nnx.Param(jnp.ones([1]), metadata) })

describe("saving a GraphDef refuses what loading would", () => {
  it("a metadata key the loader refuses, however deep", () => {
    for (const key of ["constructor", "prototype"]) {
      const e = failure(nnx.graphDefToJson(paramWith({ info: [{ [key]: 1 }] })))
      assert.instanceOf(e, nnx.CodecError)
      assert.strictEqual(
        e.message,
        `the metadata key '${key}' of a Param would be refused when loading; rename it so it can be loaded`
      )
    }
  })

  it("metadata nested to the edge of the limit round-trips; one level more is refused at save", () => {
    const types = { types: [] }
    const ok = Effect.runSync(
      Effect.gen(function* () {
        const text = yield* nnx.graphDefToJson(paramWith({ deep: nested(508) }))
        return yield* nnx.graphDefFromJson(text, types)
      })
    )
    assert.strictEqual(ok.nodes.length, 2)
    const e = failure(nnx.graphDefToJson(paramWith({ deep: nested(509) })))
    assert.match(
      e.message,
      /^the metadata of a Param nests lists and records more than 512 levels deep and cannot be saved \(counting the 3 levels of the document around it\)/
    )
  })

  it("an attribute key the loader refuses, at any depth of lists and records", () => {
    class Holder extends nnx.Module {
      config: unknown
      constructor(config: unknown) {
        super()
        this.config = config
      }
    }
    for (const tree of [new Holder({ list: [{ prototype: 2 }] }), { constructor: 1 } as Record<string, unknown>]) {
      const e = failure(nnx.graphDefToJson(nnx.graphdef(tree)))
      assert.match(
        e.message,
        /^the attribute key '(prototype|constructor)' would be refused when loading; rename the attribute so it can be loaded$/
      )
    }
  })
})
