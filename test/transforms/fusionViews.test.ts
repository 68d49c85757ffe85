/**
 * Fusion through identity views: a `stop_gradient` (or a reshape, broadcast or weak-type conversion
 * that leaves every element in place) of a value a group computes is read as that value inside the
 * group, so `relu` (`where(x > 0, x, stop_gradient(max(x, 0)))`) fuses whole with the bias add
 * before it. A view that moves elements (a transpose) never is, and a value such a view exposes to
 * the rest of the program is still written out.
 */
import { assert, describe, it } from "@effect/vitest"
import { Backend, jit, jnp, lax, nn } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { makeFusingCpu } from "../../src/backend/fusionReference.ts"
import { ramp as seq } from "../support/ramp.ts"

/** The plan's steps as `kind:prims` strings. */
const stepsOf = (f: ReturnType<typeof jit>, ...args: ReadonlyArray<JArray>): Array<string> =>
  f.plan(...(args as [])).steps.map((s) => `${s.kind}:${s.prims.join(" ")}`)

const close = (got: JArray, want: JArray): void => {
  assert.deepStrictEqual(got.shape, want.shape)
  const a = got.tolist() as Array<unknown>,
    b = want.tolist() as Array<unknown>
  assert.deepStrictEqual(a, b)
}

describe("fusion through identity views", () => {
  it("relu after a bias add is one fused step with one output", () => {
    Backend.withBackend(makeFusingCpu(), () => {
      const f = jit((x: JArray, b: JArray) => nn.relu(x.add(b)))
      const x = seq([4, 6]),
        b = seq([6], 0.05)
      assert.deepStrictEqual(stepsOf(f as never, x, b), ["fused:add gt max select"])
      assert.strictEqual(f.plan(x, b).steps[0]!.outputs.length, 1)
      close(f(x, b), nn.relu(x.add(b)))
    })
  })

  it("the mask a gradient needs is written beside the activation, nothing else", () => {
    Backend.withBackend(makeFusingCpu(), () => {
      const f = jit((x: JArray, b: JArray) => {
        const h = x.add(b)
        return [nn.relu(h), h.gt(0)] as const
      })
      const x = seq([3, 5]),
        b = seq([5])
      const steps = f.plan(x, b).steps
      assert.strictEqual(steps.length, 1)
      assert.deepStrictEqual(
        steps[0]!.outputs.map((v) => v.aval.dtype),
        ["bool", "float32"]
      )
      const [r, m] = f(x, b)
      close(r, nn.relu(x.add(b)))
      close(m, x.add(b).gt(0))
    })
  })

  it("an identity view that is an output of the program is still returned, with the group's value", () => {
    Backend.withBackend(makeFusingCpu(), () => {
      const f = jit((x: JArray) => {
        const m = jnp.maximum(x.mul(2), 0)
        const s = lax.stopGradient(m)
        return [s, jnp.where(x.gt(0), x, s)] as const
      })
      const x = seq([2, 7])
      const [s, w] = f(x)
      close(s, jnp.maximum(x.mul(2), 0))
      close(w, jnp.where(x.gt(0), x, jnp.maximum(x.mul(2), 0)))
    })
  })

  it("an identity view read outside the group (by a product) makes the group write the value under it", () => {
    Backend.withBackend(makeFusingCpu(), () => {
      const f = jit((x: JArray, w: JArray) => {
        const m = jnp.maximum(x.add(1), 0)
        const s = lax.stopGradient(m)
        return jnp.where(x.gt(0), x, s).add(s.matmul(w).sum())
      })
      const x = seq([3, 4]),
        w = seq([4, 4])
      const m = jnp.maximum(x.add(1), 0)
      close(f(x, w), jnp.where(x.gt(0), x, m).add(m.matmul(w).sum()))
    })
  })

  it("a transpose of a square value moves elements and is not read as the value itself", () => {
    Backend.withBackend(makeFusingCpu(), () => {
      const f = jit((x: JArray) => {
        const y = x.add(1)
        return y.mul(y.transpose())
      })
      const x = seq([4, 4])
      const y = x.add(1)
      close(f(x), y.mul(y.transpose()))
    })
  })

  it("a transpose that keeps the shape but moves elements on some axes is not read as the value itself", () => {
    Backend.withBackend(makeFusingCpu(), () => {
      const f = jit((x: JArray) => {
        const y = x.add(1)
        return y.mul(y.transpose([0, 2, 1]))
      })
      const x = seq([2, 3, 3])
      const y = x.add(1)
      close(f(x), y.mul(y.transpose([0, 2, 1])))
    })
  })

  it("a broadcast to the same shape over a size-1 axis is read through", () => {
    Backend.withBackend(makeFusingCpu(), () => {
      const f = jit((x: JArray) => {
        const y = jnp.tanh(x)
        return lax.broadcastInDim(y, [1, 6], [0, 1]).mul(y)
      })
      const x = seq([1, 6])
      assert.deepStrictEqual(stepsOf(f as never, x), ["fused:tanh mul"])
      close(f(x), jnp.tanh(x).mul(jnp.tanh(x)))
    })
  })

  it("a reshape to the same shape and a broadcast to the same shape are read through", () => {
    Backend.withBackend(makeFusingCpu(), () => {
      const f = jit((x: JArray) => {
        const y = jnp.tanh(x)
        return lax.broadcastInDim(y.reshape([3, 4]), [3, 4], [0, 1]).mul(y)
      })
      const x = seq([3, 4])
      assert.deepStrictEqual(stepsOf(f as never, x), ["fused:tanh mul"])
      close(f(x), jnp.tanh(x).mul(jnp.tanh(x)))
    })
  })
})
