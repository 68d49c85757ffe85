"""Golden outputs of the jax.numpy functions composed in src/backend/numpy/extra*.ts.

Re-run after changing a case (needs `pip install jax`):

    python tools/goldens/ops_extra.py      # writes test/goldens/ops_extra.json

Same case format as tools/goldens/ops.py: an `op` name, array arguments (data + dtype, non-finite
floats spelled "nan", "inf", "-inf"), `params` in the TypeScript option names, and JAX's result
(shape, dtype, weak type, data). test/backend/opsExtra.test.ts maps each `op` to its effect-nnx call.
"""
import json
import sys
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from goldens_json import result  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "goldens" / "ops_extra.json"
rng = np.random.default_rng(20261202)
NAN, INF = float("nan"), float("inf")


def finite_or_name(v):
    if isinstance(v, list):
        return [finite_or_name(u) for u in v]
    if isinstance(v, float) and not np.isfinite(v):
        return "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def arr(data, dtype="float32"):
    data = np.asarray(data, dtype=dtype)
    return {"array": finite_or_name(data.tolist()), "dtype": dtype, "shape": list(data.shape)}


def rand(shape, lo=-3, hi=3):
    return np.round(rng.uniform(lo, hi, size=shape), 3).astype(np.float32)


def to_jax(a):
    data = np.asarray(a["array"], dtype=object)
    data = np.vectorize(lambda v: float(v) if isinstance(v, str) else v, otypes=[object])(data) if data.size else data
    return jnp.asarray(np.asarray(data.tolist(), dtype=a["dtype"]).reshape(a["shape"]))


cases = []


def case(name, op, fn, *args, **params):
    """`fn` gets the JAX arrays and `params`; `params` (TypeScript spellings) also go to the test."""
    out = fn(*[to_jax(a) for a in args], **params)
    entry = {"name": name, "op": op, "args": list(args), "params": params}
    if isinstance(out, (list, tuple)):
        entry["outputs"] = [result(o) for o in out]
    else:
        entry["output"] = result(out)
    cases.append(entry)


edge = arr([NAN, INF, -INF, 0.0, -0.0, 1.0, -2.5, 3.4e38, -1e-30])
unit = arr([-1.0, -0.999, -0.5, 0.0, 0.3, 0.999, 1.0, 1.5, -2.0, NAN, INF])
wide = arr([-100.0, -89.0, -20.0, -1.0, -0.999, -1e-4, 0.0, 1e-4, 0.5, 0.999, 1.0, 3.0, 20.0, 88.0, 89.0, 100.0, 1e20, NAN, INF, -INF])
above1 = arr([0.5, 1.0, 1.0001, 1.5, 2.0, 10.0, 1e10, 1e20, 3e38, NAN, INF])
m23 = arr(rand((2, 3)))
m34 = arr(rand((3, 4)))
t234 = arr(rand((2, 3, 4)))
i34 = arr(rng.integers(-5, 5, size=(3, 4)), "int32")
b34 = arr(rng.uniform(size=(3, 4)) < 0.5, "bool")

# --- elementwise ---
for op, fn in [("arcsin", jnp.arcsin), ("arccos", jnp.arccos), ("arctan", jnp.arctan), ("arctanh", jnp.arctanh)]:
    case(f"{op} edge", op, fn, unit)
    case(f"{op} int", op, fn, arr([-1, 0, 1, 2], "int32"))
case("arctan wide", "arctan", jnp.arctan, wide)
for op, fn in [("sinh", jnp.sinh), ("cosh", jnp.cosh), ("arcsinh", jnp.arcsinh)]:
    case(f"{op} wide", op, fn, wide)
    case(f"{op} 2d", op, fn, m34)
