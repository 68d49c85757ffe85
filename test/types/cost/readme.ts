/**
 * A README-sized user file, for `node scripts/type-cost.mjs`: what a user writes first (a Module
 * with Linear layers, a jitted training step with nnx.valueAndGrad and an Optimizer, the core
 * transforms on a plain function). The type checker's work on it is the cost a user pays.
 */
import { grad, jit, jnp, nnx, optax, random, vmap } from "effect-nnx"

class MLP extends nnx.Module {
  hidden: nnx.Linear
  out: nnx.Linear
  constructor(din: number, dhidden: number, dout: number, rngs: nnx.Rngs) {
    super()
    this.hidden = new nnx.Linear(din, dhidden, { rngs })
    this.out = new nnx.Linear(dhidden, dout, { rngs })
  }
  call(x: jnp.Array): jnp.Array {
    return this.out.call(jnp.tanh(this.hidden.call(x)))
  }
}

const centers = jnp.array(
  [
    [2, 0],
    [-1, 1.7],
    [-1, -1.7]
  ],
  { dtype: "float32" }
)
const labels = jnp.arange(96).mod(3)
const x = jnp.take(centers, labels, 0).add(random.normal(random.key(1), [96, 2]).mul(0.5))

const model = new MLP(2, 16, 3, new nnx.Rngs({ params: 0 }))
const optimizer = new nnx.Optimizer(model, optax.adamw(0.05, { weightDecay: 1e-4 }), { wrt: nnx.Param })

const lossFn = (model: MLP, x: jnp.Array, y: jnp.Array) => {
  const logits = model.call(x)
  return [jnp.mean(optax.softmaxCrossEntropyWithIntegerLabels(logits, y)), logits] as const
}

const trainStep = nnx.jit((model: MLP, optimizer: nnx.Optimizer<MLP>, x: jnp.Array, y: jnp.Array) => {
  const [[loss], grads] = nnx.valueAndGrad(lossFn, { hasAux: true }).sync(model, x, y)
  optimizer.update(model, grads)
  return loss
})

for (let step = 0; step < 10; step++) {
  const loss = trainStep.sync(model, optimizer, x, labels)
  if (step % 5 === 0) console.log(`step ${step}: loss ${(loss.item() as number).toFixed(4)}`)
}

// The core transforms on a plain function.
const loss = (w: jnp.Array, x: jnp.Array) => jnp.sum(jnp.tanh(x.matmul(w)))
const perExample = jit(vmap(grad(loss), { inAxes: [null, 0] }))
console.log(perExample(jnp.ones([3, 2]), jnp.ones([8, 3])).shape)
