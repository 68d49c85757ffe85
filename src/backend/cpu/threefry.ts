/**
 * The cpu kernel of the `threefry2x32` primitive: the Threefry-2x32 block cipher (Salmon et al.,
 * "Parallel random numbers: as easy as 1, 2, 3", SC 2011) with 20 rounds, bit-identical to JAX's
 * `threefry2x32` primitive.
 *
 * Each output element pair `(y1, y2)` encrypts the counter pair `(x1, x2)` under the key pair
 * `(k1, k2)`. Operands have equal rank; a dimension of size 1 broadcasts.
 *
 * @since 0.1.0
 */
import type { HostArray } from "../DType.ts"
import { sizeOf, stridesOf } from "../shape.ts"
import type { CpuKernel } from "./kernel.ts"

/** The Threefish key-schedule parity constant. */
const PARITY = 0x1bd11bda

/**
 * Encrypts `n` counter pairs. Operand `j` is read at index `i * sj`: a stride of 1 walks a full
 * operand, 0 repeats a single element. Additions wrap modulo 2^32 (`| 0` keeps the words in
 * int32 registers; the bit patterns are those of uint32 arithmetic, and the Uint32Array stores
 * read them back as unsigned). Rotation amounts alternate between two groups of four (13, 15,
 * 26, 6 and 17, 29, 16, 24), and a subkey (with the round number) is injected every four rounds.
 */
const encrypt = (
  k1: Uint32Array,
  s1: number,
  k2: Uint32Array,
  s2: number,
  x1: Uint32Array,
  s3: number,
  x2: Uint32Array,
  s4: number,
  y1: Uint32Array,
  y2: Uint32Array,
  n: number
): void => {
  for (let i = 0; i < n; i++) {
    const ka = k1[i * s1]! | 0
    const kb = k2[i * s2]! | 0
    const kc = ka ^ kb ^ PARITY
    let a = (x1[i * s3]! + ka) | 0
    let b = (x2[i * s4]! + kb) | 0

    a = (a + b) | 0
    b = ((b << 13) | (b >>> 19)) ^ a
    a = (a + b) | 0
    b = ((b << 15) | (b >>> 17)) ^ a
    a = (a + b) | 0
    b = ((b << 26) | (b >>> 6)) ^ a
    a = (a + b) | 0
    b = ((b << 6) | (b >>> 26)) ^ a
    a = (a + kb) | 0
    b = (b + kc + 1) | 0

    a = (a + b) | 0
    b = ((b << 17) | (b >>> 15)) ^ a
    a = (a + b) | 0
    b = ((b << 29) | (b >>> 3)) ^ a
    a = (a + b) | 0
    b = ((b << 16) | (b >>> 16)) ^ a
    a = (a + b) | 0
    b = ((b << 24) | (b >>> 8)) ^ a
    a = (a + kc) | 0
    b = (b + ka + 2) | 0

    a = (a + b) | 0
    b = ((b << 13) | (b >>> 19)) ^ a
    a = (a + b) | 0
    b = ((b << 15) | (b >>> 17)) ^ a
    a = (a + b) | 0
    b = ((b << 26) | (b >>> 6)) ^ a
    a = (a + b) | 0
    b = ((b << 6) | (b >>> 26)) ^ a
    a = (a + ka) | 0
    b = (b + kb + 3) | 0

    a = (a + b) | 0
    b = ((b << 17) | (b >>> 15)) ^ a
    a = (a + b) | 0
    b = ((b << 29) | (b >>> 3)) ^ a
    a = (a + b) | 0
    b = ((b << 16) | (b >>> 16)) ^ a
    a = (a + b) | 0
    b = ((b << 24) | (b >>> 8)) ^ a
    a = (a + kb) | 0
    b = (b + kc + 4) | 0

    a = (a + b) | 0
    b = ((b << 13) | (b >>> 19)) ^ a
    a = (a + b) | 0
    b = ((b << 15) | (b >>> 17)) ^ a
    a = (a + b) | 0
    b = ((b << 26) | (b >>> 6)) ^ a
    a = (a + b) | 0
    b = ((b << 6) | (b >>> 26)) ^ a
    a = (a + kc) | 0
    b = (b + ka + 5) | 0

    y1[i] = a
    y2[i] = b
  }
}

/**
 * For each output element, the flat index into an operand of shape `inShape` (same rank as
 * `outShape`, size-1 dimensions broadcast).
 */
const broadcastIndex = (inShape: ReadonlyArray<number>, outShape: ReadonlyArray<number>): Int32Array => {
  const n = sizeOf(outShape)
  const nd = outShape.length
  const inStrides = stridesOf(inShape).map((s, d) => (inShape[d] === 1 ? 0 : s))
  const out = new Int32Array(n)
  const counter = new Array<number>(nd).fill(0)
  let offset = 0
  for (let i = 0; i < n; i++) {
    out[i] = offset
    for (let d = nd - 1; d >= 0; d--) {
      const c = counter[d]! + 1
      if (c < outShape[d]!) {
        counter[d] = c
        offset += inStrides[d]!
        break
      }
      counter[d] = 0
      offset -= inStrides[d]! * (outShape[d]! - 1)
    }
  }
  return out
}

const sameShape = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i])

const asWords = (x: HostArray | undefined): Uint32Array => {
  if (!(x instanceof Uint32Array)) throw new TypeError("threefry2x32: operands must be uint32 storage")
  return x
}

/**
 * The `threefry2x32` cpu kernel: `(k1, k2, x1, x2) => [y1, y2]` on uint32 words.
 * @category kernels
 * @since 0.1.0
 */
export const threefry2x32Kernel: CpuKernel<"threefry2x32"> = (inputs, inAvals, outAvals) => {
  const outShape = outAvals[0]!.shape
  const n = sizeOf(outShape)
  const y1 = new Uint32Array(n)
  const y2 = new Uint32Array(n)
  // Each operand is read with stride 1 when it has the output's shape, 0 when it is a single
  // element (a key shared by all counters); anything else is first broadcast to the full shape.
  const operands = inputs.map((data, j) => {
    const words = asWords(data)
    const shape = inAvals[j]!.shape
    if (sameShape(shape, outShape)) return [words, 1] as const
    if (words.length === 1) return [words, 0] as const
    const idx = broadcastIndex(shape, outShape)
    const full = new Uint32Array(n)
    for (let i = 0; i < n; i++) full[i] = words[idx[i]!]!
    return [full, 1] as const
  })
  const [[k1, s1], [k2, s2], [x1, s3], [x2, s4]] = operands as [
    readonly [Uint32Array, number],
    readonly [Uint32Array, number],
    readonly [Uint32Array, number],
    readonly [Uint32Array, number]
  ]
  encrypt(k1, s1, k2, s2, x1, s3, x2, s4, y1, y2, n)
  return [y1, y2]
}
