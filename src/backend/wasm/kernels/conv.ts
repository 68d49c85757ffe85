/**
 * The wasm `conv_general_dilated` for float32: im2col into the packed GEMM of `dot_general`.
 *
 * Per group `g` (feature or batch group), the receptive field of every output position is copied as
 * one row of a patch matrix `P[g]` (`M = batch × output positions` rows, `K = kernel positions × input
 * features` columns, zeros where the window reads padding or a hole of lhs dilation), the kernel is laid
 * out as `W[g]` (`K × O/G`), and the batched product `P · W` runs on the threads of the pool with the
 * same plan cache as `dot_general`. When there is one group and the output is channels-last, the
 * product is the output itself; otherwise it is permuted into the output's layout.
 *
 * The patch matrix is written by a WebAssembly kernel on the pool's threads (one `memory.copy` or a
 * few vector moves per kernel position); features read with a stride are laid out channels-last first,
 * so every copy is one contiguous run. Other dtypes fall back to the cpu reference kernel (counted).
 *
 * @since 0.2.0
 */
import { sizeOf, stridesOf } from "../../shape.ts"
import type { FunctionBuilder } from "../encoder.ts"
import type { ConvParams, ReduceWindowParams } from "../../conv.ts"
import type { WasmKernel } from "../runtime.ts"
import { dotPlanFor, dotScratchBytes, runDotPlan } from "./dotGeneral.ts"
import { copy } from "./structural.ts"
import { parallelThreshold } from "./elementwise.ts"

const align = (n: number): number => Math.ceil(n / 64) * 64

/**
 * The im2col kernel: `run(task, tasks, dst, table, bases, rows)` writes patch rows `[lo, hi)` of this
 * task's share. Row `r` is output position `m = r mod positions` of example block `r / positions`,
 * whose lhs address is `bases[r / positions]`; its `kPositions` runs of `I` features come from
 * `table[m · kPositions + kp]` (a byte offset from that address, or -1 for padding and holes, which
 * are written as zeros). Runs are copied with vector moves (short runs) or `memory.copy`.
 */
const buildIm2col = (f: FunctionBuilder, I: number, kPositions: number, positions: number): void => {
  const [dst, table, bases, rows] = [2, 3, 4, 5]
  const lo = f.local("i32"),
    hi = f.local("i32"),
    r = f.local("i32"),
    d = f.local("i32"),
    t = f.local("i32")
  const tp = f.local("i32"),
    end = f.local("i32"),
    base = f.local("i32"),
    block = f.local("i32"),
    src = f.local("i32")
  const run = I * 4,
    vectors = Math.floor(run / 16),
    inline = vectors <= 8
  f.taskRange({ local: rows }, lo, hi)
  f.forLoop(r, lo, hi, { const: 1 }, () => {
    f.get(r).i32(positions).i32_div_u().set(block)
    f.get(bases).get(block).i32(4).i32_mul().i32_add().i32_load(0, 2).set(base)
    f.get(dst)
      .get(r)
      .i32(kPositions * run)
      .i32_mul()
      .i32_add()
      .set(d)
    // The table row of position m = r - block · positions.
    f.get(table)
      .get(r)
      .get(block)
      .i32(positions)
      .i32_mul()
      .i32_sub()
      .i32(kPositions * 4)
      .i32_mul()
      .i32_add()
      .set(tp)
    f.get(tp)
      .i32(kPositions * 4)
      .i32_add()
      .set(end)
    f.block(() =>
      f.loop(() => {
        f.get(tp).get(end).i32_ge_u().br_if(1)
        f.get(tp).i32_load(0, 2).tee(t).i32(0).i32_lt_s()
        f.if(
          () => {
            if (inline) {
              for (let v = 0; v < vectors; v++)
                f.get(d)
                  .i32x4(0)
                  .v128_store(16 * v, 0)
              for (let off = vectors * 16; off < run; off += 4) f.get(d).f32(0).f32_store(off, 0)
            } else {
              f.get(d).i32(0).i32(run).memory_fill()
            }
          },
          () => {
            f.get(base).get(t).i32_add().set(src)
            if (inline) {
              for (let v = 0; v < vectors; v++)
                f.get(d)
                  .get(src)
                  .v128_load(16 * v, 0)
                  .v128_store(16 * v, 0)
              for (let off = vectors * 16; off < run; off += 4) f.get(d).get(src).f32_load(off, 0).f32_store(off, 0)
            } else {
              f.get(d).get(src).i32(run).memory_copy()
            }
          }
        )
        f.get(d).i32(run).i32_add().set(d)
        f.get(tp).i32(4).i32_add().set(tp)
        f.br(0)
      })
    )
  })
}

