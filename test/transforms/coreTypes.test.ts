/**
 * Type tests of the core transforms (`jit`, `grad`, `valueAndGrad`, `jacfwd`/`jacrev`/`hessian`,
 * `vmap`, `evalShape`, `vjp`): what they infer, exactly, and the wrong forms that do not compile.
 * `npm test` type-checks this file first; each `@ts-expect-error` fails the type-check if the line
 * below it ever starts compiling. The same mistakes made past the types are run-time errors, tested
 * in coreArgErrors.test.ts.
 */
import { describe, expect, expectTypeOf, it } from "vitest"
import { evalShape, grad, hessian, jacfwd, jacrev, jit, jnp, nnx, valueAndGrad, vjp, vmap } from "effect-nnx"
import type { Abstract, Array as JArray, InAxes, Jitted, ShapeDtypeStruct } from "effect-nnx"

const two = (x: JArray, y: JArray) => x.mul(y).sum()
const withScale = (x: JArray, n: number) => x.mul(n).sum()
const ofRecord = (p: { readonly w: JArray; readonly b: JArray }, x: JArray) => x.matmul(p.w).add(p.b).sum()
const abstract = (shape: ReadonlyArray<number>): ShapeDtypeStruct => ({ shape, dtype: "float32" })

describe("core jit", () => {
  it("staticArgnums names f's parameters, each once, non-negative", () => {
    const ok = jit(withScale, { staticArgnums: 1 })
    const okList = jit(withScale, { staticArgnums: [1] })
    const none = jit(two)
    expectTypeOf(ok).toEqualTypeOf<Jitted<[x: JArray, n: number], JArray>>()
    expectTypeOf(okList).toEqualTypeOf<Jitted<[x: JArray, n: number], JArray>>()
    expectTypeOf(none).toEqualTypeOf<Jitted<[x: JArray, y: JArray], JArray>>()
    // @ts-expect-error position 5 is past f's two parameters
    const past = () => jit(withScale, { staticArgnums: 5 })
    // @ts-expect-error in a list too
    const pastInList = () => jit(withScale, { staticArgnums: [0, 2] })
    // @ts-expect-error a position given twice
    const twice = () => jit(withScale, { staticArgnums: [1, 1] })
    // @ts-expect-error static positions are not counted from the end
    const negative = () => jit(withScale, { staticArgnums: -1 })
    // A rest parameter has no fixed length: any position compiles, and a call past it is a StructureError.
    const rest = jit((...xs: ReadonlyArray<JArray>) => xs[0]!, { staticArgnums: 3 })
    expectTypeOf(rest).toEqualTypeOf<Jitted<ReadonlyArray<JArray>, JArray>>()
    expect([past, pastInList, twice, negative].every((f) => typeof f === "function")).toBe(true)
  })
})

