/**
 * Strided iteration shared by the kernels that walk several arrays in lockstep (broadcasting
 * elementwise ops, copies between layouts, reductions). A loop nest over a shape, with one stride
 * vector per array, is collapsed to as few dimensions as possible and then walked one innermost row
 * at a time: callers run a specialised tight loop per row, so the per-element cost carries no index
 * arithmetic and no calls.
 */
import { wordsPerElement } from "../DType.ts"
import type { Aval, HostArray } from "../DType.ts"

interface Collapsed {
  readonly dims: Array<number>
  readonly strides: Array<Array<number>>
  readonly total: number
}

/** The same loop nest with as few axes as possible. */
const collapse = (shape: ReadonlyArray<number>, strides: ReadonlyArray<ReadonlyArray<number>>): Collapsed => {
  const k = strides.length
  // Size-1 axes contribute nothing; dropping them first lets more neighbours merge.
  const dims: Array<number> = []
  const st: Array<Array<number>> = strides.map(() => [])
  let total = 1
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!
    total *= d
    if (d === 1) continue
    dims.push(d)
    for (let a = 0; a < k; a++) st[a]!.push(strides[a]![i]!)
  }
  // Merge axis i into i+1 when every array walks them as one contiguous run.
  for (let i = dims.length - 2; i >= 0; i--) {
    const inner = dims[i + 1]!
    let mergeable = true
    for (let a = 0; a < k && mergeable; a++) mergeable = st[a]![i] === st[a]![i + 1]! * inner
    if (mergeable) {
      dims[i + 1] = dims[i]! * inner
      dims.splice(i, 1)
      for (let a = 0; a < k; a++) st[a]!.splice(i, 1)
    }
  }
  return { dims, strides: st, total }
}

/**
 * Row-by-row walk of a strided loop nest. `offsets` holds each array's offset at the start of the
 * current row and `steps` each array's stride along the row; `advance` moves to the next row.
 * Mutable on purpose: one cursor per kernel call, no allocation per row.
 */
export class RowCursor {
  /** Number of rows to visit. */
  readonly count: number
  /** Elements per row. */
  readonly length: number
  readonly steps: Int32Array
  readonly offsets: Int32Array
  private readonly outer: Int32Array
  private readonly strides: Array<Int32Array>
  private readonly counter: Int32Array

  constructor(
    shape: ReadonlyArray<number>,
    strides: ReadonlyArray<ReadonlyArray<number>>,
    bases: ReadonlyArray<number>
  ) {
    const { dims, strides: st, total } = collapse(shape, strides)
    const nd = dims.length
    this.length = total === 0 ? 0 : nd === 0 ? 1 : dims[nd - 1]!
    this.count = total === 0 ? 0 : total / this.length
    this.steps = Int32Array.from(st, (s) => (nd === 0 ? 0 : s[nd - 1]!))
    this.offsets = Int32Array.from(bases)
    this.outer = Int32Array.from(dims.slice(0, Math.max(0, nd - 1)))
    this.strides = st.map((s) => Int32Array.from(s.slice(0, Math.max(0, nd - 1))))
    this.counter = new Int32Array(this.outer.length)
  }

  advance(): void {
    const outer = this.outer
    const counter = this.counter
    const offsets = this.offsets
    const k = offsets.length
    for (let d = outer.length - 1; d >= 0; d--) {
      const c = counter[d]! + 1
      if (c < outer[d]!) {
        counter[d] = c
        for (let a = 0; a < k; a++) offsets[a] = offsets[a]! + this.strides[a]![d]!
        return
      }
      counter[d] = 0
      for (let a = 0; a < k; a++) offsets[a] = offsets[a]! - (c - 1) * this.strides[a]![d]!
    }
  }
}

/** Walks `shape` with the given per-array strides, each array starting at its base offset (default 0). */
export const rowCursor = (
  shape: ReadonlyArray<number>,
  strides: ReadonlyArray<ReadonlyArray<number>>,
  bases?: ReadonlyArray<number>
): RowCursor => new RowCursor(shape, strides, bases ?? strides.map(() => 0))

/** Strides of an operand broadcast into an output of the same rank: size-1 axes do not move. */
export const broadcastStrides = (shape: ReadonlyArray<number>): Array<number> => {
  const st = new Array<number>(shape.length)
  let acc = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!
    st[i] = d === 1 ? 0 : acc
    acc *= d
  }
  return st
}

/** Long contiguous runs go through `set`, whose memcpy beats a JS loop once past the view's cost. */
const SET_THRESHOLD = 64