/** Tables by the shapes and parameters that determine them: a training loop asks for the same ones each step. */
const im2colTables = new Map<string, Int32Array>()
const poolTables = new Map<string, Int32Array>()

const cached = (cache: Map<string, Int32Array>, key: string, make: () => Int32Array): Int32Array => {
  let t = cache.get(key)
  if (t === undefined) {
    if (cache.size >= 256) cache.clear()
    t = make()
    cache.set(key, t)
  }
  return t
}

/**
 * The byte offset (from an example's first feature) each (output position, kernel position) pair
 * reads, or -1 where it reads padding or a hole of lhs dilation.
 */
const im2colTable = (
  inSp: ReadonlyArray<number>,
  kSp: ReadonlyArray<number>,
  outSp: ReadonlyArray<number>,
  ls: ReadonlyArray<number>,
  lhsSpec: ReadonlyArray<number>,
  nsp: number,
  p: ConvParams
): Int32Array => {
  const taps = inSp.map((n, d) => {
    const t = new Int32Array(outSp[d]! * kSp[d]!)
    const s = p.windowStrides[d]!,
      rd = p.rhsDilation[d]!,
      ld = p.lhsDilation[d]!,
      lo = p.padding[d]![0]
    const stride = ls[lhsSpec[2 + d]!]!
    for (let y = 0; y < outSp[d]!; y++) {
      for (let k = 0; k < kSp[d]!; k++) {
        const q = y * s + k * rd - lo
        const j = q / ld
        t[y * kSp[d]! + k] = q >= 0 && q % ld === 0 && j < n ? j * stride : -1
      }
    }
    return t
  })
  const positions = sizeOf(outSp),
    kPositions = sizeOf(kSp)
  const table = new Int32Array(positions * kPositions)
  const outStrides = stridesOf(outSp),
    kStrides = stridesOf(kSp)
  for (let m = 0; m < positions; m++) {
    for (let kp = 0; kp < kPositions; kp++) {
      let off = 0
      for (let d = 0; d < nsp && off >= 0; d++) {
        const y = Math.floor(m / outStrides[d]!) % outSp[d]!,
          k = Math.floor(kp / kStrides[d]!) % kSp[d]!
        const t = taps[d]![y * kSp[d]! + k]!
        off = t < 0 ? -1 : off + t
      }
      table[m * kPositions + kp] = off < 0 ? -1 : off * 4
    }
  }
  return table
}

