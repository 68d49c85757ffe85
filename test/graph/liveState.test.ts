/**
 * Flax 0.12's State: its leaves are the live Variables. Each case here was run in Flax 0.12.8 /
 * JAX 0.10.2 first (the expected values in the comments are what Flax printed).
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { grad, jnp, nnx, treeMap } from "effect-nnx"

class M extends nnx.Module {
  a = new nnx.Param(jnp.ones([2]))
  b = new nnx.BatchStat(jnp.zeros([2]))
  c = jnp.arange(3)
}

const values = (v: unknown): unknown => (v as nnx.Variable<jnp.Array>).value.tolist()

describe("a State holds the live Variables (Flax 0.12)", () => {
  it("state and split share the Module's Variables; writing a leaf writes the Module", () => {
    const m = new M()
    const s = nnx.state(m)
    expect(s.get("a")).toBe(m.a) // Flax: s['a'] is m.a → True
    expect(s.get("c")).toBe(m.c) // raw Arrays stay Arrays
    const [, st] = nnx.split(m)
    expect(st.get("a")).toBe(m.a)
    expect(nnx.state(m).get("a")).toBe(nnx.state(m).get("a"))
    ;(s.get("a") as nnx.Param<jnp.Array>).value = jnp.full([2], 7)
    expect(m.a.value.tolist()).toEqual([7, 7])
  })

  it("filter, split and merge of States share the Variables too", () => {
    const m = new M()
    const s = nnx.state(m)
    expect(s.filter(nnx.Param).get("a")).toBe(m.a)
    const [params, rest] = s.split(nnx.Param, "...")
    expect(params.get("a")).toBe(m.a)
    expect(rest.get("b")).toBe(m.b)
    expect(nnx.State.merge(params, rest).get("b")).toBe(m.b)
  })

  it("merge builds new Modules around the States' Variables; twice gives two Modules sharing them", () => {
    const m = new M()
    const [g, s] = nnx.split(m)
    const m1 = nnx.merge(g, s)
    const m2 = nnx.merge(g, s)
    expect(m1).not.toBe(m2)
    expect(m1.a).toBe(m2.a) // Flax: True
    expect(m1.a).toBe(m.a)
    const m3 = nnx.merge(g, s, { copy: true }) // Flax: merge(..., copy=True)
    expect(m3.a).not.toBe(m.a)
    expect(m3.a.value.tolist()).toEqual([1, 1])
  })

  it("State.map, replaceByPureDict and Variable.replace give new Variables and leave the Module alone", () => {
    const m = new M()
    const s = nnx.state(m)
    const t = s.map((_, leaf) => (leaf instanceof nnx.Variable ? leaf.replace((leaf.value as jnp.Array).add(1)) : leaf))
    expect(t.get("a")).toBeInstanceOf(nnx.Param)
    expect(t.get("a")).not.toBe(m.a)
    expect(values(t.get("a"))).toEqual([2, 2])
    expect(m.a.value.tolist()).toEqual([1, 1])
    const r = s.replaceByPureDict({ a: jnp.full([2], 5) })
    expect(values(r.get("a"))).toEqual([5, 5])
    expect(m.a.value.tolist()).toEqual([1, 1]) // Flax: m.a [1. 1.]
    expect(s.get("a")).toBe(m.a)
  })

  it("update copies values (and metadata) into the graph's own Variables, keeping their identity", () => {
    const m = new M()
    const other = new M()
    other.a.value = jnp.full([2], 3)
    other.a.setMetadata("note", "x")
    nnx.update(m, nnx.state(other))
    expect(m.a.value.tolist()).toEqual([3, 3]) // Flax: [3. 3.]
    expect(m.a).not.toBe(other.a) // Flax: False
    expect(m.a.getMetadata("note")).toBe("x")
    // a State of the Module's own Variables changes nothing
    const before = m.a
    nnx.update(m, nnx.state(m))
    expect(m.a).toBe(before)
  })

  it("update adds a missing Variable as a copy of the State's, as Flax does", () => {
    class Empty extends nnx.Module {}
    const e = new Empty()
    const w = new nnx.Param(jnp.ones([2]))
    nnx.update(e, nnx.State.fromFlat([[["w"], w]]))
    const added = (e as unknown as { w: nnx.Param<jnp.Array> }).w
    expect(added).toBeInstanceOf(nnx.Param)
    expect(added).not.toBe(w)
    expect(added.value.tolist()).toEqual([1, 1])
  })

  it("pop returns the removed live Variables", () => {
    const m = new M()
    const b = m.b
    const popped = nnx.pop(m, nnx.BatchStat)
    expect(popped.get("b")).toBe(b)
    expect("b" in m).toBe(false)
  })

  it("prints each leaf as its Variable (Param( ... ), no VariableState)", () => {
    const text = nnx.withDisplayStyle("python", () => String(nnx.state(new M(), nnx.Param)))
    expect(text).toBe(
      ["State({", "  'a': Param( # 2 (8 B)", "    value=Array([1., 1.], dtype=float32)", "  ),", "})"].join("\n")
    )
  })
})

describe("gradients are States of new Variables (Flax 0.12)", () => {
  const loss = (m: M): jnp.Array => jnp.sum(m.a.value.mul(m.a.value))

  it("nnx.grad of a Module: a State of new Params holding the gradients, which update applies", () => {
    const m = new M()
    const g = nnx.grad(loss).sync(m)
    const ga = g.get("a")
    expect(ga).toBeInstanceOf(nnx.Param)
    expect(ga).not.toBe(m.a) // Flax: False
    expect(values(ga)).toEqual([2, 2])
    nnx.update(m, g)
    expect(m.a.value.tolist()).toEqual([2, 2]) // Flax: [2. 2.]
  })

  it("of a Variable: a new Variable of its kind; of a list or record of Variables: the same structure of them", () => {
    const p = new nnx.Param(jnp.ones([2]))
    const gp = nnx.grad((v: nnx.Param<jnp.Array>) => jnp.sum(v.value.mul(v.value))).sync(p)
    expect(gp).toBeInstanceOf(nnx.Param)
    expect(gp).not.toBe(p)
    expect(values(gp)).toEqual([2, 2])

    const vs = [new nnx.Param(jnp.ones([2])), new nnx.Param(jnp.ones([3]))]
    const gv = nnx
      .grad((l: typeof vs) => jnp.sum(l[0]!.value.mul(l[0]!.value)).add(jnp.sum(l[1]!.value.mul(l[1]!.value))))
      .sync(vs)
    expect(gv[0]).toBeInstanceOf(nnx.Param)
    expect(values(gv[1])).toEqual([2, 2, 2])

    const d = { x: new nnx.Param(jnp.ones([2])), y: new nnx.Param(jnp.full([2], 2, { dtype: "float32" })) }
    const gd = nnx.grad((r: typeof d) => jnp.sum(r.x.value.mul(r.y.value))).sync(d)
    expect(values(gd.x)).toEqual([2, 2]) // Flax: x: [2. 2.], y: [1. 1.]
    expect(values(gd.y)).toEqual([1, 1])
  })

  it("gradients of a list or record of Variables are applied back with update (Flax cannot: update wants a mapping)", () => {
    const vs = [new nnx.Param(jnp.ones([2])), new nnx.Param(jnp.ones([3]))]
    const gv = nnx.grad((l: typeof vs) => jnp.sum(l[0]!.value.mul(l[0]!.value)).add(jnp.sum(l[1]!.value))).sync(vs)
    nnx.update(vs, gv)
    expect(vs[0]!.value.tolist()).toEqual([2, 2])
    expect(vs[1]!.value.tolist()).toEqual([1, 1, 1])
    const d = { x: new nnx.Param(jnp.ones([2])), y: new nnx.Param(jnp.full([2], 2, { dtype: "float32" })) }
    nnx.update(d, nnx.grad((r: typeof d) => jnp.sum(r.x.value.mul(r.y.value))).sync(d))
    expect(d.x.value.tolist()).toEqual([2, 2])
    expect(d.y.value.tolist()).toEqual([1, 1])
  })

  it("the core treeMap sees through a State's Variables: new Variables of the same kinds, the Module untouched", () => {
    const m = new M()
    const t = treeMap((x: unknown) => (x as jnp.Array).add(1), nnx.state(m, nnx.Param)) as nnx.State
    expect(t.get("a")).toBeInstanceOf(nnx.Param) // Flax: jax.tree.map over a State: Param, False
    expect(t.get("a")).not.toBe(m.a)
    expect(values(t.get("a"))).toEqual([2, 2])
    expect(m.a.value.tolist()).toEqual([1, 1])
  })

  it("the core grad sees a State as a pytree of Variables: its gradient is a State of new Variables", () => {
    const m = new M()
    const gs = grad((s: nnx.State) =>
      jnp.sum((s.get("a") as nnx.Param<jnp.Array>).value.mul((s.get("a") as nnx.Param<jnp.Array>).value))
    )(nnx.state(m, nnx.Param))
    const ga = (gs as nnx.State).get("a")
    expect(ga).toBeInstanceOf(nnx.Param) // Flax: Param, [4. 4.] after m.a became 2
    expect(ga).not.toBe(m.a)
    expect(values(ga)).toEqual([2, 2])
  })
})

describe("States through the lifted transforms", () => {
  it("a State passed to nnx.jit: its Variables are graph nodes, written back in place", () => {
    const m = new M()
    const f = nnx.jit((s: nnx.State) => {
      const a = s.get("a") as nnx.Param<jnp.Array>
      a.value = a.value.add(1)
    })
    Effect.runSync(f(nnx.state(m)))
    expect(m.a.value.tolist()).toEqual([2, 2]) // Flax: [2. 2.]
  })

  it("nnx.state(m) returned from nnx.jit holds m's own Variables", () => {
    const m = new M()
    const s = Effect.runSync(nnx.jit((mm: M) => nnx.state(mm))(m))
    expect(s.get("a")).toBe(m.a) // Flax: True
  })

  it("nnx.vmap(nnx.grad) returns per-example gradients as a State of new Variables with the batch axis", () => {
    class W extends nnx.Module {
      w = new nnx.Param(jnp.ones([3]))
    }
    const model = new W()
    const xs = jnp.arange(12).reshape([4, 3]).astype("float32")
    const per = Effect.runSync(
      nnx.vmap(
        nnx.grad((mm: W, x: jnp.Array) => jnp.sum(mm.w.value.mul(x))),
        { inAxes: [null, 0] }
      )(model, xs)
    )
    const gw = per.get("w")
    expect(gw).toBeInstanceOf(nnx.Param)
    expect((gw as nnx.Param<jnp.Array>).value.shape).toEqual([4, 3])
    expect(model.w.value.shape).toEqual([3])
  })
})
