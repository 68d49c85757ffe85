/**
 * Custom derivatives, rematerialisation and shape evaluation: `customJvp`, `customVjp`,
 * `checkpoint` (`remat`), `stopGradient`, `evalShape`.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { isArray } from "../../backend/Array.ts"
import { bind, bind1 } from "../../backend/bind.ts"
import { DTypeError, ShapeError } from "../../backend/ArrayError.ts"
import type { DType } from "../../backend/DType.ts"
import { isDType } from "../../backend/DType.ts"
import { isValidShape } from "../../backend/shape.ts"
import { asArray } from "../../backend/numpy/creation.ts"
import { outAvalsOf } from "./jaxprTransforms.ts"
import { flatten, treeMap, unflatten } from "./pytree.ts"
import type { TreeDef } from "./pytree.ts"
import { closeOverConsts, stage } from "./staging.ts"
import { StructureError } from "./TransformError.ts"

const leavesOf = (transform: string, tree: unknown): readonly [Array<JArray>, TreeDef] => {
  const [leaves, def] = flatten(tree)
  return [
    leaves.map((l, i) => {
      if (isArray(l)) return l
      if (typeof l === "number" || typeof l === "boolean") return asArray(l)
      throw new StructureError({ transform, reason: `argument leaf ${i} is ${typeof l}, not an Array` })
    }),
    def
  ]
}

/**
 * A function with a hand-written JVP, like `jax.custom_jvp`. `jvp(primals, tangents)` returns
 * `[primalOut, tangentOut]`; reverse mode transposes it, so `grad` works too.
 *
 * @example
 * ```ts
 * import { customJvp, grad, jnp, nn } from "effect-nnx"
 *
 * // log(1 + exp(x)) with a stable derivative
 * const softplus = customJvp(
 *   (x: jnp.Array) => jnp.log1p(jnp.exp(x)),
 *   ([x], [t]) => [jnp.log1p(jnp.exp(x)), t.mul(nn.sigmoid(x))]
 * )
 * grad((x: jnp.Array) => softplus(x))(jnp.zeros([])).item() // 0.5
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const customJvp =
  <Args extends ReadonlyArray<unknown>, R>(
    fun: (...args: Args) => R,
    jvpFn: (primals: Args, tangents: Args) => readonly [R, R]
  ) =>
  (...args: Args): R => {
    const [leaves, def] = leavesOf("customJvp", args)
    const staged = stage(
      "customJvp",
      (xs) => fun(...(unflatten(def, xs) as Args)),
      leaves.map((l) => l.aval)
    )
    const jvp = (
      primals: ReadonlyArray<JArray>,
      tangents: ReadonlyArray<JArray>
    ): readonly [Array<JArray>, Array<JArray>] => {
      const [out, tout] = jvpFn(unflatten(def, primals) as Args, unflatten(def, tangents) as Args)
      return [leavesOf("customJvp", out)[0], leavesOf("customJvp", tout)[0]]
    }
    const outs = bind("custom_jvp_call", leaves, { call: staged.closed, jvp, symbolicZeros: false })
    return unflatten(staged.outDef, outs) as R
  }

/**
 * A function with a hand-written VJP, like `jax.custom_vjp`: `fwd(...args)` returns
 * `[output, residuals]` and `bwd(residuals, cotangent)` the cotangents of the arguments (a tuple
 * matching them).
 * @category transforms
 * @since 0.1.0
 */
export const customVjp =
  <Args extends ReadonlyArray<unknown>, R, Res>(
    fun: (...args: Args) => R,
    fwd: (...args: Args) => readonly [R, Res],
    bwd: (residuals: Res, cotangent: R) => Readonly<Args>
  ) =>
  (...args: Args): R => {
    const [leaves, def] = leavesOf("customVjp", args)
    const staged = stage(
      "customVjp",
      (xs) => fun(...(unflatten(def, xs) as Args)),
      leaves.map((l) => l.aval)
    )
    let resDef: TreeDef | undefined
    const outs = bind("custom_vjp_call", leaves, {
      call: staged.closed,
      fwd: (primals) => {
        const [out, res] = fwd(...(unflatten(def, primals) as Args))
        const [resLeaves, rd] = leavesOf("customVjp", res)
        resDef = rd
        return [leavesOf("customVjp", out)[0], resLeaves]
      },
      bwd: (residuals, cts) => {
        const grads = bwd(unflatten(resDef!, residuals) as Res, unflatten(staged.outDef, cts) as R)
        const [g] = leavesOf("customVjp", grads)
        if (g.length !== leaves.length) {
          throw new StructureError({
            transform: "customVjp",
            reason: `bwd returned ${g.length} cotangent leaves for ${leaves.length} argument leaves; return one cotangent per argument`
          })
        }
        return g
      }
    })
    return unflatten(staged.outDef, outs) as R
  }

/**
 * `jax.checkpoint` (`remat`): reverse mode stores only `f`'s inputs and recomputes its
 * intermediates during the backward pass, trading compute for memory.
 * @category transforms
 * @since 0.1.0
 */
