/**
 * Every layer's gradient with respect to its input (through `nnx.grad`) against central finite
 * differences, and the jitted call against the eager one.
 */
import { describe, expect, it } from "vitest"
import { jnp, nnx, random } from "effect-nnx"
import { checkGrad, expectClose } from "./support.ts"

type Case = readonly [string, () => nnx.Module, ReadonlyArray<number>, (m: any, x: jnp.Array) => jnp.Array]

const rngs = () => new nnx.Rngs({ params: 0, dropout: 1 })
const cases: ReadonlyArray<Case> = [
  ["Linear", () => new nnx.Linear(3, 2, { rngs: rngs() }), [2, 3], (m, x) => m.call(x)],
  [
    "LinearGeneral",
    () => new nnx.LinearGeneral([2, 3], 2, { axis: [-2, -1], rngs: rngs() }),
    [2, 2, 3],
    (m, x) => m.call(x)
  ],
  ["Einsum", () => new nnx.Einsum("abc,cd->abd", [3, 2], [2], { rngs: rngs() }), [2, 2, 3], (m, x) => m.call(x)],
  ["LayerNorm", () => new nnx.LayerNorm(3, { rngs: rngs() }), [2, 3], (m, x) => m.call(x)],
  ["RMSNorm", () => new nnx.RMSNorm(3, { rngs: rngs() }), [2, 3], (m, x) => m.call(x)],
  ["GroupNorm", () => new nnx.GroupNorm(4, 2, { rngs: rngs() }), [2, 4], (m, x) => m.call(x)],
  [
    "BatchNorm (eval)",
    () => new nnx.BatchNorm(3, { useRunningAverage: true, rngs: rngs() }),
    [4, 3],
    (m, x) => m.call(x)
  ],
  ["Dropout", () => new nnx.Dropout(0.3, { rngs: rngs() }), [2, 3], (m, x) => m.call(x, { rngs: random.key(5) })],
  [
    "MultiHeadAttention",
    () => new nnx.MultiHeadAttention(2, 4, { decode: false, rngs: rngs() }),
    [1, 3, 4],
    (m, x) => m.call(x, null, null, { isCausal: true })
  ],
  [
    "LSTMCell",
    () => new nnx.LSTMCell(3, 2, { rngs: rngs() }),
    [2, 3],
    (m, x) => m.call([jnp.zeros([2, 2]), jnp.ones([2, 2])], x)[1]
  ],
  ["GRUCell", () => new nnx.GRUCell(3, 2, { rngs: rngs() }), [2, 3], (m, x) => m.call(jnp.ones([2, 2]), x)[1]],
  ["RNN(LSTMCell)", () => new nnx.RNN(new nnx.LSTMCell(3, 2, { rngs: rngs() })), [1, 3, 3], (m, x) => m.call(x)],
  [
    "Sequential",
    () => new nnx.Sequential(new nnx.Linear(3, 4, { rngs: rngs() }), nnx.gelu, new nnx.Linear(4, 2, { rngs: rngs() })),
    [2, 3],
    (m, x) => m.call(x)
  ]
]

describe("layer gradients and jit", () => {
  for (const [name, make, shape, apply] of cases) {
    it(`${name}: d/dx matches finite differences; nnx.jit gives the eager output`, () => {
      const m = make()
      const x = random.normal(random.key(3), shape)
      const w = random.normal(random.key(4), apply(m, x).shape)
      const loss = (m: nnx.Module, x: jnp.Array) => jnp.sum(jnp.tanh(apply(m, x)).mul(w))
      // The module goes in as an argument: a layer that updates state (an RNN's carry stream) may
      // not be mutated from inside a transform that captured it.
      const g = nnx.grad(loss, { argnums: 1 }).sync(m, x) as jnp.Array
      checkGrad((x) => loss(m, x), x, g)
      const jitted = nnx.jit((m: nnx.Module, x: jnp.Array) => apply(m, x))
      expectClose(jitted.sync(m, x), apply(m, x), 1e-5, 1e-4)
      expect(jitted.traceCount).toBe(1)
    })
  }
})
