/**
 * nnx.cond / nnx.switch / nnx.whileLoop / nnx.foriLoop over Modules, written from Flax NNX's
 * behaviour (flax 0.12.8): state updates of the taken branch / the loop body propagate, shared
 * references stay shared, the graph structure must be the same in every branch and iteration.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { grad, jnp, nnx } from "effect-nnx"
import { cond, foriLoop, switchCase, whileLoop } from "../../src/transforms/lifted/controlFlow.ts"

class Count extends nnx.Variable<jnp.Array> {
  declare readonly "~kind": { Count: true }
}

class Counter extends nnx.Module {
  count: Count
  constructor() {
    super()
    this.count = new Count(jnp.array(0))
  }
}

class Parent extends nnx.Module {
  child: Counter
  w: nnx.Param<jnp.Array>
  constructor() {
    super()
    this.child = new Counter()
    this.w = new nnx.Param(jnp.ones([2]))
  }
}

const bump = (c: Counter, by: number | jnp.Array = 1): void => {
  c.count.value = c.count.value.add(by)
}

describe("nnx.whileLoop / nnx.foriLoop", () => {
  it("whileLoop: a counter shared in two places of init is updated once per step, seen through both references", () => {
    const counter = new Counter()
    const init = [counter, counter, jnp.array(1)] as const
    type V = readonly [Counter, Counter, jnp.Array]
    const [a, b, x] = whileLoop.sync(
      ([c]: V) => c.count.value.lt(5),
      ([c1, c2, x]: V): V => {
        bump(c1)
        expect(c1).toBe(c2)
        return [c1, c2, x.mul(2)]
      },
      init
    )
    expect(a).toBe(counter)
    expect(b).toBe(counter)
    expect(counter.count.value.tolist()).toBe(5)
    expect(x.tolist()).toBe(32)
  })

  it("foriLoop: a Module and its sub-module keep their sharing; updates through either land once", () => {
    const parent = new Parent()
    const child = parent.child
    type V = readonly [Parent, Counter]
    const init: V = [parent, child]
    const [p, c] = foriLoop.sync(
      0,
      4,
      (i: jnp.Array, [p, c]: V): V => {
        expect(p.child).toBe(c)
        bump(c, i)
        p.w.value = p.w.value.mul(2)
        return [p, c]
      },
      init
    )
    expect(p).toBe(parent)
    expect(c).toBe(child)
    expect(parent.child).toBe(child)
    expect(child.count.value.tolist()).toBe(0 + 1 + 2 + 3)
    expect(parent.w.value.tolist()).toEqual([16, 16])
  })

  it("foriLoop with traced bounds (a whileLoop underneath) gives the same result", () => {
    const counter = new Counter()
    const out = foriLoop.sync(
      jnp.array(2),
      jnp.array(5),
      (i: jnp.Array, c: Counter) => {
        bump(c, i)
        return c
      },
      counter
    )
    expect(out).toBe(counter)
    expect(counter.count.value.tolist()).toBe(2 + 3 + 4)
  })

  it("a body that returns another object or adds state is a typed error; nothing changes outside", () => {
    const counter = new Counter()
    expect(() => foriLoop.sync(0, 3, (_i: jnp.Array, _c: Counter) => new Counter(), counter)).toThrow(nnx.LiftTypeError)
    expect(() =>
      foriLoop.sync(
        0,
        3,
        (_i: jnp.Array, c: Counter & { extra?: nnx.Param<jnp.Array> }) => {
          c.extra = new nnx.Param(jnp.zeros([1]))
          return c
        },
        counter
      )
    ).toThrow(/added init\/extra \(Param\)/)
    expect(() =>
      whileLoop.sync(
        (c: Counter) => c.count.value.lt(3),
        (c: Counter) => {
          c.count.value = jnp.zeros([2], { dtype: "int32" })
          return c
        },
        counter
      )
    ).toThrow(/init\/count \(Count\) is int32\[\] on one side and int32\[2\]/)
    expect("extra" in counter).toBe(false)
    expect(counter.count.value.tolist()).toBe(0)
  })

  it("condFn may read but not change state", () => {
    const counter = new Counter()
    expect(() =>
      whileLoop.sync(
        (c: Counter) => {
          bump(c)
          return c.count.value.lt(3)
        },
        (c: Counter) => c,
        counter
      )
    ).toThrow(/condFn changed the loop value's state/)
  })

  it("a failing body leaves the objects as they were", () => {
    const counter = new Counter()
    expect(() =>
      foriLoop.sync(
        0,
        3,
        (_i: jnp.Array, c: Counter) => {
          bump(c)
          throw new Error("boom")
        },
        counter
      )
    ).toThrow("boom")
    expect(counter.count.value.tolist()).toBe(0)
  })

  it("foriLoop over a Module is reverse-differentiable (core grad, module built inside)", () => {
    class Scale extends nnx.Module {
      w: nnx.Param<jnp.Array>
      constructor(w: jnp.Array) {
        super()
        this.w = new nnx.Param(w)
      }
    }
    const f = (w: jnp.Array): jnp.Array => {
      type V = readonly [Scale, jnp.Array]
      const init: V = [new Scale(w), jnp.array(2, { dtype: "float32" })]
      const [, x] = foriLoop.sync(0, 3, (_i: jnp.Array, [m, x]: V): V => [m, x.mul(m.w.value)], init)
      return x
    }
    // x = 2 w^3, dx/dw = 6 w^2
    expect(f(jnp.array(1.5)).tolist()).toBeCloseTo(6.75, 5)
    expect(grad(f)(jnp.array(1.5)).tolist()).toBeCloseTo(13.5, 4)
  })

  it.effect("the Effect form runs the loop and reports typed errors in the error channel", () =>
    Effect.gen(function* () {
      const counter = new Counter()
      const c = yield* foriLoop(
        0,
        3,
        (_i: jnp.Array, c: Counter) =>
          Effect.sync(() => {
            bump(c)
            return c
          }),
        counter
      )
      expect(c.count.value.tolist()).toBe(3)
      const err = yield* Effect.flip(foriLoop(0, 3, (_i: jnp.Array, _c: Counter) => new Counter(), counter))
      expect(err).toBeInstanceOf(nnx.LiftTypeError)
    })
  )
})

describe("nnx.cond / nnx.switch", () => {
  it("cond: state updates in the taken branch propagate; the other branch's do not", () => {
    const counter = new Counter()
    const up = (c: Counter, x: jnp.Array) => {
      bump(c, 10)
      return x.add(1)
    }
    const down = (c: Counter, x: jnp.Array) => {
      bump(c, -1)
      return x.sub(1)
    }
    expect(cond.sync(true, up, down, counter, jnp.array(5)).tolist()).toBe(6)
    expect(counter.count.value.tolist()).toBe(10)
    expect(cond.sync(jnp.array(false), up, down, counter, jnp.array(5)).tolist()).toBe(4)
    expect(counter.count.value.tolist()).toBe(9)
  })

  it("cond: updating state in one branch only (Flax's nnx.cond example)", () => {
    const counter = new Counter()
    const inc = (c: Counter) => bump(c)
    const noop = (_c: Counter) => undefined
    cond.sync(jnp.array(1).gt(0), inc, noop, counter)
    cond.sync(jnp.array(1).gt(2), inc, noop, counter)
    cond.sync(true, inc, noop, counter)
    expect(counter.count.value.tolist()).toBe(2)
  })

  it("cond keeps shared references and returns the outer objects", () => {
    const parent = new Parent()
    const [p, c] = cond.sync(
      true,
      (p: Parent, c: Counter) => {
        bump(c, 3)
        return [p, c] as const
      },
      (p: Parent, c: Counter) => [p, c] as const,
      parent,
      parent.child
    )
    expect(p).toBe(parent)
    expect(c).toBe(parent.child)
    expect(parent.child.count.value.tolist()).toBe(3)
  })

  it("branches that leave different graph structures are a typed error", () => {
    const counter = new Counter()
    const add = (c: Counter & { extra?: nnx.Param<jnp.Array> }) => {
      c.extra = new nnx.Param(jnp.zeros([1]))
    }
    const noop = (_c: Counter) => undefined
    expect(() => cond.sync(true, add, noop, counter)).toThrow(nnx.LiftTypeError)
    expect(() => cond.sync(true, add, noop, counter)).toThrow(
      /branch trueFn differs from branch falseFn: added .*extra \(Param\)/
    )
    expect("extra" in counter).toBe(false)
  })

  it("switch runs branches[index], clamped, with state updates", () => {
    const counter = new Counter()
    const branches = [0, 1, 2].map((k) => (c: Counter) => {
      bump(c, 10 ** k)
      return jnp.array(k)
    })
    expect(switchCase.sync(1, branches, counter).tolist()).toBe(1)
    expect(switchCase.sync(jnp.array(7), branches, counter).tolist()).toBe(2)
    expect(switchCase.sync(jnp.array(-3), branches, counter).tolist()).toBe(0)
    expect(counter.count.value.tolist()).toBe(10 + 100 + 1)
  })

  it.effect("cond's Effect form carries the branch's failure", () =>
    Effect.gen(function* () {
      const counter = new Counter()
      const err = yield* Effect.flip(
        cond(
          true,
          (_c: Counter) => Effect.fail("no" as const),
          (_c: Counter): Effect.Effect<undefined, "no"> => Effect.succeed(undefined),
          counter
        )
      )
      expect(err).toBe("no")
      expect(counter.count.value.tolist()).toBe(0)
    })
  )
})
