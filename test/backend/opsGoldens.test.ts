/**
 * effect-nnx's jnp/lax/nn against JAX: every case in test/goldens/ops.json (written by
 * tools/goldens/ops.py) is replayed through the same-named operation (the mapping is in
 * test/support/goldenOps.ts, shared with the gpu.js suites). Integers, booleans and dtypes must
 * match exactly; floats to float32 tolerance; printed forms exactly.
 */
import { describe, expect, it } from "vitest"
import type { Array as JArray } from "effect-nnx"
import { CREATION, expectMatches, goldens, OPS, toArg } from "../support/goldenOps.ts"

describe("jnp against JAX goldens", () => {
  for (const c of goldens.cases) {
    it(c.name, () => {
      const run =
        CREATION[c.name] ??
        (() => {
          const f = OPS[c.op]
          if (f === undefined) throw new Error(`no TypeScript mapping for golden op ${c.op}`)
          return f(c, c.args.map(toArg))
        })
      const out = run()
      if (c.repr !== undefined) {
        expect((out as JArray).repr({ style: "python" })).toBe(c.repr)
      } else if (c.outputs !== undefined) {
        const outs = out as ReadonlyArray<JArray>
        expect(outs.length).toBe(c.outputs.length)
        c.outputs.forEach((w, i) => expectMatches(`${c.name} #${i}`, outs[i]!, w))
      } else {
        expectMatches(c.name, out as JArray, c.output!)
      }
    })
  }
})
