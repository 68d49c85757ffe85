/**
 * Property: `jit(f)` equals `f` (values, shapes, dtypes) for a family of functions over random
 * shapes, and a second call with the same signature does not retrace.
 */
import { test } from "@fast-check/vitest"
import { describe, expect } from "vitest"
import { jit, jnp } from "effect-nnx"
import { family, withData } from "../support/properties/jit.ts"

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
