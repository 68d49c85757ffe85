/**
 * `nnx.Optimizer` against Flax 0.12 (test/goldens/optax.json): a small linear model trained for a
 * few steps under `nnx.jit`, with Adam, SGD with momentum and AdamW on a cosine schedule; then the
 * optimizer as a graph node, and updates refused (grads that do not match the model's trained
 * state) leaving the model and the optimizer exactly as they were, eagerly and under `nnx.jit`.
 */
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { jnp, nnx, optax, random } from "effect-nnx"
import { expectClose, fromResult, goldens } from "../optax/support.ts"

class Model extends nnx.Module {
  kernel: nnx.Param<jnp.Array>
  bias: nnx.Param<jnp.Array>
  count: nnx.BatchStat<jnp.Array>
  constructor() {
    super()
    this.kernel = new nnx.Param(
      jnp.array(
        [
          [0.5, -0.3],
          [0.2, 0.8],
          [-0.6, 0.1]
        ],
        { dtype: "float32" }
      )
    )
    this.bias = new nnx.Param(jnp.array([0.05, -0.05], { dtype: "float32" }))
    this.count = new nnx.BatchStat(jnp.array(0, { dtype: "int32" }))
  }
  call(x: jnp.Array): jnp.Array {
    this.count.value = this.count.value.add(1)
    return x.matmul(this.kernel.value).add(this.bias.value)
  }
}

const lossFn = (model: Model, x: jnp.Array, y: jnp.Array): jnp.Array => jnp.mean(model.call(x).sub(y).pow(2))

const makeStep = () =>
  nnx.jit((model: Model, optimizer: nnx.Optimizer<Model>, x: jnp.Array, y: jnp.Array) => {
    const [loss, grads] = nnx.valueAndGrad(lossFn).sync(model, x, y)
    optimizer.update(model, grads)
    return loss
  })

const O = goldens.optimizer
const x = fromResult(O.x)
const y = fromResult(O.y)

const txs: Record<string, () => optax.GradientTransformation<any>> = {
  adam: () => optax.adam(0.05),
  sgd_momentum: () => optax.sgd(0.1, { momentum: 0.9 }),
  adamw_cosine: () => optax.adamw(optax.cosineDecaySchedule({ initValue: 0.1, decaySteps: 5 }), { weightDecay: 0.05 })
}

/** Every value of a graph, by path, as plain data: what "unchanged" is checked against. */
const snapshot = (node: nnx.GraphNode) =>
  nnx
    .state(node)
    .toFlat()
    .map(([path, leaf]) => [path.join("/"), ((leaf as nnx.Variable<unknown>).value as jnp.Array).tolist()])

describe("nnx.Optimizer against Flax", () => {
  it("every golden case has a TypeScript spelling", () => {
    expect(Object.keys(txs).sort()).toEqual(Object.keys(O.cases).sort())
  })

  for (const [name, make] of Object.entries(txs)) {
    it(`${name}: four jitted training steps give Flax's losses, parameters and optimizer state`, () => {
      const want = O.cases[name]!
      const model = new Model()
      const optimizer = new nnx.Optimizer(model, make(), { wrt: nnx.Param })
      const step = makeStep()
      want.losses.forEach((l, i) => expectClose(step.sync(model, optimizer, x, y), l, `loss ${i}`))
      expect(step.traceCount).toBe(1)
      expectClose(model.kernel.value, want.kernel, "kernel")
      expectClose(model.bias.value, want.bias, "bias")
      expect(model.count.value.item()).toBe(want.count)
      expectClose(optimizer.step.value, want.step, "step")
      const optLeaves = nnx
        .state(optimizer, nnx.OptState)
        .toFlat()
        .map(([, leaf]) => (leaf as nnx.Variable<unknown>).value as jnp.Array)
      expect(optLeaves.length).toBe(want.opt_state.length)
      optLeaves.forEach((v, i) => expectClose(v, want.opt_state[i]!, `opt_state[${i}]`))
    })
  }

  it("eager updates equal jitted ones", () => {
    const a = new Model()
    const b = new Model()
    const oa = new nnx.Optimizer(a, optax.adam(0.05), { wrt: nnx.Param })
    const ob = new nnx.Optimizer(b, optax.adam(0.05), { wrt: nnx.Param })
    const step = makeStep()
    for (let i = 0; i < 3; i++) {
      step.sync(a, oa, x, y)
      const grads = nnx.grad(lossFn).sync(b, x, y)
      ob.update(b, grads)
    }
    expect(jnp.allclose(a.kernel.value, b.kernel.value, { atol: 1e-6 }).item()).toBe(true)
    expect(ob.step.value.item()).toBe(3)
  })
})

