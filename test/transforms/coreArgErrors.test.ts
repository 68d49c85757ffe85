/**
 * The wrong forms of coreTypes.test.ts made past the types (casts, rest parameters, `unknown`
 * parameters): each is a typed error naming what was wrong and where, raised before any tracing.
 */
import { describe, expect, it } from "vitest"
import { grad, GradError, hessian, jacfwd, jacrev, jit, jnp, StructureError, valueAndGrad, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { thrown } from "../support/thrown.ts"

const x = jnp.ones([3])
const two = (a: JArray, b: JArray) => a.mul(b).sum()
/** Options the types would refuse, as a caller that bypasses them passes them. */
const bypass = <T>(options: unknown): T => options as T

describe("core jit", () => {
  it("a static position past the arguments is a StructureError naming it, at the call", () => {
    const f = jit(two, bypass<{ staticArgnums: 1 }>({ staticArgnums: 5 }))
    const e = thrown(() => f(x, x))
    expect(e).toBeInstanceOf(StructureError)
    expect(e.message).toMatch(/^jit: staticArgnums includes 5, but the function was called with 2 arguments/)
  })

  it("a position given twice, or negative, is a StructureError when jit is made", () => {
    const twice = thrown(() => jit(two, bypass<{ staticArgnums: [1] }>({ staticArgnums: [1, 1] })))
    expect(twice).toBeInstanceOf(StructureError)
    expect(twice.message).toMatch(/staticArgnums names position 1 twice/)
    expect(thrown(() => jit(two, bypass<{ staticArgnums: 1 }>({ staticArgnums: -1 }))).message).toMatch(
      /\(non-negative integers\), got -1/
    )
  })
})

describe("core grad and valueAndGrad", () => {
  it("a string argument is a GradError naming its path", () => {
    const f = (s: unknown) => jnp.ones([]).mul(String(s).length)
    const e = thrown(() => grad(f)("weights"))
    expect(e).toBeInstanceOf(GradError)
    expect(e.message).toMatch(/^grad: args\[0\] is the string "weights", not an Array/)
  })

  it("a string inside a record is a GradError naming the path in it", () => {
    const f = (p: { readonly w: JArray; readonly name: unknown }) => p.w.sum()
    const e = thrown(() => valueAndGrad(f)({ w: x, name: "layer" }))
    expect(e).toBeInstanceOf(GradError)
    expect(e.message).toMatch(/^valueAndGrad: args\[0\]\['name'\] is the string "layer", not an Array/)
  })

  it("booleans, functions and class instances are not differentiable either", () => {
    const f = (_: unknown, y: JArray) => y.sum()
    expect(thrown(() => grad(f)(true, x)).message).toMatch(/args\[0\] is the boolean true, not an Array/)
    expect(thrown(() => grad(f)(() => 1, x)).message).toMatch(/args\[0\] is a function, not an Array/)
    expect(thrown(() => grad(f)(new Map(), x)).message).toMatch(/args\[0\] is a Map object, not an Array/)
  })

  it("a JavaScript number is a GradError saying how to make it an Array", () => {
    const e = thrown(() => grad((n: unknown) => x.mul(n as number).sum())(2))
    expect(e).toBeInstanceOf(GradError)
    expect(e.message).toMatch(/args\[0\] is the JavaScript number 2; differentiate with respect to Arrays/)
  })

  it("argnums past the arguments of a call (a rest parameter) is a GradError naming it", () => {
    const f = (...xs: ReadonlyArray<JArray>) => xs[0]!.sum()
    const e = thrown(() => grad(f, { argnums: 3 })(x, x))
    expect(e).toBeInstanceOf(GradError)
    expect(e.message).toMatch(
      /^grad: argnums 3 is out of range for a call with 2 positional arguments \(positions -2 to 1\)/
    )
  })

  it("argnums naming an argument twice, also through a negative position, is a GradError", () => {
    const f = (...xs: ReadonlyArray<JArray>) => xs[0]!.sum()
    expect(thrown(() => grad(f, bypass<{ argnums: [1] }>({ argnums: [1, 1] }))(x, x)).message).toMatch(
      /argnums names argument 1 twice \(1 and 1\)/
    )
    const e = thrown(() => valueAndGrad(f, { argnums: [0, -2] })(x, x))
    expect(e).toBeInstanceOf(GradError)
    expect(e.message).toMatch(/^valueAndGrad: argnums names argument 0 twice \(0 and -2\)/)
  })

  it("hasAux with a function that does not return a pair is a GradError", () => {
    const f = (a: JArray): unknown => a.sum()
    expect(thrown(() => grad(f, { hasAux: true })(x))).toBeInstanceOf(GradError)
  })
})

describe("core jacfwd, jacrev, hessian", () => {
  it("argnums out of range, a non-integer, or a non-Array argument is a GradError", () => {
    const f = (...xs: ReadonlyArray<unknown>) => (xs[0] as JArray).mul(2)
    const past = thrown(() => jacrev(f, { argnums: 2 })(x))
    expect(past).toBeInstanceOf(GradError)
    expect(past.message).toMatch(/^jacrev: argnums 2 is out of range for a call with 1 positional argument/)
    expect(thrown(() => jacfwd(f, bypass<{ argnums: 0 }>({ argnums: 0.5 }))).message).toMatch(
      /^jacfwd: argnums is one argument position \(an integer\), got 0\.5/
    )
    expect(thrown(() => hessian(f)("x")).message).toMatch(/argument 0 must be an Array, got string/)
    // A negative position counts from the end.
    expect(jacfwd(f, { argnums: -1 })(x).shape).toEqual([3, 3])
  })
})

describe("core vmap", () => {
  it("inAxes that are not a prefix of the arguments are a StructureError naming the path", () => {
    const e = thrown(() => vmap(two, bypass<{ inAxes: 0 }>({ inAxes: [0, 0, 0] }))(x, x))
    expect(e).toBeInstanceOf(StructureError)
    expect(e.message).toMatch(/inAxes is not a prefix of the arguments at args: expected 2 entries, got 3/)
  })
})
