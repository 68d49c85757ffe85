/**
 * Property: `jit(f)` equals `f` (values, shapes, dtypes) for a family of functions over random
 * shapes, and a second call with the same signature does not retrace.
 */
import { fc, test } from "@fast-check/vitest"
import { describe, expect } from "vitest"
import { jit, jnp, lax, nn } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

const family: Record<string, (x: JArray) => JArray> = {
  elementwise: (x) =>
    jnp
      .tanh(x)
      .mul(2)
      .add(jnp.exp(x.mul(-1)))
      .sub(jnp.sin(x)),
  reductions: (x) => jnp.stack([x.sum(), x.max(), x.mean(), jnp.var(x)]),
  shapes: (x) => jnp.concatenate([x.flatten(), jnp.flip(x.flatten()), x.reshape(-1).get("::2")]),
  matmul: (x) => x.reshape(-1, 1).matmul(x.reshape(1, -1)).sum(0),
  softmax: (x) => nn.softmax(x.flatten()),
  indexing: (x) =>
    x
      .flatten()
      .at(0)
      .add(5)
      .get(jnp.array([0, -1])),
  sort: (x) => jnp.sort(x.flatten()).add(jnp.argsort(x.flatten()).astype("float32")),
  scan: (x) =>
    lax.scan(
      (c: JArray, v: JArray) => [c.add(v), c.mul(v)] as const,
      jnp.array(0, { dtype: "float32" }),
      x.flatten()
    )[1],
  cond: (x) =>
    lax.cond(
      x.sum().gt(0),
      (v: JArray) => v.mul(2),
      (v: JArray) => v.neg(),
      x
    ),
  cumsum: (x) => jnp.cumsum(x.flatten()).add(jnp.where(x.flatten().gt(0), 1, -1))
}

const shapes = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 })
const withData = shapes.chain((s) =>
  fc.tuple(
    fc.constant(s),
    fc.array(fc.float({ min: -3, max: 3, noNaN: true }).map(Math.fround), {
      minLength: s.reduce((a, b) => a * b, 1),
      maxLength: s.reduce((a, b) => a * b, 1)
    })
  )
)

describe("jit(f) equals f", () => {
  for (const [name, f] of Object.entries(family)) {
    test.prop([withData], { numRuns: 25 })(name, ([shape, data]) => {
      const x = jnp.reshape(jnp.array(data, { dtype: "float32" }), shape)
      const jf = jit(f)
      const want = f(x)
      const got = jf(x)
      expect(got.shape).toEqual(want.shape)
      expect(got.dtype).toBe(want.dtype)
      const a = got.dataSync()
      const b = want.dataSync()
      for (let i = 0; i < a.length; i++)
        expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(b[i]!)))
      jf(x.mul(0.5))
      expect(jf.traceCount).toBe(1)
    })
  }
})
