/**
 * jit's compiler (src/transforms/core/compile), checked where a mutation run (Stryker) found
 * behaviour the other jit suites do not pin down: which slots a plan releases after each step, the
 * exact text of plans (fused heads, strides, literals, parameters), which equations the rewrites
 * merge, drop or fold (and which they must keep), how operands and reductions join fused groups, the
 * dimension numbers of folded dots, and the buffers a plan disposes or keeps. Each check looks at
 * what the compiler did (the plan's steps or text, dispatch counts, disposals) as well as at values
 * against unjitted evaluation.
 */
import { assert, describe, it } from "@effect/vitest"
import { Backend, customJvp, jit, jnp, lax, makeJaxpr, random, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import type { BackendImpl, DeviceBuffer } from "../../src/backend/BackendImpl.ts"
import { aval } from "../../src/backend/DType.ts"
import { makeFusingCpu } from "../../src/backend/fusionReference.ts"
import type { ClosedJaxpr, Eqn, Var } from "../../src/backend/Jaxpr.ts"
import { foldConstants } from "../../src/transforms/core/compile/fold.ts"
import { fromJaxpr } from "../../src/transforms/core/compile/graph.ts"
import { compilePlan, innerArrays, schedule, simplify } from "../../src/transforms/core/compile/plan.ts"
import { releaseAfter } from "../../src/transforms/core/compile/liveness.ts"
import { assertSame, ramp as baseRamp } from "../support/ramp.ts"

/** The plan's text for `f` on `backend`, lines joined by newlines. */
const planText = <Args extends ReadonlyArray<JArray>>(
  backend: BackendImpl,
  f: (...args: Args) => JArray | ReadonlyArray<JArray>,
  ...args: Args
): string => Backend.withBackend(backend, () => String(jit(f).plan(...args)))

describe("liveness", () => {
  it("releases each slot after its last read, and outputs nothing reads after the step writing them", () => {
    const steps = [
      { inputs: [0], outputs: [1] },
      { inputs: [1, 0], outputs: [2] },
      { inputs: [2], outputs: [3, 4] }
    ]
    assert.deepStrictEqual(releaseAfter(steps, new Set([3])), [[], [1, 0], [2, 4]])
  })

  it("keeps the plan's outputs, releases a slot read by several steps after the last, and handles no steps", () => {
    const steps = [
      { inputs: [0], outputs: [1] },
      { inputs: [0], outputs: [2] },
      { inputs: [1, 2], outputs: [3] }
    ]
    assert.deepStrictEqual(releaseAfter(steps, new Set([1, 3])), [[], [0], [2]])
    assert.deepStrictEqual(releaseAfter([], new Set()), [])
  })
})

describe("plan text", () => {
  it("a fused reduction prints its axes, its body without the reduction, and broadcast inputs with strides", () => {
    const text = planText(makeFusingCpu(), (x, r) => jnp.tanh(x.mul(r)).sum(1), jnp.ones([4, 5]), jnp.ones([5]))
    assert.strictEqual(
      text,
      [
        "{ plan on cpu: a:f32[4,5] b:f32[5]. let",
        "    c:f32[4] = fused[reduce_sum axes=(1,) over (4, 5): mul tanh] a b@(0, 1)",
        "  in (c,) }"
      ].join("\n")
    )
  })
})

/** The primitives of a plan's steps, one list per step. */
const stepPrims = (closed: ClosedJaxpr, backend: BackendImpl): Array<ReadonlyArray<string>> =>
  compilePlan(closed, backend).steps.map((s) => s.prims)

/** Checks `jit(f)` against `f` on the cpu reference, and returns the plan's steps' primitives. */
const jitMatches = <Args extends ReadonlyArray<JArray>>(
  f: (...args: Args) => JArray | ReadonlyArray<JArray>,
  ...args: Args
): Array<ReadonlyArray<string>> =>
  Backend.withBackend(Backend.makeCpu(), () => {
    const jf = jit(f)
    const got = [jf(...args)].flat() as Array<JArray>
    const want = [f(...args)].flat() as Array<JArray>
    got.forEach((g, i) => assertSame(g, want[i]!))
    return jf.plan(...args).steps.map((s) => s.prims)
  })

describe("plan text, every part", () => {
  it("kernels print their parameters (or none), and known operands as scalars of their dtype or as constants", () => {
    const c = jnp.array([1, 2], { dtype: "float32" })
    const text = planText(
      Backend.makeCpu(),
      (x, y) => [
        x.mul(2).add(0.5),
        y.add(3),
        jnp.logicalOr(jnp.logicalAnd(x.gt(0), true), false),
        x.add(c),
        x.sum(),
        x.astype("int32")
      ],
      jnp.ones([2]),
      jnp.ones([2], { dtype: "int32" })
    )
    assert.strictEqual(
      text,
      [
        "{ plan on cpu: a:f32[2] b:i32[2]. let",
        "    c:f32[2] = mul a 2.0:f32[1]",
        "    d:f32[2] = add c 0.5:f32[1]",
        "    e:i32[2] = add b 3:i32[1]",
        "    f:bool[2] = gt a 0.0:f32[1]",
        "    g:bool[2] = and f True:bool[1]",
        "    h:bool[2] = or g False:bool[1]",
        "    i:f32[2] = add a <const f32[2]>",
        "    j:f32[] = reduce_sum[axes=(0,)] a",
        '    k:i32[2] = convert_element_type[newDtype="int32" weakType=false] a',
        "  in (d, e, h, i, j, k) }"
      ].join("\n")
    )
  })

  it("fused steps print all their outputs, and strides only for inputs not read in their own layout", () => {
    const text = planText(
      makeFusingCpu(),
      (x, z) => {
        const t = jnp.tanh(x)
        return [
          t,
          t.mul(2),
          jnp.exp(z.reshape([2, 3]).T).mul(2),
          jnp.exp(z.get(0)).mul(3),
          jnp.sin(x).mul(x).sum([0, 1])
        ]
      },
      jnp.ones([4, 1]),
      jnp.ones([1, 6])
    )
    assert.strictEqual(
      text,
      [
        "{ plan on cpu: a:f32[4,1] b:f32[1,6]. let",
        "    c:f32[4,1] d:f32[4,1] e:f32[4,1] = fused[map over (4, 1): tanh mul sin mul] a",
        "    f:f32[3,2] = fused[map over (3, 2): exp mul] b@(1, 3)",
        "    g:f32[6] = fused[map over (6,): exp mul] b@(1,)",
        "    h:f32[] = reduce_sum[axes=(0, 1)] e",
        "  in (c, d, f, g, h) }"
      ].join("\n")
    )
  })

  it("an input of the program's rank read with broadcast strides prints them", () => {
    const text = planText(makeFusingCpu(), (x, r) => x.mul(r).add(1), jnp.ones([4, 5]), jnp.ones([1, 5]))
    assert.strictEqual(
      text,
      [
        "{ plan on cpu: a:f32[4,5] b:f32[1,5]. let",
        "    c:f32[4,5] = fused[map over (4, 5): mul add] a b@(0, 1)",
        "  in (c,) }"
      ].join("\n")
    )
  })

  it("a fused reduction over several axes, and a plan with one output", () => {
    const text = planText(makeFusingCpu(), (x) => x.mul(3).add(1).max([0, 1]), jnp.ones([4, 5]))
    assert.strictEqual(
      text,
      [
        "{ plan on cpu: a:f32[4,5]. let",
        "    b:f32[] = fused[reduce_max axes=(0, 1) over (4, 5): mul add] a",
        "  in (b,) }"
      ].join("\n")
    )
  })
})

describe("common subexpressions", () => {
  const m = jnp.arange(9).astype("float32").reshape(3, 3)

  it("equal parameters in distinct arrays merge", () => {
    assert.deepStrictEqual(
      jitMatches((x) => x.sum(0).add(x.sum(0)), m),
      [["reduce_sum"], ["add"]]
    )
  })

  it("equations differing in a number, a string, a boolean or a nested array parameter stay apart", () => {
    assert.deepStrictEqual(
      jitMatches((x) => [x.sum(0), x.sum(1)], m),
      [["reduce_sum"], ["reduce_sum"]]
    )
    assert.deepStrictEqual(
      jitMatches((x) => [x.astype("int32"), x.astype("uint32")], m),
      [["convert_element_type"], ["convert_element_type"]]
    )
    assert.deepStrictEqual(
      jitMatches((x) => [lax.cumsum(x, 0), lax.cumsum(x, 0, true)], m),
      [["cumsum"], ["cumsum"]]
    )
    // Pad configurations whose numbers would read the same run together: 1,12 and 11,2.
    const zero = jnp.array(0, { dtype: "float32" })
    assert.deepStrictEqual(
      jitMatches((x) => [lax.pad(x, zero, [[1, 12, 0]]), lax.pad(x, zero, [[11, 2, 0]])], jnp.ones([1])),
      [["pad"], ["pad"]]
    )
  })

  it("equations with equal parameters listed in another key order are merged", () => {
    const closed = makeJaxpr((x: JArray) => [x.matmul(x), x.matmul(x).mul(2)])(m).closed
    const eqns = closed.jaxpr.eqns
    const dots = eqns.filter((e) => e.prim === "dot_general")
    assert.strictEqual(dots.length, 2)
    const reordered = (e: Eqn): Eqn =>
      ({ ...e, params: Object.fromEntries(Object.entries(e.params as object).reverse()) }) as Eqn
    const swapped: ClosedJaxpr = {
      ...closed,
      jaxpr: { ...closed.jaxpr, eqns: eqns.map((e) => (e === dots[1] ? reordered(e) : e)) }
    }
    assert.deepStrictEqual(stepPrims(swapped, Backend.makeCpu()), [["dot_general"], ["mul"]])
  })

  it("operands are told apart by their variable ids, not by the ids' digits run together", () => {
    const f = aval([2], "float32")
    const v = (id: number): Var => ({ id, aval: f })
    const closed: ClosedJaxpr = {
      jaxpr: {
        constvars: [],
        invars: [v(1_000_001), v(2), v(100_000), v(12)],
        eqns: [
          { prim: "sub", inputs: [v(1_000_001), v(2)], outputs: [v(5_000_000)], params: {} },
          { prim: "sub", inputs: [v(100_000), v(12)], outputs: [v(5_000_001)], params: {} }
        ],
        outvars: [v(5_000_000), v(5_000_001)]
      },
      consts: []
    }
    const b = Backend.makeCpu()
    Backend.withBackend(b, () => {
      const plan = compilePlan(closed, b)
      assert.strictEqual(plan.steps.length, 2)
      const xs = [1, 2, 3, 4].map((k) => jnp.array([k, 10 * k], { dtype: "float32" }))
      const [p, q] = plan.run([xs[0]!, xs[1]!, xs[3]!, xs[2]!])
      assert.deepStrictEqual(
        [p!.tolist(), q!.tolist()],
        [
          [-1, -10],
          [1, 10]
        ]
      )
    })
  })
})

describe("higher-order equations", () => {
  const scanWith = (body: (c: JArray, v: JArray) => readonly [JArray, JArray]) => (x: JArray) =>
    lax.scan(body, jnp.array(1, { dtype: "float32" }), x)[1]

  it("two scans with bodies of the same form but different operations stay apart", () => {
    const x = jnp.array([1, 2, 3], { dtype: "float32" })
    const add = scanWith((c, v) => [c.add(v), c.add(v)] as const)
    const mul = scanWith((c, v) => [c.mul(v), c.mul(v)] as const)
    assert.deepStrictEqual(
      jitMatches((x) => [add(x), mul(x)], x),
      [["scan"], ["scan"]]
    )
  })

  it("two applications of the very same body to the same operands merge", () => {
    const x = jnp.array([1, 2, 3], { dtype: "float32" })
    const closed = makeJaxpr(scanWith((c, v) => [c.add(v), c.mul(v)] as const))(x).closed
    const scan = closed.jaxpr.eqns.find((e) => e.prim === "scan")!
    const again = { ...scan, outputs: scan.outputs.map((v, i) => ({ id: 9_000_000 + i, aval: v.aval })) } as Eqn
    const twice: ClosedJaxpr = {
      ...closed,
      jaxpr: {
        ...closed.jaxpr,
        eqns: [...closed.jaxpr.eqns, again],
        outvars: [...closed.jaxpr.outvars, again.outputs[again.outputs.length - 1]!]
      }
    }
    const b = Backend.makeCpu()
    Backend.withBackend(b, () => {
      assert.deepStrictEqual(
        compilePlan(twice, b).steps.map((s) => s.kind),
        ["interpret"]
      )
      const [p, q] = compilePlan(twice, b).run([x])
      assertSame(q!, p!)
    })
  })
})

describe("functions in parameters", () => {
  it("equations carrying different functions stay apart, the same function merges", () => {
    const f = customJvp(
      (x: JArray) => jnp.sin(x),
      ([x]: readonly [JArray], [t]: readonly [JArray]) => [jnp.sin(x), t.mul(10)] as const
    )
    const x = jnp.array([1, 2], { dtype: "float32" })
    const closed = makeJaxpr((x: JArray) => f(x))(x).closed
    const call = closed.jaxpr.eqns.find((e) => e.prim === "custom_jvp_call")!
    const other = (jvp: unknown): Eqn =>
      ({ ...call, params: { ...call.params, jvp }, outputs: [{ id: 9_100_000, aval: call.outputs[0]!.aval }] }) as Eqn
    const twice = (e: Eqn): ClosedJaxpr => ({
      ...closed,
      jaxpr: { ...closed.jaxpr, eqns: [...closed.jaxpr.eqns, e], outvars: [...closed.jaxpr.outvars, e.outputs[0]!] }
    })
    const b = Backend.makeCpu()
    Backend.withBackend(b, () => {
      const jvp = (call.params as { readonly jvp: unknown }).jvp
      assert.strictEqual(compilePlan(twice(other(jvp)), b).steps.length, 1)
      assert.strictEqual(compilePlan(twice(other(() => [[], []])), b).steps.length, 2)
    })
  })
})

describe("identities", () => {
  const m = jnp.arange(6).astype("float32").reshape(2, 3)
  const square = jnp.arange(9).astype("float32").reshape(3, 3)

  it("layout changes that keep the shape but move elements are computed", () => {
    assert.deepStrictEqual(
      jitMatches((x) => x.T, square),
      [["transpose"]]
    )
    assert.deepStrictEqual(
      jitMatches((x) => x.reshape(3, 2), m),
      [["reshape"]]
    )
    assert.deepStrictEqual(
      jitMatches((x) => x.reshape(6), m),
      [["reshape"]]
    )
  })

  it("a conversion to the same dtype and weak type is no step; one changing the weak type is", () => {
    const weak = jnp.array(2.5)
    assert.isTrue(weak.weakType)
    Backend.withBackend(Backend.makeCpu(), () => {
      const strong = jit((x: JArray) => lax.convertElementType(x, "float32", false))
      assert.isFalse(strong(weak).weakType)
      assert.deepStrictEqual(
        strong.plan(weak).steps.map((s) => s.prims),
        [["convert_element_type"]]
      )
      const same = jit((x: JArray) => lax.convertElementType(x, "float32", true).mul(2))
      assert.deepStrictEqual(
        same.plan(weak).steps.map((s) => s.prims),
        [["mul"]]
      )
      assert.strictEqual(same(weak).item(), 5)
    })
  })

  it("a conversion to the operand's own dtype and weak type (from another front end) is no step", () => {
    const f = aval([2], "float32")
    const x: Var = { id: 7_100_000, aval: f },
      y: Var = { id: 7_100_001, aval: f },
      z: Var = { id: 7_100_002, aval: f }
    const closed: ClosedJaxpr = {
      jaxpr: {
        constvars: [],
        invars: [x],
        eqns: [
          { prim: "convert_element_type", inputs: [x], outputs: [y], params: { newDtype: "float32", weakType: false } },
          { prim: "mul", inputs: [y, x], outputs: [z], params: {} }
        ],
        outvars: [z]
      },
      consts: []
    }
    const b = Backend.makeCpu()
    Backend.withBackend(b, () => {
      const plan = compilePlan(closed, b)
      assert.deepStrictEqual(
        plan.steps.map((s) => s.prims),
        [["mul"]]
      )
      assert.deepStrictEqual(plan.run([jnp.array([2, 3], { dtype: "float32" })])[0]!.tolist(), [4, 9])
    })
  })

  it("an equation without operands (from another front end) is evaluated (here folded)", () => {
    const out: Var = { id: 7_000_000, aval: aval([3], "int32") }
    const closed: ClosedJaxpr = {
      jaxpr: {
        constvars: [],
        invars: [],
        eqns: [{ prim: "iota", inputs: [], outputs: [out], params: { dtype: "int32", shape: [3], dimension: 0 } }],
        outvars: [out]
      },
      consts: []
    }
    const b = Backend.makeCpu()
    Backend.withBackend(b, () => {
      const plan = compilePlan(closed, b)
      assert.deepStrictEqual(plan.steps, [])
      assert.deepStrictEqual(plan.run([])[0]!.tolist(), [0, 1, 2])
    })
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

/**
 * A cpu backend that keeps a ledger of the buffers it made (uploads and kernel results) and fails on
 * disposing one it did not make or already disposed; reshapes return their input buffer itself, as
 * the wasm backend's do.
 */
const makeLedger = () => {
  const base = Backend.makeCpu()
  const live = new Set<DeviceBuffer>()
  const made = (b: DeviceBuffer): DeviceBuffer => {
    live.add(b)
    return b
  }
  const backend: BackendImpl = {
    ...base,
    upload: (data, a, options) => made(base.upload(data, a, options)),
    execute: (prim, inputs, inAvals, outAvals, params) =>
      prim === "reshape" ? [inputs[0]!] : base.execute(prim, inputs, inAvals, outAvals, params).map(made),
    dispose: (b) => {
      if (!live.delete(b)) throw new Error("disposed a buffer that is not live")
    }
  }
  return { backend, live }
}

describe("literals and known values", () => {
  it("equal literals are one operand, so repeated computations on them merge", () => {
    assert.deepStrictEqual(
      jitMatches((x) => x.mul(2).add(x.mul(2)), jnp.ones([2, 3])),
      [["mul"], ["add"]]
    )
  })

  it("literals of one value but another weak type stay apart (as outputs too)", () => {
    Backend.withBackend(Backend.makeCpu(), () => {
      const f = jit((x: JArray) => [x, jnp.array(2.5), jnp.array(2.5, { dtype: "float32" })])
      const out = f(jnp.ones([2])) as Array<JArray>
      assert.deepStrictEqual(
        out.map((a) => a.weakType),
        [false, true, false]
      )
    })
  })

  it("complex literals whose words would read the same run together stay apart", () => {
    const z1 = lax.complex(jnp.array(1, { dtype: "float32" }), jnp.array(23, { dtype: "float32" }))
    const z2 = lax.complex(jnp.array(12, { dtype: "float32" }), jnp.array(3, { dtype: "float32" }))
    const steps = jitMatches(
      (x) => {
        const z = lax.complex(x, x)
        return [z.add(z1), z.add(z2)]
      },
      jnp.ones([2, 3])
    )
    assert.deepStrictEqual(steps, [["complex"], ["add"], ["add"]])
  })

  it("keys, complex scalars and arrays with a non-1 axis print as constants, not as numbers", () => {
    const k = random.key(1)
    const z = lax.complex(jnp.array(1, { dtype: "float32" }), jnp.array(2, { dtype: "float32" }))
    const col = jnp.array([[1], [2]], { dtype: "float32" })
    const text = planText(Backend.makeCpu(), (x) => [k, lax.complex(x, x).add(z), x.add(col)], jnp.ones([2, 1]))
    assert.strictEqual(
      text,
      [
        "{ plan on cpu: a:f32[2,1]. let",
        "    b:c64[2,1] = complex a a",
        "    c:c64[2,1] = add b <const c64[1,1]>",
        "    d:f32[2,1] = add a <const f32[2,1]>",
        "  in (<const key<fry>[]>, c, d) }"
      ].join("\n")
    )
  })

  it("a folded scalar prints as its value", () => {
    const b = Backend.makeCpu()
    Backend.withBackend(b, () => {
      const c = jnp.array([2], { dtype: "float32" }),
        x = jnp.ones([1])
      const closed = withConstantFirstArg(makeJaxpr((c: JArray, x: JArray) => c.mul(3).sub(x))(c, x).closed, c)
      assert.strictEqual(
        String(compilePlan(closed, b)),
        ["{ plan on cpu: a:f32[1]. let", "    b:f32[1] = sub 6.0:f32[1] a", "  in (b,) }"].join("\n")
      )
    })
  })

  it("a plan prints the scalars of literals a tidy disposed after the plan first read them", () => {
    const f = jit((x: JArray) => lax.pad(x, jnp.array(0.5, { dtype: "float32" }), [[1, 1, 0]]))
    const x = jnp.ones([3])
    const first = Backend.tidy(() => {
      f(x)
      return String(f.plan(x))
    })
    assert.include(first, " 0.5:f32[]")
    assert.strictEqual(String(f.plan(x)), first)
    assert.deepStrictEqual(f(x).tolist(), [0.5, 1, 1, 1, 0.5])
  })

  it("identity transposes and reshapes are no steps", () => {
    assert.deepStrictEqual(
      jitMatches((x) => lax.reshape(lax.transpose(x, [0, 1]), [2, 3]).mul(2), jnp.ones([2, 3])),
      [["mul"]]
    )
    assert.deepStrictEqual(
      jitMatches((x) => lax.reshape(x, [2, 4, 3]), jnp.arange(24).astype("float32").reshape(2, 3, 4)),
      [["reshape"]]
    )
  })

  it("dead code goes before the dot rewrites, so a dead reader does not keep a transpose", () => {
    const b = Backend.makeCpu()
    Backend.withBackend(b, () => {
      const x = jnp.ones([5, 3]),
        y = jnp.ones([5, 4])
      const closed = makeJaxpr((x: JArray, y: JArray) => [jnp.matmul(x.T, y), x.T.mul(2)])(x, y).closed
      const firstOnly: ClosedJaxpr = {
        ...closed,
        jaxpr: { ...closed.jaxpr, outvars: closed.jaxpr.outvars.slice(0, 1) }
      }
      assert.deepStrictEqual(stepPrims(firstOnly, b), [["dot_general"]])
    })
  })
})

describe("constant folding", () => {
  it("disposes what it uploads and computes, and never a constant's buffer (even one a kernel returned)", () => {
    const { backend, live } = makeLedger()
    Backend.withBackend(backend, () => {
      const c = jnp.array([[0.5]], { dtype: "float32" }),
        x = jnp.array([1, 2], { dtype: "float32" })
      const f = (c: JArray, x: JArray) => x.add(jnp.exp(c.reshape([1])).mul(c.reshape([1])))
      const closed = withConstantFirstArg(makeJaxpr(f)(c, x).closed, c)
      const before = new Set(live)
      const g = foldConstants(fromJaxpr(closed), backend)
      assert.deepStrictEqual(
        g.eqns.map((e) => e.prim),
        ["add"]
      )
      assert.deepStrictEqual([...live], [...before])
      assertSame(compilePlan(closed, backend).run([x])[0]!, f(c, x))
    })
  })

  it("a folded output is a new array on each call", () => {
    const b = Backend.makeCpu()
    Backend.withBackend(b, () => {
      const c = jnp.array([0.5, 1], { dtype: "float32" }),
        x = jnp.ones([2])
      const closed = withConstantFirstArg(makeJaxpr((c: JArray, x: JArray) => [jnp.exp(c), x.mul(2)])(c, x).closed, c)
      const plan = compilePlan(closed, b)
      const [e1] = plan.run([x])
      const [e2] = plan.run([x])
      assertSame(e1!, jnp.exp(c))
      assert.notStrictEqual(e1, e2)
    })
  })

  it("folds results of up to 4096 elements", () => {
    const b = Backend.makeCpu()
    Backend.withBackend(b, () => {
      const c = jnp.zeros([4096]),
        x = jnp.ones([4096])
      const closed = withConstantFirstArg(makeJaxpr((c: JArray, x: JArray) => jnp.exp(c).add(x))(c, x).closed, c)
      assert.deepStrictEqual(stepPrims(closed, b), [["add"]])
    })
  })

  it("leaves layout changes of known values larger than one element, and keys, to run", () => {
    const b = Backend.makeCpu()
    Backend.withBackend(b, () => {
      const c = jnp.array([1, 2, 3], { dtype: "float32" }),
        x = jnp.ones([2, 3])
      const closed = withConstantFirstArg(makeJaxpr((c: JArray, x: JArray) => x.add(c))(c, x).closed, c)
      assert.deepStrictEqual(stepPrims(closed, b), [["reshape"], ["add"]])
      const data = jnp.array([1, 2], { dtype: "uint32" })
      const wrap = (d: JArray, x: JArray) => [random.wrapKeyData(d), x.mul(2)]
      const keyed = withConstantFirstArg(makeJaxpr(wrap)(data, x).closed, data)
      assert.deepStrictEqual(stepPrims(keyed, b), [["random_wrap"], ["mul"]])
      const [key] = compilePlan(keyed, b).run([x])
      assert.deepStrictEqual(random.keyData(key!).tolist(), [1, 2])
    })
  })
})

describe("executable", () => {
  it("a call with one traced argument among concrete ones runs through the enclosing transform", () => {
    const f = (x: JArray, y: JArray) => x.mul(y).sum()
    const xs = jnp.arange(6).astype("float32").reshape(2, 3),
      y = jnp.array([1, 2, 3], { dtype: "float32" })
    assertSame(vmap(jit(f), { inAxes: [0, null] })(xs, y), vmap(f, { inAxes: [0, null] })(xs, y))
  })
})

/**
 * The equations `simplify` leaves for `f` (on the cpu reference), each as its primitive, its
 * parameters and which arguments it reads (`0`, `1`: the arguments; `~`: an intermediate), after
 * checking that the jitted function gives `f`'s values bit for bit.
 */
const rewritten = <Args extends ReadonlyArray<JArray>>(
  f: (...args: Args) => JArray | ReadonlyArray<JArray>,
  ...args: Args
): Array<string> => {
  const b = Backend.makeCpu()
  return Backend.withBackend(b, () => {
    const jf = jit(f)
    const got = [jf(...args)].flat() as Array<JArray>
    const want = [f(...args)].flat() as Array<JArray>
    got.forEach((g, i) => assertSame(g, want[i]!))
    const closed = makeJaxpr(f)(...args).closed
    const ins = new Map(closed.jaxpr.invars.map((v, i) => [v.id, String(i)]))
    return simplify(closed, b).eqns.map((e) => {
      const p = e.prim === "dot_general" ? JSON.stringify(e.params) : ""
      return `${e.prim}${p}(${e.inputs.map((v) => ins.get(v.id) ?? "~").join(",")})`
    })
  })
}

/** `dot_general` parameters as `rewritten` prints them. */
const dot = (lc: Array<number>, rc: Array<number>, lb: Array<number> = [], rb: Array<number> = []): string =>
  `dot_general${JSON.stringify({ lhsContracting: lc, rhsContracting: rc, lhsBatch: lb, rhsBatch: rb })}`

/** Inputs of the dot layout tests: a ramp of step 0.25 (by default) from -1. */
const ramp = (shape: ReadonlyArray<number>, scale = 0.25): JArray => baseRamp(shape, scale, 1)

describe("dot layouts", () => {
  it("a transposed operand becomes a renumbering of the operand's axes", () => {
    assert.deepStrictEqual(
      rewritten((x, y) => jnp.matmul(x.T, y), ramp([5, 3]), ramp([5, 4])),
      [`${dot([0], [0])}(0,1)`]
    )
    assert.deepStrictEqual(
      rewritten((x, y) => jnp.matmul(x, y.T), ramp([3, 5]), ramp([4, 5])),
      [`${dot([1], [1])}(0,1)`]
    )
    // Two free axes that keep their order.
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.dotGeneral(lax.transpose(x, [1, 2, 0]), y, [
            [[2], [0]],
            [[], []]
          ]),
        ramp([5, 2, 3]),
        ramp([5, 4])
      ),
      [`${dot([0], [0])}(0,1)`]
    )
  })

  it("a transposed operand whose free axes change order, or that something else reads, stays", () => {
    // Square free axes: folding would give the same shape, transposed.
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.dotGeneral(lax.transpose(x, [1, 0, 2]), y, [
            [[2], [0]],
            [[], []]
          ]),
        ramp([3, 3, 5]),
        ramp([5, 4])
      ),
      ["transpose(0)", `${dot([2], [0])}(~,1)`]
    )
    assert.deepStrictEqual(
      rewritten((x, y) => [jnp.matmul(x.T, y), x.T.mul(2)], ramp([5, 3]), ramp([5, 4])),
      ["transpose(0)", `${dot([1], [0])}(~,1)`, "mul(~,~)"]
    )
    assert.deepStrictEqual(
      rewritten((x, y) => [jnp.matmul(x.T, y), x.T], ramp([5, 3]), ramp([5, 4])),
      ["transpose(0)", `${dot([1], [0])}(~,1)`]
    )
  })

  it("size-1 axes inserted on both sides of a contracting pair are dropped with the pair", () => {
    const x = ramp([3]),
      y = ramp([4], 0.5)
    const outer = [`${dot([], [])}(0,1)`]
    assert.deepStrictEqual(
      rewritten((x, y) => jnp.matmul(x.reshape([3, 1]), y.reshape([1, 4])), x, y),
      outer
    )
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.dotGeneral(lax.expandDims(x, [1]), lax.expandDims(y, [0]), [
            [[1], [0]],
            [[], []]
          ]),
        x,
        y
      ),
      outer
    )
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.dotGeneral(lax.broadcastInDim(x, [3, 1], [0]), lax.broadcastInDim(y, [1, 4], [1]), [
            [[1], [0]],
            [[], []]
          ]),
        x,
        y
      ),
      outer
    )
    // With a real contracting pair kept, and with batch axes renumbered.
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.dotGeneral(x.reshape([3, 5, 1]), y.reshape([5, 1, 4]), [
            [
              [1, 2],
              [0, 1]
            ],
            [[], []]
          ]),
        ramp([3, 5]),
        ramp([5, 4])
      ),
      [`${dot([1], [0])}(0,1)`]
    )
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.dotGeneral(x.reshape([2, 1, 3]), y.reshape([2, 1, 4]), [
            [[1], [1]],
            [[0], [0]]
          ]),
        ramp([2, 3]),
        ramp([2, 4])
      ).at(-1),
      `${dot([], [], [0], [0])}(0,1)`
    )
  })

  it("expand_dims marks its own axes as inserted, not a size-1 axis of the operand", () => {
    // x: [1, 3] → [1, 1, 3] with axis 0 inserted; contracting it with y's inserted axis drops the pair.
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.dotGeneral(lax.expandDims(x, [0]), lax.expandDims(y, [0]), [
            [[0], [0]],
            [[], []]
          ]),
        ramp([1, 3]),
        ramp([4])
      ),
      [`${dot([], [])}(0,1)`]
    )
    // The operand's later axes keep their numbers: a batch axis past the inserted one.
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.dotGeneral(lax.expandDims(x, [0]), lax.expandDims(y, [0]), [
            [[0], [0]],
            [[2], [1]]
          ]),
        ramp([3, 2, 5]),
        ramp([2, 4])
      ),
      [`${dot([], [], [1], [0])}(0,1)`]
    )
  })

  it("a transposed operand with batch axes renumbers them too", () => {
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.dotGeneral(lax.transpose(x, [1, 0, 2]), y, [
            [[2], [1]],
            [[0], [0]]
          ]),
        ramp([4, 2, 3]),
        ramp([2, 3, 5])
      ),
      [`${dot([2], [1], [1], [0])}(0,1)`]
    )
  })

  it("views that are not insertions on both sides of a contracted pair stay", () => {
    const x = ramp([3]),
      y = ramp([4], 0.5)
    // Inserted on one side only (the other a real size-1 axis).
    assert.deepStrictEqual(
      rewritten((x, y) => jnp.matmul(x.reshape([3, 1]), y), x, ramp([1, 4])),
      ["reshape(0)", `${dot([1], [0])}(~,1)`]
    )
    // An inserted axis that is not contracted.
    assert.deepStrictEqual(
      rewritten((x, y) => jnp.matmul(x.reshape([1, 3]), y.reshape([3, 1])), x, ramp([3])),
      ["reshape(0)", "reshape(1)", `${dot([1], [0])}(~,~)`]
    )
    // A reshape that merges axes, one that drops a size-1 axis, and a broadcast that expands.
    assert.deepStrictEqual(
      rewritten((x, y) => jnp.matmul(x.reshape([1, 6]), y.reshape([6, 1])), ramp([2, 3]), ramp([6])),
      ["reshape(0)", "reshape(1)", `${dot([1], [0])}(~,~)`]
    )
    assert.deepStrictEqual(
      rewritten((x, y) => jnp.matmul(x.reshape([1, 3]), y.reshape([3, 1])), ramp([1, 3, 1]), ramp([3, 1, 1])),
      ["reshape(0)", "reshape(1)", `${dot([1], [0])}(~,~)`]
    )
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.dotGeneral(lax.broadcastInDim(x, [3, 2], [0]), lax.broadcastInDim(y, [2, 4], [1]), [
            [[1], [0]],
            [[], []]
          ]),
        x,
        y
      ),
      ["broadcast_in_dim(0)", "broadcast_in_dim(1)", `${dot([1], [0])}(~,~)`]
    )
  })

  it("a transposed output becomes reordered batch pairs, or swapped operands", () => {
    assert.deepStrictEqual(
      rewritten((x, y) => jnp.matmul(x, y).T, ramp([3, 5]), ramp([5, 4])),
      [`${dot([0], [1])}(1,0)`]
    )
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.transpose(
            lax.dotGeneral(x, y, [
              [[3], [3]],
              [
                [0, 1],
                [0, 1]
              ]
            ]),
            [1, 0, 2, 3]
          ),
        ramp([2, 3, 4, 5]),
        ramp([2, 3, 6, 5])
      ),
      [`${dot([3], [3], [1, 0], [1, 0])}(0,1)`]
    )
    // [m, n1, n2] → [n2, n1, m] with n1 = n2 is neither: it stays.
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.transpose(
            lax.dotGeneral(x, y, [
              [[1], [0]],
              [[], []]
            ]),
            [2, 1, 0]
          ),
        ramp([3, 5]),
        ramp([5, 2, 2])
      ),
      [`${dot([1], [0])}(0,1)`, "transpose(~)"]
    )
    // The rhs has two free axes: [m, n1, n2] → [n1, n2, m].
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.transpose(
            lax.dotGeneral(x, y, [
              [[1], [0]],
              [[], []]
            ]),
            [1, 2, 0]
          ),
        ramp([3, 5]),
        ramp([5, 2, 4])
      ),
      [`${dot([0], [1])}(1,0)`]
    )
  })

  it("a transposed output that is neither stays, as does one of a dot something else reads or the program returns", () => {
    // All free axes of size 2: a wrong fold would keep the shape.
    const x = ramp([2, 2, 3]),
      y = ramp([3, 2, 2])
    const dd = (x: JArray, y: JArray) =>
      lax.dotGeneral(x, y, [
        [[2], [0]],
        [[], []]
      ])
    for (const perm of [
      [0, 1, 3, 2],
      [1, 0, 2, 3],
      [3, 2, 1, 0],
      [2, 3, 1, 0]
    ])
      assert.deepStrictEqual(
        rewritten((x, y) => lax.transpose(dd(x, y), perm), x, y),
        [`${dot([2], [0])}(0,1)`, "transpose(~)"],
        String(perm)
      )
    assert.deepStrictEqual(
      rewritten((x, y) => [lax.transpose(dd(x, y), [2, 3, 0, 1]), dd(x, y).mul(2)], x, y),
      [`${dot([2], [0])}(0,1)`, "transpose(~)", "mul(~,~)"]
    )
    assert.deepStrictEqual(
      rewritten((x, y) => [lax.transpose(dd(x, y), [2, 3, 0, 1]), dd(x, y)], x, y),
      [`${dot([2], [0])}(0,1)`, "transpose(~)"]
    )
    assert.deepStrictEqual(
      rewritten((x, y) => lax.transpose(dd(x, y), [2, 3, 0, 1]), x, y),
      [`${dot([0], [2])}(1,0)`]
    )
  })

  it("a dot operand made by an equation without operands (another front end) is read as it is", () => {
    const f32 = aval([65, 65], "float32")
    const iota: Var = { id: 8_000_000, aval: f32 }
    const x: Var = { id: 8_000_001, aval: f32 }
    const out: Var = { id: 8_000_002, aval: f32 }
    const closed: ClosedJaxpr = {
      jaxpr: {
        constvars: [],
        invars: [x],
        eqns: [
          { prim: "iota", inputs: [], outputs: [iota], params: { dtype: "float32", shape: [65, 65], dimension: 0 } },
          {
            prim: "dot_general",
            inputs: [iota, x],
            outputs: [out],
            params: { lhsContracting: [1], rhsContracting: [0], lhsBatch: [], rhsBatch: [] }
          }
        ],
        outvars: [out]
      },
      consts: []
    }
    const b = Backend.makeCpu()
    Backend.withBackend(b, () => {
      assert.deepStrictEqual(stepPrims(closed, b), [["iota"], ["dot_general"]])
      const ones = jnp.ones([65, 65])
      assert.deepStrictEqual(compilePlan(closed, b).run([ones])[0]!.get(3, 0).item(), 3 * 65)
    })
  })
})

