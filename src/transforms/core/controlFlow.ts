/**
 * Structured control flow as primitives: `scan`, `cond`, `switch`, `whileLoop`, `foriLoop`. Each
 * stages its functions into jaxprs and binds one primitive, so every transform applies to it with
 * its own rule (batching, JVP, VJP) and the traced functions run once, not per iteration.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { checkOptionKeys } from "../../backend/numpy/options.ts"
import { isArray } from "../../backend/Array.ts"
import { ArgumentError } from "../../backend/ArrayError.ts"
import { bind, bind1 } from "../../backend/bind.ts"
import type { Aval } from "../../backend/DType.ts"
import { isLiteral, newVar } from "../../backend/Jaxpr.ts"
import type { ClosedJaxpr } from "../../backend/Jaxpr.ts"
import { asArray, fromScalar } from "../../backend/numpy/creation.ts"
import { formatAval } from "../../backend/Jaxpr.ts"
import { outAvalsOf } from "./jaxprTransforms.ts"
import { flatten, leafPaths, treedefKey, unflatten } from "./pytree.ts"
import type { TreeDef } from "./pytree.ts"
import { closeOverConsts, stage } from "./staging.ts"
import { StructureError } from "./TransformError.ts"

/** Leaves of a pytree of Arrays; JavaScript numbers and booleans become (weak) arrays. */
const arrayLeaves = (transform: string, what: string, tree: unknown): readonly [Array<JArray>, TreeDef] => {
  const [leaves, def] = flatten(tree)
  const paths = leafPaths(def, what)
  return [
    leaves.map((l, i) => {
      if (isArray(l)) return l
      if (typeof l === "number" || typeof l === "boolean") return asArray(l)
      throw new StructureError({ transform, reason: `${paths[i]} is ${l === null ? "null" : typeof l}, not an Array` })
    }),
    def
  ]
}

/** What a branch or body computes from closed-over tracers is staged into it (see withCapturingTrace). */
const CAPTURE = { captureClosures: true } as const

const sameAval = (a: Aval, b: Aval): boolean => a.dtype === b.dtype && a.shape.join(",") === b.shape.join(",")

const describeAvals = (avals: ReadonlyArray<Aval>): string => avals.map(formatAval).join(", ")

/** Splits a staged `[a, b]` output structure into its two parts. */
const pairDefs = (transform: string, def: TreeDef): readonly [TreeDef, TreeDef] => {
  if (def.kind !== "list" || def.children.length !== 2) {
    throw new StructureError({ transform, reason: "the function must return a pair [carry, y]" })
  }
  return [def.children[0]!, def.children[1]!]
}

/** Options of {@link scan}. */
export interface ScanOptions {
  /** The number of iterations, required when `xs` has no leaves. */
  readonly length?: number | undefined
  /** Iterate from the last element to the first (outputs stay in input order). */
  readonly reverse?: boolean | undefined
}

/**
 * `lax.scan`: loops `f(carry, x) => [carry, y]` over the leading axis of `xs`, returning the final
 * carry and the stacked `y`s. The carry must keep its structure, shapes and dtypes.
 *
 * @example
 * ```ts
 * import { jnp, lax } from "effect-nnx"
 *
 * const [total, partials] = lax.scan((c: jnp.Array, x: jnp.Array) => [c.add(x), c.add(x)] as const, jnp.array(0), jnp.arange(5))
 * total.item() // 10
 * partials.tolist() // [0, 1, 3, 6, 10]
 * ```
 * @category control flow
 * @since 0.1.0
 */