export const convKernel: WasmKernel<"conv_general_dilated"> = (rt, inputs, outputs, inAvals, outAvals, p) => {
  const la = inAvals[0]!,
    ra = inAvals[1]!,
    oa = outAvals[0]!
  if (la.dtype !== "float32") return "fallback"
  const outSize = sizeOf(oa.shape)
  if (outSize === 0) return
  const { lhsSpec, rhsSpec, outSpec } = p.dimensionNumbers
  const nsp = la.shape.length - 2
  const G = p.featureGroupCount * p.batchGroupCount
  const O = ra.shape[rhsSpec[0]!]!,
    I = ra.shape[rhsSpec[1]!]!,
    Og = O / G
  const outN = oa.shape[outSpec[0]!]!
  const inSp = lhsSpec.slice(2).map((a) => la.shape[a]!)
  const kSp = rhsSpec.slice(2).map((a) => ra.shape[a]!)
  const outSp = outSpec.slice(2).map((a) => oa.shape[a]!)
  const positions = sizeOf(outSp),
    kPositions = sizeOf(kSp)
  const M = outN * positions,
    K = kPositions * I
  const out = outputs[0]!
  if (K === 0) {
    rt.f32().fill(0, out / 4, out / 4 + outSize)
    return
  }
  // Channels-last output with one group: the product [M, O] is the output, row for row.
  const direct = G === 1 && outSpec[0] === 0 && outSpec[1] === nsp + 1 && outSpec.slice(2).every((a, i) => a === i + 1)
  const plan = dotPlanFor(
    rt,
    { shape: [G, M, K], dtype: "float32", weakType: false },
    { shape: [G, K, Og], dtype: "float32", weakType: false },
    {
      lhsContracting: [2],
      rhsContracting: [1],
      lhsBatch: [0],
      rhsBatch: [0]
    }
  )
  if (plan === undefined) return "fallback"
  // Features read with a stride (a layout with features before space, or the kernel cotangent's
  // convolution, whose "features" are the examples) are first laid out channels-last, so that every
  // patch copies contiguous runs.
  const relayout = la.shape[lhsSpec[1]!]! > 1 && stridesOf(la.shape)[lhsSpec[1]!] !== 1
  const lhsBytes = relayout ? align(sizeOf(la.shape) * 4) : 0
  const patchBytes = align(G * M * K * 4),
    weightBytes = align(G * K * Og * 4),
    productBytes = direct ? 0 : align(G * M * Og * 4)
  const tableBytes = align(positions * kPositions * 4) + align(G * outN * 4)
  const base = rt.scratch(patchBytes + weightBytes + productBytes + lhsBytes + tableBytes + dotScratchBytes(plan))
  const patches = base,
    weights = base + patchBytes,
    product = direct ? out : weights + weightBytes
  const lhsCopy = weights + weightBytes + productBytes
  const order = [lhsSpec[0]!, ...lhsSpec.slice(2), lhsSpec[1]!]
  let ls = stridesOf(la.shape)
  let x0 = inputs[0]! / 4
  if (relayout) {
    const moved = order.map((a) => la.shape[a]!)
    copy(
      rt,
      "float32",
      moved,
      x0 * 4,
      order.map((a) => ls[a]!),
      lhsCopy,
      stridesOf(moved)
    )
    const ms = stridesOf(moved)
    ls = new Array<number>(ls.length)
    order.forEach((a, k) => (ls[a] = ms[k]!))
    x0 = lhsCopy / 4
  }
  const rs = stridesOf(ra.shape),
    os = stridesOf(oa.shape)
  const w0 = inputs[1]! / 4

  const tableKey = `${la.shape}|${ra.shape}|${oa.shape}|${ls}|${JSON.stringify(p)}`
  const table = cached(im2colTables, tableKey, () => im2colTable(inSp, kSp, outSp, ls, lhsSpec, nsp, p))
  const cs = ls[lhsSpec[1]!]!,
    ns = ls[lhsSpec[0]!]!
  // The byte address of each (group, example) block's first feature.
  const bases = new Int32Array(G * outN)
  for (let g = 0; g < G; g++) {
    for (let n = 0; n < outN; n++) {
      const nb = p.batchGroupCount > 1 ? g * outN + n : n
      bases[g * outN + n] = (x0 + nb * ns + (p.featureGroupCount > 1 ? g * I : 0) * cs) * 4
    }
  }
  const tableAt = lhsCopy + lhsBytes,
    basesAt = tableAt + align(table.byteLength)
  rt.i32().set(table, tableAt / 4)
  rt.i32().set(bases, basesAt / 4)

  const rows = G * M
  const im2col = rt.kernel(`im2col:${I}:${kPositions}:${positions}`, (mb) =>
    mb.addFunction("run", ["i32", "i32", "i32", "i32", "i32", "i32"], [], (fb) =>
      buildIm2col(fb, I, kPositions, positions)
    )
  )
  rt.run(
    im2col,
    "run",
    [patches, tableAt, basesAt, rows],
    rows * K < parallelThreshold ? 1 : Math.min(rows, rt.threads * 4)
  )
  // W[g][kernel position][i][o'] = rhs[o = g·Og + o', i, kernel position].
  copy(
    rt,
    "float32",
    [G, ...kSp, I, Og],
    w0 * 4,
    [Og * rs[rhsSpec[0]!]!, ...rhsSpec.slice(2).map((a) => rs[a]!), rs[rhsSpec[1]!]!, rs[rhsSpec[0]!]!],
    weights,
    stridesOf([G, ...kSp, I, Og])
  )
  runDotPlan(rt, plan, patches, weights, product, lhsCopy + lhsBytes + tableBytes)
  if (!direct) {
    // product[g][n][position][o'] → out[n, g·Og + o', position].
    copy(rt, "float32", [G, outN, ...outSp, Og], product, stridesOf([G, outN, ...outSp, Og]), out, [
      Og * os[outSpec[1]!]!,
      os[outSpec[0]!]!,
      ...outSpec.slice(2).map((a) => os[a]!),
      os[outSpec[1]!]!
    ])
  }
}

