"""Golden values of convolutions and windowed reductions.

Writes ``test/goldens/conv.json``, read by ``test/backend/conv.test.ts`` and ``test/layers/conv.test.ts``:

- ``conv``: ``jax.lax.conv_general_dilated`` over ranks 1-3, strides, named and explicit padding
  (negative included), lhs/rhs dilation, feature and batch groups and layouts; with the gradients of
  ``sum(out * w)`` with respect to lhs and rhs for a fixed weight ``w``;
- ``convTranspose``: ``jax.lax.conv_transpose`` with and without ``transpose_kernel``;
- ``reduceWindow``: ``jax.lax.reduce_window`` for add/max/min with padding, strides and dilations, on
  integer-valued inputs so that max/min windows hold ties, with gradients of ``sum(out * w)``;
- ``vmap``: ``jax.vmap`` of a convolution over lhs, rhs and both, at several axes;
- ``layers``: ``nnx.Conv`` / ``nnx.ConvTranspose`` initial parameters and outputs for ``nnx.Rngs(0)``;
- ``pools``: ``nnx.max_pool``, ``nnx.avg_pool`` (with and without ``count_include_pad``), ``nnx.min_pool``.

Computed by JAX on CPU with 64-bit mode off. Re-run from the repository root::

    python tools/goldens/conv.py
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from flax import nnx  # noqa: E402

jax.config.update("jax_enable_x64", False)
jax.config.update("jax_threefry_partitionable", True)

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from goldens_json import result  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "goldens" / "conv.json"
rng = np.random.default_rng(0)
HI = jax.lax.Precision.HIGHEST


def data(shape, integer=False):
    if integer:
        return jnp.asarray(rng.integers(-3, 4, size=shape).astype(np.float32))
    return jnp.asarray(np.round(rng.standard_normal(shape), 3).astype(np.float32))


def conv_case(name, lhs_shape, rhs_shape, strides, padding, lhs_dil=None, rhs_dil=None, dn=None, fg=1, bg=1):
    lhs, rhs = data(lhs_shape), data(rhs_shape)

    def f(a, b):
        return jax.lax.conv_general_dilated(a, b, strides, padding, lhs_dilation=lhs_dil, rhs_dilation=rhs_dil,
                                            dimension_numbers=dn, feature_group_count=fg, batch_group_count=bg,
                                            precision=HI)

    out = f(lhs, rhs)
    w = data(out.shape)
    gl, gr = jax.grad(lambda a, b: jnp.sum(f(a, b) * w), argnums=(0, 1))(lhs, rhs)
    return {
        "name": name, "strides": list(strides),
        "padding": padding if isinstance(padding, str) else [list(p) for p in padding],
        "lhsDilation": lhs_dil, "rhsDilation": rhs_dil, "dimensionNumbers": list(dn) if dn else None,
        "featureGroupCount": fg, "batchGroupCount": bg,
        "lhs": result(lhs), "rhs": result(rhs), "out": result(out), "w": result(w),
        "gradLhs": result(gl), "gradRhs": result(gr),
    }


def conv_cases():
    return [
        conv_case("1d valid", (2, 3, 7), (4, 3, 3), (1,), "VALID"),
        conv_case("1d same stride 2", (2, 3, 8), (4, 3, 3), (2,), "SAME"),
        conv_case("1d same_lower stride 3", (1, 2, 10), (3, 2, 4), (3,), "SAME_LOWER"),
        conv_case("1d explicit negative", (2, 2, 9), (2, 2, 3), (1,), [(-1, 2)]),
        conv_case("1d lhs+rhs dilation", (2, 2, 6), (3, 2, 3), (2,), [(1, 2)], lhs_dil=(2,), rhs_dil=(2,)),
        conv_case("2d NCHW same", (2, 3, 6, 5), (4, 3, 3, 3), (1, 1), "SAME"),
        conv_case("2d NHWC strides", (2, 7, 6, 3), (3, 3, 3, 5), (2, 2), "SAME", dn=("NHWC", "HWIO", "NHWC")),
        conv_case("2d NHWC valid uneven", (1, 8, 7, 2), (3, 2, 2, 4), (3, 2), "VALID", dn=("NHWC", "HWIO", "NHWC")),
        conv_case("2d explicit", (2, 2, 5, 6), (3, 2, 2, 3), (1, 2), [(2, 1), (0, 3)]),
        conv_case("2d rhs dilation", (1, 3, 9, 9), (2, 3, 3, 3), (1, 1), "SAME", rhs_dil=(2, 3)),
        conv_case("2d lhs dilation", (2, 2, 4, 5), (3, 2, 3, 2), (1, 1), [(1, 1), (0, 2)], lhs_dil=(2, 3)),
        conv_case("2d feature groups", (2, 6, 5, 5), (8, 3, 3, 3), (1, 1), "SAME", fg=2),
        conv_case("2d depthwise NHWC", (2, 6, 6, 4), (3, 3, 1, 8), (2, 2), "SAME", dn=("NHWC", "HWIO", "NHWC"), fg=4),
        conv_case("2d batch groups", (4, 3, 6, 5), (6, 3, 2, 2), (1, 1), "VALID", bg=2),
        conv_case("2d batch groups strided", (6, 2, 7, 7), (6, 2, 3, 3), (2, 2), "SAME", bg=3),
        conv_case("2d odd layout", (5, 3, 2, 4), (3, 2, 2, 4), (1, 2), "SAME", dn=("HCNW", "IHWO", "WNHC")),
        conv_case("3d", (1, 2, 4, 5, 4), (3, 2, 2, 3, 2), (1, 2, 1), "SAME"),
        conv_case("3d NDHWC dilated", (2, 5, 4, 5, 2), (2, 2, 2, 2, 3), (2, 1, 2), [(1, 0), (0, 1), (2, 2)],
                  rhs_dil=(1, 2, 1), dn=("NDHWC", "DHWIO", "NDHWC")),
    ]


def transpose_cases():
    out = []
    for name, ls, ks, strides, padding, tk, dil in [
        ("1d same s2", (2, 5, 3), (3, 3, 4), (2,), "SAME", False, None),
        ("2d valid s2", (1, 4, 3, 2), (3, 3, 2, 5), (2, 2), "VALID", False, None),
        ("2d same s3 transposed kernel", (2, 3, 4, 2), (2, 3, 4, 2), (3, 1), "SAME", True, None),
        ("2d explicit dilated", (1, 4, 4, 3), (2, 2, 3, 2), (2, 2), [(1, 2), (0, 1)], False, (2, 1)),
        ("2d explicit consistent", (1, 4, 5, 3), (3, 2, 3, 2), (2, 3), [(1, 0), (0, 1)], "consistent", None),
    ]:
        lhs, rhs = data(ls), data(ks)
        consistent = tk == "consistent"
        tk = False if consistent else tk
        o = jax.lax.conv_transpose(lhs, rhs, strides, padding, rhs_dilation=dil, transpose_kernel=tk, precision=HI,
                                   use_consistent_padding=consistent)
        out.append({"name": name, "strides": list(strides), "useConsistentPadding": consistent,
                    "padding": padding if isinstance(padding, str) else [list(p) for p in padding],
                    "transposeKernel": tk, "rhsDilation": dil, "lhs": result(lhs), "rhs": result(rhs), "out": result(o)})
    return out


def rw_case(name, shape, comp, window, strides, padding, base=None, wdil=None, init=None):
    x = data(shape, integer=True)
    fn = {"add": jax.lax.add, "max": jax.lax.max, "min": jax.lax.min}[comp]
    init_v = init if init is not None else {"add": 0.0, "max": -np.inf, "min": np.inf}[comp]

    def f(a):
        return jax.lax.reduce_window(a, jnp.float32(init_v), fn, window, strides, padding,
                                     base_dilation=base, window_dilation=wdil)

    out = f(x)
    w = data(out.shape)
    t = data(shape)
    try:
        g = result(jax.grad(lambda a: jnp.sum(f(a) * w))(x))
        jt = result(jax.jvp(f, (x,), (t,))[1])
    except (NotImplementedError, TypeError, ValueError):  # JAX lacks some window derivatives (dilations, negative padding, other inits)
        g = jt = None
    return {"name": name, "computation": comp, "init": None if not np.isfinite(init_v) else init_v,
            "windowDimensions": list(window), "windowStrides": list(strides),
            "padding": padding if isinstance(padding, str) else [list(p) for p in padding],
            "baseDilation": base, "windowDilation": wdil,
            "x": result(x), "out": result(out), "w": result(w), "grad": g, "t": result(t), "jvp": jt}


def rw_cases():
    out = []
    for comp in ("add", "max", "min"):
        out += [
            rw_case(f"{comp} 2x2 s2", (2, 6, 6, 3), comp, (1, 2, 2, 1), (1, 2, 2, 1), "VALID"),
            rw_case(f"{comp} 3x3 s1 same", (1, 5, 5, 2), comp, (1, 3, 3, 1), (1, 1, 1, 1), "SAME"),
            rw_case(f"{comp} 1d overlapping", (3, 9), comp, (1, 3), (1, 2), [(0, 0), (2, 1)]),
            rw_case(f"{comp} dilations", (2, 7, 6), comp, (1, 2, 2), (1, 1, 2), [(0, 0), (1, 1), (0, 1)],
                    base=(1, 2, 1), wdil=(1, 2, 2)),
            rw_case(f"{comp} negative padding", (2, 8), comp, (1, 3), (1, 2), [(0, 0), (-1, 1)]),
        ]
    out.append(rw_case("add init 1 padded", (2, 5), "add", (1, 3), (1, 1), "SAME", init=1.0))
    out.append(rw_case("max init 0.5", (2, 5), "max", (1, 2), (1, 1), "SAME", init=0.5))
    return out


def vmap_cases():
    out = []
    for name, in_axes, ls, ks, fg in [
        ("lhs axis 0", (0, None), (3, 2, 2, 6, 5), (4, 2, 3, 3), 1),
        ("lhs axis 2", (2, None), (2, 2, 3, 6, 5), (4, 2, 3, 3), 1),
        ("rhs axis 0", (None, 0), (2, 2, 6, 5), (3, 4, 2, 3, 3), 1),
        ("rhs axis 3 groups", (None, 3), (2, 4, 6, 5), (4, 2, 3, 3, 3), 2),
        ("both", (0, 0), (3, 2, 2, 6, 5), (3, 4, 2, 3, 3), 1),
        ("both axis 1 groups", (1, 4), (2, 3, 4, 6, 5), (4, 2, 3, 3, 3), 2),
    ]:
        lhs, rhs = data(ls), data(ks)

        def f(a, b, fg=fg):
            return jax.lax.conv_general_dilated(a, b, (1, 1), "SAME", feature_group_count=fg, precision=HI)

        o = jax.vmap(f, in_axes=in_axes)(lhs, rhs)
        out.append({"name": name, "inAxes": list(in_axes), "featureGroupCount": fg,
                    "lhs": result(lhs), "rhs": result(rhs), "out": result(o)})
    # vmap over a batch-grouped convolution, batched lhs only
    lhs, rhs = data((2, 4, 3, 5, 5)), data((6, 3, 2, 2))
    o = jax.vmap(lambda a: jax.lax.conv_general_dilated(a, rhs, (1, 1), "VALID", batch_group_count=2, precision=HI))(lhs)
    out.append({"name": "lhs batch groups", "inAxes": [0, None], "batchGroupCount": 2,
                "lhs": result(lhs), "rhs": result(rhs), "out": result(o)})
    lhs, rhs = data((4, 3, 5, 5)), data((2, 6, 3, 2, 2))
    o = jax.vmap(lambda b: jax.lax.conv_general_dilated(lhs, b, (1, 1), "VALID", batch_group_count=2, precision=HI))(rhs)
    out.append({"name": "rhs batch groups", "inAxes": [None, 0], "batchGroupCount": 2,
                "lhs": result(lhs), "rhs": result(rhs), "out": result(o)})
    return out


def flat_state(m):
    return {".".join(map(str, k)): result(v.get_value() if hasattr(v, "get_value") else v.value)
            for k, v in nnx.state(m, nnx.Param).flat_state()}


def layer_cases():
    out = []
    specs = [
        ("Conv 2d", "Conv", (3, 8, (3, 3)), {}, (2, 6, 6, 3)),
        ("Conv 1d int kernel strides", "Conv", (2, 4, 3), {"strides": 2}, (2, 9, 2)),
        ("Conv valid no bias", "Conv", (3, 5, (2, 3)), {"padding": "VALID", "use_bias": False}, (1, 5, 6, 3)),
        ("Conv circular", "Conv", (2, 3, (3, 3)), {"padding": "CIRCULAR"}, (1, 4, 5, 2)),
        ("Conv causal", "Conv", (2, 3, (3,)), {"padding": "CAUSAL"}, (2, 6, 2)),
        ("Conv explicit dilations groups", "Conv", (4, 6, (3, 3)),
         {"padding": ((1, 2), (0, 1)), "kernel_dilation": (2, 1), "input_dilation": (1, 2), "feature_group_count": 2},
         (2, 5, 4, 4)),
        ("Conv unbatched", "Conv", (3, 4, (3, 3)), {}, (5, 5, 3)),
        ("Conv 3d", "Conv", (2, 3, (2, 2, 2)), {"strides": (1, 2, 1)}, (1, 3, 4, 3, 2)),
        ("Conv extra batch dims", "Conv", (2, 3, (3,)), {}, (2, 3, 5, 2)),
        ("ConvTranspose 2d", "ConvTranspose", (3, 4, (3, 3)), {}, (2, 4, 4, 3)),
        ("ConvTranspose strides valid", "ConvTranspose", (2, 3, (3, 3)), {"strides": (2, 2), "padding": "VALID"}, (1, 3, 3, 2)),
        ("ConvTranspose transpose_kernel", "ConvTranspose", (2, 3, (2, 3)), {"strides": 2, "transpose_kernel": True}, (2, 4, 3, 2)),
        ("ConvTranspose circular", "ConvTranspose", (2, 2, (3,)), {"strides": 2, "padding": "CIRCULAR"}, (1, 5, 2)),
        ("ConvTranspose 1d dilated no bias", "ConvTranspose", (2, 3, (3,)), {"kernel_dilation": 2, "use_bias": False}, (2, 6, 2)),
    ]
    for name, cls, args, kw, xshape in specs:
        m = getattr(nnx, cls)(*args, **kw, rngs=nnx.Rngs(0))
        x = data(xshape)
        out.append({"name": name, "layer": cls, "args": [a if not isinstance(a, tuple) else list(a) for a in args],
                    "options": {k: (v if not isinstance(v, tuple) else [list(e) if isinstance(e, tuple) else e for e in v])
                                for k, v in kw.items()},
                    "params": flat_state(m), "x": result(x), "y": result(m(x))})
    return out


def pool_cases():
    out = []
    for name, fn, x_shape, kw in [
        ("max 2x2", "max_pool", (2, 6, 6, 3), {"window_shape": (2, 2), "strides": (2, 2)}),
        ("max 3x3 same", "max_pool", (1, 5, 5, 2), {"window_shape": (3, 3), "strides": (1, 1), "padding": "SAME"}),
        ("max unbatched", "max_pool", (5, 4, 2), {"window_shape": (2, 2)}),
        ("avg 2x2", "avg_pool", (2, 6, 6, 3), {"window_shape": (2, 2), "strides": (2, 2)}),
        ("avg same include pad", "avg_pool", (1, 5, 5, 2), {"window_shape": (3, 3), "padding": "SAME"}),
        ("avg same exclude pad", "avg_pool", (1, 5, 5, 2), {"window_shape": (3, 3), "padding": "SAME", "count_include_pad": False}),
        ("avg 1d explicit", "avg_pool", (2, 7, 2), {"window_shape": (3,), "strides": (2,), "padding": ((1, 1),), "count_include_pad": False}),
        ("min 2x2 s1", "min_pool", (2, 5, 5, 1), {"window_shape": (2, 2), "strides": (1, 1)}),
    ]:
        x = data(x_shape, integer=True)
        f = getattr(nnx, fn)
        y = f(x, **kw)
        g = jax.grad(lambda a: jnp.sum(f(a, **kw) * jnp.arange(y.size, dtype=jnp.float32).reshape(y.shape)))(x)
        out.append({"name": name, "fn": fn,
                    "options": {k: (v if not isinstance(v, tuple) else [list(e) if isinstance(e, tuple) else e for e in v])
                                for k, v in kw.items()},
                    "x": result(x), "y": result(y), "grad": result(g)})
    return out


def main():
    goldens = {
        "conv": conv_cases(),
        "convTranspose": transpose_cases(),
        "reduceWindow": rw_cases(),
        "vmap": vmap_cases(),
        "layers": layer_cases(),
        "pools": pool_cases(),
    }
    OUT.write_text(json.dumps(goldens, separators=(",", ":")) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
