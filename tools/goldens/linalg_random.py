"""Golden values of ``jnp.linalg``, the ``jnp.fft`` frequency helpers and the gamma-family samplers.

Writes ``test/goldens/linalg_random.json``, read by ``test/backend/linalg.test.ts`` and
``test/random/gammaFamily.test.ts``:

- ``linalg``: for fixed float32 inputs (written alongside), the results of ``qr`` (both modes),
  ``cholesky``, ``det``, ``slogdet``, ``solve``, ``inv``, ``solve_triangular``, ``eigh``, ``svd``,
  ``pinv``, ``matrix_rank``, ``lstsq``, ``matrix_power`` and ``norm`` (every ``ord``), and gradients of scalar functions of them.
  Eigenvectors and singular vectors are only defined up to sign, so the gradients use functions that do
  not depend on it (squares of the vectors' entries).
- ``fft``: ``fftfreq``, ``rfftfreq``, ``fftshift``, ``ifftshift``.
- ``random``: ``gamma``, ``loggamma``, ``beta``, ``dirichlet``, ``chisquare``, ``t``, ``poisson``, ``binomial``,
  ``multivariate_normal`` and ``orthogonal`` samples for a few keys.

Computed by JAX on CPU with 64-bit mode off and ``jax_threefry_partitionable=True``. Non-finite floats are
written as ``null`` with their positions under ``special`` (see goldens_json.py). Re-run from the
repository root with a Python that has JAX installed::

    python tools/goldens/linalg_random.py
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.scipy.linalg as jsl  # noqa: E402
import numpy as np  # noqa: E402

from goldens_json import result  # noqa: E402

jax.config.update("jax_enable_x64", False)
jax.config.update("jax_threefry_partitionable", True)

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "goldens" / "linalg_random.json"

RNG = np.random.RandomState(20261202)


def mat(*shape):
    return RNG.uniform(-2, 2, size=shape).astype(np.float32)


def spd(n, batch=()):
    a = RNG.uniform(-1, 1, size=(*batch, n, n)).astype(np.float32)
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n, dtype=np.float32)).astype(np.float32)


def sym(n, batch=()):
    a = RNG.uniform(-2, 2, size=(*batch, n, n)).astype(np.float32)
    return ((a + np.swapaxes(a, -1, -2)) / 2).astype(np.float32)


def upper(n):
    a = np.triu(RNG.uniform(-2, 2, size=(n, n))).astype(np.float32)
    a[np.diag_indices(n)] = RNG.uniform(1, 3, size=n).astype(np.float32)
    return a


def linalg_cases():
    out = {}
    general = {"4x3": mat(4, 3), "3x4": mat(3, 4), "3x3": mat(3, 3), "2x3x3": mat(2, 3, 3), "5x5": mat(5, 5),
               "1x1": mat(1, 1), "zero_col": np.array([[0, 1, 2], [0, 3, 4], [0, 5, 7]], np.float32)}
    out["qr"] = [{"name": k, "a": result(a), "q": result(jnp.linalg.qr(a)[0]), "r": result(jnp.linalg.qr(a)[1]),
                  "q_complete": result(jnp.linalg.qr(a, mode="complete")[0]),
                  "r_complete": result(jnp.linalg.qr(a, mode="complete")[1])} for k, a in general.items()]
    pd = {"3x3": spd(3), "2x4x4": spd(4, (2,)), "1x1": spd(1), "6x6": spd(6)}
    out["cholesky"] = [{"name": k, "a": result(a), "l": result(jnp.linalg.cholesky(a))} for k, a in pd.items()]
    out["cholesky_not_pd"] = result(jnp.linalg.cholesky(jnp.array([[1.0, 2.0], [2.0, 1.0]])))
    square = {k: v for k, v in general.items() if v.shape[-1] == v.shape[-2]}
    square["singular"] = np.array([[1, 2, 3], [2, 4, 6], [1, 0, 1]], np.float32)
    square["pivot"] = np.array([[0, 1, 2], [1, 0, 3], [4, -3, 8]], np.float32)
    out["det"] = [{"name": k, "a": result(a), "det": result(jnp.linalg.det(a)),
                   "sign": result(jnp.linalg.slogdet(a)[0]), "logabsdet": result(jnp.linalg.slogdet(a)[1])}
                  for k, a in square.items()]
    invertible = {k: v for k, v in square.items() if k != "singular"}
    out["inv"] = [{"name": k, "a": result(a), "inv": result(jnp.linalg.inv(a))} for k, a in invertible.items()]
    b_vec, b_mat, b_batch = mat(3), mat(3, 2), mat(2, 3, 2)
    a3, a23 = general["3x3"], general["2x3x3"]
    out["solve"] = [
        {"name": "vector", "a": result(a3), "b": result(b_vec), "x": result(jnp.linalg.solve(a3, b_vec))},
        {"name": "matrix", "a": result(a3), "b": result(b_mat), "x": result(jnp.linalg.solve(a3, b_mat))},
        {"name": "batched", "a": result(a23), "b": result(b_batch), "x": result(jnp.linalg.solve(a23, b_batch))},
        {"name": "broadcast", "a": result(a3), "b": result(b_batch), "x": result(jnp.linalg.solve(a3, b_batch))},
    ]
    u = upper(4)
    l = np.ascontiguousarray(u.T)
    bt = mat(4, 2)
    out["solve_triangular"] = [
        {"name": "upper", "a": result(u), "b": result(bt), "lower": False, "trans": 0, "unit": False,
         "x": result(jsl.solve_triangular(u, bt))},
        {"name": "lower", "a": result(l), "b": result(bt), "lower": True, "trans": 0, "unit": False,
         "x": result(jsl.solve_triangular(l, bt, lower=True))},
        {"name": "lower_T_vector", "a": result(l), "b": result(bt[:, 0]), "lower": True, "trans": 1, "unit": False,
         "x": result(jsl.solve_triangular(l, bt[:, 0], lower=True, trans=1))},
        {"name": "upper_unit", "a": result(u), "b": result(bt), "lower": False, "trans": 0, "unit": True,
         "x": result(jsl.solve_triangular(u, bt, unit_diagonal=True))},
    ]
    symm = {"3x3": sym(3), "2x4x4": sym(4, (2,)), "5x5": sym(5), "1x1": sym(1), "diag": np.diag([3.0, -1.0, 2.0]).astype(np.float32)}
    out["eigh"] = []
    for k, a in symm.items():
        w, v = jnp.linalg.eigh(a)
        out["eigh"].append({"name": k, "a": result(a), "w": result(w), "v": result(v)})
    out["svd"] = []
    for k, a in {**general, "rank1": np.outer([1, 2, 3], [1, -1]).astype(np.float32)}.items():
        uu, s, vh = jnp.linalg.svd(a)
        out["svd"].append({"name": k, "a": result(a), "s": result(s), "u": result(uu), "vh": result(vh),
                           "rank": result(jnp.linalg.matrix_rank(a)), "pinv": result(jnp.linalg.pinv(a))})
    out["lstsq"] = []
    for k2, a in [("4x3", general["4x3"]), ("3x4", general["3x4"]), ("rank1", np.outer([1, 2, 3], [1, -1]).astype(np.float32))]:
        for bname, b in [("vector", mat(a.shape[0])), ("matrix", mat(a.shape[0], 2))]:
            xs, resid, rank, s = jnp.linalg.lstsq(a, b)
            out["lstsq"].append({"name": f"{k2} {bname}", "a": result(a), "b": result(b), "x": result(xs),
                                 "resid": result(resid), "rank": result(rank), "s": result(s)})
    out["matrix_power"] = [{"name": f"{k2} ** {p}", "a": result(general[k2]), "n": p, "out": result(jnp.linalg.matrix_power(general[k2], p))}
                           for k2 in ["3x3", "2x3x3"] for p in [0, 1, 2, 3, 5, -1, -2]]
    x = general["4x3"]
    v = mat(5)
    norms = []
    for ordv in [None, "fro", "nuc", 1, -1, 2, -2, "inf", "-inf"]:
        o = {"inf": np.inf, "-inf": -np.inf}.get(ordv, ordv) if isinstance(ordv, str) and "inf" in ordv else ordv
        norms.append({"x": "matrix", "ord": ordv, "axis": None, "keepdims": False, "out": result(jnp.linalg.norm(x, ord=o))})
    norms.append({"x": "matrix", "ord": 2, "axis": [1, 0], "keepdims": True, "out": result(jnp.linalg.norm(x, ord=2, axis=(1, 0), keepdims=True))})
    norms.append({"x": "matrix", "ord": 1, "axis": [1, 0], "keepdims": False, "out": result(jnp.linalg.norm(x, ord=1, axis=(1, 0)))})
    norms.append({"x": "matrix", "ord": "inf", "axis": [0, 1], "keepdims": True, "out": result(jnp.linalg.norm(x, ord=np.inf, axis=(0, 1), keepdims=True))})
    norms.append({"x": "matrix", "ord": None, "axis": 1, "keepdims": False, "out": result(jnp.linalg.norm(x, axis=1))})
    norms.append({"x": "matrix", "ord": 3, "axis": 0, "keepdims": True, "out": result(jnp.linalg.norm(x, ord=3, axis=0, keepdims=True))})
    for ordv in [None, 1, 2, 0, 3, 0.5, -1, "inf", "-inf"]:
        o = {"inf": np.inf, "-inf": -np.inf}.get(ordv, ordv) if isinstance(ordv, str) else ordv
        norms.append({"x": "vector", "ord": ordv, "axis": None, "keepdims": False, "out": result(jnp.linalg.norm(v, ord=o))})
    out["norm"] = {"matrix": result(x), "vector": result(v), "cases": norms}

    # Gradients of scalar functions (sign-invariant where the decomposition has a sign freedom).
    w3 = mat(3, 3)
    w43 = mat(4, 3)
    grads = {
        "det": (lambda a: jnp.linalg.det(a), general["3x3"]),
        "slogdet": (lambda a: jnp.linalg.slogdet(a)[1], general["5x5"]),
        "inv": (lambda a: jnp.sum(jnp.linalg.inv(a) * w3), general["3x3"]),
        "solve": (lambda a: jnp.sum(jnp.linalg.solve(a, b_mat) * w3[:, :2]), general["3x3"]),
        "cholesky": (lambda a: jnp.sum(jnp.linalg.cholesky(a) * w3), pd["3x3"]),
        "qr_q": (lambda a: jnp.sum(jnp.linalg.qr(a)[0] * w43), general["4x3"]),
        "qr_r": (lambda a: jnp.sum(jnp.linalg.qr(a)[1] * w3), general["4x3"]),
        "eigh_w": (lambda a: jnp.sum(jnp.linalg.eigh(a)[0] * w3[0]), symm["3x3"]),
        "eigh_v2": (lambda a: jnp.sum(jnp.linalg.eigh(a)[1] ** 2 * w3), symm["3x3"]),
        "svd_s": (lambda a: jnp.sum(jnp.linalg.svd(a, compute_uv=False) * w3[0]), general["4x3"]),
        "svd_u2": (lambda a: jnp.sum(jnp.linalg.svd(a, full_matrices=False)[0] ** 2 * w43), general["4x3"]),
        "svd_vh2": (lambda a: jnp.sum(jnp.linalg.svd(a, full_matrices=False)[2] ** 2 * w43.T), general["3x4"]),
        "pinv": (lambda a: jnp.sum(jnp.linalg.pinv(a) * w43.T), general["4x3"]),
        "norm_2": (lambda a: jnp.linalg.norm(a, ord=2), general["4x3"]),
        "norm_nuc": (lambda a: jnp.linalg.norm(a, ord="nuc"), general["4x3"]),
        "norm_fro": (lambda a: jnp.linalg.norm(a), general["4x3"]),
        "solve_triangular": (lambda a: jnp.sum(jsl.solve_triangular(a, bt, lower=False)), u),
        "lstsq": (lambda a: jnp.sum(jnp.linalg.lstsq(a, w43[:, :2])[0] * w3[:, :2]), general["4x3"]),
        "matrix_power": (lambda a: jnp.sum(jnp.linalg.matrix_power(a, 3) * w3), general["3x3"]),
    }
    out["weights"] = {"w3": result(w3), "w43": result(w43), "b_mat": result(b_mat), "bt": result(bt)}
    out["grads"] = [{"name": k, "a": result(a), "grad": result(jax.grad(f)(jnp.asarray(a)))} for k, (f, a) in grads.items()]
    return out


def fft_cases():
    out = {"fftfreq": [], "rfftfreq": [], "shift": []}
    for n, d in [(1, 1.0), (4, 1.0), (5, 1.0), (8, 0.1), (7, 2.5), (10, 1 / 3)]:
        out["fftfreq"].append({"n": n, "d": d, "out": result(jnp.fft.fftfreq(n, d))})
        out["rfftfreq"].append({"n": n, "d": d, "out": result(jnp.fft.rfftfreq(n, d))})
    x = jnp.arange(15.0).reshape(3, 5)
    for axes in [None, 0, 1, [0, 1], [1]]:
        ax = tuple(axes) if isinstance(axes, list) else axes
        out["shift"].append({"axes": axes, "fftshift": result(jnp.fft.fftshift(x, ax)), "ifftshift": result(jnp.fft.ifftshift(x, ax))})
    return out


def random_cases():
    k = jax.random.key
    out = {}
    out["gamma"] = [{"seed": s, "a": a, "shape": shape, "out": result(jax.random.gamma(k(s), a, shape))}
                    for s, a, shape in [(0, 1.0, [5]), (1, 0.5, [6]), (2, 3.7, [2, 3]), (3, 0.01, [4]), (4, 25.0, [3])]]
    out["gamma_array"] = [{"seed": 5, "a": [0.3, 1.0, 2.5, 9.0], "out": result(jax.random.gamma(k(5), jnp.array([0.3, 1.0, 2.5, 9.0])))}]
    out["loggamma"] = [{"seed": s, "a": a, "shape": shape, "out": result(jax.random.loggamma(k(s), a, shape))}
                       for s, a, shape in [(0, 1.0, [5]), (1, 0.05, [6]), (2, 3.7, [2, 3])]]
    out["beta"] = [{"seed": s, "a": a, "b": b, "shape": shape, "out": result(jax.random.beta(k(s), a, b, shape))}
                   for s, a, b, shape in [(0, 2.0, 3.0, [5]), (1, 0.5, 0.5, [4]), (2, 1.0, 9.0, [2, 2])]]
    out["dirichlet"] = [{"seed": s, "alpha": alpha, "shape": shape, "out": result(jax.random.dirichlet(k(s), jnp.array(alpha), shape))}
                        for s, alpha, shape in [(0, [1.0, 2.0, 3.0], [2]), (1, [0.5, 0.5], [3]), (2, [4.0, 1.0, 0.2, 2.0], None)]]
    out["chisquare"] = [{"seed": s, "df": df, "shape": shape, "out": result(jax.random.chisquare(k(s), df, shape))}
                        for s, df, shape in [(0, 3.0, [5]), (1, 0.7, [4])]]
    out["t"] = [{"seed": s, "df": df, "shape": shape, "out": result(jax.random.t(k(s), df, shape))}
                for s, df, shape in [(0, 3.0, [5]), (1, 1.5, [4])]]
    out["poisson"] = [{"seed": s, "lam": lam, "shape": shape, "out": result(jax.random.poisson(k(s), lam, shape))}
                      for s, lam, shape in [(0, 3.0, [6]), (1, 0.5, [5]), (2, 25.0, [5]), (3, 200.0, [4])]]
    out["binomial"] = [{"seed": s, "n": n, "p": p, "shape": shape, "out": result(jax.random.binomial(k(s), n, p, shape))}
                       for s, n, p, shape in [(0, 10.0, 0.3, [6]), (1, 5.0, 0.9, [5]), (2, 100.0, 0.4, [5]), (3, 1000.0, 0.7, [4]),
                                              (4, 20.0, 0.5, [3])]]
    mean = np.array([1.0, -1.0, 0.5], np.float32)
    cov = spd(3)
    out["multivariate_normal"] = [{"seed": s, "mean": result(mean), "cov": result(cov), "shape": shape, "method": m,
                                   "out": result(jax.random.multivariate_normal(k(s), mean, cov, shape, method=m))}
                                  for s, shape, m in [(0, [4], "cholesky"), (1, None, "cholesky"), (2, [2, 2], "cholesky")]]
    out["orthogonal"] = [{"seed": s, "n": n, "shape": shape, "out": result(jax.random.orthogonal(k(s), n, shape))}
                         for s, n, shape in [(0, 3, []), (1, 4, [2]), (2, 1, [])]]
    return out


def main() -> None:
    data = {"linalg": linalg_cases(), "fft": fft_cases(), "random": random_cases()}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
