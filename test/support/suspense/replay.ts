/**
 * Runs the synchronous example-based suites on the webgpu backend, whose values are read
 * asynchronously, by suspending and replaying (as React's Suspense does with a component):
 *
 * 1. While a test runs, the webgpu backend records each operation it is given (uploads, primitives,
 *    fused kernels, deferred control flow) with its inputs and results.
 * 2. A synchronous read of a value still on the device throws `PendingReadError`; the test fails
 *    with it, and vitest's `retry` (whose condition is that error's message) runs it again.
 * 3. Before the retry, {@link Replay.begin} waits until the device has computed every recorded
 *    result and read each back. The retry then makes the same operations in the same order, and each
 *    one that matches the record (same operation, parameters, result types, and the recorded inputs)
 *    gets new handles on the recorded, now readable, results instead of running again. The test
 *    gets further each attempt: at least one read further.
 *
 * A test must be deterministic for this (the suites are: random keys, fixed seeds). An operation
 * that does not match the record (a test that took another path) ends the replay: from there on,
 * everything runs anew. Operations made outside tests (constants of a `describe` block) and inside
 * deferred control flow are not recorded; the results of the former are read back at the next wait,
 * so that a test reading such a constant synchronously succeeds on its retry.
 *
 * The backend is the webgpu backend itself, its methods wrapped in place, so that arrays, `tidy`,
 * `dispose` and transfers behave as they do on webgpu. A replayed result is a new handle on the
 * recorded storage made the way the backend shares storage for a reshape (tracked by an enclosing
 * `tidy`, counted as no dispatch); the record holds handles of its own, released when the next test
 * begins.
 */
import type { Aval, HostArray } from "../../../src/backend/DType.ts"
import type { BackendImpl, DeferredScope, DeviceBuffer, FusedKernel } from "../../../src/backend/BackendImpl.ts"
import type { FusedProgram } from "../../../src/backend/fusion.ts"
import type { WebgpuBackend } from "../../../src/backend/webgpu/Webgpu.ts"

interface Entry {
  /** What was done: `upload`, a primitive's name with its parameters, `fused`, `defer`. */
  readonly key: string
  readonly inputs: ReadonlyArray<DeviceBuffer>
  readonly data?: HostArray
  /** The record's own handles on the results. */
  readonly outs: ReadonlyArray<DeviceBuffer>
  readonly avals: ReadonlyArray<Aval>
}

/** The parameters as text, for comparing records; functions compare equal. */
const paramKey = (params: unknown): string => {
  try {
    return JSON.stringify(params, (_k, v: unknown) =>
      typeof v === "function" ? "fn" : ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v
    )
  } catch {
    return "?"
  }
}

const sameData = (a: HostArray, b: HostArray): boolean => {
  if (a.length !== b.length || a.constructor !== b.constructor) return false
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false
  return true
}

export interface Replay {
  /** The webgpu backend, recording and replaying. */
  readonly backend: BackendImpl
  /**
   * Called before each attempt of a test (`id` names the test): a retry of the same test waits for
   * the device and replays; another test starts a new record.
   */
  readonly begin: (id: string) => Promise<void>
  /** Called after each attempt: operations are not recorded between tests. */
  readonly end: () => void
}

