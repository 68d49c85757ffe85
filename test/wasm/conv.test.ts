/**
 * The wasm `conv_general_dilated` (im2col into the packed GEMM) and `reduce_window` kernels against
 * the cpu reference kernels, over random layouts, strides, paddings (negative included), dilations and
 * groups, on one and two threads; neither may fall back to the cpu kernel for float32.
 */
import { assert, describe } from "@effect/vitest"
import { fc, test } from "@fast-check/vitest"
import { convDimensionNumbers } from "../../src/backend/conv.ts"
import type { ConvParams, ReduceWindowParams } from "../../src/backend/conv.ts"
import { aval, kernelBackends, mulberry32, run, size } from "./support.ts"

const { cpu, wasm1, wasm2 } = kernelBackends()

const data = (n: number, seed: number, ties: boolean): Float32Array => {
  const rnd = mulberry32(seed)
  return Float32Array.from({ length: n }, () => (ties ? Math.round((rnd() - 0.5) * 6) : (rnd() - 0.5) * 4))
}

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number, label: string): void => {
  assert.strictEqual(got.length, want.length, label)
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(got[i]! - want[i]!) > tol * (1 + Math.abs(want[i]!)))
      assert.fail(`${label}: element ${i} is ${got[i]}, the cpu kernel gives ${want[i]}`)
  }
}

const layouts = [
  ["NHWC", "HWIO", "NHWC"],
  ["NCHW", "OIHW", "NCHW"],
  ["HNCW", "IOWH", "CWNH"]
] as const

const convConfig = fc.record({
  layout: fc.integer({ min: 0, max: 2 }),
  n: fc.integer({ min: 1, max: 4 }),
  h: fc.integer({ min: 1, max: 6 }),
  w: fc.integer({ min: 1, max: 6 }),
  i: fc.integer({ min: 1, max: 3 }),
  og: fc.integer({ min: 1, max: 3 }),
  groups: fc.integer({ min: 1, max: 2 }),
  batchGroups: fc.boolean(),
  k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 })),
  lhsDilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  rhsDilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  padding: fc.tuple(
    fc.tuple(fc.integer({ min: -1, max: 2 }), fc.integer({ min: 0, max: 2 })),
    fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: -1, max: 2 }))
  ),
  seed: fc.integer({ min: 0, max: 1 << 20 })
})

describe("wasm conv_general_dilated equals the cpu kernel", () => {
  test.prop([convConfig], { numRuns: 80 })("random configurations", (c) => {
    const dn = convDimensionNumbers(4, layouts[c.layout]!)
    const G = c.groups
    const fg = c.batchGroups ? 1 : G,
      bg = c.batchGroups ? G : 1
    const C = c.batchGroups ? c.i : G * c.i,
      O = G * c.og,
      N = c.batchGroups ? G * c.n : c.n
    const lhsShape = new Array<number>(4),
      rhsShape = new Array<number>(4)
    ;[N, C, c.h, c.w].forEach((d, k) => (lhsShape[dn.lhsSpec[k]!] = d))
    ;[O, c.batchGroups ? C : c.i, ...c.k].forEach((d, k) => (rhsShape[dn.rhsSpec[k]!] = d))
    const params: ConvParams = {
      windowStrides: c.strides,
      padding: c.padding,
      lhsDilation: c.lhsDilation,
      rhsDilation: c.rhsDilation,
      dimensionNumbers: dn,
      featureGroupCount: fg,
      batchGroupCount: bg
    }
    const ins = [data(size(lhsShape), c.seed, false), data(size(rhsShape), c.seed + 1, false)]
    const avals = [aval(lhsShape, "float32"), aval(rhsShape, "float32")]
    const want = run(cpu, "conv_general_dilated", ins, avals, params)[0]!
    for (const b of [wasm1, wasm2])
      close(run(b, "conv_general_dilated", ins, avals, params)[0]!, want, 1e-5, `${b.name}`)
    assert.isUndefined(wasm1.stats.fallbacks.get("conv_general_dilated"))
    assert.isUndefined(wasm2.stats.fallbacks.get("conv_general_dilated"))
  })
})

