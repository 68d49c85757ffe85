/**
 * The `lax` helpers of src/backend/laxExtra.ts against JAX: every case of
 * test/goldens/lax_helpers.json (written by tools/goldens/lax_helpers.py) eagerly, under `jit`
 * (equal to eager) and `vmap` (each slice equal to the unbatched call); gradients against JAX's;
 * then one test per kind of bad input.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { ArgumentError, AxisError, DTypeError, grad, jnp, lax, ShapeError } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import type { Case } from "../support/goldenOps.ts"
import { expectMatches, toArg } from "../support/goldenOps.ts"
import { expectJitAndVmapAgree } from "../support/goldenReplay.ts"

const goldens = JSON.parse(readFileSync(new URL("../goldens/lax_helpers.json", import.meta.url), "utf8")) as {
  cases: ReadonlyArray<Case & { readonly kind?: "grad" }>
}

interface Params {
  readonly lo?: number
  readonly hi?: number
  readonly y?: number
  readonly dimensions?: ReadonlyArray<number>
  readonly start?: number
  readonly limit?: number | null
  readonly stop?: number | null
  readonly stride?: number
  readonly axis?: number
  readonly index?: number
  readonly keepdims?: boolean
  readonly sizes?: ReadonlyArray<number>
  readonly rank?: number
}

const OPS: Record<string, (p: Params, args: ReadonlyArray<JArray>) => JArray> = {
  clamp: (p, [x]) =>
    lax.clamp(
      jnp.array(p.lo!, { dtype: x!.dtype as "float32" }),
      x!,
      jnp.array(p.hi!, { dtype: x!.dtype as "float32" })
    ),
  clampArrays: (_, [lo, x, hi]) => lax.clamp(lo!, x!, hi!),
  integerPow: (p, [x]) => lax.integerPow(x!, p.y!),
  square: (_, [x]) => lax.square(x!),
  selectN: (_, [w, ...cases]) => lax.selectN(w!, ...cases),
  selectNFirst: (_, [a, w, b]) => lax.selectN(w!, a!, b!),
  rev: (p, [x]) => lax.rev(x!, p.dimensions!),
  sliceInDim: (p, [x]) => lax.sliceInDim(x!, p.start!, p.limit ?? null, p.stride, p.axis),
  indexInDim: (p, [x]) => lax.indexInDim(x!, p.index!, p.axis, p.keepdims),
  dynamicIndexInDim: (p, [x, i]) => lax.dynamicIndexInDim(x!, i!, p.axis, p.keepdims),
  broadcast: (p, [x]) => lax.broadcast(x!, p.sizes!),
  broadcastToRank: (p, [x]) => lax.broadcastToRank(x!, p.rank!),
  collapse: (p, [x]) => lax.collapse(x!, p.start!, p.stop),
  tan: (_, [x]) => lax.tan(x!),
  asin: (_, [x]) => lax.asin(x!),
  acos: (_, [x]) => lax.acos(x!),
  atan: (_, [x]) => lax.atan(x!),
  sinh: (_, [x]) => lax.sinh(x!),
  cosh: (_, [x]) => lax.cosh(x!),
  asinh: (_, [x]) => lax.asinh(x!),
  acosh: (_, [x]) => lax.acosh(x!),
  atanh: (_, [x]) => lax.atanh(x!),
  erfc: (_, [x]) => lax.erfc(x!),
  cbrt: (_, [x]) => lax.cbrt(x!),
  exp2: (_, [x]) => lax.exp2(x!),
  populationCount: (_, [x]) => lax.populationCount(x!),
  clz: (_, [x]) => lax.clz(x!)
}

const run = (c: Case, args: ReadonlyArray<JArray>): JArray => {
  const f = OPS[c.op]
  if (f === undefined) throw new Error(`no TypeScript mapping for golden op ${c.op}`)
  return f(c.params as Params, args)
}

const values = goldens.cases.filter((c) => c.kind !== "grad")
const grads = goldens.cases.filter((c) => c.kind === "grad")

describe("lax helpers against JAX goldens", () => {
  for (const c of values) {
    it(c.name, () => {
      expectMatches(c.name, run(c, c.args.map(toArg) as Array<JArray>), c.output!, { atol: 2e-6, rtol: 4e-6 })
    })
  }
})

describe("lax helpers: jit equals eager, vmap slices equal unbatched calls", () => {
  for (const c of values) {
    it(c.name, () => expectJitAndVmapAgree(c.name, (xs) => run(c, xs), c.args.map(toArg) as Array<JArray>))
  }
})

describe("lax helpers: grad against JAX", () => {
  for (const c of grads) {
    it(c.name, () => {
      const [x, ...rest] = c.args.map(toArg) as Array<JArray>
      expectMatches(c.name, grad((v: JArray) => jnp.sum(run(c, [v, ...rest])))(x!), c.output!, {
        atol: 2e-5,
        rtol: 1e-4
      })
    })
  }
})

describe("lax helpers: bad input", () => {
  const x = jnp.arange(6).astype("float32").reshape([2, 3])
  it("lax does not promote: the float functions refuse integers, clamp a bound of another dtype", () => {
    expect(() => lax.tan(jnp.arange(3))).toThrow(DTypeError)
    expect(() => lax.erfc(jnp.arange(3))).toThrow(/lax.erfc: needs a floating-point operand \(lax does not promote\)/)
    expect(() => lax.clamp(jnp.array(0), x, jnp.array(1, { dtype: "float32" }))).toThrow(
      /lax.clamp: min must have x's dtype/
    )
    expect(() => lax.clamp(jnp.zeros([3]), x, 1)).toThrow(/lax.clamp: min must be a scalar or of x's shape/)
    expect(() => lax.clamp(0, x, jnp.zeros([2]))).toThrow(ShapeError)
    expect(lax.clamp(1, x, 4).tolist()).toEqual([
      [1, 1, 2],
      [3, 4, 4]
    ])
    expect(() => lax.populationCount(x)).toThrow(/lax.populationCount: needs an int32 or uint32 operand/)
    expect(() => lax.clz(jnp.array([true]))).toThrow(DTypeError)
    expect(() => lax.square(3 as unknown as JArray)).toThrow(/lax.square: expected an Array, got number/)
  })
  it("integerPow: a fractional exponent; a negative one for integers", () => {
    expect(() => lax.integerPow(x, 1.5)).toThrow(/lax.integerPow: the exponent must be an integer, got 1.5/)
    expect(() => lax.integerPow(jnp.arange(3), -1)).toThrow(/integers cannot be raised to negative powers, got -1/)
  })
  it("selectN: no cases, cases that differ, a bool selector for three cases, a float selector, a selector of another shape", () => {
    const a = jnp.ones([2])
    expect(() => lax.selectN(jnp.array([0, 1]))).toThrow(/lax.selectN: needs at least one case/)
    expect(() => lax.selectN(jnp.array([0, 1]), a, jnp.ones([3]))).toThrow(/the cases must share a shape and a dtype/)
    expect(() => lax.selectN(jnp.array([0, 1]), a, jnp.ones([2], { dtype: "int32" }))).toThrow(ShapeError)
    expect(() => lax.selectN(jnp.array([true, false]), a, a, a)).toThrow(/a bool selector picks between two cases/)
    expect(() => lax.selectN(jnp.array([0.5, 1]), a, a)).toThrow(/the selector must be bool, int32 or uint32/)
    expect(() => lax.selectN(jnp.array([0, 1, 1]), a, a)).toThrow(
      /the selector must be a scalar or of the cases' shape/
    )
    expect(lax.selectN(jnp.array([1, 0]), a).tolist()).toEqual([1, 1])
  })
  it("slices and indices out of range; collapse and broadcastToRank bounds", () => {
    expect(() => lax.sliceInDim(x, 2, 1, 1, 1)).toThrow(
      /lax.sliceInDim: start 2 and limit 1 must give 0 <= start <= limit <= 3 on axis 1/
    )
    expect(() => lax.sliceInDim(x, 0, 4, 1, 1)).toThrow(ArgumentError)
    expect(() => lax.sliceInDim(x, 0, 2, 0, 1)).toThrow(/stride must be a positive integer, got 0/)
    expect(() => lax.sliceInDim(x, 0, 1, 1, 2)).toThrow(AxisError)
    expect(() => lax.indexInDim(x, 3, 1)).toThrow(/lax.indexInDim: index 3 is out of bounds for axis 1 of size 3/)
    expect(() => lax.indexInDim(x, -3, 0)).toThrow(ArgumentError)
    expect(() => lax.collapse(x, 1, 3)).toThrow(/lax.collapse: start 1 and stop 3 must give 0 <= start <= stop <= 2/)
    expect(() => lax.broadcastToRank(x, -1)).toThrow(/rank must be a non-negative integer, got -1/)
    expect(lax.broadcastToRank(x, 1).shape).toEqual([2, 3])
    expect(() => lax.rev(x, [0, 0])).toThrow(AxisError)
    expect(lax.rev(x, []).tolist()).toEqual(x.tolist())
  })
})