case("arcsinh huge", "arcsinh", jnp.arcsinh, arr([3e38, -3e38, 1e19, -1e19, 1e15, 1e16]))
case("arccosh", "arccosh", jnp.arccosh, above1)
case("arccosh int", "arccosh", jnp.arccosh, arr([1, 2, 3], "int32"))
for op, fn in [("isinf", jnp.isinf), ("isnan", jnp.isnan), ("isfinite", jnp.isfinite)]:
    case(f"{op} float", op, fn, edge)
    case(f"{op} int", op, fn, i34)
    case(f"{op} bool", op, fn, b34)
case("nanToNum defaults", "nanToNum", jnp.nan_to_num, edge)
case("nanToNum values", "nanToNum", lambda x, nan, posinf, neginf: jnp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf), edge, nan=-1.0, posinf=9.0, neginf=-9.0)
case("nanToNum int", "nanToNum", jnp.nan_to_num, i34)
la = arr([1.0, INF, -INF, -INF, NAN, 0.0, 100.0, -100.0, 2.0, INF, 1e-3])
lb = arr([1.0, INF, -INF, 3.0, 0.0, NAN, -100.0, -100.0, 2.5, -INF, 1e-3])
case("logaddexp edge", "logaddexp", jnp.logaddexp, la, lb)
case("logaddexp broadcast", "logaddexp", jnp.logaddexp, m34, arr(rand((4,))))
case("logaddexp int", "logaddexp", jnp.logaddexp, arr([1, 2, 3], "int32"), arr([0, 2, -3], "int32"))
case("arrayEqual same", "arrayEqual", jnp.array_equal, m34, m34)
case("arrayEqual differ", "arrayEqual", jnp.array_equal, arr([1.0, 2.0]), arr([1.0, 2.5]))
case("arrayEqual shapes", "arrayEqual", jnp.array_equal, arr([1.0, 2.0]), arr([[1.0, 2.0]]))
case("arrayEqual nan", "arrayEqual", jnp.array_equal, arr([1.0, NAN]), arr([1.0, NAN]))
case("arrayEqual nan equalNan", "arrayEqual", lambda a, b, equalNan: jnp.array_equal(a, b, equal_nan=equalNan), arr([1.0, NAN]), arr([1.0, NAN]), equalNan=True)
case("arrayEqual int float", "arrayEqual", jnp.array_equal, arr([1, 2], "int32"), arr([1.0, 2.0]))

# --- shape ops ---
for shift, axis in [(1, None), (-2, None), (7, None), (1, 0), (-1, 1), (5, -1), ([1, 2], [0, 1]), ([1, 1], [1, 1]), ([1, -1], 2), (2, [0, 2]), (0, 1)]:
    x = t234 if (isinstance(axis, int) and axis == 2) or (isinstance(axis, list) and 2 in axis) else m34
    case(f"roll shift={shift} axis={axis}", "roll", lambda a, shift, axis: jnp.roll(a, shift, axis), x, shift=shift, axis=axis)
case("roll int", "roll", lambda a, shift, axis: jnp.roll(a, shift, axis), i34, shift=1, axis=None)
for k in [0, 1, -1, 2, -3, 5]:
    case(f"diag 1d k={k}", "diag", lambda v, k: jnp.diag(v, k), arr([1.0, NAN, INF]), k=k)
    case(f"diag 2d k={k}", "diag", lambda v, k: jnp.diag(v, k), m34, k=k)
case("diag bool", "diag", lambda v, k: jnp.diag(v, k), arr([True, False], "bool"), k=0)
case("diag int", "diag", lambda v, k: jnp.diag(v, k), arr([3, 4], "int32"), k=-1)
for offset, a1, a2 in [(0, 0, 1), (1, 0, 1), (-1, 0, 1), (0, 1, 0), (2, 1, 2), (-1, 0, 2), (0, -1, -3), (9, 0, 1)]:
    case(f"diagonal offset={offset} axes={a1},{a2}", "diagonal", lambda x, offset, axis1, axis2: jnp.diagonal(x, offset, axis1, axis2), t234, offset=offset, axis1=a1, axis2=a2)
    case(f"trace offset={offset} axes={a1},{a2}", "trace", lambda x, offset, axis1, axis2: jnp.trace(x, offset, axis1, axis2), t234, offset=offset, axis1=a1, axis2=a2)
