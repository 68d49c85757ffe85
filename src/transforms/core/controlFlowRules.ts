/**
 * Batching, JVP and VJP rules of the higher-order primitives. Bodies are transformed as programs
 * (see jaxprTransforms.ts); reverse mode is written with the public control flow and `vjp`, so the
 * backward passes are themselves staged loops that enclosing transforms can see.
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { bind, bind1 } from "../../backend/bind.ts"
import { evalJaxpr } from "../../backend/Jaxpr.ts"
import type { ClosedJaxpr } from "../../backend/Jaxpr.ts"
import type { Primitive } from "../../backend/Primitive.ts"
import { moveAxis, toFront } from "./batchUtil.ts"
import { batchJaxpr, dimsOf, jvpJaxpr, outAvalsOf } from "./jaxprTransforms.ts"
import { vmap } from "./batching.ts"
import { scan, switchCase } from "./controlFlow.ts"
import { zerosLike } from "./jvp.ts"
import { vjp } from "./reverse.ts"
import type { BatchDim, BatchRule, HigherOrderTable, JvpRule, VjpRule } from "./rules.ts"
import { closeOverConsts, stage } from "./staging.ts"
import { GradError } from "./TransformError.ts"

type Table<R extends { [P in Primitive]: unknown }> = HigherOrderTable<R>

const runJaxpr =
  (closed: ClosedJaxpr) =>
  (...args: ReadonlyArray<JArray>): Array<JArray> =>
    evalJaxpr(closed, args, bind)

/** Iterates `step` until the set of batched (or nonzero) carries stops growing. */
const fixpoint = (
  initial: ReadonlyArray<boolean>,
  step: (current: ReadonlyArray<boolean>) => ReadonlyArray<boolean>
): Array<boolean> => {
  let current = initial.slice()
  for (;;) {
    const next = step(current)
    const merged = current.map((c, i) => c || next[i] === true)
    if (merged.every((m, i) => m === current[i])) return current
    current = merged
  }
}

// ---------------------------------------------------------------------------------------------
// Batching

const scanBatch: BatchRule<"scan"> = (vals, dims, p, size) => {
  const nc = p.numConsts
  const nk = p.numCarry
  const constB = dims.slice(0, nc).map((d) => d !== null)
  const xsB = dims.slice(nc + nk).map((d) => d !== null)
  let body: ClosedJaxpr = p.jaxpr
  let outB: Array<boolean> = []
  const carryB = fixpoint(
    dims.slice(nc, nc + nk).map((d) => d !== null),
    (cb) => {
      ;[body, outB] = batchJaxpr(p.jaxpr, [...constB, ...cb, ...xsB], size, [
        ...cb,
        ...outAvalsOf(p.jaxpr)
          .slice(nk)
          .map(() => false)
      ])
      return outB.slice(0, nk)
    }
  )
  ;[body, outB] = batchJaxpr(p.jaxpr, [...constB, ...carryB, ...xsB], size, [
    ...carryB,
    ...outAvalsOf(p.jaxpr)
      .slice(nk)
      .map(() => false)
  ])
  const args = vals.map((v, i) => {
    const d = dims[i] ?? null
    if (i < nc) return d === null ? v : moveAxis(v, d, 0)
    if (i < nc + nk) return carryB[i - nc] === true ? toFront(v, d, size) : v
    return d === null ? v : moveAxis(v, d, 1)
  })
  const outs = bind("scan", args, { ...p, jaxpr: body })
  return [outs, outB.map((b, i): BatchDim => (!b ? null : i < nk ? 0 : 1))]
}

