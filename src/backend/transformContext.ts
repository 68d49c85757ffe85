/**
 * The one transform context, as JAX's trace context: everything that is dynamically scoped over the
 * synchronous extent of a transform call, in one immutable object.
 *
 * - `trace`: the innermost transform entry, compared by identity (its `level` is its depth);
 * - `capturing`: the trace staging a control-flow function, which receives what that function
 *   computes from closed-over values;
 * - `backend`: the backend array operations use (the default backend where `undefined`);
 * - `mesh`: the mesh `shardMap` uses when none is given (typed by `transforms/lifted/mesh.ts`);
 * - `services`: the Effect services of the current lifted call, for Effects returned by its `f`;
 * - `transform`: the name of the innermost lifted transform being called;
 * - `jitTrace`: the name of the jit whose function is being traced;
 * - `namedAxes`: the running `vmap`s that name their axis, innermost last (for collectives).
 *
 * {@link withContext} installs a patched copy for the synchronous extent of a function and restores
 * the previous context after it, however it exits. Tracing is synchronous, so no other fiber runs
 * inside that extent; a lifted transform's Effect installs its own services and backend when it
 * runs, so fibers that interleave between calls each see their own. Reading the context is one
 * module-level variable read; `bind` reads it only when a tracer is among an operation's inputs.
 *
 * This module sits low in the import graph: it imports types only.
 *
 * @since 0.2.0
 */
import type { Context } from "effect"
import type { Array as JArray } from "./Array.ts"
import type { BackendImpl } from "./BackendImpl.ts"
import type { Params, Primitive } from "./Primitive.ts"

/**
 * A trace interprets primitives applied to its own tracers. Transforms push traces; a higher level
 * is a more deeply nested transform.
 * @category models
 * @since 0.2.0
 */
export interface Trace {
  readonly level: number
  /** False once the transform that made this trace has returned: its tracers have escaped. */
  readonly alive: boolean
  /** What the transform is, for error messages ("vmap", "jvp", "grad", "jit"). */
  readonly name: string
  readonly process: <P extends Primitive>(prim: P, inputs: ReadonlyArray<JArray>, params: Params<P>) => Array<JArray>
}

/**
 * One entry into a transform: its depth and, by its identity, which entry it is. Two transforms at
 * the same depth (one after the other) have equal levels but different identities, as JAX's trace
 * objects do, so an object made inside the first is still foreign inside the second.
 * @category models
 * @since 0.2.0
 */
export interface TraceContext {
  readonly level: number
}

/**
 * The dynamically scoped state of the current transform call.
 * @category models
 * @since 0.2.0
 */
export interface TransformContext {
  /** The innermost transform entry (the root entry, level 0, outside every transform). */
  readonly trace: TraceContext
  /** The trace staging a control-flow function, if any. */
  readonly capturing: Trace | undefined
  /** The backend array operations use; the default backend where `undefined`. */
  readonly backend: BackendImpl | undefined
  /** The current mesh, if any (a `Mesh`: `currentMesh` in `transforms/lifted/mesh.ts` types it). */
  readonly mesh: unknown
  /** The Effect services of the current lifted call, if it was called as an Effect. */
  readonly services: Context.Context<never> | undefined
  /** The name of the innermost lifted transform being called. */
  readonly transform: string | undefined
  /** The name of the jit (`"jit"`, `"nnx.jit"`) whose function is being traced. */
  readonly jitTrace: string | undefined
  /**
   * The traces of the running `vmap`s that name their axis, innermost last (`BatchTrace`s:
   * `namedAxes` in `transforms/core/batching.ts` types them). A stack rather than a walk of the
   * trace levels: a collective of a value that does not depend on the mapped inputs has no tracer
   * to lead it to the `vmap` that bound its axis name.
   */
  readonly namedAxes: ReadonlyArray<Trace>
}

/**
 * The trace entry outside every transform.
 * @category constants
 * @since 0.2.0
 */
export const rootTrace: TraceContext = Object.freeze({ level: 0 })

/**
 * The context outside every transform and scope.
 * @category constants
 * @since 0.2.0
 */
export const root: TransformContext = Object.freeze({
  trace: rootTrace,
  capturing: undefined,
  backend: undefined,
  mesh: undefined,
  services: undefined,
  transform: undefined,
  jitTrace: undefined,
  namedAxes: Object.freeze([])
})

let context: TransformContext = root

/**
 * The context in force now.
 * @category accessors
 * @since 0.2.0
 */
export const current = (): TransformContext => context

/**
 * Runs `f` with `{ ...current(), ...patch }` as the context, restoring the previous one after it
 * (when it returns or throws).
 * @category combinators
 * @since 0.2.0
 */
export const withContext = <A>(patch: Partial<TransformContext>, f: () => A): A => {
  const previous = context
  context = { ...previous, ...patch }
  try {
    return f()
  } finally {
    context = previous
  }
}
