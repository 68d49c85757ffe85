/**
 * nnx.display against the reference guide: the one-line form must equal each of the guide's six
 * Display blocks exactly (copied verbatim below, Python attribute names camelCased by `camel`), and
 * Variables print as the guide's outputs do. States the guide reaches through transforms (vmap,
 * split_rngs) are built by hand with the same shapes and values. Those comparisons use the Python
 * display style (the guide's spelling); the multi-line forms a TypeScript user reads use the
 * default TypeScript style.
 */
import { assert, describe, expect, it } from "vitest"
import { jnp, nnx, random } from "effect-nnx"

/** The guide's Python attribute names (`new_param=`) as TypeScript names (`newParam=`). */
const camel = (s: string): string =>
  s.replace(/\b([a-z]+)_([a-z])([a-z]*)=/g, (_m, a: string, b: string, c: string) => `${a}${b.toUpperCase()}${c}=`)

// Verbatim from the guide's Display blocks, in order.
const GUIDE = [
  "<Weights( # Param: 90 (360 B)bias=<Param( # 30 (120 B)value=Array float32(10, 3))>, kernel=<Param( # 60 (240 B)value=Array float32(10, 2, 3))>,)>",
  "<Weights( # Param: 90 (360 B)bias=<Param( # 30 (120 B)value=Array float32(10, 3))>, kernel=<Param( # 60 (240 B)value=Array float32(10, 2, 3))>,)>",
  "<WeightStack( # Param: 90 (360 B)bias=<Param( # 30 (120 B)value=Array float32(10, 3))>, kernel=<Param( # 60 (240 B)value=Array float32(10, 2, 3))>,)>",
  "<Weights( # Count: 10 (40 B), Param: 60 (240 B), Total: 70 (280 B)count=<Count( # 10 (40 B)value=Array int32(10,))>, kernel=<Param( # 60 (240 B)value=Array float32(10, 2, 3))>, # Repeated python objnew_param=<Param( # 60 (240 B)value=Array float32(10, 2, 3))>, # Repeated python objsome_property=['a', 2, False,<3 elements...>],)>",
  "<Weights( # Param: 9 (36 B), Count: 1 (4 B), RngState: 20 (120 B), Total: 30 (160 B)bias=<Param( # 3 (12 B)value=Array float32(3,))>, count=<Count( # 1 (4 B)value=Array int32(),)>, kernel=<Param( # 6 (24 B)value=Array float32(2, 3))>, rngs=<Rngs( # RngState: 20 (120 B)noise=<RngStream( # RngState: 20 (120 B)count=<RngCount( # 10 (40 B)value=Array uint32(10,), # Visualization hidden in roundtrip modetag='noise',)>, key=<RngKey( # 10 (80 B)value=Array key<fry(10,)>, tag='noise',)>, tag='noise',)>,)>,)>",
  "<Weights( # Param: 9 (36 B), Count: 1 (4 B), RngState: 2 (12 B), Total: 12 (52 B)bias=<Param( # 3 (12 B)value=Array float32(3,))>, count=<Count( # 1 (4 B)value=Array int32(),)>, kernel=<Param( # 6 (24 B)value=Array float32(2, 3))>, rngs=<Rngs( # RngState: 2 (12 B)noise=<RngStream( # RngState: 2 (12 B)count=<RngCount( # 1 (4 B)value=Array uint32(), tag='noise',)>, key=<RngKey( # 1 (8 B)value=Array key<fry()>, tag='noise',)>, tag='noise',)>,)>,)>"
] as const

class Count extends nnx.Variable<jnp.Array> {}

class Weights extends nnx.Module {
  kernel: nnx.Param<jnp.Array>
  bias: nnx.Param<jnp.Array>
  constructor(kernel: jnp.Array, bias: jnp.Array) {
    super()
    this.kernel = new nnx.Param(kernel)
    this.bias = new nnx.Param(bias)
  }
}

