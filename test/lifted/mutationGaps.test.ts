/**
 * What mutation testing (issue 16) found no test checking in the lifted transforms, the batching
 * interpreter and the VJP rules, each checked for what the code says (the message, the values);
 * JAX 0.10.2 and Flax 0.12.8 give the same values and refuse the same axes:
 * - graph changes inside a lifted transform beyond the usual ones: an attribute deleted inside
 *   `nnx.jit` is gone outside; a Module holding a bare Array, and a Variable holding a string,
 *   through `nnx.jit`, `nnx.vmap`, `nnx.scan` and `nnx.grad` (Flax refuses a string leaf under
 *   `jit`; here it is static: it reaches `f`, a write to it comes back, and a new value retraces);
 * - `vmap`'s error paths: a `StateAxes` that leaves a leaf unmatched, `outAxes` out of range, a
 *   non-Array output with an axis, negative `inAxes` bounds, `axisSize` against a mapped argument;
 * - gradients with partial cotangents and empty shapes: a two-operand `lax.sort` of which only the
 *   payload is used, and a `lax.slice` that is empty.
 */
import { assert, describe, it } from "@effect/vitest"
import { grad, jnp, jvp, lax, nnx, vjp, vmap, VmapError } from "effect-nnx"
import { thrown } from "../support/thrown.ts"

const f32 = (x: ReadonlyArray<number> | ReadonlyArray<ReadonlyArray<number>>): jnp.Array =>
  jnp.array(x).astype("float32")

class Holder extends nnx.Module {
  w = new nnx.Param(
    f32([
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7]
    ])
  )
  bias?: nnx.Param<jnp.Array> = new nnx.Param(jnp.zeros([4, 2]))
  table = f32([
    [1, 1],
    [2, 2],
    [3, 3],
    [4, 4]
  ])
  tag = new nnx.Variable("start")
}

