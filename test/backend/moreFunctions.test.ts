/**
 * The jnp functions of src/backend/numpy/binning.ts and polynomial.ts, with `lax.associativeScan`
 * and `devicePut`, against JAX: every case of test/goldens/more_functions.json (written by
 * tools/goldens/more_functions.py) eagerly, under `jit` (equal to eager) and `vmap` (each slice
 * equal to the unbatched call); gradients against JAX's and against finite differences; then one
 * test per kind of bad input.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { ConcretizationError, devicePut, grad, jit, jnp, lax, ShapeError, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import type { Case } from "../support/goldenOps.ts"
import { expectMatches, toArg } from "../support/goldenOps.ts"

const goldens = JSON.parse(readFileSync(new URL("../goldens/more_functions.json", import.meta.url), "utf8")) as {
  cases: ReadonlyArray<Case & { readonly kind?: "grad" }>
}

interface Params {
  readonly side?: "left" | "right"
  readonly right?: boolean | number
  readonly left?: number
  readonly minlength?: number
  readonly length?: number
  readonly bins?: number
  readonly range?: readonly [number, number]
  readonly density?: boolean
  readonly size?: number
  readonly fillValue?: number
  readonly axis?: number
  readonly keepdims?: boolean
  readonly mode?: "full" | "same" | "valid"
  readonly n?: number
  readonly prepend?: number
  readonly append?: number
  readonly default?: number
  readonly start?: number
  readonly stop?: number
  readonly num?: number
  readonly base?: number
  readonly endpoint?: boolean
  readonly reverse?: boolean
}
type Out = JArray | ReadonlyArray<JArray>
const opt = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T

const OPS: Record<string, (p: Params, args: ReadonlyArray<JArray>) => Out> = {
  searchsorted: (p, [a, v]) => jnp.searchsorted(a!, v!, opt({ side: p.side })),
  digitize: (p, [x, b]) => jnp.digitize(x!, b!, p.right as boolean),
  bincount: (p, [x, w]) => jnp.bincount(x!, opt({ weights: w, minlength: p.minlength, length: p.length })),
  histogram: (p, [a, second]) =>
    p.bins === undefined
      ? jnp.histogram(a!, second!)
      : jnp.histogram(a!, p.bins, opt({ range: p.range, density: p.density, weights: second })),
  interp: (p, [x, xp, fp]) => jnp.interp(x!, xp!, fp!, opt({ left: p.left, right: p.right as number | undefined })),
  unique: (p, [x]) => jnp.unique(x!, opt({ size: p.size, fillValue: p.fillValue })),
  countNonzero: (p, [x]) => jnp.countNonzero(x!, p.axis ?? null, opt({ keepdims: p.keepdims })),
  convolve: (p, [a, v]) => jnp.convolve(a!, v!, { mode: p.mode! }),
  correlate: (p, [a, v]) => jnp.correlate(a!, v!, { mode: p.mode! }),
  polyval: (_, [c, x]) => jnp.polyval(c!, x!),
  polyvalAt: (_, [x, c]) => jnp.polyval(c!, x!),
  diff: (p, [a]) => jnp.diff(a!, p.n ?? 1, p.axis ?? -1, opt({ prepend: p.prepend, append: p.append })),
  cross: (p, [a, b]) => jnp.cross(a!, b!, opt({ axis: p.axis })),
  kron: (_, [a, b]) => jnp.kron(a!, b!),
  select: (p, [c1, c2, x]) => jnp.select([c1!, c2!], [x!, x!.mul(10)], p.default),
  lexsort: (_, keys) => jnp.lexsort(keys),
  logspace: (p) => jnp.logspace(p.start!, p.stop!, p.num, opt({ base: p.base, endpoint: p.endpoint })),
  associativeScan: (p, [x]) => lax.associativeScan(jnp.add, x!, opt({ reverse: p.reverse, axis: p.axis })),
  associativeScanMul: (_, [x]) => lax.associativeScan(jnp.multiply, x!),
  associativeScanMatmul: (p, [x]) => lax.associativeScan(jnp.matmul, x!, opt({ reverse: p.reverse }))
}

/** What the golden generator multiplies by before summing, so a gradient is not all ones. */
const GRAD_WEIGHTS: Record<string, () => JArray> = {
  convolve: () => jnp.arange(7, undefined, undefined, { dtype: "float32" }),
  diff: () => jnp.arange(1, 4, undefined, { dtype: "float32" }),
  cross: () => jnp.array([1, 2, 3], { dtype: "float32" })
}

