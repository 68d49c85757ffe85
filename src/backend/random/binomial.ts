/**
 * `random.binomial`, as JAX draws it (after TensorFlow): for `n·q ≤ 10` (with `q = min(p, 1 - p)`)
 * the inversion method, counting geometric gaps until they pass `n`; otherwise Kachitvichyanukul and
 * Schmeiser's BTRS transformed rejection. JAX runs both from the same key over the whole array and keeps,
 * per element, the one its parameters select, then reflects `p > 1/2` (`n - k`); so does this, with the
 * same key splits per round. Samples are float32 counts, as JAX's.
 *
 * @since 0.1.0
 */
import type { Array } from "../Array.ts"
import { isArray } from "../Array.ts"
import { DTypeError } from "../ArrayError.ts"
import * as lax from "../lax.ts"
import { fromHost, fromScalar } from "../numpy/creation.ts"
import { take } from "../numpy/indexing.ts"
import { broadcastShapes } from "../shape.ts"
import { whileLoop } from "../../transforms/core/controlFlow.ts"
import { uniform } from "./distributions.ts"
import { checkKey, split } from "./keys.ts"
import type { ShapeLike } from "./shapes.ts"
import { canonicalShape, checkParamShapes, filled } from "./shapes.ts"

const keyAt = (keys: Array, i: number): Array => lax.reshape(lax.slice(keys, [i], [i + 1]), [])

/** `log k! - (k + ½) log(k + 1) + (k + 1) - ½ log 2π` for k = 0..9 (the tail of Stirling's series). */
const STIRLING_TAIL = [
  0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509, 0.0166446911898211,
  0.0138761288230707, 0.0118967099458917, 0.010411265261972, 0.00925546218271273, 0.00833056343336287
]

/**
 * The Stirling tail at `k`: the table for `k ≤ 9`, else the series `(1/12 - (1/360 - 1/1260/(k+1)²)/(k+1)²)/(k+1)`.
 * JAX evaluates the series at `k` clamped to [0, 9], so beyond 9 it is the value at 9; kept, to give
 * JAX's samples.
 */
const stirlingTail = (k0: Array, shape: ReadonlyArray<number>): Array => {
  const c = (v: number): Array => filled(v, "float32", shape)
  const useTable = lax.le(k0, c(9))
  const k = lax.min(lax.max(k0, c(0)), c(9))
  const kp1 = lax.add(k, c(1))
  const kp1sq = lax.mul(kp1, kp1)
  const approx = lax.div(lax.sub(c(1 / 12), lax.div(lax.sub(c(1 / 360), lax.div(c(1 / 1260), kp1sq)), kp1sq)), kp1)
  const idx = lax.convertElementType(lax.floor(k), "int32")
  // Made per call, not at import: an array belongs to the backend current when it is made.
  const table = fromHost(Float32Array.from(STIRLING_TAIL), [STIRLING_TAIL.length], "float32")
  return lax.select(useTable, take(table, idx), approx)
}

const inversion = (key: Array, count: Array, prob: Array, shape: ReadonlyArray<number>): Array => {
  const log1mp = lax.log1p(lax.neg(prob))
  type S = readonly [Array, Array, Array]
  const axes = shape.map((_, i) => i)
  const [numGeom] = whileLoop(
    ([, geomSum]: S) => lax.reduceOr(lax.le(geomSum, count), axes),
    ([numGeom, geomSum, rng]: S): S => {
      const ks = split(rng, 2)
      // JAX takes the first half as this round's subkey and carries the second.
      const next = lax.select(lax.le(geomSum, count), lax.add(numGeom, filled(1, "float32", shape)), numGeom)
      const u = uniform(keyAt(ks, 0), shape)
      const geom = lax.ceil(lax.div(lax.log(u), log1mp))
      return [next, lax.add(geomSum, geom), keyAt(ks, 1)] as const
    },
    [zerosOf(shape), zerosOf(shape), key] as S
  )
  return lax.sub(numGeom, filled(1, "float32", shape))
}

const zerosOf = (shape: ReadonlyArray<number>): Array => lax.broadcastInDim(fromScalar(0, "float32"), shape, [])