export const scan = <C, X, Y>(
  f: (carry: C, x: X) => readonly [C, Y],
  init: C,
  xs: X,
  options?: ScanOptions
): readonly [C, Y] => {
  checkOptionKeys("scan", options, ["length", "reverse"])
  let [carry, carryDef] = arrayLeaves("scan", "init", init)
  const [xLeaves, xDef] = arrayLeaves("scan", "xs", xs)
  const lengths = [...new Set(xLeaves.map((x) => x.shape[0]))]
  if (xLeaves.some((x) => x.ndim === 0))
    throw new StructureError({ transform: "scan", reason: "every xs leaf needs a leading axis to scan over" })
  if (lengths.length > 1 || (options?.length !== undefined && lengths.length === 1 && lengths[0] !== options.length)) {
    throw new StructureError({
      transform: "scan",
      reason: `xs leaves and length disagree on the number of iterations: ${[...lengths, ...(options?.length === undefined ? [] : [`length ${options.length}`])].join(", ")}`
    })
  }
  const length = options?.length ?? lengths[0]
  if (length === undefined) throw new StructureError({ transform: "scan", reason: "xs has no leaves, so pass length" })
  const xAvals = xLeaves.map((x) => ({ ...x.aval, shape: x.shape.slice(1) }))
  const trace = (carryAvals: ReadonlyArray<Aval>) =>
    stage(
      "scan",
      (args) => {
        const c = unflatten(carryDef, args.slice(0, carryAvals.length)) as C
        const x = unflatten(xDef, args.slice(carryAvals.length)) as X
        return f(c, x)
      },
      [...carryAvals, ...xAvals],
      CAPTURE
    )
  let staged = trace(carry.map((c) => c.aval))
  const [outCarryDef, yDef] = pairDefs("scan", staged.outDef)
  if (staged.isArrayOut.some((a) => !a))
    throw new StructureError({ transform: "scan", reason: "the carry and y must be pytrees of Arrays" })
  const outAvals = outAvalsOf(staged.closed)
  const carryOut = outAvals.slice(0, carry.length)
  if (treedefKey(outCarryDef) !== treedefKey(carryDef) || carryOut.some((a, i) => !sameAval(a, carry[i]!.aval))) {
    throw new StructureError({
      transform: "scan",
      reason: `the carry output must have the same structure and types as the carry input: input (${describeAvals(carry.map((c) => c.aval))}) but output (${describeAvals(carryOut)})`
    })
  }
  if (carryOut.some((a, i) => a.weakType !== carry[i]!.weakType)) {
    // JAX promotes weakly typed initial carries to the type the body returns.
    carry = carry.map((c, i) =>
      carryOut[i]!.weakType === c.weakType
        ? c
        : bind1("convert_element_type", [c], { newDtype: c.dtype as "float32", weakType: carryOut[i]!.weakType })
    )
    staged = trace(carry.map((c) => c.aval))
  }
  const [jaxpr, consts] = closeOverConsts(staged.closed)
  const outs = bind("scan", [...consts, ...carry, ...xLeaves], {
    jaxpr,
    numConsts: consts.length,
    numCarry: carry.length,
    length,
    reverse: options?.reverse === true
  })
  return [unflatten(carryDef, outs.slice(0, carry.length)) as C, unflatten(yDef, outs.slice(carry.length)) as Y]
}

/** Builds branch programs that all take every branch's constants, then the operands. */
const joinBranchConsts = (closed: ReadonlyArray<ClosedJaxpr>): readonly [Array<ClosedJaxpr>, Array<JArray>] => {
  const converted = closed.map(closeOverConsts)
  const allConsts = converted.flatMap(([, c]) => c)
  const branches = converted.map(([jaxpr, consts], k) => {
    const nOwn = consts.length
    const own = jaxpr.jaxpr.invars.slice(0, nOwn)
    const operands = jaxpr.jaxpr.invars.slice(nOwn)
    const invars = converted.flatMap(([, c], j) => (j === k ? own : c.map((x) => newVar(x.aval))))
    return { jaxpr: { ...jaxpr.jaxpr, invars: [...invars, ...operands] }, consts: [] }
  })
  return [branches, allConsts]
}

/**
 * `lax.switch`: runs `branches[index]` on the operands (the index is clamped into range). All
 * branches must return the same structure and types.
 * @category control flow
 * @since 0.1.0
 */
