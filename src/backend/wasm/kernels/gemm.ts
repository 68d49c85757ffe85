/**
 * The packed, cache-blocked matrix product behind the wasm `dot_general`, generated as WebAssembly
 * SIMD (GotoBLAS / BLIS structure).
 *
 * `C[b] (M×N) = A[b] (M×K) · B[b] (K×N)` for each batch `b`, where A and B are read through arbitrary
 * byte strides (`A[b, i, k]` at `a + b·sAb + i·sAm + k·sAk`, likewise B), so transposed operands are
 * read in place, and C is contiguous with row stride `ldc`. The exported `gemm` runs on every thread:
 *
 * - Units of C (a batch, a block of `mc` rows and one of `nc` columns) are claimed one at a time
 *   from an atomic counter, so a thread slowed by other work takes fewer.
 * - For each block of `kc` rows of K, a unit needs that block of B packed into micro-panels of `nr`
 *   columns (`nr` values per k, contiguous, zero-padded), shared by all threads: the first thread to
 *   need it packs it (see {@link buildGemm}). It then packs its rows of A into micro-panels of `mr`
 *   rows in its own region and walks the column panels (`jr`) and, within each, the row panels
 *   (`ir`): the B micro-panel stays in L1 while the packed A block streams from L2.
 *
 * The micro-kernel keeps an `mr × nr` tile in `mr · nr / 4` v128 accumulators: per k it loads
 * `nr / 4` vectors of B, broadcasts `mr` values of A (`v128.load32_splat`) and multiply-adds
 * (`f32x4.relaxed_madd` when the engine has relaxed SIMD, `mul` + `add` otherwise; `i32x4.mul` + `add`
 * for integers; `and` + `or` for bool). The first block of K starts the accumulators at zero, later
 * ones load C into them, so every element of C is one multiply-add chain over `k = 0 .. K-1` in order,
 * whatever the blocking and whichever thread computes it: results are identical for any number of
 * threads. Edge tiles (fewer than `mr` rows or `nr` columns) go through a small tile buffer, as do
 * all bool tiles (one-byte outputs).
 *
 * @since 0.2.0
 */
import type { FunctionBuilder, ModuleBuilder } from "../encoder.ts"

/** What the product computes on: float32, int32/uint32 (wrapping), or bool (or of ands, 1-byte storage). */
export type GemmElement = "f32" | "i32" | "bool"

/** A generated product: its element, micro-tile (`mr` rows × `nv` vectors of 4 columns) and arithmetic. */
export interface GemmConfig {
  readonly element: GemmElement
  readonly mr: number
  readonly nv: number
  /** Use `f32x4.relaxed_madd` (float32 only). */
  readonly relaxed: boolean
}

/** The cache key of a generated product. */
export const gemmKey = (c: GemmConfig): string =>
  `dot_general/${c.element}/${c.mr}x${c.nv * 4}${c.element === "f32" ? (c.relaxed ? "/madd" : "/mul-add") : ""}`

/**
 * The arguments of `gemm(task, tasks, ...)` after `(task, tasks)`, all i32 (addresses and strides in
 * bytes): the unit counter and the packing flags (one i32 per block of packed B; the caller zeroes
 * both), A's first element and its batch, row and k strides, B's likewise, where packed B goes, C's
 * first element, batch stride and row stride, `M`, `K`, the block sizes `kc`, `mc`, `nc`, the number of
 * batches and of columns, and each task's region `work + task · workBytes` (packed A, `mc · kc` words,
 * then the tile buffer, `mr · nr` words).
 *
 * Packed B of a batch holds, for each block `pc` of K, every column panel: the panel at column `j` of
 * block `pc` starts at word `pc · Np + j · kc'` (`Np` the columns rounded up to `nr`, `kc'` the block's
 * rows), so each block of `nc` columns is one contiguous run.
 */
