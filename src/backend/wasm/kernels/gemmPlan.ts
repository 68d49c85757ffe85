/**
 * How the wasm `dot_general` runs a given product: which kernel, reading the operands how, split into
 * which units over how many tasks, with how much scratch memory. A plan depends only on the operands'
 * shapes and dtype, the dimension numbers and the runtime's threads, so it is computed once per
 * product shape and cached.
 *
 * Layout. The batch, free and contracting axes of each operand are flattened into `[B, M, K]` (lhs)
 * and `[B, K, N]` (rhs), as the cpu kernel does, but without copying: each flattened group is read
 * through one stride when its axes lie in memory as one evenly strided run (any contiguous group, in
 * any position relative to the others), so `Aᵀ·B`, `A·Bᵀ` and batch axes anywhere are read in place;
 * the GEMM's packing takes arbitrary row and column strides. The order of the contracting pairs is free
 * (the sum is the same), so it is chosen to keep both operands in place when possible. Only an operand
 * whose group is not one run (contracting axes 0 and 2 of a 3-d array, say) is gathered into scratch
 * memory first. The output `[batch, lhs free, rhs free]` is C, contiguous.
 *
 * Kernels. A product with one row or one column (and operands in place) is a matrix-vector product
 * (`gemv.ts`), else the packed GEMM (`gemm.ts`).
 *
 * Threads. Products under {@link parallelFlops} run as one task. Larger GEMMs run on every thread,
 * which claim units of C (batch × row block × column block) as they go; the blocks are chosen so that
 * each task gets several units that finish together. Matrix-vector products split batches or rows
 * evenly. No split divides K, so each element is computed the same way for any number of threads.
 *
 * @since 0.2.0
 */
import type { Aval, DType } from "../../DType.ts"
import type { Params } from "../../Primitive.ts"
import { dotDims } from "../../dotDims.ts"
import { sizeOf, stridesOf } from "../../shape.ts"
import { elementBytes } from "./gemm.ts"
import type { GemmConfig, GemmElement } from "./gemm.ts"
import { axpyRows } from "./gemv.ts"
import type { GemvConfig } from "./gemv.ts"

/**
 * Below this many flops (2·B·M·N·K) a product runs as one task: a parallel run costs 5-10 µs of
 * hand-off, more than a second thread saves on smaller products.
 */
export const parallelFlops = 2 ** 21
/** Matrix-vector products, bound by memory bandwidth rather than arithmetic, need more to gain from threads. */
export const parallelGemvFlops = 2 ** 23

/** Largest blocks of K and of rows (A's packed block, kept in L2). */
const kcMax = 384
const mcMax = 144
/** Packed B of one round stays under this (whole batches per round, else columns of one batch). */
const packedLimit = 32 * 2 ** 20

/** Where an operand is read: in place, or gathered first into scratch as contiguous `[B, rows, cols]`. */
export interface Placement {
  /** Byte strides of the batch, row and column groups as the kernel reads them. */
  readonly strides: readonly [number, number, number]
  /** For a gathered operand: the operand's axes in gathered order, their sizes and element strides. */
  readonly gather:
    | { readonly shape: ReadonlyArray<number>; readonly strides: ReadonlyArray<number>; readonly bytes: number }
    | undefined
}

/** One round of a GEMM: batches `[b0, b1)`, columns `[n0, n1)`, its unit blocks and packing flags. */
export interface Round {
  readonly b0: number
  readonly b1: number
  readonly n0: number
  readonly n1: number
  readonly mc: number
  readonly nc: number
  readonly flags: number
}

export type DotPlan =
  | { readonly kind: "empty" }
  | { readonly kind: "zeros"; readonly bytes: number }
  | {
      readonly kind: "gemv"
      readonly config: GemvConfig
      readonly form: "dot" | "axpy"
      /** Whether X (the operand with rows) is the lhs. */
      readonly xIsLhs: boolean
      /** Byte strides: X's batch, row and k; v's batch and k; y's batch. */
      readonly strides: readonly [number, number, number, number, number, number]
      readonly K: number
      /** Per task: first and last batch, first and last row, two unused words. */
      readonly shares: Int32Array
    }
  | {
      readonly kind: "gemm"
      readonly config: GemmConfig
      readonly tasks: number
      readonly B: number
      readonly M: number
      readonly N: number
      readonly K: number
      readonly kc: number
      readonly lhs: Placement
      readonly rhs: Placement
      readonly rounds: ReadonlyArray<Round>
      /** Scratch offsets: flags (after the 64-byte counter), gathered lhs and rhs, packed B, task regions. */
      readonly offsets: {
        readonly flags: number
        readonly gatherA: number
        readonly gatherB: number
        readonly packed: number
        readonly work: number
        readonly total: number
      }
      readonly workBytes: number
    }

