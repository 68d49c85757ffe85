/**
 * sort: every lane along `dimension` is sorted lexicographically by the first `numKeys` operands,
 * stably, with NaN after +inf (XLA's total order for floats, with -0 and +0 tying), and all
 * operands are permuted alike.
 *
 * A single operand sorts its lanes with the typed array's own numeric sort, whose default order is
 * that one except that it puts -0 before +0; the zeros are then put back in input order. Otherwise each lane sorts an index permutation whose comparator breaks ties by
 * index, which makes it stable whatever the engine's algorithm.
 */
import { allocHost } from "../DType.ts"
import type { HostArray } from "../DType.ts"
import { normalizeAxis, sizeOf } from "../shape.ts"
import type { CpuKernel } from "./kernel.ts"

/** Ascending with NaN last; 0 for ties, including two NaNs. */
const compareValues = (x: number, y: number): number => {
  if (x < y) return -1
  if (x > y) return 1
  if (x === y) return 0
  const xNaN = x !== x,
    yNaN = y !== y
  return xNaN === yNaN ? 0 : xNaN ? 1 : -1
}

/**
 * The typed array's sort puts -0 before +0; XLA's order ties them, and the sort is stable: rewrites
 * the sorted lane's zeros with the signs they had in input order.
 */
const tieZeros = (sorted: HostArray, input: HostArray): void => {
  let at = sorted.indexOf(0)
  if (at < 0) return
  for (let k = 0; k < input.length; k++) if (input[k] === 0) sorted[at++] = input[k]!
}

export const sortKernel: CpuKernel<"sort"> = (inputs, inAvals, _outAvals, params) => {
  const aval = inAvals[0]!
  const shape = aval.shape
  const d = normalizeAxis("sort", params.dimension, shape.length)
  const n = shape[d]!
  const inner = sizeOf(shape.slice(d + 1))
  const outer = sizeOf(shape.slice(0, d))

  if (inputs.length === 1) {
    const input = inputs[0]!
    const out = input.slice()
    const floats = aval.dtype === "float32"
    if (inner === 1) {
      for (let o = 0; o < outer; o++) {
        const lane = out.subarray(o * n, o * n + n)
        lane.sort()
        if (floats) tieZeros(lane, input.subarray(o * n, o * n + n))
      }
      return [out]
    }
    const lane = allocHost(aval.dtype, n)
    const original = allocHost(aval.dtype, n)
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i
        for (let k = 0; k < n; k++) lane[k] = out[base + k * inner]!
        original.set(lane)
        lane.sort()
        if (floats) tieZeros(lane, original)
        for (let k = 0; k < n; k++) out[base + k * inner] = lane[k]!
      }
    }
    return [out]
  }

  // Keys of the current lane, gathered contiguously so the comparator does no index arithmetic.
  const keys = inputs.slice(0, params.numKeys).map(() => new Float64Array(n))
  const perm: Array<number> = new Array<number>(n)
  const compare = (p: number, q: number): number => {
    for (let t = 0; t < keys.length; t++) {
      const key = keys[t]!
      const c = compareValues(key[p]!, key[q]!)
      if (c !== 0) return c
    }
    return p - q
  }
  const outs: Array<HostArray> = inputs.map((x, j) => allocHost(inAvals[j]!.dtype, x.length))
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i
      keys.forEach((key, t) => {
        const x = inputs[t]!
        for (let k = 0; k < n; k++) key[k] = x[base + k * inner]!
      })
      for (let k = 0; k < n; k++) perm[k] = k
      perm.sort(compare)
      inputs.forEach((x, j) => {
        const out = outs[j]!
        for (let k = 0; k < n; k++) out[base + k * inner] = x[base + perm[k]! * inner]!
      })
    }
  }
  return outs
}
