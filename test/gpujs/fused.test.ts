/**
 * The gpujs backend's fused kernels, on every gpu.js mode that starts here: hand-built fused programs
 * (broadcast and transposed inputs, literals, compare, select, convert, the functions written out for
 * GLSL, reductions short and long) give the reference evaluator's answers to float32 tolerance in
 * one dispatch, keep their results on the device, and release them like any other kernel's; what a
 * float texture cannot hold exactly (integers, bit operations) is refused so it runs unfused; and a
 * jitted elementwise chain runs as one fused dispatch.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Backend, jit, jnp } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import type { Aval, DType, HostArray } from "../../src/backend/DType.ts"
import type { FusedNode, FusedProgram } from "../../src/backend/fusion.ts"
import { evaluateFused } from "../../src/backend/fusionReference.ts"
import { chain, fusedCases, input, w, webglFusedCases, x, y, z } from "../support/fusedCases.ts"
import { eachGpujs, gpujsTolerance } from "./backends.ts"

/** Element-wise closeness with NaN equal to NaN and infinities equal to themselves. */
const assertClose = (
  got: HostArray,
  want: HostArray,
  what: string,
  tol: { readonly atol: number; readonly rtol: number } = gpujsTolerance
): void => {
  assert.strictEqual(got.length, want.length, `${what}: length`)
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!,
      w = want[i]!
    if (Number.isNaN(w)) assert.isTrue(Number.isNaN(g), `${what}[${i}]: ${g}, expected NaN`)
    else if (!Number.isFinite(w)) assert.strictEqual(g, w, `${what}[${i}]`)
    else assert.isAtMost(Math.abs(g - w), tol.atol + tol.rtol * Math.abs(w), `${what}[${i}]: ${g} vs ${w}`)
  }
}

/** A one-input program computing `node` of a `dtype` input. */
const unaryProgram = (dtype: DType, node: FusedNode): FusedProgram => ({
  shape: [4],
  inputs: [input(dtype, [1], 4)],
  nodes: [{ kind: "input", input: 0, dtype }, node],
  outputs: { kind: "map", nodes: [1] }
})

const refused: ReadonlyArray<readonly [string, FusedProgram]> = [
  [
    "uint32 bit operations",
    { ...unaryProgram("uint32", { kind: "binary", prim: "xor", args: [0, 0], dtype: "uint32" }) }
  ],
  ["int32 arithmetic", unaryProgram("int32", { kind: "binary", prim: "add", args: [0, 0], dtype: "int32" })],
  ["a conversion to int32", unaryProgram("float32", { kind: "convert", arg: 0, dtype: "int32" })],
  [
    "rem (not exact in float arithmetic)",
    unaryProgram("float32", { kind: "binary", prim: "rem", args: [0, 0], dtype: "float32" })
  ],
  ["is_finite", unaryProgram("float32", { kind: "unary", prim: "is_finite", arg: 0, dtype: "bool" })],
  [
    "a non-finite literal",
    {
      shape: [4],
      inputs: [input("float32", [1], 4)],
      nodes: [
        { kind: "input", input: 0, dtype: "float32" },
        { kind: "literal", value: -Infinity, dtype: "float32" },
        { kind: "binary", prim: "max", args: [0, 1], dtype: "float32" }
      ],
      outputs: { kind: "map", nodes: [2] }
    }
  ],
  [
    "a reduction of int32 values",
    {
      shape: [4],
      inputs: [input("int32", [1], 4)],
      nodes: [{ kind: "input", input: 0, dtype: "int32" }],
      outputs: { kind: "reduce", node: 0, prim: "reduce_sum", axes: [0] }
    }
  ],
  [
    "more input arrays than a shader has texture units",
    {
      shape: [4],
      inputs: Array.from({ length: 16 }, () => input("float32", [1], 4)),
      nodes: [
        ...Array.from({ length: 16 }, (_, k): FusedNode => ({ kind: "input", input: k, dtype: "float32" })),
        ...Array.from(
          { length: 15 },
          (_, k): FusedNode => ({ kind: "binary", prim: "add", args: [k === 0 ? 0 : 15 + k, k + 1], dtype: "float32" })
        )
      ],
      outputs: { kind: "map", nodes: [30] }
    }
  ]
]

const avalOf = (data: HostArray, dtype: DType): Aval => ({ shape: [data.length], dtype, weakType: false })

