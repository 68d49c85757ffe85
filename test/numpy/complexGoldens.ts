/**
 * Reading test/goldens/complex_fft.json (tools/goldens/complex_fft.py) for the complex, fft and eig
 * suites: golden arrays to Arrays, and comparisons of Arrays with goldens within float32 tolerances.
 */
import * as fs from "node:fs"
import { assert } from "vitest"
import { jnp, lax } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

/** A golden array: complex ones carry `re` and `im`, real ones `data`. */
export interface G {
  readonly shape: ReadonlyArray<number>
  readonly dtype: string
  readonly weak: boolean
  readonly data?: ReadonlyArray<number | boolean | null>
  readonly re?: ReadonlyArray<number>
  readonly im?: ReadonlyArray<number>
}

/** The golden file; each suite describes the part it reads. */
export const goldens = <T>(): T =>
  JSON.parse(fs.readFileSync(new URL("../goldens/complex_fft.json", import.meta.url), "utf8")) as T

/** The golden as an Array of its dtype. */
export const fromGolden = (g: G): JArray => {
  if (g.re !== undefined && g.im !== undefined) {
    const re = jnp.array(g.re.slice(), { dtype: "float32" }).reshape(g.shape)
    const im = jnp.array(g.im.slice(), { dtype: "float32" }).reshape(g.shape)
    return lax.complex(re, im)
  }
  return jnp
    .array((g.data ?? []).map((v) => (v === null ? NaN : v)) as Array<number>, { dtype: g.dtype as "float32" })
    .reshape(g.shape)
}

/** Interleaved (re, im) values of a golden, or its real data. */
const goldenValues = (g: G): Array<number> =>
  g.re !== undefined && g.im !== undefined
    ? g.re.flatMap((r, i) => [r, g.im![i]!])
    : (g.data ?? []).map((v) => (v === null ? NaN : Number(v)))

/** Asserts that `x` has the golden's shape and dtype and values within `atol + rtol |want|`. */
export const expectGolden = (
  x: JArray,
  g: G,
  label: string,
  tol: { readonly rtol?: number; readonly atol?: number } = {}
): void => {
  const rtol = tol.rtol ?? 1e-5,
    atol = tol.atol ?? 1e-5
  assert.deepStrictEqual([...x.shape], [...g.shape], `${label}: shape`)
  assert.strictEqual(x.dtype, g.dtype, `${label}: dtype`)
  const got = Array.from(x.dataSync(), Number)
  const want = goldenValues(g)
  assert.strictEqual(got.length, want.length, `${label}: size`)
  const scale = Math.max(1, ...want.map((v) => (Number.isFinite(v) ? Math.abs(v) : 0)))
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!,
      v = got[i]!
    if (Number.isNaN(w) ? !Number.isNaN(v) : Math.abs(v - w) > atol * scale + rtol * Math.abs(w)) {
      assert.fail(`${label}: word ${i} is ${v}, JAX gives ${w}`)
    }
  }
}

/** Asserts two Arrays of one dtype and shape agree within `tol` (relative to the largest magnitude). */
export const expectAllClose = (x: JArray, y: JArray, label: string, tol = 1e-4): void => {
  assert.deepStrictEqual([...x.shape], [...y.shape], `${label}: shape`)
  assert.strictEqual(x.dtype, y.dtype, `${label}: dtype`)
  const a = x.dataSync(),
    b = y.dataSync()
  let scale = 1
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!))
  for (let i = 0; i < b.length; i++) {
    if (!(Math.abs(a[i]! - b[i]!) <= tol * scale)) assert.fail(`${label}: word ${i} is ${a[i]}, expected ${b[i]}`)
  }
}
