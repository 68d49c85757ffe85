"""Golden values of the extra ``jax.nn`` activations, ``jax.random`` samplers and ``jax.lax`` helpers.

Writes ``test/goldens/nn_random_extra.json``, read by ``test/backend/nnExtra.test.ts``,
``test/random/moreDistributions.test.ts`` and ``test/transforms/laxExtra.test.ts``: activation values
and elementwise derivatives (at the kinks included), ``standardize`` and ``glu``; Gumbel, exponential,
Laplace, logistic, Pareto, Rayleigh, Weibull, Maxwell, geometric, Rademacher and ``choice`` samples for a few keys; and
``lax.top_k`` / ``dynamic_slice_in_dim`` / ``dynamic_update_slice_in_dim``. Computed by JAX on CPU with
64-bit mode off and ``jax_threefry_partitionable=True``.

Non-finite floats are written as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (JSON has
no literals for them). Re-run from the repository root with a Python that has JAX installed::

    python tools/goldens/nn_random_extra.py
"""

from __future__ import annotations

import json
import math
import os
import pathlib

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", False)
jax.config.update("jax_threefry_partitionable", True)

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "goldens" / "nn_random_extra.json"


def f32(x) -> object:
    """Float32 values as nested lists of the shortest decimals that read back as the same float32."""
    a = np.asarray(x, dtype=np.float32)
    if a.ndim == 0:
        v = a[()]
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return float(repr(v).removeprefix("np.float32(").removesuffix(")"))
    return [f32(r) for r in a]


def ints(x) -> object:
    return np.asarray(x).tolist()


# Kinks of every activation (0, ±1, ±3, 6), points between them, and the non-finite values.
XS = [-7.0, -6.0, -3.0, -2.0, -1.0, -0.5, 0.0, 0.25, 1.0, 1.5, 3.0, 5.0, 6.0, 8.0, 30.0, -30.0,
      float("nan"), float("inf"), float("-inf")]

ACTIVATIONS = {
    "leakyRelu": lambda x: jax.nn.leaky_relu(x),
    "leakyRelu_0.2": lambda x: jax.nn.leaky_relu(x, 0.2),
    "elu": lambda x: jax.nn.elu(x),
    "elu_0.5": lambda x: jax.nn.elu(x, 0.5),
    "celu": lambda x: jax.nn.celu(x),
    "celu_0.7": lambda x: jax.nn.celu(x, 0.7),
    "selu": jax.nn.selu,
    "logSigmoid": jax.nn.log_sigmoid,
    "hardTanh": jax.nn.hard_tanh,
    "relu6": jax.nn.relu6,
    "hardSigmoid": jax.nn.hard_sigmoid,
    "hardSilu": jax.nn.hard_silu,
    "softSign": jax.nn.soft_sign,
    "sparsePlus": jax.nn.sparse_plus,
}

SEEDS = [0, 1, 42]
SHAPES = [(), (3,), (2, 3)]


def nn_cases() -> dict:
    x = jnp.asarray(XS, dtype=jnp.float32)
    out = {"xs": f32(x), "activations": {}}
    for name, f in ACTIVATIONS.items():
        out["activations"][name] = {"value": f32(f(x)), "grad": f32(jax.vmap(jax.grad(f))(x))}
    m = jnp.asarray([[1.0, 2.0, 4.0, -1.0, 0.5], [3.0, 3.0, 3.0, 3.0, 3.0]], dtype=jnp.float32)
    out["standardize"] = [
        {"x": f32(m), "axis": -1, "out": f32(jax.nn.standardize(m))},
        {"x": f32(m), "axis": 0, "out": f32(jax.nn.standardize(m, axis=0))},
        {"x": f32(m), "axis": -1, "mean": 1.0, "variance": 4.0, "epsilon": 0.0,
         "out": f32(jax.nn.standardize(m, mean=1.0, variance=4.0, epsilon=0.0))},
    ]
    g = jnp.asarray([[1.0, -2.0, 0.5, 3.0], [0.0, 1.0, -1.0, 2.0]], dtype=jnp.float32)
    out["glu"] = [
        {"x": f32(g), "axis": -1, "out": f32(jax.nn.glu(g))},
        {"x": f32(g), "axis": 0, "out": f32(jax.nn.glu(g, axis=0))},
    ]
    return out