const windowConfig = fc
  .record({
    shape: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
    computation: fc.constantFrom("add" as const, "max" as const, "min" as const),
    seed: fc.integer({ min: 0, max: 1 << 20 })
  })
  .chain((c) =>
    fc.record({
      c: fc.constant(c),
      window: fc.tuple(...c.shape.map(() => fc.integer({ min: 1, max: 3 }))),
      strides: fc.tuple(...c.shape.map(() => fc.integer({ min: 1, max: 3 }))),
      base: fc.tuple(...c.shape.map(() => fc.integer({ min: 1, max: 2 }))),
      dil: fc.tuple(...c.shape.map(() => fc.integer({ min: 1, max: 2 }))),
      pads: fc.tuple(...c.shape.map(() => fc.tuple(fc.integer({ min: -1, max: 2 }), fc.integer({ min: 0, max: 2 }))))
    })
  )

describe("wasm reduce_window equals the cpu kernel", () => {
  test.prop([windowConfig], { numRuns: 80 })("random windows, with ties", ({ c, window, strides, base, dil, pads }) => {
    const params: ReduceWindowParams = {
      computation: c.computation,
      windowDimensions: window,
      windowStrides: strides,
      padding: pads,
      baseDilation: base,
      windowDilation: dil
    }
    const ins = [data(size(c.shape), c.seed, true)]
    const avals = [aval(c.shape, "float32")]
    const want = run(cpu, "reduce_window", ins, avals, params)[0]!
    for (const b of [wasm1, wasm2]) close(run(b, "reduce_window", ins, avals, params)[0]!, want, 1e-6, `${b.name}`)
    assert.isUndefined(wasm1.stats.fallbacks.get("reduce_window"))
  })
})

const poolConfig = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 9 }),
  w: fc.integer({ min: 1, max: 9 }),
  c: fc.integer({ min: 1, max: 13 }),
  computation: fc.constantFrom("add" as const, "max" as const, "min" as const),
  window: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  pads: fc.tuple(
    fc.tuple(fc.integer({ min: -1, max: 2 }), fc.integer({ min: 0, max: 2 })),
    fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }))
  ),
  dil: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  seed: fc.integer({ min: 0, max: 1 << 20 })
})

describe("wasm pools over channels-last features (the compiled pooling kernel)", () => {
  test.prop([poolConfig], { numRuns: 80 })("equal the cpu kernel bit for bit, with ties, NaN and signed zeros", (k) => {
    const shape = [k.n, k.h, k.w, k.c]
    const params: ReduceWindowParams = {
      computation: k.computation,
      windowDimensions: [1, ...k.window, 1],
      windowStrides: [1, ...k.strides, 1],
      padding: [[0, 0], ...k.pads, [0, 0]],
      baseDilation: [1, 1, 1, 1],
      windowDilation: [1, ...k.dil, 1]
    }
    const ins = [data(size(shape), k.seed, true)]
    const x = ins[0] as Float32Array
    if (x.length > 3) {
      x[0] = NaN
      x[1] = -0
      x[2] = 0
    }
    const avals = [aval(shape, "float32")]
    const want = run(cpu, "reduce_window", ins, avals, params)[0]! as Float32Array
    for (const b of [wasm1, wasm2]) {
      const got = run(b, "reduce_window", ins, avals, params)[0]! as Float32Array
      assert.strictEqual(got.length, want.length)
      got.forEach((g, i) =>
        assert.isTrue(
          Object.is(g, want[i]) || (Number.isNaN(g) && Number.isNaN(want[i]!)),
          `${b.name} element ${i}: ${g}, cpu ${want[i]}`
        )
      )
    }
    assert.isUndefined(wasm1.stats.fallbacks.get("reduce_window"))
  })
})
