/**
 * gather, scatter and scatter_add (see `GatherParams` in Primitive.ts).
 *
 * The indices array is read as `B × J` index rows of `K` entries: `B` batch positions (paired with
 * the operand's leading axes), `J` index positions each, `K` indexed axes. Every index row selects
 * one slice of the operand over its remaining ("rest") axes, of `R` elements; the gathered output,
 * like the updates, is laid out `[B, J, R]`. The strided walk over a rest slice is precomputed once
 * ({@link rowTable}) and replayed from each slice's base offset.
 */
import { allocHost } from "../DType.ts"
import type { Aval, DType, HostArray } from "../DType.ts"
import type { GatherParams } from "../Primitive.ts"
import { normalizeAxes, sizeOf, stridesOf } from "../shape.ts"
import type { CpuKernel } from "./kernel.ts"
import { copyRow, rowTable, storageShape } from "./stridedRows.ts"
import type { RowTable } from "./stridedRows.ts"

interface IndexPlan {
  readonly B: number
  readonly J: number
  readonly K: number
  readonly R: number
  /** Operand size of each indexed axis. */
  readonly dims: Int32Array
  /** Operand stride of each indexed axis. */
  readonly axisStrides: Int32Array
  /** Operand offset of each batch position. */
  readonly batchOffsets: Int32Array
  /** A rest slice: array 0 is the contiguous `[B, J, R]` side, array 1 the operand. */
  readonly rest: RowTable
}

const plan = (op: string, operand: Aval, indices: Aval, p: GatherParams): IndexPlan => {
  const shape = storageShape(operand)
  const strides = stridesOf(shape)
  const b = p.batchDims
  // Normalised against the logical rank: a key's word axis is last and never indexed.
  const axes = normalizeAxes(op, p.indexedAxes, operand.shape.length)
  const restAxes = shape.map((_, i) => i).filter((i) => i >= b && !axes.includes(i))
  const restShape = restAxes.map((i) => shape[i]!)
  let batchOffsets = [0]
  for (let i = 0; i < b; i++) {
    const next: Array<number> = []
    for (const o of batchOffsets) for (let v = 0; v < shape[i]!; v++) next.push(o + v * strides[i]!)
    batchOffsets = next
  }
  return {
    B: batchOffsets.length,
    J: sizeOf(indices.shape.slice(b, -1)),
    K: axes.length,
    R: sizeOf(restShape),
    dims: Int32Array.from(axes, (a) => shape[a]!),
    axisStrides: Int32Array.from(axes, (a) => strides[a]!),
    batchOffsets: Int32Array.from(batchOffsets),
    rest: rowTable(restShape, [stridesOf(restShape), restAxes.map((i) => strides[i]!)])
  }
}

/**
 * The operand offset selected by index row `row`, or -1 when an index is out of range in "fill" mode.
 * uint32 indices of 2^31 or more read as large positive numbers, hence out of range.
 */
const sliceOffset = (pl: IndexPlan, idx: HostArray, row: number, base: number, clip: boolean): number => {
  const K = pl.K
  let off = base
  for (let t = 0; t < K; t++) {
    let v = idx[row * K + t]!
    const d = pl.dims[t]!
    if (v < 0 || v >= d) {
      if (!clip || d === 0) return -1
      v = v < 0 ? 0 : d - 1
    }
    off += v * pl.axisStrides[t]!
  }
  return off
}

/** What "fill" mode gathers for an out-of-range index: JAX's defaults per dtype. */
const fillValue = (d: DType): number => {
  switch (d) {
    case "float32":
    case "complex64":
      return NaN
    case "int32":
      return -2147483648
    case "bool":
      return 1
    case "uint32":
    case "key<fry>":
      return 0xffffffff
  }
}

/**
 * Gathering single elements along one axis (`x[i]`, take_along_axis) is the common case; this loop
 * skips the general per-index bookkeeping. Every axis after the indexed one is a rest axis, and the
 * rest slice has one element, so they all have size 1: the indexed axis has stride 1.
 */