def random_cases() -> dict:
    r = jax.random
    cases: dict[str, list] = {n: [] for n in [
        "gumbel", "gumbel_high", "exponential", "laplace", "logistic", "pareto", "rayleigh",
        "weibull_min", "rademacher", "maxwell", "geometric", "choice"]}
    for seed in SEEDS:
        k = r.key(seed)
        for shape in SHAPES:
            s = list(shape)
            cases["gumbel"].append({"seed": seed, "shape": s, "out": f32(r.gumbel(k, shape))})
            cases["gumbel_high"].append({"seed": seed, "shape": s, "out": f32(r.gumbel(k, shape, mode="high"))})
            cases["exponential"].append({"seed": seed, "shape": s, "out": f32(r.exponential(k, shape))})
            cases["laplace"].append({"seed": seed, "shape": s, "out": f32(r.laplace(k, shape))})
            cases["logistic"].append({"seed": seed, "shape": s, "out": f32(r.logistic(k, shape))})
            cases["pareto"].append({"seed": seed, "b": 3.0, "shape": s, "out": f32(r.pareto(k, 3.0, shape))})
            cases["rayleigh"].append({"seed": seed, "scale": 2.0, "shape": s, "out": f32(r.rayleigh(k, 2.0, shape))})
            cases["weibull_min"].append({"seed": seed, "scale": 1.5, "concentration": 2.0, "shape": s,
                                         "out": f32(r.weibull_min(k, 1.5, 2.0, shape))})
            cases["rademacher"].append({"seed": seed, "shape": s, "out": ints(r.rademacher(k, shape))})
            cases["maxwell"].append({"seed": seed, "shape": s, "out": f32(r.maxwell(k, shape))})
            cases["geometric"].append({"seed": seed, "p": 0.3, "shape": s, "out": ints(r.geometric(k, 0.3, shape))})
        cases["pareto"].append({"seed": seed, "b": [1.0, 2.0, 5.0], "shape": None,
                                "out": f32(r.pareto(k, jnp.asarray([1.0, 2.0, 5.0])))})
        cases["geometric"].append({"seed": seed, "p": [0.05, 0.5, 0.9, 1.0], "shape": None,
                                   "out": ints(r.geometric(k, jnp.asarray([0.05, 0.5, 0.9, 1.0])))})
        a2 = jnp.arange(12, dtype=jnp.float32).reshape(3, 4)
        p = [0.1, 0.2, 0.3, 0.4]
        for a, shape, replace, probs, axis in [
            (10, (3,), True, None, 0), (10, (2, 3), True, None, 0), (10, (5,), False, None, 0),
            (10, (3,), True, [0.05] * 5 + [0.15] * 5, 0), (10, (4,), False, [0.05] * 5 + [0.15] * 5, 0),
            ("a2", (2,), True, None, 0), ("a2", (2,), False, None, 1), ("a2", (3,), True, p, 1),
            ("a2", (2,), False, p, 1), ("a2", (2, 2), True, None, 1), (4, (4,), False, p, 0),
        ]:
            arr = a2 if a == "a2" else a
            out = r.choice(k, arr, shape, replace=replace, p=None if probs is None else jnp.asarray(probs), axis=axis)
            cases["choice"].append({"seed": seed, "a": f32(a2) if a == "a2" else a, "shape": list(shape), "replace": replace,
                                    "p": probs, "axis": axis, "dtype": str(out.dtype),
                                    "out": f32(out) if out.dtype == jnp.float32 else ints(out)})
    return cases


def lax_cases() -> dict:
    lax = jax.lax
    x = jnp.asarray([[3.0, 1.0, 3.0, 5.0, -2.0, 0.5], [0.0, -1.0, 7.0, 7.0, 2.0, 7.0]], dtype=jnp.float32)
    xi = jnp.asarray([4, -2147483648, 2147483647, 4, 0, -1], dtype=jnp.int32)
    top = []
    for arr, kk in [(x, 3), (x, 6), (x, 0), (xi, 4)]:
        v, i = lax.top_k(arr, kk)
        top.append({"x": f32(arr) if arr.dtype == jnp.float32 else ints(arr), "dtype": str(arr.dtype), "k": kk,
                    "values": f32(v) if v.dtype == jnp.float32 else ints(v), "indices": ints(i)})
    y = jnp.arange(20, dtype=jnp.float32).reshape(4, 5)
    ds = []
    for start, size, axis in [(1, 2, 0), (3, 3, 1), (-2, 2, 1), (4, 2, 0), (-9, 1, 1)]:
        ds.append({"start": start, "size": size, "axis": axis, "out": f32(lax.dynamic_slice_in_dim(y, start, size, axis))})
    dus = []
    for start, axis in [(1, 0), (3, 1), (-1, 1), (9, 0)]:
        upd = jnp.full((2, 5) if axis == 0 else (4, 2), -1.0, dtype=jnp.float32)
        dus.append({"start": start, "axis": axis, "update_shape": list(upd.shape),
                    "out": f32(lax.dynamic_update_slice_in_dim(y, upd, start, axis))})
    xs = jnp.arange(12, dtype=jnp.float32).reshape(3, 4)
    mapped = lax.map(lambda r: jnp.sum(r * r) + jnp.max(r), xs)
    return {"x": f32(y), "top_k": top, "dynamic_slice_in_dim": ds, "dynamic_update_slice_in_dim": dus,
            "map": {"xs": f32(xs), "out": f32(mapped)}}


def main() -> None:
    data = {"jax_version": jax.__version__, "nn": nn_cases(), "random": random_cases(), "lax": lax_cases()}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
