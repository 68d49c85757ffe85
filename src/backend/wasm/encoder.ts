/**
 * A WebAssembly binary encoder: the wasm backend writes its kernels with it at run time, so the
 * library needs no compiler toolchain and can generate a kernel per fused program.
 *
 * {@link ModuleBuilder} assembles a module (types, an imported shared memory, imported host
 * functions, functions, exports); {@link FunctionBuilder} appends instructions to a function body with
 * one method per instruction (`f.f32x4_mul()`), control structures taking a callback for their body
 * (`f.loop(() => ...)`), and typed locals. Only the instructions the kernels use are listed; adding one
 * is one line in {@link simpleOps} or {@link memoryOps}.
 *
 * @since 0.2.0
 */

/** Value types. */
export type ValType = "i32" | "i64" | "f32" | "f64" | "v128"

const valTypeCode: { readonly [T in ValType]: number } = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b }

/** Unsigned LEB128. */
export const uleb = (n: number): Array<number> => {
  const out: Array<number> = []
  let v = n >>> 0
  do {
    let byte = v & 0x7f
    v >>>= 7
    if (v !== 0) byte |= 0x80
    out.push(byte)
  } while (v !== 0)
  return out
}

/** Signed LEB128 of a 32-bit integer. */
export const sleb32 = (n: number): Array<number> => {
  const out: Array<number> = []
  let v = n | 0
  for (;;) {
    const byte = v & 0x7f
    v >>= 7
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte)
      return out
    }
    out.push(byte | 0x80)
  }
}

/** Signed LEB128 of a 64-bit integer. */
export const sleb64 = (n: bigint): Array<number> => {
  const out: Array<number> = []
  let v = BigInt.asIntN(64, n)
  for (;;) {
    const byte = Number(v & 0x7fn)
    v >>= 7n
    if ((v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0)) {
      out.push(byte)
      return out
    }
    out.push(byte | 0x80)
  }
}

const utf8 = (s: string): Array<number> => {
  const bytes = [...new TextEncoder().encode(s)]
  return [...uleb(bytes.length), ...bytes]
}

const simd = (code: number): ReadonlyArray<number> => [0xfd, ...uleb(code)]