export const gemmArgs = [
  "counter",
  "flags",
  "a",
  "sAb",
  "sAm",
  "sAk",
  "b",
  "sBb",
  "sBk",
  "sBn",
  "packed",
  "c",
  "sCb",
  "ldc",
  "M",
  "K",
  "kc",
  "mc",
  "nc",
  "batches",
  "cols",
  "work",
  "workBytes"
] as const

/** Bytes of an input or output element. */
export const elementBytes = (e: GemmElement): number => (e === "bool" ? 1 : 4)

type Local = number

/** `for (i = 0; i < n; i += step)`, `i` a new local. */
const count = (f: FunctionBuilder, n: Local, step: number, body: (i: Local) => void): void => {
  const i = f.local("i32")
  f.forLoop(i, { const: 0 }, n, { const: step }, () => body(i))
}

/** `dst = min(k, limit - at)` (all i32 locals but `k`, a constant). */
const clampTo = (
  f: FunctionBuilder,
  dst: Local,
  k: number | Local,
  limit: Local,
  at: Local,
  kIsLocal = false
): void => {
  const push = () => (kIsLocal ? f.get(k) : f.i32(k))
  const left = () => f.get(limit).get(at).i32_sub()
  push()
  left()
  push()
  left()
  f.i32_lt_s().select().set(dst)
}

const add = (f: FunctionBuilder, dst: Local, by: Local | { readonly const: number }): void => {
  f.get(dst)
  if (typeof by === "number") f.get(by)
  else f.i32(by.const)
  f.i32_add().set(dst)
}

/** Pushes one input element at the address on the stack as an i32 word (a bool's byte widened). */
const loadElement = (f: FunctionBuilder, e: GemmElement): void => {
  if (e === "bool") f.i32_load8_u(0, 0)
  else f.i32_load(0, 0)
}

/** `i8x16.shuffle` picking 32-bit lanes: 0-3 from the first operand, 4-7 from the second. */
const shuffle32 = (f: FunctionBuilder, lanes: readonly [number, number, number, number]): void => {
  f.shuffle(lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]))
}

/** Six v128 locals the transposes work in. */
type Temps = readonly [Local, Local, Local, Local, Local, Local]

/**
 * Packs 4 k of 3 rows (`q`, `q + sRow`, `q + 2·sRow`, each 4 contiguous words) as 12 words k-major at
 * `dst`: `[a0 b0 c0 a1] [b1 c1 a2 b2] [c2 a3 b3 c3]`. Advances `q` by two rows.
 */
const transpose3 = (f: FunctionBuilder, t: Temps, q: Local, sRow: Local, dst: Local): void => {
  const [a, b, c, lo, hi] = t
  f.get(q).v128_load(0, 0).set(a)
  add(f, q, sRow)
  f.get(q).v128_load(0, 0).set(b)
  add(f, q, sRow)
  f.get(q).v128_load(0, 0).set(c)
  f.get(a).get(b)
  shuffle32(f, [0, 4, 1, 5])
  f.set(lo)
  f.get(a).get(b)
  shuffle32(f, [2, 6, 3, 7])
  f.set(hi)
  f.get(dst).get(lo).get(c)
  shuffle32(f, [0, 1, 4, 2])
  f.v128_store(0, 0)
  f.get(dst).get(lo).get(hi)
  shuffle32(f, [3, 3, 4, 5])
  f.get(c)
  shuffle32(f, [0, 5, 2, 3])
  f.v128_store(16, 0)
  f.get(dst).get(hi).get(c)
  shuffle32(f, [6, 2, 3, 7])
  f.v128_store(32, 0)
}

/**
 * Packs 4 k of 4 rows from `q` (rows `sRow` apart, 4 contiguous words each) into column `at` (bytes)
 * of four k-rows `rowBytes` apart at `dst`: a 4 × 4 transpose. Advances `q` by four rows.
 */