class WeightStack extends nnx.Module {
  kernel: nnx.Param<jnp.Array>
  bias: nnx.Param<jnp.Array>
  constructor(seeds: ReadonlyArray<number>) {
    super()
    // What the guide's vmapped __init__ builds: one (2, 3) kernel per seed, stacked.
    this.kernel = new nnx.Param(jnp.stack(seeds.map((s) => random.uniform(random.key(s), [2, 3]))))
    this.bias = new nnx.Param(jnp.zeros([seeds.length, 3]))
  }
}

/** The guide's stateful Weights, with the attributes crazy_vector_dot adds or deletes. */
const CountingWeights = class Weights extends nnx.Module {
  kernel: nnx.Param<jnp.Array>
  bias?: nnx.Param<jnp.Array>
  count: Count
  newParam?: nnx.Param<jnp.Array>
  someProperty?: ReadonlyArray<string | number | boolean>
  constructor(kernel: jnp.Array, bias: jnp.Array, count: jnp.Array) {
    super()
    this.kernel = new nnx.Param(kernel)
    this.bias = new nnx.Param(bias)
    this.count = new Count(count)
  }
}

/** The guide's Weights with an Rngs. */
const NoisyWeights = class Weights extends nnx.Module {
  kernel: nnx.Param<jnp.Array>
  bias: nnx.Param<jnp.Array>
  count: Count
  rngs: nnx.Rngs<"noise">
  constructor(kernel: jnp.Array, bias: jnp.Array, count: jnp.Array, seed: nnx.RngSeed) {
    super()
    this.kernel = new nnx.Param(kernel)
    this.bias = new nnx.Param(bias)
    this.count = new Count(count)
    this.rngs = new nnx.Rngs({ noise: seed })
  }
}

/** The guide's form: one line, Python's spelling. */
const oneLine = (x: unknown): string => nnx.displayString(x, { oneLine: true, style: "python" })