case("trace int", "trace", lambda x, offset, axis1, axis2: jnp.trace(x, offset, axis1, axis2), i34, offset=0, axis1=0, axis2=1)
case("trace bool", "trace", lambda x, offset, axis1, axis2: jnp.trace(x, offset, axis1, axis2), b34, offset=0, axis1=0, axis2=1)
case("diagonal 2d nan", "diagonal", lambda x, offset, axis1, axis2: jnp.diagonal(x, offset, axis1, axis2), arr([[NAN, INF], [1.0, 2.0]]), offset=0, axis1=0, axis2=1)
for k in [0, 1, -1, 3, -4]:
    case(f"tril k={k}", "tril", lambda x, k: jnp.tril(x, k), m34, k=k)
    case(f"triu k={k}", "triu", lambda x, k: jnp.triu(x, k), t234, k=k)
case("tril nan", "tril", lambda x, k: jnp.tril(x, k), arr([[NAN, NAN], [INF, NAN]]), k=0)
case("triu bool", "triu", lambda x, k: jnp.triu(x, k), b34, k=0)
case("tril int", "tril", lambda x, k: jnp.tril(x, k), i34, k=1)
for indexing in ["xy", "ij"]:
    case(f"meshgrid 2 {indexing}", "meshgrid", lambda *xs, indexing: jnp.meshgrid(*xs, indexing=indexing), arr([1.0, 2.0, 3.0]), arr([4, 5], "int32"), indexing=indexing)
    case(f"meshgrid 3 {indexing}", "meshgrid", lambda *xs, indexing: jnp.meshgrid(*xs, indexing=indexing), arr([1.0, 2.0]), arr([3.0, 4.0, 5.0]), arr([6.0, 7.0, 8.0, 9.0]), indexing=indexing)
    case(f"meshgrid 1 {indexing}", "meshgrid", lambda *xs, indexing: jnp.meshgrid(*xs, indexing=indexing), arr([1.0, 2.0]), indexing=indexing)

# --- nan reductions ---
nanm = arr([[1.0, NAN, 3.0, -2.0], [NAN, NAN, NAN, NAN], [0.5, INF, -1.0, NAN]])
for op, fn in [("nansum", jnp.nansum), ("nanprod", jnp.nanprod), ("nanmax", jnp.nanmax), ("nanmin", jnp.nanmin),
               ("nanmean", jnp.nanmean), ("nanvar", jnp.nanvar), ("nanstd", jnp.nanstd)]:
    for axis, keepdims in [(None, False), (0, False), (1, False), (-1, True), ([0, 1], True)]:
        case(f"{op} axis={axis} keepdims={keepdims}", op, lambda x, axis, keepdims, fn=fn: fn(x, axis=None if axis is None else tuple(axis) if isinstance(axis, list) else axis, keepdims=keepdims), nanm, axis=axis, keepdims=keepdims)
    case(f"{op} int", op, lambda x, axis, keepdims, fn=fn: fn(x, axis=axis, keepdims=keepdims), i34, axis=0, keepdims=False)
    case(f"{op} 3d", op, lambda x, axis, keepdims, fn=fn: fn(x, axis=tuple(axis), keepdims=keepdims), t234, axis=[0, 2], keepdims=False)
case("nansum bool", "nansum", lambda x, axis, keepdims: jnp.nansum(x, axis=axis, keepdims=keepdims), b34, axis=1, keepdims=False)
case("nanvar ddof", "nanvar", lambda x, axis, keepdims, ddof: jnp.nanvar(x, axis=axis, keepdims=keepdims, ddof=ddof), nanm, axis=1, keepdims=False, ddof=1)
case("nanstd ddof", "nanstd", lambda x, axis, keepdims, ddof: jnp.nanstd(x, axis=axis, keepdims=keepdims, ddof=ddof), m34, axis=0, keepdims=False, ddof=1)

