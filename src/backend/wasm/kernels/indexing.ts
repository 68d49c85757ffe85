/**
 * `gather`, `scatter` and `scatter_add` (see `GatherParams` in Primitive.ts and `cpu/indexing.ts`,
 * whose semantics these follow exactly).
 *
 * As in the cpu kernel, the indices are `B × J` index rows of `K` entries; each row selects one slice
 * of the operand over its remaining ("rest") axes, of `R` elements, and the gathered output, like the
 * updates, is laid out `[B, J, R]`. The generated code walks the index rows, computes each slice's
 * byte offset (clamping in "clip" mode; in "fill" mode an out-of-range row gathers the dtype's fill
 * value or drops its update), then moves the slice: the rest axes are collapsed to as few runs as
 * the layouts allow, and each run is one `memory.copy`, a few unrolled vector moves when it is short,
 * or an element loop when the operand side is strided.
 *
 * A gather splits its rows across threads (every output element is written by one row). A scatter
 * applies its rows one after the other on one thread, in row-major order, so with duplicate indices
 * the last update wins and sums accumulate in the cpu kernel's order.
 *
 * @since 0.2.0
 */
import type { Aval, DType } from "../../DType.ts"
import type { GatherParams } from "../../Primitive.ts"
import type { FunctionBuilder } from "../encoder.ts"
import type { WasmKernel, WasmRuntime } from "../runtime.ts"
import { walk } from "./codegen.ts"
import type { Axis } from "./codegen.ts"
import { parallelThreshold } from "./elementwise.ts"
import { count, rowMajor } from "./plan.ts"

type Op = "gather" | "scatter" | "scatter_add"

/** Where each index row's slice lies, with everything in bytes. */
interface Layout {
  readonly op: Op
  readonly dtype: DType
  /** Bytes per stored element (a key is two 4-byte words, moved as words). */
  readonly bytes: number
  readonly signedIndices: boolean
  readonly clip: boolean
  readonly B: number
  readonly J: number
  readonly R: number
  readonly batchStride: number
  readonly dims: ReadonlyArray<number>
  readonly axisStrides: ReadonlyArray<number>
  /** The rest slice's outer runs: sizes and byte strides of the `[B, J, R]` side, then the operand. */
  readonly outer: ReadonlyArray<Axis>
  /** Elements per run, and the operand's byte step along a run (the `[B, J, R]` side's is `bytes`). */
  readonly runLength: number
  readonly runStep: number
}

/** Drops size-1 axes and merges neighbours both sides walk as one. */
const collapse = (shape: ReadonlyArray<number>, a: ReadonlyArray<number>, b: ReadonlyArray<number>) => {
  const axes: Array<{ size: number; a: number; b: number }> = []
  shape.forEach((size, i) => {
    if (size === 1) return
    const prev = axes[axes.length - 1]
    if (prev !== undefined && prev.a === a[i]! * size && prev.b === b[i]! * size)
      axes[axes.length - 1] = { size: prev.size * size, a: a[i]!, b: b[i]! }
    else axes.push({ size, a: a[i]!, b: b[i]! })
  })
  return axes
}

const layoutOf = (op: Op, operand: Aval, indices: Aval, p: GatherParams): Layout => {
  const keyed = operand.dtype === "key<fry>"
  const shape = keyed ? [...operand.shape, 2] : operand.shape
  const bytes = operand.dtype === "bool" ? 1 : 4
  const strides = rowMajor(shape).map((s) => s * bytes)
  const b = p.batchDims
  const rank = operand.shape.length
  const axes = p.indexedAxes.map((a) => (a < 0 ? a + rank : a))
  const restAxes = shape.flatMap((_, i) => (i >= b && !axes.includes(i) ? [i] : []))
  const restShape = restAxes.map((i) => shape[i]!)
  const runs = collapse(
    restShape,
    rowMajor(restShape).map((s) => s * bytes),
    restAxes.map((i) => strides[i]!)
  )
  const last = runs[runs.length - 1]
  return {
    op,
    dtype: operand.dtype,
    bytes,
    signedIndices: indices.dtype === "int32",
    clip: p.mode === "clip" || (op === "gather" && p.mode === "promise_in_bounds"),
    B: count(shape.slice(0, b)),
    J: count(indices.shape.slice(b, -1)),
    R: count(restShape),
    batchStride: b > 0 ? strides[b - 1]! : 0,
    dims: axes.map((a) => shape[a]!),
    axisStrides: axes.map((a) => strides[a]!),
    outer: runs.slice(0, -1).map((r) => ({ size: r.size, strides: [r.a, r.b] })),
    runLength: last?.size ?? 1,
    runStep: last?.b ?? bytes
  }
}

/** What "fill" mode gathers for an out-of-range row, as the stored bits: JAX's defaults per dtype. */
const fillBits = (d: DType): number => {
  switch (d) {
    case "float32":
    case "complex64":
      return 0x7fc00000
    case "int32":
      return -0x80000000
    case "bool":
      return 1
    case "uint32":
    case "key<fry>":
      return -1
  }
}

