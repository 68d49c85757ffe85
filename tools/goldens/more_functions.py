"""Golden outputs of the jax.numpy functions in src/backend/numpy/binning.ts and polynomial.ts
(searchsorted, digitize, bincount, histogram, interp, unique, countNonzero, convolve, correlate,
polyval, diff, cross, kron, select, lexsort, logspace) and lax.associative_scan.

    python tools/goldens/more_functions.py   # writes test/goldens/more_functions.json

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

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "goldens" / "more_functions.json"
rng = np.random.default_rng(20261203)


def arr(data, dtype="float32"):
    data = np.asarray(data, dtype=dtype)
    return {"array": data.tolist(), "dtype": dtype, "shape": list(data.shape)}


def to_jax(a):
    return jnp.asarray(np.asarray(a["array"], dtype=a["dtype"]).reshape(a["shape"]))


cases = []


def case(name, op, fn, *args, **params):
    out = fn(*[to_jax(a) for a in args], **params)
    entry = {"name": name, "op": op, "args": list(args), "params": params}
    if isinstance(out, (list, tuple)):
        entry["outputs"] = [result(o) for o in out]
    else:
        entry["output"] = result(out)
    cases.append(entry)


def gcase(name, op, fn, *args, **params):
    jargs = [to_jax(a) for a in args]
    g = jax.grad(lambda x: jnp.sum(fn(x, *jargs[1:], **params)))(jargs[0])
    cases.append({"name": f"grad {name}", "op": op, "kind": "grad", "args": list(args), "params": params, "output": result(g)})


srt = arr([-2.0, -0.5, 0.0, 0.0, 1.5, 3.0])
vals = arr([[-3.0, 0.0, 0.2], [1.5, 3.0, 9.0]])
for side in ["left", "right"]:
    case(f"searchsorted {side}", "searchsorted", lambda a, v, side: jnp.searchsorted(a, v, side=side), srt, vals, side=side)
case("searchsorted int", "searchsorted", lambda a, v, side: jnp.searchsorted(a, v, side=side), arr([1, 3, 3, 7], "int32"), arr([0, 3, 8], "int32"), side="left")
for right in [False, True]:
    case(f"digitize right={right}", "digitize", lambda x, b, right: jnp.digitize(x, b, right=right), arr([-1.0, 0.0, 0.5, 1.0, 2.5, 4.0]), arr([0.0, 1.0, 2.5]), right=right)
    case(f"digitize decreasing right={right}", "digitize", lambda x, b, right: jnp.digitize(x, b, right=right), arr([-1.0, 0.0, 0.5, 1.0, 2.5, 4.0]), arr([2.5, 1.0, 0.0]), right=right)
ints = arr([0, 1, 1, 3, 2, 1, 7], "int32")
case("bincount", "bincount", lambda x: jnp.bincount(x), ints)
case("bincount minlength", "bincount", lambda x, minlength: jnp.bincount(x, minlength=minlength), ints, minlength=10)
case("bincount length drops", "bincount", lambda x, length: jnp.bincount(x, length=length), ints, length=4)
case("bincount weights", "bincount", lambda x, w, length: jnp.bincount(x, w, length=length), ints, arr([0.5, 1.0, 2.0, -1.0, 3.0, 0.25, 4.0]), length=8)
case("bincount negative in bin 0", "bincount", lambda x, length: jnp.bincount(x, length=length), arr([-2, 0, 1], "int32"), length=3)
hdata = arr(np.round(rng.normal(size=20), 3))
case("histogram", "histogram", lambda a, bins: jnp.histogram(a, bins), hdata, bins=5)
case("histogram range", "histogram", lambda a, bins, range: jnp.histogram(a, bins, range=tuple(range)), hdata, bins=4, range=[-1.0, 1.0])
case("histogram density", "histogram", lambda a, bins, density: jnp.histogram(a, bins, density=density), hdata, bins=3, density=True)
case("histogram weights", "histogram", lambda a, w, bins: jnp.histogram(a, bins, weights=w), arr([0.0, 0.5, 1.0, 1.0, 2.0]), arr([1.0, 2.0, 3.0, 4.0, 5.0]), bins=2)
case("histogram edges", "histogram", lambda a, b: jnp.histogram(a, b), arr([0.0, 0.5, 1.0, 1.5, 3.0, -1.0]), arr([0.0, 1.0, 1.5, 3.0]))
xp = arr([0.0, 1.0, 2.0, 4.0])
fp = arr([1.0, 3.0, -1.0, 0.0])
xq = arr([-1.0, 0.0, 0.5, 1.0, 1.25, 3.0, 4.0, 5.0])
case("interp", "interp", lambda x, xp, fp: jnp.interp(x, xp, fp), xq, xp, fp)
case("interp left right", "interp", lambda x, xp, fp, left, right: jnp.interp(x, xp, fp, left=left, right=right), xq, xp, fp, left=-9.0, right=9.0)
case("interp repeated xp", "interp", lambda x, xp, fp: jnp.interp(x, xp, fp), arr([0.5, 1.0, 1.5]), arr([0.0, 1.0, 1.0, 2.0]), arr([0.0, 1.0, 5.0, 6.0]))
gcase("interp", "interp", lambda x, xp, fp: jnp.interp(x, xp, fp), arr([0.5, 1.25, 3.0]), xp, fp)
udata = arr([[3, 1, 2], [3, 7, 1]], "int32")
case("unique", "unique", lambda x: jnp.unique(x), udata)
case("unique size", "unique", lambda x, size: jnp.unique(x, size=size), udata, size=6)
case("unique size cut", "unique", lambda x, size: jnp.unique(x, size=size), udata, size=2)
case("unique fill", "unique", lambda x, size, fillValue: jnp.unique(x, size=size, fill_value=fillValue), arr([2.5, -1.0, 2.5]), size=4, fillValue=-7.0)
case("countNonzero", "countNonzero", lambda x: jnp.count_nonzero(x), arr([[0.0, 1.0, -2.0], [0.0, 0.0, 3.0]]))
case("countNonzero axis", "countNonzero", lambda x, axis, keepdims: jnp.count_nonzero(x, axis=axis, keepdims=keepdims), arr([[0, 1, -2], [0, 0, 3]], "int32"), axis=1, keepdims=True)
a5 = arr([1.0, 2.0, -1.0, 0.5, 3.0])
v3 = arr([0.5, -1.0, 2.0])
for mode in ["full", "same", "valid"]:
    case(f"convolve {mode}", "convolve", lambda a, v, mode: jnp.convolve(a, v, mode=mode), a5, v3, mode=mode)
    case(f"convolve {mode} swapped", "convolve", lambda a, v, mode: jnp.convolve(a, v, mode=mode), v3, a5, mode=mode)
    case(f"correlate {mode}", "correlate", lambda a, v, mode: jnp.correlate(a, v, mode=mode), a5, v3, mode=mode)
    case(f"correlate {mode} swapped", "correlate", lambda a, v, mode: jnp.correlate(a, v, mode=mode), v3, a5, mode=mode)
case("convolve even", "convolve", lambda a, v, mode: jnp.convolve(a, v, mode=mode), a5, arr([1.0, -2.0]), mode="same")
case("convolve int", "convolve", lambda a, v, mode: jnp.convolve(a, v, mode=mode), arr([1, 2, 3], "int32"), arr([0, 1], "int32"), mode="full")
gcase("convolve", "convolve", lambda a, v, mode: jnp.convolve(a, v, mode=mode) * jnp.arange(7.0), a5, v3, mode="full")
case("polyval", "polyval", lambda p, x: jnp.polyval(p, x), arr([2.0, -1.0, 0.5]), arr([[-1.0, 0.0], [1.5, 2.0]]))
gcase("polyval", "polyvalAt", lambda x, p: jnp.polyval(p, x), arr([-1.0, 0.0, 1.5, 2.0]), arr([2.0, -1.0, 0.5]))
m34 = arr(np.round(rng.uniform(-3, 3, size=(3, 4)), 3))
case("diff", "diff", lambda a: jnp.diff(a), m34)
case("diff n=2 axis 0", "diff", lambda a, n, axis: jnp.diff(a, n=n, axis=axis), m34, n=2, axis=0)
case("diff bool", "diff", lambda a: jnp.diff(a), arr([True, True, False, True], "bool"))
case("diff prepend append", "diff", lambda a, prepend, append: jnp.diff(a, prepend=prepend, append=append), arr([1.0, 4.0, 9.0]), prepend=0.0, append=20.0)
gcase("diff", "diff", lambda a: jnp.diff(a) * jnp.arange(1.0, 4.0), arr([1.0, 4.0, 9.0, 2.0]))
case("cross", "cross", lambda a, b: jnp.cross(a, b), arr([[1.0, 2.0, 3.0], [0.0, -1.0, 2.0]]), arr([[4.0, 5.0, 6.0], [1.0, 1.0, 1.0]]))
case("cross 2d", "cross", lambda a, b: jnp.cross(a, b), arr([1.0, 2.0]), arr([3.0, -4.0]))
case("cross axis 0", "cross", lambda a, b, axis: jnp.cross(a, b, axis=axis), arr([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), arr([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), axis=0)
gcase("cross", "cross", lambda a, b: jnp.cross(a, b) * jnp.array([1.0, 2.0, 3.0]), arr([1.0, 2.0, 3.0]), arr([4.0, -5.0, 6.0]))
case("kron", "kron", lambda a, b: jnp.kron(a, b), arr([[1.0, 2.0], [3.0, 4.0]]), arr([[0.0, 1.0, 2.0]]))
case("kron 1d 2d", "kron", lambda a, b: jnp.kron(a, b), arr([1, -1], "int32"), arr([[1, 2], [3, 4]], "int32"))
case("select", "select", lambda c1, c2, x, default: jnp.select([c1, c2], [x, x * 10], default), arr([True, False, False, True], "bool"), arr([True, True, False, False], "bool"), arr([1.0, 2.0, 3.0, 4.0]), default=-1.0)
case("lexsort", "lexsort", lambda a, b: jnp.lexsort([a, b]), arr([3, 1, 2, 1, 0], "int32"), arr([1, 0, 1, 0, 1], "int32"))
case("lexsort 2d", "lexsort", lambda a, b: jnp.lexsort([a, b]), arr([[3, 1, 2], [0, 0, 1]], "int32"), arr([[1, 1, 0], [1, 0, 1]], "int32"))
case("logspace", "logspace", lambda start, stop, num: jnp.logspace(start, stop, num)[None].astype(jnp.float32)[0], start=0.0, stop=2.0, num=5)
case("logspace base endpoint", "logspace", lambda start, stop, num, base, endpoint: jnp.logspace(start, stop, num, base=base, endpoint=endpoint), start=-1.0, stop=3.0, num=4, base=2.0, endpoint=False)
case("associativeScan add", "associativeScan", lambda x: lax.associative_scan(jnp.add, x), arr(np.arange(1.0, 8.0)))
case("associativeScan reverse axis", "associativeScan", lambda x, reverse, axis: lax.associative_scan(jnp.add, x, reverse=reverse, axis=axis), m34, reverse=True, axis=1)
case("associativeScan matmul order", "associativeScanMatmul", lambda x: lax.associative_scan(jnp.matmul, x), arr(np.round(rng.uniform(-1, 1, size=(5, 2, 2)), 3)))
case("associativeScan matmul reverse", "associativeScanMatmul", lambda x, reverse: lax.associative_scan(jnp.matmul, x, reverse=reverse), arr(np.round(rng.uniform(-1, 1, size=(4, 2, 2)), 3)), reverse=True)
gcase("associativeScan multiply", "associativeScanMul", lambda x: lax.associative_scan(jnp.multiply, x), arr([1.5, -2.0, 0.5, 3.0]))

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({"generator": "tools/goldens/more_functions.py", "jax": jax.__version__, "cases": cases}, separators=(",", ":"), allow_nan=False) + "\n")
print(f"wrote {len(cases)} cases to {OUT}")
