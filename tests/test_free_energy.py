"""Wrong-class rate phi: rates, annealed and frozen branches, by routes independent of the saddle."""
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.optimize import minimize_scalar
from scipy.special import logsumexp
from scipy.stats import chi2, norm

from cfg_distortion import _generated as G
from cfg_distortion.model.rates import wrong_class_rate
from cfg_distortion.theory import free_energy as F
from cfg_distortion.theory.symbols import Gamma, a, alpha, q

# sympy derivations, built once per process: with the other symbolic tests on one pytest-xdist worker
pytestmark = pytest.mark.xdist_group("sympy")


@pytest.mark.parametrize("nval", [0.5, 0.8, 1.3, 2.0])
def test_norm_rate_is_the_chi2_tail_exponent(nval):
    """(1/d) log P(chi2_{d-1}/d beyond n) -> -I_n(n); the correction is O(log d / d) ~ 5e-3."""
    d = 4000
    tail = chi2.logcdf(nval * d, d - 1) if nval < 1 else chi2.logsf(nval * d, d - 1)
    I_n = float(F.norm_rate().subs(sp.Symbol("n", positive=True), nval))
    assert -tail / d == pytest.approx(I_n, abs=3 * math.log(d) / d)


def test_overlap_rate_is_the_gaussian_tail_exponent():
    d, s = 4000, 0.3
    I_s = float(F.overlap_rate().subs(sp.Symbol("s", real=True), s))
    assert -norm.logsf(s * math.sqrt(d)) / d == pytest.approx(I_s, abs=3 * math.log(d) / d)


def test_annealed_rate_is_the_exact_gaussian_integral():
    """E exp(logit) factorises over components; sympy integrates one component exactly
    (mu_i ~ N(0,1), x_i^2 summing to q d) and the result must equal phi_ann - alpha."""
    mu, xi = sp.symbols("mu x_i", real=True)
    integrand = sp.exp(a * xi * mu / Gamma - a**2 * mu**2 / (2 * Gamma)) * sp.exp(-mu**2 / 2) / sp.sqrt(2 * sp.pi)
    one = sp.simplify(sp.integrate(integrand, (mu, -sp.oo, sp.oo), conds="none"))
    per_d = sp.expand(sp.expand_log(sp.log(one), force=True)).subs(xi**2, q)
    assert sp.simplify(per_d - (F.phi_annealed() - alpha)) == 0


def _one_rsb(alpha_, q_, a_, Gamma_):
    """phi = min_{0<theta<=1} (alpha + F(theta))/theta, F(theta) = (1/d) log E exp(theta logit)
    computed by quadrature (x with equal components, |x|^2 = q d)."""
    def F_theta(theta):
        f = lambda m: math.exp(theta * float(G.class_logit(math.sqrt(q_) * m, m * m, a_, Gamma_)) - m * m / 2)  # noqa
        return math.log(quad(f, -40, 40, epsabs=0, epsrel=1e-13, limit=200)[0] / math.sqrt(2 * math.pi))
    res = minimize_scalar(lambda th: (alpha_ + F_theta(th)) / th, bounds=(1e-4, 1.0), method="bounded",
                          options={"xatol": 1e-10})
    return min(res.fun, alpha_ + F_theta(1.0))


@pytest.mark.parametrize("alpha_,t", [(0.05, 0.2), (0.2, 0.1), (0.35, 0.3), (0.6, 0.5), (0.1, 1.5)])
def test_quenched_rate_matches_the_one_rsb_formula(alpha_, t):
    """Both branches: the bisection on the frozen constraint reproduces Parisi's 1RSB minimum."""
    a_, Gamma_ = float(G.ou_a(t)), float(G.ou_Gamma(t, 1.0))
    q_ = a_**2 + Gamma_
    phi, _ = wrong_class_rate(alpha_, q_, a_, Gamma_)
    assert float(phi) == pytest.approx(_one_rsb(alpha_, q_, a_, Gamma_), abs=1e-7)


@settings(max_examples=10)
@given(alpha_=st.floats(0.02, 2.0), q_=st.floats(0.05, 5.0), a_=st.floats(0.05, 1.0), Gamma_=st.floats(0.05, 3.0))
def test_quenched_rate_is_the_one_rsb_minimum_everywhere(alpha_, q_, a_, Gamma_):
    """Two-sided, off the conditional trajectory too (any q, a, Gamma): the quenched rate equals
    Parisi's 1RSB minimum computed by quadrature (1e-7: the bounded minimiser's xatol 1e-10 and
    the quadrature's rtol 1e-13 leave ~1e-9), so it is below the annealed rate exactly where the
    1RSB minimum sits at theta < 1, and continuous across the freezing line alpha_f(q). (alpha >= 0.02:
    at alpha -> 0 the minimum runs to theta -> 0, outside the reference minimiser's bracket.)"""
    phi, frozen = wrong_class_rate(alpha_, q_, a_, Gamma_)
    assert float(phi) == pytest.approx(_one_rsb(alpha_, q_, a_, Gamma_), abs=1e-7)
    af = float(G.freezing_alpha(q_, a_, Gamma_))
    if af > 1e-3:
        below, _ = wrong_class_rate(af * (1 - 1e-9), q_, a_, Gamma_)
        above, _ = wrong_class_rate(af * (1 + 1e-9), q_, a_, Gamma_)
        assert abs(float(below) - float(above)) < 1e-6


def test_quenched_rate_with_full_centroid_vectors():
    """Log-sum-exp over K = e^{alpha d} full vectors mu_k ~ N(0, I_d) (no decomposition used),
    annealed branch, d = 30: tolerance 3 SEM + 1/d (finite-size term)."""
    rng = np.random.default_rng(3)
    d, alpha_, t = 30, 0.35, 0.3
    a_, Gamma_ = float(G.ou_a(t)), float(G.ou_Gamma(t, 1.0))
    q_ = a_**2 + Gamma_
    K = int(round(math.exp(alpha_ * d)))
    x = rng.standard_normal(d)
    x *= math.sqrt(q_ * d) / np.linalg.norm(x)
    vals = []
    for _ in range(6):
        mu = rng.standard_normal((K, d))
        vals.append(logsumexp(G.class_logit(mu @ x, np.einsum("kd,kd->k", mu, mu), a_, Gamma_)) / d)
    phi, frozen = wrong_class_rate(math.log(K) / d, q_, a_, Gamma_)
    assert not frozen
    assert abs(np.mean(vals) - float(phi)) < 3 * np.std(vals, ddof=1) / math.sqrt(len(vals)) + 1 / d


def test_dropping_the_norm_moves_the_transition():
    """With |mu_k|^2 fixed to d (n = 1 - s^2 instead of free n) the annealed rate differs:
    the norm's large deviation matters at order one."""
    s, n = sp.Symbol("s", real=True), sp.Symbol("n", positive=True)
    E = F.energy().subs(n, 1 - s**2)
    fixed = sp.solve(sp.diff(E - F.overlap_rate(), s), s)[0]
    phi_fixed = alpha + (E - F.overlap_rate()).subs(s, fixed)
    vals = {alpha: 0.3, q: 2.0, a: 0.8, Gamma: 1.0}
    assert abs(float(phi_fixed.subs(vals)) - float(F.phi_annealed().subs(vals))) > 1e-2
