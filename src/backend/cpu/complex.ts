/**
 * complex64 kernels: elementwise arithmetic, parts and conjugate, reductions, `dot_general`,
 * `select` and `pad` on interleaved (real, imaginary) float32 pairs. Each is computed in double and
 * rounded once by the Float32Array store, as the float32 kernels are. The copies (broadcast,
 * transpose, slice, concatenate, gather, ...) need nothing here: they move the pairs as two-word
 * elements (see `storageShape`).
 *
 * {@link withComplex} puts a complex kernel in front of a real one in the kernel table.
 */
import { allocHost } from "../DType.ts"
import type { Aval, HostArray } from "../DType.ts"
import type { Primitive } from "../Primitive.ts"
import { normalizeAxes, sizeOf, stridesOf } from "../shape.ts"
import type { CpuKernel } from "./kernel.ts"

const isComplex = (a: Aval): boolean => a.dtype === "complex64"

/** `complex` on complex operands, `real` otherwise. */
export const withComplex =
  <P extends Primitive>(real: CpuKernel<P>, complex: CpuKernel<P>): CpuKernel<P> =>
  (inputs, inAvals, outAvals, params) =>
    inAvals.some(isComplex) || outAvals.some(isComplex)
      ? complex(inputs, inAvals, outAvals, params)
      : real(inputs, inAvals, outAvals, params)

/**
 * The offsets each operand reads for every output element, in row-major output order: equal-rank
 * broadcasting, a size-1 dimension repeating.
 */
const broadcastOffsets = (
  out: ReadonlyArray<number>,
  shapes: ReadonlyArray<ReadonlyArray<number>>
): Array<Int32Array> => {
  const n = sizeOf(out)
  const strides = shapes.map((s) => stridesOf(s).map((st, i) => (s[i] === 1 ? 0 : st)))
  const offsets = shapes.map(() => new Int32Array(n))
  const idx = new Array<number>(out.length).fill(0)
  const cur = shapes.map(() => 0)
  for (let e = 0; e < n; e++) {
    for (let a = 0; a < shapes.length; a++) offsets[a]![e] = cur[a]!
    for (let d = out.length - 1; d >= 0; d--) {
      idx[d]!++
      for (let a = 0; a < shapes.length; a++) cur[a]! += strides[a]![d]!
      if (idx[d]! < out[d]!) break
      for (let a = 0; a < shapes.length; a++) cur[a]! -= strides[a]![d]! * out[d]!
      idx[d] = 0
    }
  }
  return offsets
}

// ---- elementwise ------------------------------------------------------------------------------

type ComplexUnary =
  | "neg"
  | "exp"
  | "log"
  | "sqrt"
  | "conj"
  | "sin"
  | "cos"
  | "tanh"
  | "logistic"
  | "rsqrt"
  | "log1p"
  | "expm1"
  | "sign"

/** sqrt with the branch cut on the negative real axis, as C's csqrt. */
const csqrt = (re: number, im: number): [number, number] => {
  if (re === 0 && im === 0) return [0, im]
  const m = Math.hypot(re, im)
  const t = Math.sqrt((m + Math.abs(re)) / 2)
  return re >= 0 ? [t, im / (2 * t)] : [Math.abs(im) / (2 * t), im < 0 || Object.is(im, -0) ? -t : t]
}

const unaryOps: { readonly [K in ComplexUnary]: (re: number, im: number) => [number, number] } = {
  neg: (re, im) => [-re, -im],
  conj: (re, im) => [re, -im],
  exp: (re, im) => {
    const m = Math.exp(re)
    return im === 0 ? [m, im] : [m * Math.cos(im), m * Math.sin(im)]
  },
  log: (re, im) => [Math.log(Math.hypot(re, im)), Math.atan2(im, re)],
  sqrt: csqrt,
  sin: (re, im) => [Math.sin(re) * Math.cosh(im), Math.cos(re) * Math.sinh(im)],
  cos: (re, im) => [Math.cos(re) * Math.cosh(im), -Math.sin(re) * Math.sinh(im)],
  tanh: (re, im) => {
    // (sinh 2a + i sin 2b) / (cosh 2a + cos 2b), which overflows past |a| ≈ 350: there tanh is ±1.
    if (Math.abs(re) > 20) return [Math.sign(re), 0 * Math.sin(2 * im)]
    const d = Math.cosh(2 * re) + Math.cos(2 * im)
    return [Math.sinh(2 * re) / d, Math.sin(2 * im) / d]
  },
  logistic: (re, im) => {
    // 1 / (1 + exp(-z))
    const m = Math.exp(-re)
    return cdiv(1, 0, 1 + m * Math.cos(-im), m * Math.sin(-im))
  },
  rsqrt: (re, im) => {
    const [sr, si] = csqrt(re, im)
    return cdiv(1, 0, sr, si)
  },
  log1p: (re, im) => [0.5 * Math.log1p(2 * re + re * re + im * im), Math.atan2(im, 1 + re)],
  expm1: (re, im) => {
    // exp(a) cos b - 1 = expm1(a) cos b - 2 sin²(b/2), accurate for small z.
    const s = Math.sin(im / 2)
    return [Math.expm1(re) * Math.cos(im) - 2 * s * s, Math.exp(re) * Math.sin(im)]
  },
  sign: (re, im) => {
    const m = Math.hypot(re, im)
    return m === 0 ? [0, 0] : [re / m, im / m]
  }
}

