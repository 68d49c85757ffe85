/**
 * Evaluation of the higher-order primitives (control flow, custom derivatives, checkpointing) on
 * concrete values: they run their programs through `bind`, one iteration or branch at a time.
 * Transforms never reach these: each transform has its own rule for each of them.
 */
import { Array as JArray } from "./Array.ts"
import { isPendingReadError } from "./ArrayError.ts"
import type { BackendImpl } from "./BackendImpl.ts"
import { currentBackend } from "./current.ts"
import { allocHost } from "./DType.ts"
import type { Aval } from "./DType.ts"
import { evalJaxpr } from "./Jaxpr.ts"
import type { HigherOrderPrimitive, Params, Primitive } from "./Primitive.ts"
import { sizeOf } from "./shape.ts"

type Bind = <P extends Primitive>(prim: P, inputs: ReadonlyArray<JArray>, params: Params<P>) => Array<JArray>

export type HigherOrderImpl<P extends HigherOrderPrimitive> = (
  inputs: ReadonlyArray<JArray>,
  params: Params<P>,
  bind: Bind
) => Array<JArray>

const zerosOf = (aval: Aval): JArray => {
  const backend = currentBackend()
  return JArray.fromBuffer(backend.upload(allocHost(aval.dtype, sizeOf(aval.shape)), aval), aval, backend)
}

/** `x[i]` along the leading axis with a static index. */
export const indexLeading = (x: JArray, i: number, bind: Bind): JArray => {
  const start = x.shape.map((_, k) => (k === 0 ? i : 0))
  const limit = x.shape.map((d, k) => (k === 0 ? i + 1 : d))
  const s = bind("slice", [x], { startIndices: start, limitIndices: limit, strides: x.shape.map(() => 1) })[0]!
  return bind("reshape", [s], { newSizes: x.shape.slice(1) })[0]!
}

/** Stacks equally shaped arrays along a new leading axis. */
export const stackLeading = (xs: ReadonlyArray<JArray>, aval: Aval, bind: Bind): JArray => {
  if (xs.length === 0) return zerosOf({ ...aval, shape: [0, ...aval.shape] })
  const expanded = xs.map((x) => bind("expand_dims", [x], { dimensions: [0] })[0]!)
  return expanded.length === 1 ? expanded[0]! : bind("concatenate", expanded, { dimension: 0 })[0]!
}

/** The first element of a concrete array, or `undefined` where it is still on an asynchronous device. */
const readNow = (x: JArray): number | boolean | undefined => {
  try {
    return x.item() as number | boolean
  } catch (e) {
    if (isPendingReadError(e)) return undefined
    throw e
  }
}

type Job = (
  inputs: ReadonlyArray<JArray>,
  run: <A>(f: () => A) => Promise<A>,
  first: (x: JArray) => Promise<number>
) => Promise<ReadonlyArray<JArray>>

/**
 * Runs control flow whose decisions read values in an asynchronous backend's queue (see
 * `BackendImpl.defer`): the results are returned at once and computed when the queue reaches them.
 */
const deferred = (
  backend: BackendImpl & { readonly defer: NonNullable<BackendImpl["defer"]> },
  inputs: ReadonlyArray<JArray>,
  outAvals: ReadonlyArray<Aval>,
  job: Job
): Array<JArray> => {
  const outs = backend.defer(
    inputs.map((x) => x.bufferOn(backend)),
    outAvals,
    async (scope) => {
      const own = scope.inputs.map((b, k) => JArray.fromBuffer(b, inputs[k]!.aval, backend))
      const first = async (x: JArray) => Number((await scope.read(x.bufferOn(backend), x.aval))[0])
      const results = await job(own, scope.run, first)
      return results.map((r) => r.bufferOn(backend))
    }
  )
  return outs.map((b, k) => JArray.fromBuffer(b, outAvals[k]!, backend))
}

const hasDefer = (b: BackendImpl): b is BackendImpl & { readonly defer: NonNullable<BackendImpl["defer"]> } =>
  b.defer !== undefined

