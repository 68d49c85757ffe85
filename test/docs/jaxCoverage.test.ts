/**
 * docs/jax-coverage.md tells the truth: every row marked "yes" names an export of the package entry,
 * every row marked "missing" names none (so the table is updated when a function arrives), and the
 * totals in its opening paragraph match the rows.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import * as entry from "effect-nnx"

const doc = readFileSync(new URL("../../docs/jax-coverage.md", import.meta.url), "utf8")
const rows = [...doc.matchAll(/^\| `([^`]+)` \| `([^`]+)` \| (yes|missing) \|$/gm)].map((m) => ({
  jax: m[1]!,
  ours: m[2]!,
  status: m[3]!
}))

const lookup = (path: string): unknown =>
  path
    .split(".")
    .reduce<unknown>((o, k) => (o === undefined || o === null ? undefined : (o as Record<string, unknown>)[k]), entry)

describe("docs/jax-coverage.md", () => {
  it("has rows", () => expect(rows.length).toBeGreaterThan(150))

  for (const row of rows) {
    it(`${row.jax} is ${row.status === "yes" ? `exported as ${row.ours}` : "not exported yet"}`, () => {
      expect(lookup(row.ours) !== undefined, `${row.ours}`).toBe(row.status === "yes")
    })
  }

  it("states the totals the rows add up to", () => {
    const have = rows.filter((r) => r.status === "yes").length
    expect(doc).toContain(`${rows.length} functions`)
    expect(doc).toContain(`**${have} of them (${Math.round((100 * have) / rows.length)}%) exist**`)
  })
})
