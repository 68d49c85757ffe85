/**
 * The code generator of elementwise kernels: one WebAssembly function per simplified plan (see
 * `plan.ts`), for single primitives, fused programs and strided copies alike.
 *
 * The function walks the index space in vectors of four lanes along its last axis. Each operand's
 * lanes are one `v128.load` when its stride along that axis is 1, a splat when it is 0 (scalars,
 * broadcasts), and a gather otherwise; the other axes are walked by an odometer that adds constant
 * byte strides to one pointer per operand. The last axis is cut into blocks of up to four vectors
 * (fewer for long node code); a block shorter than that, at the end of the axis, is emitted
 * separately with its exact lane count, so no lane ever reads or writes past an operand, and every
 * element gets the same instructions wherever it falls, which makes the results independent of how
 * the work is split. A map over one axis (what most plans simplify to) takes that axis's length as
 * an argument instead, its last block ending in a vector of 1, 2 or 3 lanes, so one module serves
 * arrays of every size: eager ops on a new shape do not compile a new kernel.
 *
 * Work is split into contiguous ranges of units (a block of one row for maps, one output for
 * reductions along the last axis, a block of outputs otherwise), task `t` of `n` taking units
 * `[⌊U t / n⌋, ⌊U (t + 1) / n⌋)`. A reduction folds each output's elements in the reference's order
 * (row-major over the reduced axes): float32 sums and products accumulate in double, lane by lane,
 * as the cpu kernel does; integer, min, max and logical folds are associative and run on whole vectors.
 *
 * @since 0.2.0
 */
import type { DType } from "../../DType.ts"
import type { ReducePrimitive } from "../../Primitive.ts"
import { FunctionBuilder } from "../encoder.ts"
import type { ModuleBuilder } from "../encoder.ts"
import { hostMath } from "../runtime.ts"
import type { HostMathName } from "../runtime.ts"
import { laneCostly, laneHostImports, laneNode } from "./laneOps.ts"
import type { LaneEnv, LaneValue } from "./laneOps.ts"
import { inlineMathF64 } from "./mathf64.ts"
import type { MathF64 } from "./mathf64.ts"
import { argsOf, bytesOf, count, liveNodes, nodeDtypes, rowMajor } from "./plan.ts"
import type { Simplified } from "./plan.ts"
import { scalarHelpers } from "./scalarMath.ts"
import type { ScalarHelper } from "./scalarMath.ts"
import { highHalf, lowBytes, lowHalves, ops } from "./simd.ts"

/** How a reduction folds: per lane in double (order-sensitive float32 sums and products), or by vectors. */
interface Fold {
  readonly double: boolean
  /** The identity, as it is stored (i32 bits or f32), or the double identity. */
  readonly identity: number
  readonly vector: (f: FunctionBuilder) => unknown
}

/** The fold of `prim` over `dtype`, or undefined where the reference has none. */
export const foldOf = (prim: ReducePrimitive, dtype: DType): Fold | undefined => {
  const float = dtype === "float32",
    bool = dtype === "bool",
    signed = dtype === "int32"
  if (dtype === "key<fry>") return undefined
  if ((prim === "reduce_and" || prim === "reduce_or") && !bool) return undefined
  const and: Fold = { double: false, identity: bool ? 1 : -1, vector: (f) => f.v128_and() }
  const or: Fold = { double: false, identity: 0, vector: (f) => f.v128_or() }
  switch (prim) {
    case "reduce_sum":
      return float
        ? { double: true, identity: 0, vector: (f) => f.f64x2_add() }
        : bool
          ? or
          : { double: false, identity: 0, vector: (f) => f.i32x4_add() }
    case "reduce_prod":
      return float
        ? { double: true, identity: 1, vector: (f) => f.f64x2_mul() }
        : bool
          ? and
          : { double: false, identity: 1, vector: (f) => f.i32x4_mul() }
    case "reduce_max":
      return float
        ? { double: false, identity: -Infinity, vector: (f) => f.f32x4_max() }
        : {
            double: false,
            identity: signed ? -0x80000000 : 0,
            vector: signed ? (f) => f.i32x4_max_s() : (f) => f.i32x4_max_u()
          }
    case "reduce_min":
      return float
        ? { double: false, identity: Infinity, vector: (f) => f.f32x4_min() }
        : {
            double: false,
            identity: signed ? 0x7fffffff : bool ? 1 : -1,
            vector: signed ? (f) => f.i32x4_min_s() : (f) => f.i32x4_min_u()
          }
    case "reduce_and":
      return and
    case "reduce_or":
      return or
  }
}