/**
 * Whether the window leaves the last axis alone (size 1, stride 1, no padding or dilation): a pool
 * over channels-last features, which {@link pool} runs as a compiled kernel.
 */
const poolsAlongLanes = (p: ReduceWindowParams, rank: number): boolean => {
  const l = rank - 1
  return (
    p.windowDimensions[l] === 1 &&
    p.windowStrides[l] === 1 &&
    p.padding[l]![0] === 0 &&
    p.padding[l]![1] === 0 &&
    p.baseDilation[l] === 1 &&
    p.windowDilation[l] === 1
  )
}

/**
 * The pooling kernel: `run(task, tasks, out, table, rows, input)` reduces output rows `[lo, hi)` of
 * this task's share. Row `r` reduces the `nK` input rows at byte offsets `table[r · nK ..]` from
 * `input` (-1 where the window reads padding or a hole, skipped as the identity), `C` features at a time, four
 * lanes per vector. Sums accumulate in double in window order and round once, max and min keep the
 * first extreme with NaN winning: the cpu reference's arithmetic, so results are equal bit for bit.
 */
const buildPool = (f: FunctionBuilder, comp: ReduceWindowParams["computation"], C: number, nK: number): void => {
  const [out, table, rows, input] = [2, 3, 4, 5]
  const lo = f.local("i32"),
    hi = f.local("i32"),
    r = f.local("i32"),
    j = f.local("i32"),
    t = f.local("i32")
  const row = f.local("i32"),
    dst = f.local("i32"),
    c = f.local("i32")
  const a = f.local("v128"),
    b = f.local("v128"),
    v = f.local("v128")
  const sa = f.local("f64"),
    sv = f.local("f32"),
    tmp = f.local("f32")
  const add = comp === "add"
  const identity = comp === "max" ? -Infinity : Infinity
  const vectors = Math.floor(C / 4)
  /** Loops j over the row's window taps, with `t` the tap's address plus the feature offset `c` (bytes). */
  const taps = (body: () => void) => {
    f.i32(0).set(j)
    f.block(() =>
      f.loop(() => {
        f.get(j).i32(nK).i32_ge_u().br_if(1)
        f.get(row).get(j).i32(4).i32_mul().i32_add().i32_load(0, 2).tee(t).i32(0).i32_ge_s()
        f.if(() => {
          f.get(t).get(c).i32_add().get(input).i32_add().set(t)
          body()
        })
        f.get(j).i32(1).i32_add().set(j)
        f.br(0)
      })
    )
  }
  f.taskRange({ local: rows }, lo, hi)
  f.forLoop(r, lo, hi, { const: 1 }, () => {
    f.get(table)
      .get(r)
      .i32(nK * 4)
      .i32_mul()
      .i32_add()
      .set(row)
    f.get(out)
      .get(r)
      .i32(C * 4)
      .i32_mul()
      .i32_add()
      .set(dst)
    if (vectors > 0) {
      f.i32(0).set(c)
      f.block(() =>
        f.loop(() => {
          f.get(c)
            .i32(vectors * 16)
            .i32_ge_u()
            .br_if(1)
          if (add) {
            f.f64x2(0).set(a).f64x2(0).set(b)
            taps(() => {
              f.get(t).v128_load(0, 0).set(v)
              f.get(a).get(v).f64x2_promote_low_f32x4().f64x2_add().set(a)
              f.get(b)
                .get(v)
                .get(v)
                .shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15])
                .f64x2_promote_low_f32x4()
                .f64x2_add()
                .set(b)
            })
            f.get(dst).get(c).i32_add()
            f.get(a)
              .f32x4_demote_f64x2_zero()
              .get(b)
              .f32x4_demote_f64x2_zero()
              .shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23])
            f.v128_store(0, 0)
          } else {
            f.f32x4(identity).set(a)
            taps(() => {
              f.get(t).v128_load(0, 0).set(v)
              // v replaces the accumulator where it is more extreme, or NaN.
              f.get(v).get(a).get(v).get(a)
              if (comp === "max") f.f32x4_gt()
              else f.f32x4_lt()
              f.get(v).get(v).f32x4_ne().v128_or().v128_bitselect().set(a)
            })
            f.get(dst).get(c).i32_add().get(a).v128_store(0, 0)
          }
          f.get(c).i32(16).i32_add().set(c)
          f.br(0)
        })
      )
    }
    // The features past the last whole vector, one at a time.
    for (let lane = vectors * 4; lane < C; lane++) {
      f.i32(lane * 4).set(c)
      if (add) {
        f.f64(0).set(sa)
        taps(() => {
          f.get(sa).get(t).f32_load(0, 0).f64_promote_f32().f64_add().set(sa)
        })
        f.get(dst)
          .get(sa)
          .f32_demote_f64()
          .f32_store(lane * 4, 0)
      } else {
        f.f32(identity).set(sv)
        taps(() => {
          f.get(t).f32_load(0, 0).set(tmp)
          f.get(tmp).get(sv).get(tmp).get(sv)
          if (comp === "max") f.f32_gt()
          else f.f32_lt()
          f.get(tmp).get(tmp).f32_ne().i32_or().select().set(sv)
        })
        f.get(dst)
          .get(sv)
          .f32_store(lane * 4, 0)
      }
    }
  })
}

