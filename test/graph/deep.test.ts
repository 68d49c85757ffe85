/**
 * Deep graphs: a chain of Modules 100,000 deep with a Param at every level splits, merges,
 * updates, and gives its State and GraphDef in time and memory linear in its size (the leaf paths
 * share their prefixes instead of totalling n²/2 keys), with no recursion. Before, 10,000 deep took
 * seconds and 20,000 deep ran out of memory. Timings belong to the benchmark, not here: these tests
 * only show the operations finish and are right.
 */
import { describe, expect, it } from "vitest"
import { jnp, nnx } from "effect-nnx"

const DEPTH = 100_000

class Chain extends nnx.Module {
  child: Chain | undefined = undefined
  w: nnx.Param<jnp.Array>
  constructor(
    readonly depth: number,
    x: jnp.Array
  ) {
    super()
    this.w = new nnx.Param(x)
  }
}

const chain = (n: number): Chain => {
  const x = jnp.zeros([1])
  const root = new Chain(0, x)
  let cur = root
  for (let i = 1; i < n; i++) {
    const next = new Chain(i, x)
    cur.child = next
    cur = next
  }
  return root
}

const bottom = (root: Chain): Chain => {
  let node = root
  while (node.child !== undefined) node = node.child
  return node
}

describe("graphs 100,000 deep", () => {
  it("split, merge, state, graphdef and update of a chain with a leaf at every level", () => {
    const root = chain(DEPTH)
    const [g, s] = nnx.split(root)
    expect(s.size).toBe(DEPTH)
    expect(g.numLeaves).toBe(DEPTH)
    const copy = nnx.merge(g, s)
    expect(copy === root).toBe(false)
    const last = bottom(copy)
    expect(last.depth).toBe(DEPTH - 1)
    expect(last.w instanceof nnx.Param).toBe(true)
    expect(nnx.state(root).size).toBe(DEPTH)
    expect(nnx.graphdef(root).nodes.length).toBe(2 * DEPTH)
    // update from the State of the changed copy, written in place at the bottom
    bottom(copy).w.value = jnp.ones([1])
    const before = bottom(root).w
    nnx.update(root, nnx.state(copy))
    expect(bottom(root).w === before).toBe(true)
    expect(bottom(root).w.value.tolist()).toEqual([1])
    expect(root.w.value.tolist()).toEqual([0])
  }, 60_000)

  it("update from a pure record nested 100,000 deep", () => {
    const root = chain(DEPTH)
    let rec: Record<string, unknown> = { w: jnp.full([1], 5) }
    for (let i = 0; i < DEPTH - 1; i++) rec = { child: rec }
    nnx.update(root, rec)
    expect(bottom(root).w.value.tolist()).toEqual([5])
    expect(root.w.value.tolist()).toEqual([0])
  }, 60_000)

  it("merge names the path of a leaf missing at the bottom of a deep chain", () => {
    const root = chain(1_000)
    const [g, s] = nnx.split(root)
    const pure = s.toPureDict()
    let node = pure as Record<string, unknown>
    for (let i = 0; i < 999; i++) node = node["child"] as Record<string, unknown>
    delete node["w"]
    expect(() => nnx.merge(g, pure)).toThrow(nnx.MergeError)
    try {
      nnx.merge(g, pure)
    } catch (e) {
      expect((e as nnx.MergeError).path).toEqual([...Array.from({ length: 999 }, () => "child"), "w"])
    }
  })

  it("paths stay right when asked for: split's State lists them in sorted order", () => {
    const [, s] = nnx.split(chain(3))
    expect(s.paths).toEqual([["child", "child", "w"], ["child", "w"], ["w"]])
    expect(s.toFlat().map(([p]) => p.join("."))).toEqual(["child.child.w", "child.w", "w"])
  })

  it("display of a chain 100,000 deep elides past its depth limit without overflowing", () => {
    const text = nnx.displayString(chain(DEPTH))
    expect(text).toContain("Chain(")
    expect(text).toContain("(...)")
    // an unbounded maxDepth is capped (at 1,000 levels) rather than recursing 100,000 deep
    const unbounded = nnx.displayString(chain(DEPTH), { maxDepth: Number.POSITIVE_INFINITY })
    expect(unbounded.split("\n").filter((l) => l.includes("child=Chain(")).length).toBe(1000)
  }, 60_000)
})
