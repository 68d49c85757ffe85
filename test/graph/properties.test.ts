/**
 * Property tests over randomly generated module graphs, with shared Variables, shared Modules and
 * cycles: split/merge, clone and save/load (binary and JSON) preserve values, structure and
 * identity relations (which paths reach the same object), and build entirely new objects.
 */
import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { Effect, Equal, Hash } from "effect"
import { jnp, nnx } from "effect-nnx"

class Count extends nnx.Variable<jnp.Array> {}
class NodeA extends nnx.Module {}
class NodeB extends nnx.Module {}

type Leaf =
  | {
      readonly t: "var"
      readonly kind: 0 | 1 | 2
      readonly shape: ReadonlyArray<number>
      readonly dtype: "float32" | "int32"
      readonly seed: number
    }
  | { readonly t: "sharedVar"; readonly target: number }
  | { readonly t: "mod"; readonly target: number }
  | { readonly t: "static"; readonly value: string | number | boolean | null }
  | { readonly t: "array"; readonly shape: ReadonlyArray<number> }
type Attr =
  | Leaf
  | { readonly t: "list"; readonly items: ReadonlyArray<Leaf> }
  | { readonly t: "record"; readonly items: ReadonlyArray<readonly [string, Leaf]> }
interface Spec {
  readonly modules: ReadonlyArray<{ readonly b: boolean; readonly attrs: ReadonlyArray<readonly [string, Attr]> }>
}

const shape = fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 })
const leafArb: fc.Arbitrary<Leaf> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("var" as const),
      kind: fc.constantFrom(0 as const, 1 as const, 2 as const),
      shape,
      dtype: fc.constantFrom("float32" as const, "int32" as const),
      seed: fc.integer({ min: -5, max: 5 })
    })
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("sharedVar" as const), target: fc.nat(20) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("mod" as const), target: fc.nat(20) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant("static" as const),
      value: fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean(), fc.constant(null))
    })
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("array" as const), shape }) }
)
const attrArb: fc.Arbitrary<Attr> = fc.oneof(
  { weight: 4, arbitrary: leafArb },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("list" as const), items: fc.array(leafArb, { maxLength: 3 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant("record" as const),
      items: fc.uniqueArray(fc.tuple(fc.constantFrom("x", "y", "z"), leafArb), { maxLength: 3, selector: ([k]) => k })
    })
  }
)
const specArb: fc.Arbitrary<Spec> = fc.record({
  modules: fc.array(
    fc.record({
      b: fc.boolean(),
      attrs: fc.uniqueArray(fc.tuple(fc.constantFrom("a", "b", "c", "d", "e", "kernel", "next"), attrArb), {
        minLength: 1,
        maxLength: 6,
        selector: ([k]) => k
      })
    }),
    { minLength: 1, maxLength: 6 }
  )
})

const KINDS = [nnx.Param, nnx.BatchStat, Count] as const

/** Builds the graph a spec describes; module 0 is the root. */
const build = (spec: Spec): nnx.Module => {
  const modules = spec.modules.map((m) => (m.b ? new NodeB() : new NodeA()))
  const vars: Array<nnx.Variable<unknown>> = []
  const leaf = (l: Leaf): unknown => {
    switch (l.t) {
      case "var": {
        const n = l.shape.reduce((a, b) => a * b, 1)
        const value = jnp.reshape(jnp.arange(n, undefined, undefined, { dtype: l.dtype }).add(l.seed), l.shape)
        const Kind = KINDS[l.kind]
        const v = new Kind(value, l.kind === 0 ? { shardingNames: l.shape.map(() => null) } : {})
        vars.push(v)
        return v
      }
      case "sharedVar":
        return vars.length === 0 ? new nnx.Param(jnp.zeros([1])) : vars[l.target % vars.length]
      case "mod":
        return modules[l.target % modules.length]
      case "static":
        return l.value
      case "array":
        return jnp.ones(l.shape)
    }
  }
  spec.modules.forEach((m, i) => {
    for (const [name, attr] of m.attrs) {
      const value =
        attr.t === "list"
          ? attr.items.map(leaf)
          : attr.t === "record"
            ? Object.fromEntries(attr.items.map(([k, l]) => [k, leaf(l)]))
            : leaf(attr)
      Reflect.set(modules[i]!, name, value)
    }
  })
  return modules[0]!
}

/**
 * A canonical description of the graph reachable from `root`: objects numbered by first visit in
 * sorted depth-first order, references by number, values by dtype, shape and elements. Equal
 * descriptions mean equal values, structure and identity relations.
 */
const describeGraph = (root: unknown): { readonly text: string; readonly objects: Set<object> } => {
  const ids = new Map<object, number>()
  const out: Array<unknown> = []
  const walk = (u: unknown): unknown => {
    if (u instanceof jnp.Array) return { array: u.dtype, shape: u.shape, data: u.tolist() }
    if (u instanceof nnx.Variable || u instanceof nnx.Module) {
      const seen = ids.get(u)
      if (seen !== undefined) return { ref: seen }
      const id = ids.size
      ids.set(u, id)
      const entry: Record<string, unknown> = { id, type: u.constructor.name }
      out.push(entry)
      if (u instanceof nnx.Variable) {
        entry["value"] = walk(u.value)
        entry["metadata"] = u.metadata
      } else {
        entry["attrs"] = Object.keys(u)
          .sort()
          .map((k) => [k, walk(Reflect.get(u, k))])
      }
      return { ref: id }
    }
    if (Array.isArray(u)) return { list: u.map(walk) }
    if (typeof u === "object" && u !== null)
      return {
        record: Object.keys(u)
          .sort()
          .map((k) => [k, walk((u as Record<string, unknown>)[k])])
      }
    return { static: u }
  }
  walk(root)
  return { text: JSON.stringify(out), objects: new Set(ids.keys()) }
}

