"""Golden outputs of the jax.numpy functions in src/backend/numpy/moreMath.ts and moreStats.ts
(cbrt, hypot, copysign, signbit, ldexp, frexp, fmax, fmin, sinc, heaviside, angle conversions,
float_power, fabs, logaddexp2, isposinf/isneginf, divmod, modf, ptp, average, cov, corrcoef,
nanargmax/nanargmin, nancumsum/nancumprod, cumulative_sum/cumulative_prod, trapezoid) and of the
options added to older functions (the `where`, `initial` and `dtype` of the reductions, quantile
methods, `round`'s decimals, descending sorts, `moveaxis` of several axes).

    python tools/goldens/more_math.py   # writes test/goldens/more_math.json

Case format of tools/goldens/ops_extra.py: an `op`, array arguments, `params` in the TypeScript
option names, JAX's result(s); `kind: "grad"` cases hold jax.grad of sum(op(x)) in the first argument.
"""
import json
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from goldens_json import arr, result, to_jax  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "goldens" / "more_math.json"
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


def gcase(name, op, fn, *args, **params):
    jargs = [to_jax(a) for a in args]
    g = jax.grad(lambda x: jnp.sum(fn(x, *jargs[1:], **params)))(jargs[0])
    cases.append({"name": f"grad {name}", "op": op, "kind": "grad", "args": list(args), "params": params, "output": result(g)})


special = arr([-27.0, -8.0, -1.5, -0.0, 0.0, 1e-30, 0.001, 1.0, 8.0, 27.0, 1e30, np.inf, -np.inf, np.nan])
pairs_a = arr([3.0, -3.0, 0.0, 0.0, 1e30, 1e-30, np.inf, np.nan, -np.inf, 5.0, -0.0, 2.5])
pairs_b = arr([4.0, 4.0, 0.0, -0.0, 1e30, 1e-30, np.nan, 1.0, 2.0, np.nan, -1.0, -0.0])
ints = arr([-7, -3, 0, 3, 7, 2147483647], "int32")

