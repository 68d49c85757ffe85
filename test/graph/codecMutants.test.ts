/**
 * The checkpoint codecs (src/graph/codec.ts, src/graph/codecSupport.ts), checked where a mutation
 * run (Stryker) found behaviour no other test pins down: the exact messages and paths of the save
 * and load errors, the limits at their boundaries (512 levels of nesting, rank 32, 2^31 - 1
 * elements), the paths the nesting scanner reports, what counts as JSON metadata, leaves of no bytes
 * in a binary file, which thrown errors become a CodecError and which stay defects, and `restore`'s
 * checks on leaves that hold no Array. It also checks that saving refuses what the loaders would
 * refuse: metadata nesting past the limit once inside its file, and metadata keys such as
 * `constructor` (both used to save and then fail to load).
 */
import { Effect, Exit } from "effect"
import { assert, describe, it } from "vitest"
import { jnp, nnx } from "effect-nnx"
import { writeContainer } from "../../src/graph/bytes.ts"
import { attempt, checkJsonNesting, elementCount, isJsonSafe, nestsTooDeep } from "../../src/graph/codecSupport.ts"
import { failure } from "../support/thrown.ts"

/** The CodecError an Effect fails with. */
const codecError = <A, E>(effect: Effect.Effect<A, E>): nnx.CodecError => {
  const e = failure(effect)
  assert.instanceOf(e, nnx.CodecError)
  return e as nnx.CodecError
}

const p = (xs: ReadonlyArray<number>): nnx.Param<jnp.Array> => new nnx.Param(jnp.array(xs).astype("float32"))

/** A binary State file with this header (a valid checksum) and a zero payload of `n` bytes. */
const forge = (header: unknown, n: number): Uint8Array =>
  writeContainer(JSON.stringify(header), n, [[0, new Uint8Array(n)]])

const file = (leaves: ReadonlyArray<object>, payloadBytes: number): Uint8Array =>
  forge({ format: "effect-nnx/state", version: 1, payloadBytes, leaves }, payloadBytes)

const leaf = (path: ReadonlyArray<string | number>, over: object = {}) => ({
  path,
  kind: "Param",
  dtype: "float32",
  shape: [2],
  metadata: {},
  offset: 0,
  byteLength: 8,
  ...over
})

/** `levels` lists nested in each other, as text. */
const lists = (levels: number): string => "[".repeat(levels) + "]".repeat(levels)

/** A value of `levels` records nested in each other (the innermost is empty). */
const records = (levels: number): unknown => {
  let v: Record<string, unknown> = {}
  for (let i = 1; i < levels; i++) v = { a: v }
  return v
}