const elementOf = (dtype: DType): GemmElement | undefined => {
  switch (dtype) {
    case "float32":
      return "f32"
    case "int32":
    case "uint32":
      return "i32"
    case "bool":
      return "bool"
    default:
      return undefined
  }
}

/**
 * The micro-tile of each element: float32 keeps 3 × 16 in 12 accumulators (with 4 vectors of B and a
 * broadcast of A; measured faster than 6 × 8 and 4 × 12 here); integer multiplies need a temporary
 * each, so int32 and bool use 4 × 8.
 */
const configFor = (element: GemmElement, relaxed: boolean): GemmConfig =>
  element === "f32" ? { element, mr: 3, nv: 4, relaxed } : { element, mr: 4, nv: 2, relaxed: false }

/** The stride (in elements) that walks `axes`, in this order, as one flattened axis; `undefined` if none does. */
export const groupStride = (
  shape: ReadonlyArray<number>,
  strides: ReadonlyArray<number>,
  axes: ReadonlyArray<number>
): number | undefined => {
  const live = axes.filter((a) => shape[a] !== 1)
  // A group of one element is contiguous whatever its stride.
  if (live.length === 0) return 1
  for (let i = live.length - 2; i >= 0; i--) {
    if (strides[live[i]!] !== strides[live[i + 1]!]! * shape[live[i + 1]!]!) return undefined
  }
  return strides[live[live.length - 1]!]!
}

type Groups = readonly [ReadonlyArray<number>, ReadonlyArray<number>, ReadonlyArray<number>]

/** Element strides of the three groups of an operand, when each is one run. */
const groupStrides = (shape: ReadonlyArray<number>, groups: Groups): readonly [number, number, number] | undefined => {
  const st = stridesOf(shape)
  const s0 = groupStride(shape, st, groups[0]),
    s1 = groupStride(shape, st, groups[1]),
    s2 = groupStride(shape, st, groups[2])
  return s0 === undefined || s1 === undefined || s2 === undefined ? undefined : [s0, s1, s2]
}

const placement = (
  shape: ReadonlyArray<number>,
  groups: Groups,
  strides: readonly [number, number, number] | undefined,
  rows: number,
  cols: number,
  eb: number
): Placement => {
  if (strides !== undefined) return { strides: [strides[0] * eb, strides[1] * eb, strides[2] * eb], gather: undefined }
  const axes = [...groups[0], ...groups[1], ...groups[2]]
  const st = stridesOf(shape)
  const gatherShape = axes.map((a) => shape[a]!)
  return {
    strides: [rows * cols * eb, cols * eb, eb],
    gather: { shape: gatherShape, strides: axes.map((a) => st[a]!), bytes: sizeOf(gatherShape) * eb }
  }
}

const split = (n: number, parts: number, i: number): number => Math.floor((n * i) / parts)

/** A block size at most `max`, a multiple of `unit`, splitting `n` into equal blocks. */
const blockOf = (n: number, max: number, unit: number): number => {
  const blocks = Math.max(1, Math.ceil(n / Math.max(1, max)))
  return Math.max(unit, Math.ceil(Math.ceil(n / blocks) / unit) * unit)
}

const align = (bytes: number): number => Math.ceil(bytes / 64) * 64

/** Estimated cost of a unit of `rows × cols` in multiply-add lanes: its tiles, packing its rows of A, claiming it. */
const unitCost = (rows: number, cols: number, K: number, mr: number, nr: number): number =>
  Math.ceil(rows / mr) * mr * Math.ceil(cols / nr) * nr * K + 8 * rows * K + 20_000

/** When `tasks` threads take the units in order, each the next one as soon as it is free, the last to finish. */
const makespan = (
  rowBlocks: ReadonlyArray<number>,
  colBlocks: ReadonlyArray<number>,
  batches: number,
  K: number,
  tasks: number,
  mr: number,
  nr: number
): number => {
  const free = new Array<number>(tasks).fill(0)
  for (let b = 0; b < batches; b++) {
    for (const cols of colBlocks) {
      for (const rows of rowBlocks) {
        let first = 0
        for (let t = 1; t < tasks; t++) if (free[t]! < free[first]!) first = t
        free[first] = free[first]! + unitCost(rows, cols, K, mr, nr)
      }
    }
  }
  return Math.max(...free)
}

const blocks = (n: number, size: number): Array<number> =>
  Array.from({ length: Math.ceil(n / size) }, (_, i) => Math.min(size, n - i * size))