describe("nnx.Optimizer with nnx.Linear", () => {
  class TwoLayers extends nnx.Module {
    linear1: nnx.Linear
    linear2: nnx.Linear
    constructor(rngs: nnx.Rngs) {
      super()
      this.linear1 = new nnx.Linear(2, 3, { rngs })
      this.linear2 = new nnx.Linear(3, 4, { rngs })
    }
    call(x: jnp.Array): jnp.Array {
      return this.linear2.call(this.linear1.call(x))
    }
  }

  it("reproduces the example of Flax's Optimizer docstring (2.3359997, then 2.310461)", () => {
    const x = random.normal(random.key(0), [1, 2])
    const y = jnp.ones([1, 4])
    const model = new TwoLayers(new nnx.Rngs(0))
    const optimizer = new nnx.Optimizer(model, optax.adam(1e-3), { wrt: nnx.Param })
    const lossFn = (m: TwoLayers) => jnp.mean(m.call(x).sub(y).pow(2))
    expect(lossFn(model).item()).toBeCloseTo(2.3359997, 6)
    optimizer.update(model, nnx.grad(lossFn).sync(model))
    expect(lossFn(model).item()).toBeCloseTo(2.310461, 6)
  })
})

describe("nnx.Optimizer as a graph node", () => {
  it("holds step and the transformation's state as OptState Variables, moments with the Params' metadata", () => {
    const model = new Model()
    model.kernel.setMetadata("shardingNames", ["data", null])
    const optimizer = new nnx.Optimizer(model, optax.adam(1e-3), { wrt: nnx.Param })
    const paths = nnx
      .state(optimizer, nnx.OptState)
      .toFlat()
      .map(([p, leaf]) => [p.join("."), (leaf as nnx.Variable<unknown>).kind])
    expect(paths).toEqual([
      ["optState.0.count", "OptArray"],
      ["optState.0.mu.bias", "OptVariable"],
      ["optState.0.mu.kernel", "OptVariable"],
      ["optState.0.nu.bias", "OptVariable"],
      ["optState.0.nu.kernel", "OptVariable"],
      ["step", "OptState"]
    ])
    const mu = (optimizer.optState as ReadonlyArray<{ readonly mu: { readonly kernel: nnx.Variable<jnp.Array> } }>)[0]!
      .mu.kernel
    expect(mu.shardingNames).toEqual(["data", null])
    expect(optimizer.step.value.dtype).toBe("uint32")
  })

  it("trains only what wrt selects, with grads of the same filter", () => {
    const model = new Model()
    const bias = model.bias.value.tolist()
    const wrt = nnx.PathContains("kernel")
    const optimizer = new nnx.Optimizer(model, optax.sgd(0.1), { wrt })
    const grads = nnx.grad(lossFn, { argnums: new nnx.DiffState(0, wrt) }).sync(model, x, y)
    const before = model.kernel.value.tolist()
    optimizer.update(model, grads)
    expect(model.bias.value.tolist()).toEqual(bias)
    expect(model.kernel.value.tolist()).not.toEqual(before)
  })

  it("grads of more Variables than wrt are narrowed to wrt, as in Flax", () => {
    const model = new Model()
    const optimizer = new nnx.Optimizer(model, optax.sgd(0.1), { wrt: nnx.PathContains("bias") })
    const kernel = model.kernel.value.tolist()
    optimizer.update(model, nnx.grad(lossFn).sync(model, x, y))
    expect(model.kernel.value.tolist()).toEqual(kernel)
  })

  it("survives split and merge: around the same Variables, or new ones with copy", () => {
    const model = new Model()
    const optimizer = new nnx.Optimizer(model, optax.adam(0.05), { wrt: nnx.Param })
    optimizer.update(model, nnx.grad(lossFn).sync(model, x, y))
    const [def, state] = nnx.split(optimizer)
    const copy = nnx.merge(def, state, { copy: true })
    copy.update(model, nnx.grad(lossFn).sync(model, x, y))
    expect(copy.step.value.item()).toBe(2)
    expect(optimizer.step.value.item()).toBe(1)
    const shared = nnx.merge(def, state)
    expect(shared.step).toBe(optimizer.step)
    shared.update(model, nnx.grad(lossFn).sync(model, x, y))
    expect(optimizer.step.value.item()).toBe(2)
  })

  it("requires wrt, as Flax does", () => {
    expect(() => new nnx.Optimizer(new Model(), optax.sgd(0.1), undefined as never)).toThrow(/needs \{ wrt \}/)
  })
})