const outAvals = (p: FusedProgram, want: ReadonlyArray<HostArray>): Array<Aval> => {
  const nodes = p.outputs.kind === "map" ? p.outputs.nodes : [p.outputs.node]
  return want.map((d, k) => avalOf(d, p.nodes[nodes[k]!]!.dtype))
}

describe.each(eachGpujs)("fused kernels on %s", (label, candidate) => {
  const b = candidate.backend
  if (b === undefined) {
    it.skip(`${label} does not start here: ${candidate.reason}`, () => {})
    return
  }

  it("a tidy around a jitted function's first call spares the compiled plan's constants", () => {
    Backend.withBackend(b, () => {
      const f = jit((v: JArray) => v.mul(jnp.array([1, 2, 3], { dtype: "float32" })).add(1))
      const v = jnp.array([1, 1, 1], { dtype: "float32" })
      const first = b.tidy(() => f(v)).tolist()
      assert.deepStrictEqual(first, [2, 3, 4])
      assert.deepStrictEqual(f(v).tolist(), [2, 3, 4])
    })
  })

  // GLSL need not keep NaN or signed zeros (headless-gl on ANGLE does not): GL modes get the cases without them.
  const cases = label === "gpujs:headlessgl" ? webglFusedCases : fusedCases
  for (const { name, program, inputs: hostInputs } of cases) {
    it(`${name}: the reference's answer in one dispatch, left on the device`, () => {
      const want = evaluateFused(program, hostInputs)
      const kernel = b.compileFused?.(program)
      assert.isDefined(kernel, "gpujs compiles the program")
      const ins = hostInputs.map((d, k) => b.upload(d, avalOf(d, program.inputs[k]!.dtype)))
      const fused = b.stats.byPrimitive.get("fused") ?? 0
      const dispatches = b.stats.dispatches
      const downloads = b.gpuStats.downloads
      const cpuOps = [...b.gpuStats.cpuOps.values()].reduce((s, n) => s + n, 0)
      const live = b.gpuStats.memory.liveStorages
      const avals = outAvals(program, want)
      const outs = kernel!(ins, avals)
      assert.strictEqual(b.stats.byPrimitive.get("fused"), fused + 1)
      assert.strictEqual(b.stats.dispatches, dispatches + 1)
      assert.strictEqual(b.gpuStats.downloads, downloads, "results stay on the device")
      assert.strictEqual(
        [...b.gpuStats.cpuOps.values()].reduce((s, n) => s + n, 0),
        cpuOps,
        "nothing ran on the cpu kernels"
      )
      assert.strictEqual(b.gpuStats.kernelErrors, 0)
      assert.strictEqual(outs.length, want.length)
      assert.strictEqual(b.gpuStats.memory.liveStorages, live + want.length)
      outs.forEach((o, k) => assertClose(b.download(o, avals[k]!), want[k]!, `${name} #${k}`))
      for (const o of [...outs, ...ins]) b.dispose(o)
      assert.strictEqual(b.gpuStats.memory.liveStorages, live - ins.length)
    })
  }

  it("refuses what float kernels cannot compute exactly, so it runs unfused", () => {
    for (const [name, program] of refused) assert.isUndefined(b.compileFused?.(program), name)
  })

  it("gives each call of a fused kernel its own outputs", () => {
    const kernel = b.compileFused!(chain)!
    const ins = [x, y, z, w].map((d) => b.upload(d, avalOf(d, "float32")))
    const [first] = kernel(ins, [avalOf(x, "float32")])
    const [second] = kernel(ins, [avalOf(x, "float32")])
    b.dispose(first!)
    assertClose(b.download(second!, avalOf(x, "float32")), evaluateFused(chain, [x, y, z, w])[0]!, "second call")
    for (const o of [second!, ...ins]) b.dispose(o)
  })

  it("runs a jitted elementwise chain as one fused dispatch, with the cpu backend's answer", () => {
    const f = jit((a: JArray, c: JArray) => jnp.tanh(a.mul(c).add(0.5)).sub(jnp.exp(a).mul(0.25)))
    const run = () => {
      const a = jnp.linspace(-2, 2, 60).reshape(3, 4, 5)
      const c = jnp.linspace(0.5, 1.5, 4).reshape(4, 1)
      f(a, c) // compiles the plan outside the count
      Backend.resetStats(Backend.currentBackend())
      const out = f(a, c)
      const stats = Backend.currentBackend().stats
      return {
        out: Array.from(out.dataSync() as Float32Array),
        dispatches: stats.dispatches,
        fused: stats.byPrimitive.get("fused") ?? 0
      }
    }
    const got = Backend.withBackend(b, run)
    assert.strictEqual(got.fused, 1, "one fused kernel")
    assert.strictEqual(got.dispatches, 1, "and nothing else")
    const want = Backend.withBackend(Backend.cpu, run)
    assertClose(Float32Array.from(got.out), Float32Array.from(want.out), "jitted chain")
  })

  it("runs a jitted chain feeding a reduction as one fused dispatch", () => {
    const f = jit((a: JArray) => jnp.sum(jnp.square(jnp.sin(a).sub(0.5)), 1))
    const run = () => {
      const a = jnp.linspace(-3, 3, 600).reshape(20, 30)
      f(a)
      Backend.resetStats(Backend.currentBackend())
      const out = f(a)
      const stats = Backend.currentBackend().stats
      return {
        out: Array.from(out.dataSync() as Float32Array),
        dispatches: stats.dispatches,
        fused: stats.byPrimitive.get("fused") ?? 0
      }
    }
    const got = Backend.withBackend(b, run)
    assert.strictEqual(got.fused, 1)
    assert.strictEqual(got.dispatches, 1)
    assertClose(
      Float32Array.from(got.out),
      Float32Array.from(Backend.withBackend(Backend.cpu, run).out),
      "jitted reduction",
      { atol: 1e-5, rtol: 1e-5 }
    )
  })
})

