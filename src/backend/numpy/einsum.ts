/**
 * `einsum`: Einstein summation over any number of operands, as `jnp.einsum`. Subscripts may be
 * explicit (`"ij,jk->ik"`) or implicit (`"ij,jk"`: the output is the indices used once, sorted);
 * `...` stands for the dimensions no letter names, right-aligned and broadcast across operands as
 * NumPy broadcasts; a letter repeated within one operand takes its diagonal; a letter absent from
 * the output is summed.
 *
 * Lowered to the primitives the transforms already know, so einsum has every rule for free:
 * `diagonal` for repeated letters, a reduction for letters only one operand has, then one
 * `dot_general` per pair of operands, left to right (letters both share and still need become batch
 * dimensions, letters nobody needs any more are contracted), and a final transpose. JAX chooses the
 * pairing order by opt_einsum's cost model; with three or more operands the sums may round
 * differently here, within float32 precision.
 *
 * @since 0.1.0
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ArgumentError, ShapeError } from "../ArrayError.ts"
import { bind1 } from "../bind.ts"
import { asArray } from "./creation.ts"
import { multiply, promote } from "./elementwise.ts"
import { diagonal } from "./extraShape.ts"
import { sum } from "./reductions.ts"
import { broadcastTo, reshape, transpose } from "./shapeOps.ts"

const OP = "einsum"

/** A subscript label: a letter, or `0`, `1`, ... for the ellipsis dimensions counted from the left of the widest. */
type Label = string

interface Parsed {
  readonly inputs: ReadonlyArray<ReadonlyArray<Label>>
  readonly output: ReadonlyArray<Label>
}

const isLetter = (c: string): boolean => /^[A-Za-z]$/.test(c)

/** Splits one term into letters and at most one ellipsis. */
const termLabels = (term: string, where: string): { readonly letters: Array<string>; readonly ellipsis: number } => {
  const parts = term.split("...")
  if (parts.length > 2) throw new ArgumentError({ op: OP, reason: `${where} '${term}' has more than one ellipsis` })
  for (const c of parts.join("")) {
    if (!isLetter(c))
      throw new ArgumentError({
        op: OP,
        reason: `${where} '${term}' has '${c}'; subscripts are letters and at most one '...'`
      })
  }
  const letters = [...parts.join("")]
  return { letters, ellipsis: parts.length === 2 ? parts[0]!.length : -1 }
}

const parse = (spec: string, shapes: ReadonlyArray<ReadonlyArray<number>>): Parsed => {
  const s = spec.replace(/\s+/g, "")
  const arrow = s.split("->")
  if (arrow.length > 2) throw new ArgumentError({ op: OP, reason: `subscripts '${spec}' have more than one '->'` })
  const terms = arrow[0]!.split(",")
  if (terms.length !== shapes.length) {
    throw new ArgumentError({
      op: OP,
      reason: `subscripts '${spec}' name ${terms.length} operand${terms.length === 1 ? "" : "s"} but ${shapes.length} were given`
    })
  }
  const parsed = terms.map((t, i) => termLabels(t, `operand ${i}'s subscripts`))
  const ellipsisDims = parsed.map((p, i) => {
    const ndim = shapes[i]!.length
    if (p.ellipsis < 0) {
      if (p.letters.length !== ndim) {
        throw new ShapeError({
          op: OP,
          shapes: [shapes[i]!],
          reason: `operand ${i}'s subscripts '${terms[i]}' name ${p.letters.length} dimensions but it has ${ndim}`
        })
      }
      return 0
    }
    if (p.letters.length > ndim) {
      throw new ShapeError({
        op: OP,
        shapes: [shapes[i]!],
        reason: `operand ${i}'s subscripts '${terms[i]}' name ${p.letters.length} dimensions but it has only ${ndim}`
      })
    }
    return ndim - p.letters.length
  })
  const width = Math.max(0, ...ellipsisDims)
  // Ellipsis dimensions are right-aligned: an operand with k of them has the last k of the widest.
  const ellipsisLabels = (k: number): Array<Label> => Array.from({ length: k }, (_, j) => String(width - k + j))
  const inputs = parsed.map((p, i) =>
    p.ellipsis < 0
      ? p.letters
      : [...p.letters.slice(0, p.ellipsis), ...ellipsisLabels(ellipsisDims[i]!), ...p.letters.slice(p.ellipsis)]
  )
  let output: Array<Label>
  if (arrow.length === 2) {
    const out = termLabels(arrow[1]!, "the output's subscripts")
    const seen = new Set<string>()
    for (const c of out.letters) {
      if (seen.has(c)) throw new ArgumentError({ op: OP, reason: `output subscript '${c}' appears more than once` })
      seen.add(c)
      if (!parsed.some((p) => p.letters.includes(c)))
        throw new ArgumentError({ op: OP, reason: `output subscript '${c}' is not among the operands' subscripts` })
    }
    const ell = out.ellipsis < 0 ? [] : ellipsisLabels(width)
    // Without '...' in the output, the ellipsis dimensions are summed (as opt_einsum does).
    output =
      out.ellipsis < 0
        ? out.letters
        : [...out.letters.slice(0, out.ellipsis), ...ell, ...out.letters.slice(out.ellipsis)]
  } else {
    const counts = new Map<string, number>()
    for (const p of parsed) for (const c of p.letters) counts.set(c, (counts.get(c) ?? 0) + 1)
    const once = [...counts]
      .filter(([, n]) => n === 1)
      .map(([c]) => c)
      .sort()
    output = [...ellipsisLabels(width), ...once]
  }
  return { inputs, output }
}

