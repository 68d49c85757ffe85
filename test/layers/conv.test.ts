/**
 * `nnx.Conv`, `nnx.ConvTranspose` and the pooling functions against Flax NNX 0.12
 * (test/goldens/conv.json, written by tools/goldens/conv.py): the same initial parameters from
 * `nnx.Rngs(0)`, the same outputs, the same pooling gradients (ties included); and the errors the
 * layers raise, with the layer's name and its path in the model.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { grad, jit, jnp, nnx } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

interface Result {
  readonly shape: ReadonlyArray<number>
  readonly dtype: string
  readonly data: ReadonlyArray<number | null>
  readonly special?: Record<string, string>
}
type PyPadding = string | number | ReadonlyArray<number | ReadonlyArray<number>>
interface LayerCase {
  readonly name: string
  readonly layer: "Conv" | "ConvTranspose"
  readonly args: readonly [number, number, number | ReadonlyArray<number>]
  readonly options: {
    readonly strides?: number | ReadonlyArray<number>
    readonly padding?: PyPadding
    readonly use_bias?: boolean
    readonly kernel_dilation?: number | ReadonlyArray<number>
    readonly input_dilation?: number | ReadonlyArray<number>
    readonly feature_group_count?: number
    readonly transpose_kernel?: boolean
  }
  readonly params: Record<string, Result>
  readonly x: Result
  readonly y: Result
}
interface PoolCase {
  readonly name: string
  readonly fn: "max_pool" | "avg_pool" | "min_pool"
  readonly options: {
    readonly window_shape: ReadonlyArray<number>
    readonly strides?: ReadonlyArray<number>
    readonly padding?: string | ReadonlyArray<readonly [number, number]>
    readonly count_include_pad?: boolean
  }
  readonly x: Result
  readonly y: Result
  readonly grad: Result
}
const goldens = JSON.parse(readFileSync(new URL("../goldens/conv.json", import.meta.url), "utf8")) as {
  readonly layers: ReadonlyArray<LayerCase>
  readonly pools: ReadonlyArray<PoolCase>
}

const values = (r: Result): Array<number> =>
  r.data.map((v, i) => {
    const s = r.special?.[String(i)]
    return s === undefined ? Number(v) : s === "nan" ? NaN : s === "inf" ? Infinity : -Infinity
  })
const arr = (r: Result): JArray => jnp.reshape(jnp.array(values(r), { dtype: "float32" }), r.shape)

const close = (got: JArray, want: Result, tol = 1e-5): void => {
  expect(got.shape).toEqual([...want.shape])
  const w = values(want)
  Array.from(got.dataSync()).forEach((v, i) => {
    if (Math.abs(v - w[i]!) > tol * (1 + Math.abs(w[i]!))) throw new Error(`element ${i}: got ${v}, expected ${w[i]}`)
  })
}

const padding = (p: PyPadding | undefined): nnx.ConvLayerPadding | undefined =>
  p === undefined || typeof p === "string" || typeof p === "number"
    ? (p as nnx.ConvLayerPadding | undefined)
    : p.map((e) => (typeof e === "number" ? e : ([e[0]!, e[1]!] as const)))

const build = (c: LayerCase): nnx.Conv | nnx.ConvTranspose => {
  const o = c.options
  const common = {
    strides: o.strides,
    padding: padding(o.padding),
    useBias: o.use_bias,
    kernelDilation: o.kernel_dilation,
    rngs: new nnx.Rngs(0)
  }
  return c.layer === "Conv"
    ? new nnx.Conv(c.args[0], c.args[1], c.args[2], {
        ...common,
        inputDilation: o.input_dilation,
        featureGroupCount: o.feature_group_count
      })
    : new nnx.ConvTranspose(c.args[0], c.args[1], c.args[2], { ...common, transposeKernel: o.transpose_kernel })
}

describe("Conv and ConvTranspose against Flax NNX", () => {
  for (const c of goldens.layers) {
    it(`${c.name}: initial parameters and output`, () => {
      const m = build(c)
      close(m.kernel.value, c.params["kernel"]!, 1e-6)
      if (c.params["bias"] === undefined) expect(m.bias).toBeNull()
      else close(m.bias!.value, c.params["bias"], 0)
      close(m.call(arr(c.x)), c.y, 1e-4)
    })
  }

  it("jit of a call and grad of the parameters agree with eager", () => {
    const m = new nnx.Conv(3, 4, [3, 3], { strides: 2, rngs: new nnx.Rngs(1) })
    const x = jnp.reshape(jnp.sin(jnp.arange(2 * 7 * 7 * 3).astype("float32")), [2, 7, 7, 3])
    const eager = m.call(x)
    const out = jit((v: JArray) => m.call(v))(x)
    const want = Array.from(eager.dataSync())
    Array.from(out.dataSync()).forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-5))
    const k0 = m.kernel.value
    const g = grad((k: JArray) =>
      jnp.sum(
        jnp.square(new nnx.Conv(3, 4, [3, 3], { strides: 2, kernelInit: () => k, rngs: new nnx.Rngs(1) }).call(x))
      )
    )(k0)
    expect(g.shape).toEqual([3, 3, 3, 4])
  })
})

const pool =
  (c: PoolCase) =>
  (x: JArray): JArray => {
    const o = c.options
    const opts = { strides: o.strides, padding: o.padding as nnx.PoolPadding | undefined }
    if (c.fn === "max_pool") return nnx.maxPool(x, o.window_shape, opts)
    if (c.fn === "min_pool") return nnx.minPool(x, o.window_shape, opts)
    return nnx.avgPool(x, o.window_shape, { ...opts, countIncludePad: o.count_include_pad })
  }

describe("pooling against Flax", () => {
  for (const c of goldens.pools) {
    it(`${c.name}: value and gradient`, () => {
      const f = pool(c)
      const x = arr(c.x)
      const y = f(x)
      close(y, c.y)
      const weights = jnp.reshape(jnp.arange(y.size).astype("float32"), y.shape)
      close(grad((a: JArray) => jnp.sum(jnp.multiply(f(a), weights)))(x), c.grad)
    })
  }
})

const message = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    return `${(e as { _tag?: string })._tag}: ${(e as Error).message}`
  }
  throw new Error("expected an error")
}

describe("layer errors name the layer and its path", () => {
  const rngs = () => new nnx.Rngs(0)
  it.each([
    [
      "Conv feature mismatch",
      () => new nnx.Conv(3, 4, [3, 3], { rngs: rngs() }).call(jnp.ones([1, 5, 5, 2])),
      "LayerError: Conv: expected inputs whose last axis has 3 features, got shape \\(1, 5, 5, 2\\)"
    ],
    [
      "Conv input rank below the kernel's",
      () => new nnx.Conv(3, 4, [3, 3], { rngs: rngs() }).call(jnp.ones([5, 3])),
      "LayerError: Conv: expected inputs of rank at least 3"
    ],
    [
      "Conv groups not dividing features",
      () => new nnx.Conv(6, 4, 3, { featureGroupCount: 4, rngs: rngs() }),
      "LayerError: Conv: featureGroupCount 4 must be a positive integer dividing inFeatures \\(6\\) and outFeatures \\(4\\)"
    ],
    [
      "Conv causal 2d",
      () => new nnx.Conv(1, 1, [2, 2], { padding: "CAUSAL", rngs: rngs() }).call(jnp.ones([1, 3, 3, 1])),
      "LayerError: Conv: CAUSAL padding is only implemented for 1D"
    ],
    [
      "Conv padding entries",
      () => new nnx.Conv(1, 1, [2, 2], { padding: [1], rngs: rngs() }).call(jnp.ones([1, 3, 3, 1])),
      "LayerError: Conv: padding \\[1\\] needs one entry per spatial dimension \\(2\\)"
    ],
    [
      "Conv padding rule",
      () => new nnx.Conv(1, 1, [2, 2], { padding: "REFLECT" as "SAME", rngs: rngs() }).call(jnp.ones([1, 3, 3, 1])),
      'LayerError: Conv: padding "REFLECT" is not'
    ],
    [
      "ConvTranspose feature mismatch",
      () => new nnx.ConvTranspose(2, 4, 3, { rngs: rngs() }).call(jnp.ones([1, 5, 3])),
      "LayerError: ConvTranspose: expected inputs whose last axis has 2 features, got shape \\(1, 5, 3\\)"
    ],
    [
      "ConvTranspose input rank",
      () => new nnx.ConvTranspose(2, 4, [3, 3], { rngs: rngs() }).call(jnp.ones([2])),
      "LayerError: ConvTranspose: expected inputs of rank at least 3"
    ],
    [
      "ConvTranspose padding rule",
      () => new nnx.ConvTranspose(1, 1, 2, { padding: "CAUSAL", rngs: rngs() }).call(jnp.ones([1, 3, 1])),
      'LayerError: ConvTranspose: padding "CAUSAL" is not'
    ],
    [
      "maxPool rank",
      () => nnx.maxPool(jnp.ones([4, 4]), [2, 2]),
      "LayerError: maxPool: a 2D window needs inputs of rank at least 3"
    ],
    [
      "avgPool strides",
      () => nnx.avgPool(jnp.ones([1, 4, 4, 1]), [2, 2], { strides: [2] }),
      "LayerError: avgPool: strides \\(2\\) need one entry per window dimension \\(2\\)"
    ],
    [
      "minPool padding",
      () => nnx.minPool(jnp.ones([1, 4, 4, 1]), [2, 2], { padding: [[1, 1]] }),
      "LayerError: minPool: padding needs one \\[lo, hi\\] pair per window dimension \\(2\\), got 1"
    ]
  ] as const)("%s", (_name, f, pattern) => {
    expect(message(f)).toMatch(new RegExp(pattern))
  })

  it("a Conv inside a Sequential reports its path", () => {
    const model = new nnx.Sequential(new nnx.Conv(1, 2, 3, { rngs: rngs() }), new nnx.Conv(3, 2, 3, { rngs: rngs() }))
    const m = message(() => model.call(jnp.ones([1, 5, 1])))
    expect(m).toMatch(/LayerError: Conv at .*1.*: expected inputs whose last axis has 3 features/)
  })
})