describe("nnx.Optimizer refuses grads that do not match, changing nothing", () => {
  const setup = () => {
    const model = new Model()
    const optimizer = new nnx.Optimizer(model, optax.adam(0.05), { wrt: nnx.Param })
    optimizer.update(model, nnx.grad(lossFn).sync(model, x, y))
    const grads = nnx.grad(lossFn).sync(model, x, y)
    return { model, optimizer, grads, before: [snapshot(model), snapshot(optimizer)] }
  }

  const cases: Record<string, (g: nnx.State) => nnx.State> = {
    "a missing path": (g) => g.filter(nnx.PathContains("kernel")),
    "a wrong shape": (g) =>
      g.map((path, leaf) =>
        path[0] === "kernel" ? (leaf as nnx.Variable<unknown>).replace(jnp.zeros([2, 3]) as never) : leaf
      ),
    "an extra path": (g) =>
      nnx.State.merge(g, nnx.State.fromFlat([[["other"], new nnx.Param(jnp.zeros([2]))]] as const))
  }
  const messages: Record<string, RegExp> = {
    "a missing path": /Optimizer\.update: grads have no gradient .* for the model's Param at bias/,
    "a wrong shape": /Optimizer\.update: the gradient has shape \[2, 3\] where the parameter has \[3, 2\] at kernel/,
    "an extra path": /Optimizer\.update: grads have a gradient for a Variable the optimizer does not train .* at other/
  }

  for (const [what, corrupt] of Object.entries(cases)) {
    it(`${what}: an UpdateError naming the path; model and optimizer unchanged`, () => {
      const { model, optimizer, grads, before } = setup()
      let error: unknown
      try {
        optimizer.update(model, corrupt(grads))
      } catch (e) {
        error = e
      }
      expect((error as { _tag?: string })._tag).toBe("UpdateError")
      expect((error as Error).message).toMatch(messages[what]!)
      expect([snapshot(model), snapshot(optimizer)]).toEqual(before)
    })

    it(`${what} under nnx.jit: the Effect fails with the UpdateError; model and optimizer unchanged`, () => {
      const { model, optimizer, grads, before } = setup()
      const bad = corrupt(grads)
      const step = nnx.jit((m: Model, o: nnx.Optimizer<Model>, g: nnx.State) => {
        o.update(m, g)
        return jnp.zeros([])
      })
      const exit = Effect.runSyncExit(step(model, optimizer, bad))
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) {
        const error = exit.cause.reasons.find((r) => r._tag === "Fail") as
          | { readonly error: { readonly _tag: string; readonly message: string } }
          | undefined
        expect(error?.error._tag).toBe("UpdateError")
        expect(error?.error.message).toMatch(messages[what]!)
      }
      expect([snapshot(model), snapshot(optimizer)]).toEqual(before)
    })
  }

  it("grads that are not a State", () => {
    const { model, optimizer, before } = setup()
    expect(() => optimizer.update(model, jnp.zeros([3]) as never)).toThrow(/grads must be a State/)
    expect([snapshot(model), snapshot(optimizer)]).toEqual(before)
  })
})
