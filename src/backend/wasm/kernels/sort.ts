/**
 * `sort`: every lane along `dimension` sorted lexicographically by the first `numKeys` operands,
 * stably, all operands permuted alike, with the cpu kernel's order (XLA's): NaN after +inf, and -0
 * tying with +0.
 *
 * Each key element becomes a 32-bit word whose unsigned order is that order (floats: the sign-flip
 * trick, every NaN the largest word; int32: the sign bit flipped), and the high half of a 64-bit
 * record whose low half is the element's position. Records are unique, so sorting them orders by
 * key and breaks ties by position: stable. Long lanes sort the records by an LSD radix sort on the
 * key word (stable, a byte per pass, four histograms counted in one pass, skipping bytes all keys
 * share): 15 ms for a million float32 against 100 ms for the typed array's sort, 27 ms against
 * 480 ms for an argsort's comparator sort. Short lanes (48 or fewer) use insertion sort of runs of 16
 * and branch-free bottom-up merges, cheaper there than the histograms. Several keys are sorted least
 * significant first, each pass stably reordering the previous pass's permutation (the records'
 * positions are positions in that order), which gives the lexicographic order. The permutation
 * then gathers every operand's lane.
 *
 * Lanes are split across threads, each task with its own scratch (24 bytes per element and 4 KiB),
 * so the result does not depend on the thread count.
 *
 * @since 0.2.0
 */
import type { Aval, DType } from "../../DType.ts"
import type { FunctionBuilder, ModuleBuilder } from "../encoder.ts"
import type { WasmKernel } from "../runtime.ts"
import { walk } from "./codegen.ts"
import { parallelThreshold } from "./elementwise.ts"
import { count } from "./plan.ts"

/** Records sorted by insertion before merging. */
const RUN = 16

/** Lane lengths above which records are radix sorted (measured: merges win below about 48). */
const RADIX_FROM = 48

/** Scratch of one task: byte histograms, records, their second buffer, two permutations. */
const laneBytesOf = (n: number): number => 4096 + (((24 * n + 63) >> 6) << 6)

/** Operands the pool can pass (two pointers each, after the task, task count and scratch). */
const MAX_OPERANDS = 40

/**
 * Adds `sortRecords(rec, tmp, n) -> sorted`: sorts `n` unique u64 records at `rec`, ping-ponging
 * with `tmp`; answers the buffer holding the result.
 */