/** Instructions without immediates, by name. */
export const simpleOps = {
  unreachable: [0x00],
  nop: [0x01],
  return: [0x0f],
  drop: [0x1a],
  select: [0x1b],
  i32_eqz: [0x45],
  i32_eq: [0x46],
  i32_ne: [0x47],
  i32_lt_s: [0x48],
  i32_lt_u: [0x49],
  i32_gt_s: [0x4a],
  i32_gt_u: [0x4b],
  i32_le_s: [0x4c],
  i32_le_u: [0x4d],
  i32_ge_s: [0x4e],
  i32_ge_u: [0x4f],
  i64_eqz: [0x50],
  i64_eq: [0x51],
  i64_ne: [0x52],
  i64_lt_s: [0x53],
  i64_lt_u: [0x54],
  i64_gt_s: [0x55],
  i64_gt_u: [0x56],
  f32_eq: [0x5b],
  f32_ne: [0x5c],
  f32_lt: [0x5d],
  f32_gt: [0x5e],
  f32_le: [0x5f],
  f32_ge: [0x60],
  f64_eq: [0x61],
  f64_ne: [0x62],
  f64_lt: [0x63],
  f64_gt: [0x64],
  f64_le: [0x65],
  f64_ge: [0x66],
  i32_clz: [0x67],
  i32_ctz: [0x68],
  i32_popcnt: [0x69],
  i32_add: [0x6a],
  i32_sub: [0x6b],
  i32_mul: [0x6c],
  i32_div_s: [0x6d],
  i32_div_u: [0x6e],
  i32_rem_s: [0x6f],
  i32_rem_u: [0x70],
  i32_and: [0x71],
  i32_or: [0x72],
  i32_xor: [0x73],
  i32_shl: [0x74],
  i32_shr_s: [0x75],
  i32_shr_u: [0x76],
  i32_rotl: [0x77],
  i32_rotr: [0x78],
  i64_add: [0x7c],
  i64_sub: [0x7d],
  i64_mul: [0x7e],
  i64_div_s: [0x7f],
  i64_div_u: [0x80],
  i64_rem_s: [0x81],
  i64_rem_u: [0x82],
  i64_and: [0x83],
  i64_or: [0x84],
  i64_xor: [0x85],
  i64_shl: [0x86],
  i64_shr_s: [0x87],
  i64_shr_u: [0x88],
  f32_abs: [0x8b],
  f32_neg: [0x8c],
  f32_ceil: [0x8d],
  f32_floor: [0x8e],
  f32_trunc: [0x8f],
  f32_nearest: [0x90],
  f32_sqrt: [0x91],
  f32_add: [0x92],
  f32_sub: [0x93],
  f32_mul: [0x94],
  f32_div: [0x95],
  f32_min: [0x96],
  f32_max: [0x97],
  f32_copysign: [0x98],
  f64_abs: [0x99],
  f64_neg: [0x9a],
  f64_ceil: [0x9b],
  f64_floor: [0x9c],
  f64_trunc: [0x9d],
  f64_nearest: [0x9e],
  f64_sqrt: [0x9f],
  f64_add: [0xa0],
  f64_sub: [0xa1],
  f64_mul: [0xa2],
  f64_div: [0xa3],
  f64_min: [0xa4],
  f64_max: [0xa5],
  f64_copysign: [0xa6],
  i32_wrap_i64: [0xa7],
  i32_trunc_f32_s: [0xa8],
  i32_trunc_f32_u: [0xa9],
  i32_trunc_f64_s: [0xaa],
  i32_trunc_f64_u: [0xab],
  i64_extend_i32_s: [0xac],
  i64_extend_i32_u: [0xad],
  i64_trunc_f64_s: [0xb0],
  f32_convert_i32_s: [0xb2],
  f32_convert_i32_u: [0xb3],
  f32_demote_f64: [0xb6],
  f64_convert_i32_s: [0xb7],
  f64_convert_i32_u: [0xb8],
  f64_convert_i64_s: [0xb9],
  f64_promote_f32: [0xbb],
  i32_reinterpret_f32: [0xbc],
  i64_reinterpret_f64: [0xbd],
  f32_reinterpret_i32: [0xbe],
  f64_reinterpret_i64: [0xbf],
  i32_trunc_sat_f32_s: [0xfc, 0x00],
  i32_trunc_sat_f32_u: [0xfc, 0x01],
  i32_trunc_sat_f64_s: [0xfc, 0x02],
  i32_trunc_sat_f64_u: [0xfc, 0x03],
  i64_trunc_sat_f64_s: [0xfc, 0x06],
  memory_copy: [0xfc, 0x0a, 0x00, 0x00],
  memory_fill: [0xfc, 0x0b, 0x00],

  i32x4_splat: simd(0x11),
  i64x2_splat: simd(0x12),
  f32x4_splat: simd(0x13),
  f64x2_splat: simd(0x14),
  i32x4_eq: simd(0x37),
  i32x4_ne: simd(0x38),
  i32x4_lt_s: simd(0x39),
  i32x4_lt_u: simd(0x3a),
  i32x4_gt_s: simd(0x3b),
  i32x4_gt_u: simd(0x3c),
  i32x4_le_s: simd(0x3d),
  i32x4_le_u: simd(0x3e),
  i32x4_ge_s: simd(0x3f),
  i32x4_ge_u: simd(0x40),
  f32x4_eq: simd(0x41),
  f32x4_ne: simd(0x42),
  f32x4_lt: simd(0x43),
  f32x4_gt: simd(0x44),
  f32x4_le: simd(0x45),
  f32x4_ge: simd(0x46),
  f64x2_eq: simd(0x47),
  f64x2_ne: simd(0x48),
  f64x2_lt: simd(0x49),
  f64x2_gt: simd(0x4a),
  f64x2_le: simd(0x4b),
  f64x2_ge: simd(0x4c),
  v128_not: simd(0x4d),
  v128_and: simd(0x4e),
  v128_andnot: simd(0x4f),
  v128_or: simd(0x50),
  v128_xor: simd(0x51),
  v128_bitselect: simd(0x52),
  v128_any_true: simd(0x53),
  f32x4_demote_f64x2_zero: simd(0x5e),
  f64x2_promote_low_f32x4: simd(0x5f),
  f32x4_ceil: simd(0x67),
  f32x4_floor: simd(0x68),
  f32x4_trunc: simd(0x69),
  f32x4_nearest: simd(0x6a),
  f64x2_ceil: simd(0x74),
  f64x2_floor: simd(0x75),
  f64x2_trunc: simd(0x7a),
  f64x2_nearest: simd(0x94),
  i32x4_abs: simd(0xa0),
  i32x4_neg: simd(0xa1),
  i32x4_all_true: simd(0xa3),
  i32x4_bitmask: simd(0xa4),
  i32x4_shl: simd(0xab),
  i32x4_shr_s: simd(0xac),
  i32x4_shr_u: simd(0xad),
  i32x4_add: simd(0xae),
  i32x4_sub: simd(0xb1),
  i32x4_mul: simd(0xb5),
  i32x4_min_s: simd(0xb6),
  i32x4_min_u: simd(0xb7),
  i32x4_max_s: simd(0xb8),
  i32x4_max_u: simd(0xb9),
  i64x2_extend_low_i32x4_s: simd(0xc7),
  i64x2_extend_high_i32x4_s: simd(0xc8),
  i64x2_extend_low_i32x4_u: simd(0xc9),
  i64x2_extend_high_i32x4_u: simd(0xca),
  i64x2_shl: simd(0xcb),
  i64x2_shr_s: simd(0xcc),
  i64x2_shr_u: simd(0xcd),
  i64x2_add: simd(0xce),
  i64x2_sub: simd(0xd1),
  i64x2_mul: simd(0xd5),
  f32x4_abs: simd(0xe0),
  f32x4_neg: simd(0xe1),
  f32x4_sqrt: simd(0xe3),
  f32x4_add: simd(0xe4),
  f32x4_sub: simd(0xe5),
  f32x4_mul: simd(0xe6),
  f32x4_div: simd(0xe7),
  f32x4_min: simd(0xe8),
  f32x4_max: simd(0xe9),
  f32x4_pmin: simd(0xea),
  f32x4_pmax: simd(0xeb),
  f64x2_abs: simd(0xec),
  f64x2_neg: simd(0xed),
  f64x2_sqrt: simd(0xef),
  f64x2_add: simd(0xf0),
  f64x2_sub: simd(0xf1),
  f64x2_mul: simd(0xf2),
  f64x2_div: simd(0xf3),
  f64x2_min: simd(0xf4),
  f64x2_max: simd(0xf5),
  f64x2_pmin: simd(0xf6),
  f64x2_pmax: simd(0xf7),
  i32x4_trunc_sat_f32x4_s: simd(0xf8),
  i32x4_trunc_sat_f32x4_u: simd(0xf9),
  f32x4_convert_i32x4_s: simd(0xfa),
  f32x4_convert_i32x4_u: simd(0xfb),
  i32x4_trunc_sat_f64x2_s_zero: simd(0xfc),
  i32x4_trunc_sat_f64x2_u_zero: simd(0xfd),
  f64x2_convert_low_i32x4_s: simd(0xfe),
  f64x2_convert_low_i32x4_u: simd(0xff),
  /** Relaxed SIMD: `a * b + c`, fused where the hardware has FMA (check {@link relaxedSimdSupported}). */
  f32x4_relaxed_madd: simd(0x105),
  f64x2_relaxed_madd: simd(0x107)
} as const satisfies Record<string, ReadonlyArray<number>>

