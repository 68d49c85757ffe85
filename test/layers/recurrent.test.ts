/**
 * Recurrent layers against Flax NNX (test/goldens/layers.json): LSTMCell, GRUCell and SimpleCell
 * (parameters and one step), RNN (batch-major, reversed with order kept, time-major) and
 * Bidirectional; an RNN equals its cell stepped by hand; gradients through the scan; errors.
 */
import { describe, expect, it } from "vitest"
import { jnp, nnx } from "effect-nnx"
import { checkGrad, expectClose, expectState, fromResult, layerCase, leafAt } from "./support.ts"

describe("cells against Flax", () => {
  it("LSTMCell(3, 4): parameters ii, if_, ig, io, hi, hf, hg, ho and one step", () => {
    const c = layerCase("LSTMCell(3,4)")
    const m = new nnx.LSTMCell(3, 4, { rngs: new nnx.Rngs(0) })
    expectState(m, c.params, 2e-6)
    const [x, c0, h0] = c.inputs.map(fromResult) as [jnp.Array, jnp.Array, jnp.Array]
    const [[c1, h1], y] = m.call([c0, h0], x)
    expectClose(jnp.concatenate([c1, h1, y], -1), c.outputs["call"]!, 2e-6, 2e-5)
  })

  it("GRUCell(3, 4) and SimpleCell(3, 4): parameters and one step", () => {
    for (const [name, make] of [
      ["GRUCell(3,4)", () => new nnx.GRUCell(3, 4, { rngs: new nnx.Rngs(0) })],
      ["SimpleCell(3,4)", () => new nnx.SimpleCell(3, 4, { rngs: new nnx.Rngs(0) })]
    ] as const) {
      const c = layerCase(name)
      const m = make()
      expectState(m, c.params, 2e-6)
      const [x, h] = c.inputs.map(fromResult) as [jnp.Array, jnp.Array]
      expectClose(m.call(h, x)[0], c.outputs["call"]!, 2e-6, 2e-5)
    }
  })

  it("initializeCarry makes zeros of [...batch, hidden] from a carry stream, and refuses no rngs", () => {
    const cell = new nnx.LSTMCell(3, 4, { rngs: new nnx.Rngs(0) })
    const rngs = new nnx.Rngs({ carry: 0 })
    const [c, h] = cell.initializeCarry([2, 3], rngs)
    expect([c.shape, h.shape]).toEqual([
      [2, 4],
      [2, 4]
    ])
    expect(rngs.carry.count.value.tolist()).toBe(2)
    expect(() => cell.initializeCarry([2, 3])).toThrow("LSTMCell: rngs must be given to initialize the carry")
    expect(() => cell.call([c, h], jnp.ones([2, 5]))).toThrow(
      "LSTMCell: expected inputs whose last axis has 3 features, got shape (2, 5)"
    )
  })
})

