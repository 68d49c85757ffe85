/**
 * The trace stack shared by every core transform. As in JAX, each transform invocation makes a
 * trace one level above the innermost live one; `bind` hands each primitive to the highest-level
 * trace among its inputs' tracers, and a trace treats values of lower traces (or concrete arrays)
 * as constants it does not transform.
 */
import { Array as JArray } from "../../backend/Array.ts"
import type { TracerPayload } from "../../backend/Array.ts"
import type { Trace } from "../../backend/bind.ts"
import { withNewTraceLevel } from "../../backend/bind.ts"
import type { Aval } from "../../backend/DType.ts"
import type { Params, Primitive } from "../../backend/Primitive.ts"

/** Base class of the transforms' traces. */
export abstract class CoreTrace<Payload extends TracerPayload> implements Trace {
  alive = true
  constructor(
    readonly level: number,
    readonly name: string
  ) {}

  abstract process<P extends Primitive>(prim: P, inputs: ReadonlyArray<JArray>, params: Params<P>): Array<JArray>

  /** Whether `x` is a tracer of this trace. */
  owns(x: JArray): boolean {
    return x.tracer !== undefined && x.tracer.trace === this
  }

  /** This trace's data about one of its tracers. */
  payload(x: JArray): Payload {
    return x.tracer as Payload
  }

  /** A new tracer of this trace. */
  tracer(aval: Aval, payload: Omit<Payload, "trace">): JArray {
    return JArray.traced(aval, { ...payload, trace: this } as unknown as Payload)
  }
}

/**
 * Runs `f` with a new trace one level deeper; the trace dies when `f` returns, so that a tracer
 * escaping it is detected when used.
 */
export const runWithTrace = <T extends CoreTrace<TracerPayload>, A>(
  make: (level: number) => T,
  f: (trace: T) => A
): A =>
  withNewTraceLevel((level) => {
    const trace = make(level)
    try {
      return f(trace)
    } finally {
      trace.alive = false
    }
  })
