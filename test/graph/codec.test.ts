/**
 * Checkpoint codecs: State and GraphDef as JSON and binary round-trip exactly; restore loads into a
 * fresh Module of the same structure; truncated, corrupted and hostile files fail with CodecError
 * and leave the target unchanged.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Equal } from "effect"
import { jnp, nnx, random } from "effect-nnx"
import { crc32, writeContainer } from "../../src/graph/bytes.ts"
import { failure } from "../support/thrown.ts"

class Count extends nnx.Variable<jnp.Array> {}

class Model extends nnx.Module {
  kernel: nnx.Param<jnp.Array>
  bias: nnx.Param<jnp.Array>
  count: Count
  rngs: nnx.Rngs<"noise">
  table: jnp.Array
  flags: nnx.BatchStat<jnp.Array>
  features = 3
  constructor(seed: number) {
    super()
    this.kernel = new nnx.Param(random.normal(random.key(seed), [2, 3]), { shardingNames: ["a", null] })
    this.bias = new nnx.Param(jnp.array([Number.NaN, Number.POSITIVE_INFINITY, -0], { dtype: "float32" }))
    this.count = new Count(jnp.array([-5, 2147483647], { dtype: "int32" }))
    this.rngs = new nnx.Rngs({ noise: random.split(random.key(seed), 4) })
    this.table = jnp.array([4294967295, 1], { dtype: "uint32" })
    this.flags = new nnx.BatchStat(jnp.array([true, false, true]))
  }
}

/** Every leaf's path, kind, dtype, shape, metadata and exact bits (keys as their raw words). */
const fingerprint = (s: nnx.State): unknown =>
  s.toFlat().map(([path, leaf]) => {
    const value = (leaf instanceof nnx.Variable ? leaf.value : leaf) as jnp.Array
    const words = value.dtype === "key<fry>" ? random.keyData(value).dataSync() : value.dataSync()
    return {
      path,
      kind: leaf instanceof nnx.Variable ? leaf.kind : null,
      metadata: leaf instanceof nnx.Variable ? leaf.metadata : {},
      dtype: value.dtype,
      shape: value.shape,
      bits: Array.from(new Uint8Array(words.buffer, words.byteOffset, words.byteLength))
    }
  })

/** A binary State file with a header of our choosing (and a valid checksum). */
const forge = (header: unknown, payload: Uint8Array): Uint8Array =>
  writeContainer(JSON.stringify(header), payload.length, [[0, payload]])

const goodLeaf = { path: ["w"], kind: "Param", dtype: "float32", shape: [2], metadata: {}, offset: 0, byteLength: 8 }

