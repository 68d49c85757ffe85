/**
 * Issue 10, items 4, 6 and 8, each case checked against Flax NNX 0.12.8 on JAX 0.10.2 (the values
 * and refusals in the comments are what Flax printed for the same program):
 *
 * - item 4: `nnx.cond` with a batched predicate inside `nnx.vmap` keeps untouched broadcast state
 *   (JAX forwards branch outputs that are operands); broadcast state written inside `nnx.scan` is
 *   carried through the iterations (Flax's tree mode, `graph_updates=False`);
 * - item 6: traces compare by identity; graph nodes from another trace are refused by `nnx.vmap`,
 *   `nnx.scan` and `nnx.jit`; mutation from another trace is refused under core transforms too;
 * - item 8: `map`, `recursiveMap`, `findDuplicates`, `cachedPartial`, `jitPartial`, integer
 *   `nondiffArgnums` of `customVjp`, `inShardings` without entries for static arguments.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { grad, jit, jnp, lax, makeJaxpr, nnx, random, vmap } from "effect-nnx"

const f32 = (x: number | ReadonlyArray<number>) => jnp.array(x as number, { dtype: "float32" })

/** The message of what `f` throws (asserting that it throws). */
const thrown = (f: () => unknown): Error & { readonly _tag?: string; readonly path?: string } => {
  try {
    f()
  } catch (e) {
    return e as Error & { readonly _tag?: string }
  }
  return assert.fail("expected an error")
}

class Stats extends nnx.Module {
  w = new nnx.Param(f32(2))
  c = new nnx.BatchStat(f32(0))
}

class Counter extends nnx.Module {
  count = new nnx.BatchStat(jnp.array(0))
  w = new nnx.Param(f32(2))
}

describe("item 4: nnx.cond under nnx.vmap with a batched predicate", () => {
  it("a broadcast Module the branches only read stays broadcast (Flax: y [2, 4, 6], w 2, c 0)", () => {
    const m = new Stats()
    const f = nnx.vmap(
      (m: Stats, x: jnp.Array) =>
        nnx.cond.sync(
          x.gt(0),
          (m: Stats, x: jnp.Array) => x.mul(m.w.value),
          (m: Stats, x: jnp.Array) => x.neg().mul(m.w.value),
          m,
          x
        ),
      { inAxes: [null, 0] }
    )
    assert.deepStrictEqual(f.sync(m, f32([1, -2, 3])).tolist(), [2, 4, 6])
    assert.strictEqual(m.w.value.item(), 2)
    assert.strictEqual(m.c.value.item(), 0)
  })

  it("a broadcast Variable written in the branches is refused, even with the same write in both (Flax: ValueError, batched output for axis None)", () => {
    const m = new Stats()
    const t = (m: Stats, x: jnp.Array) => {
      m.c.value = m.c.value.add(1)
      return x
    }
    const f = nnx.vmap((m: Stats, x: jnp.Array) => nnx.cond.sync(x.gt(0), t, t, m, x), { inAxes: [null, 0] })
    const e = thrown(() => f.sync(m, f32([1, -2, 3])))
    assert.strictEqual(e._tag, "LiftTypeError")
    assert.match(e.message, /the BatchStat at 'c' is broadcast/)
    assert.strictEqual(m.c.value.item(), 0)
  })

  it("with an unbatched predicate a broadcast write is fine (Flax: c 1)", () => {
    const m = new Stats()
    const f = nnx.vmap(
      (m: Stats, x: jnp.Array) =>
        nnx.cond.sync(
          true,
          (m: Stats, x: jnp.Array) => {
            m.c.value = m.c.value.add(1)
            return x
          },
          (_m: Stats, x: jnp.Array) => x.neg(),
          m,
          x
        ),
      { inAxes: [null, 0] }
    )
    assert.deepStrictEqual(f.sync(m, f32([1, -2, 3])).tolist(), [1, -2, 3])
    assert.strictEqual(m.c.value.item(), 1)
  })

  it("lax.cond forwards an operand every branch returns untouched, as JAX (jaxpr `in (e, b)`; vmap keeps it unbatched)", () => {
    const branches = (second: (w: jnp.Array) => jnp.Array) => (x: jnp.Array, w: jnp.Array) =>
      lax.cond(
        x.gt(0),
        (x: jnp.Array, w: jnp.Array) => [x.mul(w), w] as const,
        (x: jnp.Array, w: jnp.Array) => [x.neg().mul(w), second(w)] as const,
        x,
        w
      )
    const f = branches((w) => w)
    assert.match(String(makeJaxpr(f)(f32(1), f32(2))), /in \(e, b\) \}$/)
    const [y, w] = vmap(f, { inAxes: [0, null], outAxes: [0, null] })(f32([1, -2]), f32(2))
    assert.deepStrictEqual([y.tolist(), w.tolist()], [[2, 4], 2])
    // JAX: ValueError "at vmap out_axes[1], got axis spec None but output was batched on axis 0"
    const g = branches((w) => w.add(0))
    assert.strictEqual(
      thrown(() => vmap(g, { inAxes: [0, null], outAxes: [0, null] })(f32([1, -2]), f32(2)))._tag,
      "VmapError"
    )
  })
})

