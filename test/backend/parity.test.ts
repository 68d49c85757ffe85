/**
 * JAX's behaviour in the corners (test/goldens/ops_parity.json, written by
 * tools/goldens/ops_parity.py): out-of-bounds indexing in every mode, jnp.pad's modes, integer
 * literals meeting int32/uint32 arrays, repeat with counts, linearize through control flow, grad
 * through cond with closed-over values, evalShape of `{ shape, dtype }`. Each value case is replayed
 * eagerly and under `jit`; gradient cases compare `grad` with JAX's; error cases check the typed error.
 * Then property tests of pad and of index clamping against naive references.
 */
import { fc, test } from "@fast-check/vitest"
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { evalShape, grad, jit, jnp, jvp, lax, linearize, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import type { Case } from "../support/goldenOps.ts"
import { expectMatches, toArg } from "../support/goldenOps.ts"

type ParityCase = Case & { readonly kind?: "grad" | "error"; readonly error?: string }
const goldens = JSON.parse(readFileSync(new URL("../goldens/ops_parity.json", import.meta.url), "utf8")) as {
  cases: ReadonlyArray<ParityCase>
}

type Arg = JArray | number
type Mode = jnp.OutOfBoundsMode
interface Params {
  readonly index?: ReadonlyArray<string | number>
  readonly mode?: string
  readonly fillValue?: number
  readonly method?: "set" | "add" | "multiply" | "min" | "max"
  readonly axis?: number
  readonly padWidth?: jnp.PerAxis<number>
  readonly constantValues?: jnp.PerAxis<number>
  readonly endValues?: jnp.PerAxis<number>
  readonly statLength?: jnp.PerAxis<number>
  readonly reflectType?: "even" | "odd"
  readonly totalRepeatLength?: number
  readonly dtype?: jnp.NumericDType
  readonly a?: ReadonlyArray<number>
  readonly b?: ReadonlyArray<number>
  readonly threshold?: number
}
type Out = JArray | ReadonlyArray<JArray>

/** The index a golden's pattern stands for: "i"/"j" are the array arguments after x. */
const indexOf = (pattern: ReadonlyArray<string | number>, arrays: ReadonlyArray<Arg>): Array<jnp.Index> =>
  pattern.map((p) =>
    p === "i" ? (arrays[0] as JArray) : p === "j" ? (arrays[1] as JArray) : p === ":" ? ":" : (p as number)
  )

const arrayArgs = (p: Params): number => (p.index ?? []).filter((s) => s === "i" || s === "j").length
const opt = <K extends string, V>(key: K, v: V | undefined): { [k in K]?: V } =>
  v === undefined ? {} : ({ [key]: v } as { [k in K]: V })

const linearized =
  (f: (x: JArray) => JArray) =>
  (x: JArray): Array<JArray> => {
    const [y, fLin] = linearize(f, x)
    return [y, fLin(jnp.onesLike(x))]
  }
const scanF = (x: JArray): JArray =>
  lax.scan(
    (c: JArray, xi: JArray) => [c.mul(xi).add(jnp.sin(c)), c] as const,
    x,
    jnp.arange(1, 4, 1, { dtype: "float32" })
  )[0]
const condF = (x: JArray): JArray =>
  lax.cond(
    x.sum().gt(0),
    (y: JArray) => jnp.sin(y),
    (y: JArray) => y.mul(2),
    x
  )
const whileF = (x: JArray): JArray =>
  lax.whileLoop(
    (c: readonly [JArray, JArray]) => c[0].lt(3),
    ([i, v]: readonly [JArray, JArray]) => [i.add(1), v.mul(v).add(0.5)] as const,
    [jnp.array(0), x] as const
  )[1]
const foriF = (x: JArray): JArray => lax.foriLoop(0, 3, (i, c: JArray) => c.mul(x).add(i), x)

const OPS: Record<string, (p: Params, args: ReadonlyArray<Arg>) => Out> = {
  getitem: (p, [x, ...rest]) => (x as JArray).get(...indexOf(p.index!, rest)),
  at_get: (p, [x, ...rest]) =>
    (x as JArray)
      .at(...indexOf(p.index!, rest))
      .get({ ...opt("mode", p.mode as Mode), ...opt("fillValue", p.fillValue) }),
  at_update: (p, [x, ...rest]) => {
    const k = arrayArgs(p)
    return (x as JArray).at(...indexOf(p.index!, rest.slice(0, k)))[p.method!](rest[k]!, opt("mode", p.mode as Mode))
  },
  take: (p, [x, i]) =>
    jnp.take(x!, i!, p.axis ?? null, {
      ...opt("mode", p.mode as jnp.TakeOptions["mode"]),
      ...opt("fillValue", p.fillValue)
    }),
  takeAlongAxis: (p, [x, i]) => jnp.takeAlongAxis(x!, i as JArray, p.axis!, opt("mode", p.mode as Mode)),
  pad: (p, [x]) =>
    jnp.pad(x!, p.padWidth!, {
      ...opt("mode", p.mode as jnp.PadMode),
      ...opt("constantValues", p.constantValues),
      ...opt("endValues", p.endValues),
      ...opt("statLength", p.statLength),
      ...opt("reflectType", p.reflectType)
    }),
  add: (_, [a, b]) => jnp.add(a!, b!),
  subtract: (_, [a, b]) => jnp.subtract(a!, b!),
  multiply: (_, [a, b]) => jnp.multiply(a!, b!),
  greater: (_, [a, b]) => jnp.greater(a!, b!),
  maximum: (_, [a, b]) => jnp.maximum(a!, b!),
  clip: (_, [x, lo, hi]) => jnp.clip(x!, lo!, hi!),
  array: (p, [v]) => jnp.array(v as number, { dtype: p.dtype! }),
  repeat: (p, [x, r]) => jnp.repeat(x!, r!, p.axis ?? null, opt("totalRepeatLength", p.totalRepeatLength)),
  jvpGetitem: (_, [x, t, i]) =>
    jvp((v: JArray) => v.get(i as JArray), [x as JArray], [t as JArray]) as unknown as ReadonlyArray<JArray>,
  gradCondSqrt: (_, [x]) =>
    grad((v: JArray) =>
      lax.cond(
        v.gt(0),
        () => jnp.sqrt(v),
        () => v.mul(0)
      )
    )(x as JArray),
  gradCondLog: (_, [x]) =>
    grad((v: JArray) =>
      lax.cond(
        v.gt(1),
        () => jnp.log(v.sub(1)),
        () => v.mul(3)
      )
    )(x as JArray),
  gradScanCond: (p, [x]) =>
    grad(
      (v: JArray) =>
        lax.scan(
          (c: JArray, xi: JArray) =>
            [
              c.add(
                lax.cond(
                  xi.gt(p.threshold!),
                  () => jnp.sqrt(v),
                  () => v.mul(0)
                )
              ),
              c
            ] as const,
          jnp.array(0, { dtype: "float32" }),
          jnp.arange(0, 3, 1, { dtype: "float32" })
        )[0]
    )(x as JArray),
  gradSwitch: (_, [x]) =>
    grad((v: JArray) =>
      lax.switch(v.gt(0).astype("int32").add(v.gt(2).astype("int32")), [
        () => jnp.divide(1, v),
        () => jnp.sqrt(v),
        () => v
      ])
    )(x as JArray),
  linearize_scan: (_, [x]) => linearized(scanF)(x as JArray),
  linearize_cond: (_, [x]) => linearized(condF)(x as JArray),
  linearize_whileLoop: (_, [x]) => linearized(whileF)(x as JArray),
  linearize_foriLoop: (_, [x]) => linearized(foriF)(x as JArray),
  evalShape: (p) => {
    const s = evalShape(
      (u: JArray, v: JArray) => u.matmul(v),
      { shape: p.a!, dtype: p.dtype! },
      { shape: p.b!, dtype: p.dtype! }
    ) as { shape: ReadonlyArray<number>; dtype: jnp.NumericDType }
    return jnp.zeros(s.shape, { dtype: s.dtype })
  }
}

/** The typed error each Python exception JAX raises becomes here. */
const ERROR_TAGS: Record<string, string> = {
  OverflowError: "OverflowError",
  ValueError: "ArgumentError",
  TypeError: "ArgumentError"
}

const run = (c: ParityCase, args: ReadonlyArray<Arg>): Out => {
  const f = OPS[c.op]
  if (f === undefined) throw new Error(`no TypeScript mapping for golden op ${c.op}`)
  return f(c.params as Params, args)
}
const outs = (o: Out): ReadonlyArray<JArray> => (Array.isArray(o) ? (o as ReadonlyArray<JArray>) : [o as JArray])

const weights = (shape: ReadonlyArray<number>): JArray => {
  const n = shape.reduce((a, b) => a * b, 1)
  return jnp.reshape(jnp.arange(1, n + 1, 1, { dtype: "float32" }), shape)
}

/**
 * Cases replayed under `jit` too: not those with JavaScript-number arguments, and not repeat without
 * totalRepeatLength (its length depends on the traced counts; JAX refuses it under jit as well).
 */
const jittable = (c: ParityCase): boolean =>
  !["array", "evalShape"].includes(c.op) &&
  c.args.every((a) => !("scalar" in a)) &&
  (c.op !== "repeat" || (c.params as Params).totalRepeatLength !== undefined)

describe("JAX parity goldens", () => {
  for (const c of goldens.cases) {
    it(c.name, () => {
      const args = c.args.map(toArg)
      if (c.kind === "error") {
        let err: unknown
        try {
          run(c, args)
        } catch (e) {
          err = e
        }
        expect((err as { _tag?: string } | undefined)?._tag, `${c.name}: ${String(err)}`).toBe(ERROR_TAGS[c.error!])
        expect(typeof (err as Error).message).toBe("string")
        return
      }
      if (c.kind === "grad") {
        const [x, ...rest] = args as Array<JArray>
        const g = grad((v: JArray) => {
          const y = run(c, [v, ...rest]) as JArray
          return jnp.sum(y.mul(weights(y.shape)))
        })(x!)
        expectMatches(c.name, g, c.output!, { atol: 2e-5, rtol: 1e-5 })
        return
      }
      const got = outs(run(c, args))
      const want = c.outputs ?? [c.output!]
      expect(got.length).toBe(want.length)
      want.forEach((w, i) => expectMatches(`${c.name} #${i}`, got[i]!, w, { atol: 2e-6, rtol: 4e-6 }))
      if (jittable(c)) {
        const jitted = outs(jit((...xs: Array<JArray>) => run(c, xs))(...(args as Array<JArray>)))
        want.forEach((w, i) => expectMatches(`jit ${c.name} #${i}`, jitted[i]!, w, { atol: 2e-6, rtol: 4e-6 }))
      }
    })
  }
})

/** Ops batched over their first argument by the vmap replay (the control-flow cases build their own inputs). */
const VMAPPED = new Set([
  "getitem",
  "at_get",
  "at_update",
  "take",
  "takeAlongAxis",
  "pad",
  "repeat",
  "add",
  "subtract",
  "multiply",
  "greater",
  "maximum",
  "clip"
])

/** A second batch element: the first argument's elements reversed, so the two slices differ. */
const other = (x: JArray): JArray => jnp.reshape(jnp.flip(jnp.ravel(x)), x.shape)

describe("JAX parity goldens under vmap: each slice equals the unbatched call", () => {
  for (const c of goldens.cases.filter(
    (k) => k.kind === undefined && VMAPPED.has(k.op) && "array" in k.args[0]! && k.args[0].shape.length > 0
  )) {
    it(c.name, () => {
      const [x, ...rest] = c.args.map(toArg)
      const x2 = other(x as JArray)
      const batched = outs(vmap((v: JArray) => run(c, [v, ...rest]))(jnp.stack([x as JArray, x2])))
      const first = outs(run(c, [x!, ...rest]))
      const second = outs(run(c, [x2, ...rest]))
      first.forEach((f, i) => {
        expect(batched[i]!.get(0).tolist(), `${c.name} slice 0`).toEqual(f.tolist())
        expect(batched[i]!.get(1).tolist(), `${c.name} slice 1`).toEqual(second[i]!.tolist())
      })
    })
  }
})

// ---------------------------------------------------------------------------------------------
// Properties against naive references

/** NumPy's pad index maps, written from the definitions (not from the implementation). */
const naivePadIndex = (mode: "edge" | "wrap" | "reflect" | "symmetric", n: number, i: number): number => {
  if (i >= 0 && i < n) return i
  switch (mode) {
    case "edge":
      return i < 0 ? 0 : n - 1
    case "wrap":
      return ((i % n) + n) % n
    case "reflect": {
      if (n === 1) return 0
      const period = 2 * (n - 1)
      const k = ((i % period) + period) % period
      return k < n ? k : period - k
    }
    case "symmetric": {
      const period = 2 * n
      const k = ((i % period) + period) % period
      return k < n ? k : period - 1 - k
    }
  }
}

describe("pad properties", () => {
  test.prop(
    [
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 13 }),
      fc.constantFrom("edge" as const, "wrap" as const, "reflect" as const, "symmetric" as const)
    ],
    { numRuns: 40 }
  )("edge, wrap, reflect and symmetric read the element the index map names", (n, before, after, mode) => {
    const x = Array.from({ length: n }, (_, i) => Math.fround(i * 1.5 - 2))
    const got = jnp.pad(jnp.array(x, { dtype: "float32" }), [before, after], { mode }).tolist() as Array<number>
    const want = Array.from({ length: before + n + after }, (_, k) => x[naivePadIndex(mode, n, k - before)]!)
    expect(got).toEqual(want)
  })

  test.prop(
    [
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })), {
        minLength: 3,
        maxLength: 3
      }),
      fc.integer({ min: -5, max: 5 })
    ],
    { numRuns: 30 }
  )("constant padding keeps the array in the middle and the value around it", (shape, widthsAll, value) => {
    const widths = widthsAll.slice(0, shape.length) as Array<[number, number]>
    const size = shape.reduce((a, b) => a * b, 1)
    const x = jnp.reshape(jnp.arange(1, size + 1, 1, { dtype: "float32" }), shape)
    const y = jnp.pad(x, widths, { constantValues: value })
    expect(y.shape).toEqual(shape.map((d, i) => d + widths[i]![0] + widths[i]![1]))
    const inner = y.get(...widths.map(([b], i) => `${b}:${b + shape[i]!}`))
    expect(inner.tolist()).toEqual(x.tolist())
    expect(Number(jnp.sum(y).item())).toBeCloseTo(Number(jnp.sum(x).item()) + value * (y.size - size), 3)
  })

  test.prop([fc.integer({ min: 2, max: 5 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 })], {
    numRuns: 20
  })("reflect with reflectType odd extends a linear ramp linearly", (n, before, after) => {
    const x = Array.from({ length: n }, (_, i) => 3 * i + 1)
    const got = jnp
      .pad(jnp.array(x, { dtype: "float32" }), [before, after], { mode: "reflect", reflectType: "odd" })
      .tolist() as Array<number>
    expect(got).toEqual(Array.from({ length: before + n + after }, (_, k) => 3 * (k - before) + 1))
  })

  test.prop(
    [
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 0, max: 6 }),
      fc.integer({ min: 0, max: 6 }),
      fc.constantFrom(
        "edge" as const,
        "wrap" as const,
        "reflect" as const,
        "symmetric" as const,
        "mean" as const,
        "linear_ramp" as const
      )
    ],
    { numRuns: 30 }
  )("jit equals eager, and the gradient of a sum counts how often each element is read", (n, before, after, mode) => {
    const x = jnp.arange(0, n, 1, { dtype: "float32" }).mul(0.7).sub(1)
    const f = (v: JArray): JArray => jnp.pad(v, [before, after], { mode })
    expect(jit(f)(x).tolist()).toEqual(f(x).tolist())
    if (mode === "mean" || mode === "linear_ramp") return
    const counts = new Array<number>(n).fill(0)
    for (let k = 0; k < before + n + after; k++) counts[naivePadIndex(mode, n, k - before)]! += 1
    expect(grad((v: JArray) => jnp.sum(f(v)))(x).tolist()).toEqual(counts)
  })
})

