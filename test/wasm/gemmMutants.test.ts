/**
 * The wasm packed GEMM (src/backend/wasm/kernels/gemm.ts) built and called directly (issue 16: tests
 * that catch injected bugs): float32 (mul + add and fused), wrapping int32 and bool, the production
 * micro-tiles and others that take the remaining packing paths (a shared A/B packer, widths that are
 * neither 3 nor a multiple of 4), operands read in place through row-major, column-major and fully
 * strided byte strides, C with padded rows, blocks of K, rows and columns with edge tiles in each.
 *
 * Every element of C is one chain of multiply-adds over k in order, so the reference repeats the
 * float32 roundings exactly. After each call the whole memory the kernel was given is compared: C
 * (only the units the task claimed), the unit counter, the packing flags, packed B in its documented
 * layout (zero-padded panels), the task's own region; every other byte (operands, C's row padding,
 * other tasks' regions, guards) must be unchanged.
 */
import { Worker } from "node:worker_threads"
import { assert, describe, it } from "@effect/vitest"
import { ModuleBuilder, relaxedSimdSupported } from "../../src/backend/wasm/encoder.ts"
import { buildGemm, elementBytes, gemmArgs, gemmKey } from "../../src/backend/wasm/kernels/gemm.ts"
import type { GemmConfig } from "../../src/backend/wasm/kernels/gemm.ts"
import { initialPages, kernelImports, maximumPages } from "../../src/backend/wasm/runtime.ts"
import { mulberry32 } from "./support.ts"

const memory = new WebAssembly.Memory({ initial: initialPages, maximum: maximumPages, shared: true })
const imports = kernelImports(memory)

/**
 * Builds the module afresh for every case (no cache), so every test that runs a kernel also runs its
 * generator (Stryker's per-test coverage then credits each test with the code it generates).
 */
const gemmModule = (c: GemmConfig): WebAssembly.Module => {
  const m = new ModuleBuilder({ initialPages, maximumPages, shared: true })
  buildGemm(m, c)
  return new WebAssembly.Module(m.encode())
}
const gemmOf = (c: GemmConfig) =>
  new WebAssembly.Instance(gemmModule(c), imports).exports["gemm"] as (...args: Array<number>) => void

/** Runs `gemm(0, 1, ...args)` of `module` on a worker thread (over the same shared memory). */
const workerSource = `
const { parentPort, workerData } = require("node:worker_threads")
const { module, memory, args } = workerData
const env = { memory }
for (const i of WebAssembly.Module.imports(module)) if (i.kind === "function") env[i.name] = Math[i.name]
new WebAssembly.Instance(module, { env }).exports.gemm(0, 1, ...args)
parentPort.postMessage("done")
`
const onWorker = (module: WebAssembly.Module, args: ReadonlyArray<number>): Promise<void> =>
  new Promise((resolve, reject) => {
    const w = new Worker(workerSource, { eval: true, workerData: { module, memory, args } })
    w.once("message", () => {
      void w.terminate()
      resolve()
    })
    w.once("error", reject)
  })

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const rnd = mulberry32(20261203)
const f32 = Math.fround

/** How an operand lies: contiguous along k, contiguous along its rows (A) or columns (B), or neither. */
type Layout = "k" | "mn" | "strided"

interface Case {
  readonly c: GemmConfig
  readonly batches: number
  readonly M: number
  readonly K: number
  readonly cols: number
  readonly kc: number
  readonly mc: number
  readonly nc: number
  readonly a: Layout
  readonly b: Layout
  /** Extra elements after each row of C. */
  readonly ldcPad?: number
  /** Tasks; they run one after another, the last first (it claims every unit). */
  readonly tasks?: number
  /** Units already claimed by others (the counter's starting value). */
  readonly start?: number
  /** Every block of B already packed (in the documented layout) and marked ready; the operand then differs. */
  readonly ready?: boolean
  /** Small integers (exact in any order, for fused multiply-adds). */
  readonly small?: boolean
  /** Put A or B last in memory, its last element the memory's last bytes (no read past an operand may trap). */
  readonly atEnd?: "a" | "b"
  /** Every block of B marked as being packed by another thread (which `packAll` then is); the operand then differs. */
  readonly waiting?: boolean
}

const GARBAGE = 0x5a

let top = 1024
const alloc = (bytes: number): number => {
  const at = top + 64
  top = Math.ceil((at + bytes + 64) / 64) * 64
  const need = Math.ceil(top / 65536) - memory.buffer.byteLength / 65536
  if (need > 0) memory.grow(need)
  return at
}