/** A unary primitive on complex operands with a complex result. */
export const complexUnaryKernel =
  <P extends ComplexUnary>(prim: P): CpuKernel<P> =>
  (inputs) => {
    const a = inputs[0]!
    const out = new Float32Array(a.length)
    const f = unaryOps[prim]
    for (let i = 0; i < a.length; i += 2) {
      const [re, im] = f(a[i]!, a[i + 1]!)
      out[i] = re
      out[i + 1] = im
    }
    return [out]
  }

/** `abs`, `real` and `imag`: complex operand, float32 result. */
export const complexToRealKernel =
  <P extends "abs" | "real" | "imag">(prim: P): CpuKernel<P> =>
  (inputs) => {
    const a = inputs[0]!
    const n = a.length >> 1
    const out = new Float32Array(n)
    for (let i = 0; i < n; i++) {
      const re = a[2 * i]!,
        im = a[2 * i + 1]!
      out[i] = prim === "abs" ? Math.hypot(re, im) : prim === "real" ? re : im
    }
    return [out]
  }

type ComplexBinary = "add" | "sub" | "mul" | "div" | "max" | "min" | "eq" | "ne" | "lt" | "le" | "gt" | "ge"

/** Division as Smith's algorithm, which avoids overflow in `|b|²`. */
const cdiv = (ar: number, ai: number, br: number, bi: number): [number, number] => {
  if (Math.abs(br) >= Math.abs(bi)) {
    if (br === 0 && bi === 0) return [ar / 0, ai / 0]
    const r = bi / br,
      d = br + bi * r
    return [(ar + ai * r) / d, (ai - ar * r) / d]
  }
  const r = br / bi,
    d = br * r + bi
  return [(ar * r + ai) / d, (ai * r - ar) / d]
}

/** A binary primitive on complex operands: a complex result, or bool for comparisons. */
export const complexBinaryKernel =
  <P extends ComplexBinary>(prim: P): CpuKernel<P> =>
  (inputs, inAvals, outAvals) => {
    const out = outAvals[0]!
    const [oa, ob] = broadcastOffsets(out.shape, [inAvals[0]!.shape, inAvals[1]!.shape]) as [Int32Array, Int32Array]
    const a = inputs[0]!,
      b = inputs[1]!
    const n = oa.length
    const result = allocHost(out.dtype, n)
    const isBool = out.dtype === "bool"
    for (let e = 0; e < n; e++) {
      const ar = a[2 * oa[e]!]!,
        ai = a[2 * oa[e]! + 1]!,
        br = b[2 * ob[e]!]!,
        bi = b[2 * ob[e]! + 1]!
      let re = 0,
        im = 0
      switch (prim) {
        case "add":
          re = ar + br
          im = ai + bi
          break
        case "sub":
          re = ar - br
          im = ai - bi
          break
        case "mul":
          re = ar * br - ai * bi
          im = ar * bi + ai * br
          break
        case "div":
          ;[re, im] = cdiv(ar, ai, br, bi)
          break
        // JAX's lax.max and lax.min of complex numbers: the first operand where it is strictly greater
        // (smaller) in lexicographic order (real parts, then imaginary parts when the real parts are
        // equal), else the second, so ties, and NaN on either side, give the second.
        case "max":
          ;[re, im] = (ar === br ? ai > bi : ar > br) ? [ar, ai] : [br, bi]
          break
        case "min":
          ;[re, im] = (ar === br ? ai < bi : ar < br) ? [ar, ai] : [br, bi]
          break
        case "eq":
          re = ar === br && ai === bi ? 1 : 0
          break
        case "ne":
          re = ar === br && ai === bi ? 0 : 1
          break
        case "lt":
          re = ar < br || (ar === br && ai < bi) ? 1 : 0
          break
        case "le":
          re = ar < br || (ar === br && ai <= bi) ? 1 : 0
          break
        case "gt":
          re = ar > br || (ar === br && ai > bi) ? 1 : 0
          break
        case "ge":
          re = ar > br || (ar === br && ai >= bi) ? 1 : 0
          break
      }
      if (isBool) result[e] = re
      else {
        result[2 * e] = re
        result[2 * e + 1] = im
      }
    }
    return [result]
  }

