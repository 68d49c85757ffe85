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

const basis = (x: JArray): JArray =>
  bind1("reshape", [eye(x.size, x.size, { dtype: "float32" })], { newSizes: [x.size, ...x.shape] })

const checkArg = (transform: string, args: ReadonlyArray<unknown>, argnum: number): JArray => {
  const x = args[argnum]
  if (typeof x !== "object" || x === null || !("aval" in x)) throw new GradError({ transform, reason: `argument ${argnum} must be an Array` })
  const arr = x as JArray
  if (arr.dtype !== "float32") throw new GradError({ transform, reason: `argument ${argnum} has dtype ${arr.dtype}; differentiate with respect to float32 Arrays` })
  return arr
}

/**
 * The Jacobian of `f` with respect to argument `argnum`, by reverse mode: shape
 * `[...out.shape, ...x.shape]`.
 * @category transforms
 * @since 0.1.0
 */
export const jacrev = <Args extends ReadonlyArray<unknown>>(f: (...args: Args) => JArray, options?: { readonly argnums?: number }) => {
  checkOptionKeys("jacrev", options, ["argnums"])
  return (...args: Args): JArray => {
    const argnum = options?.argnums ?? 0
    const x = checkArg("jacrev", args, argnum)
    const g = (xi: JArray): JArray => {
      const full = args.slice()
      full[argnum] = xi
      return f(...(full as unknown as Args))
    }
    const [out, back] = vjp(g, x)
    const rows = vmap((ct: JArray) => back(ct)[0])(basis(out))
    return bind1("reshape", [rows], { newSizes: [...out.shape, ...x.shape] })
  }
}

/**
 * The Jacobian of `f` with respect to argument `argnum`, by forward mode: shape
 * `[...out.shape, ...x.shape]`.
 * @category transforms
 * @since 0.1.0
 */
export const jacfwd = <Args extends ReadonlyArray<unknown>>(f: (...args: Args) => JArray, options?: { readonly argnums?: number }) => {
  checkOptionKeys("jacfwd", options, ["argnums"])
  return (...args: Args): JArray => {
    const argnum = options?.argnums ?? 0
    const x = checkArg("jacfwd", args, argnum)
    const g = (xi: JArray): JArray => {
      const full = args.slice()
      full[argnum] = xi
      return f(...(full as unknown as Args))
    }
    const cols = vmap((t: JArray) => jvp(g, [x], [t])[1])(basis(x))
    const outNd = cols.ndim - 1
    const perm = [...Array.from({ length: outNd }, (_, i) => i + 1), 0]
    const moved = bind1("transpose", [cols], { permutation: perm })
    return bind1("reshape", [moved], { newSizes: [...cols.shape.slice(1), ...x.shape] })
  }
}

/**
 * The Hessian of a scalar `f`: `jacfwd(jacrev(f))`.
 * @category transforms
 * @since 0.1.0
 */
export const hessian = <Args extends ReadonlyArray<unknown>>(f: (...args: Args) => JArray, options?: { readonly argnums?: number }) =>
  jacfwd(jacrev(f, options), options)