const pushIdentity = (f: FunctionBuilder, fold: Fold, dtype: DType): void => {
  if (fold.double) f.f64x2(fold.identity)
  else if (dtype === "float32") f.f32x4(fold.identity)
  else f.i32x4(fold.identity)
}

/** Whether every live node has exact lane code (a dry run into a scratch function). */
export const supported = (s: Simplified): boolean => {
  const dtypes = nodeDtypes(s)
  const roots = s.outputs.kind === "map" ? s.outputs.results.map((r) => r.node) : [s.outputs.node]
  if (s.inputs.some((i) => i.dtype === "key<fry>" || i.strides.some((x) => !Number.isInteger(x) || x < 0))) return false
  if (s.outputs.kind === "reduce" && foldOf(s.outputs.prim, dtypes[s.outputs.node]!) === undefined) return false
  const live = liveNodes(s.nodes, roots)
  const f = new FunctionBuilder([], [])
  const env: LaneEnv = { f, math: () => {}, scalar: () => 0, host: () => 0 }
  return s.nodes.every((n, i) => {
    if (!live[i] || n.kind === "input") return n.kind !== "input" || s.inputs[n.input] !== undefined
    const args = argsOf(n).map((a): LaneValue => ({ local: f.local("v128"), dtype: dtypes[a]! }))
    return laneNode(env, n, args) !== undefined
  })
}

/** A walk axis: its size and the byte stride of each pointer. */
export interface Axis {
  readonly size: number
  readonly strides: ReadonlyArray<number>
}

export type Count = number | { readonly const: number }

const addConst = (f: FunctionBuilder, local: number, c: number): void => {
  if (c !== 0)
    f.get(local)
      .i32(c | 0)
      .i32_add()
      .set(local)
}

/**
 * Runs `body` for units `lo .. hi - 1` of the row-major walk over `axes`, with each `ptrs[k]` at the
 * unit's position: `bases[k]` plus the strides of its multi-index. `idx` holds that multi-index.
 */
export const walk = (
  f: FunctionBuilder,
  axes: ReadonlyArray<Axis>,
  ptrs: ReadonlyArray<number>,
  bases: ReadonlyArray<number>,
  lo: Count,
  hi: Count,
  body: (idx: ReadonlyArray<number>) => void
): void => {
  const push = (c: Count) => (typeof c === "number" ? f.get(c) : f.i32(c.const))
  const idx = axes.map(() => f.local("i32"))
  const u = f.local("i32")
  ptrs.forEach((p, k) => f.get(bases[k]!).set(p))
  if (typeof lo === "number" || lo.const !== 0) {
    let inner = 1
    for (let a = axes.length - 1; a >= 0; a--) {
      push(lo)
      if (inner !== 1) f.i32(inner).i32_div_u()
      f.i32(axes[a]!.size).i32_rem_u().set(idx[a]!)
      ptrs.forEach((p, k) => {
        const st = axes[a]!.strides[k]!
        if (st !== 0)
          f.get(p)
            .get(idx[a]!)
            .i32(st | 0)
            .i32_mul()
            .i32_add()
            .set(p)
      })
      inner *= axes[a]!.size
    }
  } else idx.forEach((i) => f.i32(0).set(i))
  const advance = (a: number): void => {
    f.get(idx[a]!).i32(1).i32_add().set(idx[a]!)
    ptrs.forEach((p, k) => addConst(f, p, axes[a]!.strides[k]!))
    if (a === 0) return
    f.get(idx[a]!)
      .i32(axes[a]!.size)
      .i32_eq()
      .if(() => {
        f.i32(0).set(idx[a]!)
        ptrs.forEach((p, k) => addConst(f, p, -axes[a]!.size * axes[a]!.strides[k]!))
        advance(a - 1)
      })
  }
  push(lo).set(u)
  f.block(() => {
    f.get(u)
    push(hi)
    f.i32_ge_s().br_if(0)
    f.loop(() => {
      body(idx)
      if (axes.length > 0) advance(axes.length - 1)
      f.get(u).i32(1).i32_add().tee(u)
      push(hi)
      f.i32_lt_s().br_if(0)
    })
  })
}