const gatherElements = (
  pl: IndexPlan,
  operand: HostArray,
  idx: HostArray,
  out: HostArray,
  clip: boolean,
  fill: number
): void => {
  const d = pl.dims[0]!,
    J = pl.J
  for (let bi = 0; bi < pl.B; bi++) {
    const base = pl.batchOffsets[bi]!
    for (let j = bi * J, end = j + J; j < end; j++) {
      const v = idx[j]!
      if (v >= 0 && v < d) out[j] = operand[base + v]!
      else if (clip && d > 0) out[j] = operand[base + (v < 0 ? 0 : d - 1)]!
      else out[j] = fill
    }
  }
}

export const gatherKernel: CpuKernel<"gather"> = (inputs, inAvals, outAvals, params) => {
  const operand = inputs[0]!,
    idx = inputs[1]!
  const outAval = outAvals[0]!
  const out = allocHost(outAval.dtype, sizeOf(outAval.shape))
  const pl = plan("gather", inAvals[0]!, inAvals[1]!, params)
  const { J, R, rest } = pl
  const clip = params.mode !== "fill"
  const fill = fillValue(outAval.dtype)
  if (R === 1 && pl.K === 1) {
    gatherElements(pl, operand, idx, out, clip, fill)
    return [out]
  }
  const rows = rest.count,
    len = rest.length,
    outStep = rest.steps[0]!,
    opStep = rest.steps[1]!,
    rel = rest.offsets
  for (let bi = 0; bi < pl.B; bi++) {
    const batchBase = pl.batchOffsets[bi]!
    for (let j = 0; j < J; j++) {
      const row = bi * J + j
      const off = sliceOffset(pl, idx, row, batchBase, clip)
      const outBase = row * R
      if (off < 0) {
        out.fill(fill, outBase, outBase + R)
        continue
      }
      for (let r = 0; r < rows; r++)
        copyRow(out, outBase + rel[2 * r]!, outStep, operand, off + rel[2 * r + 1]!, opStep, len)
    }
  }
  return [out]
}

/** Adds one row of updates into `dst`; bool addition is logical or, as in XLA. */
const addRow = (dst: HostArray, di: number, ds: number, src: HostArray, si: number, ss: number, n: number): void => {
  for (let k = 0; k < n; k++, di += ds, si += ss) dst[di] = dst[di]! + src[si]!
}
const orRow = (dst: HostArray, di: number, ds: number, src: HostArray, si: number, ss: number, n: number): void => {
  for (let k = 0; k < n; k++, di += ds, si += ss) dst[di] = dst[di]! | src[si]!
}

/** Applies each update slice in row-major order, so for `scatter` the last write wins. */
const scatter = (
  op: "scatter" | "scatter_add",
  write: typeof copyRow,
  inputs: ReadonlyArray<HostArray>,
  inAvals: ReadonlyArray<Aval>,
  params: GatherParams
): Array<HostArray> => {
  const idx = inputs[1]!,
    updates = inputs[2]!
  const out = inputs[0]!.slice()
  const pl = plan(op, inAvals[0]!, inAvals[1]!, params)
  const { J, R, rest } = pl
  const clip = params.mode === "clip"
  const rows = rest.count,
    len = rest.length,
    updStep = rest.steps[0]!,
    opStep = rest.steps[1]!,
    rel = rest.offsets
  for (let bi = 0; bi < pl.B; bi++) {
    const batchBase = pl.batchOffsets[bi]!
    for (let j = 0; j < J; j++) {
      const row = bi * J + j
      const off = sliceOffset(pl, idx, row, batchBase, clip)
      if (off < 0) continue
      const updBase = row * R
      for (let r = 0; r < rows; r++)
        write(out, off + rel[2 * r + 1]!, opStep, updates, updBase + rel[2 * r]!, updStep, len)
    }
  }
  return [out]
}

export const scatterKernel: CpuKernel<"scatter"> = (inputs, inAvals, _outAvals, params) =>
  scatter("scatter", copyRow, inputs, inAvals, params)

export const scatterAddKernel: CpuKernel<"scatter_add"> = (inputs, inAvals, _outAvals, params) =>
  scatter("scatter_add", inAvals[0]!.dtype === "bool" ? orRow : addRow, inputs, inAvals, params)
