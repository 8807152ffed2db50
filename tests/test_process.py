"""Forward process: Gamma, snr, f, g^2 against the moment equations integrated numerically."""
import math

import numpy as np
import pytest
from conftest import DEFINITIONS
from scipy.integrate import solve_ivp

from cfg_distortion.model.process import get_process

# sympy derivations, built once per process: with the other symbolic tests on one pytest-xdist worker
pytestmark = pytest.mark.xdist_group("sympy")


@pytest.mark.parametrize("name", ["ou", "ve", "flow"])
def test_sde_coefficients_reproduce_the_marginals(name):
    """Integrate d mean = f mean dt and d var = (2 f var + g^2) dt from t0; the result must be
    a(t)/a(t0) and the variance b(t)^2 - (a(t)/a(t0))^2 b(t0)^2 of x_t given x_t0."""
    p = get_process(name)
    a_def, b_def, t_max = DEFINITIONS[name]
    t0, t1 = 0.05, (0.9 if t_max < math.inf else 2.0)
    rhs = lambda t, y: [float(p.f(t)) * y[0], 2 * float(p.f(t)) * y[1] + float(p.g2(t))]  # noqa: E731
    sol = solve_ivp(rhs, (t0, t1), [1.0, 0.0], rtol=1e-11, atol=1e-13)
    ratio = a_def(t1) / a_def(t0)
    assert sol.y[0, -1] == pytest.approx(ratio, rel=1e-8)
    assert sol.y[1, -1] == pytest.approx(b_def(t1) ** 2 - ratio**2 * b_def(t0) ** 2, rel=1e-7, abs=1e-10)


@pytest.mark.parametrize("name", ["ou", "ve", "flow"])
@pytest.mark.parametrize("sigma2", [0.0, 0.25, 1.0, 2.0])
def test_gamma_and_snr_are_the_class_variance(name, sigma2):
    """Monte Carlo: x_t = a x0 + b z with x0 ~ N(0, sigma2) has variance Gamma (5 SEM)."""
    p = get_process(name)
    t = 0.37
    rng = np.random.default_rng(0)
    a_def, b_def, _ = DEFINITIONS[name]
    x = a_def(t) * math.sqrt(sigma2) * rng.standard_normal(400_000) + b_def(t) * rng.standard_normal(400_000)
    var = float(np.var(x))
    sem = var * math.sqrt(2 / x.size)
    assert abs(float(p.Gamma(t, sigma2)) - var) < 5 * sem
    assert float(p.snr(t, sigma2)) == pytest.approx(a_def(t) ** 2 / float(p.Gamma(t, sigma2)), rel=1e-12)


@pytest.mark.parametrize("name", ["ou", "ve", "flow"])
def test_specialise_substitutes_every_process_symbol(name):
    """A DMF drift written in a, Gamma, f, g2 becomes a function of t alone (plus the state and inputs),
    and equals the generated drift evaluated at the process's a_t, Gamma_t, f_t, g_t^2 (from the
    definitions of the presets, typed independently in conftest.py)."""
    import sympy as sp

    from cfg_distortion import _generated as G
    from cfg_distortion.theory import dmf, process
    from cfg_distortion.theory import symbols as S

    p = process.PRESETS[name]
    a_def, b_def, _ = DEFINITIONS[name]
    for branch in dmf.BRANCHES:
        for k, expr in enumerate(dmf.drifts(branch, "sde")):
            special = p.specialise(expr)
            assert not special.free_symbols & {S.a, S.b, S.Gamma, S.snr, S.f, S.g2}, (branch, k)
            fn = sp.lambdify((S.t, S.m, S.v, S.sigma2, S.omega), special, "numpy")
            t, m, v, s2, w = 0.3, 0.7, 0.9, 0.8, 2.0
            a, b = a_def(t), b_def(t)
            h = 1e-6  # f = a'/a, g^2 = (b^2)' - 2 f b^2 by central differences of the definitions
            f = (a_def(t + h) - a_def(t - h)) / (2 * h) / a
            g2 = (b_def(t + h) ** 2 - b_def(t - h) ** 2) / (2 * h) - 2 * f * b * b
            want = G.DRIFTS[(branch, "sde")][k](m, v, a, a * a * s2 + b * b, f, g2, w)
            assert float(fn(t, m, v, s2, w)) == pytest.approx(float(want), rel=1e-7), (branch, k)


def test_latex_prints_f_t_and_g_t_squared_like_the_equations():
    """latex() of the DMF drifts uses the one symbol table: f_t and g_t^2, never g_{2} or a bare f,
    and prints exactly what the equation document prints."""
    from cfg_distortion.theory import dmf
    from cfg_distortion.theory import equations as EQ
    from cfg_distortion.theory.latex import latex

    for branch in dmf.BRANCHES:
        for sampler in dmf.SAMPLERS:
            dm, dv = dmf.drifts(branch, sampler)
            text = latex(dv)
            assert "g_t^2" in text and "g_{2}" not in text and "g2" not in text
            assert "f_t" in text and " f " not in f" {text} ".replace("{", " ").replace("}", " ")
            assert text == EQ.expr_latex(dv)
            assert latex(dm) == EQ.expr_latex(dm)