describe("saving", () => {
  it("a Variable holding no Array is refused, naming what it holds and where", () => {
    const number = codecError(nnx.saveState(nnx.state({ w: new nnx.Param(3) })))
    assert.deepStrictEqual(number.path, ["w"])
    assert.strictEqual(number.message, "only Array values can be saved, got number at w")
    const nothing = codecError(nnx.stateToJson(nnx.state({ a: { b: new nnx.Param(null) } })))
    assert.deepStrictEqual(nothing.path, ["a", "b"])
    assert.strictEqual(nothing.message, "only Array values can be saved, got null at a.b")
  })

  it("a traced Array (saving inside a transform) is refused", () => {
    class M extends nnx.Module {
      w = p([1, 2])
    }
    let error: nnx.CodecError | undefined
    nnx
      .jit((m: M) => {
        error = codecError(nnx.saveState(nnx.state(m)))
        return m.w.value.add(1)
      })
      .sync(new M())
    assert.deepStrictEqual(error?.path, ["w"])
    assert.strictEqual(error?.message, "cannot save a traced Array (save outside the transform) at w")
  })

  it("a kind without a class name is refused", () => {
    const Anonymous = [class extends nnx.Variable<jnp.Array> {}][0]!
    assert.strictEqual(Anonymous.name, "")
    const e = codecError(nnx.saveState(nnx.state({ v: new Anonymous(jnp.ones([1])) })))
    assert.deepStrictEqual(e.path, ["v"])
    assert.strictEqual(e.message, "the Variable kind has no class name at v")
  })

  it("a kind named like a built-in one is refused with its name", () => {
    const Param = class Param extends nnx.Variable<jnp.Array> {}
    const e = codecError(nnx.saveState(nnx.state({ w: new Param(jnp.ones([1])) })))
    assert.deepStrictEqual(e.path, ["w"])
    assert.strictEqual(
      e.message,
      "the kind 'Param' has the name of a built-in kind; rename it so it can be loaded at w"
    )
  })

  it("metadata: lists, null-prototype records and finite numbers save; non-finite numbers, undefined, class instances, functions and shared records do not", () => {
    const meta = Object.assign(Object.create(null) as Record<string, unknown>, { k: [1, "x", true, null] })
    const ok = new nnx.Param(jnp.ones([1]), { note: meta, list: [{ a: 1 }, [2.5]] })
    for (const back of [
      Effect.runSync(Effect.flatMap(nnx.saveState(nnx.state({ w: ok })), (b) => nnx.loadState(b))),
      Effect.runSync(Effect.flatMap(nnx.stateToJson(nnx.state({ w: ok })), (t) => nnx.stateFromJson(t)))
    ]) {
      const w = back.toFlat()[0]![1] as nnx.Param<jnp.Array>
      assert.deepStrictEqual(JSON.parse(JSON.stringify(w.metadata)), {
        note: { k: [1, "x", true, null] },
        list: [{ a: 1 }, [2.5]]
      })
    }
    const shared = { a: 1 }
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, [undefined], new Date(0), () => 0, [shared, shared]]) {
      const e = codecError(nnx.saveState(nnx.state({ w: new nnx.Param(jnp.ones([1]), { note: bad }) })))
      assert.deepStrictEqual(e.path, ["w"])
      assert.strictEqual(
        e.message,
        "metadata must be JSON (strings, finite numbers, booleans, null, lists and records) at w"
      )
    }
    assert.isTrue(isJsonSafe({ a: [1, { b: null }], c: "d" }))
    assert.isFalse(isJsonSafe({ a: [1, { b: undefined }] }))
  })

  it("metadata with a key the loaders refuse is refused, naming the key", () => {
    for (const meta of [{ constructor: 1 }, { a: [{ prototype: 2 }] }, JSON.parse('{"__proto__": 3}')]) {
      const key = Object.keys(meta)[0] === "a" ? "prototype" : Object.keys(meta)[0]
      const st = nnx.state({ w: new nnx.Param(jnp.ones([1]), meta) })
      for (const e of [codecError(nnx.saveState(st)), codecError(nnx.stateToJson(st))]) {
        assert.deepStrictEqual(e.path, ["w"])
        assert.strictEqual(
          e.message,
          `the metadata key '${key}' would be refused when loading; rename it so it can be loaded at w`
        )
      }
    }
  })

  it("cyclic metadata is refused as not JSON, not as too deep", () => {
    const cycle: Record<string, unknown> = {}
    cycle["self"] = cycle
    const e = codecError(nnx.saveState(nnx.state({ w: new nnx.Param(jnp.ones([1]), { cycle }) })))
    assert.strictEqual(
      e.message,
      "metadata must be JSON (strings, finite numbers, booleans, null, lists and records) at w"
    )
    assert.isFalse(nestsTooDeep(cycle))
  })

  it("metadata saves if and only if its file loads: 509 levels (512 in the file) but not 510", () => {
    // The file holds metadata 3 levels down (the document, its leaves, the leaf), and the loaders
    // refuse files nesting more than 512 levels. `{ note: records(508) }` nests 509 levels.
    const st = (levels: number): nnx.State =>
      nnx.state({ w: new nnx.Param(jnp.ones([1]), { note: records(levels - 1) }) })
    const binary = Effect.runSync(Effect.flatMap(nnx.saveState(st(509)), (b) => nnx.loadState(b)))
    const json = Effect.runSync(Effect.flatMap(nnx.stateToJson(st(509)), (t) => nnx.stateFromJson(t)))
    for (const s of [binary, json]) assert.strictEqual(s.size, 1)
    for (const e of [codecError(nnx.saveState(st(510))), codecError(nnx.stateToJson(st(510)))]) {
      assert.deepStrictEqual(e.path, ["w"])
      assert.strictEqual(
        e.message,
        "metadata nests lists and records more than 512 levels deep and cannot be saved (counting the 3 levels of the file around it) at w"
      )
    }
  })

  it("nesting: 512 levels of lists and records are allowed, 513 are too deep", () => {
    assert.isFalse(nestsTooDeep(records(512)))
    assert.isTrue(nestsTooDeep(records(513)))
    assert.isFalse(nestsTooDeep([records(511)]))
    assert.isTrue(nestsTooDeep([[records(511)]]))
    assert.isFalse(nestsTooDeep("a string"))
    assert.isFalse(nestsTooDeep(records(509), 3))
    assert.isTrue(nestsTooDeep(records(510), 3))
  })

  it("a leaf's bytes are laid out 8-byte aligned in path order", () => {
    // 3 float32 (12 bytes), then 1 float32: the second starts at 16.
    const bytes = Effect.runSync(nnx.saveState(nnx.state({ a: p([1, 2, 3]), b: p([4]) })))
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true)
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)))
    assert.strictEqual(header.payloadBytes, 24)
    assert.deepStrictEqual(
      header.leaves.map((l: { offset: number; byteLength: number }) => [l.offset, l.byteLength]),
      [
        [0, 12],
        [16, 4]
      ]
    )
  })
})