describe("graph changes inside lifted transforms", () => {
  it("an attribute deleted inside nnx.jit is gone outside, and the others keep their objects", () => {
    const m = new Holder()
    const { w, tag } = m
    const f = nnx.jit((h: Holder) => {
      delete h.bias
      return h.w.value.sum()
    })
    assert.strictEqual(f.sync(m).item(), 28)
    assert.isFalse("bias" in m)
    assert.deepStrictEqual(Object.keys(m).sort(), ["table", "tag", "w"])
    assert.strictEqual(m.w, w)
    assert.strictEqual(m.tag, tag)
    assert.deepStrictEqual(m.w.value.tolist(), [
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7]
    ])
  })

  it("nnx.jit: a bare Array attribute is an input, and one assigned inside comes back", () => {
    const m = new Holder()
    const f = nnx.jit((h: Holder) => {
      h.table = h.table.mul(10)
      return h.table.sum()
    })
    assert.strictEqual(f.sync(m).item(), 200)
    assert.deepStrictEqual(m.table.tolist(), [
      [10, 10],
      [20, 20],
      [30, 30],
      [40, 40]
    ])
    assert.strictEqual(f.sync(m).item(), 2000)
    assert.strictEqual(f.traceCount, 1)
  })

  it("nnx.jit: a string Variable reaches f, a write to it comes back, and a new value retraces", () => {
    const m = new Holder()
    const tag = m.tag
    const seen: Array<string> = []
    const f = nnx.jit((h: Holder) => {
      seen.push(h.tag.value)
      const out = h.tag.value === "negate" ? h.w.value.sum().neg() : h.w.value.sum()
      if (h.tag.value === "start") h.tag.value = "seen"
      return out
    })
    assert.strictEqual(f.sync(m).item(), 28)
    assert.strictEqual(m.tag, tag)
    assert.strictEqual(m.tag.value, "seen")
    m.tag.value = "negate"
    assert.strictEqual(f.sync(m).item(), -28)
    assert.strictEqual(m.tag.value, "negate")
    assert.deepStrictEqual(seen, ["start", "negate"])
    assert.strictEqual(f.traceCount, 2)
    // the same value again replays the program traced for it
    assert.strictEqual(f.sync(m).item(), -28)
    assert.strictEqual(f.traceCount, 2)
  })

  it("nnx.vmap: a bare Array attribute is mapped like a Param; a string Variable is passed whole", () => {
    const m = new Holder()
    const tag = m.tag
    const y = nnx
      .vmap(
        (h: Holder, x: jnp.Array) => {
          assert.strictEqual(h.tag.value, "start")
          h.table = h.table.add(x)
          h.tag.value = "mapped"
          return h.w.value.mul(h.table)
        },
        { inAxes: [0, 0] }
      )
      .sync(m, jnp.ones([4, 2]))
    assert.deepStrictEqual(y.tolist(), [
      [0, 2],
      [6, 9],
      [16, 20],
      [30, 35]
    ])
    assert.deepStrictEqual(m.table.tolist(), [
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 5]
    ])
    assert.strictEqual(m.tag, tag)
    assert.strictEqual(m.tag.value, "mapped")
  })

  it("nnx.scan: a string Variable in the carry selects the traced body, and a new value retraces", () => {
    class Step extends nnx.Module {
      w = new nnx.Param(jnp.ones([2]))
      mode = new nnx.Variable("add")
    }
    const s = new Step()
    const body = nnx.scan(
      (c: Step, x: jnp.Array) => [c, c.mode.value === "add" ? x.add(c.w.value) : x.sub(c.w.value)] as const,
      {
        inAxes: [nnx.Carry, 0],
        outAxes: [nnx.Carry, 0]
      }
    )
    assert.deepStrictEqual(body.sync(s, jnp.ones([3, 2]))[1].tolist(), [
      [2, 2],
      [2, 2],
      [2, 2]
    ])
    s.mode.value = "sub"
    assert.deepStrictEqual(body.sync(s, jnp.ones([3, 2]))[1].tolist(), [
      [0, 0],
      [0, 0],
      [0, 0]
    ])
    assert.strictEqual(s.mode.value, "sub")
    assert.strictEqual(body.traceCount, 2)
  })

  it("nnx.grad: a bare Array attribute and a string Variable are inputs but get no gradient (Params only)", () => {
    const m = new Holder()
    const [loss, g] = nnx.valueAndGrad((h: Holder) => h.w.value.mul(h.table).sum()).sync(m)
    assert.strictEqual(loss.item(), 1 + 2 * 5 + 3 * 9 + 4 * 13)
    assert.deepStrictEqual(g.paths, [["bias"], ["w"]])
    const gw = g.toFlat().find(([p]) => p[0] === "w")![1] as nnx.Variable<unknown>
    assert.deepStrictEqual((gw.value as jnp.Array).tolist(), m.table.tolist())
    assert.strictEqual(m.tag.value, "start")
  })
})

