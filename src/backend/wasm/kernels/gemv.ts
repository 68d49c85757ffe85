/**
 * Matrix-vector products for the wasm `dot_general` (one side of the product has a single row or
 * column), where the packed GEMM would pad every micro-tile to 8 columns and pack a matrix it reads
 * only once.
 *
 * `y[b, i] = Σ_k X[b, i, k] · v[b, k]` for `i < rows`, X and v read through byte strides, y contiguous.
 * Two exported forms, by which axis of X is contiguous:
 *
 * - `dot`: rows of X and v contiguous in k. Each row is a dot product in four v128 accumulators
 *   (16 partial sums, added in a fixed order at the end), the last `K mod 16` terms scalar.
 * - `axpy`: X contiguous along i (a transposed matrix, or a vector times a row-major matrix). y is
 *   accumulated in place, 2048 rows at a time (in L1), streaming four rows of X per pass:
 *   `y[i..i+3] = (((y + X[k]·v[k]) + X[k+1]·v[k+1]) + ...)` a vector at a time, so X is read
 *   sequentially once; the last rows of the product (fewer than 4) run scalar.
 *
 * Each element's arithmetic depends only on its row's position in the product, not on the task that
 * computes it, so shares of rows (or batches) give identical results for any number of threads.
 *
 * @since 0.2.0
 */
import type { FunctionBuilder, ModuleBuilder } from "../encoder.ts"

/** float32 (`relaxed`: fused multiply-add lanes) or wrapping int32/uint32. */
export interface GemvConfig {
  readonly element: "f32" | "i32"
  readonly relaxed: boolean
}

export const gemvKey = (c: GemvConfig): string =>
  `dot_general/gemv/${c.element}${c.element === "f32" ? (c.relaxed ? "/madd" : "/mul-add") : ""}`

/**
 * The arguments of both exports after `(task, tasks)`, in order (addresses and strides in bytes):
 * `desc` (per task: first and last batch, first and last row, then two unused words), `x`, `v`, `y`,
 * X's batch, row and k strides, v's batch and k strides, y's batch stride, `K`.
 */
export const gemvArgs = ["desc", "x", "v", "y", "sXb", "sXi", "sXk", "svb", "svk", "syb", "K"] as const

/** Shares of the `axpy` form's rows are multiples of this (whole vectors, a cache line of y). */
export const axpyRows = 16
/** Rows of y the `axpy` form accumulates at a time (8 KiB, in L1) while streaming rows of X. */
const axpyChunk = 2048

type Local = number

const add = (f: FunctionBuilder, dst: Local, by: Local | { readonly const: number }): void => {
  f.get(dst)
  if (typeof by === "number") f.get(by)
  else f.i32(by.const)
  f.i32_add().set(dst)
}

/** The vector multiply-add `into = a · b + into`, `a` and `b` on the stack. */
const vectorMadd = (f: FunctionBuilder, c: GemvConfig, into: Local): void => {
  if (c.element === "i32") f.i32x4_mul().get(into).i32x4_add()
  else if (c.relaxed) f.get(into).f32x4_relaxed_madd()
  else f.f32x4_mul().get(into).f32x4_add()
  f.set(into)
}

/** The scalar multiply-add `into = a · b + into`, `a` and `b` addresses on the stack. */
const scalarMadd = (f: FunctionBuilder, c: GemvConfig, into: Local, a: () => void, b: () => void): void => {
  if (c.element === "i32") {
    a()
    f.i32_load(0, 0)
    b()
    f.i32_load(0, 0).i32_mul().get(into).i32_add().set(into)
  } else {
    a()
    f.f32_load(0, 0)
    b()
    f.f32_load(0, 0).f32_mul().get(into).f32_add().set(into)
  }
}