# Elementwise.
case("cbrt", "cbrt", jnp.cbrt, special)
case("cbrt int", "cbrt", jnp.cbrt, ints)
case("hypot", "hypot", jnp.hypot, pairs_a, pairs_b)
case("hypot int", "hypot", jnp.hypot, arr([3, -5], "int32"), arr([4, 12], "int32"))
case("copysign", "copysign", jnp.copysign, pairs_a, pairs_b)
case("signbit", "signbit", jnp.signbit, arr([-1.0, -0.0, 0.0, 2.0, np.inf, -np.inf]))
case("signbit int", "signbit", jnp.signbit, ints)
case("signbit uint", "signbit", jnp.signbit, arr([0, 5, 4294967295], "uint32"))
case("signbit bool", "signbit", jnp.signbit, arr([True, False], "bool"))
# Subnormal inputs and results are left to test/backend/moreMath.test.ts: XLA's CPU backend flushes
# them to zero, where effect-nnx keeps them (as IEEE arithmetic does).
case("ldexp", "ldexp", jnp.ldexp, arr([1.0, 3.0, -1.5, 0.75, 1e-30, 1e38, 0.0, np.inf, np.nan, 1.0, 1.0, 5.0, 3.0, 1.5]), arr([2, -1, 10, -120, 200, -200, 5, 3, 1, 127, -126, 300, -300, 128], "int32"))
case("frexp", "frexp", jnp.frexp, arr([8.0, 0.3, -5.0, 1.5e-38, -1e-30, 3.4e38, 0.0, -0.0, np.inf, np.nan, 1.0, 0.5]))
case("frexp int", "frexp", jnp.frexp, arr([0, 1, -6, 1024], "int32"))
case("fmax", "fmax", jnp.fmax, pairs_a, pairs_b)
case("fmin", "fmin", jnp.fmin, pairs_a, pairs_b)
case("fmax int", "fmax", jnp.fmax, ints, arr([0, 0, 0, 0, 0, 0], "int32"))
case("sinc", "sinc", jnp.sinc, arr([0.0, 0.5, -0.5, 1.0, 2.5, 1e-8, -3.25]))
case("heaviside", "heaviside", jnp.heaviside, arr([-1.5, -0.0, 0.0, 2.0, np.nan]), arr([0.5, 0.5, 0.25, 0.5, 0.75]))
case("deg2rad", "deg2rad", jnp.deg2rad, arr([0.0, 90.0, -180.0, 360.0, 45.5]))
case("rad2deg", "rad2deg", jnp.rad2deg, arr([0.0, 1.0, -np.pi, 2.5]))
case("radians int", "radians", jnp.radians, arr([0, 90, -180], "int32"))
case("degrees", "degrees", jnp.degrees, arr([0.0, np.pi / 2]))
case("float_power", "floatPower", jnp.float_power, arr([2, 3, -2, 0], "int32"), arr([-1, 2, 3, 0], "int32"))
case("fabs", "fabs", jnp.fabs, arr([-1, 0, 5], "int32"))
case("logaddexp2", "logaddexp2", jnp.logaddexp2, arr([0.0, 1.0, -np.inf, np.inf, 100.0, np.nan, -np.inf]), arr([0.0, 3.0, -np.inf, np.inf, -100.0, 1.0, 2.0]))
case("isposinf", "isposinf", jnp.isposinf, arr([np.inf, -np.inf, np.nan, 1.0]))
case("isneginf", "isneginf", jnp.isneginf, arr([np.inf, -np.inf, np.nan, 1.0]))
case("isposinf int", "isposinf", jnp.isposinf, ints)
case("divmod", "divmod", jnp.divmod, arr([7.5, -7.5, 7.5, -7.5, 0.0]), arr([2.0, 2.0, -2.0, -2.0, 3.0]))
case("divmod int", "divmod", jnp.divmod, arr([7, -7, 7, -7], "int32"), arr([2, 2, -2, -2], "int32"))
case("modf", "modf", jnp.modf, arr([2.5, -2.5, 0.0, -0.0, 1e10, -3.75]))
gcase("cbrt", "cbrt", jnp.cbrt, arr([-8.0, 0.5, 27.0]))
gcase("hypot", "hypot", jnp.hypot, arr([3.0, -1.0, 2.0]), arr([4.0, 2.0, -0.5]))
gcase("sinc", "sinc", jnp.sinc, arr([0.0, 0.5, -1.25]))
gcase("logaddexp2", "logaddexp2", jnp.logaddexp2, arr([0.0, 1.0, -2.0]), arr([0.0, 3.0, 1.0]))
gcase("copysign", "copysign", jnp.copysign, arr([1.5, -2.0, 3.0]), arr([-1.0, 1.0, -0.0]))
gcase("ldexp", "ldexp", jnp.ldexp, arr([1.5, -2.0, 3.0]), arr([2, -1, 0], "int32"))

