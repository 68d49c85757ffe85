/**
 * The jnp functions of src/backend/numpy/moreMath.ts and moreStats.ts, and the options added to
 * older ones (the reductions' `where`, `initial` and `dtype`, quantile methods, `round`'s decimals,
 * descending sorts, `moveaxis` of several axes), against JAX: every case of
 * test/goldens/more_math.json (written by tools/goldens/more_math.py) eagerly, under `jit` (equal to
 * eager) and `vmap` (each slice equal to the unbatched call); gradients against JAX's and against
 * finite differences; then one test per kind of bad input.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { ArgumentError, AxisError, DTypeError, grad, jnp, ShapeError } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import type { Case } from "../support/goldenOps.ts"
import { expectMatches, toArg } from "../support/goldenOps.ts"
import type { Out } from "../support/goldenReplay.ts"
import { expectFiniteDifferences, expectJitAndVmapAgree, outputsOf } from "../support/goldenReplay.ts"

const goldens = JSON.parse(readFileSync(new URL("../goldens/more_math.json", import.meta.url), "utf8")) as {
  cases: ReadonlyArray<Case & { readonly kind?: "grad" }>
}

interface Params {
  readonly axis?: number | null
  readonly keepdims?: boolean
  readonly initial?: number
  readonly dtype?: "int32" | "float32"
  readonly ddof?: number
  readonly bias?: boolean
  readonly rowvar?: boolean
  readonly returned?: boolean
  readonly includeInitial?: boolean
  readonly dx?: number
  readonly q?: number | ReadonlyArray<number>
  readonly method?: jnp.QuantileMethod | undefined
  readonly decimals?: number
  readonly descending?: boolean
  readonly stable?: boolean
  readonly source?: ReadonlyArray<number>
  readonly destination?: ReadonlyArray<number>
}

/** `undefined`-free options: JAX's defaults are the options left out. */
const opts = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T

/** A reduction's options: the second argument, where present, is the `where` mask. */
const reduce =
  (f: (x: JArray, axis?: number | null, o?: jnp.ReductionOptions) => JArray) =>
  (p: Params, [x, where]: ReadonlyArray<JArray>) =>
    f(x!, p.axis ?? null, opts({ keepdims: p.keepdims, initial: p.initial, dtype: p.dtype, where }))

