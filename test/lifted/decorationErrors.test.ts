/**
 * Errors a transform can decide without its arguments are thrown when the transform is made
 * (`nnx.scan(f, options)`, `nnx.vmap(...)`, `nnx.grad(...)`, `nnx.jit(...)`), as Flax 0.12.8 raises
 * them at decoration; prefix trees that do not fit the arguments fail at the call with an error
 * naming the transform, the argument, the path, the prefix expected and what was found.
 *
 * Flax 0.12.8's messages, matched where Flax has one:
 *   nnx.scan(f, in_axes=(Carry, Carry))          Found multiple Carry definitions at in_axes[0] and in_axes[1]
 *   nnx.scan(f, in_axes=(Carry, 0), out_axes=0)  If one of in_axes or out_axes has Carry, the other must also have Carry. ...
 *   out_axes=(Carry, None)                       Cannot broadcast output state. Got out_axes=None at: out_axes[1]
 *   out_axes=(Carry, StateAxes({...: Carry}))    Cannot carry output state. Got StateAxes({Ellipsis: Carry}) at: out_axes[1]
 *   nnx.vmap(f, in_axes=(0.5, 0))                vmap in_axes must be an int, None, or (nested) container with those types as leaves, ...
 *   nnx.grad(f, argnums=(0, 0))                  argnum 0 is repeated in argnums
 *   nnx.jit(f, in_shardings=(1, 2))              in_shardings leaf specifications are expected to be PartitionSpec instances or None, ...
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { GradError, jnp, nnx } from "effect-nnx"

class Layer extends nnx.Module {
  w: nnx.Param<jnp.Array>
  s: nnx.BatchStat<jnp.Array>
  constructor() {
    super()
    this.w = new nnx.Param(jnp.ones([2]))
    this.s = new nnx.BatchStat(jnp.zeros([2]))
  }
}

/** The error `make` throws, asserted to be a `LiftTypeError`. */
const liftTypeError = (make: () => unknown): nnx.LiftTypeError => {
  try {
    make()
  } catch (e) {
    assert.instanceOf(e, nnx.LiftTypeError)
    return e as nnx.LiftTypeError
  }
  return assert.fail("expected a LiftTypeError")
}

/** A function that must never run: the errors come before any call. */
const never = (...args: ReadonlyArray<unknown>): never => assert.fail(`f ran with ${args.length} arguments`)

describe("nnx.scan checks its axes when it is made", () => {
  it("more than one Carry is refused, in inAxes or in outAxes", () => {
    const e = liftTypeError(() => nnx.scan(never, { inAxes: [nnx.Carry, nnx.Carry] as never }))
    assert.match(e.message, /^nnx\.scan: Found multiple Carry definitions at inAxes\[0\] and inAxes\[1\]/)
    assert.match(
      liftTypeError(() =>
        nnx.scan(never, { inAxes: [nnx.Carry, 0] as never, outAxes: [nnx.Carry, nnx.Carry] as never })
      ).message,
      /Found multiple Carry definitions at outAxes\[0\] and outAxes\[1\]/
    )
  })

  it("Carry on one side only is refused, a Carry inside a StateAxes not counting as one (as in Flax)", () => {
    const one =
      /If one of inAxes or outAxes has Carry, the other must also have Carry\. Got inAxes=\[Carry, 0\] and outAxes=0/
    assert.match(
      liftTypeError(() => nnx.scan(never, { inAxes: [nnx.Carry, 0] as never, outAxes: 0 as never })).message,
      one
    )
    assert.match(
      liftTypeError(() => nnx.scan(never, { inAxes: [0, 0] as never })).message,
      /the other must also have Carry/
    )
    const carried = new nnx.StateAxes<nnx.AxisOrCarry>([
      [nnx.Param, null],
      [nnx.BatchStat, nnx.Carry]
    ])
    assert.match(
      liftTypeError(() => nnx.scan(never, { inAxes: [carried, 0] as never })).message,
      /the other must also have Carry/
    )
    assert.strictEqual(typeof nnx.scan(never, { inAxes: [carried, 0] as never, outAxes: 0 as never }), "function")
  })

  it("a nested Carry is refused", () => {
    assert.match(
      liftTypeError(() => nnx.scan(never, { inAxes: [[nnx.Carry, 0], 0] as never })).message,
      /Carry must be at the top level, it cannot be nested/
    )
  })

  it("broadcast (null) or carried outputs are refused", () => {
    assert.match(
      liftTypeError(() => nnx.scan(never, { outAxes: [nnx.Carry, null] as never })).message,
      /Cannot broadcast output state\. Got outAxes=null at: outAxes\[1\]/
    )
    assert.match(
      liftTypeError(() => nnx.scan(never, { inAxes: [nnx.Carry, 0] as never, outAxes: null as never })).message,
      /Cannot broadcast output state\. Got outAxes=null at: outAxes;/
    )
    assert.match(
      liftTypeError(() =>
        nnx.scan(never, {
          outAxes: [
            nnx.Carry,
            new nnx.StateAxes([
              [nnx.Param, 0],
              [nnx.BatchStat, null]
            ])
          ] as never
        })
      ).message,
      /Cannot broadcast output state\. Got StateAxes\(\{Param: 0, BatchStat: null\}\) at: outAxes\[1\]/
    )
    assert.match(
      liftTypeError(() =>
        nnx.scan(never, { outAxes: [nnx.Carry, new nnx.StateAxes<nnx.AxisOrCarry>([[nnx.Param, nnx.Carry]])] as never })
      ).message,
      /Cannot carry output state\. Got StateAxes\(\{Param: Carry\}\) at: outAxes\[1\]/
    )
  })

  it("an axis of a form scan does not take is refused, with where and what as fields", () => {
    const e = liftTypeError(() => nnx.scan(never, { inAxes: [nnx.Carry, 0.5] as never }))
    assert.strictEqual(e.what, "inAxes")
    assert.strictEqual(e.path, "inAxes[1]")
    assert.strictEqual(e.found, "0.5")
  })
})

