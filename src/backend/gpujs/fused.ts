/**
 * Fused programs (see {@link FusedProgram}) as gpu.js kernels: a whole elementwise chain, read
 * through its inputs' strides, evaluated in one kernel, so the intermediate values never become
 * textures and the chain costs one launch instead of one per primitive.
 *
 * The node code is the per-primitive code of `elementwise.ts`, inlined: each body's locals get the
 * node's suffix, and a body with early returns assigns its node's value under a `done` flag instead
 * (gpu.js kernels have no nested functions to return from). So a fused kernel computes what the
 * chain of single-primitive kernels computes, with the same treatment of NaN, signed zeros and the
 * functions GLSL gets wrong.
 *
 * What compiles is exactly what the single-primitive kernels cover: float32 and bool values (bool as
 * 0/1 floats), the unary, binary, select and conversion primitives that have a body there. A program
 * with an int32 or uint32 value anywhere (integer arithmetic and bit operations are not exact in a
 * float texture), a primitive without a gpu.js body (`rem`, `nextafter`, `is_finite`), a conversion
 * to an integer dtype, a non-finite literal (GLSL has no literal for it), an empty or too large
 * index space, or more than {@link maxKernelArrays} distinct inputs is refused, so `jit` runs its
 * primitives one by one, each where the backend would run it anyway.
 *
 * A `map` program with several outputs becomes one kernel per output (gpu.js's kernel maps do not
 * pipeline in every mode), each computing only the nodes its output needs; they run as one dispatch.
 * A `reduce` program becomes the reduction's passes (`reduce.ts`), the first of which computes the
 * elementwise chain at each element it reads, so nothing of size of the index space is ever stored.
 */
import type { FusedNode, FusedProgram } from "../fusion.ts"
import { normalizeAxes, sizeOf, stridesOf } from "../shape.ts"
import { kernelSource, lit, maxGpuElements, offsets } from "./codegen.ts"
import { binaryBody, selectBody, toBoolBody, unaryBody } from "./elementwise.ts"
import type { Step } from "./plan.ts"
import { StepChain } from "./plan.ts"
import { onDevice } from "./planners.ts"
import { combineOf, pushReduceOf } from "./reduce.ts"

/**
 * Most arrays one fused kernel reads: every array is a texture unit in the GL modes, and WebGL
 * guarantees 16 of them per shader.
 */
export const maxKernelArrays = 15

/**
 * Most arrays one fused kernel reads on WebGPU: it guarantees 8 storage buffers per shader stage,
 * and the output is one of them.
 */
export const maxWebgpuKernelArrays = 7

/**
 * A fused program's kernels: the steps to launch (values are the program's inputs first, then
 * each step's output, as in a {@link Plan}) and which values are the program's outputs.
 */
export interface FusedPlan {
  readonly _tag: "FusedPlan"
  readonly steps: ReadonlyArray<Step>
  readonly outputs: ReadonlyArray<number>
}

/** Why a program does not compile on gpu.js. */
export interface Unsupported {
  readonly _tag: "Unsupported"
  readonly reason: string
}

const unsupported = (reason: string): Unsupported => ({ _tag: "Unsupported", reason })

/** Node `k`'s value in generated code. */
const nodeName = (k: number): string => `n${k}`

// An identifier not after a dot or another identifier character: locals and `v0`, not `Math.exp`.
const identifier = /(?<![\w.])[A-Za-z_]\w*/g
const declared = /\b(?:let|const) ([A-Za-z_]\w*)/g

/**
 * `body` (statements reading `v0, v1, ...` and returning the result) as statements declaring node
 * `k`'s value from `args`. Its locals are suffixed with `_k`, so bodies inlined side by side do not
 * collide. A single `return e;` becomes `const n_k = e;`; a body with several returns assigns the
 * first return reached and ignores the later ones through a done flag.
 */
const inlineBody = (body: string, args: ReadonlyArray<string>, k: number): string => {
  const locals = new Set([...body.matchAll(declared)].map((m) => m[1]!))
  const renamed = body.replace(identifier, (id) => {
    const v = /^v(\d)$/.exec(id)
    if (v !== null) {
      const arg = args[Number(v[1])]
      if (arg === undefined) throw new RangeError(`a body reads ${id} but has ${args.length} operands`)
      return arg
    }
    return locals.has(id) ? `${id}_${k}` : id
  })
  const out = nodeName(k)
  const single = /^return ([^;]+);$/.exec(renamed.trim())
  if (single !== null) return `const ${out} = ${single[1]};`
  const done = `done_${k}`
  const assigned = renamed.replace(
    /return ([^;]+);/g,
    (_, e: string) => `if (${done} < 0.5) { ${out} = ${e}; ${done} = 1.0; }`
  )
  return `let ${out} = 0.0;\nlet ${done} = 0.0;\n${assigned}`
}

