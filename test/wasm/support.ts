/**
 * What the wasm kernel suites share: the backends they compare (the cpu reference, and wasm with one
 * and two threads, closed after the file) and a small seeded generator, so a failing case reproduces.
 */
import { afterAll } from "vitest"
import { Backend } from "effect-nnx"
import type { DType } from "effect-nnx"
import type { Aval, HostArray } from "../../src/backend/DType.ts"
import { abstractEval } from "../../src/backend/Primitive.ts"
import type { FirstOrderPrimitive, Params } from "../../src/backend/Primitive.ts"

/** The cpu reference and wasm backends with 1 and 2 threads; their worker threads end after the file. */
export const kernelBackends = () => {
  const cpu = Backend.makeCpu()
  const wasm1 = Backend.makeWasm({ threads: 1 })
  const wasm2 = Backend.makeWasm({ threads: 2 })
  afterAll(() => {
    wasm1.close()
    wasm2.close()
  })
  return { cpu, wasm1, wasm2 }
}

export { mulberry32 } from "./seeded.ts"

/** Elements of a shape. */
export const size = (shape: ReadonlyArray<number>): number => shape.reduce((a, b) => a * b, 1)

/** A strong-typed aval. */
export const aval = (shape: ReadonlyArray<number>, dtype: DType): Aval => ({ shape, dtype, weakType: false })

/** Runs one primitive on `backend`, returning copies of its outputs (the outputs themselves are disposed). */
export const run = <P extends FirstOrderPrimitive>(
  backend: Backend.BackendImpl,
  prim: P,
  data: ReadonlyArray<HostArray>,
  avals: ReadonlyArray<Aval>,
  params: Params<P>
): Array<HostArray> => {
  const outAvals = abstractEval[prim](avals, params)
  const outs = backend.execute(
    prim,
    data.map((d, i) => backend.upload(d, avals[i]!)),
    avals,
    outAvals,
    params
  )
  return outs.map((o, i) => {
    const host = backend.download(o, outAvals[i]!).slice()
    backend.dispose(o)
    return host
  })
}
