/**
 * The wasm kernel of `threefry2x32`, the block cipher every random number goes through (see
 * `cpu/threefry.ts` for the cipher): four counter pairs per `i32x4` vector, four vectors interleaved
 * per step so that their independent dependency chains fill the pipelines (measured: 2.8 ms per
 * million pairs on one thread, against 3.8 ms with two vectors and 14 ms for the cpu kernel).
 *
 * Why this shape:
 * - The common call (`random.bits`, `normal`, `uniform`, `split`) encrypts a contiguous block of
 *   counters under one key, so each operand is either read in full (a `v128.load` per vector) or is
 *   a single word (splatted once); with a single key the subkeys and their injections (`kc + 1`,
 *   `ka + 2`, ...) are computed once per call, outside the loop. Operands broadcast any other way
 *   (batched keys under `vmap`) are first copied to their full shape in scratch memory.
 * - Rotations are `shl | shr_u`, except by 16 and 24 bits, which move whole bytes and are one
 *   byte shuffle.
 * - The module takes the length as an argument, so one module per operand layout serves every size;
 *   the elements past the last whole block of sixteen run the same rounds in scalar code. Every
 *   element gets the same arithmetic wherever a task boundary falls, so results do not depend on the
 *   thread count.
 *
 * @since 0.2.0
 */
import type { Aval } from "../../DType.ts"
import type { FunctionBuilder, ModuleBuilder } from "../encoder.ts"
import type { WasmKernel, WasmRuntime } from "../runtime.ts"
import { broadcastStrides, cachedPlan } from "./elementwise.ts"
import { count, rowMajor } from "./plan.ts"

/** The Threefish key-schedule parity constant. */
const PARITY = 0x1bd11bda

/** Rotation amounts of the even and odd groups of four rounds. */
const ROTATIONS: ReadonlyArray<ReadonlyArray<number>> = [
  [13, 15, 26, 6],
  [17, 29, 16, 24]
]

/** Vectors per step (each of four counter pairs), interleaved: 2.8 ms per million pairs (2: 3.5, 8: 2.7). */
const UNROLL = 4
const PER_BLOCK = 4 * UNROLL

/** Elements below which the kernel runs on the calling thread only (a pair costs ~10 cycles). */
const PARALLEL_THRESHOLD = 16384

/**
 * The arithmetic the rounds are written in: lanes of `i32x4` or scalar `i32`. `rotl` rotates the
 * value on the stack left by `r` bits, reading it again from `local`.
 */
interface Arith {
  readonly add: (f: FunctionBuilder) => void
  readonly xor: (f: FunctionBuilder) => void
  readonly rotl: (f: FunctionBuilder, local: number, r: number) => void
  readonly constant: (f: FunctionBuilder, c: number) => void
  readonly type: "v128" | "i32"
}

/** Byte shuffles that rotate each 32-bit lane left by 16 and by 24 bits. */
const byteRotations: Readonly<Record<number, ReadonlyArray<number>>> = {
  16: [2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13],
  24: [1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12]
}

const lanes: Arith = {
  add: (f) => void f.i32x4_add(),
  xor: (f) => void f.v128_xor(),
  rotl: (f, local, r) => {
    const shuffle = byteRotations[r]
    if (shuffle !== undefined) f.get(local).get(local).shuffle(shuffle)
    else
      f.get(local)
        .i32(r)
        .i32x4_shl()
        .get(local)
        .i32(32 - r)
        .i32x4_shr_u()
        .v128_or()
  },
  constant: (f, c) => void f.i32x4(c),
  type: "v128"
}

const scalar: Arith = {
  add: (f) => void f.i32_add(),
  xor: (f) => void f.i32_xor(),
  rotl: (f, local, r) => void f.get(local).i32(r).i32_rotl(),
  constant: (f, c) => void f.i32(c),
  type: "i32"
}

/**
 * The five subkey injections after each group of four rounds: `a += first`, `b += second + s`.
 * Indices into `[ka, kb, kc]`.
 */
const INJECTIONS: ReadonlyArray<readonly [number, number]> = [
  [1, 2],
  [2, 0],
  [0, 1],
  [1, 2],
  [2, 0]
]

/**
 * Emits the 20 rounds on `UNROLL`-or-fewer independent states `(a[v], b[v])`, step by step across the
 * states. `inject(v, g)` pushes the two values added after group `g`: to `a`, then to `b`.
 */
