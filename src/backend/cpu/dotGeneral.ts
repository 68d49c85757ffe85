/**
 * dot_general. Both operands are first laid out contiguously as `[B, M, K]` and `[B, K, N]` (batch,
 * free, contracting axes), skipping the copy when the layout already is that, so the product is a
 * batched matmul whose i-k-j loop reads both operands and writes the output in order.
 *
 * float32 rows accumulate in a Float64Array (products of float32 values are exact in double) and round
 * once into the output; integer products wrap through `Math.imul` and the typed-array store; bool is
 * XLA's or-of-ands.
 */
import { allocHost } from "../DType.ts"
import type { DType, HostArray } from "../DType.ts"
import { dotDims } from "../dotDims.ts"
import { sizeOf, stridesOf } from "../shape.ts"
import type { CpuKernel } from "./kernel.ts"
import { copyStrided } from "./stridedRows.ts"

/** `x` with its axes in `order`, as a contiguous array (`x` itself when already so). */
const arrange = (x: HostArray, shape: ReadonlyArray<number>, order: ReadonlyArray<number>, dtype: DType): HostArray => {
  // Size-1 axes can sit anywhere without changing the storage order.
  const moved = order.filter((a) => shape[a] !== 1)
  if (moved.every((a, i) => i === 0 || a > moved[i - 1]!)) return x
  const strides = stridesOf(shape)
  const outShape = order.map((a) => shape[a]!)
  const out = allocHost(dtype, x.length)
  copyStrided(
    outShape,
    out,
    stridesOf(outShape),
    0,
    x,
    order.map((a) => strides[a]!),
    0
  )
  return out
}

const matmulFloat = (a: HostArray, b: HostArray, out: HostArray, B: number, M: number, K: number, N: number): void => {
  if (N === 1) {
    for (let bi = 0; bi < B; bi++) {
      const bRow = bi * K
      for (let i = 0; i < M; i++) {
        const aRow = (bi * M + i) * K
        let s = 0
        for (let k = 0; k < K; k++) s += a[aRow + k]! * b[bRow + k]!
        out[bi * M + i] = s
      }
    }
    return
  }
  const acc = new Float64Array(N)
  for (let bi = 0; bi < B; bi++) {
    for (let i = 0; i < M; i++) {
      acc.fill(0)
      const aRow = (bi * M + i) * K
      for (let k = 0; k < K; k++) {
        const av = a[aRow + k]!
        const bRow = (bi * K + k) * N
        for (let j = 0; j < N; j++) acc[j] = acc[j]! + av * b[bRow + j]!
      }
      out.set(acc, (bi * M + i) * N)
    }
  }
}

const matmulInt = (a: HostArray, b: HostArray, out: HostArray, B: number, M: number, K: number, N: number): void => {
  for (let bi = 0; bi < B; bi++) {
    for (let i = 0; i < M; i++) {
      const aRow = (bi * M + i) * K
      const o = (bi * M + i) * N
      for (let k = 0; k < K; k++) {
        const av = a[aRow + k]!
        if (av === 0) continue
        const bRow = (bi * K + k) * N
        for (let j = 0; j < N; j++) out[o + j] = out[o + j]! + Math.imul(av, b[bRow + j]!)
      }
    }
  }
}

const matmulBool = (a: HostArray, b: HostArray, out: HostArray, B: number, M: number, K: number, N: number): void => {
  for (let bi = 0; bi < B; bi++) {
    for (let i = 0; i < M; i++) {
      const aRow = (bi * M + i) * K
      const o = (bi * M + i) * N
      for (let k = 0; k < K; k++) {
        if (a[aRow + k] === 0) continue
        const bRow = (bi * K + k) * N
        for (let j = 0; j < N; j++) out[o + j] = out[o + j]! | b[bRow + j]!
      }
    }
  }
}

export const dotGeneralKernel: CpuKernel<"dot_general"> = (inputs, inAvals, outAvals, params) => {
  const l = inAvals[0]!,
    r = inAvals[1]!
  const { lc, rc, lb, rb, lFree, rFree, B, M, K, N } = dotDims(l, r, params)
  const dtype = l.dtype
  const a = arrange(inputs[0]!, l.shape, [...lb, ...lFree, ...lc], dtype)
  const b = arrange(inputs[1]!, r.shape, [...rb, ...rc, ...rFree], dtype)
  const outAval = outAvals[0]!
  const out = allocHost(outAval.dtype, sizeOf(outAval.shape))
  if (dtype === "float32") matmulFloat(a, b, out, B, M, K, N)
  else if (dtype === "bool") matmulBool(a, b, out, B, M, K, N)
  else matmulInt(a, b, out, B, M, K, N)
  return [out]
}
