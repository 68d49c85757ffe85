/**
 * jit caching and retracing, tracer misuse errors, custom derivatives, checkpointing, evalShape,
 * makeJaxpr, and transform nesting in every order.
 */
import { describe, expect, it } from "vitest"
import {
  checkpoint,
  ConcretizationError,
  customJvp,
  customVjp,
  EscapedTracerError,
  evalShape,
  grad,
  GradError,
  jacfwd,
  jacrev,
  jit,
  jnp,
  jvp,
  lax,
  linearize,
  makeJaxpr,
  nn,
  StructureError,
  valueAndGrad,
  vjp,
  vmap
} from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

const close = (a: JArray, b: JArray, tol = 1e-5): void => {
  expect(a.shape).toEqual(b.shape)
  const x = a.dataSync()
  const y = b.dataSync()
  for (let i = 0; i < x.length; i++)
    expect(Math.abs(x[i]! - y[i]!), `${i}: ${x[i]} vs ${y[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(y[i]!)))
}

describe("jit", () => {
  it("traces once per signature and replays", () => {
    let calls = 0
    const f = jit((x: JArray, y: JArray) => {
      calls++
      return jnp.tanh(x.mul(y)).sum()
    })
    const a = f(jnp.ones([3]), jnp.arange(3).astype("float32"))
    const b = f(jnp.zeros([3]), jnp.ones([3]))
    expect(f.traceCount).toBe(1)
    expect(calls).toBe(1)
    close(a, jnp.tanh(jnp.arange(3).astype("float32")).sum())
    expect(b.item()).toBe(0)
  })

  it("retraces when shapes, dtypes, structure or static values change", () => {
    const f = jit((x: unknown, n: number) => jnp.sum((x as { a: JArray }).a).mul(n), { staticArgnums: 1 })
    f({ a: jnp.ones([3]) }, 2)
    f({ a: jnp.ones([3]) }, 2)
    expect(f.traceCount).toBe(1)
    f({ a: jnp.ones([4]) }, 2)
    expect(f.traceCount).toBe(2)
    f({ a: jnp.ones([4], { dtype: "int32" }) }, 2)
    expect(f.traceCount).toBe(3)
    f({ a: jnp.ones([4]) }, 3)
    expect(f.traceCount).toBe(4)
    const g = jit((t: ReadonlyArray<JArray>) => (t.length === 1 ? t[0]! : t[0]!.add(t[1]!)))
    g([jnp.ones([2])])
    g([jnp.ones([2]), jnp.ones([2])])
    expect(g.traceCount).toBe(2)
  })

  it("prints the staged program with dead code removed", () => {
    const f = jit((x: JArray) => {
      jnp.exp(x) // unused: removed
      return jnp.sin(x).mul(2)
    })
    const text = f.lower(jnp.ones([3]))
    expect(text).toContain("sin")
    expect(text).not.toContain("exp")
    expect(makeJaxpr((x: JArray) => jnp.sin(x).mul(2))(jnp.ones([3])).toString()).toMatch(
      /^\{ lambda .*; a:f32\[3\]\. let/
    )
  })

  it("composes: jit(vmap(grad)), vmap(jit), grad(jit)", () => {
    const f = (x: JArray) => jnp.sum(jnp.tanh(x).mul(x))
    const xs = jnp.reshape(jnp.arange(6).astype("float32"), [2, 3]).mul(0.3)
    const want = vmap(grad(f))(xs)
    close(jit(vmap(grad(f)))(xs), want)
    close(vmap(jit(grad(f)))(xs), want)
    close(vmap(grad(jit(f)))(xs), want)
  })
})

describe("tracer misuse", () => {
  it("tolist/item/JavaScript comparisons on tracers are ConcretizationErrors", () => {
    expect(() => jit((x: JArray) => ((x.sum().item() as number) > 0 ? x : x.neg()))(jnp.ones([2]))).toThrow(
      ConcretizationError
    )
    expect(() => vmap((x: JArray) => x.tolist())(jnp.ones([2, 2]))).toThrow(ConcretizationError)
    expect(() => grad((x: JArray) => (+x.sum() > 0 ? x.sum() : x.sum().neg()))(jnp.ones([2]))).toThrow(/if \(x > 0\)/)
  })

  it("a tracer escaping its transform is an EscapedTracerError when used", () => {
    let leaked: JArray | undefined
    vmap((x: JArray) => {
      leaked = x
      return x
    })(jnp.ones([2, 3]))
    expect(() => leaked!.add(1)).toThrow(EscapedTracerError)
  })
})

describe("differentiation API", () => {
  it("grad options: argnums lists, hasAux, integer inputs", () => {
    const f = (x: JArray, y: JArray) => jnp.sum(x.mul(y))
    const [dx, dy] = grad(f, { argnums: [0, 1] })(jnp.ones([2]), jnp.arange(2).astype("float32"))
    expect(dx.tolist()).toEqual([0, 1])
    expect(dy.tolist()).toEqual([1, 1])
    const [[v, aux], d] = valueAndGrad((x: JArray) => [jnp.sum(x.mul(x)), "aux"] as const, { hasAux: true })(
      jnp.ones([2])
    )
    expect(v.item()).toBe(2)
    expect(aux).toBe("aux")
    expect(d.tolist()).toEqual([2, 2])
    expect(() => grad((x: JArray) => x.sum().astype("float32"))(jnp.arange(3))).toThrow(GradError)
    expect(grad((x: JArray) => x.sum().astype("float32"), { allowInt: true })(jnp.arange(3)).tolist()).toEqual([
      0, 0, 0
    ])
    expect(() => grad((x: JArray) => x)(jnp.ones([2]))).toThrow(/float32 scalar/)
    // @ts-expect-error argnums past f's parameters does not compile (the run-time check is for casts)
    expect(() => grad(f, { argnums: 3 })(jnp.ones([2]), jnp.ones([2]))).toThrow(/argnums 3 is out of range/)
  })

  it("grad(grad(f)) and jvp/vjp/linearize agree", () => {
    const d2 = grad(grad((x: JArray) => jnp.sin(x).mul(x)))
    const x = jnp.array(0.7, { dtype: "float32" })
    // d²/dx² (x sin x) = 2 cos x - x sin x
    expect(d2(x).item()).toBeCloseTo(2 * Math.cos(0.7) - 0.7 * Math.sin(0.7), 5)
    const f = (v: JArray) => jnp.tanh(v).mul(v)
    const v0 = jnp.array([0.1, -0.4, 1.2])
    const t = jnp.array([1, 2, -1], { dtype: "float32" })
    const [, jt] = jvp(f, [v0], [t])
    const [, flin] = linearize(f, v0)
    close(flin(t), jt)
    const [, back] = vjp(f, v0)
    const u = jnp.array([0.5, 1, 2])
    expect(jnp.sum(u.mul(jt)).item()).toBeCloseTo(jnp.sum(back(u)[0].mul(t)).item() as number, 5)
  })

  it("jacfwd and jacrev agree with each other", () => {
    const f = (x: JArray) => jnp.tanh(x.mul(jnp.array([1, 2, 3], { dtype: "float32" }))).mul(x.sum())
    const x = jnp.array([0.1, 0.2, -0.3])
    close(jacfwd(f)(x), jacrev(f)(x), 1e-4)
    expect(jacrev(f)(x).shape).toEqual([3, 3])
  })
})

describe("custom derivatives and checkpoint", () => {
  it("customJvp: the custom rule is used by jvp and by grad", () => {
    const f = customJvp(
      (x: JArray) => jnp.sin(x),
      ([x]: readonly [JArray], [t]: readonly [JArray]) => [jnp.sin(x), t.mul(10)] as const
    )
    expect(jvp(f, [jnp.array(0.3)], [jnp.array(1, { dtype: "float32" })])[1].item()).toBeCloseTo(10)
    expect(grad((x: JArray) => f(x).sum())(jnp.ones([2])).tolist()).toEqual([10, 10])
    expect(vmap(grad((x: JArray) => f(x)))(jnp.ones([3])).tolist()).toEqual([10, 10, 10])
  })

  it("customVjp: bwd gives the gradient; forward mode is a typed error", () => {
    const clipGrad = customVjp(
      (x: JArray) => x.mul(1),
      (x: JArray) => [x.mul(1), null] as const,
      (_res: null, g: JArray) => [jnp.clip(g, -1, 1)] as const
    )
    expect(grad((x: JArray) => jnp.sum(clipGrad(x).mul(5)))(jnp.ones([2])).tolist()).toEqual([1, 1])
    expect(() => jvp(clipGrad, [jnp.ones([2])], [jnp.ones([2])])).toThrow(GradError)
  })

  it("checkpoint gives the same gradients", () => {
    const block = (x: JArray) => jnp.tanh(jnp.sin(x).mul(x))
    const x = jnp.array([0.3, -1.2, 2])
    close(grad((v: JArray) => jnp.sum(checkpoint(block)(v)))(x), grad((v: JArray) => jnp.sum(block(v)))(x))
  })
})

describe("shapes and structure", () => {
  it("evalShape computes shapes without data", () => {
    expect(evalShape((x: JArray) => x.matmul(x.T), jnp.ones([3, 4]))).toEqual({ shape: [3, 3], dtype: "float32" })
  })

  it("scan checks that the carry keeps its type", () => {
    expect(() =>
      lax.scan((c: JArray, x: JArray) => [jnp.stack([c, x]), x] as const, jnp.array(0), jnp.arange(3))
    ).toThrow(StructureError)
    expect(() =>
      lax.cond(
        jnp.array(true),
        (x: JArray) => x,
        (x: JArray) => x.astype("float32"),
        jnp.arange(2)
      )
    ).toThrow(/branches must return the same structure and types/)
  })

  it("control flow evaluates concretely without transforms", () => {
    const [c, ys] = lax.scan((c: JArray, x: JArray) => [c.add(x), c.mul(x)] as const, jnp.array(0), jnp.arange(5))
    expect(c.item()).toBe(10)
    expect(ys.tolist()).toEqual([0, 0, 2, 9, 24])
    expect(
      lax
        .whileLoop(
          (v: JArray) => v.lt(10),
          (v: JArray) => v.mul(2),
          jnp.array(1)
        )
        .item()
    ).toBe(16)
    expect(lax.foriLoop(0, 5, (i, v: JArray) => v.add(i), jnp.array(0)).item()).toBe(10)
    expect(lax.switch(jnp.array(7), [(x: JArray) => x, (x: JArray) => x.neg()], jnp.array(3)).item()).toBe(-3)
    expect(nn.relu(jnp.array(-1)).item()).toBe(0)
  })
})
