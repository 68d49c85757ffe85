/**
 * The Flax NNX "Transformations" guide, re-created in TypeScript section by section. Each section
 * runs its example and returns what the guide prints (its `Output` and `Display` blocks), so the
 * main job prints them and the tests compare them with the guide's text.
 *
 * Python names become camelCase (`sharding_names` → `shardingNames`, `new_param` → `newParam`);
 * decorators become wrapped functions; `print` of a JAX value is its `String(...)`.
 *
 * A section runs in a display style: `"python"` prints the guide's blocks as the guide writes them
 * (one-line displays, `False`, `('a', None)`), for the comparison test; `"typescript"` prints
 * what a TypeScript user reads (multi-line displays, `false`, `["a", null]`), for `npm run guide`.
 */
import { Effect } from "effect"
import { jnp, nnx, random } from "effect-nnx"

/** One section of the guide: its title and the text it prints in a display style. */
export interface Section {
  readonly title: string
  readonly run: (style: nnx.DisplayStyle) => ReadonlyArray<string>
}

/** Runs every section in `style`, giving each section's title and printed blocks. */
export const runSections = (
  style: nnx.DisplayStyle
): ReadonlyArray<{ readonly title: string; readonly blocks: ReadonlyArray<string> }> =>
  nnx.withDisplayStyle(style, () => sections.map((s) => ({ title: s.title, blocks: s.run(style) })))

/** A shape or a list of names: Python's tuple `('a', None)`, or TypeScript's `["a", null]`. */
const tuple = (xs: ReadonlyArray<unknown>, style: nnx.DisplayStyle): string =>
  style === "python"
    ? `(${xs.map((x) => (x === null ? "None" : typeof x === "string" ? `'${x}'` : String(x))).join(", ")}${xs.length === 1 ? "," : ""})`
    : JSON.stringify(xs).replace(/,/g, ", ")

/** `nnx.display`: the guide's one-line text in Python's style, the multi-line summary in TypeScript's. */
const display = (x: unknown, style: nnx.DisplayStyle): string =>
  style === "python" ? nnx.displayString(x, { oneLine: true, style }) : nnx.displayString(x, { style })

/** `class Count(nnx.Variable): pass` — a user Variable kind. */
export class Count extends nnx.Variable<jnp.Array> {
  declare readonly "~kind": { Count: true }
}

class Weights extends nnx.Module {
  kernel: nnx.Param<jnp.Array>
  bias: nnx.Param<jnp.Array>
  constructor(kernel: jnp.Array, bias: jnp.Array) {
    super()
    this.kernel = new nnx.Param(kernel)
    this.bias = new nnx.Param(bias)
  }
}

const checkUnbatched = (kernel: jnp.Array, x: jnp.Array): void => {
  if (kernel.ndim !== 2) throw new Error("Batch dimensions not allowed")
  if (x.ndim !== 1) throw new Error("Batch dimensions not allowed")
}

const basicExample: Section = {
  title: "Basic example",
  run: (style) => {
    const weights = new Weights(random.uniform(random.key(0), [10, 2, 3]), jnp.zeros([10, 3]))
    const x = random.normal(random.key(1), [10, 2])
    const vectorDot = (weights: Weights, x: jnp.Array) => {
      checkUnbatched(weights.kernel.value, x)
      return x.matmul(weights.kernel.value).add(weights.bias.value)
    }
    // A lifted transform's call is an Effect; run it (or use `.sync` in scripts).
    const y = Effect.runSync(nnx.vmap(vectorDot, { inAxes: 0, outAxes: 1 })(weights, x))
    return [`y.shape = ${tuple(y.shape, style)}`, display(weights, style)]
  }
}

const createWeightsExample: Section = {
  title: "Basic example: transforming an initializer",
  run: (style) => {
    const createWeights = (seed: jnp.Array) => new Weights(random.uniform(random.key(seed), [2, 3]), jnp.zeros([3]))
    const seeds = jnp.arange(10)
    const weights = nnx.vmap(createWeights).sync(seeds)
    return [display(weights, style)]
  }
}

/**
 * `WeightStack`: a vmapped initializer and a vmapped call method. TypeScript cannot decorate a
 * constructor, so the constructor runs a vmapped `init` on itself; attributes it creates inside
 * come out stacked along the mapped axis.
 */
class WeightStack extends nnx.Module {
  declare kernel: nnx.Param<jnp.Array>
  declare bias: nnx.Param<jnp.Array>

  static readonly initStack = nnx.vmap((self: WeightStack, seed: jnp.Array) => {
    self.kernel = new nnx.Param(random.uniform(random.key(seed), [2, 3]))
    self.bias = new nnx.Param(jnp.zeros([3]))
  })

  static readonly applyStack = nnx.vmap(
    (self: WeightStack, x: jnp.Array) => {
      checkUnbatched(self.kernel.value, x)
      return x.matmul(self.kernel.value).add(self.bias.value)
    },
    { inAxes: 0, outAxes: 1 }
  )

  constructor(seed: jnp.Array) {
    super()
    WeightStack.initStack.sync(this, seed)
  }

