/**
 * The functions and inputs of the `jit(f)` equals `f` property (test/transforms/jitProperties.test.ts),
 * shared with its webgpu run (test/webgpu/properties.test.ts): a family of functions of one array
 * (elementwise, reductions, shape changes, matmul, indexing, sort, scan, cond, cumsum) and random
 * shapes with float32 data.
 */
import { fc } from "@fast-check/vitest"
import { jnp, lax, nn } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

/** The functions, by name: each uses a different part of the library. */
export const family: Record<string, (x: JArray) => JArray> = {
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
/** A shape of rank 1 to 3 and float32 values in [-3, 3] to fill it. */
export const withData = shapes.chain((s) =>
  fc.tuple(
    fc.constant(s),
    fc.array(fc.float({ min: -3, max: 3, noNaN: true }).map(Math.fround), {
      minLength: s.reduce((a, b) => a * b, 1),
      maxLength: s.reduce((a, b) => a * b, 1)
    })
  )
)