/** Copies one row of `n` elements between arrays of the same element type. */
export const copyRow = (
  dst: HostArray,
  di: number,
  ds: number,
  src: HostArray,
  si: number,
  ss: number,
  n: number
): void => {
  if (ds === 1 && ss === 1) {
    if (n >= SET_THRESHOLD) {
      dst.set(src.subarray(si, si + n), di)
      return
    }
    for (let k = 0; k < n; k++) dst[di + k] = src[si + k]!
    return
  }
  for (let k = 0; k < n; k++, di += ds, si += ss) dst[di] = src[si]!
}

const TILE = 32

/** Copies an `R × C` block, `TILE × TILE` at a time, so both sides' cache lines are reused. */
const copyTiled = (
  dst: HostArray,
  d0: number,
  dR: number,
  dC: number,
  src: HostArray,
  s0: number,
  sR: number,
  sC: number,
  R: number,
  C: number
): void => {
  for (let i0 = 0; i0 < R; i0 += TILE) {
    const i1 = Math.min(R, i0 + TILE)
    for (let j0 = 0; j0 < C; j0 += TILE) {
      const j1 = Math.min(C, j0 + TILE)
      for (let i = i0; i < i1; i++) {
        let di = d0 + i * dR + j0 * dC,
          si = s0 + i * sR + j0 * sC
        for (let j = j0; j < j1; j++, di += dC, si += sC) dst[di] = src[si]!
      }
    }
  }
}

/** Copies `shape` elements from `src` (strided) into `dst` (strided), starting at the given offsets. */
export const copyStrided = (
  shape: ReadonlyArray<number>,
  dst: HostArray,
  dstStrides: ReadonlyArray<number>,
  dstBase: number,
  src: HostArray,
  srcStrides: ReadonlyArray<number>,
  srcBase: number
): void => {
  const {
    dims,
    strides: [ds, ss],
    total
  } = collapse(shape, [dstStrides, srcStrides])
  const nd = dims.length
  if (total > 0 && nd >= 2) {
    // A transposing copy reads across memory along its rows. Tiling the row axis with the axis that
    // `src` walks most closely turns those reads into cache-line-sized runs.
    const last = nd - 1
    let p = 0
    for (let i = 1; i < last; i++) if (Math.abs(ss![i]!) < Math.abs(ss![p]!)) p = i
    const sC = ss![last]!
    if (Math.abs(sC) > 1 && Math.abs(ss![p]!) < Math.abs(sC) && dims[p]! >= 8 && dims[last]! >= 8) {
      const keep = (_: number, i: number) => i !== p && i !== last
      const cur = rowCursor(dims.filter(keep), [ds!.filter(keep), ss!.filter(keep)], [dstBase, srcBase])
      const o = cur.offsets
      const dStep = cur.steps[0]!,
        sStep = cur.steps[1]!
      for (let r = 0; r < cur.count; r++, cur.advance()) {
        for (let t = 0; t < cur.length; t++) {
          copyTiled(
            dst,
            o[0]! + t * dStep,
            ds![p]!,
            ds![last]!,
            src,
            o[1]! + t * sStep,
            ss![p]!,
            sC,
            dims[p]!,
            dims[last]!
          )
        }
      }
      return
    }
  }
  const cur = rowCursor(shape, [dstStrides, srcStrides], [dstBase, srcBase])
  const o = cur.offsets
  const dStep = cur.steps[0]!,
    sStep = cur.steps[1]!,
    n = cur.length
  for (let r = 0; r < cur.count; r++, cur.advance()) copyRow(dst, o[0]!, dStep, src, o[1]!, sStep, n)
}

/**
 * Every row's start offsets, precomputed: for a loop nest walked many times from different bases
 * (one gathered slice per index), so each walk costs no cursor. `offsets[r * k + a]` is array `a`'s
 * offset at row `r`, relative to its base.
 */
export interface RowTable {
  readonly count: number
  readonly length: number
  readonly steps: Int32Array
  readonly offsets: Int32Array
}

export const rowTable = (shape: ReadonlyArray<number>, strides: ReadonlyArray<ReadonlyArray<number>>): RowTable => {
  const cur = rowCursor(shape, strides)
  const k = strides.length
  const offsets = new Int32Array(cur.count * k)
  for (let r = 0; r < cur.count; r++, cur.advance()) offsets.set(cur.offsets, r * k)
  return { count: cur.count, length: cur.length, steps: cur.steps, offsets }
}

/** The storage shape of an array: a key array's two words per element become a trailing axis of 2. */
export const storageShape = (aval: Aval): Array<number> =>
  wordsPerElement(aval.dtype) === 2 ? [...aval.shape, 2] : aval.shape.slice()