const addSortRecords = (m: ModuleBuilder): number =>
  m.addFunction(undefined, ["i32", "i32", "i32"], ["i32"], (f) => {
    const REC = 0,
      TMP = 1,
      N = 2
    const s = f.local("i32"),
      e = f.local("i32"),
      i = f.local("i32"),
      j = f.local("i32"),
      x = f.local("i64")
    const at = (base: number, index: number) => f.get(base).get(index).i32(3).i32_shl().i32_add()
    // Insertion sort of each run of RUN records.
    f.i32(0).set(s)
    f.block(() =>
      f.loop(() => {
        f.get(s).get(N).i32_ge_u().br_if(1)
        f.get(s).i32(RUN).i32_add().tee(e).get(N).get(e).get(N).i32_lt_u().select().set(e)
        f.get(s).i32(1).i32_add().set(i)
        f.block(() =>
          f.loop(() => {
            f.get(i).get(e).i32_ge_u().br_if(1)
            at(REC, i).i64_load().set(x)
            f.get(i).set(j)
            f.block(() =>
              f.loop(() => {
                f.get(j).get(s).i32_le_u().br_if(1)
                at(REC, j).i32(8).i32_sub().i64_load().get(x).i64_gt_u().i32_eqz().br_if(1)
                at(REC, j)
                at(REC, j).i32(8).i32_sub().i64_load()
                f.i64_store()
                f.get(j).i32(1).i32_sub().set(j)
                f.br(0)
              })
            )
            at(REC, j).get(x).i64_store()
            f.get(i).i32(1).i32_add().set(i)
            f.br(0)
          })
        )
        f.get(e).set(s)
        f.br(0)
      })
    )
    // Bottom-up merges of neighbouring runs, from `src` into `dst`.
    const width = f.local("i32"),
      src = f.local("i32"),
      dst = f.local("i32"),
      t = f.local("i32")
    const lo = f.local("i32"),
      mid = f.local("i32"),
      hi = f.local("i32"),
      k = f.local("i32")
    const a = f.local("i64"),
      b = f.local("i64"),
      take = f.local("i32")
    const min = (x1: number, x2: number, out: number) => f.get(x1).get(x2).get(x1).get(x2).i32_lt_u().select().set(out)
    f.i32(RUN).set(width).get(REC).set(src).get(TMP).set(dst)
    f.block(() =>
      f.loop(() => {
        f.get(width).get(N).i32_ge_u().br_if(1)
        f.i32(0).set(lo)
        f.block(() =>
          f.loop(() => {
            f.get(lo).get(N).i32_ge_u().br_if(1)
            f.get(lo).get(width).i32_add().set(t)
            min(t, N, mid)
            f.get(mid).get(width).i32_add().set(t)
            min(t, N, hi)
            f.get(lo).set(i).get(mid).set(j).get(lo).set(k)
            f.block(() =>
              f.loop(() => {
                f.get(i).get(mid).i32_ge_u().br_if(1)
                f.get(j).get(hi).i32_ge_u().br_if(1)
                at(src, i).i64_load().set(a)
                at(src, j).i64_load().set(b)
                f.get(b).get(a).i64_lt_u().set(take)
                at(dst, k).get(b).get(a).get(take).select().i64_store()
                f.get(j).get(take).i32_add().set(j)
                f.get(i).i32(1).get(take).i32_sub().i32_add().set(i)
                f.get(k).i32(1).i32_add().set(k)
                f.br(0)
              })
            )
            // The rest of whichever run is left.
            at(dst, k)
            at(src, i)
            f.get(mid).get(i).i32_sub().i32(3).i32_shl().memory_copy()
            f.get(k).get(mid).i32_add().get(i).i32_sub().set(k)
            at(dst, k)
            at(src, j)
            f.get(hi).get(j).i32_sub().i32(3).i32_shl().memory_copy()
            f.get(hi).set(lo)
            f.br(0)
          })
        )
        f.get(src).set(t).get(dst).set(src).get(t).set(dst)
        f.get(width).i32(1).i32_shl().set(width)
        f.br(0)
      })
    )
    f.get(src)
  })

/**
 * Adds `radixRecords(rec, tmp, n, hist) -> sorted`: sorts `n` records at `rec` by their high words,
 * stably (ties keep their order, which is their low words' order), by bytes from the least
 * significant, ping-ponging with `tmp`; `hist` is 4 KiB for the four byte histograms, counted in
 * one pass. A byte every key shares is skipped.
 */