describe("nnx.vmap, nnx.grad and nnx.jit check their options when they are made", () => {
  it("nnx.vmap: an axis that is not an integer, null or a StateAxes of those (Carry, a string, a float) is refused", () => {
    const e = liftTypeError(() => nnx.vmap(never, { inAxes: ["a", 0] as never }))
    assert.match(
      e.message,
      /^nnx\.vmap: inAxes must be an integer, null or a StateAxes \(of integers and null\), or a \(nested\) container with those as leaves, but got inAxes=\["a", 0\]/
    )
    assert.deepStrictEqual([e.what, e.path, e.found], ["inAxes", "inAxes[0]", '"a"'])
    assert.strictEqual(liftTypeError(() => nnx.vmap(never, { outAxes: [0, 0.5] as never })).path, "outAxes[1]")
    assert.strictEqual(liftTypeError(() => nnx.vmap(never, { inAxes: [nnx.Carry, 0] as never })).found, "Carry")
    const carried = new nnx.StateAxes<nnx.AxisOrCarry>([
      [nnx.Param, 0],
      [nnx.BatchStat, nnx.Carry]
    ])
    assert.strictEqual(liftTypeError(() => nnx.vmap(never, { inAxes: [carried, 0] as never })).path, "inAxes[0]")
  })

  it("nnx.grad: a repeated argnum, and argnums that are not integers or DiffStates, are typed GradErrors (not TypeErrors)", () => {
    const made = (argnums: unknown): GradError => {
      try {
        nnx.grad(never, { argnums: argnums as never })
      } catch (e) {
        assert.instanceOf(e, GradError)
        return e as GradError
      }
      return assert.fail("expected a GradError")
    }
    assert.match(made([0, 0]).message, /argnum 0 is repeated in argnums/)
    assert.match(made([new nnx.DiffState(1, nnx.Param), 1]).message, /argnum 1 is repeated in argnums/)
    assert.match(made("a").message, /argnums must be an integer, a DiffState or a list of those, got "a"/)
    assert.match(made({}).message, /argnums must be an integer, a DiffState or a list of those/)
    assert.match(
      made([0, 1.5]).message,
      /argnums\[1\] must be an integer or a DiffState with an integer argnum, got 1\.5/
    )
    assert.throws(() => nnx.valueAndGrad(never, { argnums: [2, 2] as never }), /argnum 2 is repeated/)
  })

  it.effect("nnx.grad: an argnum out of range for the call fails at the call, in Flax's words", () =>
    Effect.gen(function* () {
      const g = nnx.grad((m: Layer, x: jnp.Array) => x.mul(m.w.value).sum(), { argnums: 5 as never })
      const e = yield* Effect.flip(g(new Layer(), jnp.ones([2])))
      assert.instanceOf(e, GradError)
      assert.match(
        e.message,
        /differentiating with respect to argnums=5 requires at least 6 positional arguments to be passed by the caller, but got only 2 positional arguments/
      )
    })
  )

  it("nnx.jit: shardings whose leaves are not null, a PartitionSpec or a StateSharding are refused", () => {
    // @ts-expect-error not shardings: refused by the compiler, and when made for calls it cannot see
    const e = liftTypeError(() => nnx.jit(never, { inShardings: [1, 2] }))
    assert.match(e.message, /^nnx\.jit: inShardings must be null, a PartitionSpec/)
    assert.deepStrictEqual([e.what, e.path, e.found], ["inShardings", "inShardings[0]", "1"])
    // @ts-expect-error a string is not a sharding
    assert.strictEqual(liftTypeError(() => nnx.jit(never, { outShardings: "x" })).path, "outShardings")
  })
})