describe("item 4: broadcast (null) state written inside nnx.scan is carried (Flax graph_updates=False)", () => {
  it("each iteration sees the previous write and the last one is kept (Flax: y [2, 2, 2], count 3)", () => {
    const c = new Counter()
    const f = nnx.scan(
      (c: Counter, x: jnp.Array) => {
        c.count.value = c.count.value.add(1)
        return x.mul(c.w.value)
      },
      { inAxes: [null, 0], outAxes: 0 }
    )
    assert.deepStrictEqual(f.sync(c, jnp.ones([3])).tolist(), [2, 2, 2])
    assert.strictEqual(c.count.value.item(), 3)
    f.sync(c, jnp.ones([5]))
    assert.strictEqual(c.count.value.item(), 8)
  })

  it("a write depending on the scanned input (Flax: count 3, int32 no longer weak)", () => {
    const c = new Counter()
    const f = nnx.scan(
      (c: Counter, x: jnp.Array) => {
        c.count.value = c.count.value.add(x.astype("int32"))
        return x
      },
      { inAxes: [null, 0], outAxes: 0 }
    )
    assert.deepStrictEqual(f.sync(c, f32([0, 1, 2])).tolist(), [0, 1, 2])
    assert.strictEqual(c.count.value.item(), 3)
    assert.strictEqual(c.count.value.dtype, "int32")
    assert.isFalse(c.count.value.weakType)
  })

  it("beside a Carry, forward and reverse (Flax: h 6, ys [1, 2, 3], count 3; reverse ys [10, 5, 2], count 10)", () => {
    const c = new Counter()
    const f = nnx.scan(
      (h: jnp.Array, c: Counter, x: jnp.Array) => {
        c.count.value = c.count.value.add(1)
        return [h.add(x.mul(c.count.value)), c.count.value] as const
      },
      { inAxes: [nnx.Carry, null, 0], outAxes: [nnx.Carry, 0] }
    )
    const [h, ys] = f.sync(f32(0), c, jnp.ones([3]))
    assert.deepStrictEqual([h.item(), ys.tolist(), c.count.value.item()], [6, [1, 2, 3], 3])
    const r = new Counter()
    const g = nnx.scan(
      (h: jnp.Array, c: Counter, x: jnp.Array) => {
        c.count.value = c.count.value.mul(2).add(x.astype("int32"))
        return [h, c.count.value] as const
      },
      { inAxes: [nnx.Carry, null, 0], outAxes: [nnx.Carry, 0], reverse: true }
    )
    const [, ysr] = g.sync(f32(0), r, f32([0, 1, 2]))
    assert.deepStrictEqual([ysr.tolist(), r.count.value.item()], [[10, 5, 2], 10])
  })

  it("differentiates through the carried write (Flax: d/dw 22)", () => {
    const loss = (w: jnp.Array, x: jnp.Array) => {
      const c = new Counter()
      c.w.value = w
      const f = nnx.scan(
        (h: jnp.Array, c: Counter, x: jnp.Array) => {
          c.w.value = c.w.value.mul(2)
          return [h.add(x.mul(c.w.value)), null] as const
        },
        { inAxes: [nnx.Carry, null, 0], outAxes: [nnx.Carry, 0] }
      )
      const [h] = f.sync(f32(0), c, x)
      return h.add(c.w.value)
    }
    assert.closeTo(grad(loss)(f32(2), jnp.ones([3])).item() as number, 22, 1e-5)
  })

  it("a write of another shape, or a Variable added to broadcast state, is refused and changes nothing (Flax: TypeError carry types differ; error on the new leaf)", () => {
    const c = new Counter()
    const shape = nnx.scan(
      (c: Counter, x: jnp.Array) => {
        c.count.value = jnp.zeros([2], { dtype: "int32" })
        return x
      },
      { inAxes: [null, 0], outAxes: 0 }
    )
    assert.match(
      thrown(() => shape.sync(c, jnp.ones([3]))).message,
      /broadcast state at args\[0\]\/count \(BatchStat\) was written with int32\[2\] but is int32\[\]/
    )
    const added = nnx.scan(
      (c: Counter, x: jnp.Array) => {
        ;(c as unknown as Record<string, unknown>)["extra"] = new nnx.Param(f32(1))
        return x
      },
      { inAxes: [null, 0], outAxes: 0 }
    )
    assert.match(
      thrown(() => added.sync(c, jnp.ones([3]))).message,
      /args\[0\]\/extra \(Param\) is broadcast .* was added inside the loop/
    )
    assert.strictEqual(c.count.value.item(), 0)
    assert.isFalse("extra" in c)
  })
})

