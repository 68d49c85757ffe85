/**
 * Type tests: wrong forms do not compile. `npm test` type-checks this file; each `@ts-expect-error`
 * fails the type-check if the line below it ever starts compiling.
 */
import { describe, expect, it } from "vitest"
import { jnp, lax } from "effect-nnx"
import type { Array as JArray, DType } from "effect-nnx"

// The kernel and inference tables are total over the primitive union: dropping an entry is a
// compile error (internal types, checked here through their public consequence below).
import type { PrimitiveParams } from "../../src/backend/Primitive.ts"
import { abstractEval } from "../../src/backend/Primitive.ts"
import { cpuKernels } from "../../src/backend/cpu/kernels.ts"

type Missing<T> = { [P in keyof PrimitiveParams]: T }
// @ts-expect-error a table without "add" is not a complete table
const incomplete: Missing<number> = { ...({} as Omit<Missing<number>, "add">) }

describe("types", () => {
  it("reject unknown dtypes, key dtypes in numeric positions, and wrong primitive params", () => {
    const x = jnp.ones([2])
    // @ts-expect-error float64 is not an effect-nnx dtype
    const f64 = () => jnp.zeros([2], { dtype: "float64" })
    // @ts-expect-error keys are not a numeric dtype
    const key = () => x.astype("key<fry>")
    // @ts-expect-error lax.reshape takes a shape, not a number
    const r = () => lax.reshape(x, 2)
    // @ts-expect-error round methods are a closed set
    const rr = () => lax.round(x, "up")
    // @ts-expect-error dot_general dimension numbers need both contracting and batch pairs
    const dg = () => lax.dotGeneral(x, x, [[[0], [0]]])
    // @ts-expect-error an Array is immutable: no index assignment
    x[0] = 1
    const d: DType = x.dtype
    const y: JArray = x.add(1)
    expect([f64, key, r, rr, dg, incomplete].every((f) => f !== undefined)).toBe(true)
    expect(d).toBe("float32")
    expect(y.shape).toEqual([2])
    const higherOrder = ["checkpoint", "cond", "custom_jvp_call", "custom_vjp_call", "scan", "while"]
    expect(
      Object.keys(abstractEval)
        .filter((p) => !higherOrder.includes(p))
        .sort()
    ).toEqual(Object.keys(cpuKernels).sort())
  })
})