/**
 * A gpu.js whose fused kernels (their sources name nodes `n0, n1, ...`; single-primitive kernels
 * read `v0, v1, ...`) fail at run time, as a broken driver would.
 */
const failingFusedGpuJs = async (): Promise<Backend.GpuJs> => {
  const real = Backend.asGpuJs(await import("gpu.js"))!
  class Failing extends (real.GPU as unknown as new (
    settings?: object
  ) => { createKernel(source: string, settings: object): unknown }) {
    override createKernel(source: string, settings: object): unknown {
      const kernel = super.createKernel(source, settings)
      if (!/const n\d+ = /.test(source)) return kernel
      return Object.assign(
        () => {
          throw new Error("simulated driver failure")
        },
        { destroy: () => {} }
      )
    }
  }
  return Backend.asGpuJs({ GPU: Failing }) ?? real
}

describe("fused kernel failures", () => {
  const hostInputs = [x, y, z, w]
  const avals = [avalOf(x, "float32")]

  it.effect("run the program on the cpu kernels, reported once, with the reference's answer", () =>
    Effect.gen(function* () {
      const logged: Array<string> = []
      const gpujs = yield* Effect.promise(failingFusedGpuJs)
      const b = yield* Backend.makeGpujs({ mode: "cpu", gpujs, log: (m) => logged.push(m) })
      const kernel = b.compileFused!(chain)!
      const ins = hostInputs.map((d) => b.upload(d, avalOf(d, "float32")))
      const want = evaluateFused(chain, hostInputs)[0]!
      for (let call = 0; call < 2; call++) {
        const [out] = kernel(ins, avals)
        assert.deepStrictEqual(Array.from(b.download(out!, avals[0]!)), Array.from(want))
        b.dispose(out!)
      }
      assert.strictEqual(logged.length, 1)
      assert.match(logged[0]!, /fused.*simulated driver failure/)
      assert.strictEqual(b.gpuStats.kernelErrors, 1)
      assert.strictEqual(b.stats.byPrimitive.get("fused"), 2)
      b.destroy()
    })
  )

  it.effect("throw a GpuKernelError with onKernelError: fail", () =>
    Effect.gen(function* () {
      const gpujs = yield* Effect.promise(failingFusedGpuJs)
      const b = yield* Backend.makeGpujs({ mode: "cpu", gpujs, onKernelError: "fail" })
      const kernel = b.compileFused!(chain)!
      const ins = hostInputs.map((d) => b.upload(d, avalOf(d, "float32")))
      assert.throws(() => kernel(ins, avals), Backend.GpuKernelError)
      b.destroy()
    })
  )
})