const condBatch: BatchRule<"cond"> = (vals, dims, p, size) => {
  const [index, ...ops] = vals
  const [indexDim, ...opDims] = dims
  const opB = opDims.map((d) => d !== null)
  const moved = ops.map((v, i) => (opDims[i] === null ? v : moveAxis(v, opDims[i]!, 0)))
  if (indexDim === null) {
    const outB = fixpoint(
      outAvalsOf(p.branches[0]!).map(() => false),
      (force) =>
        p.branches
          .map((b) => batchJaxpr(b, opB, size, force)[1])
          .reduce((acc, b) => acc.map((x, i) => x || b[i] === true))
    )
    const branches = p.branches.map((b) => batchJaxpr(b, opB, size, outB)[0])
    return [bind("cond", [index!, ...moved], { branches }), dimsOf(outB)]
  }
  // A batched index: every branch runs on the whole batch and each example selects its branch.
  const idx = moveAxis(index!, indexDim!, 0)
  const n = p.branches.length
  const clamped = bind1("max", [bind1("min", [idx, full(idx, n - 1)], {}), full(idx, 0)], {})
  const results = p.branches.map((b) => {
    const [bj] = batchJaxpr(
      b,
      opB,
      size,
      outAvalsOf(b).map(() => true)
    )
    return evalJaxpr(bj, moved, bind)
  })
  const outs = results[0]!.map((_, k) => {
    let acc = results[0]![k]!
    for (let j = 1; j < n; j++) {
      const pick = bind1("eq", [clamped, full(clamped, j)], {})
      const shaped = bind1("reshape", [pick], { newSizes: [size, ...new Array<number>(acc.ndim - 1).fill(1)] })
      acc = bind1("select", [shaped, results[j]![k]!, acc], {})
    }
    return acc
  })
  return [outs, outs.map(() => 0)]
}

const full = (like: JArray, value: number): JArray =>
  bind1(
    "broadcast_in_dim",
    [bind1("convert_element_type", [scalarOf(value)], { newDtype: like.dtype as "int32", weakType: false })],
    { shape: like.shape, broadcastDimensions: [] }
  )

const scalarOf = (value: number): JArray =>
  bind1(
    "reshape",
    [
      bind1("slice", [bind1("iota", [], { dtype: "int32", shape: [value + 1], dimension: 0 })], {
        startIndices: [value],
        limitIndices: [value + 1],
        strides: [1]
      })
    ],
    { newSizes: [] }
  )

const whileBatch: BatchRule<"while"> = (vals, dims, p, size) => {
  const ncc = p.condNumConsts
  const nbc = p.bodyNumConsts
  const condConstB = dims.slice(0, ncc).map((d) => d !== null)
  const bodyConstB = dims.slice(ncc, ncc + nbc).map((d) => d !== null)
  const carry0 = dims.slice(ncc + nbc).map((d) => d !== null)
  let carryB = fixpoint(carry0, (cb) => batchJaxpr(p.body, [...bodyConstB, ...cb], size, cb)[1])
  const [, predB] = batchJaxpr(p.cond, [...condConstB, ...carryB], size, [false])
  if (predB[0] === true) carryB = carryB.map(() => true)
  const [cond] = batchJaxpr(p.cond, [...condConstB, ...carryB], size, [false])
  const [body] = batchJaxpr(p.body, [...bodyConstB, ...carryB], size, carryB)
  const args = vals.map((v, i) => {
    const d = dims[i] ?? null
    if (i < ncc + nbc) return d === null ? v : moveAxis(v, d, 0)
    return carryB[i - ncc - nbc] === true ? toFront(v, d, size) : v
  })
  if (predB[0] !== true) {
    return [bind("while", args, { ...p, cond, body }), dimsOf(carryB)]
  }
  // Examples finish at different iterations: loop while any is running; finished ones keep their carry.
  const condConsts = args.slice(0, ncc)
  const bodyConsts = args.slice(ncc, ncc + nbc)
  const carryAvals = args.slice(ncc + nbc).map((a) => a.aval)
  const anyCond = stage(
    "vmap",
    (xs) => {
      const pred = evalJaxpr(cond, [...xs.slice(0, ncc), ...xs.slice(ncc)], bind)[0]!
      return bind1("reduce_or", [pred], { axes: [0] })
    },
    [...condConsts.map((c) => c.aval), ...carryAvals]
  )
  const maskedBody = stage(
    "vmap",
    (xs) => {
      const cc = xs.slice(0, ncc)
      const bc = xs.slice(ncc, ncc + nbc)
      const carry = xs.slice(ncc + nbc)
      const pred = evalJaxpr(cond, [...cc, ...carry], bind)[0]!
      const next = evalJaxpr(body, [...bc, ...carry], bind)
      return next.map((n, k) => {
        const old = carry[k]!
        const shaped = bind1("reshape", [pred], { newSizes: [size, ...new Array<number>(n.ndim - 1).fill(1)] })
        return bind1("select", [shaped, n, old], {})
      })
    },
    [...condConsts.map((c) => c.aval), ...bodyConsts.map((c) => c.aval), ...carryAvals]
  )
  const [condJ, cConsts] = closeOverConsts(anyCond.closed)
  const [bodyJ, bConsts] = closeOverConsts(maskedBody.closed)
  const outs = bind(
    "while",
    [...cConsts, ...condConsts, ...bConsts, ...condConsts, ...bodyConsts, ...args.slice(ncc + nbc)],
    {
      cond: condJ,
      body: bodyJ,
      condNumConsts: cConsts.length + ncc,
      bodyNumConsts: bConsts.length + ncc + nbc
    }
  )
  return [outs, outs.map(() => 0)]
}

