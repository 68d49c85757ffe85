/**
 * Variable metadata in Flax 0.12.8's call forms (`get_metadata()`, `get_metadata('k')`,
 * `get_metadata('k', default)`, `set_metadata('k', v)`, `set_metadata(k=v)`, `set_metadata(dict)`,
 * `has_metadata`, `del_metadata`), spelled with TypeScript objects.
 */
import { describe, expect, it } from "vitest"
import { jnp, nnx } from "effect-nnx"
import { withNewTraceLevel } from "../../src/backend/bind.ts"
import { withMutationCheck } from "../../src/graph/traceState.ts"

const insideTransform = <A>(f: () => A): A => withNewTraceLevel(() => withMutationCheck(f))

describe("Variable metadata forms", () => {
  it("getMetadata() is the whole record, getMetadata(key) one entry, getMetadata(key, fallback) a default", () => {
    const v = new nnx.Param(jnp.ones([2]), { note: "hi" })
    // flax: v.get_metadata(exclude_required=True) == {'note': 'hi'}
    expect(v.getMetadata()).toEqual({ note: "hi" })
    expect(Object.isFrozen(v.getMetadata())).toBe(true)
    expect(v.getMetadata("note")).toBe("hi")
    // flax: v.get_metadata('nope', 7) == 7; v.get_metadata('nope') raises KeyError
    expect(v.getMetadata("nope", 7)).toBe(7)
    expect(v.getMetadata("nope")).toBeUndefined()
  })

  it("setMetadata(key, value) sets one entry, setMetadata({...}) merges (Flax's keyword form)", () => {
    const v = new nnx.Param(jnp.ones([2]), { note: "hi" })
    v.setMetadata({ a: 1 }) // flax: v.set_metadata(a=1)
    expect(v.getMetadata()).toEqual({ note: "hi", a: 1 })
    v.setMetadata("b", 2) // flax: v.set_metadata('b', 2)
    expect(v.getMetadata()).toEqual({ note: "hi", a: 1, b: 2 })
  })

  it("assigning metadata replaces all of it (Flax's set_metadata(dict))", () => {
    const v = new nnx.Param(jnp.ones([2]), { note: "hi", a: 1 })
    v.metadata = { c: 3 }
    expect(v.getMetadata()).toEqual({ c: 3 })
    expect(Object.isFrozen(v.metadata)).toBe(true)
  })

  it("hasMetadata and delMetadata", () => {
    const v = new nnx.Param(jnp.ones([2]), { c: 3 })
    expect([v.hasMetadata("c"), v.hasMetadata("a")]).toEqual([true, false])
    v.delMetadata("c")
    expect(v.getMetadata()).toEqual({})
  })

  it("typed keys: shardingNames reads as its type", () => {
    const w = new nnx.Param(jnp.ones([2, 2]), { shardingNames: ["a", null] })
    const names: ReadonlyArray<string | null> | undefined = w.getMetadata("shardingNames")
    expect(names).toEqual(["a", null])
    const withDefault: ReadonlyArray<string | null> | "none" = w.getMetadata("shardingNames", "none")
    expect(withDefault).toEqual(["a", null])
    // @ts-expect-error shardingNames must be an array of names
    w.setMetadata("shardingNames", 3)
  })

  it("every write form is refused from another trace level", () => {
    const p = new nnx.Param(jnp.ones([2]))
    const refused: Array<() => void> = [
      () => p.setMetadata("x", 1),
      () => p.setMetadata({ x: 1 }),
      () => {
        p.metadata = {}
      },
      () => p.delMetadata("x")
    ]
    for (const write of refused) {
      expect(() => insideTransform(write)).toThrow(nnx.TraceContextError)
    }
    expect(p.getMetadata()).toEqual({})
  })
})