/** The structure of a plan's loops; also what the caller needs to pick a task count. */
export interface Layout {
  /**
   * `flat`: a map over one axis, whose length the kernel takes as its last argument, so that one
   * module serves every length; `map`: other maps; reductions `alongLanes` (the last axis reduced,
   * one output per unit) or `acrossLanes` (each lane its own output).
   */
  readonly kind: "flat" | "map" | "alongLanes" | "acrossLanes"
  /** Units of work (tasks take contiguous ranges of them). */
  readonly units: number
  /** Vectors per block. */
  readonly unroll: number
}

/** Chooses the loop structure of a simplified plan. */
export const layoutOf = (s: Simplified): Layout => {
  const dtypes = nodeDtypes(s)
  const costly = s.nodes.some((n) => n.kind !== "input" && n.kind !== "literal" && laneCostly(n, dtypes[argsOf(n)[0]!]))
  const last = s.shape.length - 1
  const lanes = s.shape[last]!
  if (s.outputs.kind === "map" && last === 0) {
    const unroll = costly ? 1 : 4
    return { kind: "flat", units: Math.ceil(lanes / (4 * unroll)), unroll }
  }
  const unroll = Math.max(1, Math.min(costly ? 1 : 4, Math.ceil(lanes / 4)))
  const blocks = Math.ceil(lanes / (4 * unroll))
  const outer = count(s.shape.slice(0, last))
  if (s.outputs.kind === "map") return { kind: "map", units: outer * blocks, unroll }
  if (s.reduced[last])
    return { kind: "alongLanes", units: count(s.shape.filter((_, i) => !s.reduced[i])), unroll: Math.min(unroll, 2) }
  return { kind: "acrossLanes", units: count(s.shape.filter((_, i) => !s.reduced[i] && i !== last)) * blocks, unroll }
}

/**
 * Builds the kernel module of `s` (which must be {@link supported}): export `run(task, tasks, ...ptrs)`,
 * and the length last for a `flat` layout (where the module must not depend on `s.shape`).
 */