export const switchCase = <Args extends ReadonlyArray<unknown>, R>(
  index: JArray | number,
  branches: ReadonlyArray<(...operands: Args) => R>,
  ...operands: Args
): R => {
  if (branches.length === 0) throw new StructureError({ transform: "switch", reason: "needs at least one branch" })
  const idx = asArray(index)
  if (idx.ndim !== 0)
    throw new StructureError({
      transform: "switch",
      reason: `the index must be a scalar, got shape (${idx.shape.join(", ")})`
    })
  if (idx.dtype !== "int32" && idx.dtype !== "uint32" && idx.dtype !== "bool") {
    throw new StructureError({
      transform: "switch",
      reason: `the index must be an integer or boolean scalar, got ${idx.dtype}`
    })
  }
  const i32 =
    idx.dtype === "int32" && !idx.weakType
      ? idx
      : bind1("convert_element_type", [idx], { newDtype: "int32", weakType: false })
  const [opLeaves, opDef] = arrayLeaves("switch", "operands", operands)
  const staged = branches.map((b) =>
    stage(
      "switch",
      (args) => b(...(unflatten(opDef, args) as Args)),
      opLeaves.map((o) => o.aval),
      CAPTURE
    )
  )
  const first = staged[0]!
  staged.forEach((s, k) => {
    if (s.isArrayOut.some((a) => !a))
      throw new StructureError({ transform: "switch", reason: `branch ${k} must return a pytree of Arrays` })
    const a = outAvalsOf(s.closed)
    const a0 = outAvalsOf(first.closed)
    if (
      treedefKey(s.outDef) !== treedefKey(first.outDef) ||
      a.length !== a0.length ||
      a.some((x, i) => !sameAval(x, a0[i]!))
    ) {
      throw new StructureError({
        transform: "switch",
        reason: `branches must return the same structure and types: branch 0 returns (${describeAvals(a0)}) but branch ${k} returns (${describeAvals(a)})`
      })
    }
  })
  // As JAX: an output every branch returns as the same operand, untouched, is that operand. It does
  // not pass through the primitive, so under vmap with a batched index an unbatched operand stays
  // unbatched (a Module's state that no branch writes keeps its broadcast axis).
  const forwarded = first.closed.jaxpr.outvars.map((_, i) => {
    const j = forwardedOperand(staged[0]!.closed, i)
    return j !== undefined && staged.every((st) => forwardedOperand(st.closed, i) === j) ? j : undefined
  })
  const kept = (closed: ClosedJaxpr): ClosedJaxpr =>
    forwarded.every((j) => j === undefined)
      ? closed
      : {
          ...closed,
          jaxpr: { ...closed.jaxpr, outvars: closed.jaxpr.outvars.filter((_, i) => forwarded[i] === undefined) }
        }
  const [jaxprs, consts] = joinBranchConsts(staged.map((st) => kept(st.closed)))
  const computed = bind("cond", [i32, ...consts, ...opLeaves], { branches: jaxprs })
  let c = 0
  const outs = forwarded.map((j) => (j === undefined ? computed[c++]! : opLeaves[j]!))
  return unflatten(first.outDef, outs) as R
}

/** The operand an output of a staged branch returns unchanged, if it does. */
const forwardedOperand = (closed: ClosedJaxpr, i: number): number | undefined => {
  const out = closed.jaxpr.outvars[i]!
  if (isLiteral(out)) return undefined
  const j = closed.jaxpr.invars.findIndex((v) => v.id === out.id)
  return j === -1 ? undefined : j
}

/**
 * `lax.cond`: `pred ? trueFun(...operands) : falseFun(...operands)`, staged so that both branches
 * are traced and the choice happens on the (possibly traced) predicate.
 * @category control flow
 * @since 0.1.0
 */
export const cond = <Args extends ReadonlyArray<unknown>, R>(
  pred: JArray | boolean,
  trueFun: (...operands: Args) => R,
  falseFun: (...operands: Args) => R,
  ...operands: Args
): R => {
  const p = asArray(pred)
  if (p.ndim !== 0)
    throw new StructureError({
      transform: "cond",
      reason: `the predicate must be a scalar, got shape (${p.shape.join(", ")})`
    })
  const b =
    p.dtype === "bool"
      ? p
      : bind1(
          "ne",
          [p, bind1("convert_element_type", [fromScalar(0)], { newDtype: p.dtype as "int32", weakType: p.weakType })],
          {}
        )
  return switchCase(b, [falseFun, trueFun], ...operands)
}

