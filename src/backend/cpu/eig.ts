/**
 * The `eig` kernel: eigenvalues and right eigenvectors of general square matrices, in complex
 * double precision. The algorithm is LAPACK's (`geev`) in its plain form: Householder reduction to
 * Hessenberg form, shifted QR iterations with Givens rotations to the complex Schur form
 * `A = Z T Zᴴ`, eigenvectors of the triangular `T` by back substitution, mapped back by `Z`. Each
 * eigenvector has unit 2-norm and its entry of largest modulus real and positive (LAPACK makes the
 * largest component real, with either sign; so a vector may differ from JAX's by a unit factor).
 */
import { sizeOf } from "../shape.ts"
import { fromParts, toComplex64 } from "./complex.ts"
import type { CpuKernel } from "./kernel.ts"

interface CMatrix {
  readonly n: number
  readonly re: Float64Array
  readonly im: Float64Array
}

const EPS = 2 ** -52

const hessenberg = (a: CMatrix, z: CMatrix): void => {
  const { n, re, im } = a
  const vr = new Float64Array(n),
    vi = new Float64Array(n)
  for (let k = 0; k < n - 2; k++) {
    let norm = 0
    for (let r = k + 1; r < n; r++) norm += re[r * n + k]! ** 2 + im[r * n + k]! ** 2
    norm = Math.sqrt(norm)
    if (norm === 0) continue
    const x0r = re[(k + 1) * n + k]!,
      x0i = im[(k + 1) * n + k]!
    const x0 = Math.hypot(x0r, x0i)
    const pr = x0 === 0 ? 1 : x0r / x0,
      pi = x0 === 0 ? 0 : x0i / x0
    // v = x + e^{i arg x0} ‖x‖ e1, normalised.
    vr.fill(0)
    vi.fill(0)
    for (let r = k + 1; r < n; r++) {
      vr[r] = re[r * n + k]!
      vi[r] = im[r * n + k]!
    }
    vr[k + 1]! += pr * norm
    vi[k + 1]! += pi * norm
    let vn = 0
    for (let r = k + 1; r < n; r++) vn += vr[r]! ** 2 + vi[r]! ** 2
    vn = Math.sqrt(vn)
    if (vn === 0) continue
    for (let r = k + 1; r < n; r++) {
      vr[r]! /= vn
      vi[r]! /= vn
    }
    // A ← (I - 2vvᴴ) A
    for (let c = 0; c < n; c++) {
      let sr = 0,
        si = 0
      for (let r = k + 1; r < n; r++) {
        const ar = re[r * n + c]!,
          ai = im[r * n + c]!
        sr += vr[r]! * ar + vi[r]! * ai
        si += vr[r]! * ai - vi[r]! * ar
      }
      for (let r = k + 1; r < n; r++) {
        re[r * n + c]! -= 2 * (vr[r]! * sr - vi[r]! * si)
        im[r * n + c]! -= 2 * (vr[r]! * si + vi[r]! * sr)
      }
    }
    // A ← A (I - 2vvᴴ), Z ← Z (I - 2vvᴴ)
    for (const m of [a, z]) {
      for (let r = 0; r < n; r++) {
        let sr = 0,
          si = 0
        for (let c = k + 1; c < n; c++) {
          const ar = m.re[r * n + c]!,
            ai = m.im[r * n + c]!
          sr += ar * vr[c]! - ai * vi[c]!
          si += ar * vi[c]! + ai * vr[c]!
        }
        for (let c = k + 1; c < n; c++) {
          m.re[r * n + c]! -= 2 * (sr * vr[c]! + si * vi[c]!)
          m.im[r * n + c]! -= 2 * (si * vr[c]! - sr * vi[c]!)
        }
      }
    }
    for (let r = k + 2; r < n; r++) {
      re[r * n + k] = 0
      im[r * n + k] = 0
    }
  }
}

const abs1 = (m: CMatrix, i: number, j: number): number => Math.abs(m.re[i * m.n + j]!) + Math.abs(m.im[i * m.n + j]!)

