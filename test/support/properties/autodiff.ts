/**
 * The function family and data of the differentiation properties
 * (test/transforms/autodiffProperties.test.ts), shared with their webgpu run
 * (test/webgpu/properties.test.ts): scalar losses that together use every differentiable first-order
 * primitive, with primals drawn away from kinks and discontinuities from a seed, random directions,
 * and gradients of every argument.
 */
import { fc } from "@fast-check/vitest"
import { jnp, lax, nn } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { grad } from "../../../src/transforms/core/reverse.ts"

// ---- deterministic data -------------------------------------------------------------------------

/** A deterministic source of numbers uniform in [0, 1). */
export type Rng = () => number
export type Shape = ReadonlyArray<number>

/** mulberry32 */
const rngOf = (seed: number): Rng => {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const size = (s: Shape): number => s.reduce((n, d) => n * d, 1)
const fromFn = (shape: Shape, f: (i: number) => number): JArray =>
  jnp.reshape(
    jnp.array(
      Array.from({ length: size(shape) }, (_, i) => f(i)),
      { dtype: "float32" }
    ),
    shape
  )
const ints = (shape: Shape, values: ReadonlyArray<number>): JArray =>
  jnp.reshape(jnp.array(values.slice(), { dtype: "int32" }), shape)

/** Uniform in [lo, hi). */
export const uniform = (r: Rng, shape: Shape, lo = -1, hi = 1): JArray => fromFn(shape, () => lo + (hi - lo) * r())
/** Magnitude in [lo, hi), random sign: away from zero. */
const awayFromZero = (r: Rng, shape: Shape, lo = 0.3, hi = 1.2): JArray =>
  fromFn(shape, () => (r() < 0.5 ? -1 : 1) * (lo + (hi - lo) * r()))
/** Pairwise distinct values, at least 0.2 apart: no ties for max/min/sort. */
const distinct = (r: Rng, shape: Shape): JArray => {
  const n = size(shape)
  const perm = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1))
    ;[perm[i], perm[j]] = [perm[j]!, perm[i]!]
  }
  return fromFn(shape, (i) => (perm[i]! - n / 2) * 0.3 + 0.05 * r())
}
/** Shapes `shape` with some dimensions turned to 1 (and maybe fewer leading axes): NumPy broadcasting. */
const broadcastable = (r: Rng, shape: Shape): Array<number> => {
  const s = shape.map((d) => (r() < 0.35 ? 1 : d))
  return r() < 0.3 ? s.slice(Math.floor(r() * (s.length + 1))) : s
}
const atLeast = (shape: Shape, rank: number, fill = [3, 2, 4]): Array<number> =>
  shape.length >= rank ? shape.slice() : [...fill.slice(0, rank - shape.length), ...shape]
const pick = <A>(r: Rng, xs: ReadonlyArray<A>): A => xs[Math.floor(r() * xs.length)]!

/** A fixed, varied weighting: the loss is `sum(w * f(x))`. */
const weights = (shape: Shape): JArray => fromFn(shape, (i) => Math.cos(0.7 * i + 0.3))
const weighted = (y: JArray): JArray => jnp.sum(jnp.multiply(y, weights(y.shape)))

// ---- the function family ------------------------------------------------------------------------

/** A function of the family, with how its primals are drawn. */
export interface Case {
  readonly name: string
  /** Primals (and the function), built from a random base shape; the function may close over static data. */
  readonly make: (
    r: Rng,
    shape: Shape
  ) => { readonly args: ReadonlyArray<JArray>; readonly f: (...xs: ReadonlyArray<JArray>) => JArray }
  /** Finite-difference step. */
  readonly h?: number
}

const unaryCase = (name: string, f: (x: JArray) => JArray, dom: (r: Rng, s: Shape) => JArray = uniform): Case => ({
  name,
  make: (r, s) => ({ args: [dom(r, s)], f: (x) => f(x!) })
})

const positive = (r: Rng, s: Shape): JArray => uniform(r, s, 0.5, 1.5)

