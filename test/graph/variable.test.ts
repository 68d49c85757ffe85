/**
 * Variables and Modules as mutable references: synchronous and Effect access, metadata, kinds, and
 * the trace-level hook that lets a transform refuse mutation of objects it was not given.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, pipe } from "effect"
import { jnp, nnx } from "effect-nnx"
import { withNewTraceLevel } from "../../src/backend/bind.ts"
import { withMutationCheck } from "../../src/graph/traceState.ts"

class Count extends nnx.Variable<jnp.Array> {}

/** Runs `f` one trace level deeper with mutation checks on, as a lifted transform will. */
const insideTransform = <A>(f: () => A): A => withNewTraceLevel(() => withMutationCheck(f))

describe("Variable", () => {
  it("is a typed mutable reference: read, assign, update", () => {
    const count = new Count(jnp.arange(3))
    count.value = count.value.add(1)
    count.update((c) => c.mul(2))
    assert.deepStrictEqual(count.value.tolist(), [2, 4, 6])
  })

  it("holds arbitrary metadata, readable and settable, shardingNames among it", () => {
    const p = new nnx.Param(jnp.ones([3, 4]), { shardingNames: ["a", null], note: "hi" })
    assert.deepStrictEqual(p.shardingNames, ["a", null])
    assert.strictEqual(p.getMetadata("note"), "hi")
    p.setMetadata("note", "bye")
    p.setMetadata({ shardingNames: ["b", "c"] })
    assert.deepStrictEqual(p.metadata, { shardingNames: ["b", "c"], note: "bye" })
    p.setMetadata("note", undefined)
    assert.deepStrictEqual(Object.keys(p.metadata), ["shardingNames"])
    assert.isTrue(Object.isFrozen(p.metadata))
  })

  it("kinds are subclasses used as tags", () => {
    const key = new nnx.RngKey(jnp.zeros([2], { dtype: "uint32" }), { tag: "noise" })
    assert.isTrue(key instanceof nnx.RngState && key instanceof nnx.Variable)
    assert.strictEqual(key.kind, "RngKey")
    assert.strictEqual(key.tag, "noise")
    assert.strictEqual(new Count(jnp.zeros([1])).kind, "Count")
    assert.isTrue(nnx.isVariable(key) && !nnx.isVariable({ value: 1 }))
    assert.isTrue(nnx.isVariableClass(Count) && nnx.isVariableClass(nnx.Variable) && !nnx.isVariableClass(Object))
  })

  it("remembers the trace level it was made at", () => {
    assert.strictEqual(new nnx.Param(jnp.zeros([1])).traceLevel, 0)
    const inner = withNewTraceLevel(() => new nnx.Param(jnp.zeros([1])))
    assert.strictEqual(inner.traceLevel, 1)
    assert.strictEqual(nnx.traceLevel(inner), 1)
  })

  it("copy makes a new Variable of the same kind, value and metadata", () => {
    const p = new nnx.Param(jnp.ones([2]), { tag: "x" })
    const q = p.copy()
    assert.isTrue(q instanceof nnx.Param && q !== p)
    assert.strictEqual(q.value, p.value)
    assert.deepStrictEqual(q.metadata, p.metadata)
  })

  it("toState snapshots kind, value and metadata; VariableState rebuilds Variables", () => {
    const c = new Count(jnp.arange(2), { shardingNames: [null] })
    const s = c.toState()
    assert.strictEqual(s.type, Count)
    assert.strictEqual(s.kind, "Count")
    assert.strictEqual(s.value, c.value)
    c.value = jnp.zeros([2])
    assert.deepStrictEqual(s.value.tolist(), [0, 1])
    const back = s
      .replace(jnp.ones([2]))
      .withMetadata({ extra: 1 })
      .toVariable()
    assert.isTrue(back instanceof Count)
    assert.deepStrictEqual(back.value.tolist(), [1, 1])
    assert.deepStrictEqual(back.metadata, { shardingNames: [null], extra: 1 })
    assert.isTrue(Object.isFrozen(s))
  })

  it("kinds may define their own constructors; rebuilding does not call them", () => {
    class Scaled extends nnx.Variable<jnp.Array> {
      constructor(shape: ReadonlyArray<number>, scale: number) {
        super(jnp.ones(shape).mul(scale), { scale })
      }
    }
    const s = new Scaled([2], 3)
    const copy = s.copy()
    assert.isTrue(copy instanceof Scaled)
    assert.deepStrictEqual(copy.value.tolist(), [3, 3])
  })

  it.effect("Effect access: get, set and update, data-first and pipeable", () =>
    Effect.gen(function* () {
      const p = new nnx.Param(jnp.ones([2]))
      yield* nnx.Variable.set(p, jnp.full([2], 2))
      assert.deepStrictEqual((yield* nnx.Variable.get(p)).tolist(), [2, 2])
      yield* pipe(p, nnx.Variable.set(jnp.full([2], 3)))
      yield* nnx.Variable.update(p, (x) => x.add(1))
      yield* pipe(
        p,
        nnx.Variable.update((x: jnp.Array) => x.mul(10))
      )
      assert.deepStrictEqual(p.value.tolist(), [40, 40])
    })
  )

  it("is pipeable", () => {
    const p = new nnx.Param(jnp.ones([1]))
    assert.strictEqual(
      p.pipe((v) => v.kind),
      "Param"
    )
  })
})