describe("loading", () => {
  it("a data length that does not fit the shape is refused with the dtype, the full shape and both sizes", () => {
    const e = codecError(nnx.loadState(file([leaf(["w"], { shape: [2, 3], byteLength: 8 })], 8)))
    assert.deepStrictEqual(e.path, ["w"])
    assert.strictEqual(e.message, "float32 data of shape (2, 3) needs 24 bytes, the file has 8 at w")
  })

  it("metadata with a hostile key deep inside a list is refused with the key", () => {
    const meta = JSON.parse('{"a": [1, {"b": [{"constructor": 1}]}]}')
    const e = codecError(nnx.loadState(file([leaf(["w"], { metadata: meta })], 8)))
    assert.deepStrictEqual(e.path, ["w"])
    assert.strictEqual(e.message, "refusing the metadata key 'constructor' at w")
  })

  it("a hostile path key is refused with the key and the path", () => {
    const e = codecError(nnx.loadState(file([leaf(["a", "prototype"])], 8)))
    assert.deepStrictEqual(e.path, ["a", "prototype"])
    assert.strictEqual(
      e.message,
      "refusing the path key 'prototype', which would reach JavaScript's prototype machinery at a.prototype"
    )
    const empty = codecError(nnx.loadState(file([leaf([])], 8)))
    assert.isUndefined(empty.path)
    assert.strictEqual(empty.message, "a leaf has an empty path")
  })

  it("an unknown kind is refused with the hint to pass it", () => {
    const e = codecError(nnx.loadState(file([leaf(["w"], { kind: "Evil" })], 8)))
    assert.strictEqual(
      e.message,
      "unknown Variable kind 'Evil'; pass its class in the loader's `kinds` option (or use restore, which learns kinds from the model) at w"
    )
  })

  it("a user kind named like a built-in one is refused; the same class twice is fine", () => {
    const Param = class Param extends nnx.Variable<jnp.Array> {}
    const e = codecError(nnx.loadState(file([leaf(["w"])], 8), { kinds: [Param] }))
    assert.isUndefined(e.path)
    assert.strictEqual(
      e.message,
      "two different kinds are named 'Param'; kinds are saved by name, so give them distinct names"
    )
    class Count extends nnx.Variable<jnp.Array> {}
    const s = Effect.runSync(
      nnx.loadState(file([leaf(["w"], { kind: "Count" })], 8), { kinds: [Count, Count, nnx.Param] })
    )
    assert.instanceOf(s.toFlat()[0]![1], Count)
  })

  it("two leaves at one path are refused with the State's message, as a CodecError at that path", () => {
    const e = codecError(
      nnx.loadState(
        file([leaf(["w"], { shape: [1], byteLength: 4 }), leaf(["w"], { shape: [1], byteLength: 4, offset: 8 })], 16)
      )
    )
    assert.strictEqual(e.message, "two leaves at the same path at w")
  })

  it("the rank is at most 32 and the element count at most 2^31 - 1", () => {
    const rank32 = Array.from({ length: 32 }, () => 1)
    const s = Effect.runSync(nnx.loadState(file([leaf(["w"], { shape: rank32, byteLength: 4 })], 8)))
    assert.deepStrictEqual((s.toFlat()[0]![1] as nnx.Param<jnp.Array>).value.shape, rank32)
    const rank33 = codecError(nnx.loadState(file([leaf(["w"], { shape: [...rank32, 1], byteLength: 4 })], 8)))
    assert.deepStrictEqual(rank33.path, ["w"])
    assert.strictEqual(rank33.message, "a shape of rank 33 (at most 32) at w")
    // 2^31 - 1 elements pass the count check (and then lack their bytes); 2^31 do not.
    const most = codecError(nnx.loadState(file([leaf(["w"], { dtype: "bool", shape: [2 ** 31 - 1] })], 8)))
    assert.strictEqual(most.message, "bool data of shape (2147483647) needs 2147483647 bytes, the file has 8 at w")
    const over = codecError(nnx.loadState(file([leaf(["w"], { dtype: "bool", shape: [2 ** 30, 2] })], 8)))
    assert.strictEqual(over.message, "a shape of more than 2147483647 elements at w")
    assert.strictEqual(elementCount([3, 0, 5], ["w"]), 0)
    assert.strictEqual(elementCount([], ["w"]), 1)
  })

  it("a leaf of no bytes may sit at the offset of another leaf", () => {
    const s = Effect.runSync(
      nnx.loadState(file([leaf(["a"]), leaf(["b"], { shape: [0], byteLength: 0 }), leaf(["c"], { offset: 8 })], 16))
    )
    assert.deepStrictEqual(
      s.toFlat().map(([path, l]) => [path, (l as nnx.Param<jnp.Array>).value.shape]),
      [
        [["a"], [2]],
        [["b"], [0]],
        [["c"], [2]]
      ]
    )
  })

  it("the JSON loader learns user kinds only from its options", () => {
    class Count extends nnx.Variable<jnp.Array> {}
    const json = Effect.runSync(nnx.stateToJson(nnx.state({ c: new Count(jnp.ones([1])) })))
    assert.instanceOf(Effect.runSync(nnx.stateFromJson(json, { kinds: [Count] })).toFlat()[0]![1], Count)
    assert.strictEqual(
      codecError(nnx.stateFromJson(json, {})).message,
      "unknown Variable kind 'Count'; pass its class in the loader's `kinds` option (or use restore, which learns kinds from the model) at c"
    )
  })
})