describe("State codecs", () => {
  it.effect("JSON round-trips every dtype, kind and metadata bit-exactly (NaN, -0, keys, uint32, bool)", () =>
    Effect.gen(function* () {
      const state = nnx.state(new Model(0))
      const text = yield* nnx.stateToJson(state)
      const back = yield* nnx.stateFromJson(text, { kinds: [Count] })
      assert.deepStrictEqual(fingerprint(back), fingerprint(state))
      assert.strictEqual(JSON.parse(text).format, "effect-nnx/state")
    })
  )

  it.effect("binary round-trips bit-exactly, with array data as raw bytes", () =>
    Effect.gen(function* () {
      const state = nnx.state(new Model(1))
      const bytes = yield* nnx.saveState(state)
      const back = yield* nnx.loadState(bytes, { kinds: [Count] })
      assert.deepStrictEqual(fingerprint(back), fingerprint(state))
      // compact: a 64k-element float array costs its 256 KiB plus a small header
      class Big extends nnx.Module {
        w = new nnx.Param(jnp.ones([256, 256]))
      }
      const big = yield* nnx.saveState(nnx.state(new Big()))
      assert.isBelow(big.length, 256 * 256 * 4 + 512)
    })
  )

  it.effect("restore loads a checkpoint into a fresh Module of the same structure (kinds learned from it)", () =>
    Effect.gen(function* () {
      const trained = new Model(0)
      trained.rngs.noise.count.value = jnp.array([1, 2, 3, 4], { dtype: "uint32" })
      const bytes = yield* nnx.saveState(nnx.state(trained))
      const fresh = new Model(7)
      const kernel = fresh.kernel
      yield* nnx.restore(fresh, bytes)
      assert.deepStrictEqual(fingerprint(nnx.state(fresh)), fingerprint(nnx.state(trained)))
      assert.strictEqual(fresh.kernel, kernel)
      const viaJson = new Model(9)
      yield* nnx.restore(viaJson, yield* nnx.stateToJson(nnx.state(trained)))
      assert.deepStrictEqual(fingerprint(nnx.state(viaJson)), fingerprint(nnx.state(trained)))
    })
  )

  it.effect("a truncated, corrupted or foreign binary file fails with CodecError", () =>
    Effect.gen(function* () {
      const bytes = yield* nnx.saveState(nnx.state(new Model(0)))
      const truncated = failure(nnx.loadState(bytes.slice(0, bytes.length - 9)))
      assert.strictEqual(truncated._tag, "CodecError")
      assert.match(truncated.message, /checksum|truncated/)
      const corrupted = bytes.slice()
      corrupted[corrupted.length - 20]! ^= 0x10
      assert.match(failure(nnx.loadState(corrupted)).message, /checksum does not match/)
      assert.match(failure(nnx.loadState(new Uint8Array(3))).message, /truncated/)
      const foreign = bytes.slice()
      foreign[0] = 0x50
      assert.match(failure(nnx.loadState(foreign)).message, /wrong magic/)
      assert.match(failure(nnx.loadState(bytes)).message, /unknown Variable kind 'Count'/)
    })
  )

  it("a forged header with a valid checksum is still validated", () => {
    const payload = new Uint8Array(8)
    const cases: ReadonlyArray<readonly [string, unknown, RegExp]> = [
      [
        "wrong shape for the data",
        { format: "effect-nnx/state", version: 1, payloadBytes: 8, leaves: [{ ...goodLeaf, shape: [3] }] },
        /needs 12 bytes, the file has 8/
      ],
      [
        "unknown dtype",
        { format: "effect-nnx/state", version: 1, payloadBytes: 8, leaves: [{ ...goodLeaf, dtype: "float64" }] },
        /not a valid State header/
      ],
      [
        "unknown kind",
        { format: "effect-nnx/state", version: 1, payloadBytes: 8, leaves: [{ ...goodLeaf, kind: "Evil" }] },
        /unknown Variable kind 'Evil'/
      ],
      [
        "__proto__ path key",
        {
          format: "effect-nnx/state",
          version: 1,
          payloadBytes: 8,
          leaves: [{ ...goodLeaf, path: ["__proto__", "x"] }]
        },
        /refusing the path key '__proto__'/
      ],
      [
        "constructor path key",
        { format: "effect-nnx/state", version: 1, payloadBytes: 8, leaves: [{ ...goodLeaf, path: ["constructor"] }] },
        /refusing the path key 'constructor'/
      ],
      [
        "hostile metadata",
        {
          format: "effect-nnx/state",
          version: 1,
          payloadBytes: 8,
          leaves: [{ ...goodLeaf, metadata: JSON.parse('{"a": {"__proto__": {"polluted": 1}}}') }]
        },
        /refusing the metadata key '__proto__'/
      ],
      [
        "misaligned data",
        {
          format: "effect-nnx/state",
          version: 1,
          payloadBytes: 8,
          leaves: [{ ...goodLeaf, offset: 4, byteLength: 4, shape: [1] }]
        },
        /8-byte aligned/
      ],
      [
        "data past the payload",
        { format: "effect-nnx/state", version: 1, payloadBytes: 8, leaves: [{ ...goodLeaf, offset: 8 }] },
        /runs past the payload/
      ],
      [
        "payload size lie",
        { format: "effect-nnx/state", version: 1, payloadBytes: 16, leaves: [goodLeaf] },
        /declares 16 payload bytes, the file has 8/
      ],
      [
        "negative dimension",
        { format: "effect-nnx/state", version: 1, payloadBytes: 8, leaves: [{ ...goodLeaf, shape: [-2] }] },
        /not a valid State header/
      ],
      [
        "huge shape",
        { format: "effect-nnx/state", version: 1, payloadBytes: 8, leaves: [{ ...goodLeaf, shape: [65536, 65536] }] },
        /more than/
      ],
      [
        "bool garbage",
        {
          format: "effect-nnx/state",
          version: 1,
          payloadBytes: 8,
          leaves: [{ ...goodLeaf, kind: null, dtype: "bool", byteLength: 8, shape: [8] }]
        },
        /bool data must be 0 or 1/
      ],
      [
        "empty path",
        { format: "effect-nnx/state", version: 1, payloadBytes: 8, leaves: [{ ...goodLeaf, path: [] }] },
        /empty path/
      ],
      [
        "duplicate paths",
        {
          format: "effect-nnx/state",
          version: 1,
          payloadBytes: 8,
          leaves: [
            { ...goodLeaf, byteLength: 4, shape: [1] },
            { ...goodLeaf, byteLength: 4, shape: [1] }
          ]
        },
        /two leaves at the same path/
      ],
      [
        "wrong format",
        { format: "something-else", version: 1, payloadBytes: 8, leaves: [] },
        /not a valid State header/
      ]
    ]
    const bools = new Uint8Array(8).fill(2)
    for (const [name, header, expected] of cases) {
      const file = forge(header, name === "bool garbage" ? bools : payload)
      const error = failure(nnx.loadState(file))
      assert.strictEqual(error._tag, "CodecError", name)
      assert.match(error.message, expected, name)
    }
    const notJson = writeContainer("{not json", 0, [])
    assert.match(failure(nnx.loadState(notJson)).message, /not a valid State header/)
    assert.isUndefined(({} as Record<string, unknown>)["polluted"])
    assert.strictEqual(crc32(new TextEncoder().encode("123456789")), 0xcbf43926)
  })

  it("hostile or malformed JSON fails with CodecError", () => {
    const doc = (leaf: object): string => JSON.stringify({ format: "effect-nnx/state", version: 1, leaves: [leaf] })
    const leaf = { path: ["w"], kind: "Param", dtype: "float32", shape: [1], metadata: {}, data: "AAAAAA==" }
    assert.strictEqual(Effect.runSync(nnx.stateFromJson(doc(leaf))).size, 1)
    assert.match(failure(nnx.stateFromJson("{")).message, /not a valid State JSON document/)
    assert.match(failure(nnx.stateFromJson(doc({ ...leaf, shape: [2] }))).message, /needs 8 bytes/)
    assert.match(failure(nnx.stateFromJson(doc({ ...leaf, data: "!!" }))).message, /not a valid State JSON document/)
    assert.match(failure(nnx.stateFromJson(doc({ ...leaf, path: ["a", "__proto__"] }))).message, /__proto__/)
    assert.match(
      failure(
        nnx.stateFromJson(
          '{"format":"effect-nnx/state","version":1,"leaves":[{"path":["w"],"kind":"Param","dtype":"float32","shape":[1],"metadata":{"__proto__":{"polluted":1}},"data":"AAAAAA=="}]}'
        )
      ).message,
      /__proto__/
    )
    assert.isUndefined(({} as Record<string, unknown>)["polluted"])
  })

  it("a failed restore leaves the Module unchanged", () => {
    const target = new Model(3)
    const before = fingerprint(nnx.state(target))
    const other = (mutate: (m: Model) => void): Uint8Array => {
      const m = new Model(4)
      mutate(m)
      return Effect.runSync(nnx.saveState(nnx.state(m)))
    }
    const cases: ReadonlyArray<readonly [Uint8Array | string, RegExp]> = [
      [
        other((m) => {
          m.kernel.value = jnp.ones([3, 3])
        }),
        /the model has Param float32\(2, 3\), the checkpoint Param float32\(3, 3\)/
      ],
      [
        other((m) => {
          m.count.value = jnp.zeros([2])
        }),
        /the model has Count int32\(2,\), the checkpoint Count float32\(2,\)/
      ],
      [
        other((m) => {
          m.flags = new nnx.Param(jnp.array([true, false, true])) as unknown as nnx.BatchStat<jnp.Array>
        }),
        /the model has BatchStat bool\(3,\), the checkpoint Param bool\(3,\)/
      ],
      [
        other((m) => {
          ;(m as Model & { extra?: nnx.Param<jnp.Array> }).extra = new nnx.Param(jnp.ones([1]))
        }),
        /a leaf the model does not.*at extra/
      ],
      [
        other((m) => {
          Reflect.deleteProperty(m, "bias")
        }),
        /lacks a leaf the model has.*at bias/
      ],
      [Effect.runSync(nnx.saveState(nnx.state(new Model(4)))).slice(0, 100), /checksum/],
      ["not json", /not a valid State JSON document/]
    ]
    for (const [file, expected] of cases) {
      const error = failure(nnx.restore(target, file))
      assert.strictEqual(error._tag, "CodecError")
      assert.match(error.message, expected)
      assert.deepStrictEqual(fingerprint(nnx.state(target)), before)
    }
  })

  it("saving refuses what cannot be loaded back", () => {
    class Weird extends nnx.Module {
      w = new nnx.Param(jnp.ones([1]), { init: () => 0 })
    }
    assert.match(failure(nnx.saveState(nnx.state(new Weird()))).message, /metadata must be JSON.*at w/)
    const Param = class Param extends nnx.Variable<jnp.Array> {}
    class Impostor extends nnx.Module {
      w = new Param(jnp.ones([1]))
    }
    assert.match(failure(nnx.stateToJson(nnx.state(new Impostor()))).message, /name of a built-in kind/)
    const OtherCount = class Count extends nnx.Variable<jnp.Array> {}
    const bytes = Effect.runSync(nnx.saveState(nnx.state(new Model(0))))
    assert.match(
      failure(nnx.loadState(bytes, { kinds: [Count, OtherCount] })).message,
      /two different kinds are named 'Count'/
    )
  })
})

