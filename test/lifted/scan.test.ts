/**
 * nnx.scan: Flax NNX's lifted scan, written from its behaviour (flax 0.12.8,
 * flax/nnx/transforms/iteration.py): Carry arguments, scanned and broadcast state, StateAxes,
 * fixed carry structure, state propagation and atomic failure.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import fc from "fast-check"
import { grad, jnp, nnx, random } from "effect-nnx"
import { scan } from "../../src/transforms/lifted/scan.ts"
import { PARTITION_NAME } from "../../src/transforms/lifted/vmap.ts"

const D = 4
const N = 3

class Layer extends nnx.Module {
  w: nnx.Param<jnp.Array>
  b: nnx.Param<jnp.Array>
  constructor(rngs: nnx.Rngs) {
    super()
    this.w = new nnx.Param(random.normal(rngs.stream("params")(), [D, D]).mul(0.5))
    this.b = new nnx.Param(random.normal(rngs.stream("params")(), [D]))
  }
  call(x: jnp.Array): jnp.Array {
    return jnp.tanh(x.matmul(this.w.value).add(this.b.value))
  }
}

const makeStack = (n: number, seed: number): Layer =>
  nnx
    .splitRngs(
      nnx.vmap((rngs: nnx.Rngs) => new Layer(rngs), { inAxes: 0, outAxes: 0 }),
      { splits: n }
    )
    .sync(new nnx.Rngs({ params: seed }))

const close = (a: jnp.Array, b: jnp.Array): void => {
  expect(a.shape).toEqual(b.shape)
  expect(jnp.allclose(a, b, { atol: 1e-5 }).tolist()).toBe(true)
}

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

describe("nnx.scan over a stack of layers", () => {
  it("applies vmapped-initialised layers one after another, like a manual loop", () => {
    const layers = makeStack(N, 0)
    expect(layers.w.value.shape).toEqual([N, D, D])
    const x = random.normal(random.key(1), [2, D])
    const forward = scan((h: jnp.Array, layer: Layer) => [layer.call(h), null] as const, { inAxes: [nnx.Carry, 0] })
    const [y, nothing] = forward.sync(x, layers)
    expect(nothing).toBe(null)
    let h = x
    for (let i = 0; i < N; i++) h = jnp.tanh(h.matmul(layers.w.value.get(i)).add(layers.b.value.get(i)))
    close(y, h)
    // The scanned state comes back stacked, unchanged.
    expect(layers.w.value.shape).toEqual([N, D, D])
  })

  it("outAxes Carry returns only the carry (Flax's forward(x, model) with out_axes=Carry)", () => {
    const layers = makeStack(N, 3)
    const x = random.normal(random.key(2), [D])
    const y = scan((h: jnp.Array, layer: Layer) => layer.call(h), { inAxes: [nnx.Carry, 0], outAxes: nnx.Carry }).sync(
      x,
      layers
    )
    let h = x
    for (let i = 0; i < N; i++) h = jnp.tanh(h.matmul(layers.w.value.get(i)).add(layers.b.value.get(i)))
    close(y, h)
  })

  it("reverse applies the layers last to first; per-layer outputs stay in layer order", () => {
    const layers = makeStack(N, 4)
    const x = random.normal(random.key(5), [D])
    const [y, hs] = scan(
      (h: jnp.Array, layer: Layer) => {
        const next = layer.call(h)
        return [next, next] as const
      },
      { inAxes: [nnx.Carry, 0], reverse: true }
    ).sync(x, layers)
    let h = x
    const manual: Array<jnp.Array> = []
    for (let i = N - 1; i >= 0; i--) {
      h = jnp.tanh(h.matmul(layers.w.value.get(i)).add(layers.b.value.get(i)))
      manual[i] = h
    }
    close(y, h)
    close(hs, jnp.stack(manual))
  })

  it("gradients flow through scan (core grad over a function that builds the modules inside)", () => {
    const x = random.normal(random.key(7), [D])
    const w0 = random.normal(random.key(8), [N, D, D]).mul(0.5)
    class Stack extends nnx.Module {
      w: nnx.Param<jnp.Array>
      constructor(w: jnp.Array) {
        super()
        this.w = new nnx.Param(w)
      }
    }
    const viaScan = (w: jnp.Array): jnp.Array => {
      const stack = new Stack(w)
      const y = scan((h: jnp.Array, s: Stack) => jnp.tanh(h.matmul(s.w.value)), {
        inAxes: [nnx.Carry, 0],
        outAxes: nnx.Carry
      }).sync(x, stack)
      return y.sum()
    }
    const manual = (w: jnp.Array): jnp.Array => {
      let h = x
      for (let i = 0; i < N; i++) h = jnp.tanh(h.matmul(w.get(i)))
      return h.sum()
    }
    close(viaScan(w0), manual(w0))
    close(grad(viaScan)(w0), grad(manual)(w0))
  })
})

describe("nnx.scan state", () => {
  class Stats extends nnx.Module {
    w: nnx.Param<jnp.Array>
    total: nnx.BatchStat<jnp.Array>
    constructor(w: jnp.Array) {
      super()
      this.w = new nnx.Param(w)
      this.total = new nnx.BatchStat(jnp.zeros([D]))
    }
  }

  it("StateAxes: Param broadcast, BatchStat carried across iterations", () => {
    const m = new Stats(jnp.arange(D, undefined, undefined, { dtype: "float32" }))
    const xs = random.normal(random.key(3), [5, D])
    const axes = new nnx.StateAxes([
      [nnx.Param, null],
      [nnx.BatchStat, nnx.Carry]
    ])
    const ys = scan(
      (s: Stats, x: jnp.Array) => {
        const y = x.mul(s.w.value)
        s.total.value = s.total.value.add(y)
        return y
      },
      { inAxes: [axes, 0], outAxes: 0 }
    ).sync(m, xs)
    const expectedYs = xs.mul(jnp.arange(D, undefined, undefined, { dtype: "float32" }))
    close(ys, expectedYs)
    close(m.total.value, expectedYs.sum(0))
    close(m.w.value, jnp.arange(D, undefined, undefined, { dtype: "float32" }))
  })

  it("StateAxes: Param scanned, BatchStat carried; scanned state written inside comes back stacked", () => {
    const m = new Stats(jnp.ones([5, D]))
    const xs = jnp.arange(5 * D, undefined, undefined, { dtype: "float32" }).reshape(5, D)
    const axes = new nnx.StateAxes<nnx.AxisOrCarry>([
      [nnx.Param, 0],
      [nnx.BatchStat, nnx.Carry]
    ])
    scan(
      (s: Stats, x: jnp.Array) => {
        s.total.value = s.total.value.add(x)
        s.w.value = s.w.value.mul(x)
        return null
      },
      { inAxes: [axes, 0], outAxes: 0 }
    ).sync(m, xs)
    close(m.w.value, xs)
    close(m.total.value, xs.sum(0))
  })

  it("a carried Module keeps its identity and sees every iteration's update", () => {
    const counter = new Counter()
    const countVar = counter.count
    const [c, ys] = scan((c: Counter, x: jnp.Array) => {
      c.count.value = c.count.value.add(1)
      return [c, x.mul(c.count.value)] as const
    }).sync(counter, jnp.ones([4]))
    expect(c).toBe(counter)
    expect(counter.count).toBe(countVar)
    expect(counter.count.value.tolist()).toBe(4)
    expect(ys.tolist()).toEqual([1, 2, 3, 4])
  })

  it("length drives a scan with nothing to scan over; outAxes 1 stacks on axis 1", () => {
    const [total, partial] = scan((c: jnp.Array) => [c.add(1), jnp.stack([c, c.mul(2)])] as const, {
      inAxes: [nnx.Carry],
      outAxes: [nnx.Carry, 1],
      length: 3
    }).sync(jnp.array(0))
    expect(total.tolist()).toBe(3)
    expect(partial.tolist()).toEqual([
      [0, 1, 2],
      [0, 2, 4]
    ])
  })

  it("null-broadcast Arrays reach every iteration unchanged", () => {
    const [c] = scan((c: jnp.Array, b: jnp.Array, x: jnp.Array) => [c.add(b.mul(x)), null] as const, {
      inAxes: [nnx.Carry, null, 0]
    }).sync(jnp.zeros([3]), jnp.full([3], 2), jnp.arange(12, undefined, undefined, { dtype: "float32" }).reshape(4, 3))
    expect(c.tolist()).toEqual([36, 44, 52])
  })
})

describe("nnx.scan errors", () => {
  it("a carry whose structure changes is a typed error naming the path", () => {
    const counter = new Counter()
    const f = scan((c: Counter & { extra?: nnx.Param<jnp.Array> }, x: jnp.Array) => {
      c.extra = new nnx.Param(x)
      return [c, x] as const
    })
    const exit = Effect.runSyncExit(f(counter, jnp.ones([3])))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(() => f.sync(counter, jnp.ones([3]))).toThrow(nnx.LiftTypeError)
    expect(() => f.sync(counter, jnp.ones([3]))).toThrow(/carry's structure changed.*added args\[0\]\/extra \(Param\)/)
    expect("extra" in counter).toBe(false)
    expect(counter.count.value.tolist()).toBe(0)
  })

  it("a carry that changes shape is a typed error naming the path", () => {
    const f = scan((c: jnp.Array, x: jnp.Array) => [jnp.stack([c, x]), null] as const)
    expect(() => f.sync(jnp.array(0), jnp.ones([3]))).toThrow(/carry at args\[0\] changed type/)
  })

  it("returning another object as the carry is an error (carry references must be the same)", () => {
    const f = scan((_c: Counter, x: jnp.Array) => [new Counter(), x] as const)
    expect(() => f.sync(new Counter(), jnp.ones([3]))).toThrow(/Carry references must be the same between iterations/)
  })

  it("broadcast state written inside the loop is carried across iterations (Flax 0.12.8 with graph_updates=False)", () => {
    const counter = new Counter()
    const f = scan(
      (c: Counter, x: jnp.Array) => {
        c.count.value = c.count.value.add(1)
        return x
      },
      { inAxes: [null, 0], outAxes: 0 }
    )
    f.sync(counter, jnp.ones([3]))
    expect(counter.count.value.tolist()).toBe(3)
  })

  it("Carry on one side only, nested Carry, and null in outAxes are rejected when the scan is made (as in Flax)", () => {
    const id = (c: jnp.Array, x: jnp.Array) => [c, x] as const
    // @ts-expect-error Carry on one side: refused by the compiler, and at run time for calls it cannot see
    expect(() => scan(id, { inAxes: [nnx.Carry, 0], outAxes: 0 })).toThrow(/the other must also have Carry/)
    expect(() =>
      // @ts-expect-error nested Carry
      scan((c: { a: jnp.Array }, x: jnp.Array) => [c, x] as const, { inAxes: [{ a: nnx.Carry }, 0] })
    ).toThrow(/cannot be nested/)
    // @ts-expect-error null in outAxes
    expect(() => scan(id, { inAxes: [nnx.Carry, 0], outAxes: [nnx.Carry, null] })).toThrow(
      /Cannot broadcast output state/
    )
  })

  it("a failing f leaves every outer object exactly as it was (atomic)", () => {
    const layers = makeStack(N, 9)
    const before = layers.w.value
    const counter = new Counter()
    const f = scan(
      (c: Counter, layer: Layer) => {
        c.count.value = c.count.value.add(1)
        layer.w.value = layer.w.value.mul(0)
        throw new Error("boom")
      },
      { inAxes: [nnx.Carry, 0] }
    )
    expect(() => f.sync(counter, layers)).toThrow("boom")
    expect(layers.w.value).toBe(before)
    expect(counter.count.value.tolist()).toBe(0)
  })

  it.effect("f may return an Effect; its failure lands in the error channel", () =>
    Effect.gen(function* () {
      const counter = new Counter()
      const ok = scan((c: Counter, x: jnp.Array) =>
        Effect.sync(() => {
          c.count.value = c.count.value.add(x)
          return [c, null] as const
        })
      )
      const [c] = yield* ok(counter, jnp.ones([3], { dtype: "int32" }))
      expect(c.count.value.tolist()).toBe(3)
      const bad = scan((_c: Counter, _x: jnp.Array) => Effect.fail("nope" as const))
      const err = yield* Effect.flip(bad(counter, jnp.ones([3])))
      expect(err).toBe("nope")
      expect(counter.count.value.tolist()).toBe(3)
    })
  )
})

describe("nnx.scan properties and metadata", () => {
  it("property: a Module-carried running sum equals a manual loop, forward and reverse", () => {
    class Acc extends nnx.Module {
      sum: nnx.BatchStat<jnp.Array>
      constructor() {
        super()
        this.sum = new nnx.BatchStat(jnp.zeros([2]))
      }
    }
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: -50, max: 50 })), {
          minLength: 1,
          maxLength: 6
        }),
        fc.boolean(),
        (rows, reverse) => {
          const acc = new Acc()
          const xs = jnp.array(rows, { dtype: "float32" })
          const [, partial] = scan(
            (a: Acc, x: jnp.Array) => {
              a.sum.value = a.sum.value.add(x)
              return [a, a.sum.value] as const
            },
            { reverse }
          ).sync(acc, xs)
          const order = reverse ? [...rows.keys()].reverse() : [...rows.keys()]
          let s = [0, 0]
          const expected: Array<Array<number>> = []
          for (const i of order) {
            s = [s[0]! + rows[i]![0], s[1]! + rows[i]![1]]
            expected[i] = s
          }
          expect(partial.tolist()).toEqual(expected)
          expect(acc.sum.value.tolist()).toEqual(s)
        }
      ),
      { numRuns: 25 }
    )
  })

  it("transformMetadata removes the scanned axis's partition name inside and restores it outside", () => {
    class W extends nnx.Module {
      p: nnx.Param<jnp.Array>
      constructor() {
        super()
        this.p = new nnx.Param(jnp.ones([N, 2, D]), { shardingNames: ["layers", "a", null] })
      }
    }
    const w = new W()
    const seen: Array<unknown> = []
    scan(
      (h: jnp.Array, m: W) => {
        seen.push(m.p.shardingNames, m.p.value.shape)
        return [h, null] as const
      },
      { inAxes: [nnx.Carry, 0], transformMetadata: { [PARTITION_NAME]: "layers" } }
    ).sync(jnp.zeros([2]), w)
    expect(seen).toEqual([
      ["a", null],
      [2, D]
    ])
    expect(w.p.shardingNames).toEqual(["layers", "a", null])
    expect(w.p.value.shape).toEqual([N, 2, D])
  })
})
