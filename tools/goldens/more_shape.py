"""Golden outputs of the jax.numpy functions in src/backend/numpy/moreShape.ts and sets.ts
(geomspace, tri, triu_indices, tril_indices, diagflat, rot90, atleast_3d, array_split, vander,
fliplr, flipud, dstack, column_stack, append, empty, empty_like; isin, setdiff1d, union1d,
intersect1d).

    python tools/goldens/more_shape.py   # writes test/goldens/more_shape.json

Case format of tools/goldens/more_functions.py: an `op`, array arguments, `params` in the TypeScript
option names, JAX's result(s); `kind: "grad"` cases hold jax.grad of sum(op(x) * w) in the first
argument, `w` being arange(1, n + 1) over the flattened output (so a gradient is not all ones).
"""
import json
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from goldens_json import arr, result, to_jax  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "goldens" / "more_shape.json"
rng = np.random.default_rng(20261204)


cases = []


def case(name, op, fn, *args, **params):
    out = fn(*[to_jax(a) for a in args], **params)
    entry = {"name": name, "op": op, "args": list(args), "params": params}
    if isinstance(out, (list, tuple)):
        entry["outputs"] = [result(o) for o in out]
    else:
        entry["output"] = result(out)
    cases.append(entry)


def weighted_sum(y):
    return jnp.sum(y * jnp.arange(1.0, y.size + 1.0).reshape(y.shape))


def gcase(name, op, fn, *args, **params):
    jargs = [to_jax(a) for a in args]
    g = jax.grad(lambda x: weighted_sum(fn(x, *jargs[1:], **params)))(jargs[0])
    cases.append({"name": f"grad {name}", "op": op, "kind": "grad", "args": list(args), "params": params, "output": result(g)})


# Creation from static numbers (no array arguments: eager only).
case("geomspace", "geomspace", lambda start, stop, num: jnp.geomspace(start, stop, num), start=1.0, stop=16.0, num=5)
case("geomspace no endpoint", "geomspace", lambda start, stop, num, endpoint: jnp.geomspace(start, stop, num, endpoint=endpoint), start=1.0, stop=16.0, num=4, endpoint=False)
case("geomspace negative", "geomspace", lambda start, stop, num: jnp.geomspace(start, stop, num), start=-1.0, stop=-1000.0, num=4)
case("geomspace decreasing", "geomspace", lambda start, stop, num: jnp.geomspace(start, stop, num), start=2.0, stop=0.5, num=3)
case("geomspace fractional", "geomspace", lambda start, stop, num: jnp.geomspace(start, stop, num), start=0.3, stop=7.5, num=6)
case("geomspace int32", "geomspace", lambda start, stop, num, dtype: jnp.geomspace(start, stop, num, dtype=dtype), start=1.0, stop=1000.0, num=4, dtype="int32")
case("geomspace one", "geomspace", lambda start, stop, num: jnp.geomspace(start, stop, num), start=2.0, stop=8.0, num=1)
case("geomspace none", "geomspace", lambda start, stop, num: jnp.geomspace(start, stop, num), start=2.0, stop=8.0, num=0)
case("tri", "tri", lambda n: jnp.tri(n), n=3)
case("tri m k", "tri", lambda n, m, k: jnp.tri(n, m, k), n=3, m=5, k=1)
case("tri k below", "tri", lambda n, m, k: jnp.tri(n, m, k), n=4, m=2, k=-1)
case("tri int32", "tri", lambda n, k, dtype: jnp.tri(n, k=k, dtype=dtype), n=3, k=-2, dtype="int32")
case("tri bool", "tri", lambda n, m, dtype: jnp.tri(n, m, dtype=dtype), n=2, m=3, dtype="bool")
for k in [0, 1, -1]:
    case(f"triuIndices k={k}", "triuIndices", lambda n, k: jnp.triu_indices(n, k), n=4, k=k)
    case(f"trilIndices k={k}", "trilIndices", lambda n, k: jnp.tril_indices(n, k), n=4, k=k)
