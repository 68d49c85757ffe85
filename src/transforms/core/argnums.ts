/**
 * Argument positions (`argnums`, `staticArgnums`): their types, which follow the parameter list of
 * the transformed function so that a position past its end, or given twice, does not compile, and
 * the run-time check for the calls the types cannot see (rest parameters, casts, generic wrappers).
 *
 * The types stay flat on purpose: a mapped type over the parameter tuple and a lookup table, no
 * recursion, so checking a call costs a handful of instantiations.
 *
 * @since 0.2.0
 */
import { GradError, StructureError } from "./TransformError.ts"

// Lookup tables by parameter count: an indexed access is the cheapest type to compute (a mapped type
// over the parameters and a template-literal parse of each key cost ten times as many instantiations).
// An optional parameter makes the count a union (`1 | 2`), and the lookup gives the union of both.
type Positions = [
  never,
  0,
  0 | 1,
  0 | 1 | 2,
  0 | 1 | 2 | 3,
  0 | 1 | 2 | 3 | 4,
  0 | 1 | 2 | 3 | 4 | 5,
  0 | 1 | 2 | 3 | 4 | 5 | 6,
  0 | 1 | 2 | 3 | 4 | 5 | 6 | 7
]
type Negatives = [
  never,
  -1,
  -1 | -2,
  -1 | -2 | -3,
  -1 | -2 | -3 | -4,
  -1 | -2 | -3 | -4 | -5,
  -1 | -2 | -3 | -4 | -5 | -6,
  -1 | -2 | -3 | -4 | -5 | -6 | -7,
  -1 | -2 | -3 | -4 | -5 | -6 | -7 | -8
]
type Counted = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8

/**
 * The non-negative positions of a parameter tuple: `0 | 1` for two parameters; `number` for a rest
 * parameter or more than 8 parameters.
 */
export type Position<Args extends ReadonlyArray<unknown>> = Args["length"] extends Counted
  ? Positions[Args["length"]]
  : number

/**
 * The positions `argnums` may name: the non-negative ones and, as in JAX, the negative ones counted
 * from the end (`-1` is the last parameter).
 */
export type ArgIndex<Args extends ReadonlyArray<unknown>> = Args["length"] extends Counted
  ? Positions[Args["length"]] | Negatives[Args["length"]]
  : number

/** An `argnums` option for a function of parameters `Args`: one position or a list of them. */
export type Argnums<Args extends ReadonlyArray<unknown>> = ArgIndex<Args> | ReadonlyArray<ArgIndex<Args>>

/** The first entry of a tuple that appears again later in it, or `never`. */
export type Repeated<A> = A extends readonly [infer H, ...infer T] ? (H extends T[number] ? H : Repeated<T>) : never

/**
 * Constraints that hold when the list `A` names no position twice: `unknown` then, or a record
 * whose key says what is wrong, which no value is assignable to. Only lists of two or more are
 * looked into, and the keys are plain literals: both keep the common call (one position) cheap.
 * A single position, or none (`never`, when the option is not given), passes first, as a whole
 * (`[A]`: a bare `A` would distribute over `never` and give `never`, which no function matches).
 */
export type UniqueArgnums<A> = [A] extends [number]
  ? unknown
  : A extends readonly [unknown, unknown, ...Array<unknown>]
    ? [Repeated<A>] extends [never]
      ? unknown
      : { readonly "argnums names a position twice": Repeated<A> }
    : unknown

/** {@link UniqueArgnums} for `staticArgnums`. */
export type UniqueStaticArgnums<A> = [A] extends [number]
  ? unknown
  : A extends readonly [unknown, unknown, ...Array<unknown>]
    ? [Repeated<A>] extends [never]
      ? unknown
      : { readonly "staticArgnums names a position twice": Repeated<A> }
    : unknown

/** The element of `Args` at position `A` (negative positions count from the end). */
export type At<Args extends ReadonlyArray<unknown>, A> = A extends number
  ? `${A}` extends `-${infer K extends number}`
    ? FromEnd<Args, K>
    : Args[A]
  : never

type Dec = [0, 0, 1, 2, 3, 4, 5, 6, 7]

type FromEnd<Args extends ReadonlyArray<unknown>, K extends number> = K extends keyof Dec
  ? Args extends readonly [...infer Init, infer Last]
    ? K extends 1
      ? Last
      : FromEnd<Init, Dec[K]>
    : Args[number]
  : Args[number]

/**
 * `argnums` as non-negative positions, checked against a call with `n` positional arguments: each
 * an integer in `[-n, n)`, none twice. A `GradError` names the bad entry.
 */
export const normalizeArgnums = (
  transform: string,
  argnums: number | ReadonlyArray<number>,
  n: number
): Array<number> => {
  const list = typeof argnums === "number" ? [argnums] : [...argnums]
  const seen = new Map<number, number>()
  return list.map((a) => {
    if (!Number.isInteger(a) || a < -n || a >= n) {
      throw new GradError({
        transform,
        reason: `argnums ${a} is out of range for a call with ${n} positional argument${n === 1 ? "" : "s"} (positions ${n === 0 ? "none" : `-${n} to ${n - 1}`}); drop it from argnums or pass the argument`
      })
    }
    const i = a < 0 ? a + n : a
    const before = seen.get(i)
    if (before !== undefined) {
      throw new GradError({
        transform,
        reason: `argnums names argument ${i} twice (${before} and ${a}); list each argument once`
      })
    }
    seen.set(i, a)
    return i
  })
}

/**
 * The static positions of a `staticArgnums` option: non-negative integers, none twice. Checked when
 * the transform is made; a position past the arguments of a call is checked by
 * {@link checkStaticPositions} when the call comes.
 */
export const staticPositions = (
  staticArgnums: number | ReadonlyArray<number> | undefined,
  transform = "jit"
): ReadonlySet<number> => {
  const list = typeof staticArgnums === "number" ? [staticArgnums] : (staticArgnums ?? [])
  const bad = list.find((i) => !Number.isInteger(i) || i < 0)
  if (bad !== undefined)
    throw new StructureError({
      transform,
      reason: `staticArgnums holds argument positions (non-negative integers), got ${bad}`
    })
  const set = new Set(list)
  if (set.size !== list.length) {
    const twice = list.find((i, k) => list.indexOf(i) !== k)
    throw new StructureError({
      transform,
      reason: `staticArgnums names position ${twice} twice; list each position once`
    })
  }
  return set
}

/** A static position past the last argument is a mistake JAX reports rather than ignores. */
export const checkStaticPositions = (transform: string, positions: ReadonlySet<number>, count: number): void => {
  for (const i of positions) {
    if (i >= count) {
      throw new StructureError({
        transform,
        reason: `staticArgnums includes ${i}, but the function was called with ${count} argument${count === 1 ? "" : "s"} (positions 0 to ${count - 1}); drop ${i} from staticArgnums or pass the argument`
      })
    }
  }
}