/** Loads and stores: one immediate pair (alignment as log2 bytes, offset). */
export const memoryOps = {
  i32_load: [[0x28], 2],
  i64_load: [[0x29], 3],
  f32_load: [[0x2a], 2],
  f64_load: [[0x2b], 3],
  i32_load8_s: [[0x2c], 0],
  i32_load8_u: [[0x2d], 0],
  i32_store: [[0x36], 2],
  i64_store: [[0x37], 3],
  f32_store: [[0x38], 2],
  f64_store: [[0x39], 3],
  i32_store8: [[0x3a], 0],
  v128_load: [simd(0x00), 4],
  v128_store: [simd(0x0b), 4],
  v128_load32_splat: [simd(0x09), 2],
  v128_load64_splat: [simd(0x0a), 3],
  v128_load32_zero: [simd(0x5c), 2],
  v128_load64_zero: [simd(0x5d), 3]
} as const satisfies Record<string, readonly [ReadonlyArray<number>, number]>

type SimpleOpName = keyof typeof simpleOps
type MemoryOpName = keyof typeof memoryOps

/** Lane accessors: one lane-index immediate. */
const laneOps = {
  i32x4_extract_lane: simd(0x1b),
  i32x4_replace_lane: simd(0x1c),
  f32x4_extract_lane: simd(0x1f),
  f32x4_replace_lane: simd(0x20),
  f64x2_extract_lane: simd(0x21),
  f64x2_replace_lane: simd(0x22),
  i64x2_extract_lane: simd(0x1d)
} as const
type LaneOpName = keyof typeof laneOps

