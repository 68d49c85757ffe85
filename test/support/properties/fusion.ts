/**
 * The random programs of the jit/fusion property (test/transforms/fusionProperties.test.ts), shared
 * with its webgpu run (test/webgpu/properties.test.ts): a generator of programs of elementwise ops,
 * broadcasts, reductions, transposes and dots over inputs of broadcast-compatible shapes, the
 * interpreter that runs one (eagerly, or traced by jit), and its deterministic inputs.
 */
import { fc } from "@fast-check/vitest"
import { jnp, nn } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

const unaryOps = {
  tanh: jnp.tanh,
  exp: jnp.exp,
  neg: jnp.negative,
  sin: jnp.sin,
  abs: jnp.abs,
  floor: jnp.floor,
  logistic: nn.sigmoid,
  square: jnp.square,
  sqrtAbs: (x: JArray) => jnp.sqrt(jnp.abs(x))
} satisfies Record<string, (x: JArray) => JArray>
const unaries = Object.keys(unaryOps) as ReadonlyArray<keyof typeof unaryOps>
const binaryOps = {
  add: jnp.add,
  sub: jnp.subtract,
  mul: jnp.multiply,
  max: jnp.maximum,
  min: jnp.minimum,
  div: (x: JArray, y: JArray) => jnp.divide(x, jnp.abs(y).add(0.5))
} satisfies Record<string, (x: JArray, y: JArray) => JArray>
const binaries = Object.keys(binaryOps) as ReadonlyArray<keyof typeof binaryOps>

/** One step of a random program; operand indices pick from the values so far, modulo their count. */
export type Op =
  | { readonly kind: "unary"; readonly fn: keyof typeof unaryOps; readonly a: number }
  | { readonly kind: "binary"; readonly fn: keyof typeof binaryOps; readonly a: number; readonly b: number }
  | { readonly kind: "scale"; readonly a: number; readonly c: number }
  | { readonly kind: "select"; readonly a: number; readonly b: number }
  | { readonly kind: "convert"; readonly a: number; readonly viaInt: boolean }
  | {
      readonly kind: "reduce"
      readonly fn: "sum" | "max" | "min"
      readonly a: number
      readonly axis: number
      readonly keepdims: boolean
    }
  | { readonly kind: "broadcast"; readonly a: number; readonly lead: number }
  | { readonly kind: "transpose"; readonly a: number }
  | { readonly kind: "gram"; readonly a: number }
  | { readonly kind: "outer"; readonly a: number; readonly b: number }

const index = fc.nat({ max: 15 })
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("unary" as const), fn: fc.constantFrom(...unaries), a: index })
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("binary" as const), fn: fc.constantFrom(...binaries), a: index, b: index })
  },
  fc.record({
    kind: fc.constant("scale" as const),
    a: index,
    c: fc.float({ min: -2, max: 2, noNaN: true }).map(Math.fround)
  }),
  fc.record({ kind: fc.constant("select" as const), a: index, b: index }),
  fc.record({ kind: fc.constant("convert" as const), a: index, viaInt: fc.boolean() }),
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("reduce" as const),
      fn: fc.constantFrom("sum" as const, "max" as const, "min" as const),
      a: index,
      axis: fc.nat({ max: 3 }),
      keepdims: fc.boolean()
    })
  },
  fc.record({ kind: fc.constant("broadcast" as const), a: index, lead: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant("transpose" as const), a: index }),
  fc.record({ kind: fc.constant("gram" as const), a: index }),
  fc.record({ kind: fc.constant("outer" as const), a: index, b: index })
)

/** Input shapes: a base shape, and each input that shape with some axes (or leading axes) of size 1. */
const inputShapes = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 })
  .chain((base) =>
    fc
      .array(
        fc.tuple(
          fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }),
          fc.nat({ max: base.length })
        ),
        { minLength: 1, maxLength: 3 }
      )
      .map((specs) => specs.map(([ones, drop]) => base.map((d, i) => (ones[i] ? 1 : d)).slice(drop)))
  )

const maxSize = 2048

const broadcastable = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean => {
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const x = a[a.length - i]!,
      y = b[b.length - i]!
    if (x !== y && x !== 1 && y !== 1) return false
  }
  return true
}

const size = (x: JArray): number => x.size

/** Runs a random program on its inputs with whatever is current: eagerly, or traced by jit. */
export const runProgram = (ops: ReadonlyArray<Op>, inputs: ReadonlyArray<JArray>): Array<JArray> => {
  const pool: Array<JArray> = [...inputs]
  const pick = (i: number): JArray => pool[i % pool.length]!
  for (const o of ops) {
    const x = pick(o.a)
    const next = ((): JArray => {
      switch (o.kind) {
        case "unary":
          return unaryOps[o.fn](x)
        case "binary": {
          const y = pick(o.b)
          return binaryOps[o.fn](x, broadcastable(x.shape, y.shape) ? y : y.sum())
        }
        case "scale":
          return x.mul(o.c).add(0.25)
        case "select": {
          const y = pick(o.b)
          return jnp.where(x.gt(0), x, broadcastable(x.shape, y.shape) ? y : y.max())
        }
        case "convert":
          return o.viaInt ? x.mul(3).astype("int32").astype("float32") : x.lt(0.5).astype("float32").add(x)
        case "reduce": {
          if (x.ndim === 0) return x.add(1)
          const axis = o.axis % x.ndim
          return o.fn === "sum"
            ? x.sum(axis, { keepdims: o.keepdims })
            : o.fn === "max"
              ? x.max(axis, { keepdims: o.keepdims })
              : x.min(axis, { keepdims: o.keepdims })
        }
        case "broadcast":
          return size(x) * o.lead > maxSize ? x : jnp.broadcastTo(x, [o.lead, ...x.shape])
        case "transpose":
          return x.T
        case "gram": {
          if (x.ndim === 0) return x.mul(x)
          const m = x.reshape([-1, x.shape[x.ndim - 1]!])
          return m.shape[0]! * m.shape[0]! > maxSize ? x : jnp.matmul(m, m.T)
        }
        case "outer": {
          const y = pick(o.b)
          return size(x) * size(y) > maxSize ? x : jnp.matmul(x.reshape([-1, 1]), y.reshape([1, -1]))
        }
      }
    })()
    pool.push(next)
  }
  return pool.slice(-2)
}

/** A random program: its input shapes, 1 to 12 steps, and the seed of its inputs' values. */
export const randomProgram = fc.record({
  shapes: inputShapes,
  ops: fc.array(op, { minLength: 1, maxLength: 12 }),
  seed: fc.integer({ min: 0, max: 1000 })
})

/** The inputs of a program: float32 arrays of `shapes`, their values a deterministic function of `seed`. */
export const inputsFor = (shapes: ReadonlyArray<ReadonlyArray<number>>, seed: number): Array<JArray> =>
  shapes.map((shape, k) => {
    const n = shape.reduce((a, b) => a * b, 1)
    const data = Array.from({ length: n }, (_, i) => Math.fround(Math.sin(seed + 7 * k + 1.3 * i) * 2))
    return jnp.reshape(jnp.array(data, { dtype: "float32" }), shape)
  })