/** The statements computing one node from earlier nodes' values, or why it cannot run here. */
const nodeCode = (program: FusedProgram, k: number, read: (input: number) => string): string | Unsupported => {
  const node: FusedNode = program.nodes[k]!
  const dtypeOf = (j: number): string => program.nodes[j]!.dtype
  const apply = (body: string | undefined, args: ReadonlyArray<number>, what: string): string | Unsupported =>
    body === undefined ? unsupported(`${what} has no gpu.js kernel`) : inlineBody(body, args.map(nodeName), k)
  switch (node.kind) {
    case "input":
      return `const ${nodeName(k)} = ${read(node.input)};`
    case "literal": {
      if (!Number.isFinite(node.value)) return unsupported(`the literal ${node.value} has no GLSL spelling`)
      const value = node.dtype === "bool" ? (node.value !== 0 ? 1 : 0) : Math.fround(node.value)
      return `const ${nodeName(k)} = ${lit(value)};`
    }
    case "unary":
      return apply(unaryBody(node.prim, dtypeOf(node.arg)), [node.arg], `${node.prim} on ${dtypeOf(node.arg)}`)
    case "round":
      return apply(unaryBody("round", dtypeOf(node.arg), node.method), [node.arg], `round on ${dtypeOf(node.arg)}`)
    case "binary": {
      const [a, b] = node.args
      if (dtypeOf(a) !== dtypeOf(b)) return unsupported(`${node.prim} of ${dtypeOf(a)} and ${dtypeOf(b)}`)
      return apply(binaryBody(node.prim, dtypeOf(a)), node.args, `${node.prim} on ${dtypeOf(a)}`)
    }
    case "select": {
      const [p, t, f] = node.args
      if (dtypeOf(p) !== "bool" || dtypeOf(t) !== node.dtype || dtypeOf(f) !== node.dtype)
        return unsupported("select with mismatched dtypes")
      return apply(selectBody, node.args, "select")
    }
    case "convert": {
      const from = dtypeOf(node.arg)
      // bool is 0/1 in a float, so bool → float32 keeps the value.
      if (from === node.dtype || (from === "bool" && node.dtype === "float32"))
        return `const ${nodeName(k)} = ${nodeName(node.arg)};`
      if (from === "float32" && node.dtype === "bool") return apply(toBoolBody, [node.arg], "float32 → bool")
      return unsupported(`a conversion from ${from} to ${node.dtype}`)
    }
  }
}

/** Nodes `roots` depend on (themselves included), in evaluation order. */
const closure = (program: FusedProgram, roots: ReadonlyArray<number>): Array<number> => {
  const needed = new Set<number>()
  const visit = (k: number): void => {
    if (needed.has(k)) return
    needed.add(k)
    const node = program.nodes[k]!
    switch (node.kind) {
      case "input":
      case "literal":
        return
      case "unary":
      case "round":
      case "convert":
        return visit(node.arg)
      case "binary":
      case "select":
        return node.args.forEach(visit)
    }
  }
  roots.forEach(visit)
  return [...needed].sort((a, b) => a - b)
}

/** Why a program is malformed or outside what gpu.js kernels hold, if it is. */
const check = (program: FusedProgram): Unsupported | undefined => {
  const n = sizeOf(program.shape)
  if (n === 0 || n > maxGpuElements) return unsupported(`an index space of ${n} elements`)
  for (const [k, input] of program.inputs.entries()) {
    if (!onDevice(input.dtype)) return unsupported(`input ${k} is ${input.dtype}, which stays on the host`)
    if (input.strides.length !== program.shape.length) return unsupported(`input ${k} has strides of the wrong rank`)
    if (input.size === 0 || input.size > maxGpuElements) return unsupported(`input ${k} has ${input.size} elements`)
  }
  for (const [k, node] of program.nodes.entries()) {
    if (!onDevice(node.dtype)) return unsupported(`node ${k} is ${node.dtype}, which stays on the host`)
    const args =
      node.kind === "input" || node.kind === "literal"
        ? []
        : node.kind === "binary" || node.kind === "select"
          ? node.args
          : [node.arg]
    if (args.some((a) => !Number.isInteger(a) || a < 0 || a >= k))
      return unsupported(`node ${k} reads a node that is not before it`)
    if (node.kind === "input" && program.inputs[node.input] === undefined)
      return unsupported(`node ${k} reads a missing input`)
  }
  const outs = program.outputs.kind === "map" ? program.outputs.nodes : [program.outputs.node]
  if (outs.length === 0 || outs.some((o) => !Number.isInteger(o) || o < 0 || o >= program.nodes.length))
    return unsupported("outputs name missing nodes")
  return undefined
}