# Statistics.
m34 = arr(np.round(rng.uniform(-3, 3, size=(3, 4)), 3))
m35 = arr(np.round(rng.uniform(-3, 3, size=(3, 5)), 3))
case("ptp", "ptp", jnp.ptp, m34)
case("ptp axis keepdims", "ptp", lambda x, axis, keepdims: jnp.ptp(x, axis=axis, keepdims=keepdims), m34, axis=1, keepdims=True)
case("ptp int", "ptp", lambda x, axis: jnp.ptp(x, axis=axis), arr([[1, 5], [3, 2]], "int32"), axis=0)
case("average", "average", lambda x: jnp.average(x), m34)
case("average axis", "average", lambda x, axis: jnp.average(x, axis=axis), m34, axis=0)
case("average weights same shape", "average", lambda x, w: jnp.average(x, weights=w), m34, arr(np.round(rng.uniform(0, 2, size=(3, 4)), 3)))
case("average weights 1d", "average", lambda x, w, axis: jnp.average(x, axis=axis, weights=w), m34, arr([1.0, 2.0, 0.5, 0.0]), axis=1)
case("average weights 1d axis 0 keepdims", "average", lambda x, w, axis, keepdims: jnp.average(x, axis=axis, weights=w, keepdims=keepdims), m34, arr([3.0, 1.0, 0.0]), axis=0, keepdims=True)
case("average returned", "average", lambda x, w, axis, returned: jnp.average(x, axis=axis, weights=w, returned=returned), m34, arr([1.0, 2.0, 0.5, 1.0]), axis=-1, returned=True)
case("average returned unweighted", "average", lambda x, axis, returned: jnp.average(x, axis=axis, returned=returned), m34, axis=1, returned=True)
case("average int", "average", lambda x: jnp.average(x), arr([1, 2, 4], "int32"))
case("cov", "cov", lambda x: jnp.cov(x), m35)
case("cov rowvar false", "cov", lambda x, rowvar: jnp.cov(x, rowvar=rowvar), m35, rowvar=False)
case("cov bias", "cov", lambda x, bias: jnp.cov(x, bias=bias), m35, bias=True)
case("cov ddof", "cov", lambda x, ddof: jnp.cov(x, ddof=ddof), m35, ddof=2)
case("cov y", "cov", lambda x, y: jnp.cov(x, y), m35, arr(np.round(rng.uniform(-1, 1, size=(5,)), 3)))
case("cov 1d", "cov", lambda x: jnp.cov(x), arr([1.0, 2.0, 4.0, 7.0]))
case("corrcoef", "corrcoef", lambda x: jnp.corrcoef(x), m35)
case("corrcoef y rowvar false", "corrcoef", lambda x, y, rowvar: jnp.corrcoef(x, y, rowvar=rowvar), arr(np.round(rng.uniform(-1, 1, size=(6, 2)), 3)), arr(np.round(rng.uniform(-1, 1, size=(6, 1)), 3)), rowvar=False)
nan34 = arr([[1.0, np.nan, 3.0, -2.0], [np.nan, np.nan, np.nan, np.nan], [0.5, 7.0, np.nan, 7.0]])
case("nanargmax", "nanargmax", lambda x, axis: jnp.nanargmax(x, axis=axis), nan34, axis=1)
case("nanargmin", "nanargmin", lambda x, axis: jnp.nanargmin(x, axis=axis), nan34, axis=1)
case("nanargmax flat", "nanargmax", lambda x: jnp.nanargmax(x), nan34)
case("nanargmin axis 0 keepdims", "nanargmin", lambda x, axis, keepdims: jnp.nanargmin(x, axis=axis, keepdims=keepdims), nan34, axis=0, keepdims=True)
case("nanargmax int", "nanargmax", lambda x: jnp.nanargmax(x), ints)
case("nanmedian", "nanmedian", lambda x, axis: jnp.nanmedian(x, axis=axis), nan34, axis=1)
case("nanmedian flat", "nanmedian", lambda x: jnp.nanmedian(x), nan34)
case("nanmedian axis 0 keepdims", "nanmedian", lambda x, axis, keepdims: jnp.nanmedian(x, axis=axis, keepdims=keepdims), nan34, axis=0, keepdims=True)
case("nanquantile list", "nanquantile", lambda x, q, axis: jnp.nanquantile(x, jnp.asarray(q), axis=axis), nan34, q=[0.25, 0.9], axis=1)
for method in ["lower", "higher", "midpoint", "nearest"]:
    case(f"nanquantile {method}", "nanquantile", lambda x, q, axis, method: jnp.nanquantile(x, q, axis=axis, method=method), nan34, q=0.4, axis=1, method=method)