/** A block's result type: nothing or one value. */
export type BlockType = ValType | undefined

type SimpleMethods = { readonly [K in SimpleOpName]: () => FunctionBuilder }
type MemoryMethods = { readonly [K in MemoryOpName]: (offset?: number, alignLog2?: number) => FunctionBuilder }
type LaneMethods = { readonly [K in LaneOpName]: (lane: number) => FunctionBuilder }

/** Builds one function body. */
export interface FunctionBuilder extends SimpleMethods, MemoryMethods, LaneMethods {}
export class FunctionBuilder {
  /** The body's bytes so far. */
  readonly code: Array<number> = []
  private readonly localTypes: Array<ValType> = []

  constructor(
    readonly params: ReadonlyArray<ValType>,
    readonly results: ReadonlyArray<ValType>
  ) {}

  /** A new local of type `t`; its index. */
  local(t: ValType): number {
    this.localTypes.push(t)
    return this.params.length + this.localTypes.length - 1
  }

  raw(...bytes: ReadonlyArray<number>): this {
    for (const b of bytes) this.code.push(b)
    return this
  }

  get(i: number): this {
    return this.raw(0x20, ...uleb(i))
  }
  set(i: number): this {
    return this.raw(0x21, ...uleb(i))
  }
  tee(i: number): this {
    return this.raw(0x22, ...uleb(i))
  }
  i32(n: number): this {
    return this.raw(0x41, ...sleb32(n))
  }
  i64(n: bigint): this {
    return this.raw(0x42, ...sleb64(n))
  }
  f32(x: number): this {
    const b = new Uint8Array(4)
    new DataView(b.buffer).setFloat32(0, x, true)
    return this.raw(0x43, ...b)
  }
  f64(x: number): this {
    const b = new Uint8Array(8)
    new DataView(b.buffer).setFloat64(0, x, true)
    return this.raw(0x44, ...b)
  }
  /** A v128 constant of four f32 lanes. */
  f32x4(a: number, b = a, c = a, d = a): this {
    const bytes = new Uint8Array(16)
    const dv = new DataView(bytes.buffer)
    ;[a, b, c, d].forEach((x, i) => dv.setFloat32(i * 4, x, true))
    return this.raw(...simd(0x0c), ...bytes)
  }
  /** A v128 constant of two f64 lanes. */
  f64x2(a: number, b = a): this {
    const bytes = new Uint8Array(16)
    const dv = new DataView(bytes.buffer)
    dv.setFloat64(0, a, true)
    dv.setFloat64(8, b, true)
    return this.raw(...simd(0x0c), ...bytes)
  }
  /** A v128 constant of four i32 lanes. */
  i32x4(a: number, b = a, c = a, d = a): this {
    const bytes = new Uint8Array(16)
    const dv = new DataView(bytes.buffer)
    ;[a, b, c, d].forEach((x, i) => dv.setInt32(i * 4, x | 0, true))
    return this.raw(...simd(0x0c), ...bytes)
  }
  /** `i8x16.shuffle` with 16 lane indices (0-31) into the two operands. */
  shuffle(lanes: ReadonlyArray<number>): this {
    return this.raw(...simd(0x0d), ...lanes)
  }
  call(funcIndex: number): this {
    return this.raw(0x10, ...uleb(funcIndex))
  }

