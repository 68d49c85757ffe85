/**
 * jit's compiled plans: elementwise chains (and the reduction they feed) run as one fused dispatch,
 * duplicates are computed once, constants fold, dead code goes, layout changes around dots are not
 * materialised, intermediates are disposed after their last use (never an input or an output), and
 * tracing, caching and nesting under other transforms behave as before.
 */
import { assert, describe, it } from "@effect/vitest"
import { Backend, grad, jit, jnp, lax, makeJaxpr, random, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import type { BackendImpl, CpuBuffer, DeviceBuffer } from "../../src/backend/BackendImpl.ts"
import { evalJaxpr } from "../../src/backend/Jaxpr.ts"
import type { ClosedJaxpr } from "../../src/backend/Jaxpr.ts"
import { bind } from "../../src/backend/bind.ts"
import { evaluateFused, makeFusingCpu } from "../../src/backend/fusionReference.ts"
import { compilePlan } from "../../src/transforms/core/compile/plan.ts"
import { assertSame, ramp as seq } from "../support/ramp.ts"

/** Runs `f` on `backend` and counts the dispatches it makes. */
const dispatches = (backend: BackendImpl, f: () => void): number => {
  Backend.resetStats(backend)
  f()
  return backend.stats.dispatches
}

describe("fusion", () => {
  it("a jitted chain of elementwise ops is one dispatch", () => {
    const b = makeFusingCpu()
    Backend.withBackend(b, () => {
      const f = (x: JArray) =>
        jnp
          .tanh(x)
          .mul(2)
          .add(jnp.exp(x.mul(-1)))
          .sub(jnp.sin(x))
      const jf = jit(f)
      const x = seq([3, 4])
      const want = f(x)
      jf(x)
      let got: JArray | undefined
      assert.strictEqual(
        dispatches(b, () => (got = jf(x))),
        1
      )
      assert.strictEqual(b.stats.byPrimitive.get("fused"), 1)
      assertSame(got!, want)
      const steps = jf.plan(x).steps
      assert.deepStrictEqual(
        steps.map((s) => s.kind),
        ["fused"]
      )
      assert.include(String(jf.plan(x)), "fused[map over (3, 4): tanh mul mul exp add sin sub]")
    })
  })

  it("a chain feeding a sum is one dispatch", () => {
    const b = makeFusingCpu()
    Backend.withBackend(b, () => {
      const f = (x: JArray, y: JArray) => jnp.square(jnp.tanh(x.mul(y)).sub(1)).sum(1)
      const jf = jit(f)
      const x = seq([4, 5]),
        y = seq([4, 5], 0.05)
      const want = f(x, y)
      jf(x, y)
      let got: JArray | undefined
      assert.strictEqual(
        dispatches(b, () => (got = jf(x, y))),
        1
      )
      assertSame(got!, want)
      const [step] = jf.plan(x, y).steps
      assert.strictEqual(step?.kind, "fused")
      assert.strictEqual(step?.prims[step.prims.length - 1], "reduce_sum")
      assert.strictEqual(step?.program?.outputs.kind, "reduce")
    })
  })

  it("broadcasts of inputs are read through strides, not materialised", () => {
    const b = makeFusingCpu()
    Backend.withBackend(b, () => {
      const f = (x: JArray, row: JArray, s: JArray) => x.mul(row).add(s)
      const jf = jit(f)
      const x = seq([3, 4]),
        row = seq([4], 0.3),
        s = jnp.array(0.25)
      const want = f(x, row, s)
      jf(x, row, s)
      let got: JArray | undefined
      assert.strictEqual(
        dispatches(b, () => (got = jf(x, row, s))),
        1
      )
      assertSame(got!, want)
      const program = jf.plan(x, row, s).steps[0]!.program!
      assert.deepStrictEqual(
        program.inputs.map((i) => i.strides),
        [
          [4, 1],
          [0, 1],
          [0, 0]
        ]
      )
    })
  })

  it("a single op without a broadcast to fold is just the op", () => {
    const b = makeFusingCpu()
    Backend.withBackend(b, () => {
      const jf = jit((x: JArray) => jnp.exp(x))
      const x = seq([5])
      jf(x)
      assert.strictEqual(
        dispatches(b, () => jf(x)),
        1
      )
      assert.strictEqual(b.stats.byPrimitive.get("exp"), 1)
    })
  })

  it("without compileFused (the cpu reference) the group's ops run one by one, with the same result", () => {
    const fused = makeFusingCpu()
    const plain = Backend.makeCpu()
    const f = (x: JArray) => jnp.tanh(x).mul(x).add(1).sum(0)
    const jf = jit(f)
    const onPlain = Backend.withBackend(plain, () => {
      const x = seq([3, 4])
      jf(x)
      assert.strictEqual(
        dispatches(plain, () => jf(x)),
        4
      )
      return jf(x)
    })
    const onFused = Backend.withBackend(fused, () => jf(seq([3, 4])))
    assertSame(onFused, onPlain)
    assert.strictEqual(jf.traceCount, 1)
  })

  it("a backend that declines a program runs the group's ops one by one", () => {
    const base = Backend.makeCpu()
    const declining: BackendImpl = { ...base, compileFused: () => undefined }
    Backend.withBackend(declining, () => {
      const jf = jit((x: JArray) => jnp.sin(x).mul(3).add(x))
      const x = seq([6])
      jf(x)
      assert.strictEqual(
        dispatches(declining, () => jf(x)),
        3
      )
    })
  })

  it("PRNG keys are never fused, and random programs match eager evaluation", () => {
    const b = makeFusingCpu()
    Backend.withBackend(b, () => {
      const f = (k: JArray, x: JArray) =>
        random
          .normal(k, [4])
          .mul(x)
          .add(random.uniform(random.split(k).get(0), [4]))
      const jf = jit(f)
      const k = random.key(3),
        x = seq([4])
      assertSame(jf(k, x), f(k, x))
      for (const s of jf.plan(k, x).steps) {
        if (s.kind === "fused") assert.isFalse(s.program!.inputs.some((i) => i.dtype === "key<fry>"))
      }
    })
  })
})

describe("rewrites", () => {
  it("common subexpressions are computed once", () => {
    const b = Backend.makeCpu()
    Backend.withBackend(b, () => {
      const f = (x: JArray) =>
        jnp
          .sin(x)
          .mul(jnp.sin(x))
          .add(jnp.sin(x).mul(jnp.sin(x)))
      const jf = jit(f)
      const x = seq([5])
      const want = f(x)
      jf(x)
      Backend.resetStats(b)
      assertSame(jf(x), want)
      assert.strictEqual(b.stats.byPrimitive.get("sin"), 1)
      assert.strictEqual(b.stats.byPrimitive.get("mul"), 1)
      assert.strictEqual(b.stats.dispatches, 3)
    })
  })

  // Staging records only equations with a traced operand, so programs with constant-only equations
  // come from elsewhere (inlined inner programs, other front ends): here, an argument turned constant.
  const withConstantFirstArg = (closed: ClosedJaxpr, value: JArray): ClosedJaxpr => ({
    jaxpr: {
      ...closed.jaxpr,
      constvars: [...closed.jaxpr.constvars, closed.jaxpr.invars[0]!],
      invars: closed.jaxpr.invars.slice(1)
    },
    consts: [...closed.consts, value]
  })

  it("equations of constants are folded when the plan is compiled", () => {
    const b = Backend.makeCpu()
    Backend.withBackend(b, () => {
      const f = (c: JArray, x: JArray) => jnp.exp(c).mul(2).add(x)
      const c = seq([4]),
        x = seq([4], 0.2)
      const closed = withConstantFirstArg(makeJaxpr(f)(c, x).closed, c)
      const plan = compilePlan(closed, b)
      assert.deepStrictEqual(
        plan.steps.map((s) => s.prims[0]),
        ["add"]
      )
      Backend.resetStats(b)
      const [got] = plan.run([x])
      assert.strictEqual(b.stats.dispatches, 1)
      assertSame(got!, f(c, x))
      assertSame(got!, evalJaxpr(closed, [x], bind)[0]!)
    })
  })

  it("large constant results are not folded", () => {
    const b = Backend.makeCpu()
    Backend.withBackend(b, () => {
      const f = (c: JArray, x: JArray) => jnp.exp(c).add(x)
      const c = jnp.zeros([5000]),
        x = jnp.ones([5000])
      const plan = compilePlan(withConstantFirstArg(makeJaxpr(f)(c, x).closed, c), b)
      assert.deepStrictEqual(
        plan.steps.map((s) => s.prims[0]),
        ["exp", "add"]
      )
    })
  })

  it("dead code left by the rewrites (or given) is removed", () => {
    const b = Backend.makeCpu()
    Backend.withBackend(b, () => {
      const closed = makeJaxpr((x: JArray) => [jnp.exp(x), jnp.sin(x).mul(2)])(seq([3])).closed
      const firstOnly: ClosedJaxpr = {
        ...closed,
        jaxpr: { ...closed.jaxpr, outvars: closed.jaxpr.outvars.slice(0, 1) }
      }
      const plan = compilePlan(firstOnly, b)
      assert.deepStrictEqual(
        plan.steps.map((s) => s.prims[0]),
        ["exp"]
      )
    })
  })

  it("per-example gradients materialise no transpose around their dot_general", () => {
    const loss = (w: JArray, x: JArray) => jnp.tanh(x.matmul(w)).sum()
    const perExample = vmap(grad(loss), { inAxes: [null, 0] })
    const jf = jit(perExample)
    for (const b of [Backend.makeCpu(), makeFusingCpu()]) {
      Backend.withBackend(b, () => {
        const w = seq([64, 64], 0.0003),
          x = seq([8, 64], 0.002)
        assert.include(jf.lower(w, x), "transpose")
        const plan = jf.plan(w, x)
        assert.isFalse(
          plan.steps.some((s) => s.prims.includes("transpose")),
          String(plan)
        )
        assert.notInclude(String(plan), "transpose")
        assertSame(jf(w, x), perExample(w, x))
        Backend.resetStats(b)
        jf(w, x)
        assert.isUndefined(b.stats.byPrimitive.get("transpose"))
      })
    }
  })

  it("a transposed operand folds into the dot_general only when the result is unchanged", () => {
    const b = Backend.makeCpu()
    Backend.withBackend(b, () => {
      const f = (x: JArray, y: JArray) => [jnp.matmul(x.T, y), jnp.matmul(y.T, x).T]
      const jf = jit(f)
      const x = seq([5, 3]),
        y = seq([5, 4], 0.07)
      const [a, c] = jf(x, y) as Array<JArray>
      const [wa, wc] = f(x, y) as Array<JArray>
      assertSame(a!, wa!)
      assertSame(c!, wc!)
      assert.isFalse(
        jf.plan(x, y).steps.some((s) => s.prims.includes("transpose")),
        String(jf.plan(x, y))
      )
    })
  })
})

describe("buffers", () => {
  /**
   * A cpu backend that is strict about buffer lifetimes: reinterpreting kernels return their input
   * buffer itself (as the wasm backend's do), disposed buffers fail when used or disposed again, and
   * `compileFused` runs the reference.
   */
  const makeStrict = () => {
    const base = Backend.makeCpu()
    const disposed = new WeakSet<DeviceBuffer>()
    const state = { disposals: 0 }
    const check = (b: DeviceBuffer): void => {
      if (disposed.has(b)) throw new Error("a disposed buffer was used")
    }
    const aliasing = new Set<string>([
      "reshape",
      "squeeze",
      "expand_dims",
      "stop_gradient",
      "random_wrap",
      "random_unwrap"
    ])
    const backend: BackendImpl = {
      ...base,
      download: (b, aval) => {
        check(b)
        return base.download(b, aval)
      },
      execute: (prim, inputs, inAvals, outAvals, params) => {
        inputs.forEach(check)
        if (aliasing.has(prim)) {
          Backend.countDispatch(base.stats, prim)
          return [inputs[0]!]
        }
        return base.execute(prim, inputs, inAvals, outAvals, params)
      },
      dispose: (b) => {
        check(b)
        disposed.add(b)
        state.disposals++
      },
      compileFused: (program) => (inputs) => {
        inputs.forEach(check)
        return evaluateFused(
          program,
          inputs.map((b) => (b as CpuBuffer).data)
        ).map((data): CpuBuffer => ({ backend: "cpu", data }))
      }
    }
    return { backend, state }
  }

  it("intermediates are disposed after their last use; inputs, constants and outputs never", () => {
    const { backend, state } = makeStrict()
    const table = Backend.withBackend(backend, () => seq([6], 0.3))
    const f = (x: JArray, w: JArray) => {
      const h = jnp.tanh(x.matmul(w))
      const flat = h.reshape([-1])
      const sorted = jnp.sort(flat).reshape(h.shape)
      const picked = lax.cond(
        h.sum().gt(0),
        (v: JArray) => v.mul(2),
        (v: JArray) => v.neg(),
        sorted
      )
      return [picked.add(x.sum()), h.sum(), flat, x.reshape([-1]), table.mul(h.max())]
    }
    const jf = jit(f)
    Backend.withBackend(backend, () => {
      const x = seq([3, 4]),
        w = seq([4, 6], 0.05)
      const want = Backend.withBackend(Backend.makeCpu(), () => f(x, w))
      for (let round = 0; round < 3; round++) {
        const got = jf(x, w) as Array<JArray>
        got.forEach((g, i) => assertSame(g, want[i]!))
      }
      assertSame(x, seq([3, 4]))
      assertSame(table, seq([6], 0.3))
    })
    assert.isAbove(state.disposals, 0)
  })

  it("on wasm, a call leaves only its outputs alive, and a tidy around the compiling call spares the plan's constants", () => {
    const b = Backend.makeWasm({ threads: 1 })
    Backend.withBackend(b, () => {
      const c = seq([4, 4], 0.01)
      const f = (x: JArray) =>
        jnp
          .tanh(x.matmul(c))
          .mul(2)
          .add(jnp.sort(x.reshape([-1])).reshape([4, 4]))
          .sum(0)
      const jf = jit(f)
      const x = seq([4, 4], 0.2)
      const first = b.tidy(() => jf(x))
      const live = b.stats.storage.liveStorages
      const second = jf(x)
      assert.strictEqual(b.stats.storage.liveStorages, live + 1)
      assertSame(second, first)
      assertSame(second, f(x))
    })
  })

  it("an output that is an argument or a reshape of one is returned intact", () => {
    const { backend } = makeStrict()
    Backend.withBackend(backend, () => {
      const jf = jit((x: JArray) => [x, x.reshape([2, 2]), x.add(1)])
      const x = seq([4])
      const [a, r, s] = jf(x) as Array<JArray>
      assert.strictEqual(a, x)
      assertSame(r!, seq([4]).reshape([2, 2]))
      assertSame(s!, seq([4]).add(1))
      assertSame(x, seq([4]))
    })
  })
})

describe("jit semantics are unchanged", () => {
  it("retraces on new shapes only, and compiles once per backend without retracing", () => {
    let calls = 0
    const jf = jit((x: JArray) => {
      calls++
      return jnp.tanh(x).sum()
    })
    const fusing = makeFusingCpu()
    Backend.withBackend(Backend.makeCpu(), () => jf(seq([3])))
    Backend.withBackend(fusing, () => jf(seq([3])))
    jf(seq([3]))
    assert.strictEqual(jf.traceCount, 1)
    jf(seq([4]))
    assert.strictEqual(jf.traceCount, 2)
    assert.strictEqual(calls, 2)
    assert.strictEqual(jf.cacheSize, 2)
  })

  it("vmap(jit(f)) and grad(jit(f)) run through the enclosing transform", () => {
    const f = (x: JArray) => jnp.tanh(x).mul(x).sum()
    const jf = jit(f)
    const xs = seq([3, 4])
    assertSame(vmap(jf)(xs), vmap(f)(xs))
    assertSame(grad(jf)(seq([4])), grad(f)(seq([4])))
    assertSame(jit(grad(jf))(seq([4])), grad(f)(seq([4])))
  })

  it("scan and cond inside jit are interpreted steps of the plan", () => {
    const f = (x: JArray) => {
      const [, ys] = lax.scan(
        (c: JArray, v: JArray) => [c.add(v), c.mul(v)] as const,
        jnp.array(0, { dtype: "float32" }),
        x
      )
      return lax.cond(
        ys.sum().gt(0),
        (v: JArray) => v.mul(2),
        (v: JArray) => v.neg(),
        ys
      )
    }
    const jf = jit(f)
    const x = seq([5], 0.3)
    assertSame(jf(x), f(x))
    assert.deepStrictEqual(
      jf
        .plan(x)
        .steps.filter((s) => s.kind === "interpret")
        .map((s) => s.prims[0]),
      ["scan", "cond"]
    )
  })
})

describe("kernel and cache keys tell special numbers apart", () => {
  it("fused programs differing only in an infinite or NaN literal get their own kernels", () => {
    const x = jnp.array([1, NaN, -2], { dtype: "float32" })
    const lo = jit((a: jnp.Array) => jnp.where(jnp.isnan(a), -Infinity, a).mul(2))
    const hi = jit((a: jnp.Array) => jnp.where(jnp.isnan(a), Infinity, a).mul(2))
    const nan = jit((a: jnp.Array) => jnp.where(jnp.isnan(a), NaN, a).mul(2))
    assert.deepStrictEqual(lo(x).tolist(), [2, -Infinity, -4])
    assert.deepStrictEqual(hi(x).tolist(), [2, Infinity, -4])
    assert.deepStrictEqual(
      (nan(x).tolist() as Array<number>).map((v) => Number.isNaN(v)),
      [false, true, false]
    )
  })

  it("static arguments NaN, Infinity, -Infinity, 0 and -0 are different signatures", () => {
    const f = jit((a: jnp.Array, c: number) => a.add(c), { staticArgnums: 1 })
    const one = jnp.array([1], { dtype: "float32" })
    for (const c of [NaN, Infinity, -Infinity, 0, -0]) f(one, c)
    assert.strictEqual(f.traceCount, 5)
    assert.deepStrictEqual(f(one, -Infinity).tolist(), [-Infinity])
  })
})

describe("plans and tidy", () => {
  it("a plan prints after a tidy around the first call disposed the trace's constant arrays, and still runs", () => {
    // The gradient of a max pool: its trace makes constant arrays (window offsets) that the tidy disposes.
    const pool = (x: JArray) => lax.reduceWindow(x, -Infinity, "max", [1, 2, 2, 1], [1, 2, 2, 1], "VALID").sum()
    const f = jit(grad(pool))
    const x = jnp.arange(32).astype("float32").reshape(1, 4, 4, 2)
    const first = Backend.tidy(() => f(x))
    assert.strictEqual(first.sum().item(), 8)
    const text = String(f.plan(x))
    assert.include(text, "plan on")
    assert.strictEqual(
      Backend.tidy(() => f(x))
        .sum()
        .item(),
      8
    )
  })
})

describe("identities", () => {
  it("a pad by nothing, a slice of everything, an identity transpose or reshape are not copies in the plan", () => {
    const f = jit((x: JArray) =>
      lax
        .slice(
          lax.pad(x, jnp.array(0, { dtype: "float32" }), [
            [0, 0, 0],
            [0, 0, 0]
          ]),
          [0, 0],
          [2, 3]
        )
        .transpose([0, 1])
        .reshape(2, 3)
        .mul(2)
    )
    const x = jnp.arange(6).astype("float32").reshape(2, 3)
    assert.deepStrictEqual(f(x).tolist(), [
      [0, 2, 4],
      [6, 8, 10]
    ])
    const text = String(f.plan(x))
    for (const op of ["pad", "slice", "transpose", "reshape"]) assert.notInclude(text, `${op}[`, text)
  })

  it("the max pool's gradient holds no full-size constants (offsets broadcast from size-1 constants)", () => {
    const f = jit(
      grad((x: JArray) =>
        lax
          .reduceWindow(x, -Infinity, "max", [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
          .mul(x.get(":", "::2", "::2"))
          .sum()
      )
    )
    const x = random.normal(random.key(0), [2, 8, 8, 3])
    const text = String(f.plan(x))
    assert.notInclude(text, "<const i32[2,", text)
  })
})

describe("Backend.tidy inside a jitted function", () => {
  it("keeps the scalars and arrays the trace makes: they are the program's, used by every call", () => {
    const f = jit((x: JArray) =>
      Backend.tidy(() => {
        const offsets = jnp.arange(3).astype("float32")
        return jnp.tanh(x.mul(2).add(1)).add(offsets)
      })
    )
    const x = jnp.array([0.5, -1, 2], { dtype: "float32" })
    const want = jnp.tanh(x.mul(2).add(1)).add(jnp.arange(3).astype("float32")).tolist() as Array<number>
    for (let call = 0; call < 3; call++) {
      const got = f(x).tolist() as Array<number>
      got.forEach((v, i) => assert.closeTo(v, want[i]!, 1e-6))
    }
    // The tidy still disposes what the function makes and does not return, outside tracing (on the
    // backends that release memory: the cpu reference leaves it to the garbage collector).
    let temporary: JArray | undefined
    Backend.tidy(() => {
      temporary = x.mul(3)
      return x.add(1)
    })
    assert.strictEqual(temporary!.isDisposed, Backend.currentBackend().released !== undefined)
  })
})