describe("core grad and valueAndGrad", () => {
  it("infer the gradient's type from argnums: one argument, a tuple for a list, negative from the end", () => {
    expectTypeOf<ReturnType<typeof grad<[x: JArray, y: JArray], JArray>>>().toEqualTypeOf<
      (x: JArray, y: JArray) => JArray
    >()
    const g = grad(two)
    expectTypeOf(g).toEqualTypeOf<(x: JArray, y: JArray) => JArray>()
    const g1 = grad(ofRecord)
    expectTypeOf<ReturnType<typeof g1>>().toEqualTypeOf<{ readonly w: JArray; readonly b: JArray }>()
    const gBoth = grad(ofRecord, { argnums: [0, 1] })
    expectTypeOf<ReturnType<typeof gBoth>>().toEqualTypeOf<[{ readonly w: JArray; readonly b: JArray }, JArray]>()
    const gLast = grad(ofRecord, { argnums: -1 })
    expectTypeOf<ReturnType<typeof gLast>>().toEqualTypeOf<JArray>()
    const gFirst = grad(ofRecord, { argnums: -2 })
    expectTypeOf<ReturnType<typeof gFirst>>().toEqualTypeOf<{ readonly w: JArray; readonly b: JArray }>()
    const gList = grad((xs: ReadonlyArray<JArray>) => xs[0]!.sum())
    expectTypeOf<ReturnType<typeof gList>>().toEqualTypeOf<ReadonlyArray<JArray>>()
    // Arguments that are not differentiated may be anything.
    const gScaled = grad(withScale, { argnums: 0 })
    expectTypeOf<ReturnType<typeof gScaled>>().toEqualTypeOf<JArray>()
    const vg = valueAndGrad(two, { argnums: [1, 0] })
    expectTypeOf<ReturnType<typeof vg>>().toEqualTypeOf<readonly [JArray, [JArray, JArray]]>()
  })

  it("hasAux: grad gives [grad, aux], valueAndGrad gives [[value, aux], grad]", () => {
    const f = (x: JArray) => [x.sum(), { norm: x.max(), steps: 3 }] as const
    const g = grad(f, { hasAux: true })
    expectTypeOf<ReturnType<typeof g>>().toEqualTypeOf<
      readonly [JArray, { readonly norm: JArray; readonly steps: 3 }]
    >()
    const vg = valueAndGrad(f, { hasAux: true })
    expectTypeOf<ReturnType<typeof vg>>().toEqualTypeOf<
      readonly [readonly [JArray, { readonly norm: JArray; readonly steps: 3 }], JArray]
    >()
    const vgList = valueAndGrad((x: JArray, y: JArray) => [x.mul(y).sum(), y] as const, {
      hasAux: true,
      argnums: [0, 1]
    })
    expectTypeOf<ReturnType<typeof vgList>>().toEqualTypeOf<readonly [readonly [JArray, JArray], [JArray, JArray]]>()
  })

  it("registered pytree nodes (a State) are differentiable arguments", () => {
    const g = grad((s: nnx.State) => jnp.sum((s.get("w") as nnx.Param<JArray>).value))
    expectTypeOf<ReturnType<typeof g>>().toEqualTypeOf<nnx.State>()
  })

  it("reject non-Array differentiated arguments, argnums past f's parameters or repeated, non-Array values", () => {
    // @ts-expect-error a string is not differentiable
    const ofString = () => grad((s: string) => jnp.ones([]).mul(s.length))
    // @ts-expect-error nor a JavaScript number (give jnp.array(x, { dtype: "float32" }))
    const ofNumber = () => grad(withScale, { argnums: 1 })
    // @ts-expect-error nor a record holding a string
    const ofRecordWithString = () => grad((p: { w: JArray; name: string }) => p.w.sum())
    // @ts-expect-error nor a list of numbers
    const ofNumbers = () => valueAndGrad((xs: ReadonlyArray<number>) => jnp.array(xs).sum())
    // @ts-expect-error argnums 2 is past f's two parameters
    const past = () => grad(two, { argnums: 2 })
    // @ts-expect-error and -3 before them
    const before = () => valueAndGrad(two, { argnums: -3 })
    // @ts-expect-error in a list too
    const pastInList = () => grad(two, { argnums: [0, 2] })
    // @ts-expect-error argnums names each argument once
    const twice = () => grad(two, { argnums: [1, 1] })
    // @ts-expect-error f must return an Array
    const stringValue = () => grad((x: JArray) => String(x))
    // @ts-expect-error with hasAux, f must return a pair [value, aux]
    const notPair = () => grad((x: JArray) => x.sum(), { hasAux: true })
    // @ts-expect-error whose value is an Array
    const pairOfNumber = () => valueAndGrad((x: JArray) => [1, x] as const, { hasAux: true })
    expect(
      [
        ofString,
        ofNumber,
        ofRecordWithString,
        ofNumbers,
        past,
        before,
        pastInList,
        twice,
        stringValue,
        notPair,
        pairOfNumber
      ].length
    ).toBe(11)
  })

  it("vjp: the value, and a function from its cotangent to the arguments' cotangents", () => {
    const [y, back] = vjp(two, jnp.ones([2]), jnp.ones([2]))
    expectTypeOf(y).toEqualTypeOf<JArray>()
    expectTypeOf(back).toEqualTypeOf<(cotangent: JArray) => [x: JArray, y: JArray]>()
  })
})

