/**
 * Hostile checkpoints: absurdly nested JSON (in a State's metadata, a binary header, a GraphDef)
 * is refused with a CodecError naming where it nests, before any recursive parser sees it; values
 * nested that deep in memory can neither be saved nor overflow `display`; a binary State whose
 * checksum is valid but whose leaves share bytes is refused.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { jnp, nnx } from "effect-nnx"
import { writeContainer } from "../../src/graph/bytes.ts"
import { failure } from "../support/thrown.ts"

const DEPTH = 100_000
/** `{"a":{"a":...1...}}`, DEPTH levels, as text (building it as a value would itself recurse). */
const deepText = '{"a":'.repeat(DEPTH) + "1" + "}".repeat(DEPTH)

/** A value nested DEPTH levels, built iteratively. */
const deepValue = (): unknown => {
  let v: unknown = 1
  for (let i = 0; i < DEPTH; i++) v = { a: v }
  return v
}

const leaf = (offset: number, path: ReadonlyArray<string>) => ({
  path,
  kind: "Param",
  dtype: "float32",
  shape: [2],
  metadata: {},
  offset,
  byteLength: 8
})

describe("hostile checkpoints", () => {
  it.effect("a JSON State whose metadata nests 100,000 deep is refused with the path where it nests", () =>
    Effect.gen(function* () {
      const json = yield* nnx.stateToJson(nnx.state({ w: new nnx.Param(jnp.ones([2])) }))
      const hostile = json.replace('"metadata":{}', `"metadata":{"x":${deepText}}`)
      const error = failure(nnx.stateFromJson(hostile))
      assert.strictEqual(error._tag, "CodecError")
      assert.match(error.message, /nests lists and records more than 512 levels deep/)
      assert.deepStrictEqual(error.path, ["leaves", 0, "metadata", "x", "a", "a", "a", "a"])
    })
  )

  it.effect("a binary State whose header nests 100,000 deep is refused", () =>
    Effect.gen(function* () {
      const header = `{"format":"effect-nnx/state","version":1,"payloadBytes":8,"leaves":[${JSON.stringify(leaf(0, ["w"])).replace('"metadata":{}', `"metadata":{"x":${deepText}}`)}]}`
      const error = failure(nnx.loadState(writeContainer(header, 8, [[0, new Uint8Array(8)]])))
      assert.strictEqual(error._tag, "CodecError")
      assert.match(error.message, /more than 512 levels deep/)
      assert.deepStrictEqual(error.path!.slice(0, 3), ["leaves", 0, "metadata"])
    })
  )

  it.effect("a GraphDef whose static value nests 100,000 deep is refused", () =>
    Effect.gen(function* () {
      const text = yield* nnx.graphDefToJson(nnx.graphdef({ n: 1 }))
      const hostile = text.replace(/"value":1/, `"value":${deepText}`)
      assert.notStrictEqual(hostile, text)
      const error = failure(nnx.graphDefFromJson(hostile, { types: [] }))
      assert.match(error.message, /more than 512 levels deep/)
      assert.deepStrictEqual(error.path!.slice(0, 2), ["attributes", 0])
    })
  )

  it.effect("metadata nested 512 levels still loads (the limit is on absurd nesting only)", () =>
    Effect.gen(function* () {
      const json = yield* nnx.stateToJson(nnx.state({ w: new nnx.Param(jnp.ones([2])) }))
      const ok = json.replace('"metadata":{}', `"metadata":{"x":${"[".repeat(500)}${"]".repeat(500)}}`)
      const state = yield* nnx.stateFromJson(ok)
      assert.strictEqual(state.size, 1)
    })
  )

  it.effect(
    "deeply nested metadata in memory cannot be saved (CodecError with the path) and displays without overflowing",
    () =>
      Effect.gen(function* () {
        const p = new nnx.Param(jnp.ones([2]), { note: deepValue() })
        const state = nnx.state({ w: p })
        const binary = failure(nnx.saveState(state))
        assert.strictEqual(binary._tag, "CodecError")
        assert.deepStrictEqual(binary.path, ["w"])
        assert.match(binary.message, /metadata nests lists and records more than 512 levels deep and cannot be saved/)
        assert.match(failure(nnx.stateToJson(state)).message, /more than 512 levels deep/)
        assert.match(failure(nnx.graphDefToJson(nnx.graphdef({ w: p }))).message, /metadata of a Param nests/)
        assert.match(nnx.displayString(p), /\{\.\.\.\}/)
        assert.match(String(state), /\{\.\.\.\}/)
      })
  )

  it.effect("a binary State with a valid checksum whose leaves share bytes is refused, naming both", () =>
    Effect.gen(function* () {
      const header = {
        format: "effect-nnx/state",
        version: 1,
        payloadBytes: 16,
        leaves: [leaf(0, ["a"]), leaf(0, ["b"])]
      }
      const bytes = writeContainer(JSON.stringify(header), 16, [[0, new Uint8Array(16)]])
      const error = failure(nnx.loadState(bytes))
      assert.strictEqual(error._tag, "CodecError")
      assert.deepStrictEqual(error.path, ["b"])
      assert.match(error.message, /overlaps the data of a/)
      // A partial overlap, listed out of order.
      const partial = {
        ...header,
        payloadBytes: 24,
        leaves: [
          { ...leaf(8, ["a"]), shape: [4], byteLength: 16 },
          { ...leaf(0, ["b"]), shape: [4], byteLength: 16 }
        ]
      }
      const error2 = failure(nnx.loadState(writeContainer(JSON.stringify(partial), 24, [[0, new Uint8Array(24)]])))
      assert.deepStrictEqual(error2.path, ["a"])
      assert.match(error2.message, /bytes 8\.\.24\) overlaps the data of b \(bytes 0\.\.16\)/)
      // Adjacent ranges are fine.
      const adjacent = { ...header, leaves: [leaf(0, ["a"]), leaf(8, ["b"])] }
      const state = yield* nnx.loadState(writeContainer(JSON.stringify(adjacent), 16, [[0, new Uint8Array(16)]]))
      assert.strictEqual(state.size, 2)
    })
  )

  it.effect("a byte range past the payload is refused with its path", () =>
    Effect.gen(function* () {
      const header = { format: "effect-nnx/state", version: 1, payloadBytes: 8, leaves: [leaf(8, ["w"])] }
      const error = failure(nnx.loadState(writeContainer(JSON.stringify(header), 8, [[0, new Uint8Array(8)]])))
      assert.deepStrictEqual(error.path, ["w"])
      assert.match(error.message, /runs past the payload/)
    })
  )
})