/**
 * `lax.while_loop`: `while (condFun(carry)) carry = bodyFun(carry)`. Forward-mode differentiable;
 * for reverse mode use `scan` or `foriLoop` with static bounds.
 * @category control flow
 * @since 0.1.0
 */
export const whileLoop = <C>(condFun: (carry: C) => JArray | boolean, bodyFun: (carry: C) => C, init: C): C => {
  const [carry, carryDef] = arrayLeaves("whileLoop", "init", init)
  const avals = carry.map((c) => c.aval)
  const condStaged = stage("whileLoop", (args) => asArray(condFun(unflatten(carryDef, args) as C)), avals, CAPTURE)
  const predAval = outAvalsOf(condStaged.closed)[0]
  if (predAval === undefined || predAval.dtype !== "bool" || predAval.shape.length !== 0) {
    throw new StructureError({
      transform: "whileLoop",
      reason: `condFun must return a boolean scalar, got ${predAval === undefined ? "nothing" : formatAval(predAval)}`
    })
  }
  const bodyStaged = stage("whileLoop", (args) => bodyFun(unflatten(carryDef, args) as C), avals, CAPTURE)
  const bodyOut = outAvalsOf(bodyStaged.closed)
  if (treedefKey(bodyStaged.outDef) !== treedefKey(carryDef) || bodyOut.some((a, i) => !sameAval(a, avals[i]!))) {
    throw new StructureError({
      transform: "whileLoop",
      reason: `bodyFun must return the carry's structure and types: input (${describeAvals(avals)}) but output (${describeAvals(bodyOut)})`
    })
  }
  const [condJ, condConsts] = closeOverConsts(condStaged.closed)
  const [bodyJ, bodyConsts] = closeOverConsts(bodyStaged.closed)
  const outs = bind("while", [...condConsts, ...bodyConsts, ...carry], {
    cond: condJ,
    body: bodyJ,
    condNumConsts: condConsts.length,
    bodyNumConsts: bodyConsts.length
  })
  return unflatten(carryDef, outs) as C
}

/**
 * `lax.fori_loop`: `for (i = lower; i < upper; i++) val = body(i, val)`. With JavaScript number
 * bounds it lowers to `scan` (so it is reverse-differentiable); with traced bounds to `whileLoop`.
 * @category control flow
 * @since 0.1.0
 */
export const foriLoop = <C>(
  lower: number | JArray,
  upper: number | JArray,
  body: (i: JArray, val: C) => C,
  init: C
): C => {
  // The loop index is int32, as in JAX (which refuses bounds of different or non-integer types).
  for (const [name, b] of [
    ["lower", lower],
    ["upper", upper]
  ] as const) {
    if (typeof b === "number" ? !Number.isInteger(b) : !isArray(b) || (b.dtype !== "int32" && b.dtype !== "uint32")) {
      throw new ArgumentError({
        op: "foriLoop",
        reason: `${name} must be an integer (a whole number or an int32 Array), got ${typeof b === "number" ? b : isArray(b) ? `an Array of dtype ${b.dtype}` : typeof b}; round it, e.g. Math.floor`
      })
    }
  }
  if (typeof lower === "number" && typeof upper === "number") {
    const n = Math.max(0, upper - lower)
    const [final] = scan(
      (carry: readonly [JArray, C], _x: null) => {
        const [i, v] = carry
        return [[bind1("add", [i, fromScalar(1, "int32")], {}), body(i, v)] as const, null] as const
      },
      [fromScalar(lower, "int32"), init] as const,
      null,
      { length: n }
    )
    return final[1]
  }
  const lo = bind1("convert_element_type", [asArray(lower)], { newDtype: "int32", weakType: false })
  const hi = bind1("convert_element_type", [asArray(upper)], { newDtype: "int32", weakType: false })
  const [, , result] = whileLoop(
    ([i, u]: readonly [JArray, JArray, C]) => bind1("lt", [i, u], {}),
    ([i, u, v]: readonly [JArray, JArray, C]) =>
      [bind1("add", [i, fromScalar(1, "int32")], {}), u, body(i, v)] as const,
    [lo, hi, init] as const
  )
  return result
}