export const buildModule = (m: ModuleBuilder, s: Simplified, layout: Layout): void => {
  const dtypes = nodeDtypes(s)
  const roots = s.outputs.kind === "map" ? s.outputs.results.map((r) => r.node) : [s.outputs.node]
  const live = liveNodes(s.nodes, roots)
  const hosts = new Map<HostMathName, number>()
  s.nodes.forEach((n, i) => {
    if (!live[i]) return
    for (const h of laneHostImports(n, dtypes[argsOf(n)[0]!])) {
      if (!hosts.has(h)) hosts.set(h, m.importFunction(h, hostMath[h] === 1 ? ["f64"] : ["f64", "f64"], ["f64"]))
    }
  })
  const helpers = new Map<string, number>()
  const host = (name: HostMathName): number => hosts.get(name)!
  const scalar = (name: ScalarHelper): number => {
    let i = helpers.get(name)
    if (i === undefined) {
      const h = scalarHelpers[name]
      i = m.addFunction(undefined, h.params, h.results, (g) => h.body(g, host))
      helpers.set(name, i)
    }
    return i
  }
  const nIn = s.inputs.length
  const outDtypes = s.outputs.kind === "map" ? s.outputs.results.map((r) => dtypes[r.node]!) : [dtypes[s.outputs.node]!]
  const params = new Array<"i32">(2 + nIn + outDtypes.length + (layout.kind === "flat" ? 1 : 0)).fill("i32")
  m.addFunction("run", params, [], (f) => {
    const env: LaneEnv = { f, math: (name: MathF64, x: number) => inlineMathF64(f, name, x), scalar, host }
    const last = s.shape.length - 1
    // Byte strides of every operand (inputs, then outputs) per axis.
    const outStrides: ReadonlyArray<ReadonlyArray<number>> =
      s.outputs.kind === "map"
        ? s.outputs.results.map((r) => r.strides)
        : [
            (() => {
              const kept = s.shape.filter((_, i) => !s.reduced[i])
              const rm = rowMajor(kept)
              let j = 0
              return s.shape.map((_, i) => (s.reduced[i] ? 0 : rm[j++]!))
            })()
          ]
    const operands = [
      ...s.inputs.map((input) => ({ dtype: input.dtype, strides: input.strides })),
      ...outDtypes.map((dtype, o) => ({ dtype, strides: outStrides[o]! }))
    ]
    const byteStride = (k: number, a: number) => operands[k]!.strides[a]! * bytesOf(operands[k]!.dtype)
    const axis = (a: number, ks: ReadonlyArray<number>): Axis => ({
      size: s.shape[a]!,
      strides: ks.map((k) => byteStride(k, a))
    })
    const all = operands.map((_, k) => k)
    const inputsOnly = s.inputs.map((_, k) => k)
    const lanes = s.shape[last]!
    const unroll = layout.unroll
    const perBlock = 4 * unroll
    const blocks = Math.ceil(lanes / perBlock)
    const tailLanes = lanes - (blocks - 1) * perBlock

    // This task's units.
    const lo = f.local("i32"),
      hi = f.local("i32"),
      units = f.local("i32")
    const length = 2 + operands.length
    if (layout.kind === "flat")
      f.get(length)
        .i32(perBlock - 1)
        .i32_add()
        .i32(perBlock)
        .i32_div_u()
        .set(units)
    else f.i32(layout.units).set(units)
    f.taskRange({ local: units }, lo, hi)

    /** The live nodes at one vector: lanes `lane ..` of the block at `ptrs`, `valid` of them real. */
    const evaluate = (ptrs: ReadonlyArray<number>, lane: number, valid: number): Array<LaneValue> => {
      const values: Array<LaneValue> = []
      const loaded = new Map<number, number>()
      s.nodes.forEach((n, i) => {
        if (!live[i]) {
          values.push({ local: -1, dtype: dtypes[i]! })
          return
        }
        if (n.kind === "input") {
          let l = loaded.get(n.input)
          if (l === undefined) {
            l = load(f, ptrs[n.input]!, s.inputs[n.input]!.dtype, s.inputs[n.input]!.strides[last]!, lane, valid)
            loaded.set(n.input, l)
          }
          values.push({ local: l, dtype: dtypes[i]! })
          return
        }
        const code = laneNode(
          env,
          n,
          argsOf(n).map((a) => values[a]!)
        )!
        const local = f.local("v128")
        code(f)
        f.set(local)
        values.push({ local, dtype: dtypes[i]! })
      })
      return values
    }
    const vectorsOf = (n: number): Array<{ lane: number; valid: number }> =>
      Array.from({ length: Math.ceil(n / 4) }, (_, v) => ({ lane: 4 * v, valid: Math.min(4, n - 4 * v) }))

    const bases = operands.map((_, k) => 2 + k)
    const ptrs = operands.map(() => f.local("i32"))
    if (s.outputs.kind === "map" && layout.kind === "flat") {
      // One axis of run-time length: blocks of `perBlock` lanes, the last one as many whole vectors
      // as fit, then a vector of 1, 2 or 3 lanes.
      const results = s.outputs.results
      const laneBytes = all.map((k) => byteStride(k, 0))
      const vector = (at: ReadonlyArray<number>, lane: number, valid: number) => {
        const values = evaluate(at, lane, valid)
        results.forEach((r, o) =>
          store(f, at[nIn + o]!, outDtypes[o]!, r.strides[0]!, lane, valid, values[r.node]!.local)
        )
      }
      const u = f.local("i32"),
        rest = f.local("i32")
      const tail = all.map(() => f.local("i32"))
      ptrs.forEach((p, k) =>
        f
          .get(bases[k]!)
          .get(lo)
          .i32(laneBytes[k]! * perBlock)
          .i32_mul()
          .i32_add()
          .set(p)
      )
      f.get(lo).set(u)
      f.block(() => {
        f.get(u).get(hi).i32_ge_s().br_if(0)
        f.loop(() => {
          f.get(u)
            .get(units)
            .i32(1)
            .i32_sub()
            .i32_eq()
            .if(
              () => {
                f.get(length).get(u).i32(perBlock).i32_mul().i32_sub().set(rest)
                ptrs.forEach((p, k) => f.get(p).set(tail[k]!))
                f.block(() =>
                  f.loop(() => {
                    f.get(rest).i32(4).i32_lt_s().br_if(1)
                    vector(tail, 0, 4)
                    tail.forEach((p, k) => addConst(f, p, 4 * laneBytes[k]!))
                    f.get(rest).i32(4).i32_sub().set(rest)
                    f.br(0)
                  })
                )
                for (let valid = 1; valid < 4; valid++)
                  f.get(rest)
                    .i32(valid)
                    .i32_eq()
                    .if(() => vector(tail, 0, valid))
              },
              () => {
                for (let v = 0; v < unroll; v++) vector(ptrs, 4 * v, 4)
              }
            )
          ptrs.forEach((p, k) => addConst(f, p, laneBytes[k]! * perBlock))
          f.get(u).i32(1).i32_add().tee(u).get(hi).i32_lt_s().br_if(0)
        })
      })
      return
    }
    if (s.outputs.kind === "map") {
      const results = s.outputs.results
      const axes = [
        ...s.shape.slice(0, last).map((_, a) => axis(a, all)),
        { size: blocks, strides: all.map((k) => byteStride(k, last) * perBlock) }
      ]
      const block = (n: number) => {
        for (const { lane, valid } of vectorsOf(n)) {
          const values = evaluate(ptrs, lane, valid)
          results.forEach((r, o) =>
            store(f, ptrs[nIn + o]!, outDtypes[o]!, r.strides[last]!, lane, valid, values[r.node]!.local)
          )
        }
      }
      walk(f, axes, ptrs, bases, lo, hi, (idx) => {
        if (tailLanes === perBlock) block(perBlock)
        else
          f.get(idx[idx.length - 1]!)
            .i32(blocks - 1)
            .i32_eq()
            .if(
              () => block(tailLanes),
              () => block(perBlock)
            )
      })
      return
    }

    const fold = foldOf(s.outputs.prim, dtypes[s.outputs.node]!)!
    const valueDtype = dtypes[s.outputs.node]!
    const outDtype = outDtypes[0]!
    const node = s.outputs.node
    const reducedAxes = s.shape.flatMap((_, a) => (s.reduced[a] ? [a] : []))
    const keptAxes = s.shape.flatMap((_, a) => (s.reduced[a] ? [] : [a]))
    const inner = inputsOnly.map(() => f.local("i32"))
    const pushV = (local: number) => f.get(local)

    if (layout.kind === "acrossLanes") {
      // Each lane is its own output: fold lane-wise over the reduced positions, in order.
      const axes = [
        ...keptAxes.slice(0, -1).map((a) => axis(a, all)),
        { size: blocks, strides: all.map((k) => byteStride(k, last) * perBlock) }
      ]
      const outputBlock = (n: number) => {
        const vectors = vectorsOf(n)
        const accs = vectors.map(() => (fold.double ? [f.local("v128"), f.local("v128")] : [f.local("v128")]))
        for (const acc of accs)
          for (const a of acc) {
            pushIdentity(f, fold, valueDtype)
            f.set(a)
          }
        walk(
          f,
          reducedAxes.map((a) => axis(a, inputsOnly)),
          inner,
          ptrs.slice(0, nIn),
          { const: 0 },
          { const: count(reducedAxes.map((a) => s.shape[a]!)) },
          () => {
            vectors.forEach(({ lane, valid }, v) => {
              const x = evaluate(inner, lane, valid)[node]!.local
              const [a0, a1] = accs[v]!
              if (fold.double) {
                f.get(a0!).get(x).f64x2_promote_low_f32x4()
                fold.vector(f)
                f.set(a0!)
                f.get(a1!).get(x).get(x).shuffle(highHalf).f64x2_promote_low_f32x4()
                fold.vector(f)
                f.set(a1!)
              } else {
                f.get(a0!).get(x)
                fold.vector(f)
                f.set(a0!)
              }
            })
          }
        )
        vectors.forEach(({ lane, valid }, v) => {
          const [a0, a1] = accs[v]!
          let result = a0!
          if (fold.double) {
            result = f.local("v128")
            f.get(a0!).f32x4_demote_f64x2_zero().get(a1!).f32x4_demote_f64x2_zero().shuffle(lowHalves).set(result)
          }
          store(f, ptrs[nIn]!, outDtype, 1, lane, valid, result)
        })
      }
      walk(f, axes, ptrs, bases, lo, hi, (idx) => {
        if (tailLanes === perBlock) outputBlock(perBlock)
        else
          f.get(idx[idx.length - 1]!)
            .i32(blocks - 1)
            .i32_eq()
            .if(
              () => outputBlock(tailLanes),
              () => outputBlock(perBlock)
            )
      })
      return
    }

    // alongLanes: one output per unit, its last reduced axis in vectors.
    const rowAxes = reducedAxes.slice(0, -1)
    const laneBytes = inputsOnly.map((k) => byteStride(k, last))
    const lanePtrs = inputsOnly.map(() => f.local("i32"))
    const accs = Array.from({ length: unroll }, () => f.local("v128"))
    const total = f.local("f64")
    const fullBlocks = Math.floor(lanes / perBlock)
    const rest = lanes - fullBlocks * perBlock
    const absorb = (x: number, v: number, valid: number) => {
      if (fold.double) {
        for (let j = 0; j < valid; j++) {
          f.get(total).get(x).f32x4_extract_lane(j).f64_promote_f32()
          if (s.outputs.kind === "reduce" && s.outputs.prim === "reduce_prod") f.f64_mul()
          else f.f64_add()
          f.set(total)
        }
        return
      }
      f.get(accs[v]!).get(x)
      if (valid < 4) {
        // Lanes past the end fold the identity.
        pushIdentity(f, fold, valueDtype)
        f.i32x4(valid > 0 ? -1 : 0, valid > 1 ? -1 : 0, valid > 2 ? -1 : 0, 0).v128_bitselect()
      }
      fold.vector(f)
      f.set(accs[v]!)
    }
    walk(
      f,
      keptAxes.map((a) => axis(a, all)),
      ptrs,
      bases,
      lo,
      hi,
      () => {
        if (fold.double) f.f64(fold.identity).set(total)
        else
          for (const a of accs) {
            pushIdentity(f, fold, valueDtype)
            f.set(a)
          }
        walk(
          f,
          rowAxes.map((a) => axis(a, inputsOnly)),
          inner,
          ptrs.slice(0, nIn),
          { const: 0 },
          { const: count(rowAxes.map((a) => s.shape[a]!)) },
          () => {
            inner.forEach((p, k) => f.get(p).set(lanePtrs[k]!))
            if (fullBlocks > 0) {
              const b = f.local("i32")
              const end = f.local("i32")
              f.i32(fullBlocks).set(end)
              f.forLoop(b, { const: 0 }, end, { const: 1 }, () => {
                for (let v = 0; v < unroll; v++) absorb(evaluate(lanePtrs, 4 * v, 4)[node]!.local, v, 4)
                lanePtrs.forEach((p, k) => addConst(f, p, laneBytes[k]! * perBlock))
              })
            }
            vectorsOf(rest).forEach(({ lane, valid }, v) =>
              absorb(evaluate(lanePtrs, lane, valid)[node]!.local, v, valid)
            )
          }
        )
        const out = ptrs[nIn]!
        if (fold.double) {
          f.get(out).get(total).f32_demote_f64().f32_store()
          return
        }
        for (let v = 1; v < unroll; v++) {
          pushV(accs[0]!)
          pushV(accs[v]!)
          fold.vector(f)
          f.set(accs[0]!)
        }
        const a = accs[0]!
        f.get(a).get(a).get(a).shuffle(highHalf)
        fold.vector(f)
        f.set(a)
        f.get(a).get(a).get(a).shuffle([4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7])
        fold.vector(f)
        f.set(a)
        f.get(out).get(a).i32x4_extract_lane(0)
        if (bytesOf(outDtype) === 1) f.i32_store8()
        else f.i32_store()
      }
    )
  })
}