describe("RNN and Bidirectional against Flax", () => {
  it("RNN(LSTMCell): outputs over time, and reversed with the order kept", () => {
    const c = layerCase("RNN(LSTMCell)")
    const m = new nnx.RNN(new nnx.LSTMCell(3, 4, { rngs: new nnx.Rngs(0) }))
    expectState(m, c.params, 2e-6)
    const x = fromResult(c.inputs[0]!)
    expectClose(m.call(x), c.outputs["call"]!, 2e-6, 2e-5)
    expectClose(m.call(x, { reverse: true, keepOrder: true }), c.outputs["reverse"]!, 2e-6, 2e-5)
    expectState(m, c.stateAfter["reverse"]!, 2e-6)
  })

  it("RNN(GRUCell, timeMajor) and Bidirectional(SimpleCell)", () => {
    const c = layerCase("RNN(GRUCell,timeMajor)")
    const m = new nnx.RNN(new nnx.GRUCell(3, 4, { rngs: new nnx.Rngs(1) }), { timeMajor: true })
    expectClose(m.call(fromResult(c.inputs[0]!)), c.outputs["call"]!, 2e-6, 2e-5)
    const b = layerCase("Bidirectional(SimpleCell)")
    const bi = new nnx.Bidirectional(
      new nnx.RNN(new nnx.SimpleCell(3, 4, { rngs: new nnx.Rngs(0) })),
      new nnx.RNN(new nnx.SimpleCell(3, 4, { rngs: new nnx.Rngs(1) }))
    )
    expectState(bi, b.params, 2e-6)
    expectClose(bi.call(fromResult(b.inputs[0]!)) as jnp.Array, b.outputs["call"]!, 2e-6, 2e-5)
  })

  it("an RNN equals its cell stepped by hand, and returns the last carry when asked", () => {
    const cell = new nnx.GRUCell(2, 3, { rngs: new nnx.Rngs(0) })
    const rnn = new nnx.RNN(cell)
    const x = jnp.linspace(-1, 1, 12).reshape([2, 3, 2])
    const [carry, ys] = rnn.call(x, { returnCarry: true, initialCarry: jnp.zeros([2, 3]) })
    let h = jnp.zeros([2, 3])
    const outs: Array<jnp.Array> = []
    for (let t = 0; t < 3; t++) {
      ;[h] = cell.call(h, x.get(":", t))
      outs.push(h)
    }
    expectClose(ys, jnp.stack(outs, 1), 1e-6)
    expectClose(carry, h, 1e-6)
  })

  it("gradients through the scan match finite differences", () => {
    const rnn = new nnx.RNN(new nnx.SimpleCell(2, 2, { rngs: new nnx.Rngs(0) }), { rngs: false })
    const x = jnp.array([
      [
        [0.5, -1],
        [0.2, 0.3],
        [1, -0.4]
      ]
    ])
    const h0 = jnp.zeros([1, 2])
    const loss = (m: nnx.RNN) => jnp.sum(m.call(x, { initialCarry: h0 }))
    const g = leafAt(nnx.grad(loss).sync(rnn), "cell", "denseI", "kernel")
    const cell = rnn.cell as nnx.SimpleCell
    const k0 = cell.denseI.kernel.value
    checkGrad(
      (k: jnp.Array) => {
        cell.denseI.kernel.value = k
        const out = loss(rnn)
        cell.denseI.kernel.value = k0
        return out
      },
      k0,
      g
    )
  })

  it("inputs of the wrong width, or no carry and no rngs, are LayerErrors", () => {
    const rnn = new nnx.RNN(new nnx.SimpleCell(2, 2, { rngs: new nnx.Rngs(0) }), { rngs: false })
    expect(() => rnn.call(jnp.ones([1, 3, 4]))).toThrow(
      "RNN: expected inputs with a time axis and 2 features on the last axis, got shape (1, 3, 4)"
    )
    expect(() => rnn.call(jnp.ones([1, 3, 2]))).toThrow("RNN: no initialCarry and no rngs to initialize one")
  })
})

describe("RNN with sequence lengths", () => {
  it("RNN(GRUCell) with seqLengths: the carry after each sequence's last step; reversed, only the real steps flip (as Flax)", () => {
    const c = layerCase("RNN(GRUCell,seqLengths)")
    const m = new nnx.RNN(new nnx.GRUCell(3, 4, { rngs: new nnx.Rngs(2) }))
    const [x, lengths] = c.inputs.map(fromResult) as [jnp.Array, jnp.Array]
    const both = (out: readonly [unknown, jnp.Array]) =>
      jnp.concatenate([jnp.expandDims(out[0] as jnp.Array, 1), out[1]], 1)
    expectClose(both(m.call(x, { seqLengths: lengths, returnCarry: true })), c.outputs["forward"]!, 2e-6, 2e-5)
    expectClose(
      both(m.call(x, { seqLengths: lengths, reverse: true, keepOrder: true, returnCarry: true })),
      c.outputs["reverse"]!,
      2e-6,
      2e-5
    )
  })

  it("seqLengths of the wrong shape is a LayerError", () => {
    const m = new nnx.RNN(new nnx.GRUCell(3, 4, { rngs: new nnx.Rngs(2) }))
    expect(() => m.call(jnp.ones([2, 5, 3]), { seqLengths: jnp.array([5, 3, 1]) })).toThrow(
      "RNN: seqLengths must hold one length per sequence of a single batch axis, got shape (3,) for inputs of shape (2, 5, 3)"
    )
  })
})
