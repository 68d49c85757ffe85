/**
 * Evaluation of the higher-order primitives (control flow, custom derivatives, checkpointing) on
 * concrete values: they run their programs through `bind`, one iteration or branch at a time.
 * Transforms never reach these: each transform has its own rule for each of them.
 */
import { Array as JArray } from "./Array.ts"
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
    const raw = Number(inputs[0]!.item())
    const index = Math.min(Math.max(raw, 0), p.branches.length - 1)
    return evalJaxpr(p.branches[index]!, inputs.slice(1), bind)
  },
  while: (inputs, p, bind) => {
    const condConsts = inputs.slice(0, p.condNumConsts)
    const bodyConsts = inputs.slice(p.condNumConsts, p.condNumConsts + p.bodyNumConsts)
    let carry = inputs.slice(p.condNumConsts + p.bodyNumConsts)
    while (evalJaxpr(p.cond, [...condConsts, ...carry], bind)[0]!.item() === true) {
      carry = evalJaxpr(p.body, [...bodyConsts, ...carry], bind)
    }
    return carry
  },
  custom_jvp_call: (inputs, p, bind) => evalJaxpr(p.call, inputs, bind),
  custom_vjp_call: (inputs, p, bind) => evalJaxpr(p.call, inputs, bind),
  checkpoint: (inputs, p, bind) => evalJaxpr(p.jaxpr, inputs, bind)
}