/** Element strides `[batch, row, k]` of an operand with `rows` rows and `K` k, each with padding. */
const stridesOf = (layout: Layout, rows: number, K: number): readonly [number, number, number] => {
  switch (layout) {
    case "k":
      return [rows * (K + 2) + 3, K + 2, 1]
    case "mn":
      return [K * (rows + 1) + 5, 1, rows + 1]
    case "strided":
      return [rows * (2 * K + 3) + 1, 2 * K + 3, 2]
  }
}

const ceilDiv = (n: number, d: number) => Math.ceil(n / d)

/** Lays out a case in memory: the kernel's arguments, its module, and the checks of memory after it ran. */
const prepare = (t: Case, label: string) => {
  const { c, batches, M, K, cols, kc, mc, nc } = t
  const eb = elementBytes(c.element)
  const nr = c.nv * 4
  const tasks = t.tasks ?? 1
  const start = t.start ?? 0
  top = 1024
  // Operands: A as [batch, row, k], B as [batch, column, k] (sBk, sBn from the column view).
  const [sAb, sAm, sAk] = stridesOf(t.a, M, K)
  const [sBb, sBn, sBk] = stridesOf(t.b, cols, K)
  const extent = (s: readonly [number, number, number], rows: number) =>
    batches === 0 ? 1 : (batches - 1) * s[0] + (rows - 1) * s[1] + (K - 1) * s[2] + 1
  const ldc = (cols + (t.ldcPad ?? 0)) * eb
  const sCb = M * ldc + 8 * eb
  const panels = ceilDiv(cols, nr)
  const perBatch = panels * K * nr * 4
  const mBlocks = ceilDiv(M, mc),
    nBlocks = ceilDiv(cols, nc),
    kBlocks = ceilDiv(K, kc)
  const units = batches * mBlocks * nBlocks
  const workBytes = mc * kc * 4 + c.mr * nr * 4 + 96
  const aBytes = extent([sAb, sAm, sAk], M) * eb,
    bBytes = extent([sBb, sBn, sBk], cols) * eb
  const counter = alloc(64),
    flags = alloc(batches * kBlocks * nBlocks * 4 + 16),
    packed = alloc(batches * perBatch),
    cc = alloc(batches * sCb),
    work = alloc(tasks * workBytes)
  let a = t.atEnd === "a" ? 0 : alloc(aBytes),
    b = t.atEnd === "b" ? 0 : alloc(bBytes)
  // Everything from address 0 on is checked: the case's regions, and what lies below and after them.
  let end = Math.min(top + 4096, memory.buffer.byteLength)
  if (t.atEnd !== undefined) {
    const need = Math.ceil((top + 128 + Math.max(aBytes, bBytes)) / 65536) - memory.buffer.byteLength / 65536
    if (need > 0) memory.grow(need)
    end = memory.buffer.byteLength
    if (t.atEnd === "a") a = end - aBytes
    else b = end - bBytes
  }
  const u8 = new Uint8Array(memory.buffer)
  const i32 = new Int32Array(memory.buffer)
  const f32s = new Float32Array(memory.buffer)
  u8.fill(GARBAGE, 0, end)
  i32[counter / 4] = start
  i32.fill(0, flags / 4, flags / 4 + batches * kBlocks * nBlocks)

  const andP = Math.sqrt(1 - 0.5 ** (1 / Math.max(1, K)))
  const value = (): number => {
    if (c.element === "bool") return rnd() < andP ? 1 : 0
    if (t.small === true) return Math.floor(rnd() * 9) - 4
    if (c.element === "i32") return Math.floor(rnd() * 0x100000000) | 0
    return f32((rnd() - 0.5) * 2 ** Math.floor(rnd() * 12 - 4))
  }
  const write = (at: number, v: number) => {
    if (c.element === "bool") u8[at] = v
    else if (c.element === "i32") i32[at / 4] = v
    else f32s[at / 4] = v
  }
  const readAt = (at: number): number =>
    c.element === "bool" ? u8[at]! : c.element === "i32" ? i32[at / 4]! : f32s[at / 4]!
  const A = (bi: number, i: number, k: number) => readAt(a + (bi * sAb + i * sAm + k * sAk) * eb)
  const Bv = (bi: number, k: number, j: number) => readAt(b + (bi * sBb + j * sBn + k * sBk) * eb)
  for (let bi = 0; bi < batches; bi++)
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < M; i++) write(a + (bi * sAb + i * sAm + k * sAk) * eb, value())
      for (let j = 0; j < cols; j++) write(b + (bi * sBb + j * sBn + k * sBk) * eb, value())
    }

  // C as the reference computes it, and B's packed words in the documented layout.
  const bool = c.element === "bool",
    int = c.element === "i32"
  const want = (bi: number, i: number, j: number): number => {
    let acc = 0
    for (let k = 0; k < K; k++) {
      const x = A(bi, i, k),
        y = Bv(bi, k, j)
      acc = bool ? acc | (x & y) : int ? (acc + Math.imul(x, y)) | 0 : f32(acc + f32(x * y))
    }
    return bool ? (acc !== 0 ? 1 : 0) : acc
  }
  const wantC = new Map<number, number>()
  for (let bi = 0; bi < batches; bi++)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < cols; j++) wantC.set(cc + bi * sCb + i * ldc + j * eb, want(bi, i, j))
  /** Packed words of block `(bi, kb, jb)`: word offset in packed → value (a bool's byte widened). */
  const packedBlock = (bi: number, kb: number, jb: number): Map<number, number> => {
    const words = new Map<number, number>()
    const pc = kb * kc,
      rows = Math.min(kc, K - pc)
    const jc = jb * nc,
      jEnd = Math.min(jc + nc, cols)
    for (let jr = jc; jr < jEnd; jr += nr)
      for (let k = 0; k < rows; k++)
        for (let v = 0; v < nr; v++) {
          const word = bi * (perBatch / 4) + pc * panels * nr + jr * rows + k * nr + v
          words.set(word, jr + v < jEnd ? Bv(bi, pc + k, jr + v) : 0)
        }
    return words
  }
  const flagWords = batches * kBlocks * nBlocks
  /** Packs every block of B as the kernel would and marks it ready. */
  const packAll = () => {
    for (let bi = 0; bi < batches; bi++)
      for (let kb = 0; kb < kBlocks; kb++)
        for (let jb = 0; jb < nBlocks; jb++) {
          for (const [w, v] of packedWords[(bi * kBlocks + kb) * nBlocks + jb]!) {
            if (bool || int) i32[packed / 4 + w] = v
            else f32s[packed / 4 + w] = v
          }
          Atomics.store(i32, flags / 4 + (bi * kBlocks + kb) * nBlocks + jb, 2)
        }
  }
  const packedWords: Array<Map<number, number>> = []
  for (let bi = 0; bi < batches; bi++)
    for (let kb = 0; kb < kBlocks; kb++) for (let jb = 0; jb < nBlocks; jb++) packedWords.push(packedBlock(bi, kb, jb))
  /** Changes the operand B (the kernel must then read the blocks packed before). */
  const changeB = () => {
    for (let bi = 0; bi < batches; bi++)
      for (let k = 0; k < K; k++)
        for (let j = 0; j < cols; j++) write(b + (bi * sBb + j * sBn + k * sBk) * eb, bool ? 1 - Bv(bi, k, j) : value())
  }
  if (t.ready === true) {
    // Pack every block ourselves, mark it ready, then change the operand: the kernel must use the packed copy.
    packAll()
    changeB()
  }
  if (t.waiting === true) {
    i32.fill(1, flags / 4, flags / 4 + flagWords)
    changeB()
  }
  const before = u8.slice(0, end)
  const named = {
    counter,
    flags,
    a,
    sAb: sAb * eb,
    sAm: sAm * eb,
    sAk: sAk * eb,
    b,
    sBb: sBb * eb,
    sBk: sBk * eb,
    sBn: sBn * eb,
    packed,
    c: cc,
    sCb,
    ldc,
    M,
    K,
    kc,
    mc,
    nc,
    batches,
    cols,
    work,
    workBytes
  }
  const args = gemmArgs.map((n) => named[n])

  const verify = (prepacked: boolean) => {
    // What may change: C of the claimed units, the counter, the flags and packed B of their blocks,
    // and the region of the task that ran first.
    const expected = new Map<number, number>()
    const expectWord = (at: number, v: number) => {
      const le = new Uint8Array(new Int32Array([v]).buffer)
      for (let i = 0; i < 4; i++) expected.set(at + i, le[i]!)
    }
    const expectF32 = (at: number, v: number) => {
      const le = new Uint8Array(new Float32Array([v]).buffer)
      for (let i = 0; i < 4; i++) expected.set(at + i, le[i]!)
    }
    expectWord(counter, Math.max(start, units) + tasks)
    for (let u = start; u < units; u++) {
      const ic = (u % mBlocks) * mc,
        q = Math.floor(u / mBlocks)
      const jb = q % nBlocks,
        bi = Math.floor(q / nBlocks)
      for (let i = ic; i < Math.min(ic + mc, M); i++)
        for (let j = jb * nc; j < Math.min(jb * nc + nc, cols); j++) {
          const at = cc + bi * sCb + i * ldc + j * eb
          const v = wantC.get(at)!
          if (bool) expected.set(at, v)
          else if (int) expectWord(at, v)
          else expectF32(at, v)
        }
      for (let kb = 0; kb < kBlocks; kb++) {
        expectWord(flags + ((bi * kBlocks + kb) * nBlocks + jb) * 4, 2)
        if (!prepacked)
          for (const [w, v] of packedWords[(bi * kBlocks + kb) * nBlocks + jb]!) {
            if (bool || int) expectWord(packed + 4 * w, v)
            else expectF32(packed + 4 * w, v)
          }
      }
    }
    const free0 = work + (tasks - 1) * workBytes,
      free1 = free0 + mc * kc * 4 + c.mr * nr * 4
    const want = before.slice()
    for (const [at, v] of expected) want[at] = v
    const now = new Uint8Array(memory.buffer)
    for (let at = 0; at < end; at++) {
      if (now[at] === want[at] || (at >= free0 && at < free1)) continue
      const got = now[at]!,
        w = want[at]!
      {
        const where =
          at >= cc && at < work
            ? `C byte ${at - cc}`
            : at >= packed && at < cc
              ? `packed byte ${at - packed}`
              : at >= flags && at < packed
                ? `flag byte ${at - flags}`
                : `byte ${at}`
        assert.fail(`${label}: ${where} is ${got}, want ${w}`)
      }
    }
  }
  return { args, tasks, flags, flagWords, counter, packAll, changeB, verify }
}

