"""Distortion as a divergence: kl and w2 per dimension (theory/divergence.py).

Independent routes: the one-dimensional KL by numerical quadrature of p log(p/q) and the
one-dimensional W2^2 by quadrature of the quantile coupling (scipy); the d -> infinity
per-dimension forms against nonparametric estimates from samples at large d (pooled transverse
coordinates: sorted-sample quantile W2^2, and cross-entropy minus a spacing entropy estimate
for the KL), with block error bars; Gibbs' inequality (kl >= 0 with equality only on the class
law) over random inputs.
"""
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from cfg_distortion import _generated as G
from cfg_distortion.model.divergence import divergences, kl, kl_array, w2

Z = 4.0  # |estimate - formula| <= Z x block standard error


def test_one_dimensional_divergences_match_independent_routes():
    from cfg_distortion.theory import divergence as D

    kl1 = sp.lambdify((D.mu1, D.s1, D.mu2, D.s2), D.kl_1d())
    w21 = sp.lambdify((D.mu1, D.s1, D.mu2, D.s2), D.w2_1d())
    rng = np.random.default_rng(3)
    for _ in range(5):
        m1, m2 = rng.uniform(-2, 2, 2)
        v1, v2 = rng.uniform(0.2, 3.0, 2)
        p, q = stats.norm(m1, math.sqrt(v1)), stats.norm(m2, math.sqrt(v2))
        quad_kl, _ = integrate.quad(lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x)), -np.inf, np.inf)
        quad_w2, _ = integrate.quad(lambda u: (p.ppf(u) - q.ppf(u)) ** 2, 0, 1, limit=200)
        assert kl1(m1, v1, m2, v2) == pytest.approx(quad_kl, rel=1e-8, abs=1e-12)
        assert w21(m1, v1, m2, v2) == pytest.approx(quad_w2, rel=1e-6)


def test_parallel_variance_drops_out_and_the_limit_is_reached():
    """The finite-d sum tends to the generated per-dimension form like 1/d, for any parallel spread."""
    from cfg_distortion.theory import divergence as D

    vals = {D.m: 0.8, D.v: 0.6, D.sigma2: 1.3}
    for fin, gen in ((D.kl_finite_d(), G.divergence_kl), (D.w2_finite_d(), G.divergence_w2)):
        limit = gen(0.8, 0.6, 1.3)
        for s_par in (0.01, 5.0):
            gaps = [abs(float(fin.subs({**vals, D.s_par: s_par, D.d: dd})) - limit) for dd in (10**3, 10**4)]
            assert gaps[1] < gaps[0] / 5 and gaps[1] < 1e-2 / 10


def _spacing_entropy(y):
    """Vasicek m-spacing estimate of the differential entropy of 1-D samples (Ebrahimi end correction)."""
    y = np.sort(y)
    n = y.size
    k = max(1, int(round(math.sqrt(n) / 2)))
    i = np.arange(n)
    hi, lo = y[np.minimum(i + k, n - 1)], y[np.maximum(i - k, 0)]
    c = np.where(i < k, 1 + (i + 1 - 1) / k, np.where(i >= n - k, 1 + (n - i - 1) / k, 2.0))
    return float(np.mean(np.log(n * (hi - lo) / (c * k))))


def nonparametric(x, mu_c, sigma2):
    """(kl, w2) per dimension estimated from samples x (n x d) against N(mu_c, sigma2 I), |mu_c|^2 = d."""
    n, d = x.shape
    m = x @ mu_c / (mu_c @ mu_c)
    y = (x - m[:, None] * mu_c).ravel()  # transverse coordinates, pooled
    N = y.size
    quantiles = stats.norm.ppf((np.arange(N) + 0.5) / N) * math.sqrt(sigma2)
    w2_perp = float(np.mean((np.sort(y) - quantiles) ** 2))
    cross = 0.5 * math.log(2 * math.pi * sigma2) + float(np.mean(y**2)) / (2 * sigma2)
    kl_perp = cross - _spacing_entropy(y)
    # parallel coordinate m |mu_c| against the class's sqrt(d) (spread O(1) = O(1/d) per dimension):
    # per dimension both divergences charge E (m - 1)^2, in units of sigma2 for KL
    shift2 = float(np.mean((m - 1.0) ** 2))
    return kl_perp + shift2 / (2 * sigma2), w2_perp + shift2


