"""Golden values of Flax NNX's object graph for effect-nnx's ``nnx`` graph layer.

Writes ``test/goldens/graph.json``, read by ``test/graph/goldens.test.ts``:

- ``rngs``: the first keys (key data) that ``nnx.Rngs`` streams return, and the counts after;
- ``rngs_api``: ``rngs()``, attribute fallback, ``Rngs.split``/``fork``, ``RngStream.split``/``fork``,
  ``nnx.reseed`` (key data and counts) and the ``jax.random`` functions bound to ``Rngs`` (samples);
- ``size_bytes``: Flax's element/byte count strings (``SizeBytes`` repr) for sizes around its
  unit boundaries;
- ``variable_repr``: ``repr`` of Variables (the guide's ``Count( # 10 (40 B) ...`` output form);
- ``split_paths`` / ``iter_graph``: which paths ``nnx.split`` puts in the State and in which order
  (shared Variables once, at their first path; cycles), and the order of ``nnx.iter_graph``.

Attribute names are chosen to be the same in Python and TypeScript (no snake_case), so the
TypeScript test can compare paths directly.

Re-run from the repository root with a Python that has Flax installed (``-P`` keeps this
directory's ``random_goldens.py`` from shadowing Python's ``random``)::

    python -P tools/goldens/graph_goldens.py

The output is deterministic: the same Flax/JAX versions write the same file.
"""

from __future__ import annotations

import json
import os
import pathlib

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import flax  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from flax import nnx  # noqa: E402
from flax.typing import SizeBytes  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "goldens" / "graph.json"


def key_data(k) -> list[int]:
    return jax.random.key_data(k).tolist()


def rngs_cases() -> list[dict]:
    cases = []
    for seed in [0, 1, 42, 2**31 - 1]:
        rngs = nnx.Rngs(seed, params=seed + 1)
        default = [key_data(rngs.default()) for _ in range(3)]
        # unknown names fall back to the default stream
        fallback = key_data(rngs.dropout())
        params = [key_data(rngs.params()) for _ in range(2)]
        cases.append({
            "seed": seed,
            "default": default,
            "fallback": fallback,
            "params": params,
            "default_count": int(rngs.default.count[...]),
            "params_count": int(rngs.params.count[...]),
        })
    return cases


def size_bytes_cases() -> list[dict]:
    out = []
    for size, nbytes in [(0, 0), (1, 4), (90, 360), (250, 1000), (251, 1004), (1250, 1250), (1350, 1350),
                         (1150, 1150), (313000, 1252000), (2_500_000, 10_000_000), (1_000_000_000, 4_000_000_000),
                         (1_250_000_000, 1_250_000_000)]:
        out.append({"size": size, "bytes": nbytes, "repr": repr(SizeBytes(size, nbytes))})
    return out


class Count(nnx.Variable):
    pass


def variable_repr_cases() -> list[dict]:
    count = Count(jnp.arange(10))
    count[...] += 1
    scalar = Count(jnp.array(0))
    scalar[...] += 1
    return [
        {"name": "count_arange", "repr": repr(count)},
        {"name": "count_scalar", "repr": repr(scalar)},
        {"name": "param_zeros", "repr": repr(nnx.Param(jnp.zeros((2, 3))))},
        {"name": "rng_count", "repr": repr(nnx.RngCount(jnp.zeros((), jnp.uint32), tag="noise"))},
    ]


class Linear(nnx.Module):
    def __init__(self, din: int, dout: int):
        self.kernel = nnx.Param(jnp.ones((din, dout)))
        self.bias = nnx.Param(jnp.zeros((dout,)))
        self.din = din


class Tied(nnx.Module):
    def __init__(self):
        self.encoder = Linear(2, 2)
        self.decoder = Linear(2, 2)
        self.decoder.kernel = self.encoder.kernel


class Node(nnx.Module):
    def __init__(self, v: int):
        self.value = nnx.Param(jnp.array(v))
        self.next = None


class Stack(nnx.Module):
    def __init__(self):
        shared = Linear(1, 1)
        self.layers = nnx.List([shared, Linear(1, 2), shared])
        self.head = Linear(2, 1)
        self.stats = nnx.BatchStat(jnp.zeros((2,)))


def paths(state) -> list[list]:
    return [list(p) for p, _ in nnx.to_flat_state(state)]


def split_cases() -> list[dict]:
    a, b = Node(1), Node(2)
    a.next, b.next = nnx.data(b), nnx.data(a)
    stack = Stack()
    _, params, rest = nnx.split(stack, nnx.Param, ...)
    return [
        {"name": "tied", "paths": paths(nnx.split(Tied())[1])},
        {"name": "cycle", "paths": paths(nnx.split(a)[1])},
        {"name": "stack", "paths": paths(nnx.split(stack)[1])},
        {"name": "stack_params", "paths": paths(params)},
        {"name": "stack_rest", "paths": paths(rest)},
    ]


