/**
 * Property tests of the first-order differentiation rules over random shapes and values, for a family
 * of scalar functions that together use every differentiable first-order primitive:
 * - `grad` matches central finite differences along a random direction;
 * - reverse and forward mode agree (`<u, J v>` both ways) and `linearize` matches `jvp`;
 * - second order: reverse-over-reverse, forward-over-reverse and forward-over-forward Hessian-vector
 *   products match finite differences of the gradient (the rules are themselves differentiable);
 * - `jit(grad(f))` and `vmap(grad(f))` agree with `grad(f)`.
 *
 * Inputs are drawn away from kinks and discontinuities (ties of max/min/sort, zeros of abs, the
 * threshold of a `where`), so that finite differences in float32 are meaningful.
 */
import { test } from "@fast-check/vitest"
import { describe, expect } from "vitest"
import { jit, jnp, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { jvp, linearize } from "../../src/transforms/core/jvp.ts"
import { vjp } from "../../src/transforms/core/reverse.ts"
import { axpy, cases, gradAll, seedArb, setup, shapeArb, uniform } from "../support/properties/autodiff.ts"

// ---- checks -------------------------------------------------------------------------------------

const dotAll = (xs: ReadonlyArray<JArray>, ys: ReadonlyArray<JArray>): { dot: number; scale: number } => {
  let dot = 0
  let scale = 0
  xs.forEach((x, i) => {
    const a = x.dataSync()
    const b = ys[i]!.dataSync()
    expect(a.length).toBe(b.length)
    for (let k = 0; k < a.length; k++) {
      dot += a[k]! * b[k]!
      scale += Math.abs(a[k]! * b[k]!)
    }
  })
  return { dot, scale }
}

const closeArrays = (a: JArray, b: JArray, tol = 1e-5): void => {
  expect(a.shape).toEqual(b.shape)
  const x = a.dataSync()
  const y = b.dataSync()
  for (let k = 0; k < y.length; k++)
    expect(Math.abs(x[k]! - y[k]!), `[${k}]: ${x[k]} vs ${y[k]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(y[k]!)))
}

describe("grad matches central finite differences", () => {
  for (const c of cases) {
    test.prop([shapeArb, seedArb], { numRuns: 25 })(c.name, (shape, seed) => {
      const { args, loss, dirs, h } = setup(c, shape, seed)
      const g = gradAll(loss, args.length)(...args)
      g.forEach((gi, i) => {
        expect(gi.shape).toEqual(args[i]!.shape)
        expect(gi.dtype).toBe("float32")
      })
      const { dot, scale } = dotAll(g, dirs)
      const at = (s: number): number => loss(...args.map((a, i) => axpy(a, dirs[i]!, s * h))).item() as number
      const fd = (at(1) - at(-1)) / (2 * h)
      expect(Math.abs(dot - fd), `grad·v ${dot} vs finite difference ${fd}`).toBeLessThanOrEqual(1e-2 * scale + 2e-3)
    })
  }
})

describe("reverse and forward mode agree", () => {
  for (const c of cases) {
    test.prop([shapeArb, seedArb], { numRuns: 15 })(c.name, (shape, seed) => {
      const { r, args, f, dirs } = setup(c, shape, seed)
      const [y, jv] = jvp(f, args, dirs)
      const u = uniform(r, y.shape)
      const [y2, back] = vjp(f, ...args)
      expect(y2.tolist()).toEqual(y.tolist())
      const ju = back(u)
      const fwd = dotAll([u], [jv])
      const rev = dotAll(ju, dirs)
      expect(Math.abs(fwd.dot - rev.dot), `<u, Jv> ${fwd.dot} vs <J'u, v> ${rev.dot}`).toBeLessThanOrEqual(
        1e-4 * (fwd.scale + rev.scale) + 1e-5
      )
      const [y3, lin] = linearize(f, ...args)
      expect(y3.tolist()).toEqual(y.tolist())
      const lv = lin(...dirs)
      const same = dotAll([lv], [u])
      expect(Math.abs(same.dot - fwd.dot)).toBeLessThanOrEqual(1e-5 * (fwd.scale + same.scale) + 1e-6)
    })
  }
})

describe("second order: Hessian-vector products", () => {
  for (const c of cases) {
    test.prop([shapeArb, seedArb], { numRuns: 8 })(c.name, (shape, seed) => {
      const { r, args, loss, dirs, h } = setup(c, shape, seed)
      const n = args.length
      const g = gradAll(loss, n)
      const w = args.map((a) => uniform(r, a.shape))
      // reverse over reverse: d/dx <grad L(x), v>
      const gv = (...xs: ReadonlyArray<JArray>): JArray =>
        g(...xs).reduce((acc: JArray, gi, i) => jnp.add(acc, jnp.sum(jnp.multiply(gi, dirs[i]!))), jnp.zeros([]))
      const hvpRev = gradAll(gv, n)(...args)
      // forward over reverse
      const [, hvpFwd] = jvp((...xs: ReadonlyArray<JArray>) => g(...xs), args, dirs)
      // finite differences of the gradient
      const gp = g(...args.map((a, i) => axpy(a, dirs[i]!, h)))
      const gm = g(...args.map((a, i) => axpy(a, dirs[i]!, -h)))
      const fd = gp.map((p, i) => jnp.divide(jnp.subtract(p, gm[i]!), 2 * h))
      const ref = dotAll(fd, w)
      const rev = dotAll(hvpRev, w)
      const fwd = dotAll(hvpFwd, w)
      // forward over forward: w' H v directly
      const [, fwdFwd] = jvp((...xs: ReadonlyArray<JArray>) => jvp(loss, xs, dirs)[1], args, w)
      const tol = 2e-2 * (ref.scale + rev.scale) + 5e-3
      expect(
        Math.abs(rev.dot - ref.dot),
        `reverse-over-reverse ${rev.dot} vs finite difference ${ref.dot}`
      ).toBeLessThanOrEqual(tol)
      expect(
        Math.abs(fwd.dot - ref.dot),
        `forward-over-reverse ${fwd.dot} vs finite difference ${ref.dot}`
      ).toBeLessThanOrEqual(tol)
      expect(
        Math.abs((fwdFwd.item() as number) - ref.dot),
        `forward-over-forward ${fwdFwd.item()} vs finite difference ${ref.dot}`
      ).toBeLessThanOrEqual(tol)
    })
  }
})

describe("the rules compose with jit and vmap", () => {
  for (const c of cases) {
    test.prop([shapeArb, seedArb], { numRuns: 4 })(c.name, (shape, seed) => {
      const { r, args, loss } = setup(c, shape, seed)
      const n = args.length
      const g = gradAll(loss, n)(...args)
      // jit(grad): the backward pass staged into one program
      const gj = jit((...xs: ReadonlyArray<JArray>) => gradAll(loss, n)(...xs))(...args)
      g.forEach((gi, i) => closeArrays(gj[i]!, gi))
      // vmap(grad): per-example gradients of a batch of two
      const args2 = args.map((a) => jnp.add(a, jnp.multiply(uniform(r, a.shape), 0.01)))
      const g2 = gradAll(loss, n)(...args2)
      const gv = vmap((...xs: ReadonlyArray<JArray>) => gradAll(loss, n)(...xs))(
        ...args.map((a, i) => jnp.stack([a, args2[i]!]))
      )
      g.forEach((gi, i) => closeArrays(gv[i]!, jnp.stack([gi, g2[i]!])))
    })
  }
})