const outAvalsOf = (jaxpr: { readonly jaxpr: { readonly outvars: ReadonlyArray<unknown> } }): Array<Aval> =>
  jaxpr.jaxpr.outvars.map((v) => {
    const o = v as { readonly literal?: { readonly aval: Aval }; readonly aval?: Aval }
    return o.literal !== undefined ? o.literal.aval : o.aval!
  })

export const higherOrderImpl: { readonly [P in HigherOrderPrimitive]: HigherOrderImpl<P> } = {
  scan: (inputs, p, bind) => {
    const consts = inputs.slice(0, p.numConsts)
    let carry = inputs.slice(p.numConsts, p.numConsts + p.numCarry)
    const xs = inputs.slice(p.numConsts + p.numCarry)
    const ys: Array<Array<JArray>> = []
    for (let step = 0; step < p.length; step++) {
      const i = p.reverse ? p.length - 1 - step : step
      const outs = evalJaxpr(p.jaxpr, [...consts, ...carry, ...xs.map((x) => indexLeading(x, i, bind))], bind)
      carry = outs.slice(0, p.numCarry)
      ys[i] = outs.slice(p.numCarry)
    }
    const yAvals = p.jaxpr.jaxpr.outvars.slice(p.numCarry).map((v) => ("literal" in v ? v.literal.aval : v.aval))
    return [
      ...carry,
      ...yAvals.map((aval, k) =>
        stackLeading(
          ys.map((y) => y[k]!),
          aval,
          bind
        )
      )
    ]
  },
  cond: (inputs, p, bind) => {
    const branch = (raw: number) => p.branches[Math.min(Math.max(raw, 0), p.branches.length - 1)]!
    const known = readNow(inputs[0]!)
    const backend = currentBackend()
    if (known === undefined && hasDefer(backend)) {
      return deferred(backend, inputs, outAvalsOf(p.branches[0]!), async (own, run, first) => {
        const index = await first(own[0]!)
        return run(() => evalJaxpr(branch(index), own.slice(1), bind))
      })
    }
    return evalJaxpr(branch(Number(inputs[0]!.item())), inputs.slice(1), bind)
  },
  while: (inputs, p, bind) => {
    const split = (all: ReadonlyArray<JArray>) => ({
      condConsts: all.slice(0, p.condNumConsts),
      bodyConsts: all.slice(p.condNumConsts, p.condNumConsts + p.bodyNumConsts),
      carry: all.slice(p.condNumConsts + p.bodyNumConsts)
    })
    const backend = currentBackend()
    if (hasDefer(backend)) {
      // The predicate of each iteration is computed on the device: the loop runs in the queue.
      const start = split(inputs)
      return deferred(
        backend,
        inputs,
        start.carry.map((x) => x.aval),
        async (own, run, first) => {
          const { condConsts, bodyConsts } = split(own)
          let carry = split(own).carry
          // Each iteration's carry is released once the next one is computed (not the job's inputs).
          const release = (xs: ReadonlyArray<JArray>, keep: ReadonlyArray<JArray>) => {
            for (const x of xs) if (!own.includes(x) && !keep.includes(x)) x.dispose()
          }
          for (;;) {
            const pred = await run(() => evalJaxpr(p.cond, [...condConsts, ...carry], bind)[0]!)
            const go = (await first(pred)) !== 0
            if (!own.includes(pred) && !carry.includes(pred)) pred.dispose()
            if (!go) return carry
            const next = await run(() => evalJaxpr(p.body, [...bodyConsts, ...carry], bind))
            release(carry, next)
            carry = next
          }
        }
      )
    }
    const { condConsts, bodyConsts } = split(inputs)
    let carry = split(inputs).carry
    while (evalJaxpr(p.cond, [...condConsts, ...carry], bind)[0]!.item() === true) {
      carry = evalJaxpr(p.body, [...bodyConsts, ...carry], bind)
    }
    return carry
  },
  custom_jvp_call: (inputs, p, bind) => evalJaxpr(p.call, inputs, bind),
  custom_vjp_call: (inputs, p, bind) => evalJaxpr(p.call, inputs, bind),
  checkpoint: (inputs, p, bind) => evalJaxpr(p.jaxpr, inputs, bind)
}