describe("pad gradients against finite differences", () => {
  test.prop(
    [
      fc
        .array(fc.integer({ min: -40, max: 40 }), { minLength: 2, maxLength: 5 })
        .filter((v) => new Set(v).size === v.length),
      fc.integer({ min: 0, max: 7 }),
      fc.integer({ min: 0, max: 7 }),
      fc.constantFrom<jnp.PadMode>(
        "constant",
        "edge",
        "wrap",
        "reflect",
        "symmetric",
        "linear_ramp",
        "maximum",
        "minimum",
        "mean",
        "median"
      ),
      fc.boolean()
    ],
    { numRuns: 40 }
  )("every mode (odd reflections too)", (ints, before, after, mode, odd) => {
    const data = ints.map((v) => v / 8)
    const options: jnp.PadOptions = {
      mode,
      ...(odd && (mode === "reflect" || mode === "symmetric") ? { reflectType: "odd" as const } : {})
    }
    const w = jnp.arange(1, before + data.length + after + 1, 1, { dtype: "float32" }).mul(0.25)
    const f = (v: JArray): JArray => jnp.sum(jnp.pad(v, [before, after], options).mul(w))
    const g = grad(f)(jnp.array(data, { dtype: "float32" })).tolist() as Array<number>
    // Every mode is piecewise linear in x, and the values are 1/8 apart: a step of 1/64 stays on one piece.
    const eps = 1 / 64
    data.forEach((_, k) => {
      const at = (d: number): number =>
        Number(
          f(
            jnp.array(
              data.map((v, i) => (i === k ? v + d : v)),
              { dtype: "float32" }
            )
          ).item()
        )
      expect(g[k]!).toBeCloseTo((at(eps) - at(-eps)) / (2 * eps), 1)
    })
  })
})