class Holder extends nnx.Module {
  w = new nnx.Param(jnp.array(1))
  sub = new Stats()
}

describe("item 6: graph nodes and traces", () => {
  it("nnx.vmap refuses to return a closure-captured Module (Flax: Cannot extract graph node from different trace level)", () => {
    const m = new Holder()
    const e = thrown(() => nnx.vmap((_x: jnp.Array) => m).sync(jnp.ones([3])))
    assert.strictEqual(e._tag, "LiftTypeError")
    assert.match(e.message, /^nnx\.vmap: Cannot extract graph node from different trace level: the Holder at out /)
    assert.strictEqual(e.path, "out")
    // a captured Variable nested in the output, and one stored into an argument
    assert.match(
      thrown(() => nnx.vmap((x: jnp.Array) => [x, { k: m.w }]).sync(jnp.ones([3]))).message,
      /the Param at out\[1\]\['k'\]/
    )
    const stored = thrown(() =>
      nnx
        .vmap(
          (a: Holder, x: jnp.Array) => {
            ;(a as unknown as Record<string, unknown>)["o"] = m.sub
            return x
          },
          { inAxes: [null, 0] }
        )
        .sync(new Holder(), jnp.ones([3]))
    )
    assert.match(stored.message, /the Stats at args\[0\]\/o /)
  })

  it("nnx.jit and nnx.scan refuse it too; returning an argument is fine (Flax: the same)", () => {
    const m = new Holder()
    assert.match(
      thrown(() => nnx.jit((_x: jnp.Array) => m).sync(jnp.ones([3]))).message,
      /^nnx\.jit: Cannot extract graph node from different trace level: the Holder at out /
    )
    assert.match(
      thrown(() => nnx.scan((c: jnp.Array, _x: jnp.Array) => [c, m] as const).sync(f32(0), jnp.ones([3]))).message,
      /^nnx\.scan: Cannot extract graph node .* the Holder at out\[1\]/
    )
    const [back] = nnx
      .vmap((a: Holder, x: jnp.Array) => [a, x] as const, { inAxes: [null, 0], outAxes: [null, 0] })
      .sync(m, jnp.ones([3]))
    assert.strictEqual(back, m)
  })

  it.effect(
    "drawing from an outer Rngs inside the core jit or vmap is a TraceContextError; an Rngs made inside draws (Flax: 1.5319374)",
    () =>
      Effect.gen(function* () {
        const rngs = new nnx.Rngs(0)
        const e = thrown(() => jit((x: jnp.Array) => x.add(random.normal(rngs.stream("params")(), [])))(f32(1)))
        assert.instanceOf(e, nnx.TraceContextError)
        assert.strictEqual(
          e.message,
          "Cannot mutate RngCount from a different trace level (https://flax.readthedocs.io/en/latest/api_reference/flax.errors.html#flax.errors.TraceContextError)"
        )
        assert.strictEqual(rngs.stream("params").count.value.item(), 0)
        assert.instanceOf(
          thrown(() => vmap((x: jnp.Array) => x.add(random.normal(rngs.stream("params")(), [])))(jnp.ones([2]))),
          nnx.TraceContextError
        )
        const y = jit((x: jnp.Array) => x.add(random.normal(new nnx.Rngs(1).stream("params")(), [])))(f32(1))
        assert.closeTo(y.item() as number, 1.5319374, 1e-6)
        // reading an outer Variable is fine (Flax: 2.0)
        const v = new nnx.Param(f32(1))
        assert.strictEqual(jit((x: jnp.Array) => x.add(v.value))(f32(1)).item(), 2)
        // the same failure as an Effect, through a lifted transform's error channel
        const flipped = yield* Effect.flip(
          nnx.vmap((x: jnp.Array) => x.add(random.normal(rngs.stream("params")(), [])))(jnp.ones([2]))
        )
        assert.strictEqual(flipped._tag, "TraceContextError")
      })
  )

  it("a Variable made inside one nnx.vmap and leaked is foreign to a later nnx.vmap at the same depth, and outside (Flax: TraceContextError; as an argument, Cannot extract)", () => {
    const leaked: Array<nnx.Param<jnp.Array>> = []
    nnx
      .vmap((x: jnp.Array) => {
        leaked.push(new nnx.Param(jnp.array(0)))
        return x
      })
      .sync(jnp.ones([3]))
    const v = leaked[0]!
    assert.strictEqual(v.traceLevel, nnx.traceLevel(v))
    const later = thrown(() =>
      nnx
        .vmap((x: jnp.Array) => {
          v.value = jnp.array(5)
          return x
        })
        .sync(jnp.ones([3]))
    )
    assert.instanceOf(later, nnx.TraceContextError)
    assert.match((later as unknown as nnx.TraceContextError).hint, /another transform at the same level/)
    assert.instanceOf(
      thrown(() => {
        v.value = jnp.array(5)
      }),
      nnx.TraceContextError
    )
    const asArgument = thrown(() =>
      nnx.vmap((p: nnx.Param<jnp.Array>, x: jnp.Array) => x.add(p.value), { inAxes: [null, 0] }).sync(v, jnp.ones([3]))
    )
    assert.match(
      asArgument.message,
      /^nnx\.vmap: Cannot extract graph node from different trace level: the Param at args\[0\]/
    )
  })
})

