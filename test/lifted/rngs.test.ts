/**
 * splitRngs and forkRngs, as wrappers and as direct calls returning restorable backups.
 */
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { jnp, nnx, random } from "effect-nnx"

describe("splitRngs / forkRngs", () => {
  it("splitRngsNow splits streams, restoreRngs brings them back advanced by one draw", () => {
    const rngs = new nnx.Rngs({ params: 0, dropout: 1 })
    const backups = nnx.splitRngsNow(rngs, { splits: 4, only: "params" })
    expect(rngs.params.key.value.shape).toEqual([4])
    expect(rngs.params.count.value.shape).toEqual([4])
    expect(rngs.dropout.key.value.shape).toEqual([])
    nnx.restoreRngs(backups)
    expect(rngs.params.key.value.shape).toEqual([])
    expect(rngs.params.count.value.item()).toBe(1)
    // the split keys are the split of the first draw, as Flax does
    const fresh = new nnx.Rngs({ params: 0 })
    const expected = random.keyData(random.split(fresh.params(), 4)).tolist()
    const again = new nnx.Rngs({ params: 0 })
    nnx.splitRngsNow(again, { splits: 4 })
    expect(random.keyData(again.params.key.value).tolist()).toEqual(expected)
  })

  it("forkRngs draws a fresh key per stream (optionally split) for the call", () => {
    const rngs = new nnx.Rngs({ a: 0, b: 1 })
    const seen: Array<ReadonlyArray<number>> = []
    const f = nnx.forkRngs(
      (r: nnx.Rngs<"a" | "b">) => {
        seen.push(r.a.key.value.shape, r.b.key.value.shape)
        return r.b().shape
      },
      {
        split: [
          [nnx.WithTag("a"), 3],
          ["...", null]
        ]
      }
    )
    f(rngs)
    expect(seen).toEqual([[3], []])
    expect(rngs.a.key.value.shape).toEqual([])
    expect(rngs.a.count.value.item()).toBe(1)
    const backups = nnx.forkRngsNow(rngs)
    expect(rngs.a.count.value.item()).toBe(0)
    nnx.restoreRngs(backups)
    expect(rngs.b.count.value.item()).toBe(2)
    expect(jnp.array(1).item()).toBe(1)
  })
})

describe("a failed splitRngs / forkRngs call changes nothing, the Rngs counts included", () => {
  const boom = (): never => {
    throw new Error("boom")
  }

  it("the wrapper form, for plain functions", () => {
    const rngs = new nnx.Rngs({ params: 0, dropout: 1 })
    const keyBefore = random.keyData(rngs.params.key.value).tolist()
    expect(() => nnx.splitRngs((_: nnx.Rngs) => boom(), { splits: 3 })(rngs)).toThrow("boom")
    expect(rngs.params.count.value.item()).toBe(0)
    expect(rngs.dropout.count.value.item()).toBe(0)
    expect(random.keyData(rngs.params.key.value).tolist()).toEqual(keyBefore)
    expect(() => nnx.forkRngs((_: nnx.Rngs) => boom())(rngs)).toThrow("boom")
    expect(rngs.params.count.value.item()).toBe(0)
    // a successful call still advances each stream by the one draw it split (as Flax)
    nnx.splitRngs((_: nnx.Rngs) => 0, { splits: 3 })(rngs)
    expect(rngs.params.count.value.item()).toBe(1)
  })

  it("around a lifted transform, in its Effect and its sync form", () => {
    const rngs = new nnx.Rngs({ params: 0 })
    const f = nnx.splitRngs(
      nnx.vmap((_: nnx.Rngs) => boom(), { inAxes: [0] }),
      { splits: 2 }
    )
    expect(() => f.sync(rngs)).toThrow("boom")
    expect(rngs.params.count.value.item()).toBe(0)
    const exit = Effect.runSyncExit(f(rngs))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(rngs.params.count.value.item()).toBe(0)
  })

  it("a split that fails part way puts back the streams it already split", () => {
    const rngs = new nnx.Rngs({ a: 0, b: 1 })
    expect(() => nnx.splitRngsNow(rngs, { splits: [-1] })).toThrow()
    expect(rngs.a.count.value.item()).toBe(0)
    expect(rngs.a.key.value.shape).toEqual([])
    expect(rngs.b.count.value.item()).toBe(0)
  })
})
