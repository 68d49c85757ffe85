/**
 * The reference semantics of {@link FusedProgram}: what every backend's compiled fused kernel must
 * compute, written for reading rather than speed.
 *
 * Each node is evaluated over the whole index space by the cpu backend's own kernel for its
 * primitive (inputs are first gathered through their strides into the program's shape), so a fused
 * program means exactly what the unfused chain of primitives means on cpu: every node's value is
 * rounded or wrapped to its dtype before the next node reads it, and a reduction walks its input in
 * row-major order with the cpu kernel's accumulators. Nothing is re-implemented here, so the two
 * cannot drift apart.
 *
 * {@link makeFusingCpu} is a cpu backend whose `compileFused` runs this reference as one dispatch:
 * the fusion tests count dispatches on it, and other backends' kernels are compared against it.
 *
 * @since 0.2.0
 */
import type { BackendImpl, CpuBuffer, DeviceBuffer } from "./BackendImpl.ts"
import { countDispatch } from "./BackendImpl.ts"
import { makeCpu } from "./cpu/Cpu.ts"
import { allocHost } from "./DType.ts"
import type { Aval, DType, HostArray } from "./DType.ts"
import type { FusedNode, FusedProgram } from "./fusion.ts"
import type { FirstOrderPrimitive, Params } from "./Primitive.ts"
import { normalizeAxes, sizeOf, stridesOf } from "./shape.ts"
import type { CpuKernel } from "./cpu/kernel.ts"
import { cpuKernels } from "./cpu/kernels.ts"
import { copyStrided } from "./cpu/stridedRows.ts"

const runKernel = <P extends FirstOrderPrimitive>(
  prim: P,
  inputs: ReadonlyArray<HostArray>,
  inAvals: ReadonlyArray<Aval>,
  outAval: Aval,
  params: Params<P>
): HostArray => (cpuKernels[prim] as CpuKernel<P>)(inputs, inAvals, [outAval], params)[0]!

const checkProgram = (program: FusedProgram, inputs: ReadonlyArray<HostArray>): void => {
  const fail = (reason: string): never => {
    throw new TypeError(`fused program: ${reason}`)
  }
  if (inputs.length !== program.inputs.length) fail(`expected ${program.inputs.length} inputs, got ${inputs.length}`)
  program.inputs.forEach((input, k) => {
    if (input.strides.length !== program.shape.length)
      fail(`input ${k} has ${input.strides.length} strides for a rank-${program.shape.length} space`)
    if (input.dtype === "key<fry>") fail(`input ${k} holds PRNG keys, which are never fused`)
    if (inputs[k]!.length !== input.size)
      fail(`input ${k} has ${inputs[k]!.length} elements, the program says ${input.size}`)
  })
  const before = (i: number, arg: number): void => {
    if (!Number.isInteger(arg) || arg < 0 || arg >= i) fail(`node ${i} reads node ${arg}, which is not an earlier node`)
  }
  program.nodes.forEach((node, i) => {
    switch (node.kind) {
      case "input":
        if (node.input < 0 || node.input >= program.inputs.length) fail(`node ${i} reads missing input ${node.input}`)
        return
      case "literal":
        return
      case "unary":
      case "round":
      case "convert":
        return before(i, node.arg)
      case "binary":
      case "select":
        return node.args.forEach((a) => before(i, a))
    }
  })
  const outs = program.outputs.kind === "map" ? program.outputs.nodes : [program.outputs.node]
  for (const o of outs) before(program.nodes.length, o)
}

/**
 * Evaluates a fused program on host data (each input in its dtype's storage), returning its outputs:
 * one array per `map` node over the whole space, or the one reduced array.
 * @category fusion
 * @since 0.2.0
 */
export const evaluateFused = (program: FusedProgram, inputs: ReadonlyArray<HostArray>): Array<HostArray> => {
  checkProgram(program, inputs)
  const shape = program.shape
  const n = sizeOf(shape)
  const contiguous = stridesOf(shape)
  const aval = (dtype: DType): Aval => ({ shape, dtype, weakType: false })
  const values: Array<HostArray> = []
  const dtypes: Array<DType> = []
  const evalNode = (node: FusedNode): HostArray => {
    switch (node.kind) {
      case "input": {
        const input = program.inputs[node.input]!
        const out = allocHost(input.dtype, n)
        copyStrided(shape, out, contiguous, 0, inputs[node.input]!, input.strides, 0)
        return out
      }
      case "literal":
        return allocHost(node.dtype, n).fill(node.value)
      case "unary":
        return runKernel(node.prim, [values[node.arg]!], [aval(dtypes[node.arg]!)], aval(node.dtype), {})
      case "round":
        return runKernel("round", [values[node.arg]!], [aval(dtypes[node.arg]!)], aval(node.dtype), {
          method: node.method
        })
      case "binary": {
        const [a, b] = node.args
        return runKernel(
          node.prim,
          [values[a]!, values[b]!],
          [aval(dtypes[a]!), aval(dtypes[b]!)],
          aval(node.dtype),
          {}
        )
      }
      case "select": {
        const [p, t, f] = node.args
        return runKernel(
          "select",
          [values[p]!, values[t]!, values[f]!],
          [aval(dtypes[p]!), aval(dtypes[t]!), aval(dtypes[f]!)],
          aval(node.dtype),
          {}
        )
      }
      case "convert":
        return runKernel("convert_element_type", [values[node.arg]!], [aval(dtypes[node.arg]!)], aval(node.dtype), {
          newDtype: node.dtype,
          weakType: false
        })
    }
  }
  for (const node of program.nodes) {
    values.push(evalNode(node))
    dtypes.push(node.dtype)
  }
  const outputs = program.outputs
  if (outputs.kind === "map") return outputs.nodes.map((i) => values[i]!)
  const axes = normalizeAxes(outputs.prim, outputs.axes, shape.length)
  const dtype = dtypes[outputs.node]!
  const outAval: Aval = { shape: shape.filter((_, i) => !axes.includes(i)), dtype, weakType: false }
  return [runKernel(outputs.prim, [values[outputs.node]!], [aval(dtype)], outAval, { axes })]
}

/**
 * A cpu backend that fuses: its `compileFused` runs {@link evaluateFused} as one dispatch, counted
 * under `"fused"`. For tests of `jit`'s fusion, and as the reference other backends are checked against.
 * @category constructors
 * @since 0.2.0
 */
export const makeFusingCpu = (): BackendImpl => {
  const base = makeCpu()
  const data = (b: DeviceBuffer): HostArray => {
    if (b.backend !== "cpu") throw new TypeError(`cpu backend: got a buffer of backend ${b.backend}`)
    return (b as CpuBuffer).data
  }
  return {
    ...base,
    compileFused: (program) => (inputs) => {
      countDispatch(base.stats, "fused")
      return evaluateFused(program, inputs.map(data)).map((d): CpuBuffer => ({ backend: "cpu", data: d }))
    }
  }
}