# --- order statistics ---
ax = lambda axis: None if axis is None else tuple(axis) if isinstance(axis, list) else axis
qdata = arr(rand((4, 5)))
for axis, keepdims in [(None, False), (0, False), (1, True), (-1, False), ([0, 1], False)]:
    case(f"median axis={axis} keepdims={keepdims}", "median", lambda x, axis, keepdims: jnp.median(x, axis=ax(axis), keepdims=keepdims), qdata, axis=axis, keepdims=keepdims)
    for q in [0.0, 0.25, 0.3, 1.0, [0.1, 0.5, 0.9]]:
        case(f"quantile q={q} axis={axis} keepdims={keepdims}", "quantile", lambda x, q, axis, keepdims: jnp.quantile(x, jnp.asarray(q, jnp.float32), axis=ax(axis), keepdims=keepdims), qdata, q=q, axis=axis, keepdims=keepdims)
    case(f"percentile axis={axis} keepdims={keepdims}", "percentile", lambda x, q, axis, keepdims: jnp.percentile(x, jnp.asarray(q, jnp.float32), axis=ax(axis), keepdims=keepdims), qdata, q=[0.0, 37.5, 50.0, 100.0], axis=axis, keepdims=keepdims)
case("median 3d axes", "median", lambda x, axis, keepdims: jnp.median(x, axis=ax(axis), keepdims=keepdims), t234, axis=[0, 2], keepdims=True)
case("median nan", "median", lambda x, axis, keepdims: jnp.median(x, axis=ax(axis), keepdims=keepdims), nanm, axis=1, keepdims=False)
case("median inf", "median", lambda x, axis, keepdims: jnp.median(x, axis=ax(axis), keepdims=keepdims), arr([[1.0, INF, -INF, 2.0], [INF, INF, 1.0, 0.0]]), axis=1, keepdims=False)
case("median int", "median", lambda x, axis, keepdims: jnp.median(x, axis=ax(axis), keepdims=keepdims), i34, axis=0, keepdims=False)
case("quantile int", "quantile", lambda x, q, axis, keepdims: jnp.quantile(x, q, axis=ax(axis), keepdims=keepdims), i34, q=0.4, axis=None, keepdims=False)

# --- nonzero family (static size) ---
fv = lambda f: tuple(f) if isinstance(f, list) else f
nz = arr([[0.0, 1.5, 0.0, NAN], [0.0, 0.0, -2.0, 0.0], [3.0, 0.0, 0.0, 0.0]])
for size, fill in [(3, None), (6, None), (8, -1), (2, None), (0, None), (5, [7, 9])]:
    params = {"size": size, "fillValue": fill}
    case(f"nonzero size={size} fill={fill}", "nonzero", lambda x, size, fillValue: jnp.nonzero(x, size=size, fill_value=fv(fillValue)), nz, **params)
    case(f"argwhere size={size} fill={fill}", "argwhere", lambda x, size, fillValue: jnp.argwhere(x, size=size, fill_value=fv(fillValue)), nz, **params)
for size, fill in [(3, None), (8, -1), (1, None)]:
    case(f"flatnonzero size={size} fill={fill}", "flatnonzero", lambda x, size, fillValue: jnp.flatnonzero(x, size=size, fill_value=fillValue), nz, size=size, fillValue=fill)
case("nonzero bool 1d", "nonzero", lambda x, size, fillValue: jnp.nonzero(x, size=size, fill_value=fillValue), arr([True, False, True, True], "bool"), size=4, fillValue=-1)
case("nonzero int 3d", "nonzero", lambda x, size, fillValue: jnp.nonzero(x, size=size, fill_value=fillValue), arr(rng.integers(0, 2, size=(2, 3, 2)), "int32"), size=7, fillValue=None)
case("argwhere int 1d", "argwhere", lambda x, size, fillValue: jnp.argwhere(x, size=size, fill_value=fillValue), arr([0, 4, 0, 1], "int32"), size=3, fillValue=None)

