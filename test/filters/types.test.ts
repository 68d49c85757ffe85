/**
 * Type tests: filters are checked by the compiler. `npm test` runs `tsc --noEmit` over test/, so
 * every `@ts-expect-error` below must be an error, and every `expectTypeOf` must hold. The wrong
 * forms sit in functions that never run.
 */
import { describe, expectTypeOf, it } from "vitest"
import { Effect } from "effect"
import { jnp, nnx } from "effect-nnx"

class Count extends nnx.Variable<jnp.Array> {}

class Linear extends nnx.Module {
  kernel = new nnx.Param(jnp.ones([2, 3]))
  mean = new nnx.BatchStat(jnp.zeros([3]))
  count = new Count(jnp.zeros([]))
  rngs = new nnx.Rngs({ noise: 0 })
}

const m = new Linear()

describe("filter types", () => {
  it("a kind filter gives a State of that kind", () => {
    const params = nnx.state(m, nnx.Param)
    expectTypeOf(params).toEqualTypeOf<nnx.State<nnx.Param<unknown>>>()
    expectTypeOf(params.leaves[0]!).toEqualTypeOf<nnx.Param<unknown>>()
    const stats = nnx.state(m, nnx.OfType(nnx.BatchStat))
    expectTypeOf(stats).toEqualTypeOf<nnx.State<nnx.BatchStat<unknown>>>()
    // no raw Arrays among a kind's leaves; without a kind filter there may be
    expectTypeOf(nnx.state(m).leaves[0]!).toEqualTypeOf<nnx.Variable<unknown> | jnp.Array>()
  })

  it("several filters give a tuple; arrays give unions; Nothing gives never", () => {
    const [g, params, rest] = nnx.split(m, nnx.Param, "...")
    expectTypeOf(g).toEqualTypeOf<nnx.GraphDef<Linear>>()
    expectTypeOf(params).toEqualTypeOf<nnx.State<nnx.Param<unknown>>>()
    expectTypeOf(rest).toEqualTypeOf<nnx.State<nnx.Variable<unknown>>>()
    const either = nnx.state(m, [nnx.Param, nnx.BatchStat])
    expectTypeOf(either).toEqualTypeOf<nnx.State<nnx.Param<unknown> | nnx.BatchStat<unknown>>>()
    expectTypeOf(nnx.state(m, nnx.Nothing())).toEqualTypeOf<nnx.State<never>>()
    expectTypeOf(nnx.state(m, false)).toEqualTypeOf<nnx.State<never>>()
    const [a, b] = nnx.state(m, nnx.Param, nnx.BatchStat)
    expectTypeOf(a).toEqualTypeOf<nnx.State<nnx.Param<unknown>>>()
    expectTypeOf(b).toEqualTypeOf<nnx.State<nnx.BatchStat<unknown>>>()
    const notKey = nnx.state(m, nnx.All(nnx.RngState, nnx.Not(nnx.RngKey)))
    expectTypeOf(notKey).toMatchTypeOf<nnx.State<nnx.RngState<unknown>>>()
  })

  it("filtering a State narrows its kind; States are covariant", () => {
    const all = nnx.state(m)
    expectTypeOf(all.filter(nnx.Param)).toEqualTypeOf<nnx.State<nnx.Param<unknown>>>()
    expectTypeOf(nnx.state(m, nnx.Param).filter("...")).toEqualTypeOf<nnx.State<nnx.Param<unknown>>>()
    expectTypeOf(nnx.state(m, nnx.Param).filter(nnx.BatchStat)).toEqualTypeOf<nnx.State<never>>()
    const general: nnx.State = nnx.state(m, nnx.Param)
    expectTypeOf(general).toEqualTypeOf<nnx.State>()
    expectTypeOf(nnx.merge(nnx.graphdef(m), nnx.state(m, nnx.Param), nnx.state(m, nnx.Not(nnx.Param)))).toEqualTypeOf<Linear>()
  })

  it("wrong forms do not compile", () => {
    const wrong = (): void => {
      // @ts-expect-error a number is not a filter
      nnx.state(m, 42)
      // @ts-expect-error an object is not a filter
      nnx.state(m, {})
      // @ts-expect-error null is not a filter (Flax's None is written `false` or Nothing())
      nnx.split(m, null)
      // @ts-expect-error a Module class is not a Variable kind
      nnx.state(m, Linear)
      // @ts-expect-error a forged filter object is not a filter
      nnx.state(m, { _tag: "Everything", predicate: () => true })
      // @ts-expect-error arrays of filters must hold filters
      nnx.state(m, [nnx.Param, 3])
      // @ts-expect-error Not takes a filter
      nnx.Not(7)
      // @ts-expect-error pop needs at least one filter
      nnx.pop(m)
      // @ts-expect-error a State of Params is not a State of BatchStats
      const stats: nnx.State<nnx.BatchStat> = nnx.state(m, nnx.Param)
      // @ts-expect-error a Variable splits as one leaf (as in Flax), without filters
      nnx.split(m.kernel, nnx.Param)
      // @ts-expect-error merge takes States, a pure record or a leaf
      nnx.merge(nnx.graphdef(m), 3)
      void stats
    }
    void wrong
  })
})

describe("user kinds", () => {
  it("a branded user kind is distinct for the compiler; an unbranded one is a plain Variable", () => {
    class Branded extends nnx.Variable<jnp.Array> {
      declare readonly "~kind": { readonly Branded: true }
    }
    class Model extends nnx.Module {
      b = new Branded(jnp.zeros([1]))
      c = new Count(jnp.zeros([1]))
    }
    expectTypeOf(nnx.state(new Model(), Branded)).toEqualTypeOf<nnx.State<Branded>>()
    expectTypeOf(nnx.state(new Model(), Count)).toEqualTypeOf<nnx.State<Count>>()
    const wrong = (): void => {
      // @ts-expect-error a State of Branded is not a State of Params
      const p: nnx.State<nnx.Param> = nnx.state(new Model(), Branded)
      void p
    }
    void wrong
  })
})

describe("other compile-time checks", () => {
  it("Rngs streams are typed from the constructor's names", () => {
    const rngs = new nnx.Rngs({ params: 0, dropout: 1 })
    expectTypeOf(rngs.params).toEqualTypeOf<nnx.RngStream>()
    expectTypeOf(rngs.params()).toEqualTypeOf<jnp.Array>()
    expectTypeOf(new nnx.Rngs(0).default).toEqualTypeOf<nnx.RngStream>()
    const wrong = (): void => {
      // @ts-expect-error no such stream
      rngs.noise()
      // @ts-expect-error seeds are numbers or arrays
      new nnx.Rngs({ a: "zero" })
    }
    void wrong
  })

  it("Variable access is typed by the value", () => {
    const p = new nnx.Param(jnp.ones([2]))
    expectTypeOf(p.value).toEqualTypeOf<jnp.Array>()
    expectTypeOf(nnx.Variable.get(p)).toEqualTypeOf<Effect.Effect<jnp.Array>>()
    expectTypeOf(nnx.Variable.set(p, jnp.zeros([2]))).toEqualTypeOf<Effect.Effect<void, nnx.TraceContextError>>()
    const wrong = (): void => {
      // @ts-expect-error a Param of Arrays holds Arrays
      p.value = "x"
      // @ts-expect-error the update function maps Arrays to Arrays
      p.update((x) => x.tolist())
    }
    void wrong
  })
})