export const checkpoint =
  <Args extends ReadonlyArray<unknown>, R>(f: (...args: Args) => R) =>
  (...args: Args): R => {
    const [leaves, def] = leavesOf("checkpoint", args)
    const staged = stage(
      "checkpoint",
      (xs) => f(...(unflatten(def, xs) as Args)),
      leaves.map((l) => l.aval)
    )
    const [jaxpr, consts] = closeOverConsts(staged.closed)
    return unflatten(staged.outDef, bind("checkpoint", [...consts, ...leaves], { jaxpr })) as R
  }

/** Alias of {@link checkpoint}. */
export const remat = checkpoint

/**
 * Stops gradients: the identity, whose derivative is zero (`jax.lax.stop_gradient`).
 * @category transforms
 * @since 0.1.0
 */
export const stopGradient = <T>(x: T): T =>
  treeMap((leaf) => (isArray(leaf) ? bind1("stop_gradient", [leaf], {}) : leaf), x) as T

/** Shape and dtype of an array, as `jax.ShapeDtypeStruct`. */
export interface ShapeDtypeStruct {
  readonly shape: ReadonlyArray<number>
  readonly dtype: DType
}

type Decrement = [0, 0, 1, 2, 3, 4]

/**
 * A value with each Array replaced by its `{ shape, dtype }` (`jax.ShapeDtypeStruct`): what
 * {@link evalShape} returns for an output of type `T`. Lists and records are mapped (to depth 5);
 * other leaves (numbers, strings, class instances) come back as they are.
 */
export type Abstract<T, D extends number = 5> = T extends JArray
  ? ShapeDtypeStruct
  : D extends 0
    ? T
    : T extends ReadonlyArray<unknown>
      ? { -readonly [K in keyof T]: Abstract<T[K], Decrement[D]> }
      : T extends (...args: never) => unknown
        ? T
        : T extends object
          ? { -readonly [K in keyof T]: Abstract<T[K], Decrement[D]> }
          : T

/** Arguments where an Array may be given as its `{ shape, dtype }` alone. */
export type AbstractArgs<Args extends ReadonlyArray<unknown>> = {
  readonly [K in keyof Args]: Args[K] extends JArray ? Args[K] | ShapeDtypeStruct : Args[K]
}

/**
 * The shapes and dtypes `f` would return, without computing anything (`jax.eval_shape`). An Array
 * argument may be given as `{ shape, dtype }` (JAX's ShapeDtypeStruct), so no data is needed. The
 * result is typed as `f`'s output with each Array a {@link ShapeDtypeStruct} ({@link Abstract}).
 *
 * @example
 * ```ts
 * import { evalShape, jnp } from "effect-nnx"
 *
 * evalShape((a: jnp.Array, b: jnp.Array) => a.matmul(b), { shape: [2, 3], dtype: "float32" }, { shape: [3, 4], dtype: "float32" })
 * // { shape: [2, 4], dtype: "float32" }
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const evalShape = <Args extends ReadonlyArray<unknown>, R>(
  f: (...args: Args) => R,
  ...args: AbstractArgs<Args>
): Abstract<R> => {
  // A `{ shape, dtype }` argument stands for an array of that type (jax.ShapeDtypeStruct), so it is
  // one leaf rather than a record of a list and a string.
  const [leaves, def] = flatten(args, isShapeDtype)
  const arrays = leaves.map((l) => (isArray(l) ? l : isShapeDtype(l) ? checkShapeDtype(l) : asArray(l as number)))
  const staged = stage(
    "evalShape",
    (xs) => f(...(unflatten(def, xs) as Args)),
    arrays.map((a) => ({ shape: a.shape, dtype: a.dtype, weakType: isArray(a) ? a.weakType : false }))
  )
  const avals = outAvalsOf(staged.closed)
  let a = 0
  let s = 0
  return unflatten(
    staged.outDef,
    staged.isArrayOut.map((isArr) => {
      if (!isArr) return staged.staticOut[s++]
      const av = avals[a++]!
      return { shape: av.shape, dtype: av.dtype } satisfies ShapeDtypeStruct
    })
  ) as Abstract<R>
}

const isShapeDtype = (u: unknown): u is ShapeDtypeStruct =>
  typeof u === "object" && u !== null && "shape" in u && "dtype" in u && !isArray(u)

const checkShapeDtype = (s: ShapeDtypeStruct): ShapeDtypeStruct => {
  if (!isValidShape(s.shape))
    throw new ShapeError({
      op: "evalShape",
      shapes: [s.shape],
      reason: "a { shape, dtype } argument needs a shape of non-negative integers"
    })
  if (!isDType(s.dtype))
    throw new DTypeError({
      op: "evalShape",
      dtypes: [String(s.dtype)],
      reason: "a { shape, dtype } argument needs one of float32, int32, uint32, bool, complex64, key<fry>"
    })
  return s
}