/** Loads lanes `lane .. lane + valid - 1` of an operand whose lane stride is `stride` elements. */
export const load = (
  f: FunctionBuilder,
  ptr: number,
  dtype: DType,
  stride: number,
  lane: number,
  valid: number
): number => {
  const bytes = bytesOf(dtype)
  const off = lane * stride * bytes
  const out = f.local("v128")
  const scalarLoad = (at: number) => (bytes === 1 ? f.i32_load8_u(at) : f.i32_load(at))
  if (stride === 0) {
    if (bytes === 1) f.get(ptr).i32_load8_u().i32x4_splat()
    else f.get(ptr).v128_load32_splat()
  } else if (stride === 1 && valid === 4) {
    if (bytes === 1) {
      f.get(ptr).v128_load32_zero(off, 0)
      ops.i16x8_extend_low_i8x16_u(f)
      ops.i32x4_extend_low_i16x8_u(f)
    } else f.get(ptr).v128_load(off, 2)
  } else {
    f.get(ptr)
    scalarLoad(off)
    f.i32x4_splat().set(out)
    for (let j = 1; j < valid; j++) {
      f.get(out).get(ptr)
      scalarLoad(off + j * stride * bytes)
      f.i32x4_replace_lane(j).set(out)
    }
    return out
  }
  f.set(out)
  return out
}

/** Stores lanes `lane .. lane + valid - 1` of `value` to an operand whose lane stride is `stride`. */
export const store = (
  f: FunctionBuilder,
  ptr: number,
  dtype: DType,
  stride: number,
  lane: number,
  valid: number,
  value: number
): void => {
  const bytes = bytesOf(dtype)
  const off = lane * stride * bytes
  if (stride === 1 && valid === 4) {
    if (bytes === 1) {
      f.get(ptr).get(value).get(value).shuffle(lowBytes)
      ops.v128_store32_lane(f, 0, off)
    } else f.get(ptr).get(value).v128_store(off, 2)
    return
  }
  for (let j = 0; j < valid; j++) {
    f.get(ptr).get(value).i32x4_extract_lane(j)
    if (bytes === 1) f.i32_store8(off + j * stride * bytes)
    else f.i32_store(off + j * stride * bytes)
  }
}
