"""alpha_c(t) and t_c(alpha) against the Gaussian channel capacity and the collapse time."""
import math

import numpy as np
import pytest
import sympy as sp
from conftest import DEFINITIONS
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq, minimize_scalar

from cfg_distortion import _generated as G
from cfg_distortion.model.critical import alpha_c, t_c
from cfg_distortion.theory import classification as C
from cfg_distortion.theory.symbols import snr

# sympy derivations, built once per process: with the other symbolic tests on one pytest-xdist worker
pytestmark = pytest.mark.xdist_group("sympy")

SIGMA2 = [0.25, 1.0, 2.0]
PROCESSES = ["ou", "ve", "flow"]


def capacity(name, t, sigma2):
    """Shannon: (1/2) log(1 + P/N), signal power a_t^2, noise a_t^2 sigma2 + b_t^2."""
    a_def, b_def, _ = DEFINITIONS[name]
    return 0.5 * math.log1p(a_def(t) ** 2 / (a_def(t) ** 2 * sigma2 + b_def(t) ** 2))


def times(name):
    return [0.0, 0.01, 0.3, 0.75, 0.95] if name == "flow" else [0.0, 0.01, 0.3, 1.0, 3.0]


@pytest.mark.parametrize("name", PROCESSES)
@pytest.mark.parametrize("sigma2", SIGMA2)
def test_alpha_c_is_the_channel_capacity(name, sigma2):
    for t in times(name):
        assert alpha_c(t, sigma2, name).alpha_c == pytest.approx(capacity(name, t, sigma2), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("name", PROCESSES)
@pytest.mark.parametrize("sigma2", SIGMA2)
@pytest.mark.parametrize("frac", [0.02, 0.3, 0.7, 0.98])
def test_t_c_is_the_root_of_the_capacity(name, sigma2, frac):
    alpha0 = capacity(name, 0.0, sigma2)
    alpha = frac * alpha0
    t_hi = DEFINITIONS[name][2] - 1e-13 if name == "flow" else 60.0
    root = brentq(lambda t: capacity(name, t, sigma2) - alpha, 0.0, t_hi, xtol=1e-15, rtol=1e-15)
    assert t_c(alpha, sigma2, name).t_c == pytest.approx(root, abs=1e-8)


@pytest.mark.parametrize("name", PROCESSES)
def test_never_and_always_classified(name):
    a0 = capacity(name, 0.0, 1.0)
    assert t_c(a0, 1.0, name).t_c is None
    assert t_c(1.5 * a0, 1.0, name).never_classified
    res = t_c(0.0, 1.0, name)
    assert res.t_c == DEFINITIONS[name][2]  # the whole process: inf for ou/ve, 1 for flow


def test_point_classes_have_infinite_threshold_at_t0():
    assert alpha_c(0.0, 0.0, "ou").infinite
    assert alpha_c(0.0, 0.0, "ou").to_json()["alpha_c"] is None


def _collapse_time_by_distances(alpha):
    """Independent derivation of the sigma2 = 0 collapse time (Biroli, Bonnaire, de Bortoli,
    Mezard 2024) from distances, not from the REM over inner products: x_t = c y_1 + sqrt(D) z
    with c = e^{-t}, D = 1 - e^{-2t}; the other points y ~ N(0, I) sit at r = |x - c y|^2 / d
    whose lower-tail rate J(r) is the Legendre transform (numerical) of the noncentral chi^2
    cumulant per dimension, L(l) = -log(1 - 2 l c^2)/2 + l/(1 - 2 l c^2) (|x|^2 = d). The own
    point sits at r = D; collapse when e^{alpha d} points no longer reach it: alpha = J(D)."""
    def J(r, c):
        L = lambda l: -0.5 * math.log(1 - 2 * l * c * c) + l / (1 - 2 * l * c * c)  # noqa: E731
        res = minimize_scalar(lambda l: -(l * r - L(l)), bounds=(-1e4, 0.0), method="bounded",
                              options={"xatol": 1e-13})
        return -res.fun
    return brentq(lambda t: J(-math.expm1(-2 * t), math.exp(-t)) - alpha, 1e-6, 20.0, xtol=1e-14)


@pytest.mark.parametrize("alpha", [0.05, 0.2, 0.5, 1.0])
def test_sigma2_zero_is_the_collapse_time(alpha):
    published = 0.5 * math.log(1 + 1 / math.expm1(2 * alpha))  # t_C of Biroli et al. 2024
    derived_here = _collapse_time_by_distances(alpha)
    assert derived_here == pytest.approx(published, abs=1e-6)  # brentq of a nested optimiser
    assert t_c(alpha, 0.0, "ou").t_c == pytest.approx(published, abs=1e-12)


@settings(max_examples=80)
@given(name=st.sampled_from(PROCESSES), sigma2=st.floats(1e-6, 4.0), frac=st.floats(1e-3, 0.999))
def test_t_c_is_where_the_capacity_equals_alpha(name, sigma2, frac):
    """t_c(alpha) solves capacity(t) = alpha, the capacity typed here: an inverse checked against
    a formula the code does not share (two-sided, relative 1e-9 from the root's rtol)."""
    alpha = frac * capacity(name, 0.0, sigma2)
    tc = t_c(alpha, sigma2, name).t_c
    assert capacity(name, tc, sigma2) == pytest.approx(alpha, rel=1e-9)


_END = {"ou": 25.0, "ve": 1e4, "flow": 1.0}


@settings(max_examples=60)
@given(name=st.sampled_from(PROCESSES), sigma2=st.floats(1e-6, 4.0), frac=st.floats(0.0, 0.999))
def test_alpha_c_is_the_capacity_and_decreases_over_the_whole_process(name, sigma2, frac):
    """Over the whole time range of each process (not only t < 1): alpha_c(t) equals the typed
    capacity (relative 1e-10) and strictly decreases."""
    t = frac * _END[name]
    t2 = t + 1e-3 * (_END[name] - t)
    value = alpha_c(t, sigma2, name).alpha_c
    assert value == pytest.approx(capacity(name, t, sigma2), rel=1e-10)
    assert alpha_c(t2, sigma2, name).alpha_c < value


def test_classification_line_is_the_freezing_line():
    """On the conditional trajectory Sigma(1) = alpha - alpha_c identically (symbolic)."""
    assert C.entropy_on_trajectory() == 0
    assert sp.simplify(C.alpha_c_snr() - sp.log(1 + snr) / 2) == 0


@pytest.mark.parametrize("alpha", [0.1, 0.3, 0.5])
def test_annealed_boundary_solves_target_equals_phi(alpha):
    a_, Gamma_, q_ = 0.7, 0.8, 1.6
    mb = G.boundary_m_annealed(alpha, q_, a_, Gamma_)
    assert G.target_term(mb, a_, Gamma_) == pytest.approx(G.phi_annealed(alpha, q_, a_, Gamma_), abs=1e-13)


def test_flow_t_c_is_smooth_through_the_removable_singularity():
    """sympy's quadratic root for flow is 0/0 at S (1 + sigma2) = 1; the rewritten form is not."""
    sigma2 = 1.0
    alpha_star = 0.5 * math.log1p(1 / (1 + sigma2))  # S = e^{2 alpha} - 1 = 1/(1 + sigma2)
    vals = [t_c(alpha_star + h, sigma2, "flow").t_c for h in (-1e-9, 0.0, 1e-9)]
    assert np.all(np.isfinite(vals)) and abs(vals[0] - vals[2]) < 1e-8