describe("vmap's axis checks", () => {
  class Norm extends nnx.Module {
    scale = new nnx.Param(jnp.ones([4, 3]))
    mean = new nnx.BatchStat(jnp.zeros([3]))
  }

  it("a StateAxes whose filters leave a Variable unmatched names its kind and path", () => {
    const e = thrown(() =>
      nnx
        .vmap((_n: Norm, x: jnp.Array) => x, { inAxes: [new nnx.StateAxes([[nnx.Param, 0]]), 0] })
        .sync(new Norm(), jnp.ones([4, 3]))
    )
    assert.instanceOf(e, nnx.LiftTypeError)
    assert.strictEqual(
      (e as nnx.LiftTypeError).message,
      "nnx.vmap: no filter of StateAxes({Param: 0}) matches the BatchStat at 'mean'; add a filter for it (e.g. [..., 0] at the end)"
    )
  })

  it("a StateAxes whose filters leave a bare Array unmatched calls it an Array", () => {
    class Bare extends nnx.Module {
      w = new nnx.Param(jnp.ones([4, 3]))
      table = jnp.ones([4, 3])
    }
    const e = thrown(() =>
      nnx.vmap((b: Bare) => b.w.value, { inAxes: new nnx.StateAxes([[nnx.Param, 0]]) }).sync(new Bare())
    )
    assert.instanceOf(e, nnx.LiftTypeError)
    assert.match(
      (e as nnx.LiftTypeError).message,
      /no filter of StateAxes\(\{Param: 0\}\) matches the Array at 'table'/
    )
  })

  const x = jnp.ones([2, 3])
  const id = (a: jnp.Array) => a

  it("outAxes must lie in [-rank, rank) of the batched output, as JAX's", () => {
    for (const axis of [5, 2, -3]) {
      const e = thrown(() => vmap(id, { outAxes: axis })(x))
      assert.instanceOf(e, VmapError)
      assert.strictEqual((e as VmapError).reason, `outAxes ${axis} is out of range for out of rank 1 (batched rank 2)`)
    }
    const fraction = thrown(() => vmap(id, { outAxes: 1.5 })(x))
    assert.instanceOf(fraction, VmapError)
    assert.strictEqual(
      (fraction as VmapError).reason,
      "outAxes gives out the axis 1.5, which is not an integer; an axis is an integer or null"
    )
    assert.deepStrictEqual(vmap(id, { outAxes: -2 })(x).shape, [2, 3])
    assert.deepStrictEqual(vmap(id, { outAxes: -1 })(x).shape, [3, 2])
    assert.deepStrictEqual(vmap(id, { outAxes: 1 })(x).shape, [3, 2])
  })

  it("an unbatched output is broadcast to the batch at its outAxes, within the same bounds", () => {
    const ones3 = (_: jnp.Array) => f32([1, 2, 3])
    assert.deepStrictEqual(vmap(ones3, { outAxes: 1 })(x).tolist(), [
      [1, 1],
      [2, 2],
      [3, 3]
    ])
    assert.deepStrictEqual(vmap(ones3, { outAxes: -2 })(x).tolist(), [
      [1, 2, 3],
      [1, 2, 3]
    ])
    for (const axis of [2, -3]) {
      const e = thrown(() => vmap(ones3, { outAxes: axis })(x))
      assert.strictEqual((e as VmapError).reason, `outAxes ${axis} is out of range for out of rank 1 (batched rank 2)`)
    }
  })

  it("nnx.vmap checks outAxes the same way", () => {
    // The path is not asserted: nnx.vmap's core output is (arguments, output), so it reads out[1].
    const e = thrown(() => nnx.vmap(id, { outAxes: 5 }).sync(x))
    assert.instanceOf(e, VmapError)
    assert.match((e as VmapError).reason, /^outAxes 5 is out of range for .* of rank 1 \(batched rank 2\)$/)
    assert.deepStrictEqual(nnx.vmap(id, { outAxes: -1 }).sync(x).shape, [3, 2])
  })

  it("a non-Array output needs an outAxes of null, and then comes back as it is", () => {
    const e = thrown(() => vmap((_: jnp.Array) => "label")(x))
    assert.instanceOf(e, VmapError)
    assert.strictEqual(
      (e as VmapError).reason,
      "out is not an Array (got string); vmap outputs must be Arrays unless their outAxes is null"
    )
    const inRecord = thrown(() => vmap((a: jnp.Array) => ({ a, s: "x" }), { outAxes: { a: 0, s: 1 } })(x))
    assert.strictEqual(
      (inRecord as VmapError).reason,
      "out['s'] is not an Array (got string); vmap outputs must be Arrays unless their outAxes is null"
    )
    assert.strictEqual(vmap((_: jnp.Array) => "label", { outAxes: null })(x), "label")
    const both = vmap((a: jnp.Array) => ({ a, s: "x" }), { outAxes: { a: 0, s: null } })(x)
    assert.strictEqual(both.s, "x")
    assert.deepStrictEqual(both.a.shape, [2, 3])
  })

  it("negative inAxes count from the end down to -rank; past it, JAX's message", () => {
    const y = jnp.arange(6).reshape([2, 3]).astype("float32")
    assert.deepStrictEqual(vmap(id, { inAxes: -1 })(y).tolist(), [
      [0, 3],
      [1, 4],
      [2, 5]
    ])
    assert.deepStrictEqual(vmap(id, { inAxes: -2 })(y).tolist(), [
      [0, 1, 2],
      [3, 4, 5]
    ])
    for (const [axis, rank] of [
      [-3, 3],
      [2, 3]
    ] as const) {
      const e = thrown(() => vmap(id, { inAxes: axis })(y))
      assert.instanceOf(e, VmapError)
      assert.strictEqual(
        (e as VmapError).reason,
        `vmap was requested to map args[0] along axis ${axis}, which implies that its rank should be at least ${rank}, but is only 2 (its type is float32(2, 3))`
      )
    }
  })

  it("an axisSize that disagrees with a mapped argument is refused, listing both (JAX raises too)", () => {
    const e = thrown(() => vmap(id, { axisSize: 3 })(x))
    assert.instanceOf(e, VmapError)
    assert.strictEqual(
      (e as VmapError).reason,
      "inconsistent sizes for array axes to be mapped:\n  * axisSize is 3\n  * axis 0 of args[0] of type float32(2, 3) has size 2"
    )
    assert.deepStrictEqual(vmap(id, { axisSize: 2 })(x).shape, [2, 3])
    const two = thrown(() => vmap((a: jnp.Array, b: jnp.Array) => a.add(b), { axisSize: 2 })(x, jnp.ones([3, 3])))
    assert.match((two as VmapError).reason, /axis 0 of args\[1\] of type float32\(3, 3\) has size 3$/)
  })
})