const transpose4 = (
  f: FunctionBuilder,
  t: Temps,
  q: Local,
  sRow: Local,
  dst: Local,
  at: number,
  rowBytes: number
): void => {
  const [r0, r1, r2, r3, t0, t1] = t
  for (const r of [r0, r1, r2, r3]) {
    f.get(q).v128_load(0, 0).set(r)
    add(f, q, sRow)
  }
  // t0 = [r0k0 r1k0 r0k1 r1k1], t1 = [r0k2 r1k2 r0k3 r1k3]; r0, r1 reused for rows 2 and 3.
  f.get(r0).get(r1)
  shuffle32(f, [0, 4, 1, 5])
  f.set(t0)
  f.get(r0).get(r1)
  shuffle32(f, [2, 6, 3, 7])
  f.set(t1)
  f.get(r2).get(r3)
  shuffle32(f, [0, 4, 1, 5])
  f.set(r0)
  f.get(r2).get(r3)
  shuffle32(f, [2, 6, 3, 7])
  f.set(r1)
  const store = (k: number, x: Local, y: Local, lanes: readonly [number, number, number, number]) => {
    f.get(dst).get(x).get(y)
    shuffle32(f, lanes)
    f.v128_store(k * rowBytes + at, 0)
  }
  store(0, t0, r0, [0, 1, 4, 5])
  store(1, t0, r0, [2, 3, 6, 7])
  store(2, t1, r1, [0, 1, 4, 5])
  store(3, t1, r1, [2, 3, 6, 7])
}

/**
 * Adds `pack(src, rows, kc, sRow, sK, dst)`: packs a `rows × kc` block (element `(i, k)` at
 * `src + i·sRow + k·sK`) into micro-panels of `width` rows, `width` words per k, zero-padding the last
 * panel. Serves A (rows of A, `width = mr`) and B (columns of B, `width = nr`). Full panels of float32
 * or int32 move in vectors: copied when contiguous across rows (`sRow` one element: A stored by
 * columns, B by rows), transposed 4 k at a time when contiguous along k (A by rows, B by columns);
 * other strides, bool and the zero-padded last panel go one element at a time.
 */
const addPack = (m: ModuleBuilder, e: GemmElement, width: number): number =>
  m.addFunction(undefined, ["i32", "i32", "i32", "i32", "i32", "i32"], [], (f) => {
    const [src, rows, kc, sRow, sK, dst] = [0, 1, 2, 3, 4, 5]
    const n = f.local("i32"),
      p = f.local("i32"),
      q = f.local("i32"),
      k = f.local("i32"),
      j = f.local("i32")
    const eb = elementBytes(e)
    count(f, rows, width, (r0) => {
      clampTo(f, n, width, rows, r0)
      f.get(src).get(r0).get(sRow).i32_mul().i32_add().set(p)
      const step = () => {
        add(f, p, sK)
        add(f, dst, { const: width * 4 })
      }
      f.get(n)
        .i32(width)
        .i32_eq()
        .if(
          () => {
            const contiguous = () => {
              f.forLoop(k, { const: 0 }, kc, { const: 1 }, () => {
                for (let v = 0; v + 4 <= width; v += 4)
                  f.get(dst)
                    .get(p)
                    .v128_load(v * 4, 0)
                    .v128_store(v * 4, 0)
                for (let v = width - (width % 4); v < width; v++)
                  f.get(dst)
                    .get(p)
                    .i32_load(v * 4, 0)
                    .i32_store(v * 4, 0)
                step()
              })
            }
            const strided = (from: Local | { readonly const: number }) => {
              f.forLoop(k, from, kc, { const: 1 }, () => {
                f.get(p).set(q)
                for (let v = 0; v < width; v++) {
                  f.get(dst).get(q)
                  loadElement(f, e)
                  f.i32_store(v * 4, 0)
                  if (v + 1 < width) add(f, q, sRow)
                }
                step()
              })
            }
            // Rows contiguous in k (A row-major, B stored by columns): transpose 4 k at a time in vectors.
            const transposing = e !== "bool" && (width === 3 || width % 4 === 0)
            const kVec = f.local("i32")
            const t: Temps = transposing
              ? [f.local("v128"), f.local("v128"), f.local("v128"), f.local("v128"), f.local("v128"), f.local("v128")]
              : [0, 0, 0, 0, 0, 0]
            const byK = () => {
              f.get(kc).i32(-4).i32_and().set(kVec)
              f.forLoop(k, { const: 0 }, kVec, { const: 4 }, () => {
                f.get(p).set(q)
                if (width === 3) transpose3(f, t, q, sRow, dst)
                else for (let g = 0; g < width; g += 4) transpose4(f, t, q, sRow, dst, g * 4, width * 4)
                add(f, p, { const: 16 })
                add(f, dst, { const: width * 16 })
              })
              strided(kVec)
            }
            if (e === "bool") strided({ const: 0 })
            else {
              f.get(sRow)
                .i32(eb)
                .i32_eq()
                .if(contiguous, () => {
                  if (transposing)
                    f.get(sK)
                      .i32(eb)
                      .i32_eq()
                      .if(byK, () => strided({ const: 0 }))
                  else strided({ const: 0 })
                })
            }
          },
          () => {
            f.forLoop(k, { const: 0 }, kc, { const: 1 }, () => {
              f.get(p).set(q)
              f.i32(0).set(j)
              f.loop(() => {
                f.get(dst).get(j).i32(4).i32_mul().i32_add()
                f.get(j)
                  .get(n)
                  .i32_lt_s()
                  .if(
                    () => {
                      f.get(q)
                      loadElement(f, e)
                      add(f, q, sRow)
                    },
                    () => f.i32(0),
                    "i32"
                  )
                f.i32_store(0, 0)
                f.get(j).i32(1).i32_add().tee(j).i32(width).i32_lt_s().br_if(0)
              })
              step()
            })
          }
        )
    })
  })

