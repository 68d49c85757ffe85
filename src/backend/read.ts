/**
 * Reading array values as Effects: the asynchronous forms that work on every backend, including
 * webgpu, whose values come back from the device only asynchronously.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { isArray } from "./Array.ts"
import type { Array as JArray, NestedList } from "./Array.ts"
import { isArrayError } from "./ArrayError.ts"
import type { ArrayError } from "./ArrayError.ts"
import type { HostArray } from "./DType.ts"
import { GpuDeviceLostError, GpuKernelError } from "./gpujs/GpujsError.ts"

/**
 * Why reading a value failed: an array error (a disposed or traced array, a key array's list form),
 * a kernel whose operation failed on the device, or a lost device.
 * @category models
 * @since 0.2.0
 */
export type ReadError = ArrayError | GpuKernelError | GpuDeviceLostError

const isReadError = (e: unknown): e is ReadError =>
  isArrayError(e) || e instanceof GpuKernelError || e instanceof GpuDeviceLostError

const attempt = <A>(f: () => Promise<A>): Effect.Effect<A, ReadError> =>
  Effect.tryPromise({ try: f, catch: (e) => e }).pipe(
    Effect.catchIf(isReadError, Effect.fail, (e) => Effect.die(e))
  ) as Effect.Effect<A, ReadError>

/**
 * The elements' host storage once every operation producing them has run (`x.data()` as an
 * Effect): suspends until the device is done on webgpu.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backend, jnp } from "effect-nnx"
 *
 * Effect.runPromise(Backend.data(jnp.arange(3))) // Int32Array [0, 1, 2]
 * ```
 * @category reading
 * @since 0.2.0
 */
export const data = (x: JArray): Effect.Effect<HostArray, ReadError> => attempt(() => x.data())

/**
 * The elements as nested JavaScript arrays (`x.tolist()`), read asynchronously.
 * @category reading
 * @since 0.2.0
 */
export const tolist = (x: JArray): Effect.Effect<NestedList, ReadError> =>
  attempt(async () => (await x.blockUntilReady()).tolist())

/**
 * The first element as a number (or boolean), read asynchronously (`x.item()`).
 * @category reading
 * @since 0.2.0
 */
export const item = (x: JArray): Effect.Effect<ReturnType<JArray["item"]>, ReadError> =>
  attempt(async () => (await x.blockUntilReady()).item())

/**
 * Waits until every array in `value` (an array, or arrays inside arrays and plain objects: a
 * result tree) is computed and readable synchronously, and returns `value`: JAX's
 * `block_until_ready`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backend, jnp } from "effect-nnx"
 *
 * const program = Effect.gen(function* () {
 *   const { loss } = yield* Backend.blockUntilReady({ loss: jnp.array(0.5) })
 *   return loss.item() // synchronous reads work now, on every backend
 * })
 * ```
 * @category reading
 * @since 0.2.0
 */
export const blockUntilReady = <A>(value: A): Effect.Effect<A, ReadError> =>
  attempt(async () => {
    const arrays: Array<JArray> = []
    collect(value, arrays, new Set())
    for (const a of arrays) if (a.isConcrete && !a.isDisposed) await a.data()
    return value
  })

const collect = (value: unknown, out: Array<JArray>, seen: Set<unknown>): void => {
  if (isArray(value)) {
    out.push(value)
    return
  }
  if (typeof value !== "object" || value === null || seen.has(value)) return
  seen.add(value)
  if (Array.isArray(value)) for (const v of value) collect(v, out, seen)
  else if (Object.getPrototypeOf(value) === Object.prototype)
    for (const v of Object.values(value)) collect(v, out, seen)
}
