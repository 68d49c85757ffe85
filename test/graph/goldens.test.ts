/**
 * The graph layer against Flax NNX: every case in test/goldens/graph.json (written by
 * tools/goldens/graph_goldens.py with flax 0.12.8) is rebuilt here and must match exactly: Rngs
 * key sequences, size strings, Variable reprs, which paths split puts in a State and in which
 * order, and iter_graph's order.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { jnp, nnx, random } from "effect-nnx"
import { formatSizeBytes } from "../../src/graph/format.ts"

interface Goldens {
  readonly flax_version: string
  readonly rngs: ReadonlyArray<{
    readonly seed: number
    readonly default: ReadonlyArray<ReadonlyArray<number>>
    readonly fallback: ReadonlyArray<number>
    readonly params: ReadonlyArray<ReadonlyArray<number>>
    readonly default_count: number
    readonly params_count: number
  }>
  readonly size_bytes: ReadonlyArray<{ readonly size: number; readonly bytes: number; readonly repr: string }>
  readonly variable_repr: ReadonlyArray<{ readonly name: string; readonly repr: string }>
  readonly split_paths: ReadonlyArray<{
    readonly name: string
    readonly paths: ReadonlyArray<ReadonlyArray<string | number>>
  }>
  readonly iter_graph: ReadonlyArray<readonly [ReadonlyArray<string | number>, unknown]>
}

const G = JSON.parse(readFileSync(new URL("../goldens/graph.json", import.meta.url), "utf8")) as Goldens

const data = (k: jnp.Array): unknown => random.keyData(k).tolist()

class Count extends nnx.Variable<jnp.Array> {}

class Linear extends nnx.Module {
  kernel: nnx.Param<jnp.Array>
  bias: nnx.Param<jnp.Array>
  din: number
  constructor(din: number, dout: number) {
    super()
    this.kernel = new nnx.Param(jnp.ones([din, dout]))
    this.bias = new nnx.Param(jnp.zeros([dout]))
    this.din = din
  }
}

class Tied extends nnx.Module {
  encoder = new Linear(2, 2)
  decoder = new Linear(2, 2)
  constructor() {
    super()
    this.decoder.kernel = this.encoder.kernel
  }
}

class Node extends nnx.Module {
  value: nnx.Param<jnp.Array>
  next: Node | undefined = undefined
  constructor(v: number) {
    super()
    this.value = new nnx.Param(jnp.array(v))
  }
}

class Stack extends nnx.Module {
  layers: Array<Linear>
  head = new Linear(2, 1)
  stats = new nnx.BatchStat(jnp.zeros([2]))
  constructor() {
    super()
    const shared = new Linear(1, 1)
    this.layers = [shared, new Linear(1, 2), shared]
  }
}

const paths = (s: nnx.State): Array<Array<string | number>> => s.toFlat().map(([p]) => [...p])

describe(`goldens from flax ${G.flax_version}`, () => {
  it("Rngs streams return Flax's keys, fall back to default, and count", () => {
    for (const c of G.rngs) {
      const rngs = new nnx.Rngs(c.seed, { params: c.seed + 1 })
      expect([rngs.default(), rngs.default(), rngs.default()].map(data)).toEqual(c.default)
      expect(data(rngs.stream("dropout")())).toEqual(c.fallback)
      expect([rngs.params(), rngs.params()].map(data)).toEqual(c.params)
      expect(rngs.default.count.value.tolist()).toBe(c.default_count)
      expect(rngs.params.count.value.tolist()).toBe(c.params_count)
    }
  })

  it("size strings match Flax's SizeBytes", () => {
    for (const c of G.size_bytes) expect(formatSizeBytes({ size: c.size, bytes: c.bytes })).toBe(c.repr)
  })

  it("Variable reprs match Flax's", () => {
    const count = new Count(jnp.arange(10))
    count.value = count.value.add(1)
    const scalar = new Count(jnp.array(0))
    scalar.value = scalar.value.add(1)
    const built: Record<string, nnx.Variable<jnp.Array>> = {
      count_arange: count,
      count_scalar: scalar,
      param_zeros: new nnx.Param(jnp.zeros([2, 3])),
      rng_count: new nnx.RngCount(jnp.zeros([], { dtype: "uint32" }), { tag: "noise" })
    }
    // Flax prints Python's spelling (`weak_type=True`), the Python display style.
    for (const c of G.variable_repr) expect(nnx.withDisplayStyle("python", () => String(built[c.name]))).toBe(c.repr)
  })

  it("split puts the same paths in the State, in the same order", () => {
    const a = new Node(1)
    const b = new Node(2)
    a.next = b
    b.next = a
    const stack = new Stack()
    const [, params, rest] = nnx.split(stack, nnx.Param, "...")
    const built: Record<string, nnx.State> = {
      tied: nnx.split(new Tied())[1],
      cycle: nnx.split(a)[1],
      stack: nnx.split(stack)[1],
      stack_params: params,
      stack_rest: rest
    }
    for (const c of G.split_paths) expect(paths(built[c.name]!)).toEqual(c.paths)
  })

  it("iterGraph visits in Flax's order", () => {
    const m = new Linear(3, 4)
    const seen = [...nnx.iterGraph([m, m])].map(([p, v]) => [
      [...p],
      v instanceof nnx.Param ? "Param" : v instanceof Linear ? "Linear" : Array.isArray(v) ? "list" : v
    ])
    expect(seen).toEqual(G.iter_graph)
  })
})