case("triuIndices m", "triuIndices", lambda n, k, m: jnp.triu_indices(n, k, m), n=3, k=1, m=5)
case("trilIndices m", "trilIndices", lambda n, k, m: jnp.tril_indices(n, k, m), n=3, k=-1, m=2)
case("triuIndices k past", "triuIndices", lambda n, k: jnp.triu_indices(n, k), n=3, k=5)
case("empty", "empty", lambda shape: jnp.empty(shape), shape=[2, 3])
case("empty int32", "empty", lambda shape, dtype: jnp.empty(shape, dtype=dtype), shape=[4], dtype="int32")

# Functions of arrays: replayed eagerly, under jit and under vmap.
m23 = arr([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
i234 = arr(np.arange(24).reshape(2, 3, 4), "int32")
case("diagflat", "diagflat", lambda v: jnp.diagflat(v), arr([[1.0, -2.0], [3.0, 4.5]]))
case("diagflat k=1", "diagflat", lambda v, k: jnp.diagflat(v, k), arr([1, 2, 3], "int32"), k=1)
case("diagflat k=-2", "diagflat", lambda v, k: jnp.diagflat(v, k), arr([1.5, -1.0]), k=-2)
case("diagflat bool", "diagflat", lambda v: jnp.diagflat(v), arr([True, False, True], "bool"))
for k in [0, 1, 2, 3, -1, 5]:
    case(f"rot90 k={k}", "rot90", lambda m, k: jnp.rot90(m, k), m23, k=k)
case("rot90 axes (1, 0)", "rot90", lambda m, k, axes: jnp.rot90(m, k, tuple(axes)), m23, k=1, axes=[1, 0])
case("rot90 3d axes (1, 2)", "rot90", lambda m, k, axes: jnp.rot90(m, k, tuple(axes)), i234, k=1, axes=[1, 2])
case("rot90 3d axes (-1, 0) k=3", "rot90", lambda m, k, axes: jnp.rot90(m, k, tuple(axes)), i234, k=3, axes=[-1, 0])
case("atLeast3d 1-d", "atLeast3d", lambda x: jnp.atleast_3d(x), arr([1.0, 2.0, 3.0]))
case("atLeast3d 2-d", "atLeast3d", lambda x: jnp.atleast_3d(x), m23)
case("atLeast3d 3-d", "atLeast3d", lambda x: jnp.atleast_3d(x), i234)
case("atLeast3d 4-d", "atLeast3d", lambda x: jnp.atleast_3d(x), arr(np.ones((1, 2, 1, 2)), "int32"))
case("atLeast3d 0-d", "atLeast3d", lambda x: jnp.atleast_3d(x), arr(2.5))
case("atLeast3d several", "atLeast3dMany", lambda x, y, z: jnp.atleast_3d(x, y, z), arr([1.0, 2.0]), m23, arr(7, "int32"))
a10 = arr(np.arange(10.0))
case("arraySplit 3 sections", "arraySplit", lambda x, sections: jnp.array_split(x, sections), a10, sections=3)
case("arraySplit 4 sections axis 1", "arraySplit", lambda x, sections, axis: jnp.array_split(x, sections, axis=axis), arr(np.arange(14).reshape(2, 7), "int32"), sections=4, axis=1)
case("arraySplit more sections than elements", "arraySplit", lambda x, sections: jnp.array_split(x, sections), arr([1.0, 2.0, 3.0]), sections=5)
case("arraySplit even", "arraySplit", lambda x, sections, axis: jnp.array_split(x, sections, axis=axis), i234, sections=2, axis=-1)
case("arraySplit indices", "arraySplit", lambda x, indices: jnp.array_split(x, indices), a10, indices=[2, 5, 9])
x4 = arr([2.0, -1.5, 0.0, 3.0])
case("vander", "vander", lambda x: jnp.vander(x), x4)
case("vander n increasing", "vander", lambda x, n, increasing: jnp.vander(x, n, increasing=increasing), x4, n=3, increasing=True)
case("vander int", "vander", lambda x, n: jnp.vander(x, n), arr([1, 2, -3], "int32"), n=5)
case("vander n=0", "vander", lambda x, n: jnp.vander(x, n), x4, n=0)
case("fliplr", "fliplr", lambda m: jnp.fliplr(m), m23)
case("fliplr 3d", "fliplr", lambda m: jnp.fliplr(m), i234)
case("flipud", "flipud", lambda m: jnp.flipud(m), m23)
case("flipud 1d", "flipud", lambda m: jnp.flipud(m), arr([1, 2, 3], "int32"))
case("dstack 1-d", "dstack", lambda x, y: jnp.dstack([x, y]), arr([1.0, 2.0, 3.0]), arr([4.0, 5.0, 6.0]))
case("dstack 2-d promotes", "dstack", lambda x, y: jnp.dstack([x, y]), m23, arr([[1, 2, 3], [4, 5, 6]], "int32"))
case("dstack 3-d", "dstack", lambda x, y: jnp.dstack([x, y]), i234, arr(np.ones((2, 3, 1)), "int32"))
case("columnStack 1-d", "columnStack", lambda x, y: jnp.column_stack([x, y]), arr([1.0, 2.0]), arr([3.0, 4.0]))
case("columnStack 1-d and 2-d", "columnStack", lambda x, y: jnp.column_stack([x, y]), arr([1, 2], "int32"), arr([[3.0, 4.0], [5.0, 6.0]]))
case("append flat", "append", lambda a, v: jnp.append(a, v), m23, arr([7.0, 8.0]))
case("append promotes", "append", lambda a, v: jnp.append(a, v), arr([1, 2], "int32"), arr([0.5]))
case("append axis 0", "append", lambda a, v, axis: jnp.append(a, v, axis=axis), m23, arr([[7.0, 8.0, 9.0]]), axis=0)
case("append axis -1", "append", lambda a, v, axis: jnp.append(a, v, axis=axis), m23, arr([[7.0], [8.0]]), axis=-1)
case("emptyLike", "emptyLike", lambda x: jnp.empty_like(x), i234)
case("emptyLike dtype", "emptyLike", lambda x, dtype: jnp.empty_like(x, dtype=dtype), m23, dtype="bool")
case("emptyLike shape", "emptyLike", lambda x, shape: jnp.empty_like(x, shape=tuple(shape)), m23, shape=[4])

# Sets.
e = arr([[1, 5, 2], [7, 2, 9]], "int32")
t = arr([2, 9, 4], "int32")
case("isin", "isin", lambda a, b: jnp.isin(a, b), e, t)
case("isin invert", "isin", lambda a, b, invert: jnp.isin(a, b, invert=invert), e, t, invert=True)
case("isin float promoted", "isin", lambda a, b: jnp.isin(a, b), arr([1.0, 2.5, np.nan, -0.0]), arr([[0, 1], [3, 4]], "int32"))
case("isin nan", "isin", lambda a, b: jnp.isin(a, b), arr([np.nan, 1.0]), arr([np.nan, 1.0]))
case("isin empty test", "isin", lambda a, b, invert: jnp.isin(a, b, invert=invert), arr([1.0, 2.0]), arr([]), invert=True)
s1 = arr([5, 1, 3, 3, 7, 1, 9], "int32")
s2 = arr([[3, 4], [9, 10]], "int32")
case("setdiff1d", "setdiff1d", lambda a, b: jnp.setdiff1d(a, b), s1, s2)
case("setdiff1d size", "setdiff1d", lambda a, b, size: jnp.setdiff1d(a, b, size=size), s1, s2, size=5)
case("setdiff1d size cut", "setdiff1d", lambda a, b, size: jnp.setdiff1d(a, b, size=size), s1, s2, size=2)
case("setdiff1d fill", "setdiff1d", lambda a, b, size, fillValue: jnp.setdiff1d(a, b, size=size, fill_value=fillValue), arr([2.5, -1.0, 2.5, 4.0]), arr([4, 0], "int32"), size=4, fillValue=-7.0)
case("setdiff1d nothing left", "setdiff1d", lambda a, b, size: jnp.setdiff1d(a, b, size=size), arr([1, 2], "int32"), arr([2, 1], "int32"), size=3)
case("union1d", "union1d", lambda a, b: jnp.union1d(a, b), s1, s2)
case("union1d promotes", "union1d", lambda a, b: jnp.union1d(a, b), arr([3, 1], "int32"), arr([2.5, 1.0]))
case("union1d size", "union1d", lambda a, b, size: jnp.union1d(a, b, size=size), s1, s2, size=9)
case("union1d size cut", "union1d", lambda a, b, size: jnp.union1d(a, b, size=size), s1, s2, size=3)
case("union1d fill", "union1d", lambda a, b, size, fillValue: jnp.union1d(a, b, size=size, fill_value=fillValue), arr([0.5, -2.0]), arr([0.5]), size=4, fillValue=99.0)
case("intersect1d", "intersect1d", lambda a, b: jnp.intersect1d(a, b), s1, s2)
case("intersect1d promotes", "intersect1d", lambda a, b: jnp.intersect1d(a, b), arr([3, 1, 2], "int32"), arr([2.5, 3.0]))
case("intersect1d size", "intersect1d", lambda a, b, size: jnp.intersect1d(a, b, size=size), s1, s2, size=4)
case("intersect1d size cut", "intersect1d", lambda a, b, size: jnp.intersect1d(a, b, size=size), arr([4, 2, 8, 6], "int32"), arr([8, 2, 4], "int32"), size=2)
case("intersect1d fill", "intersect1d", lambda a, b, size, fillValue: jnp.intersect1d(a, b, size=size, fill_value=fillValue), s1, s2, size=4, fillValue=-1)
case("intersect1d none in common", "intersect1d", lambda a, b, size: jnp.intersect1d(a, b, size=size), arr([3.5, 1.0]), arr([2.0]), size=3)

# Gradients in the first argument.
gcase("vander", "vander", lambda x: jnp.vander(x), arr([2.0, -1.5, 0.5, 3.0]))
gcase("vander increasing", "vander", lambda x, n, increasing: jnp.vander(x, n, increasing=increasing), arr([1.5, -0.5, 2.0]), n=4, increasing=True)
gcase("diagflat", "diagflat", lambda v, k: jnp.diagflat(v, k), arr([1.0, -2.0, 3.0]), k=1)
gcase("rot90", "rot90", lambda m, k: jnp.rot90(m, k), arr([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), k=1)
gcase("append", "append", lambda a, v: jnp.append(a, v), arr([1.0, 2.0]), arr([3.0, 4.0]))
gcase("union1d size", "union1d", lambda a, b, size: jnp.union1d(a, b, size=size), arr([0.5, -2.0, 3.0]), arr([1.0, 4.0]), size=6)
gcase("intersect1d size", "intersect1d", lambda a, b, size: jnp.intersect1d(a, b, size=size), arr([0.5, -2.0, 3.0]), arr([3.0, 0.5]), size=3)
gcase("setdiff1d size", "setdiff1d", lambda a, b, size: jnp.setdiff1d(a, b, size=size), arr([0.5, -2.0, 3.0]), arr([3.0]), size=3)

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({"generator": "tools/goldens/more_shape.py", "jax": jax.__version__, "cases": cases}, separators=(",", ":"), allow_nan=False) + "\n")
print(f"wrote {len(cases)} cases to {OUT}")