describe("core jacfwd, jacrev, hessian", () => {
  it("argnums names one Array parameter", () => {
    const j = jacrev(ofRecord, { argnums: 1 })
    expectTypeOf(j).toEqualTypeOf<(p: { readonly w: JArray; readonly b: JArray }, x: JArray) => JArray>()
    const h = hessian((x: JArray, n: number) => x.mul(n).sum(), { argnums: -2 })
    expectTypeOf(h).toEqualTypeOf<(x: JArray, n: number) => JArray>()
    // @ts-expect-error argnums 2 is past f's two parameters
    const past = () => jacfwd(two, { argnums: 2 })
    // @ts-expect-error the differentiated argument must be an Array
    const ofNumber = () => jacrev(withScale, { argnums: 1 })
    // @ts-expect-error a record is not supported by the Jacobians (grad takes pytrees)
    const ofRecordArg = () => jacfwd(ofRecord)
    expect([past, ofNumber, ofRecordArg].length).toBe(3)
  })
})

describe("core vmap", () => {
  it("inAxes is a prefix of the argument tuple, outAxes a prefix of the output", () => {
    const v = vmap(two, { inAxes: [0, null] })
    expectTypeOf(v).toEqualTypeOf<(x: JArray, y: JArray) => JArray>()
    vmap(two, { inAxes: 1 })
    vmap(two, { inAxes: null, axisSize: 3 })
    vmap(ofRecord, { inAxes: [{ w: null, b: 0 }, 0] })
    vmap(ofRecord, { inAxes: [null, 1] })
    vmap((xs: ReadonlyArray<JArray>, y: JArray) => xs[0]!.add(y), { inAxes: [[0, 1], null] })
    const pair = vmap((x: JArray) => [x.sum(), x] as const, { outAxes: [0, 1] })
    expectTypeOf(pair).toEqualTypeOf<(x: JArray) => readonly [JArray, JArray]>()
    vmap((x: JArray) => ({ s: x.sum(), x }), { outAxes: { s: 0, x: -1 } })
    // @ts-expect-error outAxes is a prefix, not a function (JAX's out_axes is data too)
    vmap((x: JArray) => [x.sum(), x] as const, { outAxes: () => [0, 1] })
    expectTypeOf<InAxes<[x: JArray, p: { readonly w: JArray }]>>().toEqualTypeOf<
      number | null | readonly [number | null, number | null | { readonly w: number | null }]
    >()
    // @ts-expect-error one prefix per parameter: two, not three
    const three = () => vmap(two, { inAxes: [0, 0, 0] })
    // @ts-expect-error an Array argument takes an axis, not a record
    const recordForArray = () => vmap(two, { inAxes: [{ a: 0 }, 0] })
    // @ts-expect-error a record prefix names the argument's keys
    const wrongKey = () => vmap(ofRecord, { inAxes: [{ w: 0, c: 0 }, 0] })
    // @ts-expect-error an axis is a number or null
    const stringAxis = () => vmap(two, { inAxes: ["0", 0] })
    // @ts-expect-error outAxes follows the output: a pair has two entries
    const outThree = () => vmap((x: JArray) => [x.sum(), x] as const, { outAxes: [0, 1, 2] })
    expect([three, recordForArray, wrongKey, stringAxis, outThree].length).toBe(5)
  })
})

describe("core evalShape", () => {
  it("returns the output's structure with ShapeDtypeStructs for its Arrays", () => {
    const out = evalShape(
      (a: JArray, b: JArray) => ({ y: a.matmul(b), n: 3, pair: [a, b] as const }),
      abstract([2, 3]),
      abstract([3, 4])
    )
    expectTypeOf(out).toEqualTypeOf<{ y: ShapeDtypeStruct; n: number; pair: [ShapeDtypeStruct, ShapeDtypeStruct] }>()
    expect(out.y).toEqual({ shape: [2, 4], dtype: "float32" })
    expect(out.n).toBe(3)
    const one = evalShape((a: JArray) => a.sum(), jnp.ones([2]))
    expectTypeOf(one).toEqualTypeOf<ShapeDtypeStruct>()
    expectTypeOf<Abstract<ReadonlyArray<JArray>>>().toEqualTypeOf<Array<ShapeDtypeStruct>>()
    // @ts-expect-error a ShapeDtypeStruct stands for an Array argument only
    const forNumber = () => evalShape((a: JArray, n: number) => a.mul(n), abstract([2]), abstract([]))
    expect(typeof forNumber).toBe("function")
  })
})
