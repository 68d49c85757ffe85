/**
 * The extract protocol walks each argument's graph once: the alias check walks a node again only
 * when a second node is split beside it, and the outer merge leaves a reused Module's unchanged
 * attributes alone instead of clearing and refilling it. These tests pin what those shortcuts must
 * keep: every error the extra walk used to raise, and every structure change made inside.
 */
import { describe, expect, it } from "vitest"
import { jnp, nnx } from "effect-nnx"
import { thrownAs } from "../support/thrown.ts"

class Labelled extends nnx.Module {
  w = new nnx.Param(jnp.ones([2, 3]))
  label = new nnx.Variable("first")
}

class Pair extends nnx.Module {
  sub = new Labelled()
  v = new nnx.Param(jnp.ones([3]))
}

describe("one walk per argument", () => {
  it("a StateAxes that fits no filter to a Variable holding a string is an error, as for an Array", () => {
    const f = nnx.vmap((m: Labelled) => m.w.value.sum(), { inAxes: new nnx.StateAxes([[nnx.Param, 0]]) as never })
    const e = thrownAs(nnx.LiftTypeError, () => f.sync(new Labelled()))
    expect(e.message).toBe(
      "nnx.vmap: no filter of StateAxes({Param: 0}) matches the Variable at 'label'; add a filter for it (e.g. [..., 0] at the end)"
    )
  })

  it("a Module and its own submodule with different axes alias inconsistently, each Variable's first sighting listed first", () => {
    const m = new Pair()
    const f = nnx.vmap((a: Pair, b: Labelled) => a.v.value.add(b.w.value.sum()), { inAxes: [null, 0] })
    const e = thrownAs(nnx.AliasingError, () => f.sync(m, m.sub))
    expect(e.nodes).toEqual([
      {
        node: "Variable",
        seen: [
          { path: "sub/label", prefix: "null" },
          { path: "label", prefix: "0" }
        ]
      },
      {
        node: "Param",
        seen: [
          { path: "sub/w", prefix: "null" },
          { path: "w", prefix: "0" }
        ]
      }
    ])
  })

  it("a Variable shared by the first and third arguments is checked even when the second shares nothing", () => {
    const a = new Labelled()
    const other = new Labelled()
    const f = nnx.vmap((x: Labelled, _y: Labelled, z: Labelled) => x.w.value.add(z.w.value), {
      inAxes: [0, 0, null]
    })
    const e = thrownAs(nnx.AliasingError, () => f.sync(a, other, a))
    expect(e.nodes?.map((n) => n.seen)).toEqual([
      [
        { path: "label", prefix: "0" },
        { path: "label", prefix: "null" }
      ],
      [
        { path: "w", prefix: "0" },
        { path: "w", prefix: "null" }
      ]
    ])
  })

  it("the same Module twice with the same axis is one node, passed through", () => {
    const a = new Labelled()
    const f = nnx.vmap((x: Labelled, y: Labelled) => x.w.value.add(y.w.value), { inAxes: [0, 0] })
    expect(f.sync(a, a).tolist()).toEqual([
      [2, 2, 2],
      [2, 2, 2]
    ])
  })
})

describe("the outer merge of a reused Module", () => {
  it("attributes deleted inside nnx.jit are gone outside; untouched ones keep their order and objects", () => {
    const m = new Pair()
    const { w, label } = m.sub
    const f = nnx.jit((p: Pair) => {
      Reflect.deleteProperty(p.sub, "label")
      Object.assign(p.sub, { extra: new nnx.Param(jnp.zeros([1])) })
      return p.v.value.sum()
    })
    expect(f.sync(m).item()).toBe(3)
    expect(Object.keys(m.sub)).toEqual(["w", "extra"])
    expect(m.sub.w).toBe(w)
    expect("label" in m.sub).toBe(false)
    expect(label.value).toBe("first")
    expect((m.sub as unknown as { extra: nnx.Param<jnp.Array> }).extra.value.tolist()).toEqual([0])
  })

  it("a submodule emptied inside nnx.jit is empty outside", () => {
    const m = new Pair()
    const sub = m.sub
    const f = nnx.jit((p: Pair) => {
      Reflect.deleteProperty(p.sub, "w")
      Reflect.deleteProperty(p.sub, "label")
      return p.v.value.sum()
    })
    f.sync(m)
    expect(m.sub).toBe(sub)
    expect(Object.keys(m.sub)).toEqual([])
  })

  it("a static attribute replaced inside nnx.jit is replaced outside, and a Variable replaced by another", () => {
    class Config extends nnx.Module {
      mode = "train"
      p = new nnx.Param(jnp.ones([2]))
    }
    const c = new Config()
    const old = c.p
    const f = nnx.jit((x: Config) => {
      x.mode = "eval"
      x.p = new nnx.Param(x.p.value.mul(3))
      return x.p.value.sum()
    })
    expect(f.sync(c).item()).toBe(6)
    expect(c.mode).toBe("eval")
    expect(c.p).not.toBe(old)
    expect(c.p.value.tolist()).toEqual([3, 3])
    expect(Object.keys(c)).toEqual(["mode", "p"])
  })
})