/**
 * Adds `micro(ap, bp, c, ldc, kc, first)`: the `mr × nr` tile `C (+)= Ap · Bp` over `kc` packed steps,
 * C a tile of 4-byte words with row stride `ldc`; `first` starts from zero instead of C.
 */
const addMicro = (m: ModuleBuilder, c: GemmConfig): number =>
  m.addFunction(undefined, ["i32", "i32", "i32", "i32", "i32", "i32"], [], (f) => {
    const [ap, bp, cp, ldc, kc, first] = [0, 1, 2, 3, 4, 5]
    const { mr, nv } = c
    const acc = Array.from({ length: mr * nv }, () => f.local("v128"))
    const bv = Array.from({ length: nv }, () => f.local("v128"))
    const av = f.local("v128")
    const k = f.local("i32"),
      kEnd = f.local("i32"),
      row = f.local("i32")
    const unroll = 4
    const multiplyAdd = (into: Local) => {
      if (c.element === "f32") {
        if (c.relaxed) f.get(into).f32x4_relaxed_madd()
        else f.f32x4_mul().get(into).f32x4_add()
      } else if (c.element === "i32") f.i32x4_mul().get(into).i32x4_add()
      else f.v128_and().get(into).v128_or()
      f.set(into)
    }
    const step = (u: number) => {
      for (let v = 0; v < nv; v++)
        f.get(bp)
          .v128_load((u * nv + v) * 16, 0)
          .set(bv[v]!)
      for (let r = 0; r < mr; r++) {
        f.get(ap)
          .v128_load32_splat((u * mr + r) * 4, 0)
          .set(av)
        for (let v = 0; v < nv; v++) {
          f.get(av).get(bv[v]!)
          multiplyAdd(acc[r * nv + v]!)
        }
      }
    }
    const rows = (body: (r: number) => void) => {
      f.get(cp).set(row)
      for (let r = 0; r < mr; r++) {
        body(r)
        if (r + 1 < mr) add(f, row, ldc)
      }
    }
    f.get(first).if(
      () => {
        for (const a of acc) f.i32x4(0).set(a)
      },
      () =>
        rows((r) => {
          for (let v = 0; v < nv; v++)
            f.get(row)
              .v128_load(v * 16, 0)
              .set(acc[r * nv + v]!)
        })
    )
    f.get(kc).i32(-unroll).i32_and().set(kEnd)
    f.forLoop(k, { const: 0 }, kEnd, { const: unroll }, () => {
      for (let u = 0; u < unroll; u++) step(u)
      add(f, ap, { const: unroll * mr * 4 })
      add(f, bp, { const: unroll * nv * 16 })
    })
    f.forLoop(k, kEnd, kc, { const: 1 }, () => {
      step(0)
      add(f, ap, { const: mr * 4 })
      add(f, bp, { const: nv * 16 })
    })
    rows((r) => {
      for (let v = 0; v < nv; v++)
        f.get(row)
          .get(acc[r * nv + v]!)
          .v128_store(v * 16, 0)
    })
  })

