"""JAX (XLA CPU) and Flax NNX contestants of `npm run bench` (bench/run.ts).

Needs a Python with jax (and flax for the lifted rows `nnx-jit-100` and `split-merge-100`).
bench/run.ts starts it with `--serve` when EFFECT_NNX_BENCH_PYTHON names such a Python and drives it
over stdin/stdout, one JSON object a line, so that its samples interleave with the JavaScript
contestants' samples:

    {"op": "hello"}                 -> {"ok": true, "jax": "0.x", "flax": "0.y" | null, "device": "..."}
    {"op": "setup", "row": "<id>"}  -> {"ok": true, "warm_ms": <ms of one warm call>} | {"ok": false, "reason": "..."}
    {"op": "run", "n": <calls>}     -> {"ok": true, "ms": <total ms of n calls>}
    {"op": "teardown"}              -> {"ok": true}

Timing happens here (time.perf_counter around the calls), so pipe latency is not counted. Every
call blocks until its result is ready and copies it to a NumPy array on the host. Compilation is
done in `setup` (two warm-up calls).

Without `--serve`, it measures the rows itself and prints one JSON object of median milliseconds:

    python bench/jax_bench.py [--rows matmul-128,mlp-step] [--budget-ms 1000]
"""

import argparse
import json
import statistics
import sys
import time

import numpy as np

import jax
import jax.numpy as jnp

try:
    from flax import nnx
    import flax

    FLAX_VERSION = flax.__version__
except Exception:  # flax is optional: the lifted rows are skipped without it
    nnx = None
    FLAX_VERSION = None

LAYERS = 100
LAYER_WIDTH = 8


def rng(seed):
    return np.random.default_rng(seed)


def normal(seed, shape, scale=1.0):
    return jnp.asarray((rng(seed).standard_normal(shape) * scale).astype(np.float32))


def host(tree):
    """Blocks until every leaf is computed and copies it to the host."""
    return [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(jax.block_until_ready(tree))]


def matmul_case(n):
    a = normal(1, (n, n))
    b = normal(2, (n, n))
    mm = jax.jit(jnp.matmul)
    return lambda: host(mm(a, b))


def chain(x):
    return jnp.tanh(x * 2 + 1) * x


def chain_eager_case():
    x = normal(3, (1 << 20,))
    # op by op, as JAX dispatches eagerly (each primitive is its own compiled computation)
    return lambda: host(chain(x))


def chain_jit_case():
    x = normal(3, (1 << 20,))
    f = jax.jit(chain)
    return lambda: host(f(x))


def pegrad_case():
    w = normal(4, (64, 64), 1 / 8)
    xs = normal(5, (1024, 64))

    def loss(w, x):
        return jnp.sum(jnp.tanh(x @ w))

    f = jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0)))
    return lambda: host(f(w, xs))


def mlp_params(seed):
    sizes = [784, 512, 512, 10]
    params = []
    for i, (din, dout) in enumerate(zip(sizes[:-1], sizes[1:])):
        params.append({"w": normal(seed + i, (din, dout), 1 / np.sqrt(din)), "b": jnp.zeros((dout,), jnp.float32)})
    return params


def mlp_case():
    state = {"params": mlp_params(10)}
    x = normal(20, (128, 784))
    labels = rng(21).integers(0, 10, 128)
    y = jnp.asarray(np.eye(10, dtype=np.float32)[labels])

    def loss(params, x, y):
        h = x
        for i, layer in enumerate(params):
            h = h @ layer["w"] + layer["b"]
            if i < len(params) - 1:
                h = jax.nn.relu(h)
        return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(h, axis=-1), axis=-1))

    @jax.jit
    def step(params, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        return value, jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, grads)

    def run():
        value, state["params"] = step(state["params"], x, y)
        host((value, state["params"]))

    return run


if nnx is not None:

    class Linear(nnx.Module):
        def __init__(self, din, dout, rngs):
            self.kernel = nnx.Param(jax.random.normal(rngs.params(), (din, dout)) / np.sqrt(din))
            self.bias = nnx.Param(jnp.zeros((dout,)))

        def __call__(self, x):
            return x @ self.kernel[...] + self.bias[...]

    class Stack(nnx.Module):
        def __init__(self, n, width, rngs):
            self.layers = nnx.List([Linear(width, width, rngs) for _ in range(n)])

        def __call__(self, x):
            for layer in self.layers:
                x = jnp.tanh(layer(x))
            return x


def nnx_jit_case():
    if nnx is None:
        raise RuntimeError("flax is not installed")
    model = Stack(LAYERS, LAYER_WIDTH, nnx.Rngs(params=0))
    x = normal(30, (LAYER_WIDTH,))
    f = nnx.jit(lambda m, x: m(x))
    return lambda: host(f(model, x))


def split_merge_case():
    if nnx is None:
        raise RuntimeError("flax is not installed")
    model = Stack(LAYERS, LAYER_WIDTH, nnx.Rngs(params=0))

    def run():
        graphdef, state = nnx.split(model)
        nnx.merge(graphdef, state)

    return run


CASES = {
    "matmul-128": lambda: matmul_case(128),
    "matmul-512": lambda: matmul_case(512),
    "matmul-1024": lambda: matmul_case(1024),
    "matmul-2048": lambda: matmul_case(2048),
    "chain-eager": chain_eager_case,
    "chain-jit": chain_jit_case,
    "pegrad": pegrad_case,
    "mlp-step": mlp_case,
    "nnx-jit-100": nnx_jit_case,
    "split-merge-100": split_merge_case,
}


def timed(f, n):
    start = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - start) * 1000


def setup(row):
    if row not in CASES:
        raise RuntimeError(f"no JAX case for row {row}")
    f = CASES[row]()
    f()  # compiles
    return f, timed(f, 1)


def serve():
    current = None
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        msg = json.loads(line)
        op = msg.get("op")
        try:
            if op == "hello":
                out = {"ok": True, "jax": jax.__version__, "flax": FLAX_VERSION, "device": str(jax.devices()[0])}
            elif op == "setup":
                current = None
                current, warm = setup(msg["row"])
                out = {"ok": True, "warm_ms": warm}
            elif op == "run":
                if current is None:
                    raise RuntimeError("run before setup")
                out = {"ok": True, "ms": timed(current, int(msg["n"]))}
            elif op == "teardown":
                current = None
                out = {"ok": True}
            else:
                raise RuntimeError(f"unknown op {op!r}")
        except Exception as e:  # reported to bench/run.ts, which shows the row's JAX cell as missing
            current = None
            out = {"ok": False, "reason": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


def standalone(rows, budget_ms):
    result = {"jax": jax.__version__, "flax": FLAX_VERSION, "median_ms": {}}
    for row in rows:
        try:
            f, warm = setup(row)
        except Exception as e:
            result["median_ms"][row] = None
            print(f"{row}: {e}", file=sys.stderr)
            continue
        n = max(1, int(budget_ms / 10 / max(warm, 1e-3)))
        samples = [timed(f, n) / n for _ in range(10)]
        result["median_ms"][row] = statistics.median(samples)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", action="store_true", help="answer bench/run.ts's requests on stdin/stdout")
    parser.add_argument("--rows", default=",".join(CASES), help="comma-separated row ids")
    parser.add_argument("--budget-ms", type=float, default=1000, help="measuring time per row")
    args = parser.parse_args()
    if args.serve:
        serve()
    else:
        standalone([r for r in args.rows.split(",") if r], args.budget_ms)
