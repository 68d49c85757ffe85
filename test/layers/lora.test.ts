/**
 * `nnx.LoRA`, `nnx.LoRALinear` and `nnx.PReLU` against Flax 0.12.8 (test/goldens/lora.json, written
 * by tools/goldens/lora.py): the same seeds give the same parameters, of the same kinds, and the same
 * outputs; then training only the adapters, and bad input.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { jnp, nnx } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import type { Result } from "../support/goldenOps.ts"
import { expectMatches } from "../support/goldenOps.ts"

interface LayerCase {
  readonly name: string
  readonly params: Readonly<Record<string, Result & { readonly kind: string }>>
  readonly input: Result
  readonly output: Result
}
const goldens = JSON.parse(readFileSync(new URL("../goldens/lora.json", import.meta.url), "utf8")) as {
  readonly cases: ReadonlyArray<LayerCase>
}

const fromResult = (r: Result): JArray =>
  jnp.array(r.data as ReadonlyArray<number>, { dtype: "float32" }).reshape(r.shape)
const camel = (s: string): string => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())

const build = (name: string): nnx.Module & { call(x: JArray): JArray } => {
  switch (name) {
    case "LoRA":
      return new nnx.LoRA(3, 2, 4, { rngs: new nnx.Rngs(0) })
    case "LoRA base normal b": {
      const rngs = new nnx.Rngs({ params: 3 })
      const base = new nnx.Linear(3, 4, { rngs })
      return new nnx.LoRA(3, 2, 4, { baseModule: base, bInitializer: nnx.initializers.normal(0.5), rngs })
    }
    case "LoRALinear":
      return new nnx.LoRALinear(3, 4, {
        loraRank: 2,
        bInitializer: nnx.initializers.normal(0.5),
        rngs: new nnx.Rngs(1)
      })
    case "LoRALinear no bias rank 1":
      return new nnx.LoRALinear(3, 2, {
        loraRank: 1,
        useBias: false,
        bInitializer: nnx.initializers.normal(1),
        rngs: new nnx.Rngs(7)
      })
    case "PReLU":
      return new nnx.PReLU()
    case "PReLU 0.25":
      return new nnx.PReLU(0.25)
    default:
      throw new Error(`no layer for ${name}`)
  }
}

describe("LoRA, LoRALinear and PReLU against Flax 0.12.8", () => {
  for (const c of goldens.cases) {
    it(`${c.name}: parameters, their kinds, and the output`, () => {
      const layer = build(c.name)
      const flat = new Map(
        nnx
          .state(layer)
          .toFlat()
          .map(([p, v]) => [p.join("."), v])
      )
      expect([...flat.keys()].sort()).toEqual(
        Object.keys(c.params)
          .map((k) => k.split(".").map(camel).join("."))
          .sort()
      )
      for (const [path, want] of Object.entries(c.params)) {
        const v = flat.get(path.split(".").map(camel).join(".")) as unknown
        expect((v as object).constructor.name, path).toBe(want.kind)
        expectMatches(path, (v as nnx.Variable<JArray>).value, { ...want, weak: false }, { atol: 1e-6, rtol: 2e-6 })
      }
      expectMatches(c.name, layer.call(fromResult(c.input)), c.output, { atol: 2e-6, rtol: 4e-6 })
    })
  }
})

describe("LoRA in use", () => {
  it("a new adapter changes nothing (loraB starts at zero); LoRAParam is a Param", () => {
    const rngs = new nnx.Rngs(0)
    const layer = new nnx.LoRALinear(3, 4, { loraRank: 2, rngs })
    const x = jnp.ones([2, 3])
    const plain = jnp.add(jnp.matmul(x, layer.kernel.value), layer.bias!.value)
    expect(layer.call(x).tolist()).toEqual(plain.tolist())
    expect(layer.lora.loraA).toBeInstanceOf(nnx.Param)
    expect(nnx.state(layer, nnx.LoRAParam).size).toBe(2)
  })
  it("gradients with respect to the adapters alone (DiffState of LoRAParam) leave the kernel out", () => {
    const layer = new nnx.LoRALinear(3, 4, {
      loraRank: 2,
      bInitializer: nnx.initializers.normal(0.5),
      rngs: new nnx.Rngs(0)
    })
    const loss = (m: nnx.LoRALinear) => jnp.sum(m.call(jnp.ones([2, 3])))
    const grads = nnx.grad(loss, { argnums: new nnx.DiffState(0, nnx.LoRAParam) }).sync(layer) as nnx.State
    const paths = grads
      .toFlat()
      .map(([p]) => p.join("."))
      .sort()
    expect(paths).toEqual(["lora.loraA", "lora.loraB"])
  })
  it("a custom loraParamType and metadata are kept; a bad one is refused", () => {
    class Adapter extends nnx.Param {}
    const lora = new nnx.LoRA(2, 1, 2, { loraParamType: Adapter, aMetadata: { tag: "a" }, rngs: new nnx.Rngs(0) })
    expect(lora.loraA).toBeInstanceOf(Adapter)
    expect(lora.loraA.metadata["tag"]).toBe("a")
    expect(() => new nnx.LoRA(2, 1, 2, { loraParamType: Object as never, rngs: new nnx.Rngs(0) })).toThrow(
      /LoRA: loraParamType must be a Variable class/
    )
  })
  it("bad sizes, a base without call, and inputs of the wrong width are LayerErrors naming them", () => {
    const rngs = new nnx.Rngs(0)
    expect(() => new nnx.LoRA(0, 2, 4, { rngs })).toThrow(/LoRA: inFeatures must be a positive integer, got 0/)
    expect(() => new nnx.LoRA(3, 1.5, 4, { rngs })).toThrow(/loraRank must be a positive integer, got 1.5/)
    expect(() => new nnx.LoRA(3, 2, -1, { rngs })).toThrow(/outFeatures must be a positive integer/)
    expect(() => new nnx.LoRA(3, 2, 4, { baseModule: new nnx.Dropout(0.1) as never, rngs })).not.toThrow()
    expect(() => new nnx.LoRA(3, 2, 4, { baseModule: {} as never, rngs })).toThrow(
      /baseModule must be a Module with a call method/
    )
    const lora = new nnx.LoRA(3, 2, 4, { rngs })
    expect(() => lora.call(jnp.ones([2, 5]))).toThrow(
      /LoRA: expected inputs whose last axis has 3 features, got shape \(2, 5\)/
    )
    expect(() => lora.call(jnp.array(1))).toThrow(nnx.LayerError)
    expect(() => new nnx.PReLU(Number.NaN)).toThrow(/PReLU: negativeSlopeInit must be a finite number, got NaN/)
  })
  it("PReLU keeps the input's dtype without a dtype, and trains its slope", () => {
    const act = new nnx.PReLU(0.5)
    expect(act.call(jnp.array([-2, 4])).dtype).toBe("int32")
    const g = nnx
      .grad((m: nnx.PReLU) => jnp.sum(m.call(jnp.array([-2, 3], { dtype: "float32" }))))
      .sync(act) as nnx.State
    expect((g.toFlat()[0]![1] as nnx.Param<JArray>).value.item()).toBe(-2)
  })
})