const OPS: Record<string, (p: Params, args: ReadonlyArray<JArray>) => Out> = {
  cbrt: (_, [x]) => jnp.cbrt(x!),
  hypot: (_, [a, b]) => jnp.hypot(a!, b!),
  copysign: (_, [a, b]) => jnp.copysign(a!, b!),
  signbit: (_, [x]) => jnp.signbit(x!),
  ldexp: (_, [a, b]) => jnp.ldexp(a!, b!),
  frexp: (_, [x]) => jnp.frexp(x!),
  fmax: (_, [a, b]) => jnp.fmax(a!, b!),
  fmin: (_, [a, b]) => jnp.fmin(a!, b!),
  sinc: (_, [x]) => jnp.sinc(x!),
  heaviside: (_, [a, b]) => jnp.heaviside(a!, b!),
  deg2rad: (_, [x]) => jnp.deg2rad(x!),
  rad2deg: (_, [x]) => jnp.rad2deg(x!),
  radians: (_, [x]) => jnp.radians(x!),
  degrees: (_, [x]) => jnp.degrees(x!),
  floatPower: (_, [a, b]) => jnp.floatPower(a!, b!),
  fabs: (_, [x]) => jnp.fabs(x!),
  logaddexp2: (_, [a, b]) => jnp.logaddexp2(a!, b!),
  isposinf: (_, [x]) => jnp.isposinf(x!),
  isneginf: (_, [x]) => jnp.isneginf(x!),
  divmod: (_, [a, b]) => jnp.divmod(a!, b!),
  modf: (_, [x]) => jnp.modf(x!),
  ptp: (p, [x]) => jnp.ptp(x!, p.axis ?? null, opts({ keepdims: p.keepdims })),
  average: (p, [x, weights]) =>
    p.returned === true
      ? jnp.average(x!, p.axis ?? null, opts({ weights, keepdims: p.keepdims, returned: true as const }))
      : jnp.average(x!, p.axis ?? null, opts({ weights, keepdims: p.keepdims })),
  cov: (p, [x, y]) => jnp.cov(x!, y, opts({ rowvar: p.rowvar, bias: p.bias, ddof: p.ddof })),
  covWeighted: (_, [x]) => jnp.cov(x!).mul(jnp.arange(1, 10).astype("float32").reshape([3, 3])),
  corrcoef: (p, [x, y]) => jnp.corrcoef(x!, y, opts({ rowvar: p.rowvar })),
  nanargmax: (p, [x]) => jnp.nanargmax(x!, p.axis ?? null, opts({ keepdims: p.keepdims })),
  nanargmin: (p, [x]) => jnp.nanargmin(x!, p.axis ?? null, opts({ keepdims: p.keepdims })),
  nanmedian: (p, [x]) => jnp.nanmedian(x!, p.axis ?? null, opts({ keepdims: p.keepdims })),
  nanquantile: (p, [x]) => jnp.nanquantile(x!, p.q!, p.axis ?? null, opts({ method: p.method, keepdims: p.keepdims })),
  nanpercentile: (p, [x]) =>
    jnp.nanpercentile(x!, p.q!, p.axis ?? null, opts({ method: p.method, keepdims: p.keepdims })),
  nancumsum: (p, [x]) => jnp.nancumsum(x!, p.axis ?? null),
  nancumprod: (p, [x]) => jnp.nancumprod(x!, p.axis ?? null),
  cumulativeSum: (p, [x]) =>
    jnp.cumulativeSum(x!, opts({ axis: p.axis ?? undefined, dtype: p.dtype, includeInitial: p.includeInitial })),
  cumulativeProd: (p, [x]) =>
    jnp.cumulativeProd(x!, opts({ axis: p.axis ?? undefined, dtype: p.dtype, includeInitial: p.includeInitial })),
  trapezoid: (p, [y, x]) => jnp.trapezoid(y!, opts({ x, dx: p.dx, axis: p.axis ?? undefined })),
  sum: reduce(jnp.sum),
  prod: reduce(jnp.prod),
  max: reduce(jnp.max),
  min: reduce(jnp.min),
  sumSquares: (_, [x, where]) => jnp.sum(x!.mul(x!), null, { where: where! }),
  meanSquares: (_, [x, where]) => jnp.mean(x!.mul(x!), null, { where: where! }),
  mean: (p, [x, where]) => jnp.mean(x!, p.axis ?? null, opts({ keepdims: p.keepdims, dtype: p.dtype, where })),
  var: (p, [x, where]) => jnp.var(x!, p.axis ?? null, opts({ keepdims: p.keepdims, ddof: p.ddof, where })),
  std: (p, [x, where]) => jnp.std(x!, p.axis ?? null, opts({ keepdims: p.keepdims, ddof: p.ddof, where })),
  all: (p, [x, where]) => jnp.all(x!, p.axis ?? null, opts({ keepdims: p.keepdims, where })),
  any: (p, [x, where]) => jnp.any(x!, p.axis ?? null, opts({ keepdims: p.keepdims, where })),
  quantile: (p, [x]) => jnp.quantile(x!, p.q!, p.axis ?? null, opts({ method: p.method, keepdims: p.keepdims })),
  percentile: (p, [x]) => jnp.percentile(x!, p.q!, p.axis ?? null, opts({ method: p.method, keepdims: p.keepdims })),
  round: (p, [x]) => jnp.round(x!, p.decimals),
  sort: (p, [x]) => jnp.sort(x!, p.axis === undefined ? -1 : p.axis, opts({ descending: p.descending })),
  argsort: (p, [x]) =>
    jnp.argsort(x!, p.axis === undefined ? -1 : p.axis, opts({ descending: p.descending, stable: p.stable })),
  moveaxis: (p, [x]) => jnp.moveaxis(x!, p.source!, p.destination!)
}

const run = (c: Case, args: ReadonlyArray<JArray>): Out => {
  const f = OPS[c.op]
  if (f === undefined) throw new Error(`no TypeScript mapping for golden op ${c.op}`)
  return f(c.params as Params, args)
}
const values = goldens.cases.filter((c) => c.kind !== "grad")
const grads = goldens.cases.filter((c) => c.kind === "grad")