const run = (c: Case, args: ReadonlyArray<JArray>): Out => {
  const f = OPS[c.op]
  if (f === undefined) throw new Error(`no TypeScript mapping for golden op ${c.op}`)
  return f(c.params as Params, args)
}
const outs = (o: Out): ReadonlyArray<JArray> => (Array.isArray(o) ? (o as ReadonlyArray<JArray>) : [o as JArray])

/** Cases whose output length depends on the data: eager only, as in JAX. */
const dataDependent = (c: Case): boolean => {
  const p = c.params as Params
  return (
    (c.op === "unique" && p.size === undefined) ||
    (c.op === "bincount" && p.length === undefined) ||
    (c.op === "histogram" && p.bins !== undefined && p.range === undefined)
  )
}

const expectSame = (name: string, got: JArray, want: JArray): void => {
  expect(got.shape, `${name}: shape`).toEqual(want.shape)
  expect(got.dtype, `${name}: dtype`).toBe(want.dtype)
  const a = got.dataSync()
  const b = want.dataSync()
  for (let i = 0; i < b.length; i++) {
    const [g, w] = [Number(a[i]!), Number(b[i]!)]
    expect(Object.is(g, w) || Math.abs(g - w) <= 1e-6 * (1 + Math.abs(w)), `${name}[${i}] = ${g}, want ${w}`).toBe(true)
  }
}

/** A second batch element: the first argument's elements reversed, so the two slices differ. */
const other = (x: JArray): JArray => jnp.reshape(jnp.flip(jnp.ravel(x)), x.shape)

const values = goldens.cases.filter((c) => c.kind !== "grad")
const grads = goldens.cases.filter((c) => c.kind === "grad")

describe("more jnp functions against JAX goldens", () => {
  for (const c of values) {
    it(c.name, () => {
      const got = outs(run(c, c.args.map(toArg) as Array<JArray>))
      const want = c.outputs ?? [c.output!]
      expect(got.length).toBe(want.length)
      want.forEach((w, i) => expectMatches(`${c.name} #${i}`, got[i]!, w, { atol: 2e-6, rtol: 4e-6 }))
    })
  }
})

describe("more jnp functions: jit equals eager, vmap slices equal unbatched calls", () => {
  for (const c of values.filter((c) => !dataDependent(c) && c.args.length > 0)) {
    it(c.name, () => {
      const args = c.args.map(toArg) as Array<JArray>
      const eager = outs(run(c, args))
      const jitted = outs(jit((...xs: Array<JArray>) => run(c, xs))(...args))
      eager.forEach((e, i) => expectSame(`jit ${c.name} #${i}`, jitted[i]!, e))
      const [x, ...rest] = args
      const x2 = other(x!)
      const batched = outs(vmap((v: JArray) => run(c, [v, ...rest]))(jnp.stack([x!, x2])))
      const second = outs(run(c, [x2, ...rest]))
      eager.forEach((e, i) => {
        expectSame(`vmap ${c.name} #${i} slice 0`, batched[i]!.get(0), e)
        expectSame(`vmap ${c.name} #${i} slice 1`, batched[i]!.get(1), second[i]!)
      })
    })
  }
})

describe("more jnp functions: grad against JAX and finite differences", () => {
  for (const c of grads) {
    it(c.name, () => {
      const [x, ...rest] = c.args.map(toArg) as Array<JArray>
      const weight = GRAD_WEIGHTS[c.op]
      const loss = (v: JArray): JArray => {
        const y = run(c, [v, ...rest]) as JArray
        return jnp.sum(weight === undefined ? y : y.mul(weight()))
      }
      const g = grad(loss)(x!)
      expectMatches(c.name, g, c.output!, { atol: 2e-5, rtol: 1e-4 })
      // Central differences in float32, one coordinate at a time.
      const base = x!.tolist() as Array<number>
      const h = 1e-2
      base.forEach((_, i) => {
        const at = (d: number) =>
          Number(
            loss(
              jnp.array(
                base.map((b, k) => (k === i ? b + d : b)),
                { dtype: "float32" }
              )
            ).item()
          )
        const fd = (at(h) - at(-h)) / (2 * h)
        expect(Math.abs(fd - Number(g.get(i).item())), `${c.name}: d/dx[${i}]`).toBeLessThan(2e-2 * (1 + Math.abs(fd)))
      })
    })
  }
})

describe("more jnp functions: traced data-dependent lengths", () => {
  it("unique, bincount and histogram need a static size, length or range inside jit, naming it", () => {
    const x = jnp.array([1, 2, 2])
    expect(() => jit((v: JArray) => jnp.unique(v))(x)).toThrow(/unique: .*pass a static size/)
    expect(() => jit((v: JArray) => jnp.bincount(v))(x)).toThrow(/bincount: .*pass a static length/)
    expect(() => jit((v: JArray) => jnp.histogram(v, 3)[0])(x.astype("float32"))).toThrow(/histogram: .*pass range/)
    expect(() => jit((v: JArray) => jnp.unique(v))(x)).toThrow(ConcretizationError)
    expect(jit((v: JArray) => jnp.unique(v, { size: 3, fillValue: 0 }))(x).tolist()).toEqual([1, 2, 0])
  })
})

