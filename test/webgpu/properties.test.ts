/**
 * The property suites of the array core (test/backend/jnpProperties.test.ts) and of the transforms
 * (test/transforms/{fusion,jit,autodiff,batching}Properties.test.ts) on the webgpu backend. Each
 * property draws its cases with the generators of its suite, computes on webgpu (operations are
 * queued, results come back at once), reads every result back asynchronously, and checks the
 * suite's own property (jit equals eager, vmap equals a loop, gradients match finite differences,
 * ops match a naive reference), and, where the suite compares two computations on one backend, the
 * webgpu results against the same computation on the cpu reference backend, to float32 tolerance.
 *
 * The suites' generators, case tables and references are the ones their own files use, from
 * test/support/properties/; the (synchronous) suites themselves run only in their own files.
 */
import { fc, test } from "@fast-check/vitest"
import { afterAll, describe, expect, it } from "vitest"
import { Backend, jit, jnp, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { jvp, linearize } from "../../src/transforms/core/jvp.ts"
import { vjp } from "../../src/transforms/core/reverse.ts"
import * as A from "../support/properties/autodiff.ts"
import * as B from "../support/properties/batching.ts"
import { inputsFor, randomProgram, runProgram } from "../support/properties/fusion.ts"
import { family, withData } from "../support/properties/jit.ts"
import * as J from "../support/properties/jnp.ts"
import type { Candidate } from "./backend.ts"
import { eachWebgpu, flushAll } from "./backend.ts"

// Nothing stays queued when the file ends: Dawn must not call back into a finished test worker.
afterAll(flushAll)

/** The cpu reference backend, for the same computations. */
const cpu = Backend.makeCpu()

/** Runs per property: Dawn on a software adapter compiles a shader per new kernel shape, so fewer. */
const runsOn = (candidate: Candidate, dawn: number, standIn: number): number =>
  candidate.label === "Dawn" ? dawn : standIn

const read = async (xs: ReadonlyArray<JArray>): Promise<Array<ArrayLike<number>>> => {
  const out: Array<ArrayLike<number>> = []
  for (const x of xs) out.push(await x.data())
  return out
}

/**
 * `got` within `tol` of `want` (relative to `1 + |want|`; 0: the same bits), NaN matching NaN and
 * infinities matching themselves.
 */
const closeData = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void => {
  expect(got.length, `${what}: length`).toBe(want.length)
  for (let i = 0; i < want.length; i++) {
    const x = Number(got[i]!),
      y = Number(want[i]!)
    if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) continue
    if (tol > 0 && Number.isFinite(y) && Math.abs(x - y) <= tol * (1 + Math.abs(y))) continue
    expect.fail(`${what}: element ${i}: ${x} vs ${y}`)
  }
}

/** Same shape and dtype, and values within `tol` (the webgpu array is read back asynchronously). */
const closeArrays = async (got: JArray, want: JArray, tol: number, what: string): Promise<void> => {
  expect(got.shape, `${what}: shape`).toEqual(want.shape)
  expect(got.dtype, `${what}: dtype`).toBe(want.dtype)
  closeData(await got.data(), await want.data(), tol, what)
}

/**
 * A float32 input as a WebGPU device sees it: WGSL lets a device flush subnormals to zero (SwiftShader
 * does, as GPUs do), and SwiftShader's atan2 ignores the sign of a zero. On such a device, inputs
 * drawn by a suite's generator are fed (to both sides of a comparison) with subnormals and -0 as +0.
 */
const deviceFloat = (v: number): number => (Math.abs(v) < 2 ** -126 ? 0 : v)

/** Float32 tolerance between webgpu and the cpu reference (relative to `1 + |want|`). */
const crossTol = 2e-5

