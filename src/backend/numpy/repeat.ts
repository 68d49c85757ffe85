/**
 * `jnp.repeat` with a number of repeats or one count per element. Counts held in an Array make the
 * output's length depend on data, so under a transform they need `totalRepeatLength` (as in JAX):
 * the output is cut to it, or padded with the last element.
 */
import { isArray } from "../Array.ts"
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ArgumentError, ConcretizationError, ShapeError } from "../ArrayError.ts"
import { bind1 } from "../bind.ts"
import { normalizeAxis } from "../shape.ts"
import { array, asArray } from "./creation.ts"
import { convertTo } from "./elementwise.ts"
import { take } from "./indexing.ts"
import { checkOptionKeys } from "./options.ts"
import { reshape, repeat as repeatCount } from "./shapeOps.ts"
import { cumsum, sum } from "./reductions.ts"

/** Options of {@link repeat}. */
export interface RepeatOptions {
  /** The output's length along the axis; required for Array counts inside `jit`, `vmap` or `grad`. */
  readonly totalRepeatLength?: number | undefined
}

const countError = (what: string): ArgumentError =>
  new ArgumentError({ op: "repeat", reason: `repeats must be non-negative integers, got ${what}` })

/**
 * Repeats each element `repeats` times along `axis` (flattening when `axis` is omitted); `repeats`
 * may be one count per element along the axis.
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * jnp.repeat(jnp.array([1, 2, 3]), jnp.array([1, 0, 2]))   // [1, 3, 3]
 * ```
 */
export const repeat = (
  x: ArrayLike,
  repeats: number | ArrayLike | ReadonlyArray<number>,
  axis?: number | null,
  options?: RepeatOptions
): JArray => {
  checkOptionKeys("repeat", options, ["totalRepeatLength"])
  let a = asArray(x)
  if (axis === undefined || axis === null) {
    a = reshape(a, [-1])
    axis = 0
  }
  const ax = normalizeAxis("repeat", axis, a.ndim)
  const total = options?.totalRepeatLength
  if (total !== undefined && (!Number.isInteger(total) || total < 0)) {
    throw new ArgumentError({ op: "repeat", reason: `totalRepeatLength must be a non-negative integer, got ${total}` })
  }
  if (typeof repeats === "number") {
    if (!Number.isInteger(repeats) || repeats < 0) throw countError(String(repeats))
    if (total === undefined || total === a.shape[ax]! * repeats) return repeatCount(a, repeats, ax)
  }
  const r = isArray(repeats)
    ? repeats
    : Array.isArray(repeats)
      ? fromList(repeats as ReadonlyArray<number>)
      : asArray(repeats as number)
  if (r.dtype !== "int32" && r.dtype !== "uint32" && r.dtype !== "bool")
    throw countError(`an Array of dtype ${r.dtype}`)
  const n = a.shape[ax]!
  if (r.ndim > 1 || (r.ndim === 1 && r.shape[0] !== n && r.shape[0] !== 1)) {
    throw new ShapeError({
      op: "repeat",
      shapes: [r.shape, a.shape],
      reason: `repeats needs one count per element along axis ${ax} (${n}) or a single count`
    })
  }
  const counts = convertTo(
    r.ndim === 1 && r.shape[0] === n
      ? r
      : bind1("broadcast_in_dim", [reshape(r, [])], { shape: [n], broadcastDimensions: [] }),
    "int32"
  )
  let length = total
  if (length === undefined) {
    if (!counts.isConcrete) {
      throw new ConcretizationError({
        op: "repeat",
        reason: "with repeats held in a traced Array the output length depends on data; pass totalRepeatLength"
      })
    }
    const data = counts.dataSync()
    if (Array.from(data).some((c) => c < 0)) throw countError(`[${Array.from(data).join(", ")}]`)
    length = Number(sum(counts).item())
  }
  // Output position j reads element k, the number of cumulative counts not above j; positions past
  // the sum of counts read the last element (clamped).
  const ends = cumsum(counts)
  const positions = bind1("iota", [], { dtype: "int32", shape: [length, n], dimension: 0 })
  const endsRow = bind1("broadcast_in_dim", [ends], { shape: [length, n], broadcastDimensions: [1] })
  const source = sum(bind1("le", [endsRow, positions], {}), 1)
  return take(a, source, ax, { mode: "clip" })
}

const fromList = (xs: ReadonlyArray<number>): JArray => {
  if (xs.some((v) => !Number.isInteger(v) || v < 0)) throw countError(`[${xs.join(", ")}]`)
  return array(xs as Array<number>, { dtype: "int32" })
}