describe("more jnp functions: bad input", () => {
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
  it("searchsorted of a 2-d sorted array is a ShapeError; a bad side an ArgumentError", () => {
    throwsTagged(() => jnp.searchsorted(jnp.zeros([2, 2]), 1), "ShapeError", /searchsorted: a must be 1-d/)
    throwsTagged(
      () => jnp.searchsorted(jnp.zeros([2]), 1, { side: "middle" as "left" }),
      "ArgumentError",
      /side must be "left" or "right"/
    )
    throwsTagged(() => jnp.searchsorted(jnp.zeros([2]), 1, { sid: "left" } as never), "ArgumentError", /searchsorted/)
  })
  it("bincount of floats, a negative minlength, mismatched weights", () => {
    throwsTagged(
      () => jnp.bincount(jnp.array([1.5])),
      "ArgumentError",
      /bincount: x must be an integer array, got float32/
    )
    throwsTagged(
      () => jnp.bincount(jnp.array([1]), { minlength: -1 }),
      "ArgumentError",
      /minlength must be a non-negative integer/
    )
    expect(() => jnp.bincount(jnp.array([1, 2]), { weights: jnp.ones([3]) })).toThrow(ShapeError)
    // The weights are checked before the number of bins is read from x: a traced x without a static
    // length gets the ShapeError, not a ConcretizationError.
    expect(() => jit((x: JArray) => jnp.bincount(x, { weights: jnp.ones([3]) }))(jnp.array([1, 2]))).toThrow(ShapeError)
  })
  it("histogram with zero bins or a decreasing range; interp with unequal xp and fp", () => {
    throwsTagged(() => jnp.histogram(jnp.ones([3]), 0), "ArgumentError", /bins must be a positive integer/)
    throwsTagged(() => jnp.histogram(jnp.ones([3]), 2, { range: [1, 0] }), "ArgumentError", /range must be increasing/)
    throwsTagged(
      () => jnp.interp(0.5, jnp.ones([3]), jnp.ones([2])),
      "ShapeError",
      /interp: xp and fp must have the same length/
    )
  })
  it("convolve with an unknown mode or an empty input; cross of 4-vectors; diff of a scalar", () => {
    throwsTagged(
      () => jnp.convolve(jnp.ones([3]), jnp.ones([2]), { mode: "circular" as "full" }),
      "ArgumentError",
      /mode must be "full", "same" or "valid"/
    )
    throwsTagged(() => jnp.convolve(jnp.ones([3]), jnp.ones([0])), "ArgumentError", /must not be empty/)
    throwsTagged(
      () => jnp.cross(jnp.ones([4]), jnp.ones([4])),
      "ShapeError",
      /must have 2 or 3 components, got 4 and 4/
    )
    throwsTagged(() => jnp.diff(jnp.array(1)), "ShapeError", /diff: needs an array of at least 1 dimension/)
    throwsTagged(() => jnp.diff(jnp.ones([3]), -1), "ArgumentError", /n must be a non-negative integer/)
  })
  it("select with unequal lists or a non-boolean condition; lexsort without keys", () => {
    throwsTagged(
      () => jnp.select([jnp.array([true])], []),
      "ArgumentError",
      /condlist has 1 entries but choicelist has 0/
    )
    throwsTagged(
      () => jnp.select([jnp.array([1])], [jnp.array([2])]),
      "ArgumentError",
      /condlist\[0\] must be a boolean array/
    )
    throwsTagged(() => jnp.lexsort([]), "ArgumentError", /lexsort: needs at least one key/)
  })
  it("associativeScan of arrays of different lengths is an ArgumentError", () => {
    throwsTagged(
      () =>
        lax.associativeScan(
          (a: ReadonlyArray<JArray>, b: ReadonlyArray<JArray>) => [jnp.add(a[0]!, b[0]!), jnp.add(a[1]!, b[1]!)],
          [jnp.ones([3]), jnp.ones([2])]
        ),
      "ArgumentError",
      /same length along axis 0/
    )
  })
})

describe("devicePut", () => {
  it("returns its argument's arrays unchanged (one device)", () => {
    const x = jnp.arange(3)
    const placed = devicePut({ x, y: [x] })
    expect(placed.x).toBe(x)
    expect(placed.y[0]).toBe(x)
  })
})