/** A pool over channels-last features on the compiled kernel (see {@link poolsAlongLanes}). */
const pool = (
  rt: Parameters<WasmKernel<"reduce_window">>[0],
  input: number,
  output: number,
  inShape: ReadonlyArray<number>,
  outShape: ReadonlyArray<number>,
  p: ReduceWindowParams
): void => {
  const rank = inShape.length
  const C = inShape[rank - 1]!
  const outer = outShape.slice(0, -1),
    kOuter = p.windowDimensions.slice(0, -1)
  const rows = sizeOf(outer),
    nK = sizeOf(kOuter)
  const table = cached(poolTables, `${inShape}|${outShape}|${JSON.stringify(p)}`, () =>
    poolTable(inShape, outer, kOuter, p)
  )
  const at = rt.scratch(table.byteLength)
  rt.i32().set(table, at / 4)
  const kernel = rt.kernel(`pool:${p.computation}:${C}:${nK}`, (mb) =>
    mb.addFunction("run", ["i32", "i32", "i32", "i32", "i32", "i32"], [], (fb) => buildPool(fb, p.computation, C, nK))
  )
  rt.run(
    kernel,
    "run",
    [output, at, rows, input],
    rows * C * nK < parallelThreshold ? 1 : Math.min(rows, rt.threads * 4)
  )
}

/** Per output row of a pool, the byte offsets of the `nK` input rows its window reads (-1: padding or a hole). */
const poolTable = (
  inShape: ReadonlyArray<number>,
  outer: ReadonlyArray<number>,
  kOuter: ReadonlyArray<number>,
  p: ReduceWindowParams
): Int32Array => {
  const xs = stridesOf(inShape)
  const rows = sizeOf(outer),
    nK = sizeOf(kOuter)
  // Per outer axis, the element offset each (output position, window position) reads, or -1.
  const taps = outer.map((outD, d) => {
    const kD = kOuter[d]!,
      n = inShape[d]!
    const tp = new Int32Array(outD * kD)
    const s = p.windowStrides[d]!,
      wd = p.windowDilation[d]!,
      bd = p.baseDilation[d]!,
      lo = p.padding[d]![0]
    for (let y = 0; y < outD; y++) {
      for (let k = 0; k < kD; k++) {
        const q = y * s + k * wd - lo
        const jj = q / bd
        tp[y * kD + k] = q >= 0 && q % bd === 0 && jj < n ? jj * xs[d]! : -1
      }
    }
    return tp
  })
  const table = new Int32Array(rows * nK)
  const yIdx = new Int32Array(outer.length),
    kIdx = new Int32Array(kOuter.length)
  for (let yo = 0; yo < rows; yo++) {
    kIdx.fill(0)
    for (let ko = 0; ko < nK; ko++) {
      let off = 0
      for (let d = 0; d < outer.length && off >= 0; d++) {
        const tap = taps[d]![yIdx[d]! * kOuter[d]! + kIdx[d]!]!
        off = tap < 0 ? -1 : off + tap
      }
      table[yo * nK + ko] = off < 0 ? -1 : off * 4
      for (let d = kOuter.length - 1; d >= 0; d--) {
        if (++kIdx[d]! < kOuter[d]!) break
        kIdx[d] = 0
      }
    }
    for (let d = outer.length - 1; d >= 0; d--) {
      if (++yIdx[d]! < outer[d]!) break
      yIdx[d] = 0
    }
  }
  return table
}