describe("prefixes that do not fit the arguments fail at the call, naming where", () => {
  it.effect("nnx.vmap: too many inAxes entries name the count of each", () =>
    Effect.gen(function* () {
      const f = nnx.vmap((m: Layer, x: jnp.Array) => x.mul(m.w.value), { inAxes: [null, 0, 0] as never })
      const e = yield* Effect.flip(f(new Layer(), jnp.ones([3, 2])))
      assert.instanceOf(e, nnx.LiftTypeError)
      const err = e as nnx.LiftTypeError
      assert.strictEqual(err.what, "inAxes")
      assert.strictEqual(err.path, "args")
      assert.strictEqual(err.expected, "an array of 2 entries, one per argument")
      assert.match(err.found ?? "", /^an array of 3/)
      assert.match(err.message, /^nnx\.vmap: inAxes is not a prefix of the arguments/)
    })
  )

  it.effect(
    "nnx.vmap: a record prefix for a Module names the argument and says a graph node takes one prefix or a StateAxes",
    () =>
      Effect.gen(function* () {
        const f = nnx.vmap((m: Layer, x: jnp.Array) => x.mul(m.w.value), { inAxes: [{ w: 0 }, 0] as never })
        const e = (yield* Effect.flip(f(new Layer(), jnp.ones([3, 2])))) as nnx.LiftTypeError
        assert.strictEqual(e._tag, "LiftTypeError")
        assert.deepStrictEqual([e.path, e.argument, e.found], ["args[0]", 0, "{ w: 0 }"])
        assert.match(e.expected ?? "", /StateAxes/)
        assert.match(e.message, /at args\[0\] \(argument 0\), which is the graph node Layer/)
      })
  )

  it.effect("nnx.vmap: a StateAxes given to an Array names its argument", () =>
    Effect.gen(function* () {
      const axes = new nnx.StateAxes([
        [nnx.Param, 0],
        [nnx.BatchStat, null]
      ])
      const f = nnx.vmap((m: Layer, x: jnp.Array) => x.mul(m.w.value), { inAxes: [0, axes] as never })
      const e = (yield* Effect.flip(f(new Layer(), jnp.ones([3, 2])))) as nnx.LiftTypeError
      assert.deepStrictEqual([e._tag, e.path, e.argument], ["LiftTypeError", "args[1]", 1])
      assert.match(e.message, /StateAxes can only be used on graph nodes/)
    })
  )

  it.effect("nnx.scan: a list prefix for a record argument names the path inside it", () =>
    Effect.gen(function* () {
      const f = nnx.scan((c: jnp.Array, xs: { a: jnp.Array; b: jnp.Array }) => [c.add(xs.a).add(xs.b), null] as const, {
        inAxes: [nnx.Carry, { a: 0, c: 0 }] as never
      })
      const e = (yield* Effect.flip(f(jnp.zeros([]), { a: jnp.ones([3]), b: jnp.ones([3]) }))) as nnx.LiftTypeError
      assert.deepStrictEqual([e._tag, e.transform, e.path, e.argument], ["LiftTypeError", "nnx.scan", "args[1]", 1])
      assert.strictEqual(e.expected, "a record with keys a, b")
      assert.match(e.found ?? "", /keys a, c/)
    })
  )

  it.effect("nnx.jit: an inShardings record for an Array argument names it", () =>
    Effect.gen(function* () {
      // @ts-expect-error a record for an Array argument
      const f = nnx.jit((m: Layer, x: jnp.Array) => x.mul(m.w.value), { inShardings: [null, { a: null }] })
      const e = (yield* Effect.flip(f(new Layer(), jnp.ones([2])))) as nnx.LiftTypeError
      assert.deepStrictEqual(
        [e._tag, e.transform, e.path, e.argument, e.found],
        ["LiftTypeError", "nnx.jit", "args[1]", 1, "{ a: null }"]
      )
    })
  )
})
