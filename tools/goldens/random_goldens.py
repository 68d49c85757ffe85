"""Golden values of ``jax.random`` for effect-nnx's ``random`` namespace.

Writes ``test/goldens/random.json``, read by ``test/random/random.test.ts``: for a few seeds and
shapes, key data, ``split``, ``fold_in``, ``bits`` and the samplers (uniform, normal, bernoulli,
randint, permutation, categorical, truncated_normal), computed by JAX on CPU with its default
``jax_threefry_partitionable=True`` and 64-bit mode off.

Re-run from the repository root with a Python that has JAX installed::

    python tools/goldens/random_goldens.py

The output is deterministic: the same JAX version writes the same file.
"""

from __future__ import annotations

import json
import os
import pathlib

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", False)
jax.config.update("jax_threefry_partitionable", True)

random = jax.random

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "goldens" / "random.json"

SEEDS = [0, 1, 42, 2**31 - 1, -1]
SHAPES = [(), (3,), (2, 3), (4, 5, 2)]


def f32(x) -> object:
    """Float32 values as nested lists of the shortest decimals that read back as the same float32."""
    a = np.asarray(x, dtype=np.float32)
    if a.ndim == 0:
        # repr of a float32 scalar is its shortest round-tripping decimal
        return float(repr(a[()]).removeprefix("np.float32(").removesuffix(")"))
    return [f32(r) for r in a]


def ints(x) -> object:
    return np.asarray(x).tolist()


def key_data(k) -> object:
    return ints(random.key_data(k))


def main() -> None:
    cases: dict[str, list[dict]] = {name: [] for name in [
        "key", "split", "fold_in", "bits", "uniform", "normal", "bernoulli", "randint",
        "permutation", "categorical", "truncated_normal",
    ]}

    for seed in SEEDS:
        k = random.key(seed)
        cases["key"].append({"seed": seed, "data": key_data(k)})
        for num in [2, 3, 5, [2, 3]]:
            cases["split"].append({"seed": seed, "num": num, "data": key_data(random.split(k, tuple(num) if isinstance(num, list) else num))})
        for d in [0, 1, 7, 123456, 2**31, 2**32 - 1]:
            cases["fold_in"].append({"seed": seed, "data": d, "out": key_data(random.fold_in(k, d))})

        for shape in SHAPES:
            s = list(shape)
            cases["bits"].append({"seed": seed, "shape": s, "out": ints(random.bits(k, shape))})
            cases["uniform"].append({"seed": seed, "shape": s, "minval": 0, "maxval": 1, "out": f32(random.uniform(k, shape))})
            cases["uniform"].append({"seed": seed, "shape": s, "minval": -2.5, "maxval": 3, "out": f32(random.uniform(k, shape, minval=-2.5, maxval=3.0))})
            cases["normal"].append({"seed": seed, "shape": s, "out": f32(random.normal(k, shape))})
            cases["bernoulli"].append({"seed": seed, "p": 0.3, "shape": s, "out": ints(random.bernoulli(k, 0.3, shape))})
            cases["truncated_normal"].append({"seed": seed, "lower": -1, "upper": 2, "shape": s, "out": f32(random.truncated_normal(k, -1.0, 2.0, shape))})
            for lo, hi, dtype in [(0, 10, "int32"), (-5, 5, "int32"), (-100, 7, "int32"), (3, 3, "int32"), (5, 2, "int32"),
                                  (-(2**31), 2**31 - 1, "int32"), (0, 10, "uint32"), (-5, 10, "uint32")]:
                cases["randint"].append({"seed": seed, "shape": s, "minval": lo, "maxval": hi, "dtype": dtype,
                                         "out": ints(random.randint(k, shape, lo, hi, dtype=dtype))})

        # Parameters given as arrays, broadcast against the sample shape.
        lo_arr, hi_arr = [0.0, -1.0, 10.0], [1.0, 1.0, 20.0]
        cases["uniform"].append({"seed": seed, "shape": [2, 3], "minval": lo_arr, "maxval": hi_arr,
                                 "out": f32(random.uniform(k, (2, 3), minval=jnp.array(lo_arr), maxval=jnp.array(hi_arr)))})
        p_arr = [0.1, 0.5, 0.9]
        cases["bernoulli"].append({"seed": seed, "p": p_arr, "shape": [2, 3], "out": ints(random.bernoulli(k, jnp.array(p_arr), (2, 3)))})
        cases["bernoulli"].append({"seed": seed, "p": p_arr, "shape": None, "out": ints(random.bernoulli(k, jnp.array(p_arr)))})
        tl, tu = [-1.0, 0.0, 0.5], [1.0, 3.0, 0.75]
        cases["truncated_normal"].append({"seed": seed, "lower": tl, "upper": tu, "shape": None,
                                          "out": f32(random.truncated_normal(k, jnp.array(tl), jnp.array(tu)))})
        imin, imax = [0, -3, 10], [5, 3, 1000]
        cases["randint"].append({"seed": seed, "shape": [2, 3], "minval": imin, "maxval": imax, "dtype": "int32",
                                 "out": ints(random.randint(k, (2, 3), jnp.array(imin), jnp.array(imax)))})

        for n in [0, 1, 2, 10, 100]:
            cases["permutation"].append({"seed": seed, "x": n, "axis": 0, "independent": False, "out": ints(random.permutation(k, n))})
        x = np.arange(12, dtype=np.int32).reshape(3, 4)
        for axis in [0, 1, -1]:
            for independent in [False, True]:
                cases["permutation"].append({"seed": seed, "x": ints(x), "axis": axis, "independent": independent,
                                             "out": ints(random.permutation(k, jnp.asarray(x), axis=axis, independent=independent))})
        xf = np.linspace(-1, 1, 7, dtype=np.float32)
        cases["permutation"].append({"seed": seed, "x": f32(xf), "axis": 0, "independent": False,
                                     "out": f32(random.permutation(k, jnp.asarray(xf)))})

        logits = np.asarray(np.random.default_rng(abs(seed) % 1000).normal(size=(3, 4)), dtype=np.float32)
        lg = f32(logits)
        logits = np.asarray(lg, dtype=np.float32)
        for axis, shape in [(-1, None), (0, None), (1, None), (-1, (5, 3)), (0, (2, 4))]:
            cases["categorical"].append({"seed": seed, "logits": lg, "axis": axis, "shape": None if shape is None else list(shape),
                                         "out": ints(random.categorical(k, jnp.asarray(logits), axis=axis, shape=shape))})

    doc = {
        "_comment": f"Generated by tools/goldens/random.py with jax {jax.__version__} "
                    "(jax_threefry_partitionable=True, x64 off); do not edit by hand.",
        "jax_version": jax.__version__,
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