/** The eigenvalue of the trailing 2×2 block `[[a, b], [c, d]]` closer to `d` (Wilkinson's shift). */
const wilkinson = (h: CMatrix, k: number): [number, number] => {
  const n = h.n
  const ar = h.re[(k - 1) * n + k - 1]!,
    ai = h.im[(k - 1) * n + k - 1]!
  const br = h.re[(k - 1) * n + k]!,
    bi = h.im[(k - 1) * n + k]!
  const cr = h.re[k * n + k - 1]!,
    ci = h.im[k * n + k - 1]!
  const dr = h.re[k * n + k]!,
    di = h.im[k * n + k]!
  const hr = (ar - dr) / 2,
    hi = (ai - di) / 2
  // disc = h² + bc; shift = d + h ± sqrt(disc), the sign making it nearer d.
  const qr = hr * hr - hi * hi + br * cr - bi * ci
  const qi = 2 * hr * hi + br * ci + bi * cr
  const m = Math.hypot(qr, qi)
  let sr = Math.sqrt((m + Math.abs(qr)) / 2)
  let si = sr === 0 ? 0 : qi / (2 * sr)
  if (qr < 0) {
    ;[sr, si] = [Math.abs(si), qi < 0 ? -sr : sr]
  }
  const p1 = Math.hypot(hr + sr, hi + si),
    p2 = Math.hypot(hr - sr, hi - si)
  return p1 <= p2 ? [dr + hr + sr, di + hi + si] : [dr + hr - sr, di + hi - si]
}

/** Shifted QR iterations on a Hessenberg matrix until it is triangular; rotations accumulate in `z`. */
const schur = (h: CMatrix, z: CMatrix): boolean => {
  const { n, re, im } = h
  let hi = n - 1
  let iter = 0
  const cs = new Float64Array(n),
    sr = new Float64Array(n),
    si = new Float64Array(n)
  while (hi > 0) {
    let lo = hi
    while (lo > 0) {
      const s = abs1(h, lo - 1, lo - 1) + abs1(h, lo, lo)
      if (abs1(h, lo, lo - 1) <= EPS * (s === 0 ? 1 : s)) {
        re[lo * n + lo - 1] = 0
        im[lo * n + lo - 1] = 0
        break
      }
      lo--
    }
    if (lo === hi) {
      hi--
      iter = 0
      continue
    }
    if (++iter > 60 * n) return false
    let [mr, mi] = wilkinson(h, hi)
    if (iter % 11 === 0) {
      // An exceptional shift breaks the rare cycles of the Wilkinson shift.
      mr = re[hi * n + hi]! + 0.75 * Math.abs(re[hi * n + hi - 1]!)
      mi = im[hi * n + hi]!
    }
    for (let k = lo; k <= hi; k++) {
      re[k * n + k]! -= mr
      im[k * n + k]! -= mi
    }
    for (let k = lo; k < hi; k++) {
      const ar = re[k * n + k]!,
        ai = im[k * n + k]!,
        br = re[(k + 1) * n + k]!,
        bi = im[(k + 1) * n + k]!
      const a = Math.hypot(ar, ai),
        r = Math.hypot(a, Math.hypot(br, bi))
      let c = 0,
        s_r = 1,
        s_i = 0
      if (r !== 0 && a !== 0) {
        c = a / r
        // s = (a/|a|) conj(b) / r
        const ur = ar / a,
          ui = ai / a
        s_r = (ur * br + ui * bi) / r
        s_i = (ui * br - ur * bi) / r
      }
      cs[k] = c
      sr[k] = s_r
      si[k] = s_i
      for (let j = k; j < n; j++) {
        const xr = re[k * n + j]!,
          xi = im[k * n + j]!,
          yr = re[(k + 1) * n + j]!,
          yi = im[(k + 1) * n + j]!
        re[k * n + j] = c * xr + s_r * yr - s_i * yi
        im[k * n + j] = c * xi + s_r * yi + s_i * yr
        // -conj(s) x + c y
        re[(k + 1) * n + j] = -(s_r * xr + s_i * xi) + c * yr
        im[(k + 1) * n + j] = -(s_r * xi - s_i * xr) + c * yi
      }
    }
    for (let k = lo; k < hi; k++) {
      const c = cs[k]!,
        s_r = sr[k]!,
        s_i = si[k]!
      const rotate = (m: CMatrix, rows: number): void => {
        for (let i = 0; i < rows; i++) {
          const pr = m.re[i * n + k]!,
            pi = m.im[i * n + k]!,
            qr = m.re[i * n + k + 1]!,
            qi = m.im[i * n + k + 1]!
          // [p, q] Gᴴ = [p c + q conj(s), -p s + q c]
          m.re[i * n + k] = pr * c + qr * s_r + qi * s_i
          m.im[i * n + k] = pi * c + qi * s_r - qr * s_i
          m.re[i * n + k + 1] = -(pr * s_r - pi * s_i) + qr * c
          m.im[i * n + k + 1] = -(pr * s_i + pi * s_r) + qi * c
        }
      }
      rotate(h, Math.min(k + 2, hi) + 1)
      rotate(z, n)
    }
    for (let k = lo; k <= hi; k++) {
      re[k * n + k]! += mr
      im[k * n + k]! += mi
    }
  }
  return true
}

