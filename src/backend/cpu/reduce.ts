/**
 * Reductions over axes, argmax/argmin and cumulative scans.
 *
 * Reductions walk the input in storage order (cache-friendly whichever axes are reduced) into an
 * accumulator laid out like the output, whose stride is 0 along reduced axes. float32 sums and
 * products accumulate in double and round once at the end; integer accumulators are the dtype's
 * own typed array, or wrap with `| 0` / `Math.imul`, so overflow wraps as in XLA. On bool, XLA's
 * add and mul are logical or and and.
 */
import { allocHost } from "../DType.ts"
import type { DType, HostArray } from "../DType.ts"
import type { CumulativePrimitive, ReducePrimitive } from "../Primitive.ts"
import { normalizeAxes, normalizeAxis, sizeOf, stridesOf } from "../shape.ts"
import type { CpuKernel } from "./kernel.ts"
import { rowCursor } from "./stridedRows.ts"

type Kind = "sumFloat" | "sumInt" | "prodFloat" | "prodInt" | "max" | "min" | "and" | "or"

/** Reduces one strided row into the accumulator; `as` is 0 when the row runs along a reduced axis. */
type RowLoop = (
  acc: HostArray | Float64Array,
  ai: number,
  as: number,
  x: HostArray,
  xi: number,
  xs: number,
  n: number
) => void

// One literal per kind so the combining operation is inlined. With `as === 0` the accumulator
// stays in a local across the row.
const rowLoops: { readonly [K in Kind]: RowLoop } = {
  sumFloat: (acc, ai, as, x, xi, xs, n) => {
    if (as === 0) {
      let s = acc[ai]!
      for (let k = 0; k < n; k++, xi += xs) s += x[xi]!
      acc[ai] = s
      return
    }
    for (let k = 0; k < n; k++, ai += as, xi += xs) acc[ai] = acc[ai]! + x[xi]!
  },
  sumInt: (acc, ai, as, x, xi, xs, n) => {
    if (as === 0) {
      let s = acc[ai]!
      for (let k = 0; k < n; k++, xi += xs) s = (s + x[xi]!) | 0
      acc[ai] = s
      return
    }
    for (let k = 0; k < n; k++, ai += as, xi += xs) acc[ai] = acc[ai]! + x[xi]!
  },
  prodFloat: (acc, ai, as, x, xi, xs, n) => {
    if (as === 0) {
      let s = acc[ai]!
      for (let k = 0; k < n; k++, xi += xs) s *= x[xi]!
      acc[ai] = s
      return
    }
    for (let k = 0; k < n; k++, ai += as, xi += xs) acc[ai] = acc[ai]! * x[xi]!
  },
  prodInt: (acc, ai, as, x, xi, xs, n) => {
    if (as === 0) {
      let s = acc[ai]!
      for (let k = 0; k < n; k++, xi += xs) s = Math.imul(s, x[xi]!)
      acc[ai] = s
      return
    }
    for (let k = 0; k < n; k++, ai += as, xi += xs) acc[ai] = Math.imul(acc[ai]!, x[xi]!)
  },
  max: (acc, ai, as, x, xi, xs, n) => {
    if (as === 0) {
      let s = acc[ai]!
      for (let k = 0; k < n; k++, xi += xs) s = Math.max(s, x[xi]!)
      acc[ai] = s
      return
    }
    for (let k = 0; k < n; k++, ai += as, xi += xs) acc[ai] = Math.max(acc[ai]!, x[xi]!)
  },
  min: (acc, ai, as, x, xi, xs, n) => {
    if (as === 0) {
      let s = acc[ai]!
      for (let k = 0; k < n; k++, xi += xs) s = Math.min(s, x[xi]!)
      acc[ai] = s
      return
    }
    for (let k = 0; k < n; k++, ai += as, xi += xs) acc[ai] = Math.min(acc[ai]!, x[xi]!)
  },
  and: (acc, ai, as, x, xi, xs, n) => {
    if (as === 0) {
      let s = acc[ai]!
      for (let k = 0; k < n; k++, xi += xs) s &= x[xi]!
      acc[ai] = s
      return
    }
    for (let k = 0; k < n; k++, ai += as, xi += xs) acc[ai] = acc[ai]! & x[xi]!
  },
  or: (acc, ai, as, x, xi, xs, n) => {
    if (as === 0) {
      let s = acc[ai]!
      for (let k = 0; k < n; k++, xi += xs) s |= x[xi]!
      acc[ai] = s
      return
    }
    for (let k = 0; k < n; k++, ai += as, xi += xs) acc[ai] = acc[ai]! | x[xi]!
  }
}

