/**
 * The jnp functions composed in src/backend/numpy/extra*.ts against JAX: every case in
 * test/goldens/ops_extra.json (written by tools/goldens/ops_extra.py) is replayed eagerly, under
 * `jit` (equal to eager) and under `vmap` (each slice equal to the unbatched call); gradient cases
 * compare `grad` with JAX's. Then one test per kind of bad input.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { ArgumentError, AxisError, ConcretizationError, grad, jit, jnp, ShapeError, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import type { Case } from "../support/goldenOps.ts"
import { expectMatches, toArg } from "../support/goldenOps.ts"
import { sameNumber } from "../support/ramp.ts"

const goldens = JSON.parse(readFileSync(new URL("../goldens/ops_extra.json", import.meta.url), "utf8")) as {
  cases: ReadonlyArray<Case & { readonly kind?: "grad" }>
}

type Axis = number | ReadonlyArray<number> | null
interface Params {
  readonly shift?: number | ReadonlyArray<number>
  readonly axis?: Axis
  readonly k?: number
  readonly offset?: number
  readonly axis1?: number
  readonly axis2?: number
  readonly indexing?: "xy" | "ij"
  readonly nan?: number
  readonly posinf?: number
  readonly neginf?: number
  readonly equalNan?: boolean
  readonly keepdims?: boolean
  readonly ddof?: number
  readonly q?: number | ReadonlyArray<number>
  readonly size?: number
  readonly fillValue?: number | ReadonlyArray<number> | null
}
type Out = JArray | ReadonlyArray<JArray>
const reduce =
  (f: (x: JArray, axis?: Axis, o?: { keepdims?: boolean; ddof?: number }) => JArray) =>
  (p: Params, [x]: ReadonlyArray<JArray>) =>
    f(x!, p.axis ?? null, { keepdims: p.keepdims ?? false, ...(p.ddof === undefined ? {} : { ddof: p.ddof }) })
const nz = (p: Params) => ({ size: p.size, fillValue: p.fillValue ?? undefined })

const OPS: Record<string, (p: Params, args: ReadonlyArray<JArray>) => Out> = {
  arcsin: (_, [x]) => jnp.arcsin(x!),
  arccos: (_, [x]) => jnp.arccos(x!),
  arctan: (_, [x]) => jnp.arctan(x!),
  arctanh: (_, [x]) => jnp.arctanh(x!),
  sinh: (_, [x]) => jnp.sinh(x!),
  cosh: (_, [x]) => jnp.cosh(x!),
  arcsinh: (_, [x]) => jnp.arcsinh(x!),
  arccosh: (_, [x]) => jnp.arccosh(x!),
  isinf: (_, [x]) => jnp.isinf(x!),
  isnan: (_, [x]) => jnp.isnan(x!),
  isfinite: (_, [x]) => jnp.isfinite(x!),
  nanToNum: (p, [x]) =>
    jnp.nanToNum(x!, {
      ...(p.nan === undefined ? {} : { nan: p.nan }),
      ...(p.posinf === undefined ? {} : { posinf: p.posinf }),
      ...(p.neginf === undefined ? {} : { neginf: p.neginf })
    }),
  logaddexp: (_, [a, b]) => jnp.logaddexp(a!, b!),
  arrayEqual: (p, [a, b]) => jnp.arrayEqual(a!, b!, { equalNan: p.equalNan ?? false }),
  roll: (p, [x]) => jnp.roll(x!, p.shift!, p.axis),
  diag: (p, [x]) => jnp.diag(x!, p.k),
  diagonal: (p, [x]) => jnp.diagonal(x!, p.offset, p.axis1, p.axis2),
  trace: (p, [x]) => jnp.trace(x!, p.offset, p.axis1, p.axis2),
  tril: (p, [x]) => jnp.tril(x!, p.k),
  triu: (p, [x]) => jnp.triu(x!, p.k),
  meshgrid: (p, xs) => jnp.meshgrid(xs, { indexing: p.indexing! }),
  nansum: reduce(jnp.nansum),
  nanprod: reduce(jnp.nanprod),
  nanmax: reduce(jnp.nanmax),
  nanmin: reduce(jnp.nanmin),
  nanmean: reduce(jnp.nanmean),
  nanvar: reduce(jnp.nanvar),
  nanstd: reduce(jnp.nanstd),
  median: reduce(jnp.median),
  quantile: (p, [x]) => jnp.quantile(x!, p.q!, p.axis ?? null, { keepdims: p.keepdims ?? false }),
  percentile: (p, [x]) => jnp.percentile(x!, p.q!, p.axis ?? null, { keepdims: p.keepdims ?? false }),
  nonzero: (p, [x]) => jnp.nonzero(x!, nz(p)),
  argwhere: (p, [x]) => jnp.argwhere(x!, nz(p)),
  flatnonzero: (p, [x]) => jnp.flatnonzero(x!, nz(p))
}

/** Weights the golden generator multiplies by before summing, so the gradient is not all ones. */
const GRAD_WEIGHTS: Record<string, () => JArray> = {
  roll: () => jnp.reshape(jnp.arange(12, undefined, undefined, { dtype: "float32" }), [3, 4]),
  diag: () => jnp.reshape(jnp.arange(16, undefined, undefined, { dtype: "float32" }), [4, 4])
}