const rounds = (
  f: FunctionBuilder,
  ar: Arith,
  a: ReadonlyArray<number>,
  b: ReadonlyArray<number>,
  inject: (v: number, g: number, word: 0 | 1) => void
): void => {
  for (let g = 0; g < 5; g++) {
    for (const r of ROTATIONS[g % 2]!) {
      a.forEach((av, v) => {
        const bv = b[v]!
        f.get(av).get(bv)
        ar.add(f)
        f.set(av)
        ar.rotl(f, bv, r)
        f.get(av)
        ar.xor(f)
        f.set(bv)
      })
    }
    a.forEach((av, v) => {
      f.get(av)
      inject(v, g, 0)
      ar.add(f)
      f.set(av)
      f.get(b[v]!)
      inject(v, g, 1)
      ar.add(f)
      f.set(b[v]!)
    })
  }
}

/**
 * Builds `run(task, tasks, k1, k2, x1, x2, y1, y2, n)`; `full[j]` says whether operand `j` has one
 * word per element (otherwise it is one word for all).
 */
const build = (m: ModuleBuilder, full: ReadonlyArray<boolean>): void => {
  m.addFunction("run", new Array<"i32">(9).fill("i32"), [], (f) => {
    const N = 8
    const units = f.local("i32"),
      lo = f.local("i32"),
      hi = f.local("i32"),
      u = f.local("i32"),
      off = f.local("i32")
    f.get(N)
      .i32(PER_BLOCK - 1)
      .i32_add()
      .i32(PER_BLOCK)
      .i32_div_u()
      .set(units)
    f.taskRange({ local: units }, lo, hi)

    // Splatted operands, and with a single key the whole key schedule, once per call.
    const splat = [2, 3, 4, 5].map((p, j) => {
      if (full[j]) return -1
      const l = f.local("v128")
      f.get(p).v128_load32_splat().set(l)
      return l
    })
    const keysShared = !full[0] && !full[1]
    const sharedKc = keysShared ? f.local("v128") : -1
    const sharedInjections: Array<readonly [number, number]> = []
    if (keysShared) {
      f.get(splat[0]!).get(splat[1]!).v128_xor().i32x4(PARITY).v128_xor().set(sharedKc)
      const ks = [splat[0]!, splat[1]!, sharedKc]
      INJECTIONS.forEach(([x, y], g) => {
        const l = f.local("v128")
        f.get(ks[y]!)
          .i32x4(g + 1)
          .i32x4_add()
          .set(l)
        sharedInjections.push([ks[x]!, l])
      })
    }

    const a = Array.from({ length: UNROLL }, () => f.local("v128"))
    const b = Array.from({ length: UNROLL }, () => f.local("v128"))
    const ka = Array.from({ length: UNROLL }, () => f.local("v128"))
    const kb = Array.from({ length: UNROLL }, () => f.local("v128"))
    const kc = Array.from({ length: UNROLL }, () => f.local("v128"))
    /** Pushes vector `v` of operand `j` at the block's byte offset. */
    const operand = (j: number, v: number) => {
      if (full[j])
        f.get(2 + j)
          .get(off)
          .i32_add()
          .v128_load(16 * v)
      else f.get(splat[j]!)
    }
    const block = () => {
      for (let v = 0; v < UNROLL; v++) {
        if (!keysShared) {
          operand(0, v)
          f.set(ka[v]!)
          operand(1, v)
          f.set(kb[v]!)
          f.get(ka[v]!).get(kb[v]!).v128_xor().i32x4(PARITY).v128_xor().set(kc[v]!)
        }
        operand(2, v)
        if (keysShared) f.get(splat[0]!)
        else f.get(ka[v]!)
        f.i32x4_add().set(a[v]!)
        operand(3, v)
        if (keysShared) f.get(splat[1]!)
        else f.get(kb[v]!)
        f.i32x4_add().set(b[v]!)
      }
      rounds(f, lanes, a, b, (v, g, word) => {
        if (keysShared) {
          f.get(sharedInjections[g]![word]!)
          return
        }
        const ks = [ka[v]!, kb[v]!, kc[v]!]
        const [x, y] = INJECTIONS[g]!
        if (word === 0) f.get(ks[x]!)
        else
          f.get(ks[y]!)
            .i32x4(g + 1)
            .i32x4_add()
      })
      for (let v = 0; v < UNROLL; v++) {
        f.get(6)
          .get(off)
          .i32_add()
          .get(a[v]!)
          .v128_store(16 * v)
        f.get(7)
          .get(off)
          .i32_add()
          .get(b[v]!)
          .v128_store(16 * v)
      }
    }

    // The last block's elements past a multiple of sixteen, one by one.
    const sa = f.local("i32"),
      sb = f.local("i32"),
      ska = f.local("i32"),
      skb = f.local("i32"),
      skc = f.local("i32")
    const i = f.local("i32")
    const word = (j: number) => {
      f.get(2 + j)
      if (full[j]) f.get(i).i32(2).i32_shl().i32_add()
      f.i32_load()
    }
    const tail = () => {
      f.get(u).i32(PER_BLOCK).i32_mul().set(i)
      f.block(() =>
        f.loop(() => {
          f.get(i).get(N).i32_ge_u().br_if(1)
          word(0)
          f.set(ska)
          word(1)
          f.set(skb)
          f.get(ska).get(skb).i32_xor().i32(PARITY).i32_xor().set(skc)
          word(2)
          f.get(ska).i32_add().set(sa)
          word(3)
          f.get(skb).i32_add().set(sb)
          rounds(f, scalar, [sa], [sb], (_v, g, w) => {
            const [x, y] = INJECTIONS[g]!
            const ks = [ska, skb, skc]
            if (w === 0) f.get(ks[x]!)
            else
              f.get(ks[y]!)
                .i32(g + 1)
                .i32_add()
          })
          f.get(6).get(i).i32(2).i32_shl().i32_add().get(sa).i32_store()
          f.get(7).get(i).i32(2).i32_shl().i32_add().get(sb).i32_store()
          f.get(i).i32(1).i32_add().set(i)
          f.br(0)
        })
      )
    }

    f.get(lo)
      .i32(PER_BLOCK * 4)
      .i32_mul()
      .set(off)
    f.get(lo).set(u)
    f.block(() => {
      f.get(u).get(hi).i32_ge_u().br_if(0)
      f.loop(() => {
        f.get(u).i32(1).i32_add().i32(PER_BLOCK).i32_mul().get(N).i32_le_u().if(block, tail)
        f.get(off)
          .i32(PER_BLOCK * 4)
          .i32_add()
          .set(off)
        f.get(u).i32(1).i32_add().tee(u).get(hi).i32_lt_u().br_if(0)
      })
    })
  })
}

