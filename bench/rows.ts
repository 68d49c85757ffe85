/**
 * The rows of `npm run bench`: what each measures, and the shared inputs (the same numbers for
 * every JavaScript contestant; bench/jax_bench.py draws its own with NumPy, same shapes).
 */
import type { Row, RowId } from "./harness.ts"
import { rowIds } from "./harness.ts"

/** Stack depth and layer width of the lifted-overhead rows. */
export const LAYERS = 100
export const LAYER_WIDTH = 8
/** The MLP of the training-step row. */
export const MLP_SIZES = [784, 512, 512, 10] as const
export const MLP_BATCH = 128
export const LEARNING_RATE = 0.01
/** The per-example-gradients row. */
export const PEGRAD_WIDTH = 64
export const PEGRAD_BATCH = 1024
/** Depth of the deep-graph row: a chain of Modules, each holding a Param and the next Module. */
export const DEEP_CHAIN = 100_000
/** The elementwise-chain row. */
export const CHAIN_SIZE = 1 << 20

const matmulRow = (id: RowId, n: number): Row => ({
  id,
  title: `matmul ${n}×${n}`,
  measures: `\`a @ b\`, float32 ${n}×${n} operands (GFLOP/s = 2n³ / time)`,
  flops: 2 * n ** 3
})

const mlpForwardFlops = 2 * MLP_BATCH * MLP_SIZES.slice(1).reduce((s, dout, i) => s + MLP_SIZES[i]! * dout, 0)

export const rows: ReadonlyArray<Row> = [
  matmulRow("matmul-128", 128),
  matmulRow("matmul-512", 512),
  matmulRow("matmul-1024", 1024),
  matmulRow("matmul-2048", 2048),
  {
    id: "chain-eager",
    title: "tanh(x·2+1)·x eager",
    measures: "`tanh(x * 2 + 1) * x` on 2²⁰ float32, op by op (no jit)"
  },
  {
    id: "chain-jit",
    title: "tanh(x·2+1)·x jit",
    measures: "the same chain under `jit` (compiled once, in the warm-up)"
  },
  {
    id: "pegrad",
    title: "per-example grads",
    measures: `\`jit(vmap(grad(loss), in_axes=(None, 0)))(w, xs)\`, loss(w, x) = sum(tanh(x @ w)), w ${PEGRAD_WIDTH}×${PEGRAD_WIDTH}, B=${PEGRAD_BATCH}: a ${PEGRAD_BATCH}×${PEGRAD_WIDTH}×${PEGRAD_WIDTH} result read back`
  },
  {
    id: "mlp-step",
    title: "MLP train step",
    measures: `one SGD step of a ${MLP_SIZES.join("-")} MLP (relu, softmax cross-entropy), batch ${MLP_BATCH}: jit(value_and_grad) and the parameter update; reads the loss back and waits for the new parameters (GFLOP/s counts 3× the forward pass's ${(mlpForwardFlops / 1e6).toFixed(0)} MFLOP)`,
    flops: 3 * mlpForwardFlops
  },
  {
    id: "nnx-jit-100",
    title: `nnx.jit ${LAYERS} layers`,
    measures: `a jitted call over a Module holding ${LAYERS} Linear(${LAYER_WIDTH}, ${LAYER_WIDTH}) layers (x → tanh(layer(x)) for each): \`nnx.jit\`'s graph split/merge around a tiny program (µs per layer = time / ${LAYERS})`,
    layers: LAYERS
  },
  {
    id: "split-merge-100",
    title: `split+merge ${LAYERS} layers`,
    measures: `\`nnx.split(model)\` then \`nnx.merge(graphdef, state)\` of the same ${LAYERS}-layer stack (µs per layer = time / ${LAYERS})`,
    layers: LAYERS
  },
  {
    id: "split-merge-deep",
    title: `split+merge ${DEEP_CHAIN.toLocaleString("en")}-deep chain`,
    measures: `\`nnx.split\` then \`nnx.merge\` of a chain of ${DEEP_CHAIN.toLocaleString("en")} Modules, each holding a scalar Param and the next Module; the footnote gives the heap the split's GraphDef and State take (µs per level = time / ${DEEP_CHAIN})`,
    layers: DEEP_CHAIN
  }
]

/** Rows named by `BENCH_ROWS` (comma-separated ids or id prefixes, e.g. `matmul,mlp-step`); all when unset. */
export const selectRows = (spec: string | undefined): ReadonlyArray<Row> => {
  if (spec === undefined || spec.trim() === "") return rows
  const wanted = spec
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
  const unknown = wanted.filter((w) => !rowIds.some((id) => id.startsWith(w)))
  if (unknown.length > 0)
    throw new Error(`BENCH_ROWS: no row matches ${unknown.join(", ")} (rows: ${rowIds.join(", ")})`)
  return rows.filter((r) => wanted.some((w) => r.id.startsWith(w)))
}

/** Deterministic standard-normal float32 data (xorshift32 + Box-Muller), scaled. */
export const normalData = (seed: number, size: number, scale = 1): Float32Array => {
  let s = (seed * 2654435761) >>> 0 || 1
  const next = (): number => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return (s + 0.5) / 4294967296
  }
  const out = new Float32Array(size)
  for (let i = 0; i < size; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next()))
    const t = 2 * Math.PI * next()
    out[i] = r * Math.cos(t) * scale
    if (i + 1 < size) out[i + 1] = r * Math.sin(t) * scale
  }
  return out
}

/** One-hot float32 labels, `batch` × `classes`, the class of row i being i·7 mod classes. */
export const oneHotData = (batch: number, classes: number): Float32Array => {
  const out = new Float32Array(batch * classes)
  for (let i = 0; i < batch; i++) out[i * classes + ((i * 7) % classes)] = 1
  return out
}

/** Inputs every JavaScript contestant starts from, per row. */
export const inputs = {
  matmul: (n: number) => ({ a: normalData(1, n * n), b: normalData(2, n * n) }),
  chain: () => normalData(3, CHAIN_SIZE),
  pegrad: () => ({
    w: normalData(4, PEGRAD_WIDTH * PEGRAD_WIDTH, 1 / Math.sqrt(PEGRAD_WIDTH)),
    xs: normalData(5, PEGRAD_BATCH * PEGRAD_WIDTH)
  }),
  mlp: () => ({
    layers: MLP_SIZES.slice(1).map((dout, i) => {
      const din = MLP_SIZES[i]!
      return { din, dout, w: normalData(10 + i, din * dout, 1 / Math.sqrt(din)), b: new Float32Array(dout) }
    }),
    x: normalData(20, MLP_BATCH * MLP_SIZES[0]),
    y: oneHotData(MLP_BATCH, MLP_SIZES[MLP_SIZES.length - 1]!)
  }),
  stack: () => ({
    layers: Array.from({ length: LAYERS }, (_, i) => ({
      w: normalData(100 + i, LAYER_WIDTH * LAYER_WIDTH, 1 / Math.sqrt(LAYER_WIDTH)),
      b: new Float32Array(LAYER_WIDTH)
    })),
    x: normalData(30, LAYER_WIDTH)
  })
}