describe("running plans", () => {
  /** A ledger backend (see `makeLedger`) whose `sin` kernel fails. */
  const makeFailing = () => {
    const ledger = makeLedger()
    const backend: BackendImpl = {
      ...ledger.backend,
      execute: (prim, inputs, inAvals, outAvals, params) => {
        if (prim === "sin") throw new Error("sin failed")
        return ledger.backend.execute(prim, inputs, inAvals, outAvals, params)
      }
    }
    return { backend, live: ledger.live }
  }

  it("each owned buffer is disposed once after its last use, even when two slots hold it; arguments never", () => {
    const { backend, live } = makeLedger()
    Backend.withBackend(backend, () => {
      const f = (x: JArray) => {
        const h = jnp.tanh(x).reshape([3, 2])
        return [h.mul(2), x.reshape([6]).add(1)]
      }
      const x = ramp([2, 3])
      const want = f(x)
      const before = new Set(live)
      const jf = jit(f)
      jf(x)
      const plan = jf.plan(x)
      const base = new Set(live)
      const got = plan.run([x])
      got.forEach((g, i) => assertSame(g, want[i]!))
      const grown = [...live].filter((b) => !base.has(b))
      assert.strictEqual(grown.length, 2)
      assert.isTrue([...before].every((b) => live.has(b)))
    })
  })

  it("a failing step disposes the owned buffers held then (each once) and no argument, and its error propagates", () => {
    const { backend, live } = makeFailing()
    Backend.withBackend(backend, () => {
      const f = (x: JArray) => {
        const r = x.reshape([6])
        const t = jnp.tanh(x)
        return jnp.sin(t.mul(2)).reshape([6]).add(r)
      }
      const x = ramp([2, 3])
      const plan = jit(f).plan(x)
      const before = new Set(live)
      assert.throws(() => plan.run([x]), /sin failed/)
      assert.deepStrictEqual([...live], [...before])
    })
  })

  it("folded values are uploaded on each call where the backend has tidy but no retain, and released", () => {
    const ledger = makeLedger()
    let uploads = 0
    const backend: BackendImpl = {
      ...ledger.backend,
      tidy: (f) => f(),
      upload: (data, a, options) => {
        uploads++
        return ledger.backend.upload(data, a, options)
      }
    }
    Backend.withBackend(backend, () => {
      const c = jnp.array([0.5, 1, 2], { dtype: "float32" }),
        x = ramp([3])
      const f = (c: JArray, x: JArray) => {
        const e = jnp.exp(c)
        return x.add(e).mul(e)
      }
      const plan = compilePlan(withConstantFirstArg(makeJaxpr(f)(c, x).closed, c), backend)
      const want = f(c, x)
      for (let call = 0; call < 2; call++) {
        const before = new Set(ledger.live)
        uploads = 0
        const [got] = plan.run([x])
        assert.strictEqual(uploads, 1)
        assert.strictEqual([...ledger.live].filter((b) => !before.has(b)).length, 1)
        assertSame(got!, want)
      }
    })
  })

  it("returns a constant as the very array, and one value returned twice as one array", () => {
    const c = jnp.array([1, 2], { dtype: "float32" })
    Backend.withBackend(Backend.makeCpu(), () => {
      const jf = jit((x: JArray) => {
        const y = x.mul(2)
        return [y, c, y]
      })
      const [a, k, b] = jf(jnp.ones([2])) as Array<JArray>
      assert.strictEqual(k, c)
      assert.strictEqual(a, b)
    })
  })
})