/** Custom-derivative calls are batched with every operand batched along axis 0. */
const allToFront = (vals: ReadonlyArray<JArray>, dims: ReadonlyArray<BatchDim>, size: number): Array<JArray> =>
  vals.map((v, i) => toFront(v, dims[i] ?? null, size))

const customJvpBatch: BatchRule<"custom_jvp_call"> = (vals, dims, p, size) => {
  const args = allToFront(vals, dims, size)
  const [call] = batchJaxpr(
    p.call,
    args.map(() => true),
    size,
    outAvalsOf(p.call).map(() => true)
  )
  const jvpFn = p.jvp
  const batchedJvp = (primals: ReadonlyArray<JArray>, tangents: ReadonlyArray<JArray>) =>
    vmap((ps: ReadonlyArray<JArray>, ts: ReadonlyArray<JArray>) => {
      const [o, t] = jvpFn(ps, ts)
      return [o, t] as const
    })(primals, tangents) as readonly [ReadonlyArray<JArray>, ReadonlyArray<JArray>]
  const outs = bind("custom_jvp_call", args, { ...p, call, jvp: batchedJvp })
  return [outs, outs.map(() => 0)]
}

const customVjpBatch: BatchRule<"custom_vjp_call"> = (vals, dims, p, size) => {
  const args = allToFront(vals, dims, size)
  const [call] = batchJaxpr(
    p.call,
    args.map(() => true),
    size,
    outAvalsOf(p.call).map(() => true)
  )
  const fwd = p.fwd
  const bwd = p.bwd
  const outs = bind("custom_vjp_call", args, {
    call,
    fwd: (primals) =>
      vmap((ps: ReadonlyArray<JArray>) => {
        const [o, r] = fwd(ps)
        return [o, r] as const
      })(primals) as readonly [ReadonlyArray<JArray>, ReadonlyArray<JArray>],
    bwd: (res, cts) =>
      vmap((r: ReadonlyArray<JArray>, c: ReadonlyArray<JArray>) => bwd(r, c))(res, cts) as ReadonlyArray<JArray>
  })
  return [outs, outs.map(() => 0)]
}

const checkpointBatch: BatchRule<"checkpoint"> = (vals, dims, p, size) => {
  const inB = dims.map((d) => d !== null)
  const [jaxpr, outB] = batchJaxpr(
    p.jaxpr,
    inB,
    size,
    outAvalsOf(p.jaxpr).map(() => false)
  )
  const args = vals.map((v, i) => (dims[i] === null || dims[i] === undefined ? v : moveAxis(v, dims[i]!, 0)))
  return [bind("checkpoint", args, { jaxpr }), dimsOf(outB)]
}

export const higherOrderBatchRules: Table<{ [P in Primitive]: BatchRule<P> }> = {
  scan: scanBatch,
  cond: condBatch,
  while: whileBatch,
  custom_jvp_call: customJvpBatch,
  custom_vjp_call: customVjpBatch,
  checkpoint: checkpointBatch
}

// ---------------------------------------------------------------------------------------------
// Forward mode