describe("trace levels: mutation from another level is refused inside a checked transform", () => {
  it("fails with the guide's message when a closure mutates a Variable from outside", () => {
    class Counter extends nnx.Module {
      count = new nnx.Param(jnp.array(0))
      increment(): void {
        this.count.value = this.count.value.add(jnp.array(1))
      }
    }
    const counter = new Counter()
    let message = ""
    try {
      insideTransform(() => counter.increment())
    } catch (e) {
      assert.instanceOf(e, nnx.TraceContextError)
      message = (e as nnx.TraceContextError).message
    }
    assert.match(message, /^Cannot mutate Param from a different trace level/)
    assert.deepStrictEqual(counter.count.value.tolist(), 0)
  })

  it("refuses Module attribute writes and deletes from another level, and setMetadata", () => {
    class Box extends nnx.Module {
      a = 1
      b?: number = 2
    }
    const box = new Box()
    const p = new nnx.Param(jnp.zeros([1]))
    assert.throws(
      () =>
        insideTransform(() => {
          box.a = 3
        }),
      /Cannot mutate Box from a different trace level/
    )
    assert.throws(
      () =>
        insideTransform(() => {
          delete box.b
        }),
      /Cannot mutate Box/
    )
    assert.throws(() => insideTransform(() => p.setMetadata("x", 1)), /Cannot mutate Param/)
    assert.strictEqual(box.a, 1)
    assert.strictEqual(box.b, 2)
  })

  it("allows mutating objects made at the current level; any other trace refuses (as Flax under jax.jit)", () => {
    insideTransform(() => {
      const p = new nnx.Param(jnp.zeros([1]))
      p.value = jnp.ones([1])
      class Box extends nnx.Module {
        a = 1
      }
      const b = new Box()
      b.a = 2
    })
    const outside = new nnx.Param(jnp.zeros([1]))
    assert.throws(
      () =>
        withNewTraceLevel(() => {
          outside.value = jnp.ones([1])
        }),
      /Cannot mutate Param from a different trace level/
    )
    assert.deepStrictEqual(outside.value.tolist(), [0])
  })

  it.effect("Variable.set fails with a typed TraceContextError", () =>
    Effect.gen(function* () {
      const p = new nnx.Param(jnp.zeros([1]))
      const error = insideTransform(() => Effect.runSync(Effect.flip(nnx.Variable.set(p, jnp.ones([1])))))
      assert.strictEqual(error._tag, "TraceContextError")
      assert.strictEqual(error.objectLevel, 0)
      assert.strictEqual(error.currentLevel, 1)
      assert.deepStrictEqual(p.value.tolist(), [0])
    })
  )
})

describe("Module", () => {
  it("is a plain class; attributes of any kind; instanceof works", () => {
    class Linear extends nnx.Module {
      kernel: nnx.Param<jnp.Array>
      features: number
      constructor(din: number, dout: number) {
        super()
        this.kernel = new nnx.Param(jnp.ones([din, dout]))
        this.features = dout
      }
      call(x: jnp.Array): jnp.Array {
        return x.matmul(this.kernel.value)
      }
    }
    const m = new Linear(2, 3)
    assert.isTrue(m instanceof Linear && m instanceof nnx.Module && nnx.isModule(m))
    assert.deepStrictEqual(m.call(jnp.ones([1, 2])).shape, [1, 3])
    assert.deepStrictEqual(Object.keys(m).sort(), ["features", "kernel"])
    assert.strictEqual(nnx.traceLevel(m), 0)
  })

  it("private fields and methods work through the mutation-checking proxy", () => {
    class Secret extends nnx.Module {
      #hidden = 41
      bump(): number {
        return ++this.#hidden
      }
    }
    assert.strictEqual(new Secret().bump(), 42)
  })
})