/**
 * Adds `tile(ap, bp, c, ldc, rows, cols, kc, first, buf)`: one micro-tile into C at `c` (row stride
 * `ldc`), of which only `rows × cols` exist; partial tiles (and every bool tile) go through `buf`.
 */
const addTile = (m: ModuleBuilder, c: GemmConfig, micro: number): number =>
  m.addFunction(undefined, ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"], [], (f) => {
    const [ap, bp, cp, ldc, rows, cols, kc, first, buf] = [0, 1, 2, 3, 4, 5, 6, 7, 8]
    const nr = c.nv * 4
    const eb = elementBytes(c.element)
    const i = f.local("i32"),
      j = f.local("i32"),
      rowC = f.local("i32"),
      rowT = f.local("i32")
    const copy = (toBuffer: boolean) => {
      f.get(cp).set(rowC)
      f.get(buf).set(rowT)
      f.forLoop(i, { const: 0 }, rows, { const: 1 }, () => {
        f.forLoop(j, { const: 0 }, cols, { const: 1 }, () => {
          const tileAt = () => f.get(rowT).get(j).i32(4).i32_mul().i32_add()
          const cAt = () => f.get(rowC).get(j).i32(eb).i32_mul().i32_add()
          if (toBuffer) {
            tileAt()
            cAt()
            loadElement(f, c.element)
            f.i32_store(0, 0)
          } else {
            cAt()
            tileAt().i32_load(0, 0)
            if (c.element === "bool") f.i32(0).i32_ne().i32_store8(0, 0)
            else f.i32_store(0, 0)
          }
        })
        add(f, rowC, ldc)
        add(f, rowT, { const: nr * 4 })
      })
    }
    const viaBuffer = () => {
      f.get(first)
        .i32_eqz()
        .if(() => copy(true))
      f.get(ap)
        .get(bp)
        .get(buf)
        .i32(nr * 4)
        .get(kc)
        .get(first)
        .call(micro)
      copy(false)
    }
    if (c.element === "bool") viaBuffer()
    else {
      f.get(rows)
        .i32(c.mr)
        .i32_eq()
        .get(cols)
        .i32(nr)
        .i32_eq()
        .i32_and()
        .if(() => {
          f.get(ap).get(bp).get(cp).get(ldc).get(kc).get(first).call(micro)
        }, viaBuffer)
    }
  })

/** Atomic accesses (threads proposal) to the i32 at the address on the stack. */
const atomic = {
  /** `(addr, v) -> old`: adds `v`. */
  add: (f: FunctionBuilder) => f.raw(0xfe, 0x1e, 2, 0),
  /** `(addr, expected, replacement) -> old`: compare and exchange. */
  cmpxchg: (f: FunctionBuilder) => f.raw(0xfe, 0x48, 2, 0),
  /** `addr -> value`. */
  load: (f: FunctionBuilder) => f.raw(0xfe, 0x10, 2, 0),
  /** `(addr, v)`. */
  store: (f: FunctionBuilder) => f.raw(0xfe, 0x17, 2, 0)
}

/** Packing flags: a block of B is unpacked, being packed by some running thread, or ready. */
const flag = { unpacked: 0, packing: 1, ready: 2 } as const
/** Checks of a flag before a waiting thread gives up (seconds: far longer than packing any block takes). */
const spinLimit = 2 ** 30

