/**
 * JAX (XLA CPU) and Flax NNX, through bench/jax_bench.py run by the Python that
 * `EFFECT_NNX_BENCH_PYTHON` names: one long-lived subprocess answering JSON lines (set up a row,
 * run n calls and say how long they took), so its samples interleave with the others'.
 */
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import type { Contestant } from "../harness.ts"

interface Reply {
  readonly ok: boolean
  readonly reason?: string
  readonly ms?: number
  readonly jax?: string
  readonly flax?: string | null
  readonly device?: string
}

const script = fileURLToPath(new URL("../jax_bench.py", import.meta.url))

/** Starts the subprocess; fails when Python or jax is missing. */
export const jaxPython = async (python: string, log: (line: string) => void): Promise<Contestant> => {
  const child = spawn(python, [script, "--serve"], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, JAX_PLATFORMS: "cpu", PYTHONUNBUFFERED: "1" }
  })
  let stderr = ""
  child.stderr.setEncoding("utf8")
  child.stderr.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000)
  })
  const waiting: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = []
  let exited: Error | undefined
  const lines = createInterface({ input: child.stdout })
  lines.on("line", (line) => {
    const w = waiting.shift()
    if (w === undefined) return
    try {
      w.resolve(JSON.parse(line) as Reply)
    } catch {
      w.reject(new Error(`bench/jax_bench.py said: ${line}`))
    }
  })
  const fail = (e: Error) => {
    exited = e
    for (const w of waiting.splice(0)) w.reject(e)
  }
  child.on("error", (e) => fail(new Error(`cannot start ${python}: ${e.message}`)))
  child.on("exit", (code) =>
    fail(
      new Error(`bench/jax_bench.py exited (${code ?? "signal"}): ${stderr.trim().split("\n").slice(-3).join(" | ")}`)
    )
  )

  const ask = (msg: object): Promise<Reply> =>
    new Promise<Reply>((resolve, reject) => {
      if (exited !== undefined) return reject(exited)
      waiting.push({ resolve, reject })
      child.stdin.write(JSON.stringify(msg) + "\n")
    })
  const must = async (msg: object): Promise<Reply> => {
    const r = await ask(msg)
    if (!r.ok) throw new Error(r.reason ?? "failed")
    return r
  }

  const hello = await must({ op: "hello" })
  log(
    `JAX ${hello.jax ?? "?"} on ${hello.device ?? "?"}${hello.flax ? `, Flax ${hello.flax}` : ", no Flax (lifted rows skipped)"}`
  )
  return {
    label: "JAX (XLA CPU)",
    version: `jax ${hello.jax ?? "?"}${hello.flax ? `, flax ${hello.flax}` : ""}`,
    setup: async (row) => {
      if (row === "split-merge-deep")
        return { skip: "Flax NNX's graph walk is recursive: a chain 500 deep already exceeds Python's recursion limit" }
      if ((row === "nnx-jit-100" || row === "split-merge-100") && !hello.flax)
        return { skip: "Flax is not installed in that Python" }
      await must({ op: "setup", row })
      return {
        runBatch: async (n) => {
          const r = await must({ op: "run", n })
          return r.ms ?? NaN
        },
        teardown: async () => {
          await ask({ op: "teardown" })
        },
        ...(row === "nnx-jit-100" || row === "split-merge-100" ? { note: "Flax NNX" } : {})
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (exited !== undefined) return resolve()
        child.once("exit", () => resolve())
        child.stdin.end() // the script returns when its input ends
        setTimeout(() => child.kill(), 5000).unref()
      })
  }
}
