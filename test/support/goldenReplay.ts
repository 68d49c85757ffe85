/**
 * What every golden suite of composed `jnp`/`lax` functions checks beside JAX's values
 * (test/backend/moreMath, moreShape, laxHelpers): under `jit` a function gives what it gives
 * eagerly, under `vmap` over its first argument each slice gives the unbatched call's result, and
 * its gradient agrees with central finite differences.
 */
import { expect } from "vitest"
import { jit, jnp, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { sameNumber } from "./ramp.ts"

/** One output, or several. */
export type Out = JArray | ReadonlyArray<JArray>

/** The outputs as a list. */
export const outputsOf = (o: Out): ReadonlyArray<JArray> =>
  Array.isArray(o) ? (o as ReadonlyArray<JArray>) : [o as JArray]

/** Same shape and dtype, and elements equal within 1e-6 relative (float32 tolerances on webgpu). */
export const expectSameValues = (name: string, got: JArray, want: JArray): void => {
  expect(got.shape, `${name}: shape`).toEqual(want.shape)
  expect(got.dtype, `${name}: dtype`).toBe(want.dtype)
  const a = got.dataSync()
  const b = want.dataSync()
  for (let i = 0; i < b.length; i++) {
    const [g, w] = [Number(a[i]!), Number(b[i]!)]
    expect(
      sameNumber(g, w, true) || Math.abs(g - w) <= 1e-6 * (1 + Math.abs(w)),
      `${name}[${i}] = ${g}, want ${w}`
    ).toBe(true)
  }
}

/** A second batch element: `x`'s elements reversed, so that the two slices differ. */
export const reversedLike = (x: JArray): JArray => jnp.reshape(jnp.flip(jnp.ravel(x)), x.shape)

/** `jit(run)` equals `run`, and `vmap` over the first argument equals one call per slice. */
export const expectJitAndVmapAgree = (
  name: string,
  run: (args: ReadonlyArray<JArray>) => Out,
  args: ReadonlyArray<JArray>
): void => {
  const eager = outputsOf(run(args))
  const jitted = outputsOf(jit((...xs: Array<JArray>) => run(xs))(...args))
  expect(jitted.length).toBe(eager.length)
  eager.forEach((e, i) => expectSameValues(`jit ${name} #${i}`, jitted[i]!, e))
  const [x, ...rest] = args
  const x2 = reversedLike(x!)
  const batched = outputsOf(vmap((v: JArray) => run([v, ...rest]))(jnp.stack([x!, x2])))
  const second = outputsOf(run([x2, ...rest]))
  eager.forEach((e, i) => {
    expectSameValues(`vmap ${name} #${i} slice 0`, batched[i]!.get(0), e)
    expectSameValues(`vmap ${name} #${i} slice 1`, batched[i]!.get(1), second[i]!)
  })
}

/** `g` (the gradient of the scalar `loss` at `x`) against central differences in float32, coordinate by coordinate. */
export const expectFiniteDifferences = (name: string, loss: (v: JArray) => JArray, x: JArray, g: JArray): void => {
  const base = Array.from(jnp.ravel(x).dataSync(), Number)
  const flat = Array.from(jnp.ravel(g).dataSync(), Number)
  const h = 1e-2
  base.forEach((_, i) => {
    const at = (d: number) =>
      Number(
        loss(
          jnp.reshape(
            jnp.array(
              base.map((b, k) => (k === i ? b + d : b)),
              { dtype: "float32" }
            ),
            x.shape
          )
        ).item()
      )
    const fd = (at(h) - at(-h)) / (2 * h)
    expect(Math.abs(fd - flat[i]!), `${name}: d/dx[${i}]`).toBeLessThan(2e-2 * (1 + Math.abs(fd)))
  })
}