/** Copies operand `shape` broadcast to `out` (equal rank) into `dst`. */
const broadcastTo = (
  rt: WasmRuntime,
  src: number,
  shape: ReadonlyArray<number>,
  out: ReadonlyArray<number>,
  dst: number
): void => {
  cachedPlan(rt, `threefry-broadcast:${shape.join(",")}>${out.join(",")}`, () => ({
    shape: out,
    inputs: [{ dtype: "uint32", strides: broadcastStrides(shape, out) }],
    nodes: [{ kind: "input", input: 0, dtype: "uint32" }],
    outputs: { kind: "map", results: [{ node: 0, strides: rowMajor(out) }] }
  }))!([src, dst])
}

/**
 * The `threefry2x32` kernel: `(k1, k2, x1, x2) => [y1, y2]` on uint32 words, operands broadcast
 * (equal rank, size-1 axes).
 * @category kernels
 * @since 0.2.0
 */
export const threefryKernel: WasmKernel<"threefry2x32"> = (
  rt,
  inputs,
  outputs,
  inAvals: ReadonlyArray<Aval>,
  outAvals
) => {
  const outShape = outAvals[0]!.shape
  const n = count(outShape)
  if (n === 0) return
  const sizes = inAvals.map((a) => count(a.shape))
  const full = sizes.map((s) => s === n && n > 1)
  const pointers = inputs.slice()
  const spread = sizes.flatMap((s, j) => (s !== 1 && s !== n ? [j] : []))
  if (spread.length > 0) {
    // Operands broadcast along some axes only: copied to the full shape first.
    let at = rt.scratch(spread.length * n * 4)
    for (const j of spread) {
      broadcastTo(rt, inputs[j]!, inAvals[j]!.shape, outShape, at)
      pointers[j] = at
      full[j] = true
      at += n * 4
    }
  }
  const kernel = rt.kernel(`threefry2x32:${full.map((x) => (x ? "f" : "s")).join("")}`, (m) => build(m, full))
  const blocks = Math.ceil(n / PER_BLOCK)
  const tasks = n < PARALLEL_THRESHOLD ? 1 : Math.max(1, Math.min(rt.threads, blocks))
  rt.run(kernel, "run", [...pointers, outputs[0]!, outputs[1]!, n], tasks)
}
