/**
 * Elementwise binary kernels (arithmetic and comparisons) and `select`, with equal-rank broadcasting.
 *
 * Each (primitive, dtype family) has its own loop literal over one strided row; a kernel picks the loop
 * once and then runs it over the whole array (same shapes or a scalar-like operand) or over the rows
 * of a {@link RowCursor} (general broadcasting). Typed-array stores do the dtype's rounding: a
 * Float32Array rounds the double result once, Int32Array/Uint32Array wrap it modulo 2^32, which is
 * exactly XLA's wraparound for add/sub/neg and for `Math.imul` products.
 */
import { allocHost, wordsPerElement } from "../DType.ts"
import type { DType, HostArray } from "../DType.ts"
import type { BinaryPrimitive } from "../Primitive.ts"
import { sizeOf, stridesOf } from "../shape.ts"
import type { CpuKernel } from "./kernel.ts"
import { broadcastStrides, rowCursor, storageShape } from "./stridedRows.ts"

type Loop = (
  o: HostArray,
  oi: number,
  a: HostArray,
  ai: number,
  as: number,
  b: HostArray,
  bi: number,
  bs: number,
  n: number
) => void

/** C pow where JS differs: pow(1, y) = 1 and pow(-1, ±inf) = 1 (JS gives NaN for both). */
const powFloat = (x: number, y: number): number =>
  x === 1 || (x === -1 && (y === Infinity || y === -Infinity)) ? 1 : Math.pow(x, y)

/** Exponentiation by squaring, wrapping modulo 2^32 (the store decides signedness). */
const powInt = (x: number, y: number): number => {
  if (y < 0) return x === 1 ? 1 : x === -1 ? ((y & 1) === 0 ? 1 : -1) : 0
  let r = 1
  let base = x | 0
  let e = y >>> 0
  while (e !== 0) {
    if ((e & 1) !== 0) r = Math.imul(r, base)
    base = Math.imul(base, base)
    e >>>= 1
  }
  return r
}

const nextBuf = new ArrayBuffer(4)
const nextF32 = new Float32Array(nextBuf)
const nextU32 = new Uint32Array(nextBuf)

/** The float32 after `x` in the direction of `y`, stepping the bit pattern as C's nextafterf does. */
const nextAfterF32 = (x: number, y: number): number => {
  if (x !== x || y !== y) return NaN
  if (x === y) return y
  if (x === 0) {
    nextU32[0] = y > 0 ? 1 : 0x80000001
    return nextF32[0]!
  }
  nextF32[0] = x
  // Away from zero increments the magnitude bits whatever the sign; toward zero decrements them.
  nextU32[0] = x < y === x > 0 ? nextU32[0]! + 1 : nextU32[0]! - 1
  return nextF32[0]!
}

/** Loops named by the operation family; which one a primitive uses depends on its dtype. */
const loops = {
  add: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai]! + b[bi]!
  },
  sub: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai]! - b[bi]!
  },
  mulFloat: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai]! * b[bi]!
  },
  mulInt: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = Math.imul(a[ai]!, b[bi]!)
  },
  divFloat: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai]! / b[bi]!
  },
  // Division by zero gives all ones (XLA); INT_MIN / -1 = 2^31 wraps to INT_MIN through `| 0`. The
  // double quotient of two 32-bit ints never rounds across an integer, so truncating it is exact.
  divInt32: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) {
      const y = b[bi]!
      o[oi + k] = y === 0 ? -1 : (a[ai]! / y) | 0
    }
  },
  divUint32: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) {
      const y = b[bi]!
      o[oi + k] = y === 0 ? 0xffffffff : (a[ai]! / y) >>> 0
    }
  },
  // JS `%` is C's fmod for floats and truncating remainder for ints; XLA defines x rem 0 = x for ints.
  remFloat: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai]! % b[bi]!
  },
  remInt: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) {
      const x = a[ai]!,
        y = b[bi]!
      o[oi + k] = y === 0 ? x : x % y
    }
  },
  powFloat: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = powFloat(a[ai]!, b[bi]!)
  },
  powInt: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = powInt(a[ai]!, b[bi]!)
  },
  // Math.max/min propagate NaN, as XLA's max/min do.
  max: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = Math.max(a[ai]!, b[bi]!)
  },
  min: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = Math.min(a[ai]!, b[bi]!)
  },
  and: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai]! & b[bi]!
  },
  or: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai]! | b[bi]!
  },
  xor: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai]! ^ b[bi]!
  },
  // `y >>> 0 < 32` is the in-range test for both int32 (negative y fails) and uint32 shift amounts.
  shiftLeft: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) {
      const y = b[bi]!
      o[oi + k] = y >>> 0 < 32 ? a[ai]! << y : 0
    }
  },
  shiftRightLogical: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) {
      const y = b[bi]!
      o[oi + k] = y >>> 0 < 32 ? a[ai]! >>> y : 0
    }
  },
  // `>>` reads the bits as signed, so uint32 shifts arithmetically too; too far a shift fills with the sign.
  shiftRightArithmetic: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) {
      const y = b[bi]!
      o[oi + k] = a[ai]! >> (y >>> 0 < 32 ? y : 31)
    }
  },
  nextafter: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = nextAfterF32(a[ai]!, b[bi]!)
  },
  atan2: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = Math.atan2(a[ai]!, b[bi]!)
  },
  eq: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai]! === b[bi]! ? 1 : 0
  },
  ne: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai]! !== b[bi]! ? 1 : 0
  },
  lt: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai]! < b[bi]! ? 1 : 0
  },
  le: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai]! <= b[bi]! ? 1 : 0
  },
  gt: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai]! > b[bi]! ? 1 : 0
  },
  ge: (o, oi, a, ai, as, b, bi, bs, n) => {
    for (let k = 0; k < n; k++, ai += as, bi += bs) o[oi + k] = a[ai]! >= b[bi]! ? 1 : 0
  }
} satisfies Record<string, Loop>

