/**
 * Reading test/goldens/optax.json (written by tools/goldens/optax_goldens.py): JAX results as
 * Arrays, and a float32 comparison with a tolerance.
 */
import { readFileSync } from "node:fs"
import { expect } from "vitest"
import { jnp } from "effect-nnx"

export interface Result {
  readonly shape: ReadonlyArray<number>
  readonly dtype: string
  readonly weak: boolean
  readonly data: ReadonlyArray<number | boolean | null>
}

export const goldens = JSON.parse(readFileSync(new URL("../goldens/optax.json", import.meta.url), "utf8")) as {
  readonly optimizers: {
    readonly params: ReadonlyArray<Result>
    readonly grads: ReadonlyArray<ReadonlyArray<Result>>
    readonly cases: Record<
      string,
      ReadonlyArray<{ readonly updates: ReadonlyArray<Result>; readonly params: ReadonlyArray<Result> }>
    >
  }
  readonly schedules: { readonly steps: ReadonlyArray<number>; readonly cases: Record<string, ReadonlyArray<Result>> }
  readonly losses: Record<
    string,
    { readonly args: ReadonlyArray<Result>; readonly value: Result; readonly grad: Result }
  >
  readonly metrics: Record<string, unknown>
  readonly optimizer: {
    readonly x: Result
    readonly y: Result
    readonly cases: Record<
      string,
      {
        readonly losses: ReadonlyArray<Result>
        readonly kernel: Result
        readonly bias: Result
        readonly count: number
        readonly step: Result
        readonly opt_state: ReadonlyArray<Result>
      }
    >
  }
}

/** A golden result as an Array of its dtype and shape. */
export const fromResult = (r: Result): jnp.Array => {
  const x = jnp.array(r.data as Array<number>, { dtype: r.dtype as jnp.NumericDType })
  return jnp.reshape(x, r.shape)
}

/** `got` equals `want` in shape and dtype, and in value within `atol + rtol·|want|` per element. */
export const expectClose = (
  got: jnp.Array,
  want: Result,
  what: string,
  tol: { readonly rtol?: number; readonly atol?: number } = {}
): void => {
  const rtol = tol.rtol ?? 2e-6
  const atol = tol.atol ?? 2e-7
  expect(got.shape, `${what}: shape`).toEqual(want.shape)
  expect(got.dtype, `${what}: dtype`).toBe(want.dtype)
  const g = got.flatten().tolist() as Array<number>
  want.data.forEach((w, i) => {
    const v = g[i]!
    if (typeof w === "boolean" || want.dtype !== "float32") {
      expect(v, `${what}[${i}]`).toBe(w)
      return
    }
    const ok = Math.abs(v - (w as number)) <= atol + rtol * Math.abs(w as number)
    expect(ok, `${what}[${i}] = ${v}, want ${w}`).toBe(true)
  })
}