  call(x: jnp.Array): jnp.Array {
    return WeightStack.applyStack.sync(this, x)
  }
}

const transformingMethods: Section = {
  title: "Transforming methods",
  run: (style) => {
    const weights = new WeightStack(jnp.arange(10))
    const x = random.normal(random.key(1), [10, 2])
    const y = weights.call(x)
    return [`y.shape = ${tuple(y.shape, style)}`, display(weights, style)]
  }
}

const CountingWeights = class Weights extends nnx.Module {
  kernel: nnx.Param<jnp.Array>
  bias: nnx.Param<jnp.Array>
  count: Count
  constructor(kernel: jnp.Array, bias: jnp.Array, count: jnp.Array) {
    super()
    this.kernel = new nnx.Param(kernel)
    this.bias = new nnx.Param(bias)
    this.count = new Count(count)
  }
}
type CountingWeights = InstanceType<typeof CountingWeights>

const statefulVectorDot = (weights: CountingWeights, x: jnp.Array): jnp.Array => {
  checkUnbatched(weights.kernel.value, x)
  weights.count.value = weights.count.value.add(1)
  return x.matmul(weights.kernel.value).add(weights.bias.value)
}

const statePropagation: Section = {
  title: "State propagation",
  run: () => {
    const weights = new CountingWeights(random.uniform(random.key(0), [10, 2, 3]), jnp.zeros([10, 3]), jnp.arange(10))
    const x = random.normal(random.key(1), [10, 2])
    nnx.vmap(statefulVectorDot, { inAxes: 0, outAxes: 1 }).sync(weights, x)
    return [String(weights.count)]
  }
}

/** A Module whose attributes the example adds and deletes inside the transform. */
interface Mutable {
  [key: string]: unknown
}

const graphUpdates: Section = {
  title: "Graph updates propagation",
  run: (style) => {
    const weights = new CountingWeights(random.uniform(random.key(0), [10, 2, 3]), jnp.zeros([10, 3]), jnp.arange(10))
    const x = random.normal(random.key(1), [10, 2])
    const crazyVectorDot = (weights: CountingWeights, x: jnp.Array) => {
      checkUnbatched(weights.kernel.value, x)
      weights.count.value = weights.count.value.add(1)
      const y = x.matmul(weights.kernel.value).add(weights.bias.value)
      const w = weights as unknown as Mutable
      w["someProperty"] = ["a", 2, false] // add attribute
      delete w["bias"] // delete attribute
      w["newParam"] = weights.kernel // share reference
      return y
    }
    nnx.vmap(crazyVectorDot, { inAxes: 0, outAxes: 1 }).sync(weights, x)
    return [display(weights, style)]
  }
}

const liftTypes: Section = {
  title: "Transforming sub-states (lift types)",
  run: () => {
    const weights = new CountingWeights(random.uniform(random.key(0), [10, 2, 3]), jnp.zeros([10, 3]), jnp.array(0))
    const x = random.normal(random.key(1), [10, 2])
    const stateAxes = new nnx.StateAxes([
      [nnx.Param, 0],
      [Count, null]
    ]) // broadcast Count
    nnx.vmap(statefulVectorDot, { inAxes: [stateAxes, 0], outAxes: 1 }).sync(weights, x)
    return [String(weights.count)]
  }
}

const NoisyWeights = class Weights extends nnx.Module {
  kernel: nnx.Param<jnp.Array>
  bias: nnx.Param<jnp.Array>
  count: Count
  rngs: nnx.Rngs<"noise">
  constructor(kernel: jnp.Array, bias: jnp.Array, count: jnp.Array, seed: jnp.Array | number) {
    super()
    this.kernel = new nnx.Param(kernel)
    this.bias = new nnx.Param(bias)
    this.count = new Count(count)
    this.rngs = new nnx.Rngs({ noise: seed })
  }
}
type NoisyWeights = InstanceType<typeof NoisyWeights>

const noisyVectorDot = (weights: NoisyWeights, x: jnp.Array): jnp.Array => {
  checkUnbatched(weights.kernel.value, x)
  weights.count.value = weights.count.value.add(1)
  const y = x.matmul(weights.kernel.value).add(weights.bias.value)
  return y.add(random.normal(weights.rngs.noise(), y.shape))
}

const noisyStateAxes = new nnx.StateAxes([
  [nnx.RngState, 0],
  [[nnx.Param, Count], null]
])

const randomState: Section = {
  title: "Random state",
  run: (style) => {
    const weights = new NoisyWeights(
      random.uniform(random.key(0), [2, 3]),
      jnp.zeros([3]),
      jnp.array(0),
      random.split(random.key(0), 10)
    )
    const x = random.normal(random.key(1), [10, 2])
    const y1 = nnx.vmap(noisyVectorDot, { inAxes: [noisyStateAxes, 0] }).sync(weights, x)
    const y2 = nnx.vmap(noisyVectorDot, { inAxes: [noisyStateAxes, 0] }).sync(weights, x)
    return [String(jnp.allclose(y1, y2)), display(weights, style)]
  }
}