# --- gradients: d/dx of sum(f(x, *rest)) with respect to the first argument (kind "grad") ---
def gcase(name, op, fn, *args, **params):
    jargs = [to_jax(a) for a in args]
    g = jax.grad(lambda x: jnp.sum(fn(x, *jargs[1:], **params)))(jargs[0])
    cases.append({"name": f"grad {name}", "op": op, "kind": "grad", "args": list(args), "params": params, "output": result(g)})


smooth = arr([-0.9, -0.4, 0.0, 0.3, 0.8])
for op, fn in [("arcsin", jnp.arcsin), ("arccos", jnp.arccos), ("arctan", jnp.arctan), ("arctanh", jnp.arctanh),
               ("sinh", jnp.sinh), ("cosh", jnp.cosh), ("arcsinh", jnp.arcsinh)]:
    gcase(op, op, fn, smooth)
gcase("sinh wide", "sinh", jnp.sinh, arr([-20.0, -1.0, -0.999, 1e-4, 0.999, 1.0, 5.0, 60.0]))
gcase("arcsinh wide", "arcsinh", jnp.arcsinh, arr([-1e6, -2.0, 0.5, 1e6]))
gcase("arccosh", "arccosh", jnp.arccosh, arr([1.5, 2.0, 10.0, 1e6]))
gcase("logaddexp", "logaddexp", jnp.logaddexp, arr([1.0, 2.0, -3.0, 50.0]), arr([1.0, -1.0, 0.5, -50.0]))
gcase("nanToNum", "nanToNum", jnp.nan_to_num, arr([1.0, -2.0, 0.5]))
gcase("roll", "roll", lambda a, shift, axis: jnp.roll(a, shift, axis) * jnp.arange(12.0).reshape(3, 4), m34, shift=1, axis=1)
gcase("diagonal", "diagonal", lambda x, offset, axis1, axis2: jnp.diagonal(x, offset, axis1, axis2), t234, offset=1, axis1=1, axis2=2)
gcase("trace", "trace", lambda x, offset, axis1, axis2: jnp.trace(x, offset, axis1, axis2), m34, offset=0, axis1=0, axis2=1)
gcase("diag 1d", "diag", lambda v, k: jnp.diag(v, k) * jnp.arange(16.0).reshape(4, 4), arr([1.0, 2.0, 3.0]), k=1)
gcase("tril", "tril", lambda x, k: jnp.tril(x, k), m34, k=0)
gcase("triu", "triu", lambda x, k: jnp.triu(x, k), m34, k=1)
gradnan = arr([[1.0, NAN, 3.0, -2.0], [0.5, 2.0, -1.0, NAN]])
for op, fn in [("nansum", jnp.nansum), ("nanprod", jnp.nanprod), ("nanmax", jnp.nanmax), ("nanmin", jnp.nanmin),
               ("nanmean", jnp.nanmean), ("nanvar", jnp.nanvar), ("nanstd", jnp.nanstd)]:
    gcase(op, op, lambda x, axis, keepdims, fn=fn: fn(x, axis=axis, keepdims=keepdims), gradnan, axis=1, keepdims=False)
gcase("median", "median", lambda x, axis, keepdims: jnp.median(x, axis=axis, keepdims=keepdims), qdata, axis=1, keepdims=False)
gcase("quantile", "quantile", lambda x, q, axis, keepdims: jnp.quantile(x, jnp.asarray(q, jnp.float32), axis=ax(axis), keepdims=keepdims), qdata, q=[0.1, 0.5, 0.9], axis=0, keepdims=False)
gcase("percentile", "percentile", lambda x, q, axis, keepdims: jnp.percentile(x, jnp.asarray(q, jnp.float32), axis=ax(axis), keepdims=keepdims), qdata, q=[30.0], axis=None, keepdims=False)

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({"generator": "tools/goldens/ops_extra.py", "jax": jax.__version__, "cases": cases}, separators=(",", ":"), allow_nan=False) + "\n")
print(f"wrote {len(cases)} cases to {OUT}")
