"""The simulator's optional array backends (numba: fused CPU kernel; torch: CPU or GPU) against numpy.

Each backend is skipped, with the reason, where its engine is not installed (extras ``[fast]``
and ``[gpu]``). Independent route: the numpy float64 kernel, itself tested against an unchunked
scipy logsumexp (test_simulator). Tolerances: float32 tiles round a logit by ~eps32 times the
terms that cancel in it (|x|^2/(2 Gamma) ~ 30 here), so ~1e-5 relative in the posterior mean.
"""
import importlib.util

import numpy as np
import pytest

from cfg_distortion.finite_d.backends import BACKENDS, check_backend
from cfg_distortion.finite_d.backends import posterior_kernel
from cfg_distortion.finite_d.simulator import simulate

OPTIONAL = {"numba": ("numba", "fast"), "torch": ("torch", "gpu")}


def _require(backend):
    module, extra = OPTIONAL[backend]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install \"cfg-distortion[{extra}]\")")


@pytest.mark.parametrize("backend", sorted(OPTIONAL))
@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_kernel_agrees_with_numpy_float64(backend, precision):
    _require(backend)
    rng = np.random.default_rng(21)
    mu = rng.standard_normal((3001, 20))  # not a multiple of any chunk
    x = 0.6 * mu[0] + rng.standard_normal((37, 20))  # not a multiple of the 4-sample block
    with posterior_kernel(mu, "float64", "numpy") as ref:
        lse_ref, mean_ref = ref.moments(x, 0.6, 1.0)
    with posterior_kernel(mu, precision, backend) as post:
        lse, mean = post.moments(x, 0.6, 1.0)
    rtol = 1e-5 if precision == "float32" else 1e-12
    np.testing.assert_allclose(mean, mean_ref, rtol=rtol, atol=rtol * np.abs(mean_ref).max())
    np.testing.assert_allclose(lse, lse_ref, rtol=max(rtol / 10, 1e-13))


@pytest.mark.parametrize("backend", sorted(OPTIONAL))
def test_simulation_agrees_with_numpy(backend):
    """Same seed, so the paths are coupled: the difference is rounding, far inside the error bars."""
    _require(backend)
    kw = dict(omega=3, sigma2=1.0, n=400, seed=22, steps=40)
    r, ref = simulate(20, 2000, backend=backend, **kw), simulate(20, 2000, backend="numpy", **kw)
    assert r.backend == backend
    assert abs(r.m_mean - ref.m_mean) < ref.m_sem / 20 and abs(r.v_mean - ref.v_mean) < ref.v_sem / 20


def test_a_missing_engine_is_one_line_naming_the_extra(monkeypatch):
    import cfg_distortion.finite_d.backends as B

    monkeypatch.setattr(B, "available_backends", lambda: ("numpy",))
    for backend, (module, extra) in OPTIONAL.items():
        with pytest.raises(ValueError, match=f"{module}.*cfg-distortion\\[{extra}\\]"):
            check_backend(backend)
    assert set(OPTIONAL) | {"numpy"} == set(BACKENDS)
