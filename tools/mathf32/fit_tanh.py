"""Fits the float32 tanh of the wasm backend (src/backend/wasm/kernels/mathf32.ts) and measures it.

tanh(x) = x P(x^2) / Q(x^2) on [0, 9], P and Q of degree 4, Q(0) = 1: a rational fit of tanh(x)/x
minimising the largest relative error (iteratively reweighted least squares, Lawson's weights, in the
scaled variable u = x^2 / 81 so that the system stays well conditioned). The coefficients are then
rounded to float32 and the kernel's evaluation order (Horner for P and Q in float32, x * (P / Q),
clamped to [-1, 1]) is run over every float32 in [2^-10, 12], counting ulps from the correctly
rounded value; XLA's tanh (through JAX) is measured the same way for comparison.

Usage: python tools/mathf32/fit_tanh.py   (needs numpy; jax for the XLA line)
"""
import numpy as np

np.seterr(all="ignore")
f32 = np.float32
C, NP, NQ = 9.0, 4, 4


def fit(n_p: int, n_q: int, c: float, iters: int = 200):
    x = np.concatenate(
        [np.linspace(0, c, 40000), c * np.sin(np.linspace(0, np.pi / 2, 40000)) ** 2, np.geomspace(1e-4, c, 20000)]
    )
    x = np.unique(x)
    x = x[x > 0]
    u = (x / c) ** 2
    g = np.tanh(x) / x
    w = np.ones_like(u)
    q_prev = np.ones_like(u)
    best = None
    for _ in range(iters):
        a = np.hstack(
            [
                np.vstack([u**i for i in range(n_p + 1)]).T,
                -(g[:, None] * np.vstack([u**j for j in range(1, n_q + 1)]).T),
            ]
        )
        weight = np.sqrt(w) / (g * q_prev)
        sol, *_ = np.linalg.lstsq(a * weight[:, None], g * weight, rcond=None)
        p = sol[: n_p + 1]
        q = np.concatenate([[1.0], sol[n_p + 1 :]])
        big_p = np.polyval(p[::-1], u)
        big_q = np.polyval(q[::-1], u)
        err = np.abs(big_p / big_q - g) / g
        if best is None or err.max() < best[2]:
            best = (p.copy(), q.copy(), err.max())
        q_prev = big_q
        w = w * err
        w /= w.sum()
    p, q, e = best
    return p / c ** (2 * np.arange(n_p + 1)), q / c ** (2 * np.arange(n_q + 1)), e


def kernel(p, q, x):
    x = np.maximum(np.minimum(x, f32(C)), f32(-C))
    t = x * x

    def horner(cs):
        r = np.full_like(t, cs[-1])
        for cc in cs[-2::-1]:
            r = r * t + cc
        return r

    return np.maximum(np.minimum(x * (horner(p) / horner(q)), f32(1)), f32(-1))


def ulps(got, want):
    return np.abs(got.view(np.int32).astype(np.int64) - want.view(np.int32).astype(np.int64))


def histogram(f):
    bits = np.arange(f32(2**-10).view(np.int32), f32(12).view(np.int32), dtype=np.int32)
    counts = np.zeros(64, dtype=np.int64)
    for chunk in np.array_split(bits, 64):
        x = chunk.view(np.float32)
        want = np.tanh(x.astype(np.float64)).astype(np.float32)
        counts += np.bincount(np.minimum(ulps(f(x), want), 63), minlength=64)
    return counts[: np.nonzero(counts)[0].max() + 1]


p, q, e = fit(NP, NQ, C)
p32 = [f32(v) for v in p]
q32 = [f32(v) for v in q]
print("relative error of the fit:", e, "=", e / 2**-24, "x 2^-24")
print("P:", [float(v) for v in p32])
print("Q:", [float(v) for v in q32])
h = histogram(lambda x: kernel(p32, q32, x))
print("kernel: worst", len(h) - 1, "ulps; share exact", h[0] / h.sum(), "; counts by ulps", h.tolist())
print("kernel at 9, 100, inf:", kernel(p32, q32, np.array([9, 100, np.inf], np.float32)))
try:
    import jax
    import jax.numpy as jnp

    xla = jax.jit(jnp.tanh)
    h = histogram(lambda x: np.asarray(xla(x)))
    print("XLA:    worst", len(h) - 1, "ulps; share exact", h[0] / h.sum(), "; counts by ulps", h.tolist())
except ImportError:
    pass
