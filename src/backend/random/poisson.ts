/**
 * `random.poisson`, as JAX draws it: Knuth's multiplication method for rates below 10 (count uniforms
 * until their product falls below `exp(-lam)`), Hörmann's transformed rejection (PTRS) for the rest.
 * Both run as one `whileLoop` over the whole array, splitting the key once per round, and JAX runs both
 * from the same key, keeping each element's result from the method its rate selects; so does this.
 * Integer results equal JAX's except where a rejection test lands within float32 rounding of its
 * boundary (`lgamma` here is a Lanczos approximation of our own, not XLA's).
 *
 * @since 0.1.0
 */
import type { Array } from "../Array.ts"
import { isArray } from "../Array.ts"
import { ArgumentError, DTypeError } from "../ArrayError.ts"
import * as lax from "../lax.ts"
import { fromScalar } from "../numpy/creation.ts"
import { whileLoop } from "../../transforms/core/controlFlow.ts"
import { uniform } from "./distributions.ts"
import { checkKey, split } from "./keys.ts"
import type { ShapeLike } from "./shapes.ts"
import { canonicalShape, checkParamShapes, filled } from "./shapes.ts"

const keyAt = (keys: Array, i: number): Array => lax.reshape(lax.slice(keys, [i], [i + 1]), [])

/** Lanczos (g = 7, 9 terms) `log Γ(x)` for `x ≥ 1`, in float32; the only arguments here are `k + 1`, `k ≥ 0`. */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7
]
const lgammaAtLeastOne = (x: Array, shape: ReadonlyArray<number>): Array => {
  const c = (v: number): Array => filled(v, "float32", shape)
  const z = lax.sub(x, c(1))
  let sum = c(LANCZOS[0]!)
  for (let i = 1; i < LANCZOS.length; i++) sum = lax.add(sum, lax.div(c(LANCZOS[i]!), lax.add(z, c(i))))
  const t = lax.add(z, c(7.5))
  // log Γ(x) = ½ log 2π + (z + ½) log t - t + log(sum)
  return lax.add(
    lax.add(c(0.5 * Math.log(2 * Math.PI)), lax.sub(lax.mul(lax.add(z, c(0.5)), lax.log(t)), t)),
    lax.log(sum)
  )
}

const knuth = (key: Array, lam: Array, shape: ReadonlyArray<number>): Array => {
  type S = readonly [Array, Array, Array]
  const negLam = lax.neg(lam)
  const [k] = whileLoop(
    ([, , logProd]: S) =>
      lax.reduceOr(
        lax.gt(logProd, negLam),
        shape.map((_, i) => i)
      ),
    ([k, rng, logProd]: S): S => {
      const ks = split(rng, 2)
      const next = lax.select(lax.gt(logProd, negLam), lax.add(k, filled(1, "int32", shape)), k)
      const u = uniform(keyAt(ks, 1), shape)
      return [next, keyAt(ks, 0), lax.add(logProd, lax.log(u))] as const
    },
    [
      lax.broadcastInDim(fromScalar(0, "int32"), shape, []),
      key,
      lax.broadcastInDim(fromScalar(0, "float32"), shape, [])
    ] as S
  )
  return lax.sub(k, filled(1, "int32", shape))
}

const rejection = (key: Array, lam: Array, shape: ReadonlyArray<number>): Array => {
  const c = (v: number): Array => filled(v, "float32", shape)
  const logLam = lax.log(lam)
  const b = lax.add(c(0.931), lax.mul(c(2.53), lax.sqrt(lam)))
  const a = lax.add(c(-0.059), lax.mul(c(0.02483), b))
  const invAlpha = lax.add(c(1.1239), lax.div(c(1.1328), lax.sub(b, c(3.4))))
  const vr = lax.sub(c(0.9277), lax.div(c(3.6224), lax.sub(b, c(2))))
  type S = readonly [Array, Array, Array]
  const [kOut] = whileLoop(
    ([, accepted]: S) =>
      lax.reduceOr(
        lax.not(accepted),
        shape.map((_, i) => i)
      ),
    ([kOut, accepted, rng]: S): S => {
      const ks = split(rng, 3)
      const u = lax.sub(uniform(keyAt(ks, 1), shape), c(0.5))
      const v = uniform(keyAt(ks, 2), shape)
      const us = lax.sub(c(0.5), lax.abs(u))
      const k = lax.floor(lax.add(lax.add(lax.mul(lax.add(lax.div(lax.mul(c(2), a), us), b), u), lam), c(0.43)))
      const s = lax.log(lax.div(lax.mul(v, invAlpha), lax.add(lax.div(a, lax.mul(us, us)), b)))
      const kk = lax.max(k, c(0))
      const t = lax.sub(lax.add(lax.neg(lam), lax.mul(k, logLam)), lgammaAtLeastOne(lax.add(kk, c(1)), shape))
      const accept1 = lax.bitwiseAnd(lax.ge(us, c(0.07)), lax.le(v, vr))
      const reject = lax.bitwiseOr(lax.lt(k, c(0)), lax.bitwiseAnd(lax.lt(us, c(0.013)), lax.gt(v, us)))
      const accept = lax.bitwiseOr(accept1, lax.bitwiseAnd(lax.not(reject), lax.le(s, t)))
      return [lax.select(accept, k, kOut), lax.bitwiseOr(accepted, accept), keyAt(ks, 0)] as const
    },
    [
      lax.broadcastInDim(fromScalar(-1, "float32"), shape, []),
      lax.broadcastInDim(fromScalar(false, "bool"), shape, []),
      key
    ] as S
  )
  return lax.convertElementType(kOut, "int32")
}

/**
 * Poisson samples with rate `lam` (int32), like `jax.random.poisson`. Without a shape, the result has
 * the shape of `lam`. A rate of 0 gives 0.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.poisson(random.key(0), 3, [4]).dtype // "int32"
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const poisson = (key: Array, lam: number | Array, shape?: ShapeLike): Array => {
  const op = "random.poisson"
  const k = checkKey(op, key)
  let l: Array
  if (typeof lam === "number") {
    if (!(lam >= 0)) throw new ArgumentError({ op, reason: `lam must be non-negative, got ${lam}` })
    l = fromScalar(lam, "float32")
  } else if (isArray(lam) && lam.dtype !== "key<fry>") l = lax.convertElementType(lam, "float32")
  else
    throw new DTypeError({
      op,
      dtypes: [isArray(lam) ? lam.dtype : typeof lam],
      reason: "lam must be a number or a numeric Array"
    })
  const s = shape === undefined ? l.shape : canonicalShape(op, shape)
  checkParamShapes(op, s, [l.shape])
  const lb = lax.broadcastInDim(
    l,
    s,
    l.shape.map((_, i) => s.length - l.ndim + i)
  )
  const useKnuth = lax.bitwiseOr(lax.ne(lb, lb), lax.lt(lb, filled(10, "float32", s)))
  const lamKnuth = lax.select(useKnuth, lb, filled(0, "float32", s))
  const lamRejection = lax.select(useKnuth, filled(1e5, "float32", s), lb)
  const out = lax.select(useKnuth, knuth(k, lamKnuth, s), rejection(k, lamRejection, s))
  return lax.select(lax.eq(lb, filled(0, "float32", s)), filled(0, "int32", s), out)
}