const scanJvp: JvpRule<"scan"> = (primals, tangents, p) => {
  const nc = p.numConsts
  const nk = p.numCarry
  const nz = tangents.map((t) => t !== null)
  const nyOut = outAvalsOf(p.jaxpr).length - nk
  let body: ClosedJaxpr = p.jaxpr
  let outNz: Array<boolean> = []
  const carryNz = fixpoint(nz.slice(nc, nc + nk), (cn) => {
    ;[body, outNz] = jvpJaxpr(
      p.jaxpr,
      [...nz.slice(0, nc), ...cn, ...nz.slice(nc + nk)],
      [...cn, ...new Array<boolean>(nyOut).fill(false)]
    )
    return outNz.slice(0, nk)
  })
  const inNz = [...nz.slice(0, nc), ...carryNz, ...nz.slice(nc + nk)]
  ;[body, outNz] = jvpJaxpr(p.jaxpr, inNz, [...carryNz, ...new Array<boolean>(nyOut).fill(false)])
  // The jvp program takes [primals..., tangents...]; scan needs [consts, carry, xs] groups, so
  // permute its inputs and outputs.
  const tIdx: Array<number> = []
  let t = primals.length
  inNz.forEach((b) => tIdx.push(b ? t++ : -1))
  const group = (lo: number, hi: number): Array<number> => [
    ...Array.from({ length: hi - lo }, (_, k) => lo + k),
    ...Array.from({ length: hi - lo }, (_, k) => lo + k)
      .filter((i) => inNz[i])
      .map((i) => tIdx[i]!)
  ]
  const order = [...group(0, nc), ...group(nc, nc + nk), ...group(nc + nk, primals.length)]
  const nOut = nk + nyOut
  const outT: Array<number> = []
  let o = nOut
  outNz.forEach((b) => outT.push(b ? o++ : -1))
  const outGroup = (lo: number, hi: number): Array<number> => [
    ...Array.from({ length: hi - lo }, (_, k) => lo + k),
    ...Array.from({ length: hi - lo }, (_, k) => lo + k)
      .filter((i) => outNz[i])
      .map((i) => outT[i]!)
  ]
  const outOrder = [...outGroup(0, nk), ...outGroup(nk, nOut)]
  const jx = body.jaxpr
  const permuted: ClosedJaxpr = {
    jaxpr: { ...jx, invars: order.map((i) => jx.invars[i]!), outvars: outOrder.map((i) => jx.outvars[i]!) },
    consts: body.consts
  }
  const tangentOf = (i: number): JArray => tangents[i] ?? zerosLike(primals[i]!)
  const args = order.map((i) => (i < primals.length ? primals[i]! : tangentOf(inNz.findIndex((_, k) => tIdx[k] === i))))
  const numConsts = nc + nz.slice(0, nc).filter(Boolean).length
  const numCarry = nk + carryNz.filter(Boolean).length
  const outs = bind("scan", args, { ...p, jaxpr: permuted, numConsts, numCarry })
  // Undo the output grouping: [carry, carry tangents, ys, ys tangents].
  const byPosition = new Map<number, JArray>()
  outOrder.forEach((pos, k) => byPosition.set(pos, outs[k]!))
  const primalOuts = Array.from({ length: nOut }, (_, i) => byPosition.get(i)!)
  const tangentOuts = outNz.map((b, i) => (b ? byPosition.get(outT[i]!)! : null))
  return [primalOuts, tangentOuts]
}

const condJvp: JvpRule<"cond"> = (primals, tangents, p) => {
  const [index, ...ops] = primals
  const nz = tangents.slice(1).map((t) => t !== null)
  const outNz = fixpoint(
    outAvalsOf(p.branches[0]!).map(() => false),
    (inst) => p.branches.map((b) => jvpJaxpr(b, nz, inst)[1]).reduce((acc, b) => acc.map((x, i) => x || b[i] === true))
  )
  const branches = p.branches.map((b) => jvpJaxpr(b, nz, outNz)[0])
  const ts = tangents.slice(1).filter((t): t is JArray => t !== null)
  const outs = bind("cond", [index!, ...ops, ...ts], { branches })
  const n = outNz.length
  let k = n
  return [outs.slice(0, n), outNz.map((b) => (b ? outs[k++]! : null))]
}