class Block extends nnx.Module {
  w: nnx.Param<jnp.Array>
  n = 3
  constructor(v: number) {
    super()
    this.w = new nnx.Param(jnp.full([2], v, { dtype: "float32" }))
  }
}

class Net extends nnx.Module {
  a = new Block(1)
  b = new Block(2)
  c: Block
  layers: Array<Block | nnx.Param<jnp.Array>>
  stat = new nnx.BatchStat(f32(0))
  constructor() {
    super()
    this.c = this.a
    this.layers = [new Block(3), this.b.w]
  }
}

describe("item 8: nnx.map, nnx.recursiveMap, nnx.findDuplicates", () => {
  it("map visits each State leaf once and merges a new graph, sharing kept (Flax: a/w, b/w, layers/0/w, stat; a.w [2, 2]; c is a)", () => {
    const net = new Net()
    const visited: Array<string> = []
    const m2 = nnx.map((path, leaf) => {
      visited.push(`${path.join("/")}:${(leaf as nnx.Variable<unknown>).kind}`)
      return (leaf as nnx.Variable<unknown>).kind === "Param"
        ? (leaf as nnx.Param<jnp.Array>).replace(((leaf as nnx.Variable<unknown>).value as jnp.Array).add(1))
        : leaf
    }, net)
    assert.deepStrictEqual(visited, ["a/w:Param", "b/w:Param", "layers/0/w:Param", "stat:BatchStat"])
    assert.deepStrictEqual(
      [m2.a.w.value.tolist(), m2.b.w.value.tolist(), (m2.layers[0] as Block).w.value.tolist()],
      [
        [2, 2],
        [3, 3],
        [4, 4]
      ]
    )
    assert.isTrue(m2 !== net && m2 instanceof Net && m2.c === m2.a && m2.layers[1] === m2.b.w && m2.a.w !== net.a.w)
    assert.deepStrictEqual(net.a.w.value.tolist(), [1, 1])
    // a bare Array keeps the leaf's kind; a Variable maps to a Variable (Flax: Param [0, 0]; Param [2, 2])
    const zeroed = nnx.map((_p, leaf) => ((leaf as nnx.Variable<unknown>).value as jnp.Array).mul(0), new Block(1))
    assert.isTrue(zeroed.w instanceof nnx.Param)
    assert.deepStrictEqual(zeroed.w.value.tolist(), [0, 0])
    const doubled = nnx.map(
      (_p, leaf) =>
        (leaf as nnx.Variable<unknown>).replace(((leaf as nnx.Variable<unknown>).value as jnp.Array).mul(2)),
      new nnx.Param(jnp.ones([2]))
    )
    assert.isTrue(doubled instanceof nnx.Param)
    assert.deepStrictEqual(doubled.value.tolist(), [2, 2])
  })

  it("recursiveMap calls f children first, once per shared node, and rebuilds around the results (Flax: the same order; a shared node not revisited)", () => {
    const net = new Net()
    const calls: Array<string> = []
    const same = nnx.recursiveMap((path, n) => {
      calls.push(`${path.join("/")}:${n instanceof Object ? n.constructor.name : typeof n}`)
      return n
    }, net)
    assert.deepStrictEqual(calls, [
      "a/n:number",
      "a/w:Param",
      "a:Block",
      "b/n:number",
      "b/w:Param",
      "b:Block",
      "layers/0/n:number",
      "layers/0/w:Param",
      "layers/0:Block",
      "layers:Array",
      "stat:BatchStat",
      ":Net"
    ])
    // a new structure holding the same Variables (Flax: new is net False, new.a is new.c, new.a.w is net.a.w)
    assert.isTrue(
      same !== net && same.a !== net.a && same.a === same.c && same.a.w === net.a.w && same.layers[1] === same.b.w
    )
    // replacing Modules and Variables (Flax: a -> Param, a is c; a.w [10, 10], b.w [20, 20])
    const flat = nnx.recursiveMap<Net, Record<string, unknown>>(
      (_p, n) => (n instanceof Block ? new nnx.Param(f32(0)) : n),
      net
    )
    assert.isTrue(flat["a"] instanceof nnx.Param && flat["a"] === flat["c"] && flat["a"] !== flat["b"])
    const scaled = nnx.recursiveMap(
      (_p, n) => (n instanceof nnx.Param ? new nnx.Param((n.value as jnp.Array).mul(10)) : n),
      net
    )
    assert.deepStrictEqual(
      [scaled.a.w.value.tolist(), scaled.b.w.value.tolist()],
      [
        [10, 10],
        [20, 20]
      ]
    )
    assert.isTrue(scaled.layers[1] === scaled.b.w && scaled.a.w === scaled.c.w)
    // Flax 0.12.8 also writes the new values into the input's shared Variables; the input is unchanged here
    assert.deepStrictEqual(net.a.w.value.tolist(), [1, 1])
  })

  it("recursiveMap refuses a cycle (Flax: Found cycle in the graph at path 'me')", () => {
    class Cyc extends nnx.Module {
      me: unknown = null
    }
    const cy = new Cyc()
    cy.me = cy
    const e = thrown(() => nnx.recursiveMap((_p, n) => n, cy))
    assert.strictEqual(e._tag, "GraphStructureError")
    assert.match(e.message, /^Found cycle in the graph at path 'me'/)
    assert.deepStrictEqual(nnx.findDuplicates(cy), [[[], ["me"]]])
  })

  it("findDuplicates lists the paths of shared Modules and Variables (Flax: [[a], [c]], [[b, w], [layers, 1]])", () => {
    const net = new Net()
    assert.deepStrictEqual(nnx.findDuplicates(net), [
      [["a"], ["c"]],
      [
        ["b", "w"],
        ["layers", 1]
      ]
    ])
    assert.deepStrictEqual(nnx.findDuplicates(net, { only: nnx.Param }), [
      [
        ["b", "w"],
        ["layers", 1]
      ]
    ])
    assert.deepStrictEqual(nnx.findDuplicates(net, { only: (_p, n) => n instanceof Block }), [[["a"], ["c"]]])
    assert.deepStrictEqual(nnx.findDuplicates(new Block(1)), [])
  })
})

