/**
 * The backend array operations use right now. Array operations are synchronous, so the backend in
 * force is dynamically scoped: {@link withBackend} sets it for a synchronous block, and the Effect
 * `Backend` service sets it for the extent of a computation (`Backend.run`). Until something sets
 * it, it is the process-wide default: the wasm backend. It is one slot of the transform context
 * (`transformContext.ts`).
 *
 * @since 0.2.0
 */
import type { BackendImpl } from "./BackendImpl.ts"
import { current, withContext } from "./transformContext.ts"
import { defaultBackend } from "./wasm/default.ts"

/**
 * The backend array operations use right now.
 * @category accessors
 * @since 0.1.0
 */
export const currentBackend = (): BackendImpl => current().backend ?? defaultBackend()

/**
 * Runs a synchronous block with `backend` as the current backend, restoring the previous one after.
 * @category combinators
 * @since 0.1.0
 */
export const withBackend = <A>(backend: BackendImpl, f: () => A): A => withContext({ backend }, f)