case("nanpercentile nearest", "nanpercentile", lambda x, q, axis, method: jnp.nanpercentile(x, q, axis=axis, method=method), nan34, q=30.0, axis=1, method="nearest")
case("nancumsum", "nancumsum", lambda x, axis: jnp.nancumsum(x, axis=axis), nan34, axis=1)
case("nancumprod flat", "nancumprod", lambda x: jnp.nancumprod(x), nan34)
case("cumulative_sum", "cumulativeSum", lambda x: jnp.cumulative_sum(x), arr([1.0, 2.0, -0.5, 4.0]))
case("cumulative_sum axis initial", "cumulativeSum", lambda x, axis, includeInitial: jnp.cumulative_sum(x, axis=axis, include_initial=includeInitial), m34, axis=1, includeInitial=True)
case("cumulative_sum bool", "cumulativeSum", lambda x: jnp.cumulative_sum(x), arr([True, True, False, True], "bool"))
case("cumulative_sum dtype", "cumulativeSum", lambda x, dtype: jnp.cumulative_sum(x, dtype=dtype), arr([1.5, 2.5, 3.25]), dtype="int32")
case("cumulative_prod axis 0 initial", "cumulativeProd", lambda x, axis, includeInitial: jnp.cumulative_prod(x, axis=axis, include_initial=includeInitial), m34, axis=0, includeInitial=True)
case("trapezoid", "trapezoid", lambda y: jnp.trapezoid(y), arr([1.0, 2.0, 3.0, 5.0]))
case("trapezoid dx axis", "trapezoid", lambda y, dx, axis: jnp.trapezoid(y, dx=dx, axis=axis), m34, dx=0.5, axis=0)
case("trapezoid x", "trapezoid", lambda y, x: jnp.trapezoid(y, x=x), m34, arr([0.0, 0.5, 2.0, 2.25]))
case("trapezoid x 2d", "trapezoid", lambda y, x, axis: jnp.trapezoid(y, x=x, axis=axis), m34, arr(np.cumsum(np.round(rng.uniform(0, 1, size=(3, 4)), 3), axis=0)), axis=0)
gcase("average weights", "average", lambda x, w, axis: jnp.average(x, axis=axis, weights=w), m34, arr([1.0, 2.0, 0.5, 0.0]), axis=1)
gcase("cov", "covWeighted", lambda x: jnp.cov(x) * jnp.arange(1.0, 10.0).reshape(3, 3), m35)
gcase("trapezoid", "trapezoid", lambda y, x: jnp.trapezoid(y, x=x), arr([1.0, 2.0, 3.0, 5.0]), arr([0.0, 0.5, 2.0, 2.25]))
gcase("ptp", "ptp", lambda x, axis: jnp.ptp(x, axis=axis), m34, axis=1)

# Options of older functions.
w3 = arr([True, False, True], "bool")
m23 = arr([[0.0, 1.0, 2.0], [3.0, np.nan, 5.0]])
for fn in ["sum", "prod"]:
    f = getattr(jnp, fn)
    case(f"{fn} where", fn, lambda x, where, axis: f(x, axis=axis, where=where), m23, w3, axis=1)
    case(f"{fn} initial", fn, lambda x, axis, initial: f(x, axis=axis, initial=initial), m23, axis=0, initial=2.5)
    case(f"{fn} where initial keepdims", fn, lambda x, where, axis, initial, keepdims: f(x, axis=axis, where=where, initial=initial, keepdims=keepdims), m23, w3, axis=1, initial=-1.0, keepdims=True)
    case(f"{fn} dtype", fn, lambda x, dtype: f(x, dtype=dtype), arr([1.5, 2.5, 3.0]), dtype="int32")
    case(f"{fn} int initial", fn, lambda x, initial: f(x, initial=initial), arr([1, 2, 3], "int32"), initial=2)
    case(f"{fn} bool where", fn, lambda x, where: f(x, where=where), arr([True, True, False], "bool"), w3)
for fn in ["max", "min"]:
    f = getattr(jnp, fn)
    case(f"{fn} initial", fn, lambda x, axis, initial: f(x, axis=axis, initial=initial), m23, axis=1, initial=1.5)
    case(f"{fn} where initial", fn, lambda x, where, axis, initial: f(x, axis=axis, where=where, initial=initial), m23, w3, axis=1, initial=0.5)
    case(f"{fn} empty initial", fn, lambda x, axis, initial: f(x, axis=axis, initial=initial), arr(np.zeros((2, 0))), axis=1, initial=-3.0)
    case(f"{fn} int where initial", fn, lambda x, where, initial: f(x, where=where, initial=initial), arr([[5, -2, 9], [1, 1, 1]], "int32"), arr([[True, True, False], [False, False, False]], "bool"), initial=0)
    case(f"{fn} uint initial", fn, lambda x, initial: f(x, initial=initial), arr([5, 2, 9], "uint32"), initial=4)