/** The share of this task: locals `b0, b1, i0, i1` from the descriptor table. */
const readShare = (f: FunctionBuilder, desc: Local): readonly [Local, Local, Local, Local] => {
  const d = f.local("i32")
  const out = [f.local("i32"), f.local("i32"), f.local("i32"), f.local("i32")] as const
  f.get(desc).get(0).i32(24).i32_mul().i32_add().set(d)
  out.forEach((x, i) =>
    f
      .get(d)
      .i32_load(i * 4, 2)
      .set(x)
  )
  return out
}

/** Builds the module: exports `dot` and `axpy`, each `(task, tasks, ...gemvArgs)`. */
export const buildGemv = (m: ModuleBuilder, c: GemvConfig): void => {
  const params = Array.from({ length: 2 + gemvArgs.length }, () => "i32" as const)
  const arg = (name: (typeof gemvArgs)[number]): Local => 2 + gemvArgs.indexOf(name)
  const scalar = c.element === "i32" ? "i32" : "f32"

  m.addFunction("dot", params, [], (f) => {
    const [b0, b1, i0, i1] = readShare(f, arg("desc"))
    const int = () => f.local("i32")
    const [bi, i, k, kVec, kEnd, xRow, xp, vp, vBase, yp] = [
      int(),
      int(),
      int(),
      int(),
      int(),
      int(),
      int(),
      int(),
      int(),
      int()
    ]
    const acc = [f.local("v128"), f.local("v128"), f.local("v128"), f.local("v128")]
    const tail = f.local(scalar)
    f.get(arg("K")).i32(-16).i32_and().set(kVec)
    f.forLoop(bi, b0, b1, { const: 1 }, () => {
      f.get(arg("x")).get(bi).get(arg("sXb")).i32_mul().i32_add().get(i0).get(arg("sXi")).i32_mul().i32_add().set(xRow)
      f.get(arg("v")).get(bi).get(arg("svb")).i32_mul().i32_add().set(vBase)
      f.get(arg("y")).get(bi).get(arg("syb")).i32_mul().i32_add().get(i0).i32(4).i32_mul().i32_add().set(yp)
      f.forLoop(i, i0, i1, { const: 1 }, () => {
        for (const a of acc) f.i32x4(0).set(a)
        f.get(xRow).set(xp)
        f.get(vBase).set(vp)
        f.forLoop(k, { const: 0 }, kVec, { const: 16 }, () => {
          acc.forEach((a, u) => {
            f.get(xp)
              .v128_load(u * 16, 0)
              .get(vp)
              .v128_load(u * 16, 0)
            vectorMadd(f, c, a)
          })
          add(f, xp, { const: 64 })
          add(f, vp, { const: 64 })
        })
        if (c.element === "i32") f.i32(0).set(tail)
        else f.f32(0).set(tail)
        f.get(arg("K")).set(kEnd)
        f.forLoop(k, kVec, kEnd, { const: 1 }, () => {
          scalarMadd(
            f,
            c,
            tail,
            () => f.get(xp),
            () => f.get(vp)
          )
          add(f, xp, { const: 4 })
          add(f, vp, { const: 4 })
        })
        // (acc0 + acc1) + (acc2 + acc3), then its lanes in order, then the scalar tail.
        const vAdd = () => (c.element === "i32" ? f.i32x4_add() : f.f32x4_add())
        f.get(acc[0]!).get(acc[1]!)
        vAdd()
        f.get(acc[2]!).get(acc[3]!)
        vAdd()
        vAdd().set(acc[0]!)
        f.get(yp)
        for (let lane = 0; lane < 4; lane++) {
          f.get(acc[0]!)
          if (c.element === "i32") f.i32x4_extract_lane(lane)
          else f.f32x4_extract_lane(lane)
          if (lane > 0) c.element === "i32" ? f.i32_add() : f.f32_add()
        }
        f.get(tail)
        if (c.element === "i32") f.i32_add().i32_store(0, 0)
        else f.f32_add().f32_store(0, 0)
        add(f, xRow, arg("sXi"))
        add(f, yp, { const: 4 })
      })
    })
  })

  m.addFunction("axpy", params, [], (f) => {
    const [b0, b1, i0, i1] = readShare(f, arg("desc"))
    const int = () => f.local("i32")
    const [bi, c0, c1, cVec, i, k, kEnd, xB, vB, yB, q, o] = [
      int(),
      int(),
      int(),
      int(),
      int(),
      int(),
      int(),
      int(),
      int(),
      int(),
      int(),
      int()
    ]
    const rowsOf = [int(), int(), int(), int()]
    const splats = [f.local("v128"), f.local("v128"), f.local("v128"), f.local("v128")]
    const acc = f.local("v128")
    const one = f.local(scalar)
    const sXk = arg("sXk"),
      svk = arg("svk")
    /** `y[c0..c1) += Σ_u X[k + u, ·] · v[k + u]` for `u < ks`, in order of u. */
    const pass = (ks: number) => {
      for (let u = 0; u < ks; u++) {
        f.get(xB)
          .get(k)
          .i32(u)
          .i32_add()
          .get(sXk)
          .i32_mul()
          .i32_add()
          .get(c0)
          .i32(4)
          .i32_mul()
          .i32_add()
          .set(rowsOf[u]!)
        f.get(vB).get(k).i32(u).i32_add().get(svk).i32_mul().i32_add().v128_load32_splat(0, 0).set(splats[u]!)
      }
      f.get(yB).get(c0).i32(4).i32_mul().i32_add().set(q)
      f.i32(0).set(o)
      f.forLoop(i, c0, cVec, { const: 4 }, () => {
        f.get(q).v128_load(0, 0).set(acc)
        for (let u = 0; u < ks; u++) {
          f.get(rowsOf[u]!).get(o).i32_add().v128_load(0, 0).get(splats[u]!)
          vectorMadd(f, c, acc)
        }
        f.get(q).get(acc).v128_store(0, 0)
        add(f, q, { const: 16 })
        add(f, o, { const: 16 })
      })
      // The last rows of the product (fewer than 4), one at a time.
      f.forLoop(i, cVec, c1, { const: 1 }, () => {
        f.get(q)
        if (c.element === "i32") f.i32_load(0, 0)
        else f.f32_load(0, 0)
        f.set(one)
        for (let u = 0; u < ks; u++) {
          scalarMadd(
            f,
            c,
            one,
            () => f.get(rowsOf[u]!).get(o).i32_add(),
            () => f.get(vB).get(k).i32(u).i32_add().get(svk).i32_mul().i32_add()
          )
        }
        f.get(q).get(one)
        if (c.element === "i32") f.i32_store(0, 0)
        else f.f32_store(0, 0)
        add(f, q, { const: 4 })
        add(f, o, { const: 4 })
      })
    }
    f.forLoop(bi, b0, b1, { const: 1 }, () => {
      f.get(arg("x")).get(bi).get(arg("sXb")).i32_mul().i32_add().set(xB)
      f.get(arg("v")).get(bi).get(arg("svb")).i32_mul().i32_add().set(vB)
      f.get(arg("y")).get(bi).get(arg("syb")).i32_mul().i32_add().set(yB)
      f.forLoop(c0, i0, i1, { const: axpyChunk }, () => {
        f.i32(axpyChunk)
          .get(i1)
          .get(c0)
          .i32_sub()
          .i32(axpyChunk)
          .get(i1)
          .get(c0)
          .i32_sub()
          .i32_lt_s()
          .select()
          .get(c0)
          .i32_add()
          .set(c1)
        f.get(c1).get(c0).i32_sub().i32(-4).i32_and().get(c0).i32_add().set(cVec)
        f.get(yB).get(c0).i32(4).i32_mul().i32_add().i32(0).get(c1).get(c0).i32_sub().i32(4).i32_mul().memory_fill()
        f.get(arg("K")).i32(-4).i32_and().set(kEnd)
        f.forLoop(k, { const: 0 }, kEnd, { const: 4 }, () => pass(4))
        f.forLoop(k, kEnd, arg("K"), { const: 1 }, () => pass(1))
      })
    })
  })
}