/**
 * Builds the product module for `c` into `m`: internal `pack`, `micro` and `tile` functions and the
 * export `gemm(task, tasks, ...gemmArgs)`.
 *
 * A unit needs, for each block of K, the packed block of B over its columns. The first thread to need
 * it claims its flag (`unpacked -> packing`, compare-and-exchange), packs it and marks it `ready`;
 * others wait for `ready`. A thread only ever waits on a block another thread is packing right now, so
 * this cannot deadlock, even when the pool runs the tasks one after another on one thread. Packing on
 * first use avoids a second pool hand-off and packs each block of B once, just before it is read.
 */
export const buildGemm = (m: ModuleBuilder, c: GemmConfig): void => {
  const nr = c.nv * 4
  const eb = elementBytes(c.element)
  const packA = addPack(m, c.element, c.mr)
  const packB = c.mr === nr ? packA : addPack(m, c.element, nr)
  const micro = addMicro(m, c)
  const tile = addTile(m, c, micro)

  m.addFunction(
    "gemm",
    Array.from({ length: 2 + gemmArgs.length }, () => "i32" as const),
    [],
    (f) => {
      const arg = (name: (typeof gemmArgs)[number]): Local => 2 + gemmArgs.indexOf(name)
      const [counter, flags, a, sAb, sAm, sAk, b, sBb, sBk, sBn, packed, cc, sCb, ldc] = [
        arg("counter"),
        arg("flags"),
        arg("a"),
        arg("sAb"),
        arg("sAm"),
        arg("sAk"),
        arg("b"),
        arg("sBb"),
        arg("sBk"),
        arg("sBn"),
        arg("packed"),
        arg("c"),
        arg("sCb"),
        arg("ldc")
      ]
      const [M, K, KC, MC, NC, batches, cols, work, workBytes] = [
        arg("M"),
        arg("K"),
        arg("kc"),
        arg("mc"),
        arg("nc"),
        arg("batches"),
        arg("cols"),
        arg("work"),
        arg("workBytes")
      ]
      const local = () => f.local("i32")
      const [panels, perBatch, mBlocks, nBlocks, kBlocks, units, u, t, jb, apBuf, tileBuf] = [
        local(),
        local(),
        local(),
        local(),
        local(),
        local(),
        local(),
        local(),
        local(),
        local(),
        local()
      ]
      const [bi, ic, mc, jc, jEnd, aB, bB, cB, pc, kb, kc, first, bBlock, jr, ncols, ir, nrows, flagAt, spins] = [
        local(),
        local(),
        local(),
        local(),
        local(),
        local(),
        local(),
        local(),
        local(),
        local(),
        local(),
        local(),
        local(),
        local(),
        local(),
        local(),
        local(),
        local(),
        local()
      ]
      const ceilDiv = (n: Local, d: Local, dst: Local) =>
        f.get(n).get(d).i32_add().i32(1).i32_sub().get(d).i32_div_u().set(dst)
      f.get(cols)
        .i32(nr - 1)
        .i32_add()
        .i32(nr)
        .i32_div_u()
        .set(panels)
      f.get(panels)
        .get(K)
        .i32_mul()
        .i32(nr * 4)
        .i32_mul()
        .set(perBatch)
      ceilDiv(M, MC, mBlocks)
      ceilDiv(cols, NC, nBlocks)
      ceilDiv(K, KC, kBlocks)
      f.get(batches).get(mBlocks).i32_mul().get(nBlocks).i32_mul().set(units)
      f.get(work).get(0).get(workBytes).i32_mul().i32_add().set(apBuf)
      f.get(apBuf).get(MC).get(KC).i32_mul().i32(4).i32_mul().i32_add().set(tileBuf)
      f.block(() => {
        f.loop(() => {
          // Claim the next unit (row block ic, column block jb of batch bi): rows fastest, so
          // consecutive units share a column block of packed B.
          f.get(counter).i32(1)
          atomic.add(f)
          f.tee(u).get(units).i32_ge_u().br_if(1)
          f.get(u).get(mBlocks).i32_rem_u().get(MC).i32_mul().set(ic)
          f.get(u).get(mBlocks).i32_div_u().set(t)
          f.get(t).get(nBlocks).i32_rem_u().set(jb)
          f.get(jb).get(NC).i32_mul().set(jc)
          f.get(t).get(nBlocks).i32_div_u().set(bi)
          clampTo(f, mc, MC, M, ic, true)
          clampTo(f, jEnd, NC, cols, jc, true)
          f.get(jEnd).get(jc).i32_add().set(jEnd)
          f.get(a).get(bi).get(sAb).i32_mul().i32_add().get(ic).get(sAm).i32_mul().i32_add().set(aB)
          f.get(packed).get(bi).get(perBatch).i32_mul().i32_add().set(bB)
          f.get(cc).get(bi).get(sCb).i32_mul().i32_add().get(ic).get(ldc).i32_mul().i32_add().set(cB)
          f.i32(0).set(kb)
          f.forLoop(pc, { const: 0 }, K, KC, () => {
            clampTo(f, kc, KC, K, pc, true)
            f.get(pc).i32_eqz().set(first)
            f.get(bB)
              .get(pc)
              .get(panels)
              .i32_mul()
              .i32(nr * 4)
              .i32_mul()
              .i32_add()
              .set(bBlock)
            // This block of B: pack it, or wait until whoever is packing it has.
            f.get(flags)
              .get(bi)
              .get(kBlocks)
              .i32_mul()
              .get(kb)
              .i32_add()
              .get(nBlocks)
              .i32_mul()
              .get(jb)
              .i32_add()
              .i32(4)
              .i32_mul()
              .i32_add()
              .set(flagAt)
            f.i32(0).set(spins)
            f.block(() => {
              f.loop(() => {
                f.get(flagAt)
                atomic.load(f)
                f.i32(flag.ready).i32_eq().br_if(1)
                // A packer that trapped never marks its block ready: trap too rather than spin forever.
                f.get(spins)
                  .i32(1)
                  .i32_add()
                  .tee(spins)
                  .i32(spinLimit)
                  .i32_gt_u()
                  .if(() => f.unreachable())
                f.get(flagAt).i32(flag.unpacked).i32(flag.packing)
                atomic.cmpxchg(f)
                f.i32(flag.unpacked)
                  .i32_eq()
                  .if(() => {
                    f.get(b)
                      .get(bi)
                      .get(sBb)
                      .i32_mul()
                      .i32_add()
                      .get(pc)
                      .get(sBk)
                      .i32_mul()
                      .i32_add()
                      .get(jc)
                      .get(sBn)
                      .i32_mul()
                      .i32_add()
                    f.get(jEnd).get(jc).i32_sub().get(kc).get(sBn).get(sBk)
                    f.get(bBlock).get(jc).get(kc).i32_mul().i32(4).i32_mul().i32_add()
                    f.call(packB)
                    f.get(flagAt).i32(flag.ready)
                    atomic.store(f)
                    f.br(2)
                  })
                f.br(0)
              })
            })
            f.get(aB).get(pc).get(sAk).i32_mul().i32_add()
            f.get(mc).get(kc).get(sAm).get(sAk).get(apBuf).call(packA)
            f.forLoop(jr, jc, jEnd, { const: nr }, () => {
              clampTo(f, ncols, nr, jEnd, jr)
              f.forLoop(ir, { const: 0 }, mc, { const: c.mr }, () => {
                clampTo(f, nrows, c.mr, mc, ir)
                f.get(apBuf).get(ir).get(kc).i32_mul().i32(4).i32_mul().i32_add()
                f.get(bBlock).get(jr).get(kc).i32_mul().i32(4).i32_mul().i32_add()
                f.get(cB).get(ir).get(ldc).i32_mul().i32_add().get(jr).i32(eb).i32_mul().i32_add()
                f.get(ldc).get(nrows).get(ncols).get(kc).get(first).get(tileBuf).call(tile)
              })
            })
            add(f, kb, { const: 1 })
          })
          f.br(0)
        })
      })
    }
  )
}
