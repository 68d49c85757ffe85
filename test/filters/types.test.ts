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
  it("a kind filter gives a State of the node's Variables of that kind, typed, with its fields", () => {
    const params = nnx.state(m, nnx.Param)
    expectTypeOf(params).toMatchTypeOf<nnx.State<nnx.Param<unknown>>>()
    expectTypeOf(params.leaves[0]!).toEqualTypeOf<nnx.Param<jnp.Array>>()
    expectTypeOf(params.kernel).toEqualTypeOf<nnx.Param<jnp.Array>>()
    expectTypeOf(params.kernel.value).toEqualTypeOf<jnp.Array>()
    const stats = nnx.state(m, nnx.OfType(nnx.BatchStat))
    expectTypeOf(stats.leaves[0]!).toEqualTypeOf<nnx.BatchStat<jnp.Array>>()
    expectTypeOf(stats.mean).toEqualTypeOf<nnx.BatchStat<jnp.Array>>()
    // no raw Arrays among a kind's leaves; without a kind filter, every leaf the node holds
    expectTypeOf(nnx.state(m).leaves[0]!).toMatchTypeOf<nnx.Variable<unknown> | jnp.Array>()
    expectTypeOf(nnx.state(m).kernel).toEqualTypeOf<nnx.Param<jnp.Array>>()
    const wrong = (): void => {
      // @ts-expect-error a State of Params has no field for the BatchStat
      void params.mean
      // @ts-expect-error nor for a static attribute
      void nnx.state(m).nothing
    }
    void wrong
  })

  it("several filters give a tuple; arrays give unions; Nothing gives never", () => {
    const [g, params, rest] = nnx.split(m, nnx.Param, "...")
    expectTypeOf(g).toEqualTypeOf<nnx.GraphDef<Linear>>()
    expectTypeOf(params.leaves[0]!).toEqualTypeOf<nnx.Param<jnp.Array>>()
    // the rest: what the Param filter did not take (Count is an unbranded Variable<jnp.Array>)
    expectTypeOf(rest.leaves[0]!).toEqualTypeOf<
      nnx.BatchStat<jnp.Array> | Count | nnx.RngKey<jnp.Array> | nnx.RngCount<jnp.Array>
    >()
    expectTypeOf(rest.mean).toEqualTypeOf<nnx.BatchStat<jnp.Array>>()
    expectTypeOf(rest.rngs.noise.count).toEqualTypeOf<nnx.RngCount<jnp.Array>>()
    const either = nnx.state(m, [nnx.Param, nnx.BatchStat])
    expectTypeOf(either.leaves[0]!).toEqualTypeOf<nnx.Param<jnp.Array> | nnx.BatchStat<jnp.Array>>()
    expectTypeOf(nnx.state(m, nnx.Nothing()).leaves).toEqualTypeOf<ReadonlyArray<never>>()
    expectTypeOf(nnx.state(m, false).leaves).toEqualTypeOf<ReadonlyArray<never>>()
    const [a, b] = nnx.state(m, nnx.Param, nnx.BatchStat)
    expectTypeOf(a.leaves[0]!).toEqualTypeOf<nnx.Param<jnp.Array>>()
    expectTypeOf(b.leaves[0]!).toEqualTypeOf<nnx.BatchStat<jnp.Array>>()
    const wrong = (): void => {
      // @ts-expect-error the rest has no Param: the first filter took it
      void rest.kernel
    }
    void wrong
    const notKey = nnx.state(m, nnx.All(nnx.RngState, nnx.Not(nnx.RngKey)))
    expectTypeOf(notKey).toMatchTypeOf<nnx.State<nnx.RngState<unknown>>>()
  })

  it("filtering a State narrows its kind; States are covariant", () => {
    const all = nnx.state(m)
    expectTypeOf(all.filter(nnx.Param)).toEqualTypeOf<nnx.State<nnx.Param<jnp.Array>>>()
    expectTypeOf(nnx.state(m, nnx.Param).filter("...")).toEqualTypeOf<nnx.State<nnx.Param<jnp.Array>>>()
    expectTypeOf(nnx.state(m, nnx.Param).filter(nnx.BatchStat)).toEqualTypeOf<nnx.State<never>>()
    const general: nnx.State = nnx.state(m, nnx.Param)
    expectTypeOf(general).toEqualTypeOf<nnx.State>()
    expectTypeOf(
      nnx.merge(nnx.graphdef(m), nnx.state(m, nnx.Param), nnx.state(m, nnx.Not(nnx.Param)))
    ).toEqualTypeOf<Linear>()
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
    expectTypeOf(nnx.state(new Model(), Branded).leaves[0]!).toEqualTypeOf<Branded>()
    // an unbranded kind is structurally any Variable<jnp.Array>: Branded is one too
    expectTypeOf(nnx.state(new Model(), Count).leaves[0]!).toEqualTypeOf<Count | Branded>()
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
