"""Golden outputs of the jax.lax helpers in src/backend/laxExtra.ts (clamp, integer_pow, square,
select_n, rev, slice_in_dim, index_in_dim, dynamic_index_in_dim, broadcast, broadcast_to_rank,
collapse, the trigonometric and hyperbolic functions, erfc, cbrt, exp2, population_count, clz).

    python tools/goldens/lax_helpers.py   # writes test/goldens/lax_helpers.json

Case format of tools/goldens/ops_extra.py: an `op`, array arguments, `params` in the TypeScript
option names, JAX's result(s); `kind: "grad"` cases hold jax.grad of sum(op(x)) in the first argument.
"""
import json
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from goldens_json import result  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "goldens" / "lax_helpers.json"
rng = np.random.default_rng(20261205)


def arr(data, dtype="float32"):
    data = np.asarray(data, dtype=dtype)
    return {"array": data.tolist(), "dtype": dtype, "shape": list(data.shape)}


def to_jax(a):
    return jnp.asarray(np.asarray(a["array"], dtype=a["dtype"]).reshape(a["shape"]))


cases = []


def case(name, op, fn, *args, **params):
    out = fn(*[to_jax(a) for a in args], **params)
    cases.append({"name": name, "op": op, "args": list(args), "params": params, "output": result(out)})


def gcase(name, op, fn, *args, **params):
    jargs = [to_jax(a) for a in args]
    g = jax.grad(lambda x: jnp.sum(fn(x, *jargs[1:], **params)))(jargs[0])
    cases.append({"name": f"grad {name}", "op": op, "kind": "grad", "args": list(args), "params": params, "output": result(g)})


m34 = arr(np.round(rng.uniform(-3, 3, size=(3, 4)), 3))
unit = arr(np.round(rng.uniform(-0.95, 0.95, size=(2, 3)), 3))
above1 = arr(np.round(rng.uniform(1.05, 4, size=(5,)), 3))
ints = arr([0, 1, 7, -1, -2147483648, 2147483647, 255, 256], "int32")
uints = arr([0, 1, 7, 4294967295, 2147483648, 65535], "uint32")

case("clamp scalars", "clamp", lambda x, lo, hi: lax.clamp(jnp.float32(lo), x, jnp.float32(hi)), m34, lo=-1.0, hi=1.5)
case("clamp arrays", "clampArrays", lambda lo, x, hi: lax.clamp(lo, x, hi), arr(np.full((3, 4), -0.5)), m34, arr(np.linspace(0, 2, 12).reshape(3, 4)))
case("clamp int", "clamp", lambda x, lo, hi: lax.clamp(jnp.int32(lo), x, jnp.int32(hi)), ints, lo=-3, hi=100)
for y in [0, 1, 2, 3, 5, -1, -3]:
    case(f"integer_pow {y}", "integerPow", lambda x, y: lax.integer_pow(x, y), m34, y=y)
case("integer_pow int", "integerPow", lambda x, y: lax.integer_pow(x, y), arr([2, -3, 70000], "int32"), y=3)
case("square", "square", lax.square, m34)
case("select_n int", "selectN", lambda w, a, b, c: lax.select_n(w, a, b, c), arr([0, 2, 1, 2], "int32"), arr([1.0, 1, 1, 1]), arr([2.0, 2, 2, 2]), arr([3.0, 3, 3, 3]))
case("select_n bool", "selectN", lambda w, a, b: lax.select_n(w, a, b), arr([True, False, True], "bool"), arr([1.0, 1, 1]), arr([2.0, 2, 2]))
case("select_n scalar", "selectN", lambda w, a, b: lax.select_n(w, a, b), arr(1, "int32"), arr([1.0, 1]), arr([2.0, 2]))
case("rev", "rev", lambda x, dimensions: lax.rev(x, dimensions), m34, dimensions=[1])
case("rev both", "rev", lambda x, dimensions: lax.rev(x, dimensions), m34, dimensions=[0, 1])
case("slice_in_dim", "sliceInDim", lambda x, start, limit, stride, axis: lax.slice_in_dim(x, start, limit, stride, axis), m34, start=1, limit=4, stride=2, axis=1)
case("slice_in_dim negative", "sliceInDim", lambda x, start, limit, stride, axis: lax.slice_in_dim(x, start, limit, stride, axis), m34, start=-2, limit=None, stride=1, axis=0)
case("index_in_dim", "indexInDim", lambda x, index, axis, keepdims: lax.index_in_dim(x, index, axis, keepdims), m34, index=2, axis=1, keepdims=True)
case("index_in_dim drop", "indexInDim", lambda x, index, axis, keepdims: lax.index_in_dim(x, index, axis, keepdims), m34, index=-1, axis=0, keepdims=False)
case("dynamic_index_in_dim", "dynamicIndexInDim", lambda x, i, axis, keepdims: lax.dynamic_index_in_dim(x, i, axis, keepdims), m34, arr(3, "int32"), axis=1, keepdims=False)
case("dynamic_index_in_dim clamped", "dynamicIndexInDim", lambda x, i, axis, keepdims: lax.dynamic_index_in_dim(x, i, axis, keepdims), m34, arr(7, "int32"), axis=0, keepdims=True)
case("broadcast", "broadcast", lambda x, sizes: lax.broadcast(x, sizes), m34, sizes=[2])
case("broadcast_to_rank", "broadcastToRank", lambda x, rank: lax.broadcast_to_rank(x, rank), m34, rank=4)
case("collapse", "collapse", lambda x, start, stop: lax.collapse(x, start, stop), arr(np.arange(24.0).reshape(2, 3, 4)), start=0, stop=2)
case("collapse to end", "collapse", lambda x, start, stop: lax.collapse(x, start, stop), arr(np.arange(24.0).reshape(2, 3, 4)), start=1, stop=None)
for name, fn, x in [("tan", lax.tan, m34), ("asin", lax.asin, unit), ("acos", lax.acos, unit), ("atan", lax.atan, m34), ("sinh", lax.sinh, m34), ("cosh", lax.cosh, m34), ("asinh", lax.asinh, m34), ("acosh", lax.acosh, above1), ("atanh", lax.atanh, unit), ("erfc", lax.erfc, m34), ("cbrt", lax.cbrt, m34), ("exp2", lax.exp2, m34)]:
    case(name, name, fn, x)
for name, fn in [("populationCount", lax.population_count), ("clz", lax.clz)]:
    case(f"{name} int32", name, fn, ints)
    case(f"{name} uint32", name, fn, uints)
gcase("integer_pow -2", "integerPow", lambda x, y: lax.integer_pow(x, y), arr([1.5, -2.0, 0.5]), y=-2)
gcase("clamp", "clamp", lambda x, lo, hi: lax.clamp(jnp.float32(lo), x, jnp.float32(hi)), arr([-2.0, 0.5, 3.0]), lo=-1.0, hi=1.5)
gcase("erfc", "erfc", lax.erfc, arr([-1.0, 0.0, 0.7]))
gcase("select_n", "selectNFirst", lambda a, w, b: lax.select_n(w, a, b), arr([1.0, 2.0, 3.0]), arr([True, False, True], "bool"), arr([5.0, 6.0, 7.0]))

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({"generator": "tools/goldens/lax_helpers.py", "jax": jax.__version__, "cases": cases}, separators=(",", ":"), allow_nan=False) + "\n")
print(f"wrote {len(cases)} cases to {OUT}")