describe("display: the guide's Display blocks, one-line form", () => {
  it("Basic example: Weights after vmap(vector_dot)", () => {
    const weights = new Weights(random.uniform(random.key(0), [10, 2, 3]), jnp.zeros([10, 3]))
    expect(oneLine(weights)).toBe(GUIDE[0])
  })

  it("Basic example: the stack made by vmap(create_weights)", () => {
    const kernel = jnp.stack([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((s) => random.uniform(random.key(s), [2, 3])))
    const weights = new Weights(kernel, jnp.zeros([10, 3]))
    expect(oneLine(weights)).toBe(GUIDE[1])
  })

  it("Transforming methods: WeightStack", () => {
    const weights = new WeightStack([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(oneLine(weights)).toBe(GUIDE[2])
  })

  it("Graph updates propagation: Weights after crazy_vector_dot (shared Param marked as repeated)", () => {
    const weights = new CountingWeights(random.uniform(random.key(0), [10, 2, 3]), jnp.zeros([10, 3]), jnp.arange(10))
    // What crazy_vector_dot does, applied by hand (the vmap comes with the transforms):
    weights.count.value = weights.count.value.add(1)
    weights.someProperty = ["a", 2, false]
    delete weights.bias
    weights.newParam = weights.kernel
    expect(oneLine(weights)).toBe(camel(GUIDE[3]))
  })

  it("Random state: Weights with an Rngs seeded by 10 split keys", () => {
    const weights = new NoisyWeights(
      random.uniform(random.key(0), [2, 3]),
      jnp.zeros([3]),
      jnp.array(0),
      random.split(random.key(0), 10)
    )
    expect(oneLine(weights)).toBe(GUIDE[4])
  })

  it("Random state: Weights with an Rngs seeded by 0 (after split_rngs lowers it back)", () => {
    const weights = new NoisyWeights(random.uniform(random.key(0), [2, 3]), jnp.zeros([3]), jnp.array(0), 0)
    expect(oneLine(weights)).toBe(GUIDE[5])
  })
})

describe("display: Variable outputs and multi-line forms", () => {
  it("prints a Variable as the guide's State propagation output (Python style)", () => {
    const count = new Count(jnp.arange(10).add(1))
    const scalar = new Count(jnp.array(0))
    scalar.value = scalar.value.add(1)
    nnx.withDisplayStyle("python", () => {
      expect(String(count)).toBe(
        "Count( # 10 (40 B)\n  value=Array([ 1,  2,  3,  4,  5,  6,  7,  8,  9, 10], dtype=int32)\n)"
      )
      expect(String(scalar)).toBe("Count( # 1 (4 B)\n  value=Array(1, dtype=int32, weak_type=True)\n)")
    })
    expect(String(scalar)).toBe("Count( # 1 (4 B)\n  value=Array(1, dtype=int32, weakType=true)\n)")
  })

  it("prints metadata after the value", () => {
    const p = new nnx.Param(jnp.ones([3, 4, 5]), { shardingNames: ["a", "b", null] })
    expect(String(p)).toContain('  shardingNames=["a", "b", null]\n)')
    expect(nnx.displayString(p)).toBe(
      'Param( # 60 (240 B)\n  value=Array float32[3, 4, 5],\n  shardingNames=["a", "b", null],\n)'
    )
    expect(nnx.withDisplayStyle("python", () => String(p))).toContain("  shardingNames=['a', 'b', None]\n)")
    expect(nnx.displayString(p, { style: "python" })).toBe(
      "Param( # 60 (240 B)\n  value=Array float32(3, 4, 5),\n  shardingNames=['a', 'b', None],\n)"
    )
  })

  it("multi-line form: one attribute per line, two-space indentation", () => {
    const weights = new Weights(random.uniform(random.key(0), [10, 2, 3]), jnp.zeros([10, 3]))
    const expected = [
      "Weights( # Param: 90 (360 B)",
      "  bias=Param( # 30 (120 B)",
      "    value=Array float32[10, 3],",
      "  ),",
      "  kernel=Param( # 60 (240 B)",
      "    value=Array float32[10, 2, 3],",
      "  ),",
      ")"
    ].join("\n")
    expect(nnx.displayString(weights)).toBe(expected)
    expect(String(weights)).toBe(expected)
  })

  it("multi-line roundtrip form: the guide's display with its line breaks", () => {
    const weights = new CountingWeights(random.uniform(random.key(0), [10, 2, 3]), jnp.zeros([10, 3]), jnp.arange(10))
    delete weights.bias
    weights.newParam = weights.kernel
    weights.someProperty = ["a", 2, false]
    const text = nnx.displayString(weights, { roundtrip: true, style: "python" })
    expect(text.split("\n")).toEqual([
      "<Weights( # Count: 10 (40 B), Param: 60 (240 B), Total: 70 (280 B)",
      "  count=<Count( # 10 (40 B)",
      "    value=Array int32(10,)",
      "  )>,",
      "  kernel=<Param( # 60 (240 B)",
      "    value=Array float32(10, 2, 3)",
      "  )>, # Repeated python obj",
      "  newParam=<Param( # 60 (240 B)",
      "    value=Array float32(10, 2, 3)",
      "  )>, # Repeated python obj",
      "  someProperty=['a', 2, False],",
      ")>"
    ])
  })

  it("nested lists and records of modules expand; lists of plain values stay inline", () => {
    class Linear extends nnx.Module {
      w = new nnx.Param(jnp.zeros([2]))
    }
    class Seq extends nnx.Module {
      layers = [new Linear(), new Linear()]
      config = { features: 2, name: "mlp" }
      empty: ReadonlyArray<number> = []
    }
    expect(nnx.displayString(new Seq()).split("\n")).toEqual([
      "Seq( # Param: 4 (16 B)",
      '  config={ features: 2, name: "mlp" },',
      "  empty=[],",
      "  layers=[",
      "    Linear( # Param: 2 (8 B)",
      "      w=Param( # 2 (8 B)",
      "        value=Array float32[2],",
      "      ),",
      "    ),",
      "    Linear( # Param: 2 (8 B)",
      "      w=Param( # 2 (8 B)",
      "        value=Array float32[2],",
      "      ),",
      "    ),",
      "  ],",
      ")"
    ])
    expect(oneLine(new Seq())).toBe(
      "<Seq( # Param: 4 (16 B)config={'features': 2, 'name': 'mlp',<2 items...>}, empty=[], layers=[<Linear( # Param: 2 (8 B)w=<Param( # 2 (8 B)value=Array float32(2,))>,)>, <Linear( # Param: 2 (8 B)w=<Param( # 2 (8 B)value=Array float32(2,))>,)>,<2 elements...>],)>"
    )
  })

  it("a cycle shows as a cyclic reference and terminates", () => {
    class Node extends nnx.Module {
      next: Node | undefined = undefined
      w = new nnx.Param(jnp.ones([1]))
    }
    const a = new Node()
    a.next = a
    const text = nnx.displayString(a)
    expect(text).toContain("next=<cyclic reference to Node>, # Repeated reference")
    expect(nnx.displayString(a, { style: "python" })).toContain(
      "next=<cyclic reference to Node>, # Repeated python obj"
    )
  })

  it("counts a Variable shared by two sub-modules once in the parent", () => {
    const shared = new nnx.Param(jnp.zeros([4]))
    class Half extends nnx.Module {
      constructor(readonly p: nnx.Param<jnp.Array>) {
        super()
      }
    }
    class Whole extends nnx.Module {
      a = new Half(shared)
      b = new Half(shared)
    }
    const text = nnx.displayString(new Whole())
    expect(text.split("\n")[0]).toBe("Whole( # Param: 4 (16 B)")
    expect(text).toContain("  b=Half(\n")
  })

  it("formats byte sizes as Flax does (thousands separators, KB/MB, ties to even)", () => {
    expect(nnx.displayString(new nnx.Param(jnp.zeros([250]))).split("\n")[0]).toBe("Param( # 250 (1,000 B)")
    expect(nnx.displayString(new nnx.Param(jnp.zeros([1000, 313]))).split("\n")[0]).toBe("Param( # 313,000 (1.3 MB)")
    // 1,250 bytes: 1.25 is a tie, Python rounds it to even
    expect(nnx.displayString(new nnx.BatchStat(jnp.zeros([1250], { dtype: "bool" }))).split("\n")[0]).toBe(
      "BatchStat( # 1,250 (1.2 KB)"
    )
  })

  it("elides objects past maxDepth, so very deep graphs display without overflowing", () => {
    class Chain extends nnx.Module {
      child: Chain | undefined = undefined
      w = new nnx.Param(jnp.ones([1]))
    }
    const root = new Chain()
    let cur = root
    for (let i = 0; i < 10_000; i++) {
      cur.child = new Chain()
      cur = cur.child
    }
    const text = nnx.displayString(root)
    expect(text.split("\n")[0]).toBe("Chain( # Param: 10,001 (40.0 KB)")
    expect(text).toContain("child=Chain(...),")
    expect(nnx.displayString(root, { maxDepth: 1 }).split("\n")).toEqual([
      "Chain( # Param: 10,001 (40.0 KB)",
      "  child=Chain(...),",
      "  w=Param(...),",
      ")"
    ])
    expect(oneLine(new nnx.Param(jnp.ones([1])))).toBe("<Param( # 1 (4 B)value=Array float32(1,))>")
  })

  it("display prints to the console", () => {
    const lines: Array<string> = []
    const log = console.log
    console.log = (s: string) => lines.push(s)
    try {
      nnx.display(new nnx.Param(jnp.zeros([3])))
    } finally {
      console.log = log
    }
    expect(lines).toEqual(["Param( # 3 (12 B)\n  value=Array float32[3],\n)"])
  })
})

describe("display styles: TypeScript's spelling by default, Python's as an option", () => {
  class Config extends nnx.Module {
    w = new nnx.Param(jnp.zeros([2]), { shardingNames: ["a", null] })
    useBias = false
    act: string | null = null
    names = ["a", null]
    key = random.key(0)
  }

  it("spells static values and arrays as TypeScript does", () => {
    expect(nnx.displayString(new Config()).split("\n")).toEqual([
      "Config( # Param: 2 (8 B)",
      "  act=null,",
      "  key=Array key<fry>[],",
      '  names=["a", null],',
      "  useBias=false,",
      "  w=Param( # 2 (8 B)",
      "    value=Array float32[2],",
      '    shardingNames=["a", null],',
      "  ),",
      ")"
    ])
  })

  it("spells them as Flax does in the Python style", () => {
    expect(nnx.displayString(new Config(), { style: "python" }).split("\n")).toEqual([
      "Config( # Param: 2 (8 B)",
      "  act=None,",
      "  key=Array key<fry()>,",
      "  names=['a', None],",
      "  useBias=False,",
      "  w=Param( # 2 (8 B)",
      "    value=Array float32(2,),",
      "    shardingNames=['a', None],",
      "  ),",
      ")"
    ])
  })

  it("prints arrays with true/false and list shapes, numbers as NumPy formats them", () => {
    expect(jnp.array([true, false]).repr()).toBe("Array([true, false], dtype=bool)")
    expect(
      jnp
        .array([
          [true, false],
          [false, true]
        ])
        .repr()
    ).toBe("Array([[ true, false],\n       [false,  true]], dtype=bool)")
    expect(jnp.array([1, 2.5]).repr()).toBe("Array([1. , 2.5], dtype=float32)")
    expect(jnp.zeros([0, 3]).repr()).toBe("Array([], shape=[0, 3], dtype=float32)")
    expect(String(jnp.array([true, false]))).toBe("[true, false]")
    expect(String(jnp.array([1, 2, 3]))).toBe("[1, 2, 3]")
    expect(String(jnp.array(false))).toBe("false")
    expect(jnp.array([true, false]).repr({ style: "python" })).toBe("Array([ True, False], dtype=bool)")
    expect(jnp.zeros([0, 3]).repr({ style: "python" })).toBe("Array([], shape=(0, 3), dtype=float32)")
    expect(jnp.array([1, 2, 3]).toString({ style: "python" })).toBe("[1 2 3]")
    expect(jnp.array(false).toString({ style: "python" })).toBe("False")
    expect(random.key(0).repr()).toBe("Array(shape=[], dtype=key<fry>) overlaying:\n[0, 0]")
    expect(random.key(0).repr({ style: "python" })).toBe("Array((), dtype=key<fry>) overlaying:\n[0 0]")
  })

  it("prints GraphDefs and States in the style", () => {
    const [graphdef, state] = nnx.split(new Config())
    const ts = String(graphdef)
    expect(ts).toContain('    ["useBias", Static(false)]')
    expect(ts).toContain('    ["act", Static(null)]')
    expect(ts).toContain("outerIndex=undefined")
    expect(String(state)).toContain("  w: Param(")
    nnx.withDisplayStyle("python", () => {
      const py = String(graphdef)
      expect(py).toContain("    ('useBias', Static(False))")
      expect(py).toContain("    ('act', Static(None))")
      expect(py).toContain("outerIndex=None")
      expect(String(state)).toContain("  'w': Param(")
    })
  })

  it("setDisplayStyle changes the default; withDisplayStyle restores it, also after a throw", () => {
    assert.strictEqual(nnx.displayStyle(), "typescript")
    try {
      nnx.setDisplayStyle("python")
      expect(String(jnp.array(true))).toBe("True")
    } finally {
      nnx.setDisplayStyle("typescript")
    }
    expect(() =>
      nnx.withDisplayStyle("python", () => {
        throw new Error("inside")
      })
    ).toThrow("inside")
    assert.strictEqual(nnx.displayStyle(), "typescript")
  })
})