/** Adds the lanes of two vectors as the dtype does: float32 and integer sums, or on bool. */
const vectorAdd = (f: FunctionBuilder, d: DType): void => {
  if (d === "float32") f.f32x4_add()
  else if (d === "bool") f.v128_or()
  else f.i32x4_add()
}

/**
 * Moves (or, for scatter_add, adds) one run of `n` elements from `src` to `dst`, the pointers in
 * locals, with byte steps `dstStep` and `srcStep`.
 */
const moveRun = (
  f: FunctionBuilder,
  l: Layout,
  dst: number,
  src: number,
  n: number,
  dstStep: number,
  srcStep: number
): void => {
  const add = l.op === "scatter_add"
  const eb = l.bytes
  const scalar = (dp: number, sp: number, dOff: number, sOff: number) => {
    f.get(dp)
    if (eb === 1) {
      if (add) f.get(dp).i32_load8_u(dOff).get(sp).i32_load8_u(sOff).i32_or()
      else f.get(sp).i32_load8_u(sOff)
      f.i32_store8(dOff)
    } else if (l.dtype === "float32" && add) {
      f.get(dp).f32_load(dOff).get(sp).f32_load(sOff).f32_add().f32_store(dOff)
    } else {
      if (add) f.get(dp).i32_load(dOff).get(sp).i32_load(sOff).i32_add()
      else f.get(sp).i32_load(sOff)
      f.i32_store(dOff)
    }
  }
  const total = n * eb
  if (dstStep === eb && srcStep === eb) {
    if (!add && total > 256) {
      f.get(dst).get(src).i32(total).memory_copy()
      return
    }
    const vectors = Math.floor(total / 16)
    const vector = (d: number, s: number, off: number) => {
      f.get(d)
      if (add) {
        f.get(d).v128_load(off, 0).get(s).v128_load(off, 0)
        vectorAdd(f, l.dtype)
      } else f.get(s).v128_load(off, 0)
      f.v128_store(off, 0)
    }
    if (vectors <= 8) {
      for (let v = 0; v < vectors; v++) vector(dst, src, 16 * v)
    } else {
      const d = f.local("i32"),
        s = f.local("i32"),
        i = f.local("i32"),
        end = f.local("i32")
      f.get(dst).set(d).get(src).set(s).i32(vectors).set(end)
      f.forLoop(i, { const: 0 }, end, { const: 1 }, () => {
        vector(d, s, 0)
        f.get(d).i32(16).i32_add().set(d).get(s).i32(16).i32_add().set(s)
      })
    }
    for (let off = vectors * 16; off < total; off += eb) scalar(dst, src, off, off)
    return
  }
  if (n <= 4) {
    for (let k = 0; k < n; k++) scalar(dst, src, k * dstStep, k * srcStep)
    return
  }
  const d = f.local("i32"),
    s = f.local("i32"),
    i = f.local("i32"),
    end = f.local("i32")
  f.get(dst).set(d).get(src).set(s).i32(n).set(end)
  f.forLoop(i, { const: 0 }, end, { const: 1 }, () => {
    scalar(d, s, 0, 0)
    f.get(d).i32(dstStep).i32_add().set(d).get(s).i32(srcStep).i32_add().set(s)
  })
}

/** Writes `R` fill values at the pointer in `dst`. */
const fillRow = (f: FunctionBuilder, l: Layout, dst: number): void => {
  const bits = fillBits(l.dtype)
  const total = l.R * l.bytes
  if (l.bytes === 1 || bits === -1) {
    f.get(dst)
      .i32(bits & 0xff)
      .i32(total)
      .memory_fill()
    return
  }
  const p = f.local("i32"),
    end = f.local("i32")
  f.get(dst)
    .set(p)
    .get(dst)
    .i32(total & ~15)
    .i32_add()
    .set(end)
  f.block(() =>
    f.loop(() => {
      f.get(p).get(end).i32_ge_u().br_if(1)
      f.get(p).i32x4(bits).v128_store(0, 0)
      f.get(p).i32(16).i32_add().set(p)
      f.br(0)
    })
  )
  for (let off = 0; off < total % 16; off += 4) f.get(end).i32(bits).i32_store(off)
}

/**
 * Builds `run(task, tasks, operand, indices, rows)`: index rows `[lo, hi)` of this task; `operand`
 * is read (gather) or updated in place (scatter), `rows` is the `[B, J, R]` side.
 */