describe.each(eachWebgpu)("property suites on webgpu (%s)", (_, candidate) => {
  const backend = candidate.backend
  if (backend === undefined) {
    it.skip(`does not start here: ${candidate.reason}`, () => {})
    return
  }
  const on = <A>(f: () => A): A => Backend.withBackend(backend, f)
  const onCpu = <A>(f: () => A): A => Backend.withBackend(cpu, f)
  /** Float inputs as this candidate's device holds them (the stand-in keeps subnormals and -0). */
  const asDevice = (xs: ReadonlyArray<number>): Array<number> =>
    candidate.label === "Dawn" ? xs.map(deviceFloat) : xs.slice()

  describe("compiled programs (fusionProperties)", () => {
    test.prop([randomProgram], { numRuns: runsOn(candidate, 40, 100) })(
      "jit(program) equals the program, and the cpu reference",
      async ({ shapes, ops, seed }) => {
        const f = (...xs: Array<JArray>) => runProgram(ops, xs)
        const { inputs, want, got, again, jf } = on(() => {
          const inputs = inputsFor(shapes, seed)
          const want = f(...inputs)
          const jf = jit(f)
          return { inputs, want, got: jf(...inputs), again: jf(...inputs), jf }
        })
        const ref = onCpu(() => f(...inputsFor(shapes, seed)))
        for (let i = 0; i < want.length; i++) {
          await closeArrays(got[i]!, want[i]!, 1e-5, `jitted output ${i}`)
          await closeArrays(again[i]!, want[i]!, 1e-5, `jitted output ${i}, second call`)
          await closeArrays(want[i]!, ref[i]!, crossTol, `output ${i} against the cpu reference`)
        }
        expect(jf.traceCount).toBe(1)
        const fresh = onCpu(() => inputsFor(shapes, seed))
        for (let k = 0; k < inputs.length; k++) await closeArrays(inputs[k]!, fresh[k]!, 0, `input ${k}`)
      }
    )
  })

  describe("jit(f) equals f (jitProperties)", () => {
    for (const [name, f] of Object.entries(family)) {
      test.prop([withData], { numRuns: runsOn(candidate, 15, 25) })(name, async ([shape, drawn]) => {
        const data = asDevice(drawn)
        const x = () => jnp.reshape(jnp.array(data, { dtype: "float32" }), shape)
        const { jf, want, got } = on(() => {
          const jf = jit(f)
          const v = x()
          const want = f(v)
          const got = jf(v)
          jf(v.mul(0.5))
          return { jf, want, got }
        })
        await closeArrays(got, want, 1e-5, "jit(f) against f")
        await closeArrays(
          want,
          onCpu(() => f(x())),
          crossTol,
          "f against the cpu reference"
        )
        expect(jf.traceCount).toBe(1)
      })
    }
  })

  describe("jnp over random shapes (jnpProperties)", () => {
    const checkOp =
      (
        name: string,
        op: (a: JArray, b: JArray) => JArray,
        ref: (a: number, b: number) => number,
        dtype: "float32" | "int32"
      ) =>
      async ([p, drawnA, drawnB]: [
        { out: Array<number>; a: Array<number>; b: Array<number> },
        Array<number>,
        Array<number>
      ]) => {
        const [da, db] = dtype === "float32" ? [asDevice(drawnA), asDevice(drawnB)] : [drawnA, drawnB]
        const out = on(() => op(J.make(da, p.a, dtype), J.make(db, p.b, dtype)))
        expect(out.shape, `${name} shape`).toEqual(p.out)
        const got = await out.data()
        for (let i = 0; i < J.size(p.out); i++) {
          const idx = J.unravel(i, p.out)
          const want = ref(J.at(da, p.a, idx), J.at(db, p.b, idx))
          const g = Number(got[i]!)
          if (Object.is(g, want)) continue
          if (Number.isNaN(want)) expect(Number.isNaN(g), `${name} at ${idx}`).toBe(true)
          else if (dtype === "float32")
            expect(Math.abs(g - want), `${name} at ${idx}: ${g} vs ${want}`).toBeLessThanOrEqual(
              1e-5 * Math.max(1, Math.abs(want))
            )
          else expect(g, `${name} at ${idx}`).toBe(want)
        }
      }
    const n = runsOn(candidate, 20, 40)
    for (const [name, [op, ref]] of Object.entries(J.floatOps))
      test.prop([J.withData("float")], { numRuns: n })(`float32 ${name}`, checkOp(name, op, ref, "float32"))
    for (const [name, [op, ref]] of Object.entries(J.intOps))
      test.prop([J.withData("int")], { numRuns: n })(`int32 ${name}`, checkOp(name, op, ref, "int32"))

    test.prop([J.shapeAndPerm], { numRuns: n })(
      "transpose by a permutation then its inverse is the identity, and moves [i...] to [perm(i)...]",
      async ([shape, perm]) => {
        const inverse = perm.map((_, i) => perm.indexOf(i))
        const { x, t, back } = on(() => {
          const x = jnp.reshape(jnp.arange(J.size(shape)), shape)
          const t = jnp.transpose(x, perm)
          return { x, t, back: jnp.transpose(t, inverse) }
        })
        expect(t.shape).toEqual(perm.map((p) => shape[p]))
        const [xd, td, bd] = await read([x, t, back])
        expect(Array.from(bd!)).toEqual(Array.from(xd!))
        for (let i = 0; i < t.size; i++) {
          const outIdx = J.unravel(i, t.shape)
          const inIdx = new Array<number>(shape.length)
          perm.forEach((p, k) => (inIdx[p] = outIdx[k]!))
          expect(td![i]).toBe(J.at(xd!, shape, inIdx))
        }
      }
    )

    test.prop(
      [
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 })
      ],
      { numRuns: n }
    )("reshape to any shape of the same size and back preserves row-major order", async (s1, s2) => {
      const m = J.size(s1)
      const { x, y, back } = on(() => {
        const x = jnp.reshape(jnp.arange(m * J.size(s2)), [...s1, ...s2])
        const y = jnp.reshape(x, [...s2, m])
        return { x, y, back: jnp.reshape(y, x.shape) }
      })
      const [xd, yd, bd] = await read([x, y, back])
      expect(Array.from(yd!)).toEqual(Array.from(xd!))
      expect(back.shape).toEqual(x.shape)
      expect(Array.from(bd!)).toEqual(Array.from(xd!))
    })

    const dims = fc.tuple(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 3 })
    )
    test.prop(
      [
        dims.chain(([m, k, n, b]) =>
          fc.tuple(fc.constant([m, k, n, b] as const), J.values("float", b * m * k), J.values("float", k * n))
        )
      ],
      { numRuns: n }
    )("matmul: batched [b, m, k] @ [k, n] agrees with a naive triple loop", async ([[m, k, n, b], drawnA, drawnB]) => {
      const [da, db] = [asDevice(drawnA), asDevice(drawnB)]
      const out = on(() => jnp.matmul(J.make(da, [b, m, k], "float32"), J.make(db, [k, n], "float32")))
      expect(out.shape).toEqual([b, m, n])
      const got = await out.data()
      J.naiveMatmul(da, db, [m, k, n, b]).forEach(({ want, bound }, e) => {
        expect(Math.abs(Number(got[e]!) - want)).toBeLessThanOrEqual(bound)
      })
    })
    test.prop(
      [
        dims.chain(([m, k, n]) =>
          fc.tuple(fc.constant([m, k, n] as const), J.values("int", m * k), J.values("int", k * n))
        )
      ],
      { numRuns: n }
    )("matmul: int32 [m, k] @ [k, n] wraps exactly", async ([[m, k, n], da, db]) => {
      const got = await on(() => jnp.matmul(J.make(da, [m, k], "int32"), J.make(db, [k, n], "int32"))).data()
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let acc = 0
          for (let l = 0; l < k; l++) acc = (acc + Math.imul(da[i * k + l]!, db[l * n + j]!)) | 0
          expect(got[i * n + j]).toBe(acc)
        }
    })
  })

  describe("differentiation rules (autodiffProperties)", () => {
    type Args = ReadonlyArray<JArray>
    /** Sum of the products of the elements of `xs` and `ys` (read back), and of their magnitudes. */
    const dotAll = async (xs: Args, ys: Args): Promise<{ dot: number; scale: number }> => {
      let dot = 0
      let scale = 0
      for (let i = 0; i < xs.length; i++) {
        const a = await xs[i]!.data()
        const b = await ys[i]!.data()
        expect(a.length).toBe(b.length)
        for (let k = 0; k < a.length; k++) {
          dot += Number(a[k]!) * Number(b[k]!)
          scale += Math.abs(Number(a[k]!) * Number(b[k]!))
        }
      }
      return { dot, scale }
    }
    const item = async (x: JArray): Promise<number> => Number((await x.data())[0]!)

    for (const c of A.cases) {
      test.prop([A.shapeArb, A.seedArb], { numRuns: runsOn(candidate, 5, 12) })(
        `${c.name}: grad matches finite differences and the cpu reference`,
        async (shape, seed) => {
          const { args, g, lp, lm, dirs, h } = on(() => {
            const { args, loss, dirs, h } = A.setup(c, shape, seed)
            const g = A.gradAll(loss, args.length)(...args)
            const at = (s: number) => loss(...args.map((a, i) => A.axpy(a, dirs[i]!, s * h)))
            return { args, g, lp: at(1), lm: at(-1), dirs, h }
          })
          const want = onCpu(() => {
            const { args, loss } = A.setup(c, shape, seed)
            return A.gradAll(loss, args.length)(...args)
          })
          for (let i = 0; i < g.length; i++) {
            expect(g[i]!.dtype).toBe("float32")
            await closeArrays(g[i]!, want[i]!, 1e-4, `gradient ${i} against the cpu reference`)
          }
          const { dot, scale } = await dotAll(g, dirs)
          const fd = ((await item(lp)) - (await item(lm))) / (2 * h)
          expect(Math.abs(dot - fd), `grad·v ${dot} vs finite difference ${fd}`).toBeLessThanOrEqual(
            1e-2 * scale + 2e-3
          )
          expect(args.length).toBe(g.length)
        }
      )
    }

    for (const c of A.cases) {
      test.prop([A.shapeArb, A.seedArb], { numRuns: runsOn(candidate, 3, 8) })(
        `${c.name}: reverse and forward mode agree, and linearize matches jvp`,
        async (shape, seed) => {
          const modes = () => {
            const { r, args, f, dirs } = A.setup(c, shape, seed)
            const [y, jv] = jvp(f, args, dirs)
            const u = A.uniform(r, y.shape)
            const [y2, back] = vjp(f, ...args)
            const [y3, lin] = linearize(f, ...args)
            return { y, jv, u, y2, ju: back(u), y3, lv: lin(...dirs), dirs }
          }
          const { y, jv, u, y2, ju, y3, lv, dirs } = on(modes)
          await closeArrays(y2, y, 0, "vjp's primal against jvp's")
          await closeArrays(y3, y, 0, "linearize's primal against jvp's")
          const fwd = await dotAll([u], [jv])
          const rev = await dotAll(ju, dirs)
          expect(Math.abs(fwd.dot - rev.dot), `<u, Jv> ${fwd.dot} vs <J'u, v> ${rev.dot}`).toBeLessThanOrEqual(
            1e-4 * (fwd.scale + rev.scale) + 1e-5
          )
          const same = await dotAll([lv], [u])
          expect(Math.abs(same.dot - fwd.dot)).toBeLessThanOrEqual(1e-5 * (fwd.scale + same.scale) + 1e-6)
          const ref = onCpu(modes)
          await closeArrays(jv, ref.jv, 1e-4, "jvp against the cpu reference")
          for (let i = 0; i < ju.length; i++)
            await closeArrays(ju[i]!, ref.ju[i]!, 1e-4, `vjp ${i} against the cpu reference`)
        }
      )
    }

    for (const c of A.cases) {
      test.prop([A.shapeArb, A.seedArb], { numRuns: runsOn(candidate, 2, 4) })(
        `${c.name}: Hessian-vector products (rev-rev, fwd-rev, fwd-fwd) match finite differences`,
        async (shape, seed) => {
          const { hvpRev, hvpFwd, fd, fwdFwd, w } = on(() => {
            const { r, args, loss, dirs, h } = A.setup(c, shape, seed)
            const n = args.length
            const g = A.gradAll(loss, n)
            const w = args.map((a) => A.uniform(r, a.shape))
            const gv = (...xs: ReadonlyArray<JArray>): JArray =>
              g(...xs).reduce((acc: JArray, gi, i) => jnp.add(acc, jnp.sum(jnp.multiply(gi, dirs[i]!))), jnp.zeros([]))
            const hvpRev = A.gradAll(gv, n)(...args)
            const [, hvpFwd] = jvp((...xs: ReadonlyArray<JArray>) => g(...xs), args, dirs)
            const gp = g(...args.map((a, i) => A.axpy(a, dirs[i]!, h)))
            const gm = g(...args.map((a, i) => A.axpy(a, dirs[i]!, -h)))
            const fd = gp.map((p, i) => jnp.divide(jnp.subtract(p, gm[i]!), 2 * h))
            const [, fwdFwd] = jvp((...xs: ReadonlyArray<JArray>) => jvp(loss, xs, dirs)[1], args, w)
            return { hvpRev, hvpFwd: hvpFwd as unknown as ReadonlyArray<JArray>, fd, fwdFwd, w }
          })
          const ref = await dotAll(fd, w)
          const rev = await dotAll(hvpRev, w)
          const fwd = await dotAll(hvpFwd, w)
          const ff = await item(fwdFwd)
          const tol = 2e-2 * (ref.scale + rev.scale) + 5e-3
          expect(Math.abs(rev.dot - ref.dot), `reverse-over-reverse ${rev.dot} vs ${ref.dot}`).toBeLessThanOrEqual(tol)
          expect(Math.abs(fwd.dot - ref.dot), `forward-over-reverse ${fwd.dot} vs ${ref.dot}`).toBeLessThanOrEqual(tol)
          expect(Math.abs(ff - ref.dot), `forward-over-forward ${ff} vs ${ref.dot}`).toBeLessThanOrEqual(tol)
        }
      )
    }

    for (const c of A.cases) {
      test.prop([A.shapeArb, A.seedArb], { numRuns: runsOn(candidate, 2, 3) })(
        `${c.name}: jit(grad) and vmap(grad) agree with grad`,
        async (shape, seed) => {
          const { g, gj, gv, g2 } = on(() => {
            const { r, args, loss } = A.setup(c, shape, seed)
            const n = args.length
            const g = A.gradAll(loss, n)(...args)
            const gj = jit((...xs: ReadonlyArray<JArray>) => A.gradAll(loss, n)(...xs))(...args)
            const args2 = args.map((a) => jnp.add(a, jnp.multiply(A.uniform(r, a.shape), 0.01)))
            const g2 = A.gradAll(loss, n)(...args2)
            const gv = vmap((...xs: ReadonlyArray<JArray>) => A.gradAll(loss, n)(...xs))(
              ...args.map((a, i) => jnp.stack([a, args2[i]!]))
            )
            return { g, gj, gv, g2: g.map((gi, i) => jnp.stack([gi, g2[i]!])) }
          })
          for (let i = 0; i < g.length; i++) {
            await closeArrays(gj[i]!, g[i]!, 1e-5, `jit(grad) ${i}`)
            await closeArrays(gv[i]!, g2[i]!, 1e-5, `vmap(grad) ${i}`)
          }
        }
      )
    }
  })

  describe("vmap equals a loop over the batch, per primitive (batchingProperties)", () => {
    const compute = B.vmapAndLoop
    const floating = (x: JArray): boolean => x.dtype === "float32" || x.dtype === "complex64"

    for (const [prim, list] of Object.entries(B.cases) as Array<[string, ReadonlyArray<B.Case>]>) {
      list.forEach((c, k) => {
        test.prop([B.run], { numRuns: runsOn(candidate, 5, 15) })(
          `${prim}${list.length > 1 ? ` #${k}` : ""}`,
          async (r) => {
            const { got, expected, what } = on(() => compute(c, r))
            expect(got.length).toBe(expected.length)
            const ref = onCpu(() => compute(c, r)).got
            for (let i = 0; i < got.length; i++) {
              const g = got[i]!
              const e = expected[i]!
              expect(g.weakType, `output ${i} ${what}: weak type`).toBe(e.weakType)
              await closeArrays(g, e, floating(e) ? 1e-5 : 0, `output ${i} ${what}`)
              await closeArrays(g, ref[i]!, floating(e) ? crossTol : 0, `output ${i} ${what} against the cpu reference`)
            }
          }
        )
      })
    }
  })

  it("ran the float work as device kernels, none of them failing", () => {
    expect(backend.gpuStats.gpuLaunches).toBeGreaterThan(1000)
    expect(backend.gpuStats.kernelErrors).toBe(0)
  })
})