const btrs = (key: Array, count: Array, prob: Array, shape: ReadonlyArray<number>): Array => {
  const c = (v: number): Array => filled(v, "float32", shape)
  const one = c(1)
  const stddev = lax.sqrt(lax.mul(lax.mul(count, prob), lax.sub(one, prob)))
  const b = lax.add(c(1.15), lax.mul(c(2.53), stddev))
  const a = lax.add(lax.add(c(-0.0873), lax.mul(c(0.0248), b)), lax.mul(c(0.01), prob))
  const cc = lax.add(lax.mul(count, prob), c(0.5))
  const vr = lax.sub(c(0.92), lax.div(c(4.2), b))
  const r = lax.div(prob, lax.sub(one, prob))
  const alpha = lax.mul(lax.add(c(2.83), lax.div(c(5.1), b)), stddev)
  const m = lax.floor(lax.mul(lax.add(count, one), prob))
  const axes = shape.map((_, i) => i)
  type S = readonly [Array, Array, Array]
  const [kOut] = whileLoop(
    ([, accepted]: S) => lax.reduceOr(lax.not(accepted), axes),
    ([kOut, accepted, rng]: S): S => {
      const ks = split(rng, 3)
      const u = lax.sub(uniform(keyAt(ks, 1), shape), c(0.5))
      const v0 = uniform(keyAt(ks, 2), shape)
      const us = lax.sub(c(0.5), lax.abs(u))
      const accept1 = lax.bitwiseAnd(lax.ge(us, c(0.07)), lax.le(v0, vr))
      const k = lax.floor(lax.add(lax.mul(lax.add(lax.div(lax.mul(c(2), a), us), b), u), cc))
      const reject = lax.bitwiseOr(lax.lt(k, c(0)), lax.gt(k, count))
      const v = lax.log(lax.div(lax.mul(v0, alpha), lax.add(lax.div(a, lax.mul(us, us)), b)))
      const nm1 = lax.add(lax.sub(count, m), one)
      const nk1 = lax.add(lax.sub(count, k), one)
      let ub = lax.mul(lax.add(m, c(0.5)), lax.log(lax.div(lax.add(m, one), lax.mul(r, nm1))))
      ub = lax.add(ub, lax.mul(lax.add(count, one), lax.log(lax.div(nm1, nk1))))
      ub = lax.add(ub, lax.mul(lax.add(k, c(0.5)), lax.log(lax.div(lax.mul(r, nk1), lax.add(k, one)))))
      ub = lax.add(ub, stirlingTail(m, shape))
      ub = lax.add(ub, stirlingTail(lax.sub(count, m), shape))
      ub = lax.sub(ub, stirlingTail(k, shape))
      ub = lax.sub(ub, stirlingTail(lax.sub(count, k), shape))
      const accept = lax.bitwiseOr(accept1, lax.bitwiseAnd(lax.not(reject), lax.le(v, ub)))
      return [lax.select(accept, k, kOut), lax.bitwiseOr(accepted, accept), keyAt(ks, 0)] as const
    },
    [
      lax.broadcastInDim(fromScalar(-1, "float32"), shape, []),
      lax.broadcastInDim(fromScalar(false, "bool"), shape, []),
      key
    ] as S
  )
  return kOut
}

const floatParam = (op: string, what: string, v: number | Array): Array => {
  if (typeof v === "number") return fromScalar(v, "float32")
  if (isArray(v) && v.dtype !== "key<fry>") return lax.convertElementType(v, "float32")
  throw new DTypeError({
    op,
    dtypes: [isArray(v) ? v.dtype : typeof v],
    reason: `${what} must be a number or a numeric Array`
  })
}

/**
 * Binomial samples: the number of successes in `n` trials of probability `p`, as float32 counts,
 * like `jax.random.binomial`. Without a shape, the broadcast shape of `n` and `p`. As in JAX, a NaN or
 * negative `n`, or a `p` outside [0, 1], gives NaN, and an infinite `n` gives infinity.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.binomial(random.key(0), 10, 0.3, [4]).shape // [4]; whole numbers in [0, 10]
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const binomial = (key: Array, n: number | Array, p: number | Array, shape?: ShapeLike): Array => {
  const op = "random.binomial"
  const k = checkKey(op, key)
  const n0 = floatParam(op, "n", n)
  const p0 = floatParam(op, "p", p)
  const s = shape === undefined ? broadcastShapes(op, [n0.shape, p0.shape]) : canonicalShape(op, shape)
  checkParamShapes(op, s, [n0.shape, p0.shape])
  const bc = (x: Array): Array =>
    lax.broadcastInDim(
      x,
      s,
      x.shape.map((_, i) => s.length - x.ndim + i)
    )
  const c = (v: number): Array => filled(v, "float32", s)
  let count = bc(n0)
  const prob = bc(p0)
  const pLtHalf = lax.lt(prob, c(0.5))
  let q = lax.select(pLtHalf, prob, lax.sub(c(1), prob))
  const countBad = lax.bitwiseOr(lax.ne(count, count), lax.lt(count, c(0)))
  const countInf = lax.eq(lax.abs(count), c(Infinity))
  const qNan = lax.ne(q, q)
  const qNeg = lax.lt(q, c(0))
  q = lax.select(lax.bitwiseOr(qNan, qNeg), c(0.01), q)
  const useInversion = lax.bitwiseOr(countBad, lax.le(lax.mul(count, q), c(10)))
  count = lax.floor(count)
  const countInv = lax.select(useInversion, count, c(0))
  const countBtrs = lax.select(useInversion, c(1e4), count)
  const qBtrs = lax.select(useInversion, c(0.5), q)
  let samples = lax.select(useInversion, inversion(k, countInv, q, s), btrs(k, countBtrs, qBtrs, s))
  const invalid = lax.bitwiseOr(lax.bitwiseOr(qNeg, qNan), countBad)
  samples = lax.select(invalid, c(Number.NaN), samples)
  samples = lax.select(lax.bitwiseAnd(countInf, lax.not(invalid)), c(Infinity), samples)
  const keep = lax.bitwiseOr(lax.bitwiseOr(lax.bitwiseOr(pLtHalf, countBad), qNan), countInf)
  return lax.select(keep, samples, lax.sub(count, samples))
}