/**
 * `reduce_window` for float32 (sum, max, min), as a strided walk over the WebAssembly memory: per
 * output row (all axes but the last), the offsets of the window's outer positions are listed once,
 * then each output element along the last axis reduces over them; padding and dilation holes are
 * skipped, which is the same as reading the identity. Pools over channels-last inputs (a unit window
 * on the feature axis) make the last axis the features, so the inner loop runs along memory.
 */
export const reduceWindowKernel: WasmKernel<"reduce_window"> = (rt, inputs, outputs, inAvals, outAvals, p) => {
  const xa = inAvals[0]!,
    oa = outAvals[0]!
  if (xa.dtype !== "float32") return "fallback"
  const total = sizeOf(oa.shape)
  if (total === 0) return
  const rank = xa.shape.length
  if (rank >= 2 && poolsAlongLanes(p, rank)) return pool(rt, inputs[0]!, outputs[0]!, xa.shape, oa.shape, p)
  const f = rt.f32()
  const x0 = inputs[0]! / 4
  let at = outputs[0]! / 4
  const init = p.computation === "add" ? 0 : p.computation === "max" ? -Infinity : Infinity
  if (rank === 0) {
    f[at] = f[x0]!
    return
  }
  const xs = stridesOf(xa.shape)
  const taps = xa.shape.map((n, d) => {
    const outD = oa.shape[d]!,
      kD = p.windowDimensions[d]!
    const t = new Int32Array(outD * kD)
    const s = p.windowStrides[d]!,
      wd = p.windowDilation[d]!,
      bd = p.baseDilation[d]!,
      lo = p.padding[d]![0]
    for (let y = 0; y < outD; y++) {
      for (let k = 0; k < kD; k++) {
        const q = y * s + k * wd - lo
        const j = q / bd
        t[y * kD + k] = q >= 0 && q % bd === 0 && j < n ? j * xs[d]! : -1
      }
    }
    return t
  })
  const outer = oa.shape.slice(0, -1),
    kOuter = p.windowDimensions.slice(0, -1)
  const lastOut = oa.shape[rank - 1]!,
    lastK = p.windowDimensions[rank - 1]!,
    lastTaps = taps[rank - 1]!
  const nOuter = sizeOf(outer),
    nKOuter = sizeOf(kOuter)
  const yIdx = new Int32Array(outer.length),
    kIdx = new Int32Array(kOuter.length)
  const bases = new Int32Array(nKOuter)
  const comp = p.computation
  for (let yo = 0; yo < nOuter; yo++) {
    // The in-bounds outer window positions of this output row.
    let nb = 0
    kIdx.fill(0)
    for (let ko = 0; ko < nKOuter; ko++) {
      let off = x0
      for (let d = 0; d < outer.length; d++) {
        const t = taps[d]![yIdx[d]! * kOuter[d]! + kIdx[d]!]!
        if (t < 0) {
          off = -1
          break
        }
        off += t
      }
      if (off >= 0) bases[nb++] = off
      for (let d = kOuter.length - 1; d >= 0; d--) {
        if (++kIdx[d]! < kOuter[d]!) break
        kIdx[d] = 0
      }
    }
    for (let y = 0; y < lastOut; y++) {
      let acc = init
      const tRow = y * lastK
      for (let k = 0; k < lastK; k++) {
        const t = lastTaps[tRow + k]!
        if (t < 0) continue
        if (comp === "add") for (let b = 0; b < nb; b++) acc += f[bases[b]! + t]!
        else if (comp === "max")
          for (let b = 0; b < nb; b++) {
            const v = f[bases[b]! + t]!
            if (v > acc || v !== v) acc = v
          }
        else
          for (let b = 0; b < nb; b++) {
            const v = f[bases[b]! + t]!
            if (v < acc || v !== v) acc = v
          }
      }
      f[at++] = acc
    }
    for (let d = outer.length - 1; d >= 0; d--) {
      if (++yIdx[d]! < outer[d]!) break
      yIdx[d] = 0
    }
  }
}
