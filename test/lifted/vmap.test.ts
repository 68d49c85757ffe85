/**
 * nnx.vmap and nnx.jit semantics, written from Flax's behaviour: StateAxes over params and batch
 * stats, stacked layers from splitRngs + vmap, identity through swaps and new shared references,
 * retracing on structure change, Effect-returning functions, and typed errors.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { expect } from "vitest"
import { jnp, nnx, random } from "effect-nnx"

class Linear extends nnx.Module {
  w: nnx.Param<jnp.Array>
  b: nnx.Param<jnp.Array>
  constructor(din: number, dout: number, rngs: nnx.Rngs<"params">) {
    super()
    this.w = new nnx.Param(random.normal(rngs.params(), [din, dout]))
    this.b = new nnx.Param(jnp.zeros([dout]))
  }
  call(x: jnp.Array): jnp.Array {
    return x.matmul(this.w.value).add(this.b.value)
  }
}

class Norm extends nnx.Module {
  scale: nnx.Param<jnp.Array>
  mean: nnx.BatchStat<jnp.Array>
  constructor(n: number) {
    super()
    this.scale = new nnx.Param(jnp.ones([n]))
    this.mean = new nnx.BatchStat(jnp.zeros([n]))
  }
}

describe("nnx.vmap", () => {
  it("StateAxes: Params mapped, BatchStats broadcast and updated with batch-independent values", () => {
    const norm = new Norm(3)
    const axes = new nnx.StateAxes([
      [nnx.Param, 0],
      [nnx.BatchStat, null]
    ])
    norm.scale.value = jnp.reshape(jnp.arange(12).astype("float32"), [4, 3])
    const y = nnx
      .vmap(
        (n: Norm, x: jnp.Array) => {
          n.mean.value = n.mean.value.add(1)
          return x.mul(n.scale.value)
        },
        { inAxes: [axes, 0] }
      )
      .sync(norm, jnp.ones([4, 3]))
    expect(y.tolist()).toEqual(norm.scale.value.tolist())
    expect(norm.mean.value.tolist()).toEqual([1, 1, 1])
    expect(norm.scale.value.shape).toEqual([4, 3])
  })

  it("a batched write to broadcast state is a LiftTypeError naming the path", () => {
    const norm = new Norm(3)
    const axes = new nnx.StateAxes([
      [nnx.Param, null],
      [nnx.BatchStat, null]
    ])
    const f = nnx.vmap(
      (n: Norm, x: jnp.Array) => {
        n.mean.value = x
        return x
      },
      { inAxes: [axes, 0] }
    )
    expect(() => f.sync(norm, jnp.ones([4, 3]))).toThrow(/BatchStat at 'mean' is broadcast/)
    expect(norm.mean.value.tolist()).toEqual([0, 0, 0])
  })

  it("splitRngs + vmap creates a stack of layers with different weights", () => {
    const rngs = new nnx.Rngs({ params: 0 })
    const make = nnx.splitRngs(
      nnx.vmap((r: nnx.Rngs<"params">) => new Linear(2, 3, r), { inAxes: 0, outAxes: 0 }),
      { splits: 5 }
    )
    const stack = make.sync(rngs)
    expect(stack.w.value.shape).toEqual([5, 2, 3])
    const w = stack.w.value
    expect(jnp.allclose(w.get(0), w.get(1)).item()).toBe(false)
    expect(rngs.params.key.value.shape).toEqual([])
    expect(rngs.params.count.value.item()).toBe(1)
  })

  it("identity: swapped attributes, new shared references and returned inputs are the original objects", () => {
    class Pair extends nnx.Module {
      a: Linear
      b: Linear
      constructor(rngs: nnx.Rngs<"params">) {
        super()
        this.a = new Linear(2, 2, rngs)
        this.b = new Linear(2, 2, rngs)
      }
    }
    const p = new Pair(new nnx.Rngs({ params: 1 }))
    const { a, b } = p
    const out = nnx
      .vmap(
        (q: Pair) => {
          const t = q.a
          q.a = q.b
          q.b = t
          ;(q as unknown as { c: Linear }).c = q.a
          return q.b
        },
        { inAxes: null, outAxes: null, axisSize: 2 }
      )
      .sync(p)
    expect(p.a).toBe(b)
    expect(p.b).toBe(a)
    expect((p as unknown as { c: Linear }).c).toBe(b)
    expect(out).toBe(a)
  })

  it("cycles and new sub-modules made inside come out, with the cycle intact", () => {
    const norm = new Norm(2)
    ;(norm as unknown as { self: Norm }).self = norm
    nnx
      .jit((n: Norm) => {
        ;(n as unknown as { child: Norm }).child = new Norm(2)
        ;(n as unknown as { child: { parent: Norm } }).child.parent = n
        n.mean.value = n.mean.value.add(1)
      })
      .sync(norm)
    const child = (norm as unknown as { child: Norm & { parent: Norm } }).child
    expect((norm as unknown as { self: Norm }).self).toBe(norm)
    expect(child.parent).toBe(norm)
    expect(child.scale.value.tolist()).toEqual([1, 1])
    expect(norm.mean.value.tolist()).toEqual([1, 1])
  })

  it("f may return an Effect; its failure is a typed failure and nothing changes", () =>
    Effect.gen(function* () {
      const norm = new Norm(2)
      class Boom extends Error {}
      const ok = yield* nnx.vmap((n: Norm, x: jnp.Array) => Effect.succeed(x.mul(n.scale.value)), {
        inAxes: [null, 0]
      })(norm, jnp.ones([3, 2]))
      assert.deepStrictEqual(ok.shape, [3, 2])
      const failing = nnx.vmap(
        (n: Norm, _x: jnp.Array) => {
          n.mean.value = n.mean.value.add(5)
          return Effect.fail(new Boom("no"))
        },
        { inAxes: [null, 0] }
      )
      const error = yield* Effect.flip(failing(norm, jnp.ones([3, 2])))
      assert.instanceOf(error, Boom)
      assert.deepStrictEqual(norm.mean.value.tolist(), [0, 0])
    }).pipe(Effect.runSync))

  it("a StateAxes on an Array argument is refused at run time too (for JavaScript callers)", () => {
    const axes = new nnx.StateAxes([[nnx.Param, 0]])
    const f = nnx.vmap((x: jnp.Array) => x, { inAxes: [axes as never] })
    expect(() => f.sync(jnp.ones([2, 2]))).toThrow(/StateAxes can only be used on graph nodes/)
  })
})

describe("nnx.jit", () => {
  it("retraces when the graph structure changes, not otherwise", () => {
    const norm = new Norm(2)
    const step = nnx.jit((n: Norm, x: jnp.Array) => {
      n.mean.value = n.mean.value.add(x)
      return n.mean.value.sum()
    })
    step.sync(norm, jnp.ones([2]))
    step.sync(norm, jnp.ones([2]))
    expect(step.traceCount).toBe(1)
    expect(norm.mean.value.tolist()).toEqual([2, 2])
    ;(norm as unknown as { extra: nnx.Param<jnp.Array> }).extra = new nnx.Param(jnp.ones([1]))
    step.sync(norm, jnp.ones([2]))
    expect(step.traceCount).toBe(2)
    const grow = nnx.jit((n: Norm) => {
      ;(n as unknown as { added: nnx.BatchStat<jnp.Array> }).added = new nnx.BatchStat(n.mean.value.mul(2))
    })
    grow.sync(norm)
    expect((norm as unknown as { added: nnx.BatchStat<jnp.Array> }).added.value.tolist()).toEqual([6, 6])
  })
})