/**
 * Row blocks `mc` and column blocks `nc` of the units of one round (`batches` batches of `M × cols`).
 * One task, or enough batches for every task, takes the largest blocks; otherwise, among the blocks
 * (rows down to 4 micro-tiles, columns down to 64) that give each task at least four units (so a
 * thread slowed by other work hands some of its share to the others) and not many more, those that
 * finish soonest when the threads claim them in order, the largest within 2% of the best.
 */
export const unitBlocks = (
  batches: number,
  M: number,
  cols: number,
  K: number,
  tasks: number,
  mr: number,
  nr: number
): readonly [number, number] => {
  const largest = [blockOf(M, mcMax, mr), Math.ceil(cols / nr) * nr] as const
  if (tasks <= 1 || batches >= 4 * tasks) return largest
  const rowSizes = new Set<number>([largest[0]]),
    colSizes = new Set<number>()
  for (let n = 1; n <= 16; n++) {
    const mc = blockOf(M, Math.ceil(M / n), mr)
    if (mc <= largest[0] && (mc >= 4 * mr || n === 1)) rowSizes.add(mc)
  }
  for (let n = 1; n <= 4; n++) {
    const nc = blockOf(cols, Math.ceil(cols / n), nr)
    if (nc >= 64 || n === 1) colSizes.add(nc)
  }
  const shapes = [...rowSizes].flatMap((mc) =>
    [...colSizes].map((nc) => ({ mc, nc, units: batches * Math.ceil(M / mc) * Math.ceil(cols / nc) }))
  )
  const enough = Math.min(4 * tasks, Math.max(...shapes.map((c) => c.units)))
  const timed = shapes
    .filter((c) => c.units >= enough && c.units <= 4 * enough)
    .map((c) => ({ ...c, time: makespan(blocks(M, c.mc), blocks(cols, c.nc), batches, K, tasks, mr, nr) }))
  const best = Math.min(...timed.map((c) => c.time))
  const chosen = timed
    .filter((c) => c.time <= best * 1.02)
    .reduce((x, y) => (y.units < x.units ? y : x), { mc: largest[0], nc: largest[1], units: Infinity })
  return [chosen.mc, chosen.nc]
}

/** Rounds of the product: batches `[b0, b1)` and columns `[n0, n1)`, each with packed B under {@link packedLimit}. */
const roundsOf = (B: number, K: number, N: number, nr: number): Array<readonly [number, number, number, number]> => {
  const perBatch = K * Math.ceil(N / nr) * nr * 4
  const rounds: Array<readonly [number, number, number, number]> = []
  if (perBatch <= packedLimit) {
    const per = Math.floor(packedLimit / perBatch)
    for (let b0 = 0; b0 < B; b0 += per) rounds.push([b0, Math.min(B, b0 + per), 0, N])
  } else {
    const cols = Math.max(nr, Math.floor(packedLimit / (K * 4 * nr)) * nr)
    for (let b = 0; b < B; b++) for (let n0 = 0; n0 < N; n0 += cols) rounds.push([b, b + 1, n0, Math.min(N, n0 + cols)])
  }
  return rounds
}

/** The matrix-vector form of a product with `M = 1` or `N = 1` and both operands in place, if one applies. */
const gemvPlan = (
  element: "f32" | "i32",
  B: number,
  M: number,
  K: number,
  N: number,
  ls: readonly [number, number, number],
  rs: readonly [number, number, number],
  threads: number,
  relaxed: boolean
): DotPlan | undefined => {
  // y = X · v with X the operand that has rows: A (N = 1) or Bᵀ (M = 1). Strides here in elements.
  const forms = [
    ...(N === 1 ? [{ xIsLhs: true, rows: M, sX: [ls[0], ls[1], ls[2]] as const, sv: [rs[0], rs[1]] as const }] : []),
    ...(M === 1 ? [{ xIsLhs: false, rows: N, sX: [rs[0], rs[2], rs[1]] as const, sv: [ls[0], ls[2]] as const }] : [])
  ]
  for (const g of forms) {
    const form = g.sX[2] === 1 && g.sv[1] === 1 ? "dot" : g.sX[1] === 1 ? "axpy" : undefined
    if (form === undefined) continue
    const tasks = threads > 1 && 2 * B * M * N * K >= parallelGemvFlops ? threads : 1
    // Shares of batches when they divide evenly, else of rows in whole blocks.
    const unit = form === "axpy" ? axpyRows : 16
    const byBatch = B >= tasks && (B % tasks === 0 || B >= 4 * tasks)
    const units = Math.ceil(g.rows / unit)
    const parts = byBatch ? tasks : Math.max(1, Math.min(tasks, units))
    const shares = new Int32Array(parts * 6)
    for (let t = 0; t < parts; t++) {
      shares.set(
        byBatch
          ? [split(B, parts, t), split(B, parts, t + 1), 0, g.rows, 0, 0]
          : [0, B, split(units, parts, t) * unit, Math.min(g.rows, split(units, parts, t + 1) * unit), 0, 0],
        t * 6
      )
    }
    return {
      kind: "gemv",
      config: { element, relaxed: element === "f32" && relaxed },
      form,
      xIsLhs: g.xIsLhs,
      strides: [g.sX[0] * 4, g.sX[1] * 4, g.sX[2] * 4, g.sv[0] * 4, g.sv[1] * 4, g.rows * 4],
      K,
      shares
    }
  }
  return undefined
}