describe("the nesting scanner", () => {
  it("allows 512 levels and refuses 513, naming where the nesting starts (its first 8 keys)", () => {
    assert.isUndefined(checkJsonNesting(lists(512)))
    const deep = checkJsonNesting(lists(513))!
    assert.instanceOf(deep, nnx.CodecError)
    assert.strictEqual(
      deep.message,
      "the document nests lists and records more than 512 levels deep (from here on); refusing it at [0][0][0][0][0][0][0][0]"
    )
    assert.deepStrictEqual(deep.path, [0, 0, 0, 0, 0, 0, 0, 0])
  })

  it("counts list items by commas, only in lists", () => {
    const e = checkJsonNesting(`[1, "a,b", {"x": 1, "y": [7, ${lists(511)}]}]`)
    assert.deepStrictEqual(e?.path, [2, "y", 1, 0, 0, 0, 0, 0])
  })

  it("reads keys as JSON strings (escapes, whitespace before the colon) and skips string values", () => {
    const e = checkJsonNesting(`{"v": "w", "a\\"b\\u0041" \t\r\n: {"s": "k", "t":${lists(511)}}}`)
    assert.deepStrictEqual(e?.path, ['a"bA', "t", 0, 0, 0, 0, 0, 0])
    // A string in a list is not a key, even when a colon follows it in a malformed document.
    const inList = checkJsonNesting(`{"k": ["s": ${lists(511)}]}`)
    assert.deepStrictEqual(inList?.path, ["k", 0, 0, 0, 0, 0, 0, 0])
  })

  it("a string value is not a key, even when nesting follows it in a malformed document", () => {
    const e = checkJsonNesting(`{"k": "v" ${lists(512)}}`)
    assert.deepStrictEqual(e?.path, ["k", 0, 0, 0, 0, 0, 0, 0])
  })

  it("a comma in a record does not change its key, even when nesting follows it in a malformed document", () => {
    const e = checkJsonNesting(`{"a": 1, ${lists(512)}}`)
    assert.deepStrictEqual(e?.path, ["a", 0, 0, 0, 0, 0, 0, 0])
  })

  it("an unterminated string ends the scan (the parser reports it later)", () => {
    assert.isUndefined(checkJsonNesting('{"a": "unterminated'))
    assert.isUndefined(checkJsonNesting('["ends in an escape\\'))
  })

  it("keeps a key that is not valid JSON as written (the parser reports it later)", () => {
    const e = checkJsonNesting(`{"a\\qb": ${lists(512)}}`)
    assert.deepStrictEqual(e?.path, ["a\\qb", 0, 0, 0, 0, 0, 0, 0])
  })

  it("a record before its first key has no key in the path", () => {
    const e = checkJsonNesting(`[{${lists(511)}`)
    assert.deepStrictEqual(e?.path, [0, 0, 0, 0, 0, 0, 0])
  })

  it("a closing bracket ends a level", () => {
    assert.isUndefined(checkJsonNesting(`[${lists(511)}, ${lists(511)}]`))
    assert.isUndefined(checkJsonNesting(`{"a": ${lists(511)}, "b": {}}`))
  })
})