export const replaying = (backend: WebgpuBackend): Replay => {
  const original = { ...backend }
  const target = backend as { -readonly [K in keyof WebgpuBackend]: WebgpuBackend[K] }
  let log: Array<Entry> = []
  /** Handles mapped to the record's handles they stand for (kept across attempts: a plan made in one keeps its handles). */
  const standsFor = new WeakMap<DeviceBuffer, DeviceBuffer>()
  let cursor = 0
  let replayingNow = false
  let recording = false
  let testId: string | undefined
  /** Deferred control flow jobs running now: their operations are not recorded. */
  let inJob = 0
  /** The record's length and the replay's position when the last attempt ended, to see progress. */
  let recordedBefore = -1
  let cursorBefore = -1
  /** Whether the current attempt left the record's path. */
  let diverged = false
  /**
   * Results of operations made outside tests (constants of a `describe` block), not read back yet:
   * the next wait reads them back, so that a test reading one synchronously gets further on retry.
   */
  let outside: Array<readonly [DeviceBuffer, Aval]> = []

  const active = (): boolean => recording && inJob === 0
  const canonical = (b: DeviceBuffer): DeviceBuffer => standsFor.get(b) ?? b

  /** A new handle on a recorded result, as a reshape shares storage, counted as no dispatch. */
  const share = (b: DeviceBuffer, aval: Aval): DeviceBuffer => {
    const { dispatches } = backend.stats
    const counted = backend.stats.byPrimitive.get("reshape")
    const [h] = original.execute("reshape", [b], [aval], [aval], { newSizes: aval.shape })
    backend.stats.dispatches = dispatches
    if (counted === undefined) backend.stats.byPrimitive.delete("reshape")
    else backend.stats.byPrimitive.set("reshape", counted)
    standsFor.set(h!, b)
    return h!
  }

  /** New handles on the recorded results of the next operation when it matches the record. */
  const replay = (
    key: string,
    inputs: ReadonlyArray<DeviceBuffer>,
    data?: HostArray
  ): Array<DeviceBuffer> | undefined => {
    if (!active() || !replayingNow) return undefined
    const e = log[cursor]
    const ins = inputs.map(canonical)
    if (
      e !== undefined &&
      e.key === key &&
      e.inputs.length === ins.length &&
      e.inputs.every((b, i) => b === ins[i]) &&
      (data === undefined || (e.data !== undefined && sameData(e.data, data)))
    ) {
      cursor++
      return e.outs.map((b, i) => share(b, e.avals[i]!))
    }
    // The test took another path (a value is ready now that was pending, say): forget the rest of
    // the record.
    replayingNow = false
    diverged = true
    forget(log.slice(cursor))
    log = log.slice(0, cursor)
    return undefined
  }
  const record = <A extends ReadonlyArray<DeviceBuffer>>(
    key: string,
    inputs: ReadonlyArray<DeviceBuffer>,
    outs: A,
    avals: ReadonlyArray<Aval>,
    data?: HostArray
  ): A => {
    if (!recording && inJob === 0) outs.forEach((b, i) => outside.push([b, avals[i]!]))
    if (!active()) return outs
    const own = outs.map((b) => original.retain!(b))
    outs.forEach((b, i) => standsFor.set(b, own[i]!))
    const entry = { key, inputs: inputs.map(canonical), outs: own, avals }
    log.push(data === undefined ? entry : { ...entry, data: data.slice() })
    cursor = log.length
    return outs
  }
  const forget = (entries: ReadonlyArray<Entry>): void => {
    for (const e of entries) for (const b of e.outs) original.dispose(b)
  }

  const fusedKernel =
    (kernel: FusedKernel): FusedKernel =>
    (inputs, outAvals) => {
      const key = `fused ${paramKey(outAvals)}`
      return replay(key, inputs) ?? record(key, inputs, kernel(inputs, outAvals), outAvals)
    }

  target.upload = (data, aval, options) => {
    const key = `upload ${paramKey(aval)}`
    return replay(key, [], data)?.[0] ?? record(key, [], [original.upload(data, aval, options)], [aval], data)[0]!
  }
  target.execute = (prim, inputs, inAvals, outAvals, params) => {
    const key = `${prim} ${paramKey(params)} ${paramKey(outAvals)}`
    return (
      replay(key, inputs) ?? record(key, inputs, original.execute(prim, inputs, inAvals, outAvals, params), outAvals)
    )
  }
  target.retain = (buffer) => {
    const h = original.retain!(buffer)
    standsFor.set(h, canonical(buffer))
    return h
  }
  target.compileFused = (program: FusedProgram) => {
    const kernel = original.compileFused!(program)
    return kernel === undefined ? undefined : fusedKernel(kernel)
  }
  target.defer = (inputs, outAvals, job) => {
    const key = `defer ${paramKey(outAvals)}`
    const unrecorded = (scope: DeferredScope): Promise<ReadonlyArray<DeviceBuffer>> =>
      job({
        ...scope,
        run: (f) =>
          scope.run(() => {
            inJob++
            try {
              return f()
            } finally {
              inJob--
            }
          })
      })
    return replay(key, inputs) ?? record(key, inputs, original.defer!(inputs, outAvals, unrecorded), outAvals)
  }

  /** Waits for the device, and reads every recorded result back, and every result made outside tests. */
  const settle = async (): Promise<void> => {
    await backend.flush()
    const made = outside
    outside = []
    await Promise.all([
      ...log.flatMap((e) => e.outs.map((b, i) => original.read(b, e.avals[i]!).catch(() => undefined))),
      // One disposed since reads nothing: its read fails, and nothing needs it.
      ...made.map(([b, aval]) => original.read(b, aval).catch(() => undefined))
    ])
  }

  return {
    backend,
    begin: async (id) => {
      if (id === testId) {
        // An attempt that took the recorded path and recorded nothing new cannot be helped by another
        // one, unless results made outside tests are still to be read back.
        if (!diverged && log.length === recordedBefore && cursor === cursorBefore && outside.length === 0) {
          throw new Error(
            `replay: no progress after a pending read (${log.length} operations recorded); this test reads a value that no recorded operation computes`
          )
        }
        recordedBefore = log.length
        cursorBefore = cursor
        await settle()
        replayingNow = true
      } else {
        recordedBefore = -1
        cursorBefore = -1
        forget(log)
        log = []
        testId = id
        replayingNow = false
      }
      cursor = 0
      diverged = false
      recording = true
    },
    end: () => {
      recording = false
    }
  }
}