describe("what plans hold", () => {
  it("constants and literals inside a branch that it returns as they are are never disposed", () => {
    const { backend, live } = makeLedger()
    Backend.withBackend(backend, () => {
      const c = jnp.array([5, 6], { dtype: "float32" })
      const x = jnp.array([1, 2], { dtype: "float32" })
      const held = c.bufferOn(backend)
      const f = (x: JArray) =>
        lax
          .cond(
            x.sum().gt(0),
            () => c,
            (v: JArray) => v.mul(3),
            x
          )
          .add(1)
      const g = (x: JArray) =>
        lax
          .cond(
            x.sum().gt(0),
            () => jnp.array(7, { dtype: "float32" }),
            (v: JArray) => v.astype("int32").astype("float32").sum(),
            x
          )
          .add(1)
      const jf = jit(f),
        jg = jit(g)
      for (let call = 0; call < 2; call++) {
        assert.deepStrictEqual(jf(x).tolist(), [6, 7])
        assert.isTrue(live.has(held))
        assert.strictEqual(jg(x).item(), 8)
      }
      // A literal two programs down.
      const h = (x: JArray) =>
        lax
          .cond(
            x.sum().gt(0),
            (v: JArray) =>
              lax.cond(
                v.sum().gt(1),
                () => jnp.array(9, { dtype: "float32" }),
                (w: JArray) => w.sum(),
                v
              ),
            (v: JArray) => v.sum(),
            x
          )
          .add(1)
      const jh = jit(h)
      for (let call = 0; call < 2; call++) assert.strictEqual(jh(x).item(), 10)
      // A literal operand of an inner equation, handed back by that equation's own branch.
      const k = (x: JArray) =>
        lax
          .cond(
            x.sum().gt(0),
            (v: JArray) =>
              lax.cond(
                v.sum().gt(1),
                (w: JArray) => w,
                (w: JArray) => w.mul(2),
                jnp.array(5, { dtype: "float32" })
              ),
            (v: JArray) => v.sum(),
            x
          )
          .add(1)
      const jk = jit(k)
      for (let call = 0; call < 2; call++) assert.strictEqual(jk(x).item(), 6)
      const literal = compilePlan(makeJaxpr(g)(x).closed, backend)
      const before = new Set(live)
      literal.run([x])
      assert.isTrue([...before].every((b) => live.has(b)))
    })
  })

  it("with retain, constants and folded values are held through handles taken once when the plan is compiled", () => {
    const ledger = makeLedger()
    const retained = new Set<DeviceBuffer>()
    let uploads = 0
    const backend: BackendImpl = {
      ...ledger.backend,
      tidy: (f) => f(),
      upload: (data, a, options) => {
        uploads++
        return ledger.backend.upload(data, a, options)
      },
      retain: (b) => {
        const handle = { ...b }
        ledger.live.add(handle)
        retained.add(handle)
        return handle
      }
    }
    Backend.withBackend(backend, () => {
      const c = jnp.array([0.5, 1], { dtype: "float32" }),
        w = jnp.array([3, 4], { dtype: "float32" }),
        x = jnp.ones([2])
      const f = (c: JArray, x: JArray) => x.add(jnp.exp(c)).mul(w)
      const want = f(c, x)
      const closed = withConstantFirstArg(makeJaxpr(f)(c, x).closed, c)
      const before = new Set(ledger.live)
      const plan = compilePlan(closed, backend)
      assert.strictEqual(retained.size, 2)
      // The folded value's upload was disposed once retained: only the two handles are new.
      assert.deepStrictEqual(
        [...ledger.live].filter((b) => !before.has(b)),
        [...retained]
      )
      uploads = 0
      for (let call = 0; call < 2; call++) assertSame(plan.run([x])[0]!, want)
      assert.strictEqual(uploads, 0)
    })
  })

  it("without tidy or retain, a folded value is uploaded once, when the plan is compiled", () => {
    const base = Backend.makeCpu()
    let uploads = 0
    const backend: BackendImpl = {
      ...base,
      upload: (data, a, options) => {
        uploads++
        return base.upload(data, a, options)
      }
    }
    Backend.withBackend(backend, () => {
      const c = jnp.array([0.5, 1], { dtype: "float32" }),
        x = jnp.ones([2])
      const f = (c: JArray, x: JArray) => x.add(jnp.exp(c))
      const want = f(c, x)
      const plan = compilePlan(withConstantFirstArg(makeJaxpr(f)(c, x).closed, c), backend)
      uploads = 0
      for (let call = 0; call < 2; call++) assertSame(plan.run([x])[0]!, want)
      assert.strictEqual(uploads, 0)
    })
  })
})