/** `lax.complex(re, im)`: two float32 operands (equal rank, size-1 dimensions broadcast). */
export const complexFromPartsKernel: CpuKernel<"complex"> = (inputs, inAvals, outAvals) => {
  const out = outAvals[0]!
  const [oa, ob] = broadcastOffsets(out.shape, [inAvals[0]!.shape, inAvals[1]!.shape]) as [Int32Array, Int32Array]
  const a = inputs[0]!,
    b = inputs[1]!
  const result = new Float32Array(2 * oa.length)
  for (let e = 0; e < oa.length; e++) {
    result[2 * e] = a[oa[e]!]!
    result[2 * e + 1] = b[ob[e]!]!
  }
  return [result]
}

export const complexSelectKernel: CpuKernel<"select"> = (inputs, inAvals, outAvals) => {
  const out = outAvals[0]!
  const [op, oa, ob] = broadcastOffsets(
    out.shape,
    inAvals.map((a) => a.shape)
  ) as [Int32Array, Int32Array, Int32Array]
  const p = inputs[0]!,
    a = inputs[1]!,
    b = inputs[2]!
  const result = new Float32Array(2 * op.length)
  for (let e = 0; e < op.length; e++) {
    const src = p[op[e]!] !== 0 ? a : b
    const at = p[op[e]!] !== 0 ? oa[e]! : ob[e]!
    result[2 * e] = src[2 * at]!
    result[2 * e + 1] = src[2 * at + 1]!
  }
  return [result]
}

export const complexPadKernel: CpuKernel<"pad"> = (inputs, inAvals, outAvals, params) => {
  const outShape = outAvals[0]!.shape
  const inShape = inAvals[0]!.shape
  const out = new Float32Array(2 * sizeOf(outShape))
  const vr = inputs[1]![0]!,
    vi = inputs[1]![1]!
  for (let i = 0; i < out.length; i += 2) {
    out[i] = vr
    out[i + 1] = vi
  }
  const input = inputs[0]!
  const outStrides = stridesOf(outShape)
  const n = sizeOf(inShape)
  const idx = new Array<number>(inShape.length).fill(0)
  for (let e = 0; e < n; e++) {
    let at = 0
    let inside = true
    for (let d = 0; d < inShape.length; d++) {
      const [lo, , interior] = params.config[d]!
      const pos = lo + idx[d]! * (interior + 1)
      if (pos < 0 || pos >= outShape[d]!) inside = false
      at += pos * outStrides[d]!
    }
    if (inside) {
      out[2 * at] = input[2 * e]!
      out[2 * at + 1] = input[2 * e + 1]!
    }
    for (let d = inShape.length - 1; d >= 0; d--) {
      if (++idx[d]! < inShape[d]!) break
      idx[d] = 0
    }
  }
  return [out]
}

// ---- reductions and products ------------------------------------------------------------------

/** `reduce_sum` and `reduce_prod` of complex values, accumulated in double. */
export const complexReduceKernel =
  <P extends "reduce_sum" | "reduce_prod">(prim: P): CpuKernel<P> =>
  (inputs, inAvals, outAvals, params) => {
    const inShape = inAvals[0]!.shape
    const axes = normalizeAxes(prim, params.axes, inShape.length)
    const m = sizeOf(outAvals[0]!.shape)
    const re = new Float64Array(m).fill(prim === "reduce_prod" ? 1 : 0)
    const im = new Float64Array(m)
    // Read as a broadcast of the output (reduced axes of size 1), each input element's offset there is
    // its output's offset.
    const [offsets] = broadcastOffsets(inShape, [inShape.map((d, i) => (axes.includes(i) ? 1 : d))])
    const a = inputs[0]!
    for (let e = 0; e < offsets!.length; e++) {
      const o = offsets![e]!
      const xr = a[2 * e]!,
        xi = a[2 * e + 1]!
      if (prim === "reduce_sum") {
        re[o]! += xr
        im[o]! += xi
      } else {
        const r = re[o]!,
          i = im[o]!
        re[o] = r * xr - i * xi
        im[o] = r * xi + i * xr
      }
    }
    const out = new Float32Array(2 * m)
    for (let o = 0; o < m; o++) {
      out[2 * o] = re[o]!
      out[2 * o + 1] = im[o]!
    }
    return [out]
  }