/** The loop implementing `prim` on operands of `dtype`. */
const loopFor = (prim: BinaryPrimitive, dtype: DType): Loop => {
  const isFloat = dtype === "float32"
  switch (prim) {
    case "mul":
      return isFloat ? loops.mulFloat : loops.mulInt
    case "div":
      return isFloat ? loops.divFloat : dtype === "int32" ? loops.divInt32 : loops.divUint32
    case "rem":
      return isFloat ? loops.remFloat : loops.remInt
    case "pow":
      return isFloat ? loops.powFloat : loops.powInt
    case "shift_left":
      return loops.shiftLeft
    case "shift_right_logical":
      return loops.shiftRightLogical
    case "shift_right_arithmetic":
      return loops.shiftRightArithmetic
    default:
      return loops[prim]
  }
}

/** Runs `loop` over the broadcast of `a` and `b` into `out` (all of rank `outShape.length`). */
const runBroadcast = (
  loop: Loop,
  out: HostArray,
  outShape: ReadonlyArray<number>,
  a: HostArray,
  aShape: ReadonlyArray<number>,
  b: HostArray,
  bShape: ReadonlyArray<number>
): void => {
  const n = out.length
  if (n === 0) return
  const na = a.length,
    nb = b.length
  // Equal rank and per-axis broadcasting make "same size" mean "same shape".
  if (na === n && nb === n) return loop(out, 0, a, 0, 1, b, 0, 1, n)
  if (na === n && nb === 1) return loop(out, 0, a, 0, 1, b, 0, 0, n)
  if (na === 1 && nb === n) return loop(out, 0, a, 0, 0, b, 0, 1, n)
  const cur = rowCursor(outShape, [stridesOf(outShape), broadcastStrides(aShape), broadcastStrides(bShape)])
  const off = cur.offsets
  const as = cur.steps[1]!,
    bs = cur.steps[2]!,
    len = cur.length
  for (let r = 0; r < cur.count; r++, cur.advance()) loop(out, off[0]!, a, off[1]!, as, b, off[2]!, bs, len)
}

/** The kernel of an arithmetic or comparison primitive. */
export const binaryKernel =
  <P extends BinaryPrimitive>(prim: P): CpuKernel<P> =>
  (inputs, inAvals, outAvals) => {
    const outAval = outAvals[0]!
    const out = allocHost(outAval.dtype, sizeOf(outAval.shape))
    runBroadcast(
      loopFor(prim, inAvals[0]!.dtype),
      out,
      outAval.shape,
      inputs[0]!,
      inAvals[0]!.shape,
      inputs[1]!,
      inAvals[1]!.shape
    )
    return [out]
  }

type SelectLoop = (
  o: HostArray,
  oi: number,
  p: HostArray,
  pi: number,
  ps: number,
  a: HostArray,
  ai: number,
  as: number,
  b: HostArray,
  bi: number,
  bs: number,
  n: number
) => void

const selectLoop: SelectLoop = (o, oi, p, pi, ps, a, ai, as, b, bi, bs, n) => {
  for (let k = 0; k < n; k++, pi += ps, ai += as, bi += bs) o[oi + k] = p[pi]! !== 0 ? a[ai]! : b[bi]!
}

/** select(pred, onTrue, onFalse); key operands move whole (the predicate broadcasts over both words). */
export const selectKernel: CpuKernel<"select"> = (inputs, inAvals, outAvals) => {
  const outAval = outAvals[0]!
  const out = allocHost(outAval.dtype, sizeOf(outAval.shape))
  const n = out.length
  if (n === 0) return [out]
  const p = inputs[0]!,
    a = inputs[1]!,
    b = inputs[2]!
  if (p.length === 1 && wordsPerElement(outAval.dtype) === 1) {
    const src = p[0] !== 0 ? a : b
    if (src.length === n) {
      out.set(src)
      return [out]
    }
    if (src.length === 1) {
      out.fill(src[0]!)
      return [out]
    }
  }
  if (p.length === n && a.length === n && b.length === n) {
    selectLoop(out, 0, p, 0, 1, a, 0, 1, b, 0, 1, n)
    return [out]
  }
  const keyed = wordsPerElement(outAval.dtype) === 2
  const shape = storageShape(outAval)
  const predShape = keyed ? [...inAvals[0]!.shape, 1] : inAvals[0]!.shape
  const cur = rowCursor(shape, [
    stridesOf(shape),
    broadcastStrides(predShape),
    broadcastStrides(storageShape(inAvals[1]!)),
    broadcastStrides(storageShape(inAvals[2]!))
  ])
  const off = cur.offsets
  const ps = cur.steps[1]!,
    as = cur.steps[2]!,
    bs = cur.steps[3]!,
    len = cur.length
  for (let r = 0; r < cur.count; r++, cur.advance())
    selectLoop(out, off[0]!, p, off[1]!, ps, a, off[2]!, as, b, off[3]!, bs, len)
  return [out]
}