describe("which thrown errors become a CodecError", () => {
  it("an array error while saving (a disposed Array) is a CodecError with its message", () => {
    const a = jnp.ones([2])
    a.dispose()
    const e = codecError(nnx.saveState(nnx.state({ t: a })))
    assert.isUndefined(e.path)
    assert.match(e.message, /this Array was disposed/)
  })

  it("a graph error (restoring into a value that is not a graph) is a CodecError with its message", () => {
    const bytes = Effect.runSync(nnx.saveState(nnx.state({ w: p([1]) })))
    const e = codecError(nnx.restore(42 as unknown as nnx.Module, bytes))
    assert.strictEqual(e.message, "state expects a Module, or a plain list or record of graph values, got number")
  })

  it("a CodecError thrown by a step is passed on as it is, with its path", () => {
    const thrown = new nnx.CodecError({ path: ["a", 0], reason: "bad" })
    const e = codecError(
      attempt(() => {
        throw thrown
      })
    )
    assert.strictEqual(e, thrown)
    assert.deepStrictEqual(e.path, ["a", 0])
  })

  it("anything else thrown is a defect", () => {
    const meta = {
      get bad(): unknown {
        throw new TypeError("boom")
      }
    }
    const exit = Effect.runSyncExit(nnx.saveState(nnx.state({ w: new nnx.Param(jnp.ones([1]), { m: meta }) })))
    assert.isTrue(Exit.isFailure(exit))
    if (Exit.isFailure(exit)) {
      const die = exit.cause.reasons.find((r) => r._tag === "Die")
      assert.isDefined(die)
      assert.strictEqual(((die as { defect: Error }).defect as Error).message, "boom")
    }
  })
})

describe("restore", () => {
  const checkpoint = Effect.runSync(nnx.saveState(nnx.state({ w: p([1]) })))

  it("a model leaf holding no Array is named by its kind alone, even one that looks like an Array", () => {
    for (const value of [3, { dtype: "float32", shape: [1] }]) {
      const model = { w: new nnx.Param<unknown>(value) }
      const e = codecError(nnx.restore(model, checkpoint))
      assert.deepStrictEqual(e.path, ["w"])
      assert.strictEqual(e.message, "the model has Param, the checkpoint Param float32(1,) at w")
      assert.strictEqual(model.w.value, value)
    }
  })

  /** A list whose element 0 reads as an Array and throws `thrown` when written. */
  const throwingList = (thrown: unknown): Array<unknown> => {
    const list: Array<unknown> = []
    Object.defineProperty(list, 0, {
      get: () => jnp.ones([1]),
      set: () => {
        throw thrown
      },
      enumerable: true,
      configurable: true
    })
    return list
  }
  const listCheckpoint = Effect.runSync(nnx.saveState(nnx.state({ l: [jnp.zeros([1])] })))

  it("an error of the update itself (a frozen model) is a CodecError with its message", () => {
    const frozen = Object.freeze({ t: jnp.ones([1]) })
    const e = codecError(nnx.restore(frozen, Effect.runSync(nnx.saveState(nnx.state({ t: jnp.zeros([1]) })))))
    assert.strictEqual(e.message, "update: the Object here is frozen at t")
    assert.deepStrictEqual(frozen.t.tolist(), [1])
    const thrown = codecError(nnx.restore({ l: throwingList(new RangeError("read only")) }, listCheckpoint))
    assert.strictEqual(thrown.message, "read only")
  })

  it("anything but an Error thrown while updating is a defect", () => {
    const exit = Effect.runSyncExit(nnx.restore({ l: throwingList("not an Error") }, listCheckpoint))
    assert.isTrue(Exit.isFailure(exit))
    if (Exit.isFailure(exit)) {
      const die = exit.cause.reasons.find((r) => r._tag === "Die")
      assert.strictEqual((die as { defect: unknown } | undefined)?.defect, "not an Error")
    }
  })
})

describe("restore inside a transform", () => {
  it("writing to a model of an outer trace level fails with the TraceContextError, unchanged", () => {
    class M extends nnx.Module {
      w = p([1, 2])
    }
    const outer = new M()
    const bytes = Effect.runSync(nnx.saveState(nnx.state({ w: p([5, 6]) })))
    let error: unknown
    nnx
      .jit((m: M) => {
        error = failure(nnx.restore(outer, bytes))
        return m.w.value
      })
      .sync(new M())
    assert.instanceOf(error, nnx.TraceContextError)
    assert.deepStrictEqual(outer.w.value.tolist(), [1, 2])
  })
})