/** `cumsum` and `cumprod` of complex values along an axis, accumulated in double. */
export const complexCumulativeKernel =
  <P extends "cumsum" | "cumprod">(prim: P): CpuKernel<P> =>
  (inputs, inAvals, _outAvals, params) => {
    const shape = inAvals[0]!.shape
    const axis = normalizeAxes(prim, [params.axis], shape.length)[0]!
    const n = shape[axis]!
    const inner = sizeOf(shape.slice(axis + 1))
    const outer = sizeOf(shape.slice(0, axis))
    const x = inputs[0]!
    const out = new Float32Array(x.length)
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let re = prim === "cumprod" ? 1 : 0,
          im = 0
        for (let k = 0; k < n; k++) {
          const e = o * n * inner + (params.reverse ? n - 1 - k : k) * inner + i
          const xr = x[2 * e]!,
            xi = x[2 * e + 1]!
          if (prim === "cumsum") {
            re += xr
            im += xi
          } else {
            const r = re * xr - im * xi
            im = re * xi + im * xr
            re = r
          }
          out[2 * e] = re
          out[2 * e + 1] = im
        }
      }
    }
    return [out]
  }

/** Offsets of every index tuple over `dims` of an array with `strides`, in row-major tuple order. */
const tupleOffsets = (
  shape: ReadonlyArray<number>,
  strides: ReadonlyArray<number>,
  dims: ReadonlyArray<number>
): Int32Array => {
  const sizes = dims.map((d) => shape[d]!)
  const n = sizeOf(sizes)
  const out = new Int32Array(n)
  const idx = new Array<number>(dims.length).fill(0)
  for (let e = 0; e < n; e++) {
    let o = 0
    for (let j = 0; j < dims.length; j++) o += idx[j]! * strides[dims[j]!]!
    out[e] = o
    for (let j = dims.length - 1; j >= 0; j--) {
      if (++idx[j]! < sizes[j]!) break
      idx[j] = 0
    }
  }
  return out
}

/** `dot_general` on complex operands: output `[batch, lhs free, rhs free]`, accumulated in double. */
export const complexDotGeneralKernel: CpuKernel<"dot_general"> = (inputs, inAvals, _outAvals, p) => {
  const l = inAvals[0]!.shape,
    r = inAvals[1]!.shape
  const lc = normalizeAxes("dot_general", p.lhsContracting, l.length),
    rc = normalizeAxes("dot_general", p.rhsContracting, r.length)
  const lb = normalizeAxes("dot_general", p.lhsBatch, l.length),
    rb = normalizeAxes("dot_general", p.rhsBatch, r.length)
  const lf = l.map((_, i) => i).filter((i) => !lc.includes(i) && !lb.includes(i))
  const rf = r.map((_, i) => i).filter((i) => !rc.includes(i) && !rb.includes(i))
  const ls = stridesOf(l),
    rs = stridesOf(r)
  const bL = tupleOffsets(l, ls, lb),
    bR = tupleOffsets(r, rs, rb)
  const fL = tupleOffsets(l, ls, lf),
    fR = tupleOffsets(r, rs, rf)
  const cL = tupleOffsets(l, ls, lc),
    cR = tupleOffsets(r, rs, rc)
  const a = inputs[0]!,
    b = inputs[1]!
  const out = new Float32Array(2 * bL.length * fL.length * fR.length)
  let o = 0
  for (let bi = 0; bi < bL.length; bi++) {
    for (let i = 0; i < fL.length; i++) {
      for (let j = 0; j < fR.length; j++) {
        let re = 0,
          im = 0
        const la = bL[bi]! + fL[i]!,
          rbase = bR[bi]! + fR[j]!
        for (let k = 0; k < cL.length; k++) {
          const x = 2 * (la + cL[k]!),
            y = 2 * (rbase + cR[k]!)
          const xr = a[x]!,
            xi = a[x + 1]!,
            yr = b[y]!,
            yi = b[y + 1]!
          re += xr * yr - xi * yi
          im += xr * yi + xi * yr
        }
        out[o++] = re
        out[o++] = im
      }
    }
  }
  return [out]
}

/** Reads host storage as double-precision real and imaginary parts (a real dtype has zero imaginary parts). */
export const toComplex64 = (data: HostArray, complex: boolean): { re: Float64Array; im: Float64Array } => {
  const n = complex ? data.length >> 1 : data.length
  const re = new Float64Array(n),
    im = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    if (complex) {
      re[i] = data[2 * i]!
      im[i] = data[2 * i + 1]!
    } else re[i] = data[i]!
  }
  return { re, im }
}

/** Interleaves double-precision parts into complex64 storage. */
export const fromParts = (re: ArrayLike<number>, im: ArrayLike<number>): Float32Array => {
  const out = new Float32Array(2 * re.length)
  for (let i = 0; i < re.length; i++) {
    out[2 * i] = re[i]!
    out[2 * i + 1] = im[i]!
  }
  return out
}
