/**
 * Jacobians and Hessians: `jacfwd` (forward mode, a JVP per input direction), `jacrev` (reverse
 * mode, a VJP per output direction), `hessian`; the directions are batched with `vmap`, not looped.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { checkOptionKeys } from "../../backend/numpy/options.ts"
import { bind1 } from "../../backend/bind.ts"
import { eye } from "../../backend/numpy/creation.ts"
import { vmap } from "./batching.ts"
import { jvp } from "./jvp.ts"
import { vjp } from "./reverse.ts"
import { GradError } from "./TransformError.ts"
import { normalizeArgnums } from "./argnums.ts"
import type { ArgIndex, At } from "./argnums.ts"

/** Options of {@link jacfwd}, {@link jacrev} and {@link hessian}. */
export interface JacobianOptions<A extends number = number> {
  /** The argument to differentiate (default 0; negative counts from the end): an Array. */
  readonly argnums?: A | undefined
}

/**
 * What the Jacobians require of `f`: the differentiated argument is an Array. `unknown` when it
 * is (or when its type is not known), otherwise a record whose key says what is wrong.
 */
export type JacobianRequirements<Args extends ReadonlyArray<unknown>, A> = 0 extends 1 & At<Args, A>
  ? unknown
  : unknown extends At<Args, A>
    ? unknown
    : [At<Args, A>] extends [JArray]
      ? unknown
      : { readonly "jacobians differentiate an Array argument, not": At<Args, A> }

const basis = (x: JArray): JArray =>
  bind1("reshape", [eye(x.size, x.size, { dtype: "float32" })], { newSizes: [x.size, ...x.shape] })

const checkArg = (transform: string, args: ReadonlyArray<unknown>, argnum: number): JArray => {
  const x = args[argnum]
  if (typeof x !== "object" || x === null || !("aval" in x))
    throw new GradError({
      transform,
      reason: `argument ${argnum} must be an Array, got ${x === null ? "null" : typeof x}`
    })
  const arr = x as JArray
  if (arr.dtype !== "float32")
    throw new GradError({
      transform,
      reason: `argument ${argnum} has dtype ${arr.dtype}; differentiate with respect to float32 Arrays`
    })
  return arr
}

type Jac = (
  f: (...args: ReadonlyArray<unknown>) => JArray,
  options: JacobianOptions | undefined
) => (...args: ReadonlyArray<unknown>) => JArray

const checkOptions = (transform: string, options: JacobianOptions | undefined): void => {
  checkOptionKeys(transform, options, ["argnums"])
  if (options?.argnums !== undefined && !Number.isInteger(options.argnums)) {
    throw new GradError({
      transform,
      reason: `argnums is one argument position (an integer), got ${String(options.argnums)}`
    })
  }
}

/** `f` as a function of argument `argnum` alone, the others held at `args`. */
const partialAt =
  (f: (...args: ReadonlyArray<unknown>) => JArray, args: ReadonlyArray<unknown>, argnum: number) =>
  (xi: JArray): JArray => {
    const full = args.slice()
    full[argnum] = xi
    return f(...full)
  }

const jacrevImpl: Jac = (f, options) => {
  checkOptions("jacrev", options)
  return (...args) => {
    const argnum = normalizeArgnums("jacrev", options?.argnums ?? 0, args.length)[0]!
    const x = checkArg("jacrev", args, argnum)
    const [out, back] = vjp(partialAt(f, args, argnum), x)
    const rows = vmap((ct: JArray) => back(ct)[0])(basis(out))
    return bind1("reshape", [rows], { newSizes: [...out.shape, ...x.shape] })
  }
}

const jacfwdImpl: Jac = (f, options) => {
  checkOptions("jacfwd", options)
  return (...args) => {
    const argnum = normalizeArgnums("jacfwd", options?.argnums ?? 0, args.length)[0]!
    const x = checkArg("jacfwd", args, argnum)
    const g = partialAt(f, args, argnum)
    const cols = vmap((t: JArray) => jvp(g, [x], [t])[1])(basis(x))
    const outNd = cols.ndim - 1
    const perm = [...Array.from({ length: outNd }, (_, i) => i + 1), 0]
    const moved = bind1("transpose", [cols], { permutation: perm })
    return bind1("reshape", [moved], { newSizes: [...cols.shape.slice(1), ...x.shape] })
  }
}

/**
 * The Jacobian of `f` with respect to argument `argnums` (an Array), by reverse mode: shape
 * `[...out.shape, ...x.shape]`. `argnums` must name one of `f`'s parameters, and that parameter
 * must be an Array (a compile error; a `GradError` when the types are bypassed).
 * @category transforms
 * @since 0.1.0
 */
export const jacrev = <Args extends ReadonlyArray<unknown>, const A extends ArgIndex<Args> | 0 = 0>(
  f: ((...args: Args) => JArray) & NoInfer<JacobianRequirements<Args, A>>,
  options?: JacobianOptions<A>
): ((...args: Args) => JArray) => jacrevImpl(f as unknown as (...args: ReadonlyArray<unknown>) => JArray, options)

/**
 * The Jacobian of `f` with respect to argument `argnums` (an Array), by forward mode: shape
 * `[...out.shape, ...x.shape]`. The same checks as {@link jacrev}.
 * @category transforms
 * @since 0.1.0
 */
export const jacfwd = <Args extends ReadonlyArray<unknown>, const A extends ArgIndex<Args> | 0 = 0>(
  f: ((...args: Args) => JArray) & NoInfer<JacobianRequirements<Args, A>>,
  options?: JacobianOptions<A>
): ((...args: Args) => JArray) => jacfwdImpl(f as unknown as (...args: ReadonlyArray<unknown>) => JArray, options)

/**
 * The Hessian of a scalar `f`: `jacfwd(jacrev(f))`.
 * @category transforms
 * @since 0.1.0
 */
export const hessian = <Args extends ReadonlyArray<unknown>, const A extends ArgIndex<Args> | 0 = 0>(
  f: ((...args: Args) => JArray) & NoInfer<JacobianRequirements<Args, A>>,
  options?: JacobianOptions<A>
): ((...args: Args) => JArray) =>
  jacfwdImpl(jacrevImpl(f as unknown as (...args: ReadonlyArray<unknown>) => JArray, options), options)