/** The family: together, every differentiable first-order primitive. */
export const cases: ReadonlyArray<Case> = [
  unaryCase("neg", (x) => jnp.negative(x)),
  unaryCase("exp", (x) => jnp.exp(x)),
  unaryCase("log", (x) => jnp.log(x), positive),
  unaryCase("sin, cos", (x) => jnp.add(jnp.sin(x), jnp.cos(jnp.multiply(x, 2)))),
  unaryCase("tanh", (x) => jnp.tanh(jnp.multiply(x, 1.5))),
  unaryCase("logistic", (x) => nn.sigmoid(jnp.multiply(x, 2))),
  unaryCase("sqrt", (x) => jnp.sqrt(x), positive),
  unaryCase("rsqrt", (x) => lax.rsqrt(x), positive),
  unaryCase("abs", (x) => jnp.abs(x), awayFromZero),
  unaryCase("erf", (x) => lax.erf(x)),
  unaryCase("erf_inv", (x) => lax.erfInv(jnp.multiply(x, 0.8))),
  unaryCase("log1p", (x) => jnp.log1p(jnp.square(x))),
  unaryCase("expm1", (x) => jnp.expm1(x)),
  unaryCase(
    "nn: softmax, logsumexp, gelu",
    (x) => jnp.add(jnp.add(nn.softmax(jnp.multiply(x, 2)), nn.logsumexp(x)), nn.gelu(x)),
    (r, s) => uniform(r, atLeast(s, 1))
  ),
  {
    name: "add, sub, mul with broadcasting",
    make: (r, s) => ({
      args: [uniform(r, broadcastable(r, s)), uniform(r, broadcastable(r, s))],
      f: (x, y) => jnp.subtract(jnp.add(x!, jnp.multiply(x!, y!)), jnp.multiply(y!, 0.5))
    })
  },
  {
    name: "div with broadcasting",
    make: (r, s) => ({
      args: [uniform(r, broadcastable(r, s)), positive(r, broadcastable(r, s))],
      f: (x, y) => jnp.divide(x!, y!)
    })
  },
  {
    name: "pow in both operands, with broadcasting",
    make: (r, s) => ({
      args: [positive(r, broadcastable(r, s)), uniform(r, broadcastable(r, s), -1, 2)],
      f: (x, y) => jnp.power(x!, y!)
    })
  },
  {
    name: "rem (float)",
    make: (r, s) => ({
      // x / y stays inside (2.1, 2.7): away from the jumps of trunc(x / y).
      args: [uniform(r, s, 2.3, 2.7), uniform(r, s, 1.01, 1.09)],
      f: (x, y) => lax.rem(x!, y!)
    })
  },
  {
    name: "max, min (no ties)",
    make: (r, s) => {
      const x = uniform(r, s)
      const gap = awayFromZero(r, s, 0.1, 0.5)
      return {
        args: [x, jnp.add(x, gap)],
        f: (a, b) => jnp.add(jnp.maximum(a!, b!), jnp.multiply(jnp.minimum(a!, b!), 3))
      }
    }
  },
  {
    name: "atan2",
    make: (r, s) => ({ args: [uniform(r, s), positive(r, s)], f: (x, y) => jnp.arctan2(x!, y!) })
  },
  {
    name: "select (where)",
    make: (r, s) => ({
      args: [awayFromZero(r, s), uniform(r, broadcastable(r, s))],
      f: (x, y) => jnp.where(jnp.greater(x!, 0), jnp.sin(x!), jnp.multiply(y!, x!))
    })
  },
  unaryCase("convert_element_type (float32, weak)", (x) =>
    jnp.multiply(lax.convertElementType(x, "float32", true), jnp.sin(x))
  ),
  {
    name: "broadcast_in_dim",
    make: (r, s) => {
      const small = broadcastable(r, s)
      return { args: [uniform(r, small)], f: (x) => jnp.sin(jnp.broadcastTo(x!, [2, ...s])) }
    }
  },
  {
    name: "reshape, transpose, expand_dims, squeeze",
    make: (r, s) => ({
      args: [uniform(r, s)],
      f: (x) =>
        jnp.multiply(
          jnp.squeeze(jnp.transpose(jnp.expandDims(jnp.sin(x!), 0)), -1),
          jnp.reshape(jnp.transpose(x!), [-1]).reshape(jnp.transpose(x!).shape)
        )
    })
  },
  {
    name: "slice with strides",
    make: (r, s0) => {
      const s = atLeast(s0, 1)
      const starts = s.map((d) => Math.floor(r() * d))
      const limits = s.map((d, i) => starts[i]! + 1 + Math.floor(r() * (d - starts[i]!)))
      const strides = s.map(() => 1 + Math.floor(r() * 3))
      return { args: [uniform(r, s)], f: (x) => jnp.sin(lax.slice(x!, starts, limits, strides)) }
    }
  },
  {
    name: "dynamic_slice, dynamic_update_slice (with clamping)",
    make: (r, s0) => {
      const s = atLeast(s0, 1)
      const us = s.map((d) => Math.max(1, d - 1))
      const starts = s.map((d) => Math.floor(r() * (d + 2))) // may run past the end: clamped
      return {
        args: [uniform(r, s), uniform(r, us)],
        f: (x, u) =>
          jnp.add(
            jnp.sum(jnp.square(lax.dynamicSlice(x!, starts, us))),
            jnp.sin(lax.dynamicUpdateSlice(jnp.sin(x!), jnp.multiply(u!, u!), starts))
          )
      }
    }
  },
  {
    name: "concatenate",
    make: (r, s0) => {
      const s = atLeast(s0, 1)
      const axis = Math.floor(r() * s.length)
      const other = s.map((d, i) => (i === axis ? 1 + Math.floor(r() * 3) : d))
      return { args: [uniform(r, s), uniform(r, other)], f: (x, y) => jnp.concatenate([x!, jnp.sin(y!), x!], axis) }
    }
  },
  {
    name: "pad with interior padding, operand and value",
    make: (r, s) => {
      const config = s.map(() => [Math.floor(r() * 3), Math.floor(r() * 3), Math.floor(r() * 3)] as const)
      return { args: [uniform(r, s), uniform(r, [])], f: (x, v) => jnp.sin(lax.pad(x!, v!, config)) }
    }
  },
  {
    name: "gather: take with repeated indices",
    make: (r, s0) => {
      const s = atLeast(s0, 1)
      const axis = Math.floor(r() * s.length)
      const n = s[axis]!
      const idx = Array.from({ length: 5 }, () => Math.floor(r() * n) - (r() < 0.3 ? n : 0)) // negative indices wrap
      return { args: [uniform(r, s)], f: (x) => jnp.sin(jnp.take(x!, ints([5], idx), axis)) }
    }
  },
  {
    name: "gather with batch dims: takeAlongAxis",
    make: (r, s0) => {
      const s = atLeast(s0, 2)
      const axis = Math.floor(r() * s.length)
      const is = s.map((d, i) => (i === axis ? 4 : d))
      const idx = Array.from({ length: size(is) }, () => Math.floor(r() * s[axis]!))
      return { args: [uniform(r, s)], f: (x) => jnp.square(jnp.takeAlongAxis(x!, ints(is, idx), axis)) }
    }
  },
  {
    name: "gather: lax.gather with batch dims, several indexed axes, clip mode",
    make: (r) => {
      // operand [2, 3, 4, 2]: batch axis 0, indexed axes 1 and 3, rest axis 2.
      const idx = Array.from({ length: 2 * 5 * 2 }, () => Math.floor(r() * 5) - 1) // some out of range: clipped
      return {
        args: [uniform(r, [2, 3, 4, 2])],
        f: (x) => jnp.sin(lax.gather(x!, ints([2, 5, 2], idx), { indexedAxes: [1, 3], batchDims: 1, mode: "clip" }))
      }
    }
  },
  {
    name: "scatter_add with duplicate indices",
    make: (r, s0) => {
      const s = atLeast(s0, 1)
      const n = s[0]!
      const idx = Array.from({ length: 4 }, () => Math.floor(r() * n))
      return {
        args: [uniform(r, s), uniform(r, [4, ...s.slice(1)])],
        f: (x, u) => jnp.sin(x!.at(ints([4], idx)).add(jnp.multiply(u!, u!)))
      }
    }
  },
  {
    name: "scatter with duplicate indices (the last write wins)",
    make: (r, s0) => {
      const s = atLeast(s0, 1)
      const n = s[0]!
      const idx = Array.from({ length: 4 }, () => Math.floor(r() * n))
      return {
        args: [uniform(r, s), uniform(r, [4, ...s.slice(1)])],
        f: (x, u) =>
          jnp.sin(
            jnp
              .multiply(x!, 2)
              .at(ints([4], idx))
              .set(jnp.sin(u!))
          )
      }
    }
  },
  {
    name: "reduce_sum over random axes",
    make: (r, s) => {
      const axes = s.map((_, i) => i).filter(() => r() < 0.5)
      return { args: [uniform(r, s)], f: (x) => jnp.sin(jnp.sum(jnp.square(x!), axes)) }
    }
  },
  {
    name: "reduce_max, reduce_min (no ties)",
    make: (r, s) => {
      const axes = s.map((_, i) => i).filter(() => r() < 0.5)
      return {
        args: [distinct(r, s)],
        f: (x) => jnp.add(jnp.max(x!, axes), jnp.multiply(jnp.square(jnp.min(x!, axes)), 2))
      }
    }
  },
  {
    name: "reduce_prod",
    make: (r, s) => {
      const axes = s.map((_, i) => i).filter(() => r() < 0.6)
      return { args: [awayFromZero(r, s, 0.6, 1.3)], f: (x) => jnp.prod(x!, axes) }
    }
  },
  {
    name: "cumsum (both directions)",
    make: (r, s0) => {
      const s = atLeast(s0, 1)
      const axis = Math.floor(r() * s.length)
      const rev = r() < 0.5
      return { args: [uniform(r, s)], f: (x) => jnp.sin(lax.cumsum(jnp.square(x!), axis, rev)) }
    }
  },
  {
    name: "cumprod (both directions)",
    make: (r, s0) => {
      const s = atLeast(s0, 1)
      const axis = Math.floor(r() * s.length)
      const rev = r() < 0.5
      return { args: [awayFromZero(r, s, 0.6, 1.3)], f: (x) => lax.cumprod(x!, axis, rev) }
    }
  },
  {
    name: "cummax, cummin (no ties)",
    make: (r, s0) => {
      const s = atLeast(s0, 1)
      const axis = Math.floor(r() * s.length)
      const rev = r() < 0.5
      return {
        args: [distinct(r, s)],
        f: (x) => jnp.add(lax.cummax(x!, axis, rev), jnp.multiply(lax.cummin(x!, axis, !rev), 0.5))
      }
    }
  },
  {
    name: "dot_general: batched matmul",
    make: (r, s) => {
      const [m, k, n] = [pick(r, [1, 2, 3]), pick(r, [1, 2, 4]), pick(r, [1, 3])]
      const b = s.slice(0, 1)
      return { args: [uniform(r, [...b, m, k]), uniform(r, [k, n])], f: (a, c) => jnp.matmul(a!, c!) }
    }
  },
  {
    name: "dot_general: permuted batch and contracting dims",
    make: (r) => {
      const [k1, b, k2, m, n] = [pick(r, [1, 2]), pick(r, [1, 3]), pick(r, [2, 3]), pick(r, [1, 2]), pick(r, [2, 4])]
      return {
        args: [uniform(r, [k1, b, k2, m]), uniform(r, [k2, n, k1, b])],
        f: (x, y) =>
          lax.dotGeneral(x!, y!, [
            [
              [2, 0],
              [0, 2]
            ],
            [[1], [3]]
          ])
      }
    }
  },
  {
    name: "dot_general: vector dot, outer product",
    make: (r, s) => {
      const n = s[0] ?? 3
      return { args: [uniform(r, [n]), uniform(r, [n])], f: (x, y) => jnp.add(jnp.outer(x!, y!), jnp.dot(x!, y!)) }
    }
  },
  {
    name: "sort along an axis (no ties)",
    make: (r, s0) => {
      const s = atLeast(s0, 1)
      const axis = Math.floor(r() * s.length)
      return { args: [distinct(r, s)], f: (x) => jnp.sort(x!, axis) }
    }
  },
  {
    name: "sort with a value operand",
    make: (r, s0) => {
      const s = atLeast(s0, 1)
      return {
        args: [distinct(r, s), uniform(r, s)],
        f: (k, v) => {
          const [sk, sv] = lax.sortKeyVal(k!, v!, -1)
          return jnp.multiply(sk, jnp.sin(sv))
        }
      }
    }
  }
]