describe("gradients with partial cotangents and empty shapes", () => {
  const k = f32([3, 1, 2, 1])
  const v = f32([10, 20, 30, 40])
  const w = f32([1, 2, 3, 4])

  it("a two-operand lax.sort whose keys output is unused: the payload's cotangent is permuted back, the keys' is zero", () => {
    const f = (keys: jnp.Array, payload: jnp.Array) => lax.sort([keys, payload], 0, 1)[1]!.mul(w).sum()
    const [gk, gv] = grad(f, { argnums: [0, 1] })(k, v)
    // JAX: grad(lambda k, v: (lax.sort((k, v), num_keys=1)[1] * w).sum(), (0, 1)) -> 0s, [4, 1, 3, 2]
    assert.deepStrictEqual(gk.tolist(), [0, 0, 0, 0])
    assert.deepStrictEqual(gv.tolist(), [4, 1, 3, 2])
  })

  it("the same along dimension 0 of a matrix", () => {
    const K = f32([
      [2, 0],
      [1, 5],
      [3, 1]
    ])
    const V = jnp.arange(6).reshape([3, 2]).astype("float32")
    const W = jnp.arange(1, 7).reshape([3, 2]).astype("float32")
    const [gK, gV] = grad((a: jnp.Array, b: jnp.Array) => lax.sort([a, b], 0, 1)[1]!.mul(W).sum(), { argnums: [0, 1] })(
      K,
      V
    )
    assert.deepStrictEqual(gK.tolist(), [
      [0, 0],
      [0, 0],
      [0, 0]
    ])
    assert.deepStrictEqual(gV.tolist(), [
      [3, 2],
      [1, 6],
      [5, 4]
    ])
  })

  it("a payload-only tangent of a two-operand sort is permuted with the keys", () => {
    const [out, tangent] = jvp((payload: jnp.Array) => lax.sort([k, payload], 0, 1)[1]!, [v], [w])
    assert.deepStrictEqual(out.tolist(), [20, 40, 30, 10])
    assert.deepStrictEqual(tangent.tolist(), [2, 4, 3, 1])
  })

  it("an empty lax.slice has a zero gradient of the operand's shape", () => {
    const x = jnp.arange(5).astype("float32")
    assert.deepStrictEqual(grad((a: jnp.Array) => lax.slice(a, [2], [2]).sum())(x).tolist(), [0, 0, 0, 0, 0])
    assert.deepStrictEqual(
      grad((a: jnp.Array) => lax.slice(a, [1], [1]).sum().add(a.mul(a).sum()))(x).tolist(),
      [0, 2, 4, 6, 8]
    )
    const X = jnp.arange(12).reshape([3, 4]).astype("float32")
    const zeros = [
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0]
    ]
    assert.deepStrictEqual(grad((a: jnp.Array) => lax.slice(a, [0, 1], [3, 1]).sum())(X).tolist(), zeros)
    assert.deepStrictEqual(grad((a: jnp.Array) => lax.slice(a, [1, 4], [1, 4], [2, 1]).sum())(X).tolist(), zeros)
    const [, back] = vjp((a: jnp.Array) => lax.slice(a, [0, 1], [3, 1]), X)
    const [ct] = back(jnp.zeros([3, 0]))
    assert.deepStrictEqual(ct.tolist(), zeros)
  })
})