describe("more math and statistics against JAX goldens", () => {
  it("covers every function and option of the golden file", () => {
    expect(values.length).toBeGreaterThan(100)
    expect(grads.length).toBeGreaterThan(10)
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

describe("more math and statistics: jit equals eager, vmap slices equal unbatched calls", () => {
  for (const c of values) {
    it(c.name, () => expectJitAndVmapAgree(c.name, (xs) => run(c, xs), c.args.map(toArg) as Array<JArray>))
  }
})

describe("more math and statistics: grad against JAX and finite differences", () => {
  for (const c of grads) {
    it(c.name, () => {
      const [x, ...rest] = c.args.map(toArg) as Array<JArray>
      const loss = (v: JArray): JArray => jnp.sum(run(c, [v, ...rest]) as JArray)
      const g = grad(loss)(x!)
      expectMatches(c.name, g, c.output!, { atol: 2e-5, rtol: 1e-4 })
      expectFiniteDifferences(c.name, loss, x!, g)
    })
  }
})

describe("more math: subnormal numbers, which XLA's CPU backend flushes to zero and effect-nnx keeps", () => {
  it("ldexp scales a subnormal up, and down into the subnormals, exactly", () => {
    const x = jnp.array([1e-40, 1.5, 1, -3], { dtype: "float32" })
    const e = jnp.array([200, -140, -149, -150], { dtype: "int32" })
    // One rounding of the exact product (-3 · 2^-150 is halfway, and rounds to the even -2^-148).
    const want = [Math.fround(1e-40) * 2 ** 200, 1.5 * 2 ** -140, 2 ** -149, -3 * 2 ** -150].map(Math.fround)
    expect(want[3]).toBe(-(2 ** -148))
    expect(Array.from(jnp.ldexp(x, e).dataSync())).toEqual(want)
  })
  it("frexp of a subnormal gives a mantissa in [0.5, 1) and the exponent that restores it exactly", () => {
    const values = [1e-40, -1e-45, 2 ** -149, 1.17e-38]
    const [m, e] = jnp.frexp(jnp.array(values, { dtype: "float32" }))
    const ms = Array.from(m.dataSync())
    const es = Array.from(e.dataSync())
    values.forEach((v, i) => {
      expect(Math.abs(ms[i]!)).toBeGreaterThanOrEqual(0.5)
      expect(Math.abs(ms[i]!)).toBeLessThan(1)
      expect(ms[i]! * 2 ** es[i]!).toBe(Math.fround(v))
    })
    expect(es[2]).toBe(-148)
  })
})

describe("isclose at the infinities (JAX 0.10.2's answers)", () => {
  it("an infinity is close only to the same infinity, whatever the tolerance; NaN only with equalNan", () => {
    const f32 = (v: ReadonlyArray<number>) => jnp.array(v, { dtype: "float32" })
    const a = f32([Infinity, 1, -Infinity, Infinity, NaN, 1e30, 1])
    const b = f32([Infinity, Infinity, Infinity, 1, NaN, Infinity, 1])
    expect(jnp.isclose(a, b).tolist()).toEqual([true, false, false, false, false, false, true])
    expect(jnp.isclose(a, b, { equalNan: true }).tolist()).toEqual([true, false, false, false, true, false, true])
    expect(jnp.isclose(f32([1]), f32([Infinity]), { rtol: 10, atol: 10 }).item()).toBe(false)
    expect(jnp.allclose(f32([1, 2]), f32([1, Infinity])).item()).toBe(false)
    const z = jnp.array([
      { re: Infinity, im: 0 },
      { re: 1, im: Infinity },
      { re: 1, im: 2 }
    ])
    const w = jnp.array([
      { re: Infinity, im: 0 },
      { re: 1, im: Infinity },
      { re: 1, im: 2.00001 }
    ])
    expect(jnp.isclose(z, w).tolist()).toEqual([true, true, true])
  })
})

describe("more math and statistics: bad input", () => {
  const x = jnp.arange(6).astype("float32").reshape([2, 3])
  it("reductions: a where mask that is not bool, does not broadcast, or lacks initial for max/min", () => {
    expect(() => jnp.sum(x, null, { where: jnp.ones([2, 3]) })).toThrow(DTypeError)
    expect(() => jnp.sum(x, null, { where: jnp.ones([2, 3]) })).toThrow(/sum: the where mask must be a bool array/)
    expect(() => jnp.sum(x, null, { where: jnp.array([true, false]) })).toThrow(ShapeError)
    expect(() => jnp.max(x, 1, { where: jnp.array([true, false, true]) })).toThrow(ArgumentError)
    expect(() => jnp.min(x, 1, { where: jnp.array([true, false, true]) })).toThrow(
      /min: min has no identity, so a where mask needs an initial value/
    )
    expect(() => jnp.sum(x, null, { initial: "1" as unknown as number })).toThrow(
      /sum: initial must be a number, got string/
    )
    expect(() => jnp.sum(x, null, { dtype: "float64" as "float32" })).toThrow(
      /sum: dtype must be a numeric dtype name, got "float64"/
    )
    expect(() => jnp.sum(x, null, { dtype: "key<fry>" as "float32" })).toThrow(ArgumentError)
    expect(() => jnp.max(x, null, { dtype: "int32" } as object)).toThrow(/max: unknown option "dtype"/)
    expect(() => jnp.all(x, null, { initial: 1 } as object)).toThrow(/all: unknown option "initial"/)
    expect(() => jnp.var(x, null, { ddof: Number.NaN })).toThrow(/var: ddof must be a finite number, got NaN/)
  })
  it("an all-masked max with initial and an empty axis give the initial value; without initial, an empty max is refused", () => {
    expect(jnp.max(x, 1, { where: jnp.array([false, false, false]), initial: -7 }).tolist()).toEqual([-7, -7])
    expect(jnp.max(jnp.zeros([2, 0]), 1, { initial: 4, keepdims: true }).tolist()).toEqual([[4], [4]])
    expect(() => jnp.max(jnp.zeros([2, 0]), 1)).toThrow(ShapeError)
    expect(jnp.all(jnp.zeros([3], { dtype: "bool" }), null, { where: jnp.zeros([3], { dtype: "bool" }) }).item()).toBe(
      true
    )
    expect(jnp.any(jnp.ones([3], { dtype: "bool" }), null, { where: jnp.zeros([3], { dtype: "bool" }) }).item()).toBe(
      false
    )
  })
  it("quantile: an unknown method names the ones there are", () => {
    expect(() => jnp.quantile(x, 0.5, null, { method: "inverted_cdf" as "linear" })).toThrow(
      /quantile: method must be one of "linear", "lower", "higher", "midpoint", "nearest", got "inverted_cdf"/
    )
  })
  it("round: fractional decimals, negative decimals of integers", () => {
    expect(() => jnp.round(x, 1.5)).toThrow(/round: decimals must be an integer, got 1.5/)
    expect(() => jnp.round(jnp.array([3, 17]), -1)).toThrow(
      /round: integers cannot be rounded to negative decimals, got -1/
    )
    expect(jnp.round(jnp.array([{ re: 1.25, im: -2.75 }]), 1).tolist()).toEqual([
      { re: 1.2000000476837158, im: -2.799999952316284 }
    ])
  })
  it("sort and argsort: options that are not booleans, unknown options", () => {
    expect(() => jnp.sort(x, -1, { descending: 1 as unknown as boolean })).toThrow(
      /sort: descending must be a boolean, got number/
    )
    expect(() => jnp.argsort(x, -1, { stable: "yes" as unknown as boolean })).toThrow(
      /argsort: stable must be a boolean, got string/
    )
    expect(() => jnp.argsort(x, -1, { kind: "quicksort" } as object)).toThrow(/argsort: unknown option "kind"/)
    expect(
      jnp
        .sort(
          jnp.array([
            { re: 1, im: 2 },
            { re: 1, im: -1 },
            { re: 0, im: 5 }
          ]),
          -1,
          { descending: true }
        )
        .tolist()
    ).toEqual([
      { re: 1, im: 2 },
      { re: 1, im: -1 },
      { re: 0, im: 5 }
    ])
  })
  it("moveaxis: repeated axes, source and destination of different lengths, an axis out of range", () => {
    const a = jnp.zeros([2, 3, 4])
    expect(() => jnp.moveaxis(a, [0, 0], [1, 2])).toThrow(AxisError)
    expect(() => jnp.moveaxis(a, [0, 1], [1, 1])).toThrow(/moveaxis: repeated axis/)
    expect(() => jnp.moveaxis(a, [0, 1], [2])).toThrow(
      /moveaxis: source names 2 axes and destination 1; they must name as many/
    )
    expect(() => jnp.moveaxis(a, 3, 0)).toThrow(AxisError)
    expect(jnp.moveaxis(a, -1, 0).shape).toEqual([4, 2, 3])
  })
  it("the real-only functions refuse complex numbers and keys; ldexp an integer exponent", () => {
    const z = jnp.array([{ re: 1, im: 1 }])
    for (const f of [jnp.cbrt, jnp.sinc, jnp.fabs, jnp.deg2rad, jnp.signbit, jnp.isposinf, jnp.isneginf]) {
      expect(() => f(z)).toThrow(DTypeError)
    }
    expect(() => jnp.hypot(z, 1)).toThrow(/hypot: defined on real numbers only/)
    expect(() => jnp.copysign(1, z)).toThrow(DTypeError)
    expect(() => jnp.ldexp(1, jnp.array([1.5]))).toThrow(/ldexp: the exponent x2 must be an integer array/)
  })
  it("average: weights of another shape need one axis and one dimension of its length", () => {
    expect(() => jnp.average(x, null, { weights: jnp.ones([3]) })).toThrow(
      /average: an axis must be given when the weights' shape differs/
    )
    expect(() => jnp.average(x, [0, 1], { weights: jnp.ones([3]) })).toThrow(AxisError)
    expect(() => jnp.average(x, 1, { weights: jnp.ones([1, 3]) })).toThrow(/must be one-dimensional/)
    expect(() => jnp.average(x, 1, { weights: jnp.ones([2]) })).toThrow(
      /the weights' length 2 is not the length 3 of axis 1/
    )
    expect(() => jnp.average(x, null, { weights: jnp.ones([2, 3]), bad: 1 } as object)).toThrow(
      /average: unknown option "bad"/
    )
  })
  it("cov: more than 2 dimensions, unequal observations, a fractional ddof", () => {
    expect(() => jnp.cov(jnp.zeros([2, 2, 2]))).toThrow(/cov: m and y must have at most 2 dimensions/)
    expect(() => jnp.cov(x, jnp.zeros([4]))).toThrow(/cov: m and y must have as many observations/)
    expect(() => jnp.cov(x, null, { ddof: 0.5 })).toThrow(/cov: ddof must be an integer, got 0.5/)
    expect(jnp.corrcoef(jnp.array([1, 2, 4])).item()).toBe(1)
  })
  it("cumulativeSum needs an axis beyond one dimension and an array; trapezoid needs an array", () => {
    expect(() => jnp.cumulativeSum(x)).toThrow(
      /cumulativeSum: an axis must be given for an array of more than one dimension/
    )
    expect(() => jnp.cumulativeProd(jnp.array(3))).toThrow(/cumulativeProd: needs an array of 1 dimension or more/)
    expect(() => jnp.cumulativeSum(x, { axis: 2 })).toThrow(AxisError)
    expect(() => jnp.trapezoid(jnp.array(3))).toThrow(/trapezoid: y needs 1 dimension or more/)
    expect(jnp.trapezoid(jnp.zeros([0])).item()).toBe(0)
    expect(() => jnp.ptp(jnp.array([1]), null, { initial: 1 } as object)).toThrow(/ptp: unknown option "initial"/)
  })
  it("nanquantile: q out of range, an unknown method, an empty axis, complex numbers", () => {
    const v = jnp.array([1, Number.NaN, 3], { dtype: "float32" })
    expect(() => jnp.nanquantile(v, 1.5)).toThrow(/nanquantile: q must be in \[0, 1\], got 1.5/)
    expect(() => jnp.nanpercentile(v, -5)).toThrow(/nanpercentile: q must be in \[0, 100\], got -5/)
    expect(() => jnp.nanquantile(v, 0.5, null, { method: "inverted_cdf" as "linear" })).toThrow(
      /nanquantile: method must be one of/
    )
    expect(() => jnp.nanmedian(jnp.zeros([0]))).toThrow(/nanmedian: cannot take a quantile over an empty axis/)
    expect(() => jnp.nanmedian(v, null, { method: "lower" } as object)).toThrow(/nanmedian: unknown option "method"/)
    expect(() => jnp.nanmedian(jnp.array([{ re: 1, im: 0 }]))).toThrow(DTypeError)
    expect(jnp.nanmedian(jnp.array([3, 1, 2])).item()).toBe(2)
  })
  it("nanargmax of keys is refused; sums and means of keys too", () => {
    const k = jnp.fromHost(new Uint32Array([1, 2]), [1], "key<fry>")
    expect(() => jnp.nanargmax(k)).toThrow(DTypeError)
    expect(() => jnp.mean(k)).toThrow(DTypeError)
  })
})
