/**
 * A staged program ready to call: through its compiled plan when the call is concrete, through
 * `bind` otherwise.
 *
 * A call is concrete when every argument and every constant is a concrete array; `bind` would then
 * evaluate every equation with the current backend anyway, so running the plan computes the same
 * values without re-deciding anything per equation. Under an enclosing transform (`vmap(jit(f))`,
 * `grad(jit(f))`) some argument is a tracer, and the program is evaluated through `bind` so that the
 * transform sees every primitive.
 *
 * Plans are compiled lazily, once per backend (constant folding and fusion depend on it), and
 * cached weakly by backend object.
 *
 * @since 0.2.0
 */
import type { Array as JArray } from "../../../backend/Array.ts"
import type { BackendImpl } from "../../../backend/BackendImpl.ts"
import { currentBackend } from "../../../backend/current.ts"
import { bind } from "../../../backend/bind.ts"
import type { ClosedJaxpr } from "../../../backend/Jaxpr.ts"
import { evalJaxpr } from "../../../backend/Jaxpr.ts"
import { compilePlan } from "./plan.ts"
import type { Plan } from "./plan.ts"

/** A callable staged program. */
export interface Executable {
  readonly closed: ClosedJaxpr
  /** Runs the program on its flat arguments. */
  readonly call: (args: ReadonlyArray<JArray>) => Array<JArray>
  /** The plan for the current backend, compiled if needed. */
  readonly plan: () => Plan
}

/**
 * Makes a staged program callable with compiled plans.
 * @category compilation
 * @since 0.2.0
 */
export const makeExecutable = (closed: ClosedJaxpr): Executable => {
  const plans = new WeakMap<BackendImpl, Plan>()
  const constsConcrete = closed.consts.every((c) => c.isConcrete)
  const plan = (): Plan => {
    const backend = currentBackend()
    let p = plans.get(backend)
    if (p === undefined) {
      p = compilePlan(closed, backend)
      plans.set(backend, p)
    }
    return p
  }
  const call = (args: ReadonlyArray<JArray>): Array<JArray> =>
    constsConcrete && args.every((a) => a.isConcrete) ? plan().run(args) : evalJaxpr(closed, args, bind)
  return { closed, call, plan }
}