const runCase = (t: Case, label: string): void => {
  const run = prepare(t, label)
  const fn = gemmOf(t.c)
  for (let task = run.tasks - 1; task >= 0; task--) fn(task, run.tasks, ...run.args)
  run.verify(t.ready === true)
}

const F: GemmConfig = { element: "f32", mr: 3, nv: 4, relaxed: false }
const I: GemmConfig = { element: "i32", mr: 4, nv: 2, relaxed: false }
const Bo: GemmConfig = { element: "bool", mr: 4, nv: 2, relaxed: false }
const layouts: ReadonlyArray<Layout> = ["k", "mn", "strided"]

describe("wasm packed GEMM built directly", () => {
  it("every operand layout, sizes around the micro-tile, one block each", () => {
    for (const c of [F, I, Bo])
      for (const a of layouts)
        for (const b of layouts)
          for (const [M, cols, K] of [
            [1, 1, 1],
            [c.mr, c.nv * 4, 4],
            [c.mr + 1, c.nv * 4 + 1, 7],
            [2 * c.mr - 1, 2 * c.nv * 4 + 3, 9]
          ] as const)
            runCase(
              { c, batches: 2, M, K, cols, kc: K, mc: 2 * c.mr, nc: 4 * c.nv * 4, a, b, ldcPad: 3 },
              `${c.element} A ${a} B ${b} ${M}x${cols}x${K}`
            )
  })

  it("blocks of K, rows and columns with edge tiles in each", () => {
    for (const c of [F, I, Bo])
      for (const [a, b] of [
        ["k", "mn"],
        ["mn", "k"],
        ["strided", "strided"]
      ] as const)
        for (const [M, cols, K, kc, mc, nc] of [
          [7, 37, 13, 4, 2 * c.mr, 2 * c.nv * 4],
          [11, 19, 10, 8, c.mr, c.nv * 4],
          [2 * c.mr + 1, 3 * c.nv * 4, 6, 5, 2 * c.mr, c.nv * 4],
          [5, 9, 3, 1, 5, 2 * c.nv * 4]
        ] as const)
          runCase(
            { c, batches: 3, M, K, cols, kc, mc, nc, a, b, ldcPad: 1 },
            `${c.element} A ${a} B ${b} ${M}x${cols}x${K} kc ${kc} mc ${mc} nc ${nc}`
          )
  })

  it("claims only the units after the counter, the last task first, in its own region", () => {
    for (const c of [F, I, Bo])
      for (const start of [0, 1, 5, 11, 29, 30, 40])
        runCase(
          { c, batches: 2, M: 9, K: 11, cols: 21, kc: 4, mc: c.mr, nc: c.nv * 4, a: "k", b: "k", tasks: 3, start },
          `${c.element} start ${start}`
        )
  })

  it("reads blocks of B another task marked ready instead of packing them again", () => {
    for (const c of [F, I, Bo])
      runCase(
        { c, batches: 2, M: 7, K: 10, cols: 19, kc: 4, mc: 2 * c.mr, nc: c.nv * 4, a: "mn", b: "k", ready: true },
        `${c.element} ready`
      )
  })

  it("waits while another thread packs a block, then reads what it packed", async () => {
    for (const c of [F, Bo]) {
      // Every block is being packed by "another thread" (this one), which finishes once the worker waits.
      const run = prepare(
        { c, batches: 2, M: 7, K: 10, cols: 19, kc: 4, mc: 2 * c.mr, nc: c.nv * 4, a: "k", b: "mn", waiting: true },
        `${c.element} waiting`
      )
      const i32 = new Int32Array(memory.buffer)
      const done = onWorker(gemmModule(c), run.args)
      // The worker claims its first unit, then waits for that unit's first block of B.
      for (let i = 0; i < 2000 && Atomics.load(i32, run.counter / 4) === 0; i++) await sleep(5)
      await sleep(30)
      run.packAll()
      await done
      run.verify(false)
    }
  })

  it("never reads past an operand's last element (one at the very end of memory)", () => {
    for (const [c, a, b, atEnd] of [
      [F, "k", "k", "a"],
      [I, "mn", "mn", "a"],
      [F, "mn", "k", "b"]
    ] as const)
      runCase(
        { c, batches: 1, M: 2 * c.mr, K: 8, cols: 2 * c.nv * 4, kc: 8, mc: 2 * c.mr, nc: 2 * c.nv * 4, a, b, atEnd },
        `${c.element} A ${a} B ${b} ${atEnd} at the end of memory`
      )
  })

  it("other micro-tiles: one packer for A and B, widths neither 3 nor a multiple of 4, wide A panels", () => {
    const configs: ReadonlyArray<GemmConfig> = [
      { element: "i32", mr: 4, nv: 1, relaxed: false },
      { element: "f32", mr: 5, nv: 1, relaxed: false },
      { element: "f32", mr: 2, nv: 3, relaxed: false },
      { element: "i32", mr: 8, nv: 2, relaxed: false },
      { element: "bool", mr: 3, nv: 1, relaxed: false }
    ]
    for (const c of configs)
      for (const a of layouts)
        for (const b of layouts)
          runCase(
            { c, batches: 2, M: 2 * c.mr + 1, K: 9, cols: 2 * c.nv * 4 + 1, kc: 8, mc: 2 * c.mr, nc: c.nv * 4, a, b },
            `${c.element} ${c.mr}x${c.nv * 4} A ${a} B ${b}`
          )
  })

  it("fused multiply-adds where relaxed SIMD is available", () => {
    if (!relaxedSimdSupported()) return
    const c: GemmConfig = { element: "f32", mr: 3, nv: 4, relaxed: true }
    for (const [a, b] of [
      ["k", "mn"],
      ["mn", "k"],
      ["strided", "strided"]
    ] as const)
      runCase(
        { c, batches: 2, M: 8, K: 13, cols: 21, kc: 8, mc: 6, nc: 16, a, b, ldcPad: 2, small: true },
        `relaxed A ${a} B ${b}`
      )
  })

  it("keys name the element, the micro-tile and the multiply-add", () => {
    assert.deepStrictEqual(
      [
        gemmKey(F),
        gemmKey({ ...F, relaxed: true }),
        gemmKey(I),
        gemmKey({ ...I, relaxed: true }),
        gemmKey(Bo),
        gemmKey({ element: "f32", mr: 5, nv: 1, relaxed: false })
      ],
      [
        "dot_general/f32/3x16/mul-add",
        "dot_general/f32/3x16/madd",
        "dot_general/i32/4x8",
        "dot_general/i32/4x8",
        "dot_general/bool/4x8",
        "dot_general/f32/5x4/mul-add"
      ]
    )
    assert.deepStrictEqual([elementBytes("f32"), elementBytes("i32"), elementBytes("bool")], [4, 4, 1])
  })
})