  private structured(opcode: number, type: BlockType, body: () => void): this {
    this.raw(opcode, type === undefined ? 0x40 : valTypeCode[type])
    body()
    return this.raw(0x0b)
  }
  block(body: () => void, type?: BlockType): this {
    return this.structured(0x02, type, body)
  }
  loop(body: () => void, type?: BlockType): this {
    return this.structured(0x03, type, body)
  }
  /** `if` with an optional `else`; the condition is on the stack. */
  if(then: () => void, otherwise?: () => void, type?: BlockType): this {
    this.raw(0x04, type === undefined ? 0x40 : valTypeCode[type])
    then()
    if (otherwise !== undefined) {
      this.raw(0x05)
      otherwise()
    }
    return this.raw(0x0b)
  }
  br(depth: number): this {
    return this.raw(0x0c, ...uleb(depth))
  }
  br_if(depth: number): this {
    return this.raw(0x0d, ...uleb(depth))
  }

  /**
   * `for (i = from; i < to; i += step) body()`, with `i`, `to` read from locals; `from` and `step` are
   * locals or constants. Nothing runs when `from >= to`.
   */
  forLoop(
    i: number,
    from: number | { readonly const: number },
    to: number,
    step: number | { readonly const: number },
    body: () => void
  ): this {
    const push = (v: number | { readonly const: number }) => (typeof v === "number" ? this.get(v) : this.i32(v.const))
    push(from).set(i)
    return this.block(() => {
      this.get(i).get(to).i32_ge_s().br_if(0)
      this.loop(() => {
        body()
        this.get(i)
        push(step)
        this.i32_add().tee(i).get(to).i32_lt_s().br_if(0)
      })
    })
  }

  /**
   * This task's share of `units` units of work, for a kernel function whose first two parameters are
   * `(task, tasks)`: sets `lo = floor(units * task / tasks)` and `hi = floor(units * (task + 1) /
   * tasks)` (in 64 bits, so no product overflows). `units` is a constant or `{ local }`. Shares depend
   * only on `task` and `tasks`, never on which thread runs them.
   */
  taskRange(units: number | { readonly local: number }, lo: number, hi: number): this {
    const share = (plus: number, out: number) => {
      if (typeof units === "number") this.i64(BigInt(units))
      else this.get(units.local).i64_extend_i32_u()
      this.get(0)
        .i32(plus)
        .i32_add()
        .i64_extend_i32_u()
        .i64_mul()
        .get(1)
        .i64_extend_i32_u()
        .i64_div_u()
        .i32_wrap_i64()
        .set(out)
    }
    share(0, lo)
    share(1, hi)
    return this
  }

  /** The encoded function body (locals and code). */
  encode(): Array<number> {
    const groups: Array<[number, ValType]> = []
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1]
      if (last !== undefined && last[1] === t) last[0]++
      else groups.push([1, t])
    }
    const body = [
      ...uleb(groups.length),
      ...groups.flatMap(([n, t]) => [...uleb(n), valTypeCode[t]]),
      ...this.code,
      0x0b
    ]
    return [...uleb(body.length), ...body]
  }
}

for (const [name, bytes] of Object.entries(simpleOps)) {
  Object.defineProperty(FunctionBuilder.prototype, name, {
    value(this: FunctionBuilder) {
      return this.raw(...bytes)
    }
  })
}
for (const [name, [bytes, align]] of Object.entries(memoryOps)) {
  Object.defineProperty(FunctionBuilder.prototype, name, {
    value(this: FunctionBuilder, offset = 0, alignLog2 = align) {
      return this.raw(...bytes, ...uleb(alignLog2), ...uleb(offset))
    }
  })
}
for (const [name, bytes] of Object.entries(laneOps)) {
  Object.defineProperty(FunctionBuilder.prototype, name, {
    value(this: FunctionBuilder, lane: number) {
      return this.raw(...bytes, lane)
    }
  })
}