const run = (c: Case, args: ReadonlyArray<JArray>): Out => {
  const f = OPS[c.op]
  if (f === undefined) throw new Error(`no TypeScript mapping for golden op ${c.op}`)
  return f(c.params as Params, args)
}
const outs = (o: Out): ReadonlyArray<JArray> => (Array.isArray(o) ? (o as ReadonlyArray<JArray>) : [o as JArray])

const expectSame = (name: string, got: JArray, want: JArray): void => {
  expect(got.shape, `${name}: shape`).toEqual(want.shape)
  expect(got.dtype, `${name}: dtype`).toBe(want.dtype)
  const a = got.dataSync()
  const b = want.dataSync()
  for (let i = 0; i < b.length; i++) {
    const [g, w] = [a[i]!, b[i]!]
    const ok = sameNumber(g, w, true) || (Number.isFinite(g) && Math.abs(g - w) <= 1e-6 * (1 + Math.abs(w)))
    expect(ok, `${name}[${i}] = ${g}, want ${w}`).toBe(true)
  }
}

/** A second batch element: the first argument's elements reversed, so the two slices differ. */
const other = (x: JArray): JArray => jnp.reshape(jnp.flip(jnp.ravel(x)), x.shape)

const values = goldens.cases.filter((c) => c.kind !== "grad")
const grads = goldens.cases.filter((c) => c.kind === "grad")

describe("extra jnp functions against JAX goldens", () => {
  for (const c of values) {
    it(c.name, () => {
      const args = c.args.map(toArg) as Array<JArray>
      const got = outs(run(c, args))
      const want = c.outputs ?? [c.output!]
      expect(got.length).toBe(want.length)
      want.forEach((w, i) => expectMatches(`${c.name} #${i}`, got[i]!, w, { atol: 2e-6, rtol: 4e-6 }))
    })
  }
})

