/**
 * Runs elementwise plans (src/backend/wasm/kernels/plan.ts) through the code generator
 * (`codegen.ts`) on a test runtime, and compares with the cpu reference kernels applied node by node
 * (issue 16: tests that catch injected bugs). Every check builds its module afresh on a new runtime
 * (a module cache shared by tests would hide the generator from Stryker's per-test coverage), runs it
 * with several task counts (more tasks than units included), reads operands at any element strides
 * and writes outputs among garbage and guard bytes: positions no output stride reaches must keep
 * their garbage.
 */
import { assert } from "@effect/vitest"
import type { Aval, DType, HostArray } from "../../src/backend/DType.ts"
import { allocHost } from "../../src/backend/DType.ts"
import type { FusedNode } from "../../src/backend/fusion.ts"
import { abstractEval } from "../../src/backend/Primitive.ts"
import type { FirstOrderPrimitive, Params } from "../../src/backend/Primitive.ts"
import { makeCpu } from "../../src/backend/cpu/Cpu.ts"
import { buildModule, layoutOf, supported } from "../../src/backend/wasm/kernels/codegen.ts"
import type { Layout } from "../../src/backend/wasm/kernels/codegen.ts"
import {
  bytesOf,
  count,
  liveNodes,
  nodeDtypes,
  planKey,
  rowMajor,
  simplify
} from "../../src/backend/wasm/kernels/plan.ts"
import type { Plan } from "../../src/backend/wasm/kernels/plan.ts"
import { initialPages, instantiateKernel, kernelImports, maximumPages } from "../../src/backend/wasm/runtime.ts"

// The cpu backend and a test runtime without the library's entry point, which the mutation runs
// would otherwise load again for every mutant.
const cpu = makeCpu()

/** A strong-typed aval. */
export const aval = (shape: ReadonlyArray<number>, dtype: DType): Aval => ({ shape, dtype, weakType: false })

import { mulberry32 } from "./seeded.ts"

export { mulberry32 }

/** Runs one primitive on the cpu backend, answering copies of its outputs. */
const run = <P extends FirstOrderPrimitive>(
  prim: P,
  data: ReadonlyArray<HostArray>,
  avals: ReadonlyArray<Aval>,
  params: Params<P>
): Array<HostArray> => {
  const outAvals = abstractEval[prim](avals, params)
  const outs = cpu.execute(
    prim,
    data.map((d, i) => cpu.upload(d, avals[i]!)),
    avals,
    outAvals,
    params
  )
  return outs.map((o, i) => {
    const host = cpu.download(o, outAvals[i]!).slice()
    cpu.dispose(o)
    return host
  })
}

/** The same value (signed zeros differ) or both NaN, element by element. */
export const same = (got: HostArray, want: HostArray, label: string): void => {
  assert.strictEqual(got.length, want.length, label)
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!,
      w = want[i]!
    if (Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w))) continue
    assert.fail(`${label}: element ${i} is ${g}, the cpu kernel gives ${w}`)
  }
}

/** A runtime over its own memory (as test/wasm/kernelRuntime.ts's): kernels run task by task. */
const planRuntime = () => {
  const memory = new WebAssembly.Memory({ initial: initialPages, maximum: maximumPages, shared: true })
  const imports = kernelImports(memory)
  let top = 1024
  const alloc = (bytes: number): number => {
    const at = top
    top = Math.ceil((top + Math.max(bytes, 1)) / 64) * 64 + 64
    const need = Math.ceil(top / 65536) - memory.buffer.byteLength / 65536
    if (need > 0) memory.grow(need)
    return at
  }
  const place = (host: HostArray, guard: number): number => {
    const ptr = alloc(host.byteLength + 64) + 32
    new Uint8Array(memory.buffer).fill(guard, ptr - 32, ptr + host.byteLength + 32)
    new Uint8Array(memory.buffer).set(new Uint8Array(host.buffer, host.byteOffset, host.byteLength), ptr)
    return ptr
  }
  const read = (ptr: number, like: HostArray): HostArray => {
    const out = like.slice()
    new Uint8Array(out.buffer).set(new Uint8Array(memory.buffer, ptr, out.byteLength))
    return out
  }
  const guards = (ptr: number, bytes: number): Array<number> => [
    ...new Uint8Array(memory.buffer, ptr - 32, 32),
    ...new Uint8Array(memory.buffer, ptr + bytes, 32)
  ]
  /** Copies `host` to the very end of memory (after one more page): a byte read past it traps. */
  const placeAtEnd = (host: HostArray): number => {
    memory.grow(1)
    const ptr = memory.buffer.byteLength - host.byteLength
    new Uint8Array(memory.buffer).set(new Uint8Array(host.buffer, host.byteOffset, host.byteLength), ptr)
    top = memory.buffer.byteLength
    return ptr
  }
  return { imports, place, placeAtEnd, read, guards }
}