@pytest.mark.parametrize("m, v, sigma2", [(1.0, 1.0, 1.0), (0.85, 0.45, 1.0), (1.2, 2.0, 0.5)])
def test_per_dimension_forms_match_nonparametric_estimates_at_large_d(m, v, sigma2):
    """Samples of the d -> infinity law (point m along mu_c up to O(1) spread, N(0, v) across) at d = 400."""
    d, n, blocks = 400, 40, 8
    rng = np.random.default_rng(11)
    mu_c = rng.standard_normal(d)
    mu_c *= math.sqrt(d / (mu_c @ mu_c))
    e = mu_c / math.sqrt(d)
    est = []
    for _ in range(blocks):
        z = rng.standard_normal((n, d)) * math.sqrt(v)
        z -= np.outer(z @ e, e)  # transverse part, variance v
        x = z + np.outer(m * math.sqrt(d) + 0.7 * rng.standard_normal(n), e)  # parallel: spread O(1)
        est.append(nonparametric(x, mu_c, sigma2))
    est = np.array(est)
    mean, sem = est.mean(axis=0), est.std(axis=0, ddof=1) / math.sqrt(blocks)
    # the estimators' own biases (spacing entropy ~ 1e-3 at 16000 points, O(1/d) from the parallel
    # direction and the projection) are below 3e-3 here
    bias = 3e-3
    for got, want, err in ((mean[0], kl(m, v, sigma2), sem[0]), (mean[1], w2(m, v, sigma2), sem[1])):
        assert abs(got - want) <= Z * err + bias, (got, want, err)


@settings(max_examples=60, deadline=None)
@given(m=st.floats(-3, 3), ratio=st.floats(1e-3, 1e3), sigma2=st.floats(1e-3, 1e2))
def test_divergences_vanish_only_on_the_class_law(m, ratio, sigma2):
    v = ratio * sigma2
    k, w = kl(m, v, sigma2), w2(m, v, sigma2)
    assert k >= 0 and w >= 0  # Gibbs' inequality; a squared distance
    assert kl(1.0, sigma2, sigma2) == pytest.approx(0.0, abs=1e-12)
    assert w2(1.0, sigma2, sigma2) == pytest.approx(0.0, abs=1e-12 * sigma2)
    if abs(m - 1) > 1e-3 or abs(ratio - 1) > 1e-3:
        assert k > 0 and w > 0


def test_undefined_divergences_are_null_not_numbers():
    assert kl(1.0, 0.0, 1.0) is None  # v = 0: infinite KL
    assert kl(1.0, 1.0, 0.0) is None  # sigma2 = 0: the class law is a point
    assert w2(0.5, 0.0, 0.0) == pytest.approx(0.25)
    assert divergences(None, None, 1.0) == {"kl": None, "w2": None}
    assert np.isnan(kl_array([1.0, np.nan], [1.0, 1.0], 1.0)[1])


def test_every_mean_field_result_reports_kl_and_w2():
    """The trajectory JSON carries kl and w2 at its own (m(0), v(0)); constant guidance distorts."""
    from cfg_distortion.meanfield.dmf import trajectory

    tr = trajectory(0.3, 3.0, 1.0, process="ou")
    out = tr.to_json()
    assert out["kl"] == pytest.approx(float(G.divergence_kl(tr.m_final, tr.v_final, 1.0)))
    assert out["w2"] == pytest.approx(float(G.divergence_w2(tr.m_final, tr.v_final, 1.0)))
    assert out["kl"] > 0.01
    base = trajectory(0.3, 0.0, 1.0, process="ou").to_json()
    assert base["kl"] < 1e-6 and base["w2"] < 1e-6  # omega = 0 ends on the class law
