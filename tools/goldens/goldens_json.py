"""How the golden scripts write a JAX result: shape, dtype, weak type and data, with NaN and the
infinities (which JSON cannot hold) listed by position under `special`."""
import jax.numpy as jnp
import numpy as np


def result(x):
    x = jnp.asarray(x)
    data = np.asarray(x)
    if data.dtype == np.float32:
        flat = [None if not np.isfinite(v) else float(v) for v in data.ravel()]
        special = {i: str(v) for i, v in enumerate(data.ravel()) if not np.isfinite(v)}
    else:
        flat = data.ravel().tolist()
        special = {}
    out = {"shape": list(x.shape), "dtype": str(x.dtype), "weak": bool(x.weak_type), "data": flat}
    if special:
        out["special"] = special
    return out


def finite_or_name(v):
    """NaN and the infinities (which JSON cannot hold) spelled "nan", "inf", "-inf", as test/support/goldenOps.ts reads them."""
    if isinstance(v, list):
        return [finite_or_name(u) for u in v]
    if isinstance(v, float) and not np.isfinite(v):
        return "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def arr(data, dtype="float32"):
    """An array argument of a golden case: its data (special values by name), dtype and shape."""
    data = np.asarray(data, dtype=dtype)
    return {"array": finite_or_name(data.tolist()), "dtype": dtype, "shape": list(data.shape)}


def to_jax(a):
    """The JAX array an `arr` argument stands for."""
    named = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf}

    def unname(v):
        if isinstance(v, list):
            return [unname(u) for u in v]
        return named.get(v, v) if isinstance(v, str) else v

    return jnp.asarray(np.asarray(unname(a["array"]), dtype=a["dtype"]).reshape(a["shape"]))