describe("item 8: nnx.cachedPartial and nnx.jitPartial", () => {
  it("binds graph nodes to a lifted transform; state reaches the originals (Flax: [2, 4, 6], count 3, traced once; outside write seen: 4, 20)", () => {
    const c = new Counter()
    let traces = 0
    const step = nnx.jit((c: Counter, x: jnp.Array) => {
      traces++
      c.count.value = c.count.value.add(1)
      return x.mul(c.w.value)
    })
    const f = nnx.cachedPartial(step, c)
    assert.deepStrictEqual(
      [f.sync(f32(1)), f.sync(f32(2)), f.sync(f32(3))].map((y) => y.item()),
      [2, 4, 6]
    )
    assert.deepStrictEqual([c.count.value.item(), traces], [3, 1])
    const d = new Counter()
    const g = nnx.cachedPartial(
      nnx.jit((c: Counter, x: jnp.Array) => {
        c.w.value = c.w.value.mul(2)
        return x.mul(c.w.value)
      }),
      d
    )
    const a = g.sync(f32(1))
    d.w.value = f32(10)
    assert.deepStrictEqual([a.item(), g.sync(f32(1)).item(), d.w.value.item()], [4, 20, 20])
    // Flax returns the bound copy, not the original: `r is c` is False
    assert.notStrictEqual(
      nnx
        .cachedPartial(
          nnx.jit((c: Counter, _x: jnp.Array) => c),
          c
        )
        .sync(f32(1)),
      c
    )
  })

  it.effect(
    "a structure change of a bound node is refused and changes nothing; a plain function is refused (Flax: ValueError)",
    () =>
      Effect.gen(function* () {
        const c = new Counter()
        const f = nnx.cachedPartial(
          nnx.jit((c: Counter, x: jnp.Array) => {
            c.count.value = c.count.value.add(1)
            ;(c as unknown as Record<string, unknown>)["extra"] = new nnx.Param(f32(1))
            return x
          }),
          c
        )
        const e = yield* Effect.flip(f(f32(1)))
        assert.strictEqual(e._tag, "LiftTypeError")
        assert.match(
          e.message,
          /The graph structure of a node added to cachedPartial was mutated inside the transformation, this is not allowed/
        )
        assert.isFalse("extra" in c)
        assert.strictEqual(c.count.value.item(), 0)
        assert.match(
          thrown(() => nnx.cachedPartial(((m: Counter) => m) as never, c)).message,
          /takes a lifted transform/
        )
      })
  )

  it("jitPartial is cachedPartial of nnx.jit (Flax, graph_updates=False: 2, 6, count 2, traced once)", () => {
    const c = new Counter()
    let traces = 0
    const f = nnx.jitPartial(
      (c: Counter, x: jnp.Array) => {
        traces++
        c.count.value = c.count.value.add(1)
        return x.mul(c.w.value)
      },
      [c]
    )
    assert.deepStrictEqual([f.sync(f32(1)).item(), f.sync(f32(3)).item(), c.count.value.item(), traces], [2, 6, 2, 1])
  })
})