describe("extra jnp functions: jit equals eager, vmap slices equal unbatched calls", () => {
  for (const c of values) {
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

describe("extra jnp functions: grad against JAX", () => {
  for (const c of grads) {
    it(c.name, () => {
      const [x, ...rest] = c.args.map(toArg) as Array<JArray>
      const weight = GRAD_WEIGHTS[c.op]
      const g = grad((v: JArray) => {
        const y = run(c, [v, ...rest]) as JArray
        return jnp.sum(weight === undefined ? y : y.mul(weight()))
      })(x!)
      expectMatches(c.name, g, c.output!, { atol: 2e-5, rtol: 1e-4 })
    })
  }
})

describe("extra jnp functions: JavaScript scalars", () => {
  it("give JAX's weak types (weak float for arcsin, sinh, logaddexp; strong for isinf and nanToNum)", () => {
    expect(jnp.arcsin(0.5).weakType).toBe(true)
    expect(jnp.sinh(2).weakType).toBe(true)
    expect(jnp.logaddexp(1, 2).weakType).toBe(true)
    expect(jnp.isinf(2.0).weakType).toBe(false)
    expect(jnp.nanToNum(NaN).weakType).toBe(false)
  })
})

describe("extra jnp functions: bad input", () => {
  const m = jnp.reshape(jnp.arange(12, undefined, undefined, { dtype: "float32" }), [3, 4])
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
  it("diagonal with axis1 == axis2 is an AxisError", () => {
    throwsTagged(() => jnp.diagonal(m, 0, 1, -1), "AxisError", /diagonal: axis1 and axis2 must be different/)
    expect(() => jnp.trace(m, 0, 0, 0)).toThrow(AxisError)
  })
  it("diagonal, trace, tril and triu of a 1-d array are ShapeErrors", () => {
    throwsTagged(() => jnp.diagonal(jnp.arange(3)), "ShapeError", /diagonal: needs an array of at least 2 dimensions/)
    throwsTagged(() => jnp.tril(jnp.arange(3)), "ShapeError", /tril/)
    throwsTagged(() => jnp.triu(jnp.arange(3)), "ShapeError", /triu/)
  })
  it("diag of a 3-d array is a ShapeError; a fractional k an ArgumentError", () => {
    expect(() => jnp.diag(jnp.zeros([2, 2, 2]))).toThrow(ShapeError)
    throwsTagged(() => jnp.diag(jnp.arange(3), 0.5), "ArgumentError", /diag: k must be an integer/)
  })
  it("roll with mismatched shift and axis lengths is an ArgumentError; a bad axis an AxisError", () => {
    throwsTagged(
      () => jnp.roll(m, [1, 2], [0, 1, 0]),
      "ArgumentError",
      /roll: shift \(2 values\) and axis \(3 values\)/
    )
    expect(() => jnp.roll(m, 1, 2)).toThrow(AxisError)
  })
  it("meshgrid of a 2-d input or an unknown indexing is rejected", () => {
    expect(() => jnp.meshgrid([m])).toThrow(ShapeError)
    throwsTagged(
      () => jnp.meshgrid([jnp.arange(2)], { indexing: "yx" as "xy" }),
      "ArgumentError",
      /indexing must be "xy" or "ij"/
    )
  })
  it("quantile with q outside [0, 1] (percentile outside [0, 100]) is an ArgumentError", () => {
    throwsTagged(() => jnp.quantile(m, 1.5), "ArgumentError", /quantile: q must be in \[0, 1\], got 1.5/)
    throwsTagged(() => jnp.quantile(m, [0.5, -0.1]), "ArgumentError", /got -0.1/)
    throwsTagged(() => jnp.percentile(m, 101), "ArgumentError", /percentile: q must be in \[0, 100\]/)
    throwsTagged(() => jnp.quantile(m, NaN), "ArgumentError", /quantile: q must be in/)
    throwsTagged(() => jnp.median(jnp.zeros([0])), "ArgumentError", /median: cannot take a quantile over an empty axis/)
    throwsTagged(
      () => jnp.quantile(m, 0.5, null, { method: "weibull" as "linear" }),
      "ArgumentError",
      /quantile: method must be one of "linear", "lower", "higher", "midpoint", "nearest", got "weibull"/
    )
  })
  it("nan reductions with a bad axis are AxisErrors", () => {
    expect(() => jnp.nanmean(m, 2)).toThrow(AxisError)
    expect(() => jnp.nanmax(m, [0, 0])).toThrow(AxisError)
  })
  it("nonzero without size under jit or vmap is a ConcretizationError saying to pass size", () => {
    const x = jnp.array([0, 1, 2])
    throwsTagged(
      () => jit((v: JArray) => jnp.nonzero(v)[0]!)(x),
      "ConcretizationError",
      /nonzero: .*pass a static size/
    )
    expect(() => vmap((v: JArray) => jnp.argwhere(v))(jnp.stack([x, x]))).toThrow(ConcretizationError)
    expect(() => jit((v: JArray) => jnp.flatnonzero(v))(x)).toThrow(/flatnonzero: .*size/)
  })
  it("nonzero of a 0-d array, a negative size or a wrong fillValue is an ArgumentError", () => {
    throwsTagged(() => jnp.nonzero(jnp.array(3)), "ArgumentError", /nonzero: not defined on 0-d arrays/)
    expect(() => jnp.nonzero(m, { size: -1 })).toThrow(ArgumentError)
    throwsTagged(
      () => jnp.nonzero(m, { size: 2, fillValue: [1, 2, 3] }),
      "ArgumentError",
      /fillValue must be an integer or a list of 2 integers/
    )
  })
  it("argwhere of a 0-d array has shape [count, 0] as in JAX", () => {
    expect(jnp.argwhere(jnp.array(1)).shape).toEqual([1, 0])
    expect(jnp.argwhere(jnp.array(0)).shape).toEqual([0, 0])
  })
})