/** The program inputs the nodes `needed` read, in argument order. */
const inputsOf = (program: FusedProgram, needed: ReadonlyArray<number>): Array<number> => {
  const used = new Set<number>()
  for (const k of needed) {
    const node = program.nodes[k]!
    if (node.kind === "input") used.add(node.input)
  }
  return [...used].sort((a, b) => a - b)
}

/** Statements computing the nodes `needed`, each input `args[a]` read at index expression `at[a]`. */
const nodesCode = (
  program: FusedProgram,
  needed: ReadonlyArray<number>,
  args: ReadonlyArray<number>,
  at: ReadonlyArray<string>
): string | Unsupported => {
  const lines: Array<string> = []
  for (const k of needed) {
    const code = nodeCode(program, k, (input) => `x${args.indexOf(input)}[${at[args.indexOf(input)]}]`)
    if (typeof code !== "string") return code
    lines.push(code)
  }
  return lines.join("\n")
}

/** One kernel computing node `out` at every position of the index space. */
const mapStep = (program: FusedProgram, out: number, maxArrays: number): Step | Unsupported => {
  const needed = closure(program, [out])
  const args = inputsOf(program, needed)
  if (args.length > maxArrays) return unsupported(`${args.length} input arrays in one kernel`)
  const shape = program.shape
  const n = sizeOf(shape)
  const contiguous = stridesOf(shape)
  const lines: Array<string> = []
  const strided: Array<number> = []
  args.forEach((input, a) => {
    const { strides } = program.inputs[input]!
    // Size-1 axes never move an index, whatever their stride says.
    const moves = (d: number): boolean => shape[d] !== 1
    if (strides.every((s, d) => !moves(d) || s === 0)) lines.push(`let j${a} = 0.0;`)
    else if (strides.every((s, d) => !moves(d) || s === contiguous[d])) lines.push(`let j${a} = i;`)
    else strided.push(a)
  })
  if (strided.length > 0) {
    lines.push(
      offsets(
        "i",
        shape,
        strided.map((a) => program.inputs[args[a]!]!.strides),
        strided.map((a) => `j${a}`)
      )
    )
  }
  const code = nodesCode(
    program,
    needed,
    args,
    args.map((_, a) => `j${a}`)
  )
  if (typeof code !== "string") return code
  lines.push(code, `return ${nodeName(out)};`)
  return { source: kernelSource(args.length, lines.join("\n")), size: n, args }
}

/**
 * The gpu.js kernels of a fused program, or why it cannot run as one dispatch here. `maxArrays` is
 * the most input arrays one kernel may read: {@link maxKernelArrays} in the GL modes,
 * {@link maxWebgpuKernelArrays} on WebGPU; a program reading more runs op by op.
 * @category fusion
 */
export const planFused = (program: FusedProgram, maxArrays: number = maxKernelArrays): FusedPlan | Unsupported => {
  const bad = check(program)
  if (bad !== undefined) return bad
  const outputs = program.outputs
  if (outputs.kind === "map") {
    const steps: Array<Step> = []
    for (const out of outputs.nodes) {
      const step = mapStep(program, out, maxArrays)
      if ("_tag" in step) return step
      steps.push(step)
    }
    return { _tag: "FusedPlan", steps, outputs: steps.map((_, s) => program.inputs.length + s) }
  }
  const dtype = program.nodes[outputs.node]!.dtype
  const c = combineOf(outputs.prim, dtype)
  if (c === undefined) return unsupported(`${outputs.prim} on ${dtype} has no gpu.js kernel`)
  let axes: Array<number>
  try {
    axes = normalizeAxes(outputs.prim, outputs.axes, program.shape.length).sort((a, b) => a - b)
  } catch (e) {
    return unsupported(e instanceof Error ? e.message : String(e))
  }
  if (axes.length === 0) {
    const step = mapStep(program, outputs.node, maxArrays)
    return "_tag" in step ? step : { _tag: "FusedPlan", steps: [step], outputs: [program.inputs.length] }
  }
  const needed = closure(program, [outputs.node])
  const args = inputsOf(program, needed)
  if (args.length > maxArrays) return unsupported(`${args.length} input arrays in one kernel`)
  // Checked once here, so the source callback below cannot fail.
  const probe = nodesCode(
    program,
    needed,
    args,
    args.map(() => "0.0")
  )
  if (typeof probe !== "string") return probe
  const chain = new StepChain(program.inputs.length)
  const result = pushReduceOf(
    chain,
    {
      args,
      shape: program.shape,
      strides: args.map((input) => program.inputs[input]!.strides),
      value: (at) => `${nodesCode(program, needed, args, at) as string}\nlet v = ${nodeName(outputs.node)};`
    },
    axes,
    c
  )
  const plan = chain.plan()
  if (plan._tag !== "Kernels") return unsupported("a reduction planned no kernels")
  return { _tag: "FusedPlan", steps: plan.steps, outputs: [result] }
}