const splitRngsExample: Section = {
  title: "Random state: splitRngs",
  run: (style) => {
    const weights = new NoisyWeights(random.uniform(random.key(0), [2, 3]), jnp.zeros([3]), jnp.array(0), 0)
    const x = random.normal(random.key(1), [10, 2])
    const noisy = nnx.splitRngs(nnx.vmap(noisyVectorDot, { inAxes: [noisyStateAxes, 0] }), { splits: 10 })
    const y1 = noisy.sync(weights, x)
    const y2 = noisy.sync(weights, x)
    return [String(jnp.allclose(y1, y2)), display(weights, style)]
  }
}

class Counter extends nnx.Module {
  count: nnx.Param<jnp.Array>
  constructor() {
    super()
    this.count = new nnx.Param(jnp.array(0))
  }
  increment(): void {
    this.count.value = this.count.value.add(jnp.array(1))
  }
}

const closures: Section = {
  title: "Mutable Module cannot be passed by closure",
  run: () => {
    const counter = new Counter()
    const f = nnx.jit((x: jnp.Array) => {
      counter.increment()
      return x.mul(2)
    })
    // As an Effect, the TraceContextError is a typed failure: catch it by tag.
    const message = Effect.runSync(
      f(jnp.array(3)).pipe(
        Effect.map(() => "no error"),
        Effect.catchTag("TraceContextError", (e) => Effect.succeed(e.message))
      )
    )
    return [message]
  }
}

const AliasWeights = class Weights extends nnx.Module {
  param: nnx.Param<jnp.Array>
  constructor(array: jnp.Array) {
    super()
    this.param = new nnx.Param(array)
  }
}
type AliasWeights = InstanceType<typeof AliasWeights>

const aliasing: Section = {
  title: "Consistent aliasing",
  run: () => {
    const m = new AliasWeights(jnp.arange(10))
    type Arg1 = { readonly a: { readonly b: AliasWeights }; readonly c: AliasWeights }
    type Arg2 = readonly [readonly [AliasWeights, AliasWeights], AliasWeights]
    const arg1: Arg1 = { a: { b: m }, c: m }
    const arg2: Arg2 = [[m, m], m]
    const f = nnx.vmap((_arg1: Arg1, _arg2: Arg2) => undefined, { inAxes: [0, 1] })
    const g = nnx.vmap((arg1: Arg1) => arg1, { inAxes: 0, outAxes: 1 })
    const messageOf = (effect: Effect.Effect<unknown, nnx.LiftError>): string =>
      Effect.runSync(
        effect.pipe(
          Effect.map(() => "no error"),
          Effect.catchTag("AliasingError", (e) => Effect.succeed(e.message))
        )
      )
    return [messageOf(f(arg1, arg2)), messageOf(g(arg1))]
  }
}

const ShardedWeights = class Weights extends nnx.Module {
  param: nnx.Param<jnp.Array>
  constructor(array: jnp.Array, shardingNames: ReadonlyArray<string | null>) {
    super()
    this.param = new nnx.Param(array, { shardingNames })
  }
}
type ShardedWeights = InstanceType<typeof ShardedWeights>

const axisMetadata: Section = {
  title: "Axis metadata",
  run: (style) => {
    const lines: Array<string> = []
    const f = nnx.vmap(
      (m: ShardedWeights) => {
        lines.push(`Inner m.param.shape = ${tuple(m.param.value.shape, style)}`)
        lines.push(`Inner m.param.shardingNames = ${tuple(m.param.shardingNames ?? [], style)}`)
      },
      { inAxes: 1, transformMetadata: { [nnx.PARTITION_NAME]: "b" } }
    )
    const m = new ShardedWeights(jnp.ones([3, 4, 5]), ["a", "b", null])
    f.sync(m)
    lines.push(`Outter m.param.shape = ${tuple(m.param.value.shape, style)}`)
    lines.push(`Outter m.param.shardingNames = ${tuple(m.param.shardingNames ?? [], style)}`)
    return [lines.join("\n")]
  }
}

const axisMetadataInit: Section = {
  title: "Axis metadata: modules created inside",
  run: (style) => {
    const initVmap = nnx.vmap(() => new ShardedWeights(jnp.ones([3, 5]), ["a", null]), {
      outAxes: 1,
      axisSize: 4,
      transformMetadata: { [nnx.PARTITION_NAME]: "b" }
    })
    const m = initVmap.sync()
    return [
      [
        `Outter m.param.shape = ${tuple(m.param.value.shape, style)}`,
        `Outter m.param.shardingNames = ${tuple(m.param.shardingNames ?? [], style)}`
      ].join("\n")
    ]
  }
}

/** Every section, in the guide's order. */
export const sections: ReadonlyArray<Section> = [
  basicExample,
  createWeightsExample,
  transformingMethods,
  statePropagation,
  graphUpdates,
  liftTypes,
  randomState,
  splitRngsExample,
  closures,
  aliasing,
  axisMetadata,
  axisMetadataInit
]
