/**
 * The jnp functions of src/backend/numpy/moreShape.ts and sets.ts against JAX: every case of
 * test/goldens/more_shape.json (written by tools/goldens/more_shape.py) eagerly, under `jit` (equal
 * to eager) and `vmap` (each slice equal to the unbatched call) where the case has array arguments
 * and a static output size; gradients against JAX's and against finite differences; the result
 * types; then one test per kind of bad input.
 */
import { readFileSync } from "node:fs"
import { describe, expect, expectTypeOf, it } from "vitest"
import { ConcretizationError, grad, jit, jnp, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import type { Case } from "../support/goldenOps.ts"
import { expectMatches, toArg } from "../support/goldenOps.ts"
import type { Out } from "../support/goldenReplay.ts"
import { expectFiniteDifferences, expectJitAndVmapAgree, outputsOf } from "../support/goldenReplay.ts"

const goldens = JSON.parse(readFileSync(new URL("../goldens/more_shape.json", import.meta.url), "utf8")) as {
  cases: ReadonlyArray<Case & { readonly kind?: "grad" }>
}

interface Params {
  readonly start?: number
  readonly stop?: number
  readonly num?: number
  readonly endpoint?: boolean
  readonly dtype?: jnp.NumericDType
  readonly n?: number
  readonly m?: number
  readonly k?: number
  readonly shape?: ReadonlyArray<number>
  readonly axes?: readonly [number, number]
  readonly sections?: number
  readonly indices?: ReadonlyArray<number>
  readonly axis?: number
  readonly increasing?: boolean
  readonly invert?: boolean
  readonly size?: number
  readonly fillValue?: number
}
const opt = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T

const OPS: Record<string, (p: Params, args: ReadonlyArray<JArray>) => Out> = {
  geomspace: (p) => jnp.geomspace(p.start!, p.stop!, p.num, opt({ endpoint: p.endpoint, dtype: p.dtype })),
  tri: (p) => jnp.tri(p.n!, p.m, opt({ k: p.k, dtype: p.dtype })),
  triuIndices: (p) => jnp.triuIndices(p.n!, p.k, p.m),
  trilIndices: (p) => jnp.trilIndices(p.n!, p.k, p.m),
  empty: (p) => jnp.empty(p.shape!, opt({ dtype: p.dtype })),
  diagflat: (p, [v]) => jnp.diagflat(v!, p.k),
  rot90: (p, [m]) => jnp.rot90(m!, p.k, p.axes),
  atLeast3d: (_, [x]) => jnp.atLeast3d(x!),
  atLeast3dMany: (_, [x, y, z]) => jnp.atLeast3d(x!, y!, z!),
  arraySplit: (p, [x]) => jnp.arraySplit(x!, p.indices ?? p.sections!, p.axis),
  vander: (p, [x]) => jnp.vander(x!, p.n, opt({ increasing: p.increasing })),
  fliplr: (_, [m]) => jnp.fliplr(m!),
  flipud: (_, [m]) => jnp.flipud(m!),
  dstack: (_, xs) => jnp.dstack(xs),
  columnStack: (_, xs) => jnp.columnStack(xs),
  append: (p, [a, v]) => jnp.append(a!, v!, p.axis),
  emptyLike: (p, [x]) => jnp.emptyLike(x!, opt({ dtype: p.dtype, shape: p.shape })),
  isin: (p, [a, b]) => jnp.isin(a!, b!, opt({ invert: p.invert })),
  setdiff1d: (p, [a, b]) => jnp.setdiff1d(a!, b!, opt({ size: p.size, fillValue: p.fillValue })),
  union1d: (p, [a, b]) => jnp.union1d(a!, b!, opt({ size: p.size, fillValue: p.fillValue })),
  intersect1d: (p, [a, b]) => jnp.intersect1d(a!, b!, opt({ size: p.size, fillValue: p.fillValue }))
}

const run = (c: Case, args: ReadonlyArray<JArray>): Out => {
  const f = OPS[c.op]
  if (f === undefined) throw new Error(`no TypeScript mapping for golden op ${c.op}`)
  return f(c.params as Params, args)
}
/** Set operations without a size have data-dependent lengths: eager only, as in JAX. */
const dataDependent = (c: Case): boolean =>
  ["setdiff1d", "union1d", "intersect1d"].includes(c.op) && (c.params as Params).size === undefined

const values = goldens.cases.filter((c) => c.kind !== "grad")
const grads = goldens.cases.filter((c) => c.kind === "grad")

describe("more creation, shape and set functions against JAX goldens", () => {
  it("covers every function of moreShape.ts and sets.ts", () => {
    const ops = new Set(goldens.cases.map((c) => c.op))
    for (const name of Object.keys(OPS)) expect(ops.has(name), name).toBe(true)
  })
  for (const c of values) {
    it(c.name, () => {
      const got = outputsOf(run(c, c.args.map(toArg) as Array<JArray>))
      const want = c.outputs ?? [c.output!]
      expect(got.length).toBe(want.length)
      want.forEach((w, i) => expectMatches(`${c.name} #${i}`, got[i]!, w, { atol: 2e-6, rtol: 4e-6 }))
    })
  }
})

describe("more creation, shape and set functions: jit equals eager, vmap slices equal unbatched calls", () => {
  for (const c of values.filter((c) => !dataDependent(c) && c.args.length > 0)) {
    it(c.name, () => expectJitAndVmapAgree(c.name, (xs) => run(c, xs), c.args.map(toArg) as Array<JArray>))
  }
})

/** sum(y * [1, 2, ..., y.size]): the loss the golden generator differentiates. */
const weightedSum = (y: JArray): JArray =>
  jnp.sum(y.mul(jnp.reshape(jnp.arange(1, y.size + 1, 1, { dtype: "float32" }), y.shape)))

describe("more creation, shape and set functions: grad against JAX and finite differences", () => {
  for (const c of grads) {
    it(c.name, () => {
      const [x, ...rest] = c.args.map(toArg) as Array<JArray>
      const loss = (v: JArray): JArray => weightedSum(run(c, [v, ...rest]) as JArray)
      const g = grad(loss)(x!)
      expectMatches(c.name, g, c.output!, { atol: 2e-5, rtol: 1e-4 })
      // Central differences in float32, one coordinate at a time; not for intersect1d and setdiff1d,
      // whose golden inputs sit on the jumps (an element equal to a test element stops being one).
      if (c.op === "intersect1d" || c.op === "setdiff1d") return
      expectFiniteDifferences(c.name, loss, x!, g)
    })
  }
})

describe("vander's gradient where x is 0", () => {
  it("is finite: the x^0 column contributes 0 (JAX's is NaN there, from 0 * 0^-1)", () => {
    const g = grad((x: JArray) => weightedSum(jnp.vander(x, 4)))(jnp.array([0, 2, -1], { dtype: "float32" }))
    // Row 0 is [x^3, x^2, x, 1] weighted by 1, 2, 3, 4: its derivative at 0 is 3.
    expect(g.tolist()).toEqual([3, 3 * 4 * 5 + 2 * 2 * 6 + 7, 3 * 1 * 9 + 2 * -1 * 10 + 11])
  })
})

describe("more creation, shape and set functions: types", () => {
  it("one array in, one array out; several in, a list out; index pairs are tuples", () => {
    const x = jnp.ones([2])
    expectTypeOf(jnp.atLeast3d(x)).toEqualTypeOf<JArray>()
    expectTypeOf(jnp.atLeast3d(x, 1)).toEqualTypeOf<Array<JArray>>()
    expectTypeOf(jnp.triuIndices(3)).toEqualTypeOf<[JArray, JArray]>()
    expectTypeOf(jnp.arraySplit(x, 2)).toEqualTypeOf<Array<JArray>>()
    expectTypeOf(jnp.setdiff1d).parameter(2).toEqualTypeOf<jnp.SetOptions | undefined>()
    const [rows, cols] = jnp.trilIndices(3)
    expect(rows.shape).toEqual([6])
    expect(cols.shape).toEqual([6])
    // @ts-expect-error atLeast3d needs an array
    expect(() => jnp.atLeast3d()).toThrow(/atLeast3d: needs at least one array/)
    // @ts-expect-error geomspace's dtype is a dtype name
    expect(() => jnp.geomspace(1, 2, 3, { dtype: "float64" })).toThrow(/not a numeric dtype/)
    // @ts-expect-error rot90's axes are a pair
    expect(() => jnp.rot90(jnp.ones([2, 2]), 1, [0])).toThrow(/axes must be a pair/)
  })
  it("a weakly typed prototype gives emptyLike a weakly typed result, as JAX's zeros_like", () => {
    const z = jnp.emptyLike(1.5)
    expect([z.dtype, z.weakType, z.shape]).toEqual(["float32", true, []])
    expect(jnp.emptyLike(1.5, { dtype: "float32" }).weakType).toBe(false)
  })
})

describe("more creation, shape and set functions: traced data-dependent lengths", () => {
  it("setdiff1d, union1d and intersect1d need a static size inside jit and vmap, naming it", () => {
    const a = jnp.array([3, 1, 2, 3])
    const b = jnp.array([2, 5])
    expect(() => jit((v: JArray) => jnp.setdiff1d(v, b))(a)).toThrow(/setdiff1d: .*pass a static size/)
    expect(() => jit((v: JArray) => jnp.union1d(a, v))(b)).toThrow(/union1d: .*pass a static size/)
    expect(() => vmap((v: JArray) => jnp.intersect1d(v, b))(jnp.stack([a, a]))).toThrow(
      /intersect1d: .*pass a static size/
    )
    expect(() => jit((v: JArray) => jnp.setdiff1d(v, b))(a)).toThrow(ConcretizationError)
    expect(jit((v: JArray) => jnp.setdiff1d(v, b, { size: 3, fillValue: -1 }))(a).tolist()).toEqual([1, 3, -1])
    expect(jit((v: JArray) => jnp.union1d(v, b, { size: 5 }))(a).tolist()).toEqual([1, 2, 3, 5, 1])
    expect(jit((v: JArray) => jnp.intersect1d(v, b, { size: 2 }))(a).tolist()).toEqual([2, 2])
  })
  it("empty inputs: sized results are all fillValue (0 for setdiff1d and intersect1d by default)", () => {
    const none = jnp.zeros([0], { dtype: "int32" })
    expect(jnp.setdiff1d(none, jnp.array([1]), { size: 2 }).tolist()).toEqual([0, 0])
    expect(jnp.intersect1d(none, jnp.array([1]), { size: 2, fillValue: 4 }).tolist()).toEqual([4, 4])
    expect(jnp.union1d(none, none, { size: 2, fillValue: 7 }).tolist()).toEqual([7, 7])
    expect(jnp.union1d(none, none).shape).toEqual([0])
    expect(jnp.setdiff1d(none, none).shape).toEqual([0])
  })
})

describe("more creation, shape and set functions: bad input", () => {
  const throwsTagged = (f: () => unknown, tag: string, text: RegExp): void => {
    let err: unknown
    try {
      f()
    } catch (e) {
      err = e
    }
    expect((err as { _tag?: string } | undefined)?._tag, String(err)).toBe(tag)
    expect(String((err as Error).message)).toMatch(text)
  }
  it("geomspace through zero, across signs, with a negative num, a misspelt option", () => {
    throwsTagged(() => jnp.geomspace(0, 10, 3), "ArgumentError", /geomspace: a geometric sequence cannot include zero/)
    throwsTagged(
      () => jnp.geomspace(-1, 10, 3),
      "ArgumentError",
      /start and stop must have the same sign, got -1 and 10/
    )
    throwsTagged(() => jnp.geomspace(1, 10, -1), "ArgumentError", /num must be a non-negative integer, got -1/)
    throwsTagged(
      () => jnp.geomspace(1, 10, 3, { endPoint: false } as never),
      "ArgumentError",
      /did you mean "endpoint"/
    )
    throwsTagged(() => jnp.geomspace(1, Infinity), "ArgumentError", /start and stop must be finite numbers/)
  })
  it("tri and the triangle indices with negative sizes or a fractional k", () => {
    throwsTagged(() => jnp.tri(-1), "ArgumentError", /tri: n must be a non-negative integer, got -1/)
    throwsTagged(() => jnp.tri(2, 3, { k: 0.5 }), "ArgumentError", /tri: k must be an integer, got 0.5/)
    throwsTagged(() => jnp.tri(2, 3, { dtype: "key<fry>" as never }), "DTypeError", /tri: not a numeric dtype/)
    throwsTagged(() => jnp.triuIndices(3, 0, -2), "ArgumentError", /triuIndices: m must be a non-negative integer/)
    throwsTagged(() => jnp.trilIndices(2.5), "ArgumentError", /trilIndices: n must be a non-negative integer, got 2.5/)
  })
  it("diagflat with a fractional k; rot90 of a vector, with equal or out-of-range axes", () => {
    throwsTagged(() => jnp.diagflat(jnp.ones([2]), 1.5), "ArgumentError", /diagflat: k must be an integer/)
    throwsTagged(() => jnp.rot90(jnp.ones([3])), "ShapeError", /rot90: needs an array of at least 2 dimensions/)
    throwsTagged(() => jnp.rot90(jnp.ones([2, 2]), 1, [1, -1]), "AxisError", /rot90: the two axes must be different/)
    throwsTagged(() => jnp.rot90(jnp.ones([2, 2]), 1, [0, 2]), "AxisError", /rot90: axis out of range/)
    throwsTagged(() => jnp.rot90(jnp.ones([2, 2]), 0.5), "ArgumentError", /rot90: k must be an integer/)
  })
  it("arraySplit into zero sections, of a scalar, along a missing axis, at fractional indices", () => {
    throwsTagged(
      () => jnp.arraySplit(jnp.ones([4]), 0),
      "ArgumentError",
      /arraySplit: the number of sections must be a positive integer, got 0/
    )
    throwsTagged(() => jnp.arraySplit(jnp.array(1), 2), "ShapeError", /arraySplit: a 0-d array has no axis/)
    throwsTagged(() => jnp.arraySplit(jnp.ones([4]), 2, 1), "AxisError", /arraySplit: axis out of range/)
    throwsTagged(() => jnp.arraySplit(jnp.ones([4]), [1.5]), "ArgumentError", /indices must be a list of integers/)
  })
  it("vander of a matrix, of booleans, with a negative n", () => {
    throwsTagged(() => jnp.vander(jnp.ones([2, 2])), "ShapeError", /vander: x must be 1-d, got 2 dimensions/)
    throwsTagged(() => jnp.vander(jnp.array([true])), "DTypeError", /vander: needs a numeric x/)
    throwsTagged(() => jnp.vander(jnp.ones([2]), -1), "ArgumentError", /vander: n must be a non-negative integer/)
  })
  it("fliplr of a vector, flipud of a scalar", () => {
    throwsTagged(() => jnp.fliplr(jnp.ones([3])), "ShapeError", /fliplr: needs an array of at least 2 dimensions/)
    throwsTagged(() => jnp.flipud(jnp.array(1)), "ShapeError", /flipud: needs an array of at least 1 dimension/)
  })
  it("dstack and columnStack of nothing or of mismatched shapes; append along a mismatched axis", () => {
    throwsTagged(() => jnp.dstack([]), "ArgumentError", /dstack: needs at least one array/)
    throwsTagged(() => jnp.columnStack([]), "ArgumentError", /columnStack: needs at least one array/)
    throwsTagged(() => jnp.dstack([jnp.ones([2]), jnp.ones([3])]), "ShapeError", /concatenate/)
    throwsTagged(() => jnp.columnStack([jnp.ones([2]), jnp.ones([3])]), "ShapeError", /concatenate/)
    throwsTagged(() => jnp.append(jnp.ones([2, 3]), jnp.ones([3]), 0), "ShapeError", /concatenate/)
    throwsTagged(() => jnp.append(jnp.ones([2, 3]), jnp.ones([2, 3]), 2), "AxisError", /axis out of range/)
  })
  it("empty of a negative shape; emptyLike with an unknown option", () => {
    throwsTagged(() => jnp.empty([2, -1]), "ArgumentError", /empty: shape must be a non-negative integer or a list/)
    throwsTagged(() => jnp.emptyLike(jnp.ones([2]), { shap: [3] } as never), "ArgumentError", /did you mean "shape"/)
  })
  it("set operations with a bad size or fillValue, an unknown option, empty inputs to a sized union", () => {
    throwsTagged(() => jnp.isin(jnp.ones([2]), 1, { inverse: true } as never), "ArgumentError", /isin: unknown option/)
    throwsTagged(
      () => jnp.setdiff1d(jnp.ones([2]), 1, { size: -1 }),
      "ArgumentError",
      /setdiff1d: size must be a non-negative integer, got -1/
    )
    throwsTagged(
      () => jnp.intersect1d(jnp.ones([2]), 1, { size: 2, fillValue: "0" as never }),
      "ArgumentError",
      /intersect1d: fillValue must be a number/
    )
    throwsTagged(
      () => jnp.union1d(jnp.zeros([0]), jnp.zeros([0]), { size: 2 }),
      "ArgumentError",
      /union1d: both arrays are empty, so size 2 needs a fillValue/
    )
  })
})