describe("index clamping properties", () => {
  test.prop(
    [fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 8 })],
    { numRuns: 40 }
  )("x[i] counts a negative index from the end, then clamps; fill mode reads the fill value outside", (n, idx) => {
    const x = jnp.arange(10, 10 + n, 1, { dtype: "float32" })
    const i = jnp.array(idx, { dtype: "int32" })
    const wrapped = idx.map((v) => (v < 0 ? v + n : v))
    expect(x.get(i).tolist()).toEqual(wrapped.map((v) => 10 + Math.min(Math.max(v, 0), n - 1)))
    expect(x.at(i).get({ mode: "fill", fillValue: -1 }).tolist()).toEqual(
      wrapped.map((v) => (v >= 0 && v < n ? 10 + v : -1))
    )
    expect(jnp.take(x, i, null, { mode: "clip" }).tolist()).toEqual(
      idx.map((v) => 10 + Math.min(Math.max(v, 0), n - 1))
    )
    expect(jnp.take(x, i, null, { mode: "wrap" }).tolist()).toEqual(idx.map((v) => 10 + (((v % n) + n) % n)))
  })

  test.prop(
    [fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 8 })],
    { numRuns: 40 }
  )("at(i).add drops out-of-bounds updates by default and clamps them with mode clip", (n, idx) => {
    const x = jnp.zeros([n])
    const i = jnp.array(idx, { dtype: "int32" })
    const dropped = new Array<number>(n).fill(0)
    const clipped = new Array<number>(n).fill(0)
    for (const v of idx) {
      const w = v < 0 ? v + n : v
      if (w >= 0 && w < n) dropped[w]! += 1
      clipped[Math.min(Math.max(w, 0), n - 1)]! += 1
    }
    expect(x.at(i).add(1).tolist()).toEqual(dropped)
    expect(x.at(i).add(1, { mode: "clip" }).tolist()).toEqual(clipped)
  })

  test.prop(
    [
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.tuple(fc.integer({ min: -8, max: 8 }), fc.integer({ min: -4, max: 4 })), {
        minLength: 1,
        maxLength: 12
      })
    ],
    { numRuns: 40 }
  )("at(i).multiply, min and max fold every update aimed at a repeated index, as a loop does", (n, updates) => {
    const start = Array.from({ length: n }, (_, k) => k - 2)
    const x = jnp.array(start, { dtype: "int32" })
    const i = jnp.array(
      updates.map(([p]) => p),
      { dtype: "int32" }
    )
    const v = jnp.array(
      updates.map(([, u]) => u),
      { dtype: "int32" }
    )
    const loop = (f: (a: number, b: number) => number): Array<number> => {
      const out = start.slice()
      for (const [p, u] of updates) {
        const w = p < 0 ? p + n : p
        if (w >= 0 && w < n) out[w] = f(out[w]!, u)
      }
      return out
    }
    expect(x.at(i).multiply(v).tolist()).toEqual(loop((a, b) => Math.imul(a, b)))
    expect(x.at(i).min(v).tolist()).toEqual(loop(Math.min))
    expect(x.at(i).max(v).tolist()).toEqual(loop(Math.max))
  })

  test.prop([fc.integer({ min: 1, max: 6 }), fc.integer({ min: -12, max: 12 })], { numRuns: 30 })(
    "a static integer index clamps on get and drops on set, as an array index does",
    (n, k) => {
      const x = jnp.arange(0, n, 1, { dtype: "float32" })
      expect(x.get(k).item()).toBe(x.get(jnp.array(k, { dtype: "int32" })).item())
      expect(x.at(k).set(-1).tolist()).toEqual(
        x
          .at(jnp.array([k], { dtype: "int32" }))
          .set(-1)
          .tolist()
      )
    }
  )
})
