/**
 * Type tests for what nnx.grad and nnx.state return: States typed by the Module's fields (Flax 0.12
 * States hold the live Variables, and gradients new ones of the same kinds), the return type
 * driven by `argnums` and `DiffState`, and `argnums` checked against the function's parameters.
 * `npm test` runs `tsc --noEmit` over test/, so every `@ts-expect-error` must be an error; the
 * run-time checks that stay for calls the compiler cannot see are in grad.test.ts.
 */
import { Effect } from "effect"
import { describe, expect, expectTypeOf, it } from "vitest"
import { jnp, nnx } from "effect-nnx"

class Linear extends nnx.Module {
  kernel = new nnx.Param(jnp.ones([2, 3]))
  bias = new nnx.Param(jnp.zeros([3]))
  mean = new nnx.BatchStat(jnp.zeros([3]))
}
class Model extends nnx.Module {
  linear = new Linear()
  layers = [new Linear()]
  stat = new nnx.BatchStat(jnp.zeros([1]))
  name = "model"
}
const loss = (m: Model, x: jnp.Array): jnp.Array =>
  jnp.sum(m.linear.kernel.value.mul(x)).add(jnp.sum(m.layers[0]!.bias.value))
const x = jnp.ones([2, 3])

describe("gradients are typed as the State of the differentiated kinds, shaped like the argument", () => {
  it("a Module's Params by field: grads.linear.kernel.value is an Array", () => {
    const g = nnx.grad(loss).sync(new Model(), x)
    expectTypeOf(g.linear.kernel).toEqualTypeOf<nnx.Param<jnp.Array>>()
    expectTypeOf(g.linear.kernel.value).toEqualTypeOf<jnp.Array>()
    expectTypeOf(g.layers[0]!.bias.value).toEqualTypeOf<jnp.Array>()
    expectTypeOf(g.leaves[0]!).toEqualTypeOf<nnx.Param<jnp.Array>>()
    expect(g.linear.kernel.value.tolist()).toEqual([
      [1, 1, 1],
      [1, 1, 1]
    ])
    expect(g.layers[0]!.bias.value.tolist()).toEqual([1, 1, 1])
    const wrong = (): void => {
      // @ts-expect-error a BatchStat is not differentiated
      void g.stat
      // @ts-expect-error nor is a static attribute a field of the State
      void g.name
    }
    void wrong
  })

  it("an SGD step needs no cast", () => {
    const model = new Model()
    const g = nnx.grad(loss).sync(model, x)
    model.linear.kernel.value = model.linear.kernel.value.sub(g.linear.kernel.value.mul(0.1))
    const bias = model.layers[0]!.bias
    bias.value = bias.value.sub(g.layers[0]!.bias.value.mul(0.1))
    // d/dkernel of sum(kernel * x) is x (ones); d/dbias of sum(bias) is ones
    expect(jnp.max(model.linear.kernel.value).item()).toBeCloseTo(0.9, 6)
    expect(bias.value.tolist()).toEqual([-0.1, -0.1, -0.1].map(Math.fround))
  })

  it("argnums and DiffState drive the return type", () => {
    expectTypeOf(nnx.grad(loss, { argnums: 1 }).sync(new Model(), x)).toEqualTypeOf<jnp.Array>()
    expectTypeOf(nnx.grad(loss, { argnums: -1 }).sync(new Model(), x)).toEqualTypeOf<jnp.Array>()
    // a DiffState on an Array argument gives the Array's gradient, not a State
    const gd = nnx.grad(loss, { argnums: new nnx.DiffState(1, nnx.Param) }).sync(new Model(), x)
    expectTypeOf(gd).toEqualTypeOf<jnp.Array>()
    expect(gd.shape).toEqual([2, 3])
    const gb = nnx
      .grad((m: Model) => jnp.sum(m.stat.value).add(jnp.sum(m.linear.mean.value)), {
        argnums: new nnx.DiffState(0, nnx.BatchStat)
      })
      .sync(new Model())
    expectTypeOf(gb.stat).toEqualTypeOf<nnx.BatchStat<jnp.Array>>()
    expectTypeOf(gb.linear.mean).toEqualTypeOf<nnx.BatchStat<jnp.Array>>()
    expect(gb.stat.value.tolist()).toEqual([1])
    const [gm, gx] = nnx.grad(loss, { argnums: [0, 1] }).sync(new Model(), x)
    expectTypeOf(gm.linear.bias).toEqualTypeOf<nnx.Param<jnp.Array>>()
    expectTypeOf(gx).toEqualTypeOf<jnp.Array>()
    const p = new nnx.Param(jnp.ones([2]))
    expectTypeOf(nnx.grad((v: nnx.Param<jnp.Array>) => jnp.sum(v.value)).sync(p)).toEqualTypeOf<nnx.Param<jnp.Array>>()
    const [[value, aux], grads] = Effect.runSync(
      nnx.valueAndGrad((m: Model) => [jnp.sum(m.linear.kernel.value), "aux"] as const, { hasAux: true })(new Model())
    )
    expectTypeOf(value).toEqualTypeOf<jnp.Array>()
    expectTypeOf(aux).toEqualTypeOf<"aux">()
    expectTypeOf(grads.linear.kernel.value).toEqualTypeOf<jnp.Array>()
  })

  it("argnums out of range or repeated do not compile", () => {
    const wrong = (): void => {
      // @ts-expect-error out of range
      nnx.grad(loss, { argnums: 2 })
      // @ts-expect-error out of range, from the end
      nnx.grad(loss, { argnums: -3 })
      // @ts-expect-error repeated
      nnx.grad(loss, { argnums: [0, 0] })
      // @ts-expect-error repeated, as -1 and 1
      nnx.valueAndGrad(loss, { argnums: [1, new nnx.DiffState(-1, nnx.Param)] })
      // @ts-expect-error a DiffState out of range
      nnx.grad(loss, { argnums: new nnx.DiffState(2, nnx.Param) })
    }
    void wrong
    // the forms that are right compile
    nnx.grad(loss, { argnums: [0, -1] })
    nnx.grad((...xs: ReadonlyArray<jnp.Array>) => jnp.sum(xs[0]!), { argnums: 3 })
  })
})
