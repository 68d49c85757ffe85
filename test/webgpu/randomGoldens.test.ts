/**
 * JAX's random goldens (test/goldens/random.json, as in test/random/random.test.ts) on the webgpu
 * backend: keys, splits and bits bit for bit (threefry runs on the cpu kernels inside the queue),
 * uniform on [0, 1) bit-identical (its float part is exact on the device), and the distributions
 * whose float parts run as WGSL kernels to float32 tolerance. Every result is read back
 * asynchronously.
 */
import * as fs from "node:fs"
import { afterAll, describe, expect, it } from "vitest"
import { Backend, jnp, random } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { eachWebgpu, flushAll } from "./backend.ts"

// Nothing stays queued when the file ends: Dawn must not call back into a finished test worker.
afterAll(flushAll)

type Nested = number | boolean | ReadonlyArray<Nested>
type Param = number | ReadonlyArray<Nested>
interface Case {
  readonly seed: number
  readonly [k: string]: unknown
}
const G = JSON.parse(fs.readFileSync(new URL("../goldens/random.json", import.meta.url), "utf8")).cases as Record<
  string,
  ReadonlyArray<Case>
>

const flat = (x: unknown): Array<number | boolean> => (Array.isArray(x) ? x.flatMap(flat) : [x as number | boolean])

const floatParam = (p: Param): number | JArray =>
  typeof p === "number" ? p : jnp.array(p as ReadonlyArray<number>, { dtype: "float32" })
const intParam = (p: Param): number | JArray =>
  typeof p === "number" ? p : jnp.array(p as ReadonlyArray<number>, { dtype: "int32" })

const expectClose = (got: ReadonlyArray<number | boolean>, want: Nested, what: string, rtol = 1e-5): void => {
  const w = flat(want) as Array<number>
  expect(got.length, what).toBe(w.length)
  got.forEach((v, i) =>
    expect(Math.abs((v as number) - w[i]!), `${what}[${i}]: ${v} vs ${w[i]}`).toBeLessThanOrEqual(
      2e-6 + rtol * Math.abs(w[i]!)
    )
  )
}

describe.each(eachWebgpu)("random goldens on webgpu (%s)", (_, candidate) => {
  const backend = candidate.backend
  if (backend === undefined) {
    it.skip(`does not start here: ${candidate.reason}`, () => {})
    return
  }
  /** Runs `f` on webgpu and reads its result back as a flat list. */
  const onGpu = async (f: () => JArray): Promise<Array<number | boolean>> =>
    flat(
      await Backend.withBackend(backend, f)
        .blockUntilReady()
        .then((x) => x.tolist())
    )

  it("key, split, foldIn and bits, bit for bit", async () => {
    for (const c of G["key"]!) expect(await onGpu(() => random.keyData(random.key(c.seed)))).toEqual(flat(c["data"]))
    for (const c of G["split"]!)
      expect(await onGpu(() => random.keyData(random.split(random.key(c.seed), c["num"] as number)))).toEqual(
        flat(c["data"])
      )
    for (const c of G["fold_in"]!)
      expect(await onGpu(() => random.keyData(random.foldIn(random.key(c.seed), c["data"] as number)))).toEqual(
        flat(c["out"])
      )
    for (const c of G["bits"]!)
      expect(await onGpu(() => random.bits(random.key(c.seed), c["shape"] as Array<number>))).toEqual(flat(c["out"]))
  })

  it("uniform (bit-identical on [0, 1)), normal and truncatedNormal", async () => {
    for (const c of G["uniform"]!) {
      const got = await onGpu(() =>
        random.uniform(random.key(c.seed), c["shape"] as Array<number>, {
          minval: floatParam(c["minval"] as Param),
          maxval: floatParam(c["maxval"] as Param)
        })
      )
      if (c["minval"] === 0 && c["maxval"] === 1)
        expect(got).toEqual((flat(c["out"]) as Array<number>).map(Math.fround))
      else expectClose(got, c["out"] as Nested, `uniform ${c.seed}`)
    }
    for (const c of G["normal"]!)
      expectClose(
        await onGpu(() => random.normal(random.key(c.seed), c["shape"] as Array<number>)),
        c["out"] as Nested,
        `normal ${c.seed}`
      )
    for (const c of G["truncated_normal"]!)
      expectClose(
        await onGpu(() =>
          random.truncatedNormal(
            random.key(c.seed),
            floatParam(c["lower"] as Param),
            floatParam(c["upper"] as Param),
            (c["shape"] as Array<number> | null) ?? undefined
          )
        ),
        c["out"] as Nested,
        `truncatedNormal ${c.seed}`,
        1e-4
      )
  })

  it("bernoulli, randint and categorical, exactly", async () => {
    for (const c of G["bernoulli"]!)
      expect(
        await onGpu(() =>
          random.bernoulli(
            random.key(c.seed),
            floatParam(c["p"] as Param),
            (c["shape"] as Array<number> | null) ?? undefined
          )
        )
      ).toEqual(flat(c["out"]))
    for (const c of G["randint"]!)
      expect(
        await onGpu(() =>
          random.randint(
            random.key(c.seed),
            c["shape"] as Array<number>,
            intParam(c["minval"] as Param),
            intParam(c["maxval"] as Param),
            { dtype: c["dtype"] as "int32" | "uint32" }
          )
        )
      ).toEqual(flat(c["out"]))
    for (const c of G["categorical"]!) {
      const logits = jnp.array(c["logits"] as ReadonlyArray<number>, { dtype: "float32" })
      const shape = c["shape"] as Array<number> | null
      const axis = c["axis"] as number
      expect(
        await onGpu(() => random.categorical(random.key(c.seed), logits, shape === null ? { axis } : { axis, shape }))
      ).toEqual(flat(c["out"]))
    }
  })
})