/** Elements an operand with `strides` over `shape` spans. */
export const extent = (shape: ReadonlyArray<number>, strides: ReadonlyArray<number>): number =>
  count(shape) === 0 ? 0 : 1 + shape.reduce((s, d, a) => s + (d - 1) * strides[a]!, 0)

const offsets = (shape: ReadonlyArray<number>, strides: ReadonlyArray<number>): Array<number> => {
  const n = count(shape)
  const out = new Array<number>(n)
  const rm = rowMajor(shape)
  for (let i = 0; i < n; i++) {
    let off = 0
    for (let a = 0; a < shape.length; a++) off += (Math.floor(i / rm[a]!) % shape[a]!) * strides[a]!
    out[i] = off
  }
  return out
}

/** Values of `dtype`: plain ones, or with the special float values and integer extremes mixed in. */
export const values = (dtype: DType, n: number, seed: number, special = false): HostArray => {
  const r = mulberry32(seed)
  const h = allocHost(dtype, n)
  const floats = [Number.NaN, 0, -0, Infinity, -Infinity, 1e-40, -3e-39, 3e38, -1, 1, 0.5, -2.5]
  const ints = [0, 1, -1, 2, -2, 0x7fffffff, -0x80000000, 31, 32, 33]
  for (let i = 0; i < n; i++) {
    const u = r()
    if (dtype === "bool") h[i] = u < 0.5 ? 1 : 0
    else if (special && r() < 0.3) h[i] = dtype === "float32" ? floats[Math.floor(u * floats.length)]! : ints[i % 10]!
    else if (dtype === "float32") h[i] = Math.round((u - 0.5) * 64) / 8
    else if (dtype === "int32") h[i] = Math.floor((u - 0.5) * 200)
    else h[i] = Math.floor(u * 200)
  }
  return h
}

/** The cpu reference of one node over the full shape. */
const evalNode = (
  node: FusedNode,
  shape: ReadonlyArray<number>,
  vals: ReadonlyArray<HostArray>,
  dts: ReadonlyArray<DType>,
  inputs: ReadonlyArray<HostArray>
): HostArray => {
  const av = (i: number) => aval(shape, dts[i]!)
  switch (node.kind) {
    case "input":
      return inputs[node.input]!
    case "literal":
      return allocHost(node.dtype, count(shape)).fill(node.value)
    case "unary":
      return run(node.prim, [vals[node.arg]!], [av(node.arg)], {} as never)[0]!
    case "round":
      return run("round", [vals[node.arg]!], [av(node.arg)], { method: node.method })[0]!
    case "convert":
      return run("convert_element_type", [vals[node.arg]!], [av(node.arg)], {
        newDtype: node.dtype,
        weakType: false
      })[0]!
    case "binary":
      return run(
        node.prim,
        node.args.map((a) => vals[a]!),
        node.args.map(av),
        {} as never
      )[0]!
    case "select":
      return run(
        "select",
        node.args.map((a) => vals[a]!),
        node.args.map(av),
        {}
      )[0]!
  }
}

/** float32 bits as integers ordered like the values, so that ulp distance is a difference. */
const ordered = (x: number): number => {
  const b = new Int32Array(new Float32Array([x]).buffer)[0]!
  return b < 0 ? -0x80000000 - b : b
}