interface Term {
  readonly x: JArray
  readonly labels: ReadonlyArray<Label>
}

/** Repeated labels within one operand: keep the diagonal. */
const takeDiagonals = (t: Term): Term => {
  let { x, labels } = t
  for (;;) {
    const i = labels.findIndex((l, k) => labels.indexOf(l) !== k)
    if (i < 0) return { x, labels }
    const first = labels.indexOf(labels[i]!)
    if (x.shape[first] !== x.shape[i]) {
      throw new ShapeError({
        op: OP,
        shapes: [x.shape],
        reason: `subscript '${labels[i]}' is repeated over dimensions of sizes ${x.shape[first]} and ${x.shape[i]}`
      })
    }
    x = diagonal(x, 0, first, i)
    labels = [...labels.filter((_, k) => k !== first && k !== i), labels[i]!]
  }
}

const sumOut = (t: Term, keep: (l: Label) => boolean): Term => {
  const axes = t.labels.map((l, k) => (keep(l) ? -1 : k)).filter((k) => k >= 0)
  if (axes.length === 0) return t
  return { x: sum(t.x, axes), labels: t.labels.filter((l) => keep(l)) }
}

/** Broadcasts size-1 dimensions of a shared label to the other operand's size. */
const alignSizes = (a: Term, b: Term, shared: ReadonlyArray<Label>): readonly [Term, Term] => {
  const target = (t: Term, other: Term): JArray => {
    const shape = t.x.shape.map((n, k) => {
      const l = t.labels[k]!
      if (!shared.includes(l)) return n
      const m = other.x.shape[other.labels.indexOf(l)]!
      if (n === m || m === 1) return n
      if (n === 1) return m
      throw new ShapeError({
        op: OP,
        shapes: [a.x.shape, b.x.shape],
        reason: `subscript '${/^\d+$/.test(l) ? "..." : l}' has sizes ${n} and ${m}, which do not broadcast`
      })
    })
    return shape.every((n, k) => n === t.x.shape[k]) ? t.x : broadcastTo(t.x, shape)
  }
  return [
    { x: target(a, b), labels: a.labels },
    { x: target(b, a), labels: b.labels }
  ]
}

/** One pairwise step: batch over labels still needed by both, contract labels nobody needs further. */
const contractPair = (a0: Term, b0: Term, needed: ReadonlySet<Label>): Term => {
  const shared = a0.labels.filter((l) => b0.labels.includes(l))
  const [a, b] = alignSizes(a0, b0, shared)
  const batch = shared.filter((l) => needed.has(l))
  const contract = shared.filter((l) => !needed.has(l))
  const freeA = a.labels.filter((l) => !shared.includes(l))
  const freeB = b.labels.filter((l) => !shared.includes(l))
  const labels = [...batch, ...freeA, ...freeB]
  if (contract.length === 0) {
    // An outer product over the free labels: a broadcast multiply keeps every rule elementwise.
    const at = (t: Term, order: ReadonlyArray<Label>): JArray => {
      const xt = transpose(
        t.x,
        order.filter((l) => t.labels.includes(l)).map((l) => t.labels.indexOf(l))
      )
      return reshape(
        xt,
        labels.map((l) => (t.labels.includes(l) ? t.x.shape[t.labels.indexOf(l)]! : 1))
      )
    }
    return { x: multiply(at(a, labels), at(b, labels)), labels }
  }
  const idx = (t: Term, ls: ReadonlyArray<Label>): Array<number> => ls.map((l) => t.labels.indexOf(l))
  const x = bind1("dot_general", [a.x, b.x], {
    lhsContracting: idx(a, contract),
    rhsContracting: idx(b, contract),
    lhsBatch: idx(a, batch),
    rhsBatch: idx(b, batch)
  })
  return { x, labels }
}

/**
 * Einstein summation, as `jnp.einsum(subscripts, *operands)`.
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * const a = jnp.ones([2, 3]), b = jnp.ones([3, 4])
 * jnp.einsum("ij,jk->ik", a, b).shape   // [2, 4]
 * jnp.einsum("ii->i", jnp.eye(3)).tolist() // [1, 1, 1]
 * jnp.einsum("...ij,...jk->...ik", jnp.ones([5, 2, 3]), b).shape // [5, 2, 4]
 * ```
 * @category products
 * @since 0.1.0
 */
export const einsum = (subscripts: string, ...operands: ReadonlyArray<ArrayLike>): JArray => {
  if (operands.length === 0) throw new ArgumentError({ op: OP, reason: "needs at least one operand" })
  const xs = operands.length === 1 ? [asArray(operands[0]!)] : promote(OP, operands)
  const { inputs, output } = parse(
    subscripts,
    xs.map((x) => x.shape)
  )
  let terms: Array<Term> = xs.map((x, i) => takeDiagonals({ x, labels: inputs[i]! }))
  // Labels only one operand has and the output does not: sum them before any product.
  terms = terms.map((t, i) =>
    sumOut(t, (l) => output.includes(l) || terms.some((u, j) => j !== i && u.labels.includes(l)))
  )
  let acc = terms[0]!
  for (let i = 1; i < terms.length; i++) {
    const needed = new Set<Label>([...output, ...terms.slice(i + 1).flatMap((t) => t.labels)])
    acc = contractPair(acc, terms[i]!, needed)
  }
  acc = sumOut(acc, (l) => output.includes(l))
  const perm = output.map((l) => acc.labels.indexOf(l))
  return transpose(acc.x, perm)
}