const addRadixRecords = (m: ModuleBuilder): number =>
  m.addFunction(undefined, ["i32", "i32", "i32", "i32"], ["i32"], (f) => {
    const REC = 0,
      TMP = 1,
      N = 2,
      HIST = 3
    const i = f.local("i32"),
      key = f.local("i32"),
      src = f.local("i32"),
      dst = f.local("i32"),
      t = f.local("i32")
    const sum = f.local("i32"),
      c = f.local("i32"),
      r = f.local("i64"),
      slot = f.local("i32"),
      end = f.local("i32")
    const count = (h: number) =>
      f
        .get(HIST)
        .i32(h * 1024)
        .i32_add()
    f.get(HIST).i32(0).i32(4096).memory_fill()
    f.forLoop(i, { const: 0 }, N, { const: 1 }, () => {
      f.get(REC).get(i).i32(3).i32_shl().i32_add().i32_load(4).set(key)
      for (let b = 0; b < 4; b++) {
        count(b)
          .get(key)
          .i32(8 * b)
          .i32_shr_u()
          .i32(255)
          .i32_and()
          .i32(2)
          .i32_shl()
          .i32_add()
          .tee(slot)
        f.get(slot).i32_load().i32(1).i32_add().i32_store()
      }
    })
    f.get(REC).set(src).get(TMP).set(dst).i32(256).set(end)
    for (let b = 0; b < 4; b++) {
      // Skip the byte when one bucket holds every record.
      count(b)
        .get(src)
        .i32_load(4)
        .i32(8 * b)
        .i32_shr_u()
        .i32(255)
        .i32_and()
        .i32(2)
        .i32_shl()
        .i32_add()
        .i32_load()
        .get(N)
        .i32_ne()
        .if(() => {
          f.i32(0).set(sum)
          f.forLoop(c, { const: 0 }, end, { const: 1 }, () => {
            count(b).get(c).i32(2).i32_shl().i32_add().tee(slot).i32_load().set(t)
            f.get(slot).get(sum).i32_store()
            f.get(sum).get(t).i32_add().set(sum)
          })
          f.forLoop(i, { const: 0 }, N, { const: 1 }, () => {
            f.get(src).get(i).i32(3).i32_shl().i32_add().i64_load().set(r)
            count(b)
              .get(r)
              .i64(BigInt(32 + 8 * b))
              .i64_shr_u()
              .i32_wrap_i64()
              .i32(255)
              .i32_and()
              .i32(2)
              .i32_shl()
              .i32_add()
              .tee(slot)
              .i32_load()
              .set(t)
            f.get(slot).get(t).i32(1).i32_add().i32_store()
            f.get(dst).get(t).i32(3).i32_shl().i32_add().get(r).i64_store()
          })
          f.get(src).set(t).get(dst).set(src).get(t).set(dst)
        })
    }
    f.get(src)
  })

/** Pushes the order word of the element at the address on the stack. */
const orderWord = (f: FunctionBuilder, dtype: DType, u: number): void => {
  switch (dtype) {
    case "bool":
      f.i32_load8_u()
      return
    case "uint32":
    case "key<fry>":
      f.i32_load()
      return
    case "int32":
      f.i32_load().i32(-0x80000000).i32_xor()
      return
    case "float32":
      f.i32_load().set(u)
      // -0 ties with +0.
      f.get(u).i32(0).get(u).i32(-0x80000000).i32_ne().select().set(u)
      // NaN: the largest word; otherwise negative floats flipped whole, positive ones their sign bit.
      f.i32(-1)
      f.get(u).get(u).i32(31).i32_shr_s().i32(-0x80000000).i32_or().i32_xor()
      f.get(u).i32(0x7fffffff).i32_and().i32(0x7f800000).i32_gt_u().select()
  }
}

interface SortLayout {
  readonly dtypes: ReadonlyArray<DType>
  readonly numKeys: number
  readonly outer: number
  readonly n: number
  readonly inner: number
}

