/**
 * Arrays moved out of the WebAssembly memory belong to the garbage collector: in a synchronous loop
 * that never disposes and never yields (so no finalizer runs), the JavaScript heap stays flat.
 * Before, each buffer's finalizer held its storage, so every moved-out array (256 KiB here) stayed
 * until the loop ended: about 1 GB per 1,000 steps of this loop.
 */
import { execFileSync } from "node:child_process"
import { describe, expect, it } from "vitest"

interface Report {
  readonly step: number
  readonly arrayBuffers: number
  readonly spilled: number
}

describe("moved-out arrays", () => {
  it("are collected during a synchronous loop that never disposes", () => {
    const out = execFileSync(
      process.execPath,
      ["--expose-gc", "--import", "tsx", "--conditions=source", "test/support/spilledSoak.ts", "1200"],
      { encoding: "utf8", timeout: 120_000 }
    )
    const reports = out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Report)
    expect(reports.map((r) => r.step)).toEqual([300, 600, 900, 1200])
    // Thousands of 256 KiB arrays moved out (four per step), all but a few collected.
    expect(reports[3]!.spilled).toBeGreaterThan(4000)
    for (const r of reports) expect(r.arrayBuffers).toBeLessThan(64 << 20)
  })
})