// ---- draws and gradients ------------------------------------------------------------------------

/** A base shape of rank 0 to 3. */
export const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 })
/** A seed for the primals and directions. */
export const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 })

/** `x + s v`. */
export const axpy = (x: JArray, v: JArray, s: number): JArray => jnp.add(x, jnp.multiply(v, s))

/** The gradient of `loss` with respect to each of its `n` arguments. */
export const gradAll =
  (loss: (...xs: ReadonlyArray<JArray>) => JArray, n: number) =>
  (...xs: ReadonlyArray<JArray>): ReadonlyArray<JArray> =>
    grad(loss, { argnums: Array.from({ length: n }, (_, i) => i) })(...xs) as unknown as ReadonlyArray<JArray>

/**
 * A case drawn from a base shape and a seed: its primals and function, the loss `sum(w * f(x))` for
 * a fixed weighting `w`, a random direction per primal, the finite-difference step, and the rng for
 * further draws.
 */
export const setup = (c: Case, shape: Shape, seed: number) => {
  const r = rngOf(seed)
  const { args, f } = c.make(r, shape)
  const loss = (...xs: ReadonlyArray<JArray>): JArray => weighted(f(...xs))
  const dirs = args.map((a) => uniform(r, a.shape))
  return { r, args, f, loss, dirs, h: c.h ?? 1e-2 }
}