const build = (f: FunctionBuilder, l: Layout): void => {
  const units = l.B * l.J
  const lo = f.local("i32"),
    hi = f.local("i32")
  f.taskRange(units, lo, hi)
  const row = f.local("i32"),
    j = f.local("i32"),
    batchBase = f.local("i32"),
    idx = f.local("i32"),
    side = f.local("i32")
  const slice = f.local("i32"),
    v = f.local("i32"),
    oob = f.local("i32")
  const K = l.dims.length
  const alwaysOob = l.dims.some((d) => d === 0)
  // Position at row `lo`.
  f.get(lo).i32(l.J).i32_rem_u().set(j)
  f.get(2).get(lo).i32(l.J).i32_div_u().i32(l.batchStride).i32_mul().i32_add().set(batchBase)
  f.get(3)
    .get(lo)
    .i32(K * 4)
    .i32_mul()
    .i32_add()
    .set(idx)
  f.get(4)
    .get(lo)
    .i32(l.R * l.bytes)
    .i32_mul()
    .i32_add()
    .set(side)
  const ptrs = [f.local("i32"), f.local("i32")]
  const moveSlice = () => {
    walk(f, l.outer, ptrs, [side, slice], { const: 0 }, { const: count(l.outer.map((a) => a.size)) }, () => {
      if (l.op === "gather") moveRun(f, l, ptrs[0]!, ptrs[1]!, l.runLength, l.bytes, l.runStep)
      else moveRun(f, l, ptrs[1]!, ptrs[0]!, l.runLength, l.runStep, l.bytes)
    })
  }
  f.get(lo).set(row)
  f.block(() => {
    f.get(row).get(hi).i32_ge_u().br_if(0)
    f.loop(() => {
      f.get(batchBase).set(slice)
      f.i32(alwaysOob ? 1 : 0).set(oob)
      if (!alwaysOob) {
        l.dims.forEach((d, t) => {
          f.get(idx)
            .i32_load(4 * t)
            .set(v)
          f.get(v)
            .i32(d)
            .i32_ge_u()
            .if(() => {
              if (!l.clip) f.i32(1).set(oob)
              else if (l.signedIndices)
                f.i32(0)
                  .i32(d - 1)
                  .get(v)
                  .i32(0)
                  .i32_lt_s()
                  .select()
                  .set(v)
              else f.i32(d - 1).set(v)
            })
          f.get(slice).get(v).i32(l.axisStrides[t]!).i32_mul().i32_add().set(slice)
        })
      }
      if (l.op === "gather") f.get(oob).if(() => fillRow(f, l, side), moveSlice)
      else f.get(oob).i32_eqz().if(moveSlice)
      f.get(idx)
        .i32(K * 4)
        .i32_add()
        .set(idx)
      f.get(side)
        .i32(l.R * l.bytes)
        .i32_add()
        .set(side)
      f.get(j)
        .i32(1)
        .i32_add()
        .tee(j)
        .i32(l.J)
        .i32_eq()
        .if(() => {
          f.i32(0).set(j)
          f.get(batchBase).i32(l.batchStride).i32_add().set(batchBase)
        })
      f.get(row).i32(1).i32_add().tee(row).get(hi).i32_lt_u().br_if(0)
    })
  })
}

const run = (rt: WasmRuntime, l: Layout, operand: number, indices: number, rows: number, tasks: number): void => {
  const kernel = rt.kernel(`${l.op}:${JSON.stringify(l)}`, (m) =>
    m.addFunction("run", ["i32", "i32", "i32", "i32", "i32"], [], (f) => build(f, l))
  )
  rt.run(kernel, "run", [operand, indices, rows], tasks)
}

/**
 * The gather kernel.
 * @category kernels
 * @since 0.2.0
 */
export const gatherKernel: WasmKernel<"gather"> = (rt, inputs, outputs, inAvals, _outAvals, params) => {
  const l = layoutOf("gather", inAvals[0]!, inAvals[1]!, params)
  const rows = l.B * l.J
  if (rows * l.R === 0) return
  const tasks = rows * l.R < parallelThreshold ? 1 : Math.max(1, Math.min(rt.threads, rows))
  run(rt, l, inputs[0]!, inputs[1]!, outputs[0]!, tasks)
}

const scatterKernel =
  (op: "scatter" | "scatter_add"): WasmKernel<typeof op> =>
  (rt, inputs, outputs, inAvals, _outAvals, params) => {
    const a = inAvals[0]!
    if (op === "scatter_add" && a.dtype === "key<fry>") return "fallback"
    const l = layoutOf(op, a, inAvals[1]!, params)
    const bytes = count(a.shape) * (a.dtype === "key<fry>" ? 8 : l.bytes)
    rt.u8().copyWithin(outputs[0]!, inputs[0]!, inputs[0]! + bytes)
    if (l.B * l.J * l.R === 0) return
    run(rt, l, outputs[0]!, inputs[1]!, inputs[2]!, 1)
  }

/**
 * The scatter kernel: the operand with each update slice written over it in row-major order.
 * @category kernels
 * @since 0.2.0
 */
export const scatterOverwriteKernel: WasmKernel<"scatter"> = scatterKernel("scatter")

/**
 * The scatter_add kernel: the operand with each update slice added in row-major order (or on bool).
 * @category kernels
 * @since 0.2.0
 */
export const scatterAddKernel: WasmKernel<"scatter_add"> = scatterKernel("scatter_add")