interface FuncEntry {
  readonly typeIndex: number
  readonly builder: FunctionBuilder
  readonly exportName: string | undefined
}

/** Assembles a module whose memory is imported as `env.memory`. */
export class ModuleBuilder {
  private readonly types: Array<string> = []
  private readonly typeBytes: Array<Array<number>> = []
  private readonly imports: Array<Array<number>> = []
  private readonly funcs: Array<FuncEntry> = []
  private importedFuncs = 0

  constructor(
    private readonly memory: { readonly initialPages: number; readonly maximumPages: number; readonly shared: boolean }
  ) {}

  private typeIndex(params: ReadonlyArray<ValType>, results: ReadonlyArray<ValType>): number {
    const key = `${params.join(",")}->${results.join(",")}`
    const found = this.types.indexOf(key)
    if (found >= 0) return found
    this.types.push(key)
    this.typeBytes.push([
      0x60,
      ...uleb(params.length),
      ...params.map((t) => valTypeCode[t]),
      ...uleb(results.length),
      ...results.map((t) => valTypeCode[t])
    ])
    return this.types.length - 1
  }

  /** Imports a host function `env.name`; its function index. Import every function before adding any. */
  importFunction(name: string, params: ReadonlyArray<ValType>, results: ReadonlyArray<ValType>): number {
    if (this.funcs.length > 0) throw new Error("wasm encoder: import functions before defining any")
    const t = this.typeIndex(params, results)
    this.imports.push([...utf8("env"), ...utf8(name), 0x00, ...uleb(t)])
    return this.importedFuncs++
  }

  /** Adds a function (exported under `exportName` when given); its function index. */
  addFunction(
    exportName: string | undefined,
    params: ReadonlyArray<ValType>,
    results: ReadonlyArray<ValType>,
    body: (f: FunctionBuilder) => void
  ): number {
    const builder = new FunctionBuilder(params, results)
    body(builder)
    this.funcs.push({ typeIndex: this.typeIndex(params, results), builder, exportName })
    return this.importedFuncs + this.funcs.length - 1
  }

  /** The module's bytes. */
  encode(): Uint8Array<ArrayBuffer> {
    const section = (id: number, payload: ReadonlyArray<number>): Array<number> => [
      id,
      ...uleb(payload.length),
      ...payload
    ]
    const vec = (items: ReadonlyArray<ReadonlyArray<number>>): Array<number> => [...uleb(items.length), ...items.flat()]
    const { initialPages, maximumPages, shared } = this.memory
    const memImport = [
      ...utf8("env"),
      ...utf8("memory"),
      0x02,
      shared ? 0x03 : 0x01,
      ...uleb(initialPages),
      ...uleb(maximumPages)
    ]
    const exports = this.funcs.flatMap((f, i) =>
      f.exportName === undefined ? [] : [[...utf8(f.exportName), 0x00, ...uleb(this.importedFuncs + i)]]
    )
    const bytes = [
      0x00,
      0x61,
      0x73,
      0x6d,
      0x01,
      0x00,
      0x00,
      0x00,
      ...section(1, vec(this.typeBytes)),
      ...section(2, vec([...this.imports, memImport])),
      ...section(3, vec(this.funcs.map((f) => uleb(f.typeIndex)))),
      ...section(7, vec(exports)),
      ...section(10, vec(this.funcs.map((f) => f.builder.encode())))
    ]
    return new Uint8Array(bytes)
  }
}

let relaxed: boolean | undefined

/** Whether this engine validates relaxed-SIMD instructions (fused multiply-add lanes). */
export const relaxedSimdSupported = (): boolean => {
  if (relaxed !== undefined) return relaxed
  const m = new ModuleBuilder({ initialPages: 1, maximumPages: 1, shared: false })
  m.addFunction("f", [], ["v128"], (f) => {
    f.f32x4(1).f32x4(2).f32x4(3).f32x4_relaxed_madd()
  })
  try {
    relaxed = WebAssembly.validate(m.encode())
  } catch {
    relaxed = false
  }
  return relaxed
}