describe("GraphDef codecs", () => {
  it.effect("JSON and binary round-trip to an equal GraphDef that merges", () =>
    Effect.gen(function* () {
      const m = new Model(0)
      const [graphdef, state] = nnx.split(m)
      const text = yield* nnx.graphDefToJson(graphdef)
      const back = yield* nnx.graphDefFromJson<Model>(text, { types: [Model, Count] })
      assert.isTrue(Equal.equals(back, graphdef))
      const rebuilt = nnx.merge(back, state)
      assert.instanceOf(rebuilt, Model)
      assert.strictEqual(rebuilt.features, 3)
      const bytes = yield* nnx.saveGraphDef(graphdef)
      assert.isTrue(Equal.equals(yield* nnx.loadGraphDef(bytes, { types: [Model, Count] }), graphdef))
    })
  )

  it("keeps sharing and cycles, and undefined statics", () => {
    class Node extends nnx.Module {
      next: Node | undefined = undefined
      later: number | undefined = undefined
      w = new nnx.Param(jnp.ones([1]))
    }
    const a = new Node()
    a.next = a
    const [g, s] = nnx.split(a)
    const back = Effect.runSync(nnx.graphDefFromJson<Node>(Effect.runSync(nnx.graphDefToJson(g)), { types: [Node] }))
    const a2 = nnx.merge(back, s)
    assert.strictEqual(a2.next, a2)
    assert.isTrue("later" in a2 && a2.later === undefined)
  })

  it("fails with CodecError on unknown classes, malformed structure, hostile keys and non-JSON statics", () => {
    const [g] = nnx.split(new Model(0))
    const text = Effect.runSync(nnx.graphDefToJson(g))
    assert.match(failure(nnx.graphDefFromJson(text, { types: [Count] })).message, /unknown Module class 'Model'/)
    assert.match(failure(nnx.graphDefFromJson(text, { types: [Model] })).message, /unknown Variable kind 'Count'/)
    const doc = JSON.parse(text) as {
      numLeaves: number
      attributes: Array<[unknown, unknown]>
      nodes: Array<{ numAttributes?: number }>
    }
    assert.match(
      failure(nnx.graphDefFromJson(JSON.stringify({ ...doc, numLeaves: 99 }), { types: [Model, Count] })).message,
      /declares 99 leaves/
    )
    const hostile = { ...doc, attributes: doc.attributes.map(([k, v], i) => [i === 0 ? "__proto__" : k, v]) }
    assert.match(
      failure(nnx.graphDefFromJson(JSON.stringify(hostile), { types: [Model, Count] })).message,
      /refusing the attribute key '__proto__'/
    )
    const short = { ...doc, attributes: doc.attributes.slice(1) }
    assert.match(
      failure(nnx.graphDefFromJson(JSON.stringify(short), { types: [Model, Count] })).message,
      /malformed GraphDef/
    )
    class WithFn extends nnx.Module {
      f = (x: number): number => x
    }
    assert.match(failure(nnx.graphDefToJson(nnx.graphdef(new WithFn()))).message, /static attribute 'f' is not JSON/)
  })
})