/** Compares float32 outputs within `ulps` (NaN with NaN, infinities and zeros exactly). */
const close = (got: HostArray, want: HostArray, ulps: number, label: string): void => {
  assert.strictEqual(got.length, want.length, label)
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!,
      w = want[i]!
    if (Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w))) continue
    if (Number.isFinite(g) && Number.isFinite(w) && g !== 0 && w !== 0 && Math.abs(ordered(g) - ordered(w)) <= ulps)
      continue
    assert.fail(`${label}: element ${i} is ${g}, the cpu kernel gives ${w}`)
  }
}

/** A plan with its input buffers and garbage-filled output buffers. */
export interface Case {
  readonly plan: Plan
  /** Input buffers, read at the plan's strides. */
  readonly data: ReadonlyArray<HostArray>
}

/** Input buffers of a plan, of the extent its strides span. */
export const inputsOf = (plan: Plan, seed: number, special = false): Array<HostArray> =>
  plan.inputs.map((i, k) => values(i.dtype, extent(plan.shape, i.strides), seed * 31 + k, special))

/** The outputs the cpu reference gives, over buffers prefilled with `garbage` bytes. */
export const reference = (plan: Plan, data: ReadonlyArray<HostArray>, garbage: number): Array<HostArray> => {
  const shape = plan.shape
  const dts = nodeDtypes(plan)
  const full = plan.inputs.map((input, k) => {
    const offs = offsets(shape, input.strides)
    const h = allocHost(input.dtype, offs.length)
    offs.forEach((o, i) => (h[i] = data[k]![o]!))
    return h
  })
  const vals: Array<HostArray> = []
  const o = plan.outputs
  const live = liveNodes(plan.nodes, o.kind === "map" ? o.results.map((r) => r.node) : [o.node])
  plan.nodes.forEach((n, i) => vals.push(live[i] ? evalNode(n, shape, vals, dts, full) : allocHost(dts[i]!, 0)))
  if (o.kind === "map")
    return o.results.map((r) => {
      const h = allocHost(dts[r.node]!, extent(shape, r.strides))
      new Uint8Array(h.buffer).fill(garbage)
      offsets(shape, r.strides).forEach((o, i) => (h[o] = vals[r.node]![i]!))
      return h
    })
  return [run(o.prim, [vals[o.node]!], [aval(shape, dts[o.node]!)], { axes: o.axes })[0]!]
}

/** The output buffers of a plan, prefilled with `garbage` bytes. */
const outputBuffers = (plan: Plan, garbage: number): Array<HostArray> => {
  const dts = nodeDtypes(plan)
  const o = plan.outputs
  const hs =
    o.kind === "map"
      ? o.results.map((r) => allocHost(dts[r.node]!, extent(plan.shape, r.strides)))
      : [allocHost(dts[o.node]!, count(plan.shape.filter((_, i) => !o.axes.includes(i))))]
  for (const h of hs) new Uint8Array(h.buffer).fill(garbage)
  return hs
}

/** The layout the generator picks for `plan`. */
export const layoutOfPlan = (plan: Plan): Layout => layoutOf(simplify(plan))

/**
 * Builds `plan`'s module on a fresh runtime and runs it with each of `taskCounts` (outputs among
 * garbage 0x5a and 0xff by turns), comparing every output with the cpu reference. Answers the layout.
 */