const kindOf = (prim: ReducePrimitive, dtype: DType): Kind => {
  const float = dtype === "float32"
  const bool = dtype === "bool"
  switch (prim) {
    case "reduce_sum":
      return float ? "sumFloat" : bool ? "or" : "sumInt"
    case "reduce_prod":
      return float ? "prodFloat" : bool ? "and" : "prodInt"
    case "reduce_max":
      return "max"
    case "reduce_min":
      return "min"
    case "reduce_and":
      return "and"
    case "reduce_or":
      return "or"
  }
}

const identity = (kind: Kind, dtype: DType): number => {
  switch (kind) {
    case "sumFloat":
    case "sumInt":
    case "or":
      return 0
    case "prodFloat":
    case "prodInt":
      return 1
    case "and":
      return dtype === "bool" ? 1 : -1
    case "max":
      return dtype === "float32" ? -Infinity : dtype === "int32" ? -2147483648 : 0
    case "min":
      return dtype === "float32" ? Infinity : dtype === "int32" ? 2147483647 : dtype === "uint32" ? 0xffffffff : 1
  }
}

const accumulator = (dtype: DType, n: number): HostArray | Float64Array => {
  switch (dtype) {
    case "float32":
      return new Float64Array(n)
    case "int32":
      return new Int32Array(n)
    case "uint32":
      return new Uint32Array(n)
    default:
      return new Uint8Array(n)
  }
}

export const reduceKernel =
  <P extends ReducePrimitive>(prim: P): CpuKernel<P> =>
  (inputs, inAvals, _outAvals, params) => {
    const inAval = inAvals[0]!
    const x = inputs[0]!
    const shape = inAval.shape
    const dtype = inAval.dtype
    const axes = normalizeAxes(prim, params.axes, shape.length)
    const kind = kindOf(prim, dtype)
    const outSize = sizeOf(shape.filter((_, i) => !axes.includes(i)))
    const acc = accumulator(dtype, outSize)
    acc.fill(identity(kind, dtype))
    // Output strides, with 0 on reduced axes so every input element lands on its output slot.
    const accStrides = new Array<number>(shape.length)
    let s = 1
    for (let i = shape.length - 1; i >= 0; i--) {
      if (axes.includes(i)) accStrides[i] = 0
      else {
        accStrides[i] = s
        s *= shape[i]!
      }
    }
    const loop = rowLoops[kind]
    const cur = rowCursor(shape, [accStrides, stridesOf(shape)])
    const off = cur.offsets
    const as = cur.steps[0]!,
      xs = cur.steps[1]!,
      len = cur.length
    for (let r = 0; r < cur.count; r++, cur.advance()) loop(acc, off[0]!, as, x, off[1]!, xs, len)
    return [acc instanceof Float64Array ? new Float32Array(acc) : acc]
  }

/** Views an axis as `[outer, n, inner]`. */
const around = (shape: ReadonlyArray<number>, axis: number): readonly [number, number, number] => [
  sizeOf(shape.slice(0, axis)),
  shape[axis]!,
  sizeOf(shape.slice(axis + 1))
]

/**
 * argmax/argmin: the first index of the extreme; a NaN counts as the extreme, so the first NaN wins
 * and nothing replaces it. Lanes are scanned side by side (a row of `inner` bests per step along the
 * axis) so memory is read in order.
 */