def iter_graph_case() -> list[list]:
    m = Linear(3, 4)
    out = []
    for path, value in nnx.iter_graph([m, m], graph=True):
        if any(str(k).startswith("_") for k in path):
            continue  # Flax's internal bookkeeping attributes
        kind = type(value).__name__
        out.append([list(path), kind if kind in ("Param", "Linear", "list") else value])
    return out


def rngs_api_cases() -> dict:
    out: dict = {}
    r = nnx.Rngs(0, params=1)
    out["call"] = key_data(r())
    out["attr_fallback"] = key_data(r.dropout())
    out["call_count"] = int(r.default.count[...])
    missing = nnx.Rngs(params=1)
    try:
        missing()
    except AttributeError as e:
        out["no_default_message"] = str(e)
    r = nnx.Rngs(params=1, dropout=2)
    s = r.split(3)
    out["split"] = {"params": key_data(s.params.key[...]), "dropout": key_data(s.dropout.key[...]),
                    "count": s.params.count[...].tolist(), "source_count": int(r.params.count[...])}
    s = r.split({"params": (2,), "dropout": None})
    out["split_map"] = {"params": key_data(s.params.key[...]), "dropout": key_data(s.dropout.key[...]),
                        "dropout_count": int(s.dropout.count[...]),
                        "source_counts": [int(r.params.count[...]), int(r.dropout.count[...])]}
    s = nnx.Rngs(params=1, dropout=2, noise=3).split({"params": 5, "dropout": None, ...: (2, 5)})
    out["split_shapes"] = [list(s.params.key.shape), list(s.dropout.key.shape), list(s.noise.key.shape)]
    f = nnx.Rngs(params=1, dropout=2).fork()
    out["fork"] = {"params": key_data(f.params.key[...]), "dropout": key_data(f.dropout.key[...]),
                   "params_next": key_data(f.params())}
    st = nnx.RngStream(3, tag="x")
    out["stream_split"] = key_data(st.split(2).key[...])
    out["stream_fork"] = key_data(st.fork().key[...])
    out["stream_count"] = int(st.count[...])

    class Holder(nnx.Module):
        def __init__(self, rngs):
            self.a = rngs.params.fork()
            self.b = nnx.Rngs(dropout=5, params=6)

    m = Holder(nnx.Rngs(params=0))
    nnx.reseed(m, params=7, dropout=9)
    out["reseed"] = {"a": key_data(m.a.key[...]), "b_params": key_data(m.b.params.key[...]),
                     "b_dropout": key_data(m.b.dropout.key[...]), "count": int(m.a.count[...])}
    batched = nnx.Rngs(params=jax.random.split(jax.random.key(0), 3))
    try:
        nnx.reseed(batched, params=1)
    except ValueError as e:
        out["reseed_scalars_only_error"] = type(e).__name__
    nnx.reseed(batched, params=1, policy="match_shape")
    out["reseed_match_shape"] = key_data(batched.params.key[...])

    d = nnx.Rngs(0)
    out["random"] = {
        "normal": d.normal((2,)).tolist(),
        "uniform": d.uniform((2,), minval=1.0, maxval=2.0).tolist(),
        "bernoulli": d.bernoulli(0.5, (4,)).tolist(),
        "count": int(d.default.count[...]),
        "stream_normal": nnx.RngStream(5, tag="a").normal((2,)).tolist(),
        "randint": nnx.Rngs(0).randint((3,), 0, 10).tolist(),
        "truncated_normal": nnx.Rngs(0).truncated_normal(-1.0, 1.0, (2,)).tolist(),
        "permutation": nnx.Rngs(0).permutation(5).tolist(),
        "categorical": nnx.Rngs(0).categorical(jnp.array([0.5, 1.0, 2.0]), shape=(4,)).tolist(),
        "bits": nnx.Rngs(0).bits((2,)).tolist(),
    }
    out["random_methods"] = sorted(
        n for n in dir(nnx.Rngs) if not n.startswith("_") and n not in ("split", "fork", "broadcast", "items")
    )
    return out


def main() -> None:
    data = {
        "flax_version": flax.__version__,
        "jax_version": jax.__version__,
        "rngs": rngs_cases(),
        "rngs_api": rngs_api_cases(),
        "size_bytes": size_bytes_cases(),
        "variable_repr": variable_repr_cases(),
        "split_paths": split_cases(),
        "iter_graph": iter_graph_case(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
