/**
 * Running a compiled plan: a loop over steps on slots of device buffers.
 *
 * Buffers the plan does not own are *pinned* and never disposed: the arguments, the program's
 * constants, and the constants of inner programs that higher-order evaluation hands back as they are
 * (recognised by identity of the Array; backends return a new handle from every kernel, even one that
 * shares its input's storage). Every other buffer is owned and counted by the slots holding it (a kernel may return
 * its input, so one buffer can sit in several slots); when the last slot holding it is released (after
 * its last read, see `liveness.ts`), it is disposed. Outputs are never released. If a step throws, the
 * owned buffers still held are disposed before the error propagates.
 *
 * @since 0.2.0
 */
import { Array as JArray } from "../../../backend/Array.ts"
import type { BackendImpl, DeviceBuffer, FusedKernel } from "../../../backend/BackendImpl.ts"
import { evaluate } from "../../../backend/bind.ts"
import type { Aval, HostArray } from "../../../backend/DType.ts"
import type { FirstOrderPrimitive, HigherOrderPrimitive, Params } from "../../../backend/Primitive.ts"

/** What a step runs. */
export type Exec =
  | {
      readonly kind: "kernel"
      readonly prim: FirstOrderPrimitive
      readonly params: unknown
      readonly inAvals: ReadonlyArray<Aval>
      readonly outAvals: ReadonlyArray<Aval>
    }
  | { readonly kind: "fused"; readonly kernel: FusedKernel; readonly outAvals: ReadonlyArray<Aval> }
  | {
      readonly kind: "interpret"
      readonly prim: HigherOrderPrimitive
      readonly params: unknown
      readonly inAvals: ReadonlyArray<Aval>
      /** The constants and literals of the inner programs, which evaluation may return as they are. */
      readonly innerArrays: ReadonlySet<JArray>
    }

/** A step on slots: what it runs, the slots it reads and writes, and those to release after it. */
export interface Step {
  readonly exec: Exec
  readonly inputs: ReadonlyArray<number>
  readonly outputs: ReadonlyArray<number>
  readonly release: ReadonlyArray<number>
}

/** How a slot is filled before the first step. */
export type Source =
  | { readonly kind: "arg"; readonly slot: number; readonly arg: number }
  /** A buffer the plan holds for its lifetime (a constant): pinned. */
  | { readonly kind: "held"; readonly slot: number; readonly buffer: () => DeviceBuffer }
  /** Host data uploaded on each call: owned. */
  | { readonly kind: "upload"; readonly slot: number; readonly data: HostArray; readonly aval: Aval }

/** Where an output comes from. Arguments and constants are returned as the very arrays, as `evalJaxpr` does. */
export type Output =
  | { readonly kind: "arg"; readonly arg: number }
  | { readonly kind: "array"; readonly array: JArray }
  | { readonly kind: "slot"; readonly slot: number; readonly aval: Aval }
  | { readonly kind: "upload"; readonly data: HostArray; readonly aval: Aval }

/** Runs steps on `backend` from the arguments to the outputs. */
export const runSteps = (
  backend: BackendImpl,
  steps: ReadonlyArray<Step>,
  slotCount: number,
  sources: ReadonlyArray<Source>,
  outputs: ReadonlyArray<Output>,
  args: ReadonlyArray<JArray>
): Array<JArray> => {
  const env = new Array<DeviceBuffer | undefined>(slotCount)
  const pinned = new Set<DeviceBuffer>()
  const refs = new Map<DeviceBuffer, number>()
  const pin = (slot: number, b: DeviceBuffer): void => {
    pinned.add(b)
    env[slot] = b
  }
  const hold = (slot: number, b: DeviceBuffer): void => {
    env[slot] = b
    if (!pinned.has(b)) refs.set(b, (refs.get(b) ?? 0) + 1)
  }
  const release = (slot: number): void => {
    const b = env[slot]
    env[slot] = undefined
    if (b === undefined || pinned.has(b)) return
    const n = refs.get(b)! - 1
    if (n > 0) refs.set(b, n)
    else {
      refs.delete(b)
      backend.dispose(b)
    }
  }
  try {
    for (const s of sources) {
      if (s.kind === "arg") pin(s.slot, args[s.arg]!.bufferOn(backend))
      else if (s.kind === "held") pin(s.slot, s.buffer())
    }
    for (const s of sources) if (s.kind === "upload") hold(s.slot, backend.upload(s.data, s.aval))
    for (const step of steps) {
      const ins = step.inputs.map((s) => env[s]!)
      const x = step.exec
      switch (x.kind) {
        case "kernel": {
          const outs = backend.execute(x.prim, ins, x.inAvals, x.outAvals, x.params as Params<FirstOrderPrimitive>)
          step.outputs.forEach((s, k) => hold(s, outs[k]!))
          break
        }
        case "fused": {
          const outs = x.kernel(ins, x.outAvals)
          step.outputs.forEach((s, k) => hold(s, outs[k]!))
          break
        }
        case "interpret": {
          const arrays = ins.map((b, k) => JArray.fromBuffer(b, x.inAvals[k]!, backend))
          const outs = evaluate(x.prim, arrays, x.params as Params<HigherOrderPrimitive>)
          // An operand handed back (a loop that ran zero times) is counted like any other holder.
          outs.forEach((a, k) => (x.innerArrays.has(a) ? pin : hold)(step.outputs[k]!, a.bufferOn(backend)))
          break
        }
      }
      for (const s of step.release) release(s)
    }
  } catch (e) {
    for (const [b] of refs) backend.dispose(b)
    throw e
  }
  const wrapped = new Map<number, JArray>()
  return outputs.map((o) => {
    switch (o.kind) {
      case "arg":
        return args[o.arg]!
      case "array":
        return o.array
      case "upload":
        return JArray.fromBuffer(backend.upload(o.data, o.aval), o.aval, backend)
      case "slot": {
        let a = wrapped.get(o.slot)
        if (a === undefined) {
          a = JArray.fromBuffer(env[o.slot]!, o.aval, backend)
          wrapped.set(o.slot, a)
        }
        return a
      }
    }
  })
}