/** Eigenvectors of upper-triangular `t`, mapped back by `z`, normalised; columns of the result. */
const eigenvectors = (t: CMatrix, z: CMatrix): { re: Float64Array; im: Float64Array } => {
  const n = t.n
  const vr = new Float64Array(n * n),
    vi = new Float64Array(n * n)
  let norm = 0
  for (let i = 0; i < n * n; i++) norm = Math.max(norm, Math.abs(t.re[i]!) + Math.abs(t.im[i]!))
  const small = Math.max(EPS * norm, Number.MIN_VALUE)
  const xr = new Float64Array(n),
    xi = new Float64Array(n)
  for (let k = 0; k < n; k++) {
    xr.fill(0)
    xi.fill(0)
    xr[k] = 1
    const lr = t.re[k * n + k]!,
      li = t.im[k * n + k]!
    for (let i = k - 1; i >= 0; i--) {
      let sr = 0,
        si = 0
      for (let j = i + 1; j <= k; j++) {
        const ar = t.re[i * n + j]!,
          ai = t.im[i * n + j]!
        sr += ar * xr[j]! - ai * xi[j]!
        si += ar * xi[j]! + ai * xr[j]!
      }
      let dr = t.re[i * n + i]! - lr,
        di = t.im[i * n + i]! - li
      if (Math.abs(dr) + Math.abs(di) < small) {
        dr = small
        di = 0
      }
      const d = dr * dr + di * di
      // x_i = -s / d
      xr[i] = -(sr * dr + si * di) / d
      xi[i] = -(si * dr - sr * di) / d
    }
    // v = Z x
    let nrm = 0,
      best = -1,
      bestAbs = -1
    for (let r = 0; r < n; r++) {
      let sr = 0,
        si = 0
      for (let j = 0; j <= k; j++) {
        const ar = z.re[r * n + j]!,
          ai = z.im[r * n + j]!
        sr += ar * xr[j]! - ai * xi[j]!
        si += ar * xi[j]! + ai * xr[j]!
      }
      vr[r * n + k] = sr
      vi[r * n + k] = si
      const m = Math.hypot(sr, si)
      nrm += m * m
      if (m > bestAbs * (1 + 1e-6)) {
        bestAbs = m
        best = r
      }
    }
    nrm = Math.sqrt(nrm)
    // Divide by ‖v‖ and by the phase of the largest entry.
    const pr = vr[best * n + k]! / bestAbs,
      pi = vi[best * n + k]! / bestAbs
    for (let r = 0; r < n; r++) {
      const ar = vr[r * n + k]!,
        ai = vi[r * n + k]!
      vr[r * n + k] = (ar * pr + ai * pi) / nrm
      vi[r * n + k] = (ai * pr - ar * pi) / nrm
    }
  }
  return { re: vr, im: vi }
}

export const eigKernel: CpuKernel<"eig"> = (inputs, inAvals, _outAvals, params) => {
  const shape = inAvals[0]!.shape
  const n = shape[shape.length - 1]!
  const batch = sizeOf(shape.slice(0, -2))
  const { re, im } = toComplex64(inputs[0]!, inAvals[0]!.dtype === "complex64")
  const wr = new Float64Array(batch * n),
    wi = new Float64Array(batch * n)
  const outR = new Float64Array(batch * n * n),
    outI = new Float64Array(batch * n * n)
  for (let b = 0; b < batch; b++) {
    const a: CMatrix = { n, re: re.slice(b * n * n, (b + 1) * n * n), im: im.slice(b * n * n, (b + 1) * n * n) }
    const z: CMatrix = { n, re: new Float64Array(n * n), im: new Float64Array(n * n) }
    for (let i = 0; i < n; i++) z.re[i * n + i] = 1
    const finite = a.re.every(Number.isFinite) && a.im.every(Number.isFinite)
    if (finite) hessenberg(a, z)
    if (!finite || !schur(a, z)) {
      // LAPACK reports failure; JAX then returns NaN.
      wr.fill(NaN, b * n, (b + 1) * n)
      wi.fill(NaN, b * n, (b + 1) * n)
      outR.fill(NaN, b * n * n, (b + 1) * n * n)
      outI.fill(NaN, b * n * n, (b + 1) * n * n)
      continue
    }
    for (let i = 0; i < n; i++) {
      wr[b * n + i] = a.re[i * n + i]!
      wi[b * n + i] = a.im[i * n + i]!
    }
    if (!params.vectors) continue
    const v = eigenvectors(a, z)
    outR.set(v.re, b * n * n)
    outI.set(v.im, b * n * n)
  }
  return params.vectors ? [fromParts(wr, wi), fromParts(outR, outI)] : [fromParts(wr, wi)]
}