describe("item 8: integer nondiffArgnums in nnx.customVjp", () => {
  it("the argument goes to bwd first and gets no cotangent (Flax: 30, 112, 100; a plain call 6)", () => {
    const scale = nnx.customVjp(
      (n: number, x: jnp.Array) => x.mul(n),
      (n: number, x: jnp.Array) => [x.mul(n), x] as const,
      (n: number, _res: jnp.Array, g: jnp.Array) => [g.mul(n).mul(10)],
      { nondiffArgnums: [0] }
    )
    assert.strictEqual(grad((x: jnp.Array) => scale.sync(3, x))(f32(2)).item(), 30)
    assert.strictEqual(scale.sync(3, f32(2)).item(), 6)
    const power = nnx.customVjp(
      (x: jnp.Array, n: number) => x.pow(n),
      (x: jnp.Array, n: number) => [x.pow(n), x] as const,
      (n: number, res: jnp.Array, g: jnp.Array) => [
        g
          .mul(n)
          .mul(res.pow(n - 1))
          .add(100)
      ],
      { nondiffArgnums: [1] }
    )
    assert.strictEqual(grad((x: jnp.Array) => power.sync(x, 3))(f32(2)).item(), 112)
    const apply = nnx.customVjp(
      (fn: (x: jnp.Array) => jnp.Array, x: jnp.Array) => fn(x),
      (fn: (x: jnp.Array) => jnp.Array, x: jnp.Array) => [fn(x), x] as const,
      (_fn: unknown, _res: jnp.Array, g: jnp.Array) => [g.mul(100)],
      { nondiffArgnums: [0] }
    )
    assert.strictEqual(grad((x: jnp.Array) => apply.sync(jnp.sin, x))(f32(2)).item(), 100)
  })

  it("refuses a graph node, a traced Array, a repeated argnum and a wrong cotangent count (Flax: TypeError, UnexpectedTracerError, ValueError, pytree error)", () => {
    class Lin extends nnx.Module {
      w = new nnx.Param(f32(2))
    }
    const onModule = nnx.customVjp(
      (m: Lin, x: jnp.Array) => m.w.value.mul(x),
      (m: Lin, x: jnp.Array) => [m.w.value.mul(x), m.w.value] as const,
      (_m: unknown, w: jnp.Array, g: jnp.Array) => [g.mul(w)],
      { nondiffArgnums: [0] }
    )
    assert.match(
      thrown(() => onModule.sync(new Lin(), f32(1))).message,
      /Passing integers to nondiffArgnums for graph node arguments is not supported: args\[0\] is a Lin/
    )
    const scale = nnx.customVjp(
      (n: jnp.Array, x: jnp.Array) => x.mul(n),
      (n: jnp.Array, x: jnp.Array) => [x.mul(n), x] as const,
      (_n: unknown, _res: jnp.Array, g: jnp.Array) => [g],
      { nondiffArgnums: [0] }
    )
    assert.match(
      thrown(() => grad((n: jnp.Array) => scale.sync(n, f32(2)))(f32(3))).message,
      /args\[0\] is an Array traced by an enclosing transform/
    )
    const repeated = nnx.customVjp(
      (_n: number, x: jnp.Array) => x,
      (_n: number, x: jnp.Array) => [x, x] as const,
      () => [],
      { nondiffArgnums: [0, 0] }
    )
    assert.match(thrown(() => repeated.sync(1, f32(1))).message, /argnum 0 is repeated in nondiffArgnums/)
    const tooMany = nnx.customVjp(
      (n: number, x: jnp.Array) => x.mul(n),
      (n: number, x: jnp.Array) => [x.mul(n), x] as const,
      (_n: number, _res: jnp.Array, g: jnp.Array) => [g, g],
      { nondiffArgnums: [0] }
    )
    assert.match(
      thrown(() => grad((x: jnp.Array) => tooMany.sync(3, x))(f32(2))).message,
      /bwd must return one cotangent per differentiable argument .*\(1\), got 2/
    )
  })
})