describe("scheduling", () => {
  it("a fused group placed before an equation it reads waits for it, and each runs once", () => {
    const b = makeFusingCpu()
    Backend.withBackend(b, () => {
      const f = (x: JArray) => {
        const t = jnp.tanh(x)
        const sorted = jnp.sort(x)
        return [t.mul(sorted).add(t), sorted]
      }
      const x = ramp([5])
      const jf = jit(f)
      const got = jf(x) as Array<JArray>
      got.forEach((g, i) => assertSame(g, f(x)[i]!))
      assert.deepStrictEqual(
        jf.plan(x).steps.map((s) => [s.kind, ...s.prims]),
        [
          ["kernel", "sort"],
          ["fused", "tanh", "mul", "add"]
        ]
      )
      Backend.resetStats(b)
      jf(x)
      assert.deepStrictEqual([...b.stats.byPrimitive].sort(), [
        ["fused", 1],
        ["sort", 1]
      ])
    })
  })
})

describe("fusion groups", () => {
  /** The plan of `f` on the cpu with reference fusion, each step as its kind then its primitives, after checking values against `f`. */
  const fusedSteps = <Args extends ReadonlyArray<JArray>>(
    f: (...args: Args) => JArray | ReadonlyArray<JArray>,
    ...args: Args
  ): Array<Array<string>> =>
    Backend.withBackend(makeFusingCpu(), () => {
      const jf = jit(f)
      const got = [jf(...args)].flat() as Array<JArray>
      const want = [f(...args)].flat() as Array<JArray>
      got.forEach((g, i) => assertSame(g, want[i]!))
      return jf.plan(...args).steps.map((s) => [s.kind, ...s.prims])
    })
  const x = ramp([2, 3])

  it("an equation joins its operand's producer group, else a group reading the same operand, else a recent one", () => {
    assert.deepStrictEqual(
      fusedSteps((x) => {
        const a = jnp.tanh(x).mul(2)
        const b = jnp.exp(jnp.sort(a)).mul(3)
        return [b, a.sub(1), jnp.sin(x)]
      }, x),
      [
        ["fused", "tanh", "mul", "sub", "sin"],
        ["kernel", "sort"],
        ["fused", "exp", "mul"]
      ]
    )
    assert.deepStrictEqual(
      fusedSteps((x, y) => [jnp.tanh(x).mul(2), jnp.exp(y).mul(3)], x, ramp([2, 3])),
      [["fused", "tanh", "mul", "exp", "mul"]]
    )
    // A recent group of another shape is skipped without counting against the candidates.
    const shapes = [[3], [4], [5], [6], [7], [8], [9], [10], [11]]
    const steps = fusedSteps(
      (x, w, ...ys) => [jnp.tanh(x).mul(2), ...ys.map((y) => jnp.sin(y).mul(3)), jnp.exp(w).sub(1)],
      ramp([2]),
      ramp([2], 0.5),
      ...shapes.map((sh) => ramp(sh))
    )
    assert.strictEqual(steps.length, 10)
  })

  it("joining a group is refused when it would make the groups a cycle", () => {
    assert.deepStrictEqual(
      fusedSteps((x) => {
        const a = jnp.tanh(x).mul(2)
        return jnp.sort(a).add(a).mul(3)
      }, x),
      [
        ["fused", "tanh", "mul"],
        ["kernel", "sort"],
        ["fused", "add", "mul"]
      ]
    )
  })

  it("empty arrays, complex values and selects between them are never fused", () => {
    assert.deepStrictEqual(
      fusedSteps((x) => x.mul(2).add(1), jnp.ones([0, 3])),
      [
        ["kernel", "mul"],
        ["kernel", "add"]
      ]
    )
    const z = lax.complex(jnp.array(1, { dtype: "float32" }), jnp.array(2, { dtype: "float32" }))
    const steps = fusedSteps((x) => {
      const c = lax.complex(x, x.mul(2))
      return [c.mul(z).add(z), jnp.where(x.gt(0), c, z)]
    }, x)
    assert.isFalse(
      steps.some((s) => s[0] === "fused" && s.includes("select")),
      JSON.stringify(steps)
    )
    assert.isFalse(steps.some((s) => s[0] === "fused" && s.includes("add")))
  })

  it("an elementwise result outside the group is read as it is, not through its equation", () => {
    assert.deepStrictEqual(
      fusedSteps((x, y) => y.mul(jnp.negative(x)).add(1), ramp([3]), ramp([2, 3])),
      [
        ["kernel", "neg"],
        ["fused", "mul", "add"]
      ]
    )
    assert.deepStrictEqual(
      fusedSteps((x, y) => y.mul(x.astype("float32")).add(1), jnp.array([1, 2, 3], { dtype: "int32" }), ramp([2, 3])),
      [
        ["kernel", "convert_element_type"],
        ["fused", "mul", "add"]
      ]
    )
  })

  it("a reduction closes a group only when it alone reads the group's only value used outside", () => {
    const tanhSum = [["fused", "tanh", "reduce_sum"]]
    assert.deepStrictEqual(
      fusedSteps((x) => jnp.tanh(x).sum(), x),
      tanhSum
    )
    assert.deepStrictEqual(
      fusedSteps((x) => {
        const a = jnp.tanh(x)
        return [a.sum(), jnp.sort(a.mul(2))]
      }, x),
      [
        ["fused", "tanh", "mul"],
        ["kernel", "reduce_sum"],
        ["kernel", "sort"]
      ]
    )
    assert.deepStrictEqual(
      fusedSteps((x) => {
        const a = jnp.tanh(x).mul(2)
        return [a.sum(), jnp.sort(a)]
      }, x),
      [
        ["fused", "tanh", "mul"],
        ["kernel", "reduce_sum"],
        ["kernel", "sort"]
      ]
    )
    assert.deepStrictEqual(
      fusedSteps((x) => jnp.cumsum(jnp.tanh(x).mul(2), 1), x),
      [
        ["fused", "tanh", "mul"],
        ["kernel", "cumsum"]
      ]
    )
  })

  it("layout changes are read through strides where strides can express them", () => {
    assert.deepStrictEqual(
      fusedSteps((x) => lax.stopGradient(x).mul(2).add(x), x),
      [["fused", "mul", "add"]]
    )
    assert.deepStrictEqual(
      fusedSteps((x) => jnp.exp(lax.expandDims(x, [1])), x),
      [["fused", "exp"]]
    )
    assert.deepStrictEqual(
      fusedSteps((x) => jnp.exp(lax.squeeze(x, [0])), ramp([1, 3])),
      [["fused", "exp"]]
    )
    assert.deepStrictEqual(
      fusedSteps((x) => jnp.exp(x.reshape([3, 2])).mul(2), x),
      [["fused", "exp", "mul"]]
    )
    assert.deepStrictEqual(
      fusedSteps((x) => jnp.exp(x.reshape([2, 4, 3])).mul(2), ramp([2, 3, 4])),
      [["fused", "exp", "mul"]]
    )
    assert.deepStrictEqual(
      fusedSteps((x) => jnp.exp(x.T.reshape([4, 1, 3])), ramp([3, 4])),
      [["fused", "exp"]]
    )
    // Merging the axes of a transposed value is no stride pattern: the layout changes run.
    assert.deepStrictEqual(
      fusedSteps((x) => jnp.exp(x.T.reshape([12])).mul(2), ramp([3, 4])),
      [
        ["kernel", "transpose"],
        ["kernel", "reshape"],
        ["fused", "exp", "mul"]
      ]
    )
  })

  it("a single operation is fused only when a layout change it reads through disappears", () => {
    assert.deepStrictEqual(
      fusedSteps((x) => jnp.exp(x.T), x),
      [["fused", "exp"]]
    )
    assert.deepStrictEqual(
      fusedSteps((x) => [jnp.exp(x.T), x.T], x),
      [
        ["kernel", "transpose"],
        ["kernel", "exp"]
      ]
    )
    assert.deepStrictEqual(
      fusedSteps((x) => [jnp.exp(x.T), jnp.sort(x.T)], x),
      [
        ["kernel", "transpose"],
        ["kernel", "exp"],
        ["kernel", "sort"]
      ]
    )
  })

  it("a group reading an operand another group reads is joined before a more recent one, and the search stops at the first", () => {
    // `b` cannot join the group of `a` (it reads `sort(a)`), so `x` is read by two groups; `exp(x)`
    // joins the first of them.
    assert.deepStrictEqual(
      fusedSteps((x) => {
        const a = jnp.tanh(x).mul(2)
        const b = x.mul(jnp.sort(a))
        return [b, jnp.exp(x)]
      }, x),
      [
        ["fused", "tanh", "mul", "exp"],
        ["kernel", "sort"],
        ["kernel", "mul"]
      ]
    )
    // `exp(x)` joins the group that reads `x`, not an older independent one.
    assert.deepStrictEqual(
      fusedSteps(
        (x, w) => {
          const g = jnp.sin(w).mul(2)
          const b = jnp.tanh(jnp.sort(g)).mul(x)
          return [b, jnp.exp(x).sub(1)]
        },
        x,
        ramp([2, 3], 0.5)
      ),
      [
        ["fused", "sin", "mul"],
        ["kernel", "sort"],
        ["fused", "tanh", "mul", "exp", "sub"]
      ]
    )
  })

  it("every group reading an operand is a candidate, the first allowed chosen before recent groups", () => {
    // `x` is read by two groups, of which `e` may join only the second; a third, more recent group
    // would also take it.
    assert.deepStrictEqual(
      fusedSteps(
        (x, w) => {
          const a = jnp.tanh(x).mul(2)
          const s = jnp.sort(a)
          const b = x.mul(s)
          const c = jnp.exp(jnp.sort(b)).mul(w)
          return [c, x.add(jnp.cumsum(a, 1))]
        },
        x,
        ramp([2, 3], 0.5)
      ),
      [
        ["fused", "tanh", "mul"],
        ["kernel", "sort"],
        ["kernel", "cumsum"],
        ["fused", "mul", "add"],
        ["kernel", "sort"],
        ["fused", "exp", "mul"]
      ]
    )
  })

  it("keys are never fused, not even by a select", () => {
    const keys = random.split(random.key(0), 3)
    const other = random.split(random.key(1), 3)
    const b = makeFusingCpu()
    Backend.withBackend(b, () => {
      const f = (x: JArray, k: JArray, j: JArray) => lax.select(x.gt(0), k, j)
      const x = jnp.array([1, -2, 3], { dtype: "float32" })
      const jf = jit(f)
      assertSame(random.keyData(jf(x, keys, other)), random.keyData(f(x, keys, other)))
      assert.isFalse(jf.plan(x, keys, other).steps.some((s) => s.kind === "fused" && s.prims.includes("select")))
    })
  })

  it("broadcasts are read with stride 0 on their new axes and on size-1 axes", () => {
    assert.deepStrictEqual(
      fusedSteps((x) => jnp.exp(lax.broadcastInDim(x, [2, 3], [1])).mul(2), ramp([3])),
      [["fused", "exp", "mul"]]
    )
    assert.strictEqual(
      planText(makeFusingCpu(), (x) => jnp.exp(lax.broadcastInDim(x, [2, 3], [1])).mul(2), ramp([3])).split("\n")[1],
      "    b:f32[2,3] = fused[map over (2, 3): exp mul] a@(0, 1)"
    )
    assert.deepStrictEqual(
      fusedSteps((y) => jnp.exp(lax.broadcastInDim(y, [2, 3], [0, 1])).mul(2), ramp([1, 3])),
      [["fused", "exp", "mul"]]
    )
    assert.deepStrictEqual(
      fusedSteps((y) => jnp.exp(lax.broadcastInDim(y, [2, 3, 4], [0, 2])).mul(2), ramp([2, 4])),
      [["fused", "exp", "mul"]]
    )
  })

  it("merging axes of a partly transposed value is no stride pattern", () => {
    assert.deepStrictEqual(
      fusedSteps((x) => jnp.exp(lax.transpose(x, [1, 0, 2]).reshape([24])).mul(2), ramp([2, 3, 4])),
      [
        ["kernel", "transpose"],
        ["kernel", "reshape"],
        ["fused", "exp", "mul"]
      ]
    )
  })

  it("a program shares literal nodes and inputs read the same way, and rounds with its method", () => {
    const program = Backend.withBackend(makeFusingCpu(), () => {
      const f = (x: JArray) => jnp.round(x.mul(x).add(2).mul(2))
      const jf = jit(f)
      assertSame(jf(x), f(x))
      return jf.plan(x).steps[0]!.program
    })
    assert.deepStrictEqual(program, {
      shape: [2, 3],
      inputs: [{ dtype: "float32", strides: [3, 1], size: 6 }],
      nodes: [
        { kind: "input", input: 0, dtype: "float32" },
        { kind: "binary", prim: "mul", args: [0, 0], dtype: "float32" },
        { kind: "literal", value: 2, dtype: "float32" },
        { kind: "binary", prim: "add", args: [1, 2], dtype: "float32" },
        { kind: "binary", prim: "mul", args: [3, 2], dtype: "float32" },
        { kind: "round", method: "toNearestEven", arg: 4, dtype: "float32" }
      ],
      outputs: { kind: "map", nodes: [5] }
    })
  })
})

