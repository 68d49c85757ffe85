/**
 * What the layer suites share: test/goldens/layers.json (written by tools/goldens/layers.py from
 * JAX and Flax NNX), conversions from its results to arrays, comparisons, and a finite-difference
 * gradient check.
 */
import { readFileSync } from "node:fs"
import { expect } from "vitest"
import { jnp, nnx } from "effect-nnx"

export interface Result {
  readonly shape: ReadonlyArray<number>
  readonly dtype: string
  readonly weak: boolean
  readonly data: ReadonlyArray<number | boolean | null>
  readonly special?: Record<string, string>
}
export interface LayerCase {
  readonly name: string
  readonly params: Record<string, { readonly kind: string; readonly value: Result }>
  readonly inputs: ReadonlyArray<Result>
  readonly outputs: Record<string, Result>
  readonly stateAfter: Record<string, Record<string, { readonly kind: string; readonly value: Result }>>
}
export interface Goldens {
  readonly initializers: ReadonlyArray<{
    readonly name: string
    readonly shape: ReadonlyArray<number>
    readonly value: Result
  }>
  readonly layers: ReadonlyArray<LayerCase>
  readonly einsum: ReadonlyArray<{
    readonly spec: string
    readonly operands: ReadonlyArray<Result>
    readonly value: Result
  }>
  readonly attention: {
    readonly inputs: Record<string, Result>
    readonly cases: ReadonlyArray<{ readonly name: string; readonly value: Result }>
  }
}

export const goldens = JSON.parse(readFileSync(new URL("../goldens/layers.json", import.meta.url), "utf8")) as Goldens

export const layerCase = (name: string): LayerCase => {
  const c = goldens.layers.find((l) => l.name === name)
  if (c === undefined) throw new Error(`no golden layer case ${name}`)
  return c
}

const flatData = (r: Result): Array<number> =>
  r.data.map((v, i) => {
    const s = r.special?.[String(i)]
    if (s !== undefined) return s === "nan" ? NaN : s === "inf" ? Infinity : -Infinity
    return Number(v)
  })

export const fromResult = (r: Result): jnp.Array =>
  jnp.reshape(jnp.array(flatData(r), { dtype: r.dtype as jnp.NumericDType }), r.shape)

const flat = (x: jnp.Array): Array<number> => {
  const l = jnp.ravel(x).tolist() as Array<number | boolean>
  return l.map(Number)
}

/** Equal shapes, and values within `atol + rtol·|expected|` (0, 0 for bit-identical). */
export const expectClose = (actual: jnp.Array, expected: Result | jnp.Array, atol = 1e-6, rtol = 1e-5): void => {
  const want = "data" in expected && !("ndim" in expected) ? flatData(expected as Result) : flat(expected as jnp.Array)
  const wantShape = "ndim" in expected ? (expected as jnp.Array).shape : (expected as Result).shape
  expect(actual.shape).toEqual([...wantShape])
  if ("data" in expected && !("ndim" in expected)) expect(actual.dtype).toBe((expected as Result).dtype)
  const got = flat(actual)
  got.forEach((g, i) => {
    const w = want[i]!
    if (Number.isNaN(w)) return expect(Number.isNaN(g)).toBe(true)
    if (Math.abs(g - w) > atol + rtol * Math.abs(w)) {
      throw new Error(`element ${i}: got ${g}, expected ${w} (shape ${actual.shape.join("x")})`)
    }
  })
}

/** Every Variable of a module by path (`a.b.0.c`), as the goldens list them. */
export const flatState = (m: nnx.Module): Map<string, { kind: string; value: jnp.Array }> => {
  const out = new Map<string, { kind: string; value: jnp.Array }>()
  for (const [path, leaf] of nnx.state(m).toFlat()) {
    const v = leaf as nnx.Variable<unknown>
    const value = v.value as jnp.Array
    out.set(path.join("."), { kind: v.kind, value: value.dtype === "key<fry>" ? jnp.asArray(0) : value })
  }
  return out
}

/** Flax's snake_case attribute names as this library spells them (`cached_key` is `cachedKey`). */
const camelPath = (path: string): string =>
  path
    .split(".")
    .map((k) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()))
    .join(".")

/** The module's parameters and statistics equal the golden ones (key data is not compared). */
export const expectState = (m: nnx.Module, want0: LayerCase["params"], atol = 1e-6): void => {
  const want = Object.fromEntries(Object.entries(want0).map(([p, v]) => [camelPath(p), v]))
  const got = flatState(m)
  expect([...got.keys()].sort()).toEqual(Object.keys(want).sort())
  for (const [path, { kind, value }] of Object.entries(want)) {
    expect(got.get(path)!.kind).toBe(kind)
    if (kind === "RngKey") continue
    expectClose(got.get(path)!.value, value, atol)
  }
}

/**
 * Central differences of the scalar `f` at `x` along a few random directions, against `grad`'s
 * directional derivative.
 */
export const checkGrad = (f: (x: jnp.Array) => jnp.Array, x: jnp.Array, g: jnp.Array, eps = 1e-2, tol = 2e-2): void => {
  const xs = flat(x)
  const gs = flat(g)
  const n = xs.length
  const dirs = [0, 1, 2].map((s) => xs.map((_, i) => Math.sin(1.3 * i + 2.1 * s + 0.7)))
  for (const d of dirs) {
    const dx = jnp.reshape(jnp.array(d), x.shape)
    const plus = Number(f(x.add(dx.mul(eps))).tolist())
    const minus = Number(f(x.sub(dx.mul(eps))).tolist())
    const fd = (plus - minus) / (2 * eps)
    let an = 0
    for (let i = 0; i < n; i++) an += gs[i]! * d[i]!
    expect(Math.abs(fd - an)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(an)))
  }
}

/** The array at `path` in a State of gradients. */
export const leafAt = (s: nnx.State, ...path: ReadonlyArray<string | number>): jnp.Array =>
  ((s as unknown as { at: (...p: ReadonlyArray<string | number>) => unknown }).at(...path) as nnx.Variable<unknown>)
    .value as jnp.Array