const whileJvp: JvpRule<"while"> = (primals, tangents, p) => {
  const ncc = p.condNumConsts
  const nbc = p.bodyNumConsts
  const nz = tangents.map((t) => t !== null)
  const bodyConstNz = nz.slice(ncc, ncc + nbc)
  const carryNz = fixpoint(nz.slice(ncc + nbc), (cn) => jvpJaxpr(p.body, [...bodyConstNz, ...cn], cn)[1])
  const [bodyJ] = jvpJaxpr(p.body, [...bodyConstNz, ...carryNz], carryNz)
  const condConsts = primals.slice(0, ncc)
  const bodyConsts = primals.slice(ncc, ncc + nbc)
  const carry = primals.slice(ncc + nbc)
  const bodyConstT = tangents.slice(ncc, ncc + nbc).filter((t): t is JArray => t !== null)
  const carryT = carry.flatMap((c, i) => (carryNz[i] ? [tangents[ncc + nbc + i] ?? zerosLike(c)] : []))
  const nk = carry.length
  const nbt = bodyConstT.length
  // Body program inputs: [bodyConsts, bodyConstT, carry, carryT] -> [carry, carryT];
  // the jvp program takes [bodyConsts, carry, bodyConstT, carryT].
  const jx = bodyJ.jaxpr
  const inv = jx.invars
  const body: ClosedJaxpr = {
    jaxpr: {
      ...jx,
      invars: [
        ...inv.slice(0, nbc),
        ...inv.slice(nbc + nk, nbc + nk + nbt),
        ...inv.slice(nbc, nbc + nk),
        ...inv.slice(nbc + nk + nbt)
      ]
    },
    consts: bodyJ.consts
  }
  // The condition ignores tangents: extend it with unused inputs for them.
  const condStaged = stage("jvp", (xs) => evalJaxpr(p.cond, [...xs.slice(0, ncc), ...xs.slice(ncc, ncc + nk)], bind), [
    ...condConsts.map((c) => c.aval),
    ...carry.map((c) => c.aval),
    ...carryT.map((c) => c.aval)
  ])
  const [condJ, cConsts] = closeOverConsts(condStaged.closed)
  const outs = bind("while", [...cConsts, ...condConsts, ...bodyConsts, ...bodyConstT, ...carry, ...carryT], {
    cond: condJ,
    body,
    condNumConsts: cConsts.length + ncc,
    bodyNumConsts: nbc + nbt
  })
  let k = nk
  return [outs.slice(0, nk), carryNz.map((b) => (b ? outs[k++]! : null))]
}

const customJvpJvp: JvpRule<"custom_jvp_call"> = (primals, tangents, p) => {
  const ts = tangents.map((t, i) => t ?? zerosLike(primals[i]!))
  const [outs, outT] = p.jvp(primals, ts)
  return [outs.slice(), outT.slice()]
}

const customVjpJvp: JvpRule<"custom_vjp_call"> = () => {
  throw new GradError({
    transform: "jvp",
    reason:
      "cannot apply forward-mode differentiation (jvp, jacfwd, linearize) to a customVjp function; define a customJvp instead, or use reverse mode"
  })
}

const checkpointJvp: JvpRule<"checkpoint"> = (primals, tangents, p) => {
  const nz = tangents.map((t) => t !== null)
  const [jaxpr, outNz] = jvpJaxpr(
    p.jaxpr,
    nz,
    outAvalsOf(p.jaxpr).map(() => false)
  )
  const outs = bind("checkpoint", [...primals, ...tangents.filter((t): t is JArray => t !== null)], { jaxpr })
  const n = outNz.length
  let k = n
  return [outs.slice(0, n), outNz.map((b) => (b ? outs[k++]! : null))]
}

export const higherOrderJvpRules: Table<{ [P in Primitive]: JvpRule<P> }> = {
  scan: scanJvp,
  cond: condJvp,
  while: whileJvp,
  custom_jvp_call: customJvpJvp,
  custom_vjp_call: customVjpJvp,
  checkpoint: checkpointJvp
}

// ---------------------------------------------------------------------------------------------
// Reverse mode

const orZeros = (cts: ReadonlyArray<JArray | null>, likes: ReadonlyArray<JArray>): Array<JArray> =>
  likes.map((l, i) => cts[i] ?? zerosLike(l))