describe("plan internals", () => {
  const v = (id: number): Var => ({ id, aval: aval([], "float32") })
  const unit = (inputs: ReadonlyArray<number>, outputs: ReadonlyArray<number>) =>
    ({ kind: "eqn", eqn: { prim: "neg", params: {}, inputs: inputs.map(v), outputs: outputs.map(v) } }) as const

  it("schedule places a unit listed twice once, after what it reads", () => {
    const a = unit([0], [1])
    const b = unit([1], [2])
    const order = schedule([b, a, b] as never) as ReadonlyArray<unknown>
    assert.deepStrictEqual(order, [a, b])
  })

  it("schedule refuses units that read each other's outputs", () => {
    // root -> a -> b -> a: the cycle does not pass through the root.
    const root = unit([1], [0])
    const a = unit([2], [1])
    const b = unit([1], [2])
    assert.throws(() => schedule([root, a, b] as never), /cycle/)
    // root -> a -> root.
    assert.throws(() => schedule([unit([1], [0]), unit([0], [1])] as never), /cycle/)
  })

  it("innerArrays collects a program's constants and literals, and stops on cycles and strings", () => {
    const c = jnp.array([1, 2]) as JArray
    const lit = jnp.array(3) as JArray
    const out = jnp.array(4) as JArray
    const program = {
      jaxpr: {
        constvars: [],
        invars: [],
        eqns: [{ prim: "add", params: { inner: "text" }, inputs: [v(0), { literal: lit }], outputs: [v(1)] }],
        outvars: [v(1), { literal: out }]
      },
      consts: [c]
    }
    const cyclic: Record<string, unknown> = { name: "loop", programs: [program] }
    cyclic["self"] = cyclic
    assert.deepStrictEqual([...innerArrays(cyclic)], [c, lit, out])
    // A record with `consts` that is not a program is walked as a record.
    assert.deepStrictEqual([...innerArrays({ consts: [1, "two"], other: null, missing: undefined })], [])
  })
})

