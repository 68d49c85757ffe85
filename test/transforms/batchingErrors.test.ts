/**
 * vmap's argument checks, message by message: what a mutation run of `core/batching.ts` showed no
 * test pinned down (the transform's name in each message, non-Array leaves mapped over an axis,
 * non-integer and out-of-range axes on both sides, the exact wording when sizes disagree or nothing
 * is mapped, a tracer used after vmap returned).
 */
import { assert, describe, it } from "@effect/vitest"
import { jnp, vmap } from "effect-nnx"

/** The error `f` throws: its tag and message. */
const thrown = (f: () => unknown): { readonly tag: string; readonly message: string } => {
  try {
    f()
  } catch (e) {
    return { tag: (e as { readonly _tag?: string })._tag ?? "none", message: (e as Error).message }
  }
  return assert.fail("expected an error")
}

const id = (x: jnp.Array) => x

describe("vmap's argument errors", () => {
  it("an unknown option is named, with the options vmap takes", () => {
    assert.deepStrictEqual(
      thrown(() => vmap(id, { inAxis: 0 } as never)(jnp.ones([2]))),
      {
        tag: "ArgumentError",
        message:
          'vmap: unknown option "inAxis"; did you mean "inAxes"? (the options it takes: inAxes, outAxes, axisSize, axisName)'
      }
    )
    // Each of the four is accepted.
    const x = jnp.arange(6).reshape([2, 3])
    assert.deepStrictEqual(vmap(id, { inAxes: 1, outAxes: 1, axisSize: 3, axisName: "i" })(x).tolist(), x.tolist())
  })

  it("inAxes and outAxes that do not fit the structure name vmap, the side and the path", () => {
    const pair = (x: jnp.Array, y: jnp.Array) => x.add(y)
    assert.deepStrictEqual(
      thrown(() => vmap(pair, { inAxes: [0, 0, 0] as never })(jnp.ones([2]), jnp.ones([2]))),
      {
        tag: "StructureError",
        message: "vmap: inAxes is not a prefix of the arguments at args: expected 2 entries, got 3"
      }
    )
    assert.deepStrictEqual(
      thrown(() => vmap((x: jnp.Array) => [x, x], { outAxes: [0, 0, 0] as never })(jnp.ones([2]))),
      {
        tag: "StructureError",
        message: "vmap: outAxes is not a prefix of the output at out: expected 2 entries, got 3"
      }
    )
  })

  it("a JavaScript number, boolean or other value cannot be mapped over an axis", () => {
    const f = (_: unknown) => jnp.ones([1])
    const advice = "give it an axis of null or pass an Array"
    assert.strictEqual(
      thrown(() => vmap(f)(true)).message,
      `vmap: args[0] is the JavaScript boolean true, which cannot be mapped over axis 0; ${advice}`
    )
    assert.strictEqual(
      thrown(() => vmap(f)(3)).message,
      `vmap: args[0] is the JavaScript number 3, which cannot be mapped over axis 0; ${advice}`
    )
    assert.strictEqual(
      thrown(() => vmap(f, { inAxes: [{ s: 1 }] })({ s: "text" })).message,
      `vmap: args[0]['s'] is not an Array, which cannot be mapped over axis 1; ${advice}`
    )
    assert.strictEqual(thrown(() => vmap(f)(true)).tag, "VmapError")
  })

  it("an axis must be an integer within the rank, on both sides", () => {
    const x = jnp.ones([2, 3])
    const rankMessage = (axis: number, least: number) =>
      `vmap: vmap was requested to map args[0] along axis ${axis}, which implies that its rank should be at least ${least}, but is only 2 (its type is float32(2, 3))`
    assert.strictEqual(thrown(() => vmap(id, { inAxes: -3 })(x)).message, rankMessage(-3, 3))
    assert.strictEqual(thrown(() => vmap(id, { inAxes: 2 })(x)).message, rankMessage(2, 3))
    assert.strictEqual(thrown(() => vmap(id, { inAxes: 5 })(x)).message, rankMessage(5, 6))
    assert.strictEqual(
      thrown(() => vmap(id)(jnp.array(1))).message,
      "vmap: vmap was requested to map args[0] along axis 0, which implies that its rank should be at least 1, but is only 0 (its type is int32())"
    )
    assert.strictEqual(
      thrown(() => vmap(id, { inAxes: 1.5 })(x)).message,
      "vmap: inAxes gives args[0] the axis 1.5, which is not an integer; an axis is an integer or null"
    )
    // The extremes that fit.
    assert.deepStrictEqual(vmap(id, { inAxes: -2 })(x).shape, [2, 3])
    assert.deepStrictEqual(vmap(id, { inAxes: 1 })(x).shape, [3, 2])
    assert.strictEqual(
      thrown(() => vmap(id, { outAxes: 0.5 })(x)).message,
      "vmap: outAxes gives out the axis 0.5, which is not an integer; an axis is an integer or null"
    )
    // A negative outAxes counts from the end of the batched rank.
    assert.deepStrictEqual(vmap(id, { outAxes: -1 })(x).shape, [3, 2])
    assert.deepStrictEqual(vmap(id, { inAxes: 1, outAxes: -1 })(x).tolist(), x.tolist())
  })

  it("disagreeing sizes list every mapped argument, one line each", () => {
    const f = (x: jnp.Array, _y: jnp.Array, _z: jnp.Array) => x
    assert.strictEqual(
      thrown(() => vmap(f)(jnp.ones([2]), jnp.ones([3]), jnp.ones([4]))).message,
      "vmap: inconsistent sizes for array axes to be mapped:\n" +
        "  * axis 0 of args[0] of type float32(2,) has size 2\n" +
        "  * axis 0 of args[1] of type float32(3,) has size 3\n" +
        "  * axis 0 of args[2] of type float32(4,) has size 4"
    )
  })

  it("with nothing mapped, the batch size comes from axisSize or the call fails", () => {
    assert.deepStrictEqual(
      thrown(() => vmap(id, { inAxes: null })(jnp.ones([2]))),
      {
        tag: "VmapError",
        message: "vmap: no argument is mapped (every inAxes entry is null), so the batch size is unknown; pass axisSize"
      }
    )
    // axisSize alone sets it: the unmapped argument is broadcast to every member.
    assert.deepStrictEqual(vmap(id, { inAxes: null, axisSize: 3 })(jnp.arange(2)).tolist(), [
      [0, 1],
      [0, 1],
      [0, 1]
    ])
  })

  it("a tracer used after vmap returned names vmap", () => {
    let leaked: jnp.Array | undefined
    vmap((x: jnp.Array) => {
      leaked = x.mul(2)
      return x
    })(jnp.ones([2, 3]))
    assert.deepStrictEqual(
      thrown(() => leaked?.add(1)),
      {
        tag: "EscapedTracerError",
        message:
          "add: an Array traced by vmap was used after vmap returned (it escaped through a closure, a global or a mutated object); return it from the transformed function instead"
      }
    )
  })
})