const disjoint = (a: Set<object>, b: Set<object>): boolean => [...a].every((x) => !b.has(x))

describe("properties over random graphs with sharing and cycles", () => {
  it("the generator makes graphs with shared Variables, shared Modules and cycles", () => {
    let sharedVars = 0
    let sharedModules = 0
    let cycles = 0
    for (const spec of fc.sample(specArb, { numRuns: 300, seed: 1 })) {
      const root = build(spec)
      const counts = new Map<object, number>()
      for (const [, v] of nnx.iterGraph(root)) if (typeof v === "object" && v !== null) counts.set(v, 0)
      const refs = (u: unknown): void => {
        if (u instanceof nnx.Module || u instanceof nnx.Variable) counts.set(u, (counts.get(u) ?? 0) + 1)
        else if (Array.isArray(u)) u.forEach(refs)
        else if (typeof u === "object" && u !== null && !(u instanceof jnp.Array)) Object.values(u).forEach(refs)
      }
      for (const o of counts.keys()) if (o instanceof nnx.Module) Object.values(o).forEach(refs)
      if ([...counts].some(([o, n]) => o instanceof nnx.Variable && n > 1)) sharedVars++
      if ([...counts].some(([o, n]) => o instanceof nnx.Module && o !== root && n > 1)) sharedModules++
      if ((counts.get(root) ?? 0) > 0) cycles++
    }
    expect(sharedVars).toBeGreaterThan(30)
    expect(sharedModules).toBeGreaterThan(30)
    expect(cycles).toBeGreaterThan(30)
  })

  it("split/merge (with filters) and clone preserve values, structure and identity; merge shares the States' Variables, copy and clone make new ones", () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const m = build(spec)
        const before = describeGraph(m)
        const [g, params, stats, rest] = nnx.split(m, nnx.Param, nnx.BatchStat, "...")
        const merged = nnx.merge(g, params, stats, rest)
        const copied = nnx.merge(g, params, stats, rest, { copy: true })
        const cloned = nnx.clone(m)
        const afterMerge = describeGraph(merged)
        const afterCopy = describeGraph(copied)
        const afterClone = describeGraph(cloned)
        expect(afterMerge.text).toBe(before.text)
        expect(afterCopy.text).toBe(before.text)
        expect(afterClone.text).toBe(before.text)
        // As Flax 0.12: new Modules around the very Variables the States hold.
        const beforeSet = new Set<unknown>(before.objects)
        for (const o of afterMerge.objects) expect(beforeSet.has(o)).toBe(o instanceof nnx.Variable)
        expect(disjoint(before.objects, afterCopy.objects)).toBe(true)
        expect(disjoint(before.objects, afterClone.objects)).toBe(true)
        // the original is untouched, and equal structures have equal GraphDefs
        expect(describeGraph(m).text).toBe(before.text)
        const g2 = nnx.graphdef(cloned)
        expect(Equal.equals(g, g2)).toBe(true)
        expect(Hash.hash(g)).toBe(Hash.hash(g2))
      }),
      { numRuns: 150 }
    )
  })

  it("save/load (binary and JSON) round-trips, and restore brings a perturbed copy back", () => {
    fc.assert(
      fc.property(specArb, fc.boolean(), (spec, binary) => {
        const m = build(spec)
        const before = describeGraph(m)
        const [g, state] = nnx.split(m)
        const loaded = Effect.runSync(
          binary
            ? Effect.flatMap(nnx.saveState(state), (bytes) => nnx.loadState(bytes, { kinds: [Count] }))
            : Effect.flatMap(nnx.stateToJson(state), (text) => nnx.stateFromJson(text, { kinds: [Count] }))
        )
        expect(describeGraph(nnx.merge(g, loaded)).text).toBe(before.text)
        // perturb a copy, then restore the checkpoint into it
        const copy = nnx.clone(m)
        nnx.update(
          copy,
          nnx
            .state(copy)
            .map((_, leaf) => (leaf instanceof nnx.Variable ? leaf.replace((leaf.value as jnp.Array).add(1)) : leaf))
        )
        const checkpoint: Uint8Array | string = binary
          ? Effect.runSync(nnx.saveState(state))
          : Effect.runSync(nnx.stateToJson(state))
        Effect.runSync(nnx.restore(copy, checkpoint))
        expect(describeGraph(copy).text).toBe(before.text)
      }),
      { numRuns: 100 }
    )
  })

  it("update with a graph's own state is the identity, and sharing survives it", () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const m = build(spec)
        const before = describeGraph(m)
        nnx.update(m, nnx.state(m))
        const after = describeGraph(m)
        expect(after.text).toBe(before.text)
        expect([...after.objects].every((o) => before.objects.has(o))).toBe(true)
      }),
      { numRuns: 100 }
    )
  })
})