export const checkPlan = (
  plan: Plan,
  data: ReadonlyArray<HostArray>,
  label: string,
  taskCounts: ReadonlyArray<number> = [1, 3, 7],
  ulps = 0
): Layout => {
  const s = simplify(plan)
  assert.isTrue(supported(s), `${label} is supported`)
  const layout = layoutOf(s)
  const t = planRuntime()
  const kernel = instantiateKernel(
    0,
    planKey(s, `${layout.kind}${layout.unroll}`),
    (m) => buildModule(m, s, layout),
    t.imports
  )
  const runAll = (args: ReadonlyArray<number>, tasks: number) => {
    const f = kernel.exports["run"]!
    for (let task = 0; task < tasks; task++) f(task, tasks, ...args)
  }
  const n = count(plan.shape)
  const wants = new Map([0x5a, 0xff].map((g) => [g, reference(plan, data, g)]))
  taskCounts.forEach((tasks, round) => {
    const garbage = round % 2 === 0 ? 0x5a : 0xff
    const want = wants.get(garbage)!
    const inputs = data.map((d) => t.place(d, 0x3c))
    const before = inputs.map((p, k) => t.read(p - 32, new Uint8Array(data[k]!.byteLength + 64)))
    const outs = outputBuffers(plan, garbage)
    const ptrs = outs.map((h) => t.place(h, 0xa5))
    runAll(layout.kind === "flat" ? [...inputs, ...ptrs, n] : [...inputs, ...ptrs], tasks)
    inputs.forEach((p, k) =>
      assert.deepStrictEqual(
        t.read(p - 32, new Uint8Array(data[k]!.byteLength + 64)),
        before[k],
        `${label}: input ${k}`
      )
    )
    outs.forEach((h, o) => {
      assert.deepStrictEqual(
        t.guards(ptrs[o]!, h.byteLength),
        new Array(64).fill(0xa5),
        `${label}: wrote past output ${o}`
      )
      const l = `${label} (${tasks} tasks, garbage ${garbage}) output ${o}`
      if (ulps === 0) same(t.read(ptrs[o]!, h), want[o]!, l)
      else close(t.read(ptrs[o]!, h), want[o]!, ulps, l)
    })
  })
  return layout
}

/** Element bytes of a dtype (re-exported for the suites). */
export const elementBytes = bytesOf

/**
 * Runs the plan of one input with that input at the very end of memory, where reading one byte past
 * it traps (the generator promises that no lane reads past an operand), and compares the outputs.
 */
export const checkAtEnd = (plan: Plan, data: HostArray, label: string): void => {
  const s = simplify(plan)
  const layout = layoutOf(s)
  const t = planRuntime()
  const kernel = instantiateKernel(
    0,
    planKey(s, `${layout.kind}${layout.unroll}`),
    (m) => buildModule(m, s, layout),
    t.imports
  )
  const want = reference(plan, [data], 0x5a)
  const outs = outputBuffers(plan, 0x5a)
  const ptrs = outs.map((h) => t.place(h, 0xa5))
  const input = t.placeAtEnd(data)
  const n = count(plan.shape)
  kernel.exports["run"]!(0, 1, ...(layout.kind === "flat" ? [input, ...ptrs, n] : [input, ...ptrs]))
  outs.forEach((h, o) => same(t.read(ptrs[o]!, h), want[o]!, `${label} output ${o}`))
}

/**
 * Builds the module of `planOf(lengths[0])` (a flat map) once and runs it for every length, as one
 * cached module serves arrays of every length, comparing each with its own plan's reference.
 */
export const checkFlatLengths = (planOf: (n: number) => Plan, lengths: ReadonlyArray<number>, label: string): void => {
  const s = simplify(planOf(lengths[0]!))
  const layout = layoutOf(s)
  assert.strictEqual(layout.kind, "flat")
  const t = planRuntime()
  const kernel = instantiateKernel(
    0,
    planKey(s, `${layout.kind}${layout.unroll}`),
    (m) => buildModule(m, s, layout),
    t.imports
  )
  for (const n of lengths) {
    const plan = planOf(n)
    const data = inputsOf(plan, n)
    const want = reference(plan, data, 0x5a)
    const outs = outputBuffers(plan, 0x5a)
    const ptrs = outs.map((h) => t.place(h, 0xa5))
    const inputs = data.map((d) => t.place(d, 0x3c))
    for (let task = 0; task < 2; task++) kernel.exports["run"]!(task, 2, ...inputs, ...ptrs, n)
    outs.forEach((h, o) => {
      assert.deepStrictEqual(t.guards(ptrs[o]!, h.byteLength), new Array(64).fill(0xa5), `${label} ${n}: wrote past`)
      same(t.read(ptrs[o]!, h), want[o]!, `${label} ${n} output ${o}`)
    })
  }
}