/** Builds `run(task, tasks, scratch, ...inputs, ...outputs)` over lanes `[lo, hi)` of this task. */
const build = (m: ModuleBuilder, l: SortLayout): void => {
  const sortRecords = l.n > RADIX_FROM ? addRadixRecords(m) : addSortRecords(m)
  const ops = l.dtypes.length
  m.addFunction("run", new Array<"i32">(3 + 2 * ops).fill("i32"), [], (f) => {
    const { n, inner, outer } = l
    const bytes = l.dtypes.map((d) => (d === "bool" ? 1 : 4))
    const units = outer * inner
    const lo = f.local("i32"),
      hi = f.local("i32")
    f.taskRange(units, lo, hi)
    // This task's scratch: records, their merge buffer, the permutation and its next version.
    const rec = f.local("i32"),
      tmp = f.local("i32"),
      perm = f.local("i32"),
      next = f.local("i32"),
      sorted = f.local("i32"),
      swap = f.local("i32")
    const hist = f.local("i32")
    f.get(2)
      .get(0)
      .i32(laneBytesOf(n))
      .i32_mul()
      .i32_add()
      .tee(hist)
      .i32(4096)
      .i32_add()
      .tee(rec)
      .i32(8 * n)
      .i32_add()
      .tee(tmp)
      .i32(8 * n)
      .i32_add()
      .tee(perm)
      .i32(4 * n)
      .i32_add()
      .set(next)
    const ptrs = Array.from({ length: 2 * ops }, () => f.local("i32"))
    const k = f.local("i32"),
      end = f.local("i32"),
      u = f.local("i32"),
      p = f.local("i32")
    const axes = [
      { size: outer, strides: [...bytes, ...bytes].map((b) => b * n * inner) },
      { size: inner, strides: [...bytes, ...bytes] }
    ]
    walk(
      f,
      axes,
      ptrs,
      ptrs.map((_, j) => 3 + j),
      lo,
      hi,
      () => {
        f.i32(n).set(end)
        for (let t = l.numKeys - 1; t >= 0; t--) {
          const first = t === l.numKeys - 1
          f.forLoop(k, { const: 0 }, end, { const: 1 }, () => {
            f.get(rec).get(k).i32(3).i32_shl().i32_add()
            // The element at position k of the current order.
            f.get(ptrs[t]!)
            if (first) f.get(k)
            else f.get(perm).get(k).i32(2).i32_shl().i32_add().i32_load()
            f.i32(inner * bytes[t]!)
              .i32_mul()
              .i32_add()
            orderWord(f, l.dtypes[t]!, u)
            f.i64_extend_i32_u().i64(32n).i64_shl().get(k).i64_extend_i32_u().i64_or().i64_store()
          })
          f.get(rec).get(tmp).get(end)
          if (n > RADIX_FROM) f.get(hist)
          f.call(sortRecords).set(sorted)
          f.forLoop(k, { const: 0 }, end, { const: 1 }, () => {
            f.get(next).get(k).i32(2).i32_shl().i32_add()
            f.get(sorted).get(k).i32(3).i32_shl().i32_add().i32_load()
            if (!first) f.set(p).get(perm).get(p).i32(2).i32_shl().i32_add().i32_load()
            f.i32_store()
          })
          f.get(perm).set(swap).get(next).set(perm).get(swap).set(next)
        }
        l.dtypes.forEach((_, j) => {
          const eb = bytes[j]!
          const from = ptrs[j]!,
            to = ptrs[ops + j]!
          f.forLoop(k, { const: 0 }, end, { const: 1 }, () => {
            f.get(to)
              .get(k)
              .i32(inner * eb)
              .i32_mul()
              .i32_add()
            f.get(from)
              .get(perm)
              .get(k)
              .i32(2)
              .i32_shl()
              .i32_add()
              .i32_load()
              .i32(inner * eb)
              .i32_mul()
              .i32_add()
            if (eb === 1) f.i32_load8_u().i32_store8()
            else f.i32_load().i32_store()
          })
        })
      }
    )
  })
}

/**
 * The sort kernel.
 * @category kernels
 * @since 0.2.0
 */
export const sortKernel: WasmKernel<"sort"> = (
  rt,
  inputs,
  outputs,
  inAvals: ReadonlyArray<Aval>,
  _outAvals,
  params
) => {
  const shape = inAvals[0]!.shape
  if (inAvals.length > MAX_OPERANDS || inAvals.some((a) => a.dtype === "key<fry>")) return "fallback"
  const rank = shape.length
  const d = params.dimension < 0 ? params.dimension + rank : params.dimension
  const outer = count(shape.slice(0, d)),
    n = shape[d]!,
    inner = count(shape.slice(d + 1))
  const lanes = outer * inner
  if (lanes * n === 0) return
  const l: SortLayout = { dtypes: inAvals.map((a) => a.dtype), numKeys: params.numKeys, outer, n, inner }
  const kernel = rt.kernel(`sort:${JSON.stringify(l)}`, (m) => build(m, l))
  const tasks = lanes * n < parallelThreshold / 4 ? 1 : Math.max(1, Math.min(rt.threads, lanes))
  const scratch = rt.scratch(laneBytesOf(n) * tasks)
  rt.run(kernel, "run", [scratch, ...inputs, ...outputs], tasks)
}
