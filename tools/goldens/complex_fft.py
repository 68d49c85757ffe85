"""Golden values of complex64 arithmetic, ``jnp.fft``'s transforms and ``jnp.linalg.eig``.

Writes ``test/goldens/complex_fft.json``, read by ``test/numpy/complex.test.ts``,
``test/numpy/fft.test.ts`` and ``test/numpy/eig.test.ts``:

- ``complex``: elementwise operations, reductions, products and type promotion on fixed complex64
  inputs (written alongside), the printed forms, and gradients with JAX's convention for complex
  inputs (``grad(lambda z: abs(z) ** 2)(z) == 2 * conj(z)``).
- ``fft``: every transform of ``jnp.fft`` for fixed inputs over lengths that are and are not powers
  of two, with ``n``/``s``, ``axis``/``axes`` and each ``norm``; and gradients of real scalar
  functions of them.
- ``eig``: eigenvalues of real and complex matrices (sorted by real, then imaginary part, since
  their order is LAPACK's), and gradients of functions of the eigenvalues.

A complex array is written as ``{"shape", "dtype", "weak", "re", "im"}``; a real one as
goldens_json.result writes it. Computed by JAX on CPU with 64-bit mode off. Re-run from the
repository root with a Python that has JAX installed::

    python tools/goldens/complex_fft.py
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
import numpy as np  # noqa: E402

from goldens_json import result  # noqa: E402

jax.config.update("jax_enable_x64", False)

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "goldens" / "complex_fft.json"

RNG = np.random.RandomState(20261203)


def cres(x):
    x = jnp.asarray(x)
    if not jnp.iscomplexobj(x):
        return result(x)
    data = np.asarray(x)
    return {
        "shape": list(x.shape),
        "dtype": str(x.dtype),
        "weak": bool(x.weak_type),
        "re": [float(v) for v in data.real.ravel()],
        "im": [float(v) for v in data.imag.ravel()],
    }


def crand(*shape):
    return (RNG.uniform(-2, 2, size=shape) + 1j * RNG.uniform(-2, 2, size=shape)).astype(np.complex64)


def rrand(*shape):
    return RNG.uniform(-2, 2, size=shape).astype(np.float32)


def complex_section():
    x = crand(2, 3)
    y = crand(2, 3)
    w = crand(3)
    out = {"x": cres(x), "y": cres(y), "w": cres(w)}
    xj, yj, wj = jnp.asarray(x), jnp.asarray(y), jnp.asarray(w)
    out["binary"] = {
        "add": cres(xj + yj),
        "subtract": cres(xj - yj),
        "multiply": cres(xj * yj),
        "divide": cres(xj / yj),
        "equal": cres(xj == jnp.where(jnp.arange(3) == 1, yj, xj)),
        "not_equal": cres(xj != jnp.where(jnp.arange(3) == 1, yj, xj)),
        "less": cres(xj < yj),
        "maximum": cres(jnp.maximum(xj, yj)),
        "broadcast_add": cres(xj + wj),
    }
    out["unary"] = {
        "negative": cres(-xj),
        "exp": cres(jnp.exp(xj)),
        "log": cres(jnp.log(xj)),
        "sqrt": cres(jnp.sqrt(xj)),
        "abs": cres(jnp.abs(xj)),
        "angle": cres(jnp.angle(xj)),
        "conj": cres(jnp.conj(xj)),
        "real": cres(jnp.real(xj)),
        "imag": cres(jnp.imag(xj)),
        "sin": cres(jnp.sin(xj)),
        "cos": cres(jnp.cos(xj)),
        "tanh": cres(jnp.tanh(xj)),
        "log1p": cres(jnp.log1p(xj)),
        "expm1": cres(jnp.expm1(xj)),
        "sign": cres(jnp.sign(xj)),
        "sigmoid": cres(jax.nn.sigmoid(xj)),
        "rsqrt": cres(jax.lax.rsqrt(xj)),
    }
    out["reductions"] = {
        "sum": cres(xj.sum()),
        "sum_0": cres(xj.sum(0)),
        "mean": cres(xj.mean()),
        "mean_1": cres(xj.mean(1)),
        "prod": cres(xj.prod()),
        "prod_1": cres(xj.prod(1)),
    }
    a = crand(3, 4)
    b = crand(4, 2)
    out["matmul"] = {"a": cres(a), "b": cres(b), "ab": cres(jnp.asarray(a) @ jnp.asarray(b)),
                     "a_real_b": cres(jnp.real(jnp.asarray(a)) @ jnp.asarray(b))}
    out["more"] = {
        "vdot": cres(jnp.vdot(xj, yj)),
        "var": cres(jnp.var(xj)),
        "var_0": cres(jnp.var(xj, axis=0)),
        "std_1": cres(jnp.std(xj, axis=1)),
        "round": cres(jnp.round(xj * 3)),
        "einsum": cres(jnp.einsum("ij,kj->ik", xj, yj)),
        "at_set": cres(xj.at[0, 1].set(1 + 1j)),
        "at_add": cres(xj.at[:, 0].add(2j)),
        "where": cres(jnp.where(jnp.real(xj) > 0, xj, yj)),
        "isclose": cres(jnp.isclose(xj, xj + 1e-6j)),
        "isfinite": cres(jnp.isfinite(xj / jnp.array([1, 0, 1]))),
        "sort_ties": cres(jnp.sort(jnp.array([1 + 2j, 1 - 1j, 0 + 5j, -2 + 0j, 1 + 0j], dtype=jnp.complex64))),
        "argsort_ties": cres(jnp.argsort(jnp.array([1 + 2j, 1 - 1j, 0 + 5j, -2 + 0j, 1 + 0j], dtype=jnp.complex64))),
        "sort_0": cres(jnp.sort(xj, axis=0)),
        "cumsum_1": cres(jnp.cumsum(xj, axis=1)),
        "power_3": cres(xj ** 3),
        "power_m2": cres(xj ** -2),
        "power_half": cres(jnp.power(xj, 0.5)),
        "power_complex": cres(jnp.power(xj, yj)),
        "cumprod_0": cres(jnp.cumprod(xj, axis=0)),
    }
    out["structural"] = {
        "transpose": cres(xj.T),
        "reshape": cres(xj.reshape(3, 2)),
        "slice": cres(xj[:, 1:]),
        "concatenate": cres(jnp.concatenate([xj, yj], axis=1)),
        "take": cres(jnp.take(xj, jnp.array([2, 0, 2]), axis=1)),
        "broadcast": cres(jnp.broadcast_to(wj, (2, 3))),
        "pad": cres(jnp.pad(wj, (1, 2))),
    }

    def promo(a, b):
        r = a + b
        return {"dtype": str(r.dtype), "weak": bool(r.weak_type)}

    out["promotion"] = {
        "float32+complex64": promo(jnp.float32(1), jnp.complex64(1)),
        "int32+complex64": promo(jnp.int32(1), jnp.complex64(1)),
        "complex64+weak_float": promo(jnp.complex64(1), 1.5),
        "float32+weak_complex": promo(jnp.float32(1), 1j),
        "int32+weak_complex": promo(jnp.int32(1), 1j),
        "weak_float+weak_complex": promo(jnp.asarray(1.0), 1j),
        "bool+weak_complex": promo(jnp.asarray(True), 1j),
    }
    out["repr"] = {
        "vector": repr(jnp.array([1 + 2j, -3.5 - 0.25j], dtype=jnp.complex64)),
        "scalar": repr(jnp.array(1.5, dtype=jnp.complex64)),
        "matrix": repr(jnp.array([[1 + 2j, 3 - 1j], [0.5j, -2]], dtype=jnp.complex64)),
        "large": repr(jnp.array([1e10 + 2j, 1], dtype=jnp.complex64)),
        "str_vector": str(jnp.array([1 + 2j, -3.5 - 0.25j], dtype=jnp.complex64)),
        "str_scalar": str(jnp.array(1 + 2j, dtype=jnp.complex64)),
        "fft_ortho": repr(jnp.fft.fft(jnp.ones(4), n=6, norm="ortho")),
        "fft_5": repr(jnp.fft.fft(jnp.array([1, 2, 3, 4, 5]))),
        "rfft_4": repr(jnp.fft.rfft(jnp.array([1.0, 2, 3, 4]))),
    }
    z = jnp.complex64(3 + 4j)
    zs = jnp.asarray(crand(4))
    c = jnp.asarray(crand(4))
    out["grad"] = {
        "z": cres(z),
        "abs_squared": cres(jax.grad(lambda z: jnp.abs(z) ** 2)(z)),
        "abs": cres(jax.grad(jnp.abs)(z)),
        "real_square": cres(jax.grad(lambda z: jnp.real(z * z))(z)),
        "imag_exp": cres(jax.grad(lambda z: jnp.imag(jnp.exp(z)))(z)),
        "zs": cres(zs),
        "c": cres(c),
        "abs_dot": cres(jax.grad(lambda v: jnp.abs(jnp.sum(v * c)))(zs)),
        "real_log_sqrt": cres(jax.grad(lambda v: jnp.sum(jnp.real(jnp.log(v) * jnp.sqrt(v) / c)))(zs)),
        "angle_sum": cres(jax.grad(lambda v: jnp.sum(jnp.angle(v)))(zs)),
        "sin_tanh": cres(jax.grad(lambda z: jnp.real(jnp.sin(z) * jnp.tanh(z)))(z)),
        "sign_times": cres(jax.grad(lambda z: jnp.abs(jnp.sign(z) * z))(z)),
        "composite": cres(jax.grad(lambda v: jnp.abs(jnp.prod(v)) + jnp.sum(jnp.abs(jnp.take(v, jnp.array([2, 0, 2]))) ** 2)
                                   + jnp.real(jnp.sum(jnp.pad(v, (1, 2)) * jnp.arange(7))) + jnp.abs(jnp.mean(v))
                                   + jnp.real(jnp.vdot(v, c)) + jnp.real(jnp.sum(v.reshape(2, 2) @ v.reshape(2, 2).T))
                                   + jnp.real(jnp.sum(jnp.where(jnp.real(v) > 0, v, 2 * v) * jnp.concatenate([v[1:], v[:1]]))))(zs)),
        "power": cres(jax.grad(lambda v: jnp.real(jnp.sum(v ** 3 + jnp.power(v, 0.5) * jnp.power(v, c))))(zs)),
        "via_complex": cres(jax.grad(lambda r: jnp.abs(jax.lax.complex(r, 2 * r)) ** 2)(jnp.float32(1.5))),
    }
    return out


def fft_section():
    cases = []

    def add(name, fn, x, **kw):
        y = fn(jnp.asarray(x), **kw)
        cases.append({"fn": name, "x": cres(x), "options": kw, "y": cres(y)})

    for n in [1, 2, 5, 8, 12, 7]:
        x = crand(n)
        add("fft", jnp.fft.fft, x)
        add("ifft", jnp.fft.ifft, x)
        add("rfft", jnp.fft.rfft, rrand(n))
        add("irfft", jnp.fft.irfft, crand(n // 2 + 1), n=n)
    x = crand(3, 6)
    for norm in ["backward", "ortho", "forward"]:
        add("fft", jnp.fft.fft, x, norm=norm)
        add("ifft", jnp.fft.ifft, x, norm=norm, axis=0)
        add("rfft", jnp.fft.rfft, rrand(3, 6), norm=norm)
        add("irfft", jnp.fft.irfft, x, norm=norm)
        add("hfft", jnp.fft.hfft, x, norm=norm)
        add("ihfft", jnp.fft.ihfft, rrand(3, 6), norm=norm)
        add("fft2", jnp.fft.fft2, crand(2, 3, 5), norm=norm)
        add("fftn", jnp.fft.fftn, crand(2, 3, 4), norm=norm)
    add("fft", jnp.fft.fft, crand(4, 5), n=8, axis=0)
    add("fft", jnp.fft.fft, crand(4, 5), n=3)
    add("ifft", jnp.fft.ifft, crand(6), n=9)
    add("rfft", jnp.fft.rfft, rrand(2, 7), n=10)
    add("irfft", jnp.fft.irfft, crand(2, 4))
    add("irfft", jnp.fft.irfft, crand(2, 4), n=7)
    add("irfft", jnp.fft.irfft, crand(5, 3), axis=0)
    add("hfft", jnp.fft.hfft, crand(2, 4), n=5)
    add("ihfft", jnp.fft.ihfft, rrand(7), n=4)
    add("fft2", jnp.fft.fft2, crand(4, 6), s=[3, 8])
    add("ifft2", jnp.fft.ifft2, crand(3, 4, 5))
    add("ifft2", jnp.fft.ifft2, crand(3, 4, 5), axes=[0, 2])
    add("rfft2", jnp.fft.rfft2, rrand(3, 4, 6))
    add("irfft2", jnp.fft.irfft2, crand(3, 4, 4))
    add("irfft2", jnp.fft.irfft2, crand(3, 4, 4), s=[5, 5])
    add("fftn", jnp.fft.fftn, crand(3, 4, 5), axes=[2, 0])
    add("fftn", jnp.fft.fftn, crand(2, 2, 3, 2, 3))
    add("ifftn", jnp.fft.ifftn, crand(2, 3, 4), s=[3, 3])
    add("rfftn", jnp.fft.rfftn, rrand(2, 3, 4))
    add("rfftn", jnp.fft.rfftn, rrand(2, 3, 4, 5), axes=[0, 1, 3])
    add("irfftn", jnp.fft.irfftn, crand(2, 3, 4))
    add("irfftn", jnp.fft.irfftn, crand(3, 4, 3), s=[2, 4, 5])
    add("fft", jnp.fft.fft, np.arange(6, dtype=np.int32))

    grads = []
    for name, fn, real_in, kw in [
        ("fft", jnp.fft.fft, False, {}),
        ("fft", jnp.fft.fft, True, {"n": 7, "norm": "ortho"}),
        ("ifft", jnp.fft.ifft, False, {"axis": 0}),
        ("rfft", jnp.fft.rfft, True, {}),
        ("rfft", jnp.fft.rfft, True, {"n": 5}),
        ("irfft", jnp.fft.irfft, False, {}),
        ("irfft", jnp.fft.irfft, False, {"n": 7, "norm": "forward"}),
        ("hfft", jnp.fft.hfft, False, {}),
        ("ihfft", jnp.fft.ihfft, True, {}),
        ("fft2", jnp.fft.fft2, False, {}),
        ("rfft2", jnp.fft.rfft2, True, {}),
        ("irfft2", jnp.fft.irfft2, False, {}),
        ("rfftn", jnp.fft.rfftn, True, {}),
        ("irfftn", jnp.fft.irfftn, False, {"s": [3, 5]}),
    ]:
        x = rrand(3, 6) if real_in else crand(3, 6)
        y = fn(jnp.asarray(x), **kw)
        c = crand(*y.shape) if jnp.iscomplexobj(y) else rrand(*y.shape)
        cj = jnp.asarray(c)

        def f(v, fn=fn, kw=kw, cj=cj):
            out = fn(v, **kw)
            return jnp.sum(jnp.real(out * cj)) + jnp.sum(jnp.abs(out) ** 2) * 0.01

        grads.append({"fn": name, "x": cres(x), "options": kw, "c": cres(c), "value": cres(f(jnp.asarray(x))),
                      "grad": cres(jax.grad(f)(jnp.asarray(x)))})
    return {"cases": cases, "grads": grads}


def sorted_eigs(w):
    w = np.asarray(w)
    idx = np.lexsort((np.round(w.imag, 4), np.round(w.real, 4)), axis=-1)
    return np.take_along_axis(w, idx, axis=-1)


def eig_section():
    cases = []
    mats = {
        "real_2x2": np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32),
        "rotation": np.array([[0.0, -1.0], [1.0, 0.0]], dtype=np.float32),
        "real_5x5": rrand(5, 5),
        "real_8x8": rrand(8, 8),
        "complex_4x4": crand(4, 4),
        "batched_real": rrand(3, 3, 3),
        "triangular": np.triu(rrand(4, 4)),
        "defective": np.array([[2.0, 1.0], [0.0, 2.0]], dtype=np.float32),
    }
    for name, a in mats.items():
        w, v = jnp.linalg.eig(jnp.asarray(a))
        cases.append({"name": name, "a": cres(a), "w_sorted": cres(sorted_eigs(w)),
                      "eigvals_sorted": cres(sorted_eigs(jnp.linalg.eigvals(jnp.asarray(a))))})
    grads = []
    for name in ["real_2x2", "real_5x5", "complex_4x4"]:
        a = jnp.asarray(mats[name])
        # A symmetric function of the eigenvalues, so their order does not matter.
        f = lambda a: jnp.sum(jnp.real(jnp.linalg.eigvals(a) ** 2 * (1 + 0.5j)))
        grads.append({"name": name, "a": cres(a), "value": cres(f(a)), "grad": cres(jax.grad(f)(a))})
    return {"cases": cases, "grads": grads}


def main():
    out = {"jax_version": jax.__version__, "complex": complex_section(), "fft": fft_section(), "eig": eig_section()}
    OUT.write_text(json.dumps(out, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