const scanVjp: VjpRule<"scan"> = (primals, outputs, cts, p) => {
  const nc = p.numConsts
  const nk = p.numCarry
  const consts = primals.slice(0, nc)
  const carry0 = primals.slice(nc, nc + nk)
  const xs = primals.slice(nc + nk)
  const body = runJaxpr(p.jaxpr)
  // Forward again, keeping each iteration's input carry (the residuals).
  const [, carries] = scan(
    (c: ReadonlyArray<JArray>, x: ReadonlyArray<JArray>) => {
      const outs = body(...consts, ...c, ...x)
      return [outs.slice(0, nk), c] as const
    },
    carry0,
    xs,
    { length: p.length, reverse: p.reverse }
  )
  const carryCt = orZeros(cts.slice(0, nk), outputs.slice(0, nk))
  const ysCt = orZeros(cts.slice(nk), outputs.slice(nk))
  const [[carryInCt, constsCt], xsCt] = scan(
    (
      acc: readonly [ReadonlyArray<JArray>, ReadonlyArray<JArray>],
      step: readonly [ReadonlyArray<JArray>, ReadonlyArray<JArray>, ReadonlyArray<JArray>]
    ) => {
      const [cCt, kCt] = acc
      const [c, x, yCt] = step
      const [, back] = vjp(
        (k: ReadonlyArray<JArray>, cc: ReadonlyArray<JArray>, xx: ReadonlyArray<JArray>) => body(...k, ...cc, ...xx),
        consts,
        c,
        x
      )
      const [dk, dc, dx] = back([...cCt, ...yCt])
      return [[dc, kCt.map((a, i) => bind1("add", [a, dk[i]!], {}))] as const, dx] as const
    },
    [carryCt, consts.map(zerosLike)] as const,
    [carries, xs, ysCt] as const,
    { length: p.length, reverse: !p.reverse }
  )
  return [...constsCt, ...carryInCt, ...xsCt]
}

const condVjp: VjpRule<"cond"> = (primals, outputs, cts, p) => {
  const [index, ...ops] = primals
  const outCts = orZeros(cts, outputs)
  const bwd = p.branches.map((b) => (operands: ReadonlyArray<JArray>, c: ReadonlyArray<JArray>) => {
    const [, back] = vjp((o: ReadonlyArray<JArray>) => evalJaxpr(b, o, bind), operands)
    return back(c.slice())[0]
  })
  const grads = switchCase(index!, bwd, ops, outCts)
  return [null, ...grads]
}

const whileVjp: VjpRule<"while"> = () => {
  throw new GradError({
    transform: "grad",
    reason:
      "reverse-mode differentiation does not work through lax.whileLoop (its trip count is dynamic); use lax.scan, or foriLoop with JavaScript-number bounds"
  })
}

const customJvpVjp: VjpRule<"custom_jvp_call"> = (primals, outputs, cts, p) => {
  // The custom JVP is linear in the tangents at these primals; its transpose is our VJP of it.
  const [, back] = vjp((ts: ReadonlyArray<JArray>) => p.jvp(primals, ts)[1], primals.map(zerosLike))
  return back(orZeros(cts, outputs))[0]
}

const customVjpVjp: VjpRule<"custom_vjp_call"> = (primals, outputs, cts, p) => {
  const [, residuals] = p.fwd(primals)
  return p.bwd(residuals, orZeros(cts, outputs))
}

const checkpointVjp: VjpRule<"checkpoint"> = (primals, outputs, cts, p) => {
  // Rematerialisation: the forward pass stored only the inputs; recompute inside the backward pass.
  const [, back] = vjp((xs: ReadonlyArray<JArray>) => evalJaxpr(p.jaxpr, xs, bind), primals)
  return back(orZeros(cts, outputs))[0]
}

export const higherOrderVjpRules: Table<{ [P in Primitive]: VjpRule<P> }> = {
  scan: scanVjp,
  cond: condVjp,
  while: whileVjp,
  custom_jvp_call: customJvpVjp,
  custom_vjp_call: customVjpVjp,
  checkpoint: checkpointVjp
}