describe("dot layouts: views that are not pure insertions stay", () => {
  it("a reshape that removes a size-1 axis, and a broadcast that expands one", () => {
    // [2, 1] → [2] removes an axis of the source: reading the source would leave it as a free axis.
    assert.deepStrictEqual(
      rewritten((x, y) => jnp.dot(x.reshape([2]), y.reshape([2])), ramp([2, 1]), ramp([2, 1], 0.5)),
      ["reshape(0)", "reshape(1)", `${dot([0], [0])}(~,~)`]
    )
    // [1] → [3] repeats the element: reading the source would sum one product instead of three.
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.dotGeneral(lax.broadcastInDim(x, [3], [0]), lax.broadcastInDim(y, [3], [0]), [
            [[0], [0]],
            [[], []]
          ]),
        ramp([1]),
        ramp([1], 0.5)
      ),
      ["broadcast_in_dim(0)", "broadcast_in_dim(1)", `${dot([0], [0])}(~,~)`]
    )
  })

  it("a broadcast that expands one axis and keeps another stays", () => {
    // [1, 2] → [3, 2]: axis 1 matches, axis 0 repeats its element.
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.dotGeneral(lax.broadcastInDim(x, [3, 2], [0, 1]), lax.broadcastInDim(y, [3, 2], [0, 1]), [
            [
              [0, 1],
              [0, 1]
            ],
            [[], []]
          ]),
        ramp([1, 2]),
        ramp([1, 2], 0.5)
      ),
      ["broadcast_in_dim(0)", "broadcast_in_dim(1)", `${dot([0, 1], [0, 1])}(~,~)`]
    )
  })

  it("a real size-1 axis on the left contracted with an inserted one on the right keeps the views", () => {
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.dotGeneral(x.reshape([1, 4, 1]), y.reshape([3, 1, 1]), [
            [
              [0, 2],
              [1, 2]
            ],
            [[], []]
          ]),
        ramp([1, 4]),
        ramp([3], 0.5)
      ),
      ["reshape(0)", "reshape(1)", `${dot([0, 2], [1, 2])}(~,~)`]
    )
  })

  it("a reshape of an empty array to a longer axis inserts no axis", () => {
    // [0] → [0, 5] and [0] → [5, 0]: the 5 is no size-1 axis, though the element counts agree.
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.dotGeneral(x.reshape([0, 5]), y.reshape([5, 0]), [
            [[1], [0]],
            [[], []]
          ]),
        ramp([0]),
        ramp([0])
      ),
      ["reshape(0)", "reshape(1)", `${dot([1], [0])}(~,~)`]
    )
  })

  it("inserted axes outside a dropped pair, or paired with a real axis, keep the views", () => {
    // No pair is dropped, and each side has an inserted axis.
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.dotGeneral(lax.expandDims(x, [1]), lax.expandDims(y, [1]), [
            [[0], [0]],
            [[], []]
          ]),
        ramp([3]),
        ramp([3], 0.5)
      ),
      ["expand_dims(0)", "expand_dims(1)", `${dot([0], [0])}(~,~)`]
    )
    // One pair of inserted axes is dropped, but the left side has another inserted axis.
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.dotGeneral(x.reshape([1, 3, 1]), y.reshape([1, 4]), [
            [[0], [0]],
            [[], []]
          ]),
        ramp([3]),
        ramp([4], 0.5)
      ),
      ["reshape(0)", "reshape(1)", `${dot([0], [0])}(~,~)`]
    )
    // An inserted axis contracted with a real size-1 axis: that pair stays, and so do the views.
    assert.deepStrictEqual(
      rewritten(
        (x, y) =>
          lax.dotGeneral(x.reshape([3, 1, 1]), y.reshape([1, 4, 1]), [
            [
              [1, 2],
              [0, 2]
            ],
            [[], []]
          ]),
        ramp([3]),
        ramp([1, 4], 0.5)
      ),
      ["reshape(0)", "reshape(1)", `${dot([1, 2], [0, 2])}(~,~)`]
    )
  })
})