describe("item 8: nnx.jit inShardings has no entries for static arguments", () => {
  class M extends nnx.Module {
    w = new nnx.Param(jnp.ones([4]))
  }
  const body = (m: M, n: number, x: jnp.Array) => m.w.value.mul(x).mul(n)
  const byParam = new nnx.StateSharding([[nnx.Param, null]])

  it("entries for the dynamic arguments only (Flax: [3, 3, 3, 3]); a static first argument too", () => {
    assert.deepStrictEqual(
      nnx
        .jit(body, { staticArgnums: 1, inShardings: [byParam, null] })
        .sync(new M(), 3, jnp.ones([4]))
        .tolist(),
      [3, 3, 3, 3]
    )
    assert.deepStrictEqual(
      nnx
        .jit((n: number, x: jnp.Array) => x.mul(n), { staticArgnums: [0], inShardings: [nnx.P("data")] })
        .sync(3, jnp.ones([4]))
        .tolist(),
      [3, 3, 3, 3]
    )
  })

  it("an entry for the static argument, or too few entries, is a prefix error (Flax: pytree structure error, 4 vs 3 and 2 vs 3)", () => {
    const extra = thrown(() =>
      // @ts-expect-error an entry for the static argument: refused by the compiler too
      nnx.jit(body, { staticArgnums: 1, inShardings: [byParam, null, null] }).sync(new M(), 3, jnp.ones([4]))
    )
    assert.match(extra.message, /inShardings is not a prefix of the arguments: .* found an array of 4/)
    const few = thrown(() =>
      // @ts-expect-error too few entries
      nnx.jit(body, { staticArgnums: 1, inShardings: [byParam] }).sync(new M(), 3, jnp.ones([4]))
    )
    assert.match(few.message, /found an array of 2/)
  })
})