case("mean where", "mean", lambda x, where, axis: jnp.mean(x, axis=axis, where=where), m23, w3, axis=1)
case("mean where none", "mean", lambda x, where: jnp.mean(x, where=where), m23, arr([[False] * 3] * 2, "bool"))
case("mean where keepdims", "mean", lambda x, where, axis, keepdims: jnp.mean(x, axis=axis, where=where, keepdims=keepdims), m23, arr([[True], [False]], "bool"), axis=0, keepdims=True)
case("mean dtype", "mean", lambda x, dtype: jnp.mean(x, dtype=dtype), arr([1, 2], "int32"), dtype="float32")
case("var where", "var", lambda x, where, axis: jnp.var(x, axis=axis, where=where), m23, w3, axis=1)
case("std where ddof", "std", lambda x, where, ddof: jnp.std(x, where=where, ddof=ddof), arr(np.arange(6.0)), arr([True, False, True, False, True, False], "bool"), ddof=1)
case("all where", "all", lambda x, where, axis: jnp.all(x, axis=axis, where=where), arr([[True, False, True], [False, False, True]], "bool"), w3, axis=1)
case("any where", "any", lambda x, where, axis: jnp.any(x, axis=axis, where=where), arr([[False, True, False], [False, False, True]], "bool"), w3, axis=1)
gcase("sum where", "sumSquares", lambda x, where: jnp.sum(x * x, where=where), arr([1.0, 2.0, 3.0]), w3)
gcase("max where initial", "max", lambda x, where, initial: jnp.max(x, where=where, initial=initial), arr([1.0, 5.0, 3.0]), w3, initial=0.0)
gcase("mean where", "meanSquares", lambda x, where: jnp.mean(x * x, where=where), arr([1.0, 2.0, 3.0]), w3)
q10 = arr(np.arange(10.0))
qs = [0.0, 0.33, 0.5, 0.55, 0.95, 1.0]
for method in ["lower", "higher", "midpoint", "nearest", "linear"]:
    case(f"quantile {method}", "quantile", lambda x, q, method: jnp.quantile(x, jnp.asarray(q), method=method), q10, q=qs, method=method)
case("quantile nearest halfway", "quantile", lambda x, q, method: jnp.quantile(x, jnp.asarray(q), method=method), arr(np.arange(6.0)), q=[0.3, 0.5, 0.7, 0.1], method="nearest")
case("quantile midpoint axis", "quantile", lambda x, q, axis, method: jnp.quantile(x, q, axis=axis, method=method), m34, q=0.4, axis=1, method="midpoint")
case("percentile lower keepdims", "percentile", lambda x, q, axis, method, keepdims: jnp.percentile(x, jnp.asarray(q), axis=axis, method=method, keepdims=keepdims), m34, q=[10.0, 90.0], axis=0, method="lower", keepdims=True)
rnd = arr([1234.5, 15.0, 25.0, -35.0, 1.25, 1.35, -1.25, 2.675, 0.5, -0.5, np.nan, np.inf])
for decimals in [-2, -1, 1, 2, 3]:
    case(f"round decimals={decimals}", "round", lambda x, decimals: jnp.round(x, decimals), rnd, decimals=decimals)
case("round int decimals", "round", lambda x, decimals: jnp.round(x, decimals), ints, decimals=2)
srt = arr([[3.0, 1.0, np.nan, 1.0, -0.0, 0.0], [2.0, 2.0, -1.0, np.inf, 5.0, 2.0]])
case("sort descending", "sort", lambda x, descending: jnp.sort(x, descending=descending), srt, descending=True)
case("sort descending axis 0", "sort", lambda x, axis, descending: jnp.sort(x, axis=axis, descending=descending), srt, axis=0, descending=True)
case("argsort descending", "argsort", lambda x, descending: jnp.argsort(x, descending=descending), srt, descending=True)
case("argsort descending int ties", "argsort", lambda x, descending: jnp.argsort(x, descending=descending), arr([3, 1, 2, 1, 3, 0], "int32"), descending=True)
case("argsort descending flat", "argsort", lambda x, axis, descending: jnp.argsort(x, axis=axis, descending=descending), srt, axis=None, descending=True)
case("argsort stable", "argsort", lambda x, stable: jnp.argsort(x, stable=stable), srt, stable=True)
x2345 = arr(np.arange(120.0).reshape(2, 3, 4, 5))
case("moveaxis many", "moveaxis", lambda x, source, destination: jnp.moveaxis(x, source, destination), x2345, source=[0, 1], destination=[-1, 0])
case("moveaxis many 2", "moveaxis", lambda x, source, destination: jnp.moveaxis(x, source, destination), x2345, source=[3, 0, 2], destination=[0, 1, 3])

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({"generator": "tools/goldens/more_math.py", "jax": jax.__version__, "cases": cases}, separators=(",", ":"), allow_nan=False) + "\n")
print(f"wrote {len(cases)} cases to {OUT}")
