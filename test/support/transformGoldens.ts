/**
 * The core transforms' JAX goldens (test/goldens/transforms.json, written by
 * tools/goldens/transforms.py) as one set of cases, run by the cpu suite and by every gpu.js mode:
 * per-example gradients, jit, hessians, grad through scan, vmap axes, and every control-flow
 * primitive under vmap, jvp and vmap(grad).
 */
import { readFileSync } from "node:fs"
import { expect } from "vitest"
import { grad, hessian, jit, jnp, jvp, lax, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

type Nested = number | ReadonlyArray<Nested>
const g = JSON.parse(readFileSync(new URL("../goldens/transforms.json", import.meta.url), "utf8")).cases as Record<
  string,
  Record<string, Nested> & Nested
>

const arr = (x: Nested): JArray => jnp.array(x as jnp.ArrayLiteral, { dtype: "float32" })

/**
 * A deferred comparison of a result with JAX's: cases compute every result synchronously (under the
 * backend the runner made current) and return their checks, which the runner awaits, so that the
 * same cases run on backends that read back asynchronously (webgpu).
 */
export type Check = () => Promise<void>

const close =
  (got: JArray, want: Nested, tol = 2e-5): Check =>
  async () => {
    const w = arr(want)
    expect(got.shape).toEqual(w.shape)
    const a = await got.data()
    const b = w.dataSync()
    for (let i = 0; i < a.length; i++) {
      expect(Math.abs(a[i]! - b[i]!), `element ${i}: ${a[i]} vs ${b[i]}`).toBeLessThanOrEqual(
        tol * (1 + Math.abs(b[i]!))
      )
    }
  }

const scalarClose =
  (got: JArray, want: number, digits: number): Check =>
  async () => {
    expect(Number((await got.data())[0])).toBeCloseTo(want, digits)
  }

/** Runs a case's checks in order. */
export const runChecks = async (checks: ReadonlyArray<Check>): Promise<void> => {
  for (const c of checks) await c()
}

const layerLoss = (params: readonly [JArray, JArray], x: JArray, t: JArray): JArray =>
  jnp.sum(jnp.tanh(x.matmul(params[0]).add(params[1])).mul(t))

/** Registers every case with `it` (which may run it under a particular backend). */
export const transformGoldenCases = (it: (name: string, f: () => ReadonlyArray<Check>) => void): void => {
  it("per-example gradients of a tanh layer: vmap(grad(f))", () => {
    const c = g.per_example_grads!
    const [dW, db] = vmap(grad(layerLoss), { inAxes: [null, 0, 0] })([arr(c.W!), arr(c.b!)], arr(c.X!), arr(c.T!))
    return [close(dW, c.dW!), close(db, c.db!)]
  })

  it("jit(vmap(grad(f))) gives the same per-example gradients", () => {
    const c = g.per_example_grads!
    const f = jit(vmap(grad(layerLoss), { inAxes: [null, 0, 0] }))
    return [close(f([arr(c.W!), arr(c.b!)], arr(c.X!), arr(c.T!))[0], g.jit_vmap_grad!.dW!)]
  })

  it("hessian and its diagonal", () => {
    const c = g.hessian!
    const f = (x: JArray) => jnp.sum(jnp.sin(x).mul(x.mul(x))).add(x.get(0).mul(x.get(1)).mul(x.get(2)))
    const H = hessian(f)(arr(c.x!))
    return [close(H, c.H!, 1e-4)]
  })

  it("grad through scan (forward and reverse)", () => {
    const c = g.grad_scan!
    const loss = (h0: JArray, w: JArray, xs: JArray) => {
      const [h, ys] = lax.scan(
        (h: JArray, x: JArray) => {
          const hn = jnp.tanh(h.matmul(w).add(x))
          return [hn, jnp.sum(hn.mul(hn))] as const
        },
        h0,
        xs
      )
      return jnp.sum(h).add(jnp.sum(ys))
    }
    const [dh0, dw, dxs] = grad(loss, { argnums: [0, 1, 2] })(arr(c.h0!), arr(c.w!), arr(c.xs!))
    const value = loss(arr(c.h0!), arr(c.w!), arr(c.xs!))
    const rev = (h0: JArray, w: JArray, xs: JArray) =>
      jnp.sum(
        lax.scan((h: JArray, x: JArray) => [jnp.tanh(h.matmul(w).add(x)), h] as const, h0, xs, { reverse: true })[1]
      )
    const [rh0, rw] = grad(rev, { argnums: [0, 1] })(arr(c.h0!), arr(c.w!), arr(c.xs!))
    return [
      scalarClose(value, c.value as number, 4),
      close(dh0, c.dh0!, 1e-4),
      close(dw, c.dw!, 1e-4),
      close(dxs, c.dxs!, 1e-4),
      close(rh0, g.grad_scan_reverse!.dh0!, 1e-4),
      close(rw, g.grad_scan_reverse!.dw!, 1e-4)
    ]
  })

  it("vmap with outAxes 1 and inAxes 1 / outAxes -1", () => {
    const A = arr(g.vmap_out_axes_1!.A!)
    return [
      close(vmap((a: JArray) => jnp.tanh(a).mul(2), { outAxes: 1 })(A), g.vmap_out_axes_1!.out!),
      close(vmap((a: JArray) => jnp.sum(a, 0), { inAxes: 1, outAxes: -1 })(A), g.vmap_in_axes_1_out_axes_neg1!.out!)
    ]
  })

  const fns: Record<string, (x: JArray) => JArray> = {
    cond: (x) =>
      lax.cond(
        jnp.sum(x).gt(0),
        (v: JArray) => jnp.sin(v).mul(2),
        (v: JArray) => jnp.cos(v).sub(1),
        x
      ),
    switch: (x) => {
      const i = jnp.clip(jnp.floor(jnp.sum(x)).astype("int32"), -1, 3)
      return lax.switch(i, [(v: JArray) => v.mul(2), (v: JArray) => jnp.sin(v), (v: JArray) => v.pow(2)], x)
    },
    while: (x) =>
      lax.whileLoop(
        (s: readonly [JArray, JArray]) => s[0].lt(4),
        (s: readonly [JArray, JArray]) => [s[0].add(1), s[1].mul(1.5).add(jnp.sin(s[1]))] as const,
        [jnp.array(0), x] as const
      )[1],
    while_batched_pred: (x) =>
      lax.whileLoop(
        (s: JArray) => jnp.sum(s).lt(10),
        (s: JArray) => s.mul(1.3).add(1),
        x
      ),
    fori: (x) => lax.foriLoop(0, 3, (i, v: JArray) => v.mul(jnp.cos(v)).add(i), x),
    scan: (x) =>
      lax.scan(
        (c: JArray, xi: JArray) => [c.mul(xi).add(jnp.sin(c)), c] as const,
        x,
        jnp.stack([x, x.mul(0.5), x.neg()])
      )[0]
  }

  for (const [name, fn] of Object.entries(fns)) {
    it(`${name} under vmap, jvp${name.startsWith("while") ? "" : " and vmap(grad)"}`, () => {
      const xs = arr(g.cf_inputs!.xs!)
      const checks = [
        close(vmap(fn)(xs), g[`cf_vmap_${name}`]!, 1e-4),
        close(jvp(fn, [xs.get(0)], [jnp.ones([3])])[1], g[`cf_jvp_${name}`]!, 1e-4)
      ]
      if (!name.startsWith("while"))
        checks.push(close(vmap(grad((v: JArray) => jnp.sum(fn(v))))(xs), g[`cf_grad_${name}`]!, 1e-4))
      return checks
    })
  }
}