/** The plan of a product, or `undefined` for dtypes the wasm kernels do not cover. */
export const planDotGeneral = (
  l: Aval,
  r: Aval,
  params: Params<"dot_general">,
  threads: number,
  relaxed: boolean
): DotPlan | undefined => {
  const element = elementOf(l.dtype)
  if (element === undefined) return undefined
  const { lc, rc, lb, rb, lFree, rFree, B, M, K, N } = dotDims(l, r, params)
  const eb = elementBytes(element)
  if (B * M * N === 0) return { kind: "empty" }
  if (K === 0) return { kind: "zeros", bytes: B * M * N * eb }

  // The contracting pairs in the order that keeps the most operands in place.
  const pairs = lc.map((a, i) => [a, rc[i]!] as const)
  const orders =
    pairs.length < 2 ? [pairs] : [[...pairs].sort((x, y) => x[0] - y[0]), [...pairs].sort((x, y) => x[1] - y[1]), pairs]
  let best:
    | {
        lg: Groups
        rg: Groups
        ls: readonly [number, number, number] | undefined
        rs: readonly [number, number, number] | undefined
        score: number
      }
    | undefined
  for (const o of orders) {
    const lg: Groups = [lb, lFree, o.map((p) => p[0])],
      rg: Groups = [rb, o.map((p) => p[1]), rFree]
    const ls = groupStrides(l.shape, lg),
      rs = groupStrides(r.shape, rg)
    const score = (ls === undefined ? 0 : 1) + (rs === undefined ? 0 : 1)
    if (best === undefined || score > best.score) best = { lg, rg, ls, rs, score }
  }
  const { lg, rg, ls, rs } = best!

  if (element !== "bool" && ls !== undefined && rs !== undefined && (M === 1 || N === 1)) {
    const gemv = gemvPlan(element, B, M, K, N, ls, rs, threads, relaxed)
    if (gemv !== undefined) return gemv
  }

  const config = configFor(element, relaxed)
  const { mr } = config
  const nr = config.nv * 4
  const tasks = threads > 1 && 2 * B * M * N * K >= parallelFlops ? threads : 1
  const kc = blockOf(K, kcMax, 4)
  const rounds = roundsOf(B, K, N, nr).map(([b0, b1, n0, n1]): Round => {
    const [mc, nc] = unitBlocks(b1 - b0, M, n1 - n0, K, tasks, mr, nr)
    return { b0, b1, n0, n1, mc, nc, flags: (b1 - b0) * Math.ceil(K / kc) * Math.ceil((n1 - n0) / nc) }
  })
  let packedBytes = 0,
    flagBytes = 0
  for (const p of rounds) {
    packedBytes = Math.max(packedBytes, align((p.b1 - p.b0) * K * Math.ceil((p.n1 - p.n0) / nr) * nr * 4))
    flagBytes = Math.max(flagBytes, align(p.flags * 4))
  }
  const lhs = placement(l.shape, lg, ls, M, K, eb),
    rhs = placement(r.shape, rg, rs, K, N, eb)
  const workBytes = align((blockOf(M, mcMax, mr) * kc + mr * nr) * 4)
  // Scratch: the unit counter, the packing flags, gathered operands, packed B, each task's region.
  const flags = 64,
    gatherA = flags + flagBytes,
    gatherB = gatherA + align(lhs.gather?.bytes ?? 0)
  const packed = gatherB + align(rhs.gather?.bytes ?? 0),
    work = packed + packedBytes
  return {
    kind: "gemm",
    config,
    tasks,
    B,
    M,
    N,
    K,
    kc,
    lhs,
    rhs,
    rounds,
    workBytes,
    offsets: { flags, gatherA, gatherB, packed, work, total: work + tasks * workBytes }
  }
}