export const argKernel =
  <P extends "argmax" | "argmin">(prim: P): CpuKernel<P> =>
  (inputs, inAvals, _outAvals, params) => {
    const shape = inAvals[0]!.shape
    const x = inputs[0]!
    const [outer, n, inner] = around(shape, normalizeAxis(prim, params.axis, shape.length))
    const out = new Int32Array(outer * inner)
    const best = new Float64Array(inner)
    const isMax = prim === "argmax"
    for (let o = 0; o < outer; o++) {
      const base = o * n * inner
      const outBase = o * inner
      for (let i = 0; i < inner; i++) best[i] = x[base + i]!
      for (let k = 1; k < n; k++) {
        const row = base + k * inner
        for (let i = 0; i < inner; i++) {
          const b = best[i]!
          if (b !== b) continue
          const v = x[row + i]!
          if (v !== v || (isMax ? v > b : v < b)) {
            best[i] = v
            out[outBase + i] = k
          }
        }
      }
    }
    return [out]
  }

type LaneLoop = (x: HostArray, out: HostArray, start: number, step: number, n: number) => void

// Scans one lane, the running value in a local (a double for float32, so sums round once per output).
const laneLoops: { readonly [K in Exclude<Kind, "and">]: LaneLoop } = {
  sumFloat: (x, out, i, st, n) => {
    let s = 0
    for (let k = 0; k < n; k++, i += st) {
      s += x[i]!
      out[i] = s
    }
  },
  sumInt: (x, out, i, st, n) => {
    let s = 0
    for (let k = 0; k < n; k++, i += st) {
      s = (s + x[i]!) | 0
      out[i] = s
    }
  },
  prodFloat: (x, out, i, st, n) => {
    let s = 1
    for (let k = 0; k < n; k++, i += st) {
      s *= x[i]!
      out[i] = s
    }
  },
  prodInt: (x, out, i, st, n) => {
    let s = 1
    for (let k = 0; k < n; k++, i += st) {
      s = Math.imul(s, x[i]!)
      out[i] = s
    }
  },
  max: (x, out, i, st, n) => {
    let s = -Infinity
    for (let k = 0; k < n; k++, i += st) {
      s = Math.max(s, x[i]!)
      out[i] = s
    }
  },
  min: (x, out, i, st, n) => {
    let s = Infinity
    for (let k = 0; k < n; k++, i += st) {
      s = Math.min(s, x[i]!)
      out[i] = s
    }
  },
  or: (x, out, i, st, n) => {
    let s = 0
    for (let k = 0; k < n; k++, i += st) {
      s |= x[i]!
      out[i] = s
    }
  }
}

const cumulativeKind = (prim: CumulativePrimitive, dtype: DType): Exclude<Kind, "and"> => {
  const float = dtype === "float32"
  switch (prim) {
    case "cumsum":
      return float ? "sumFloat" : dtype === "bool" ? "or" : "sumInt"
    // imul of 0/1 is logical and, so bool products need no loop of their own.
    case "cumprod":
      return float ? "prodFloat" : "prodInt"
    case "cummax":
      return "max"
    case "cummin":
      return "min"
  }
}

export const cumulativeKernel =
  <P extends CumulativePrimitive>(prim: P): CpuKernel<P> =>
  (inputs, inAvals, outAvals, params) => {
    const inAval = inAvals[0]!
    const x = inputs[0]!
    const outAval = outAvals[0]!
    const out = allocHost(outAval.dtype, sizeOf(outAval.shape))
    const [outer, n, inner] = around(inAval.shape, normalizeAxis(prim, params.axis, inAval.shape.length))
    const loop = laneLoops[cumulativeKind(prim, inAval.dtype)]
    const step = params.reverse ? -inner : inner
    for (let o = 0; o < outer; o++) {
      const base = o * n * inner + (params.reverse ? (n - 1) * inner : 0)
      for (let i = 0; i < inner; i++) loop(x, out, base + i, step, n)
    }
    return [out]
  }
