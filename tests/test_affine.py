"""Affine schedules omega = W0 + SLOPE t and the noise-level guidance interval.

Independent routes: SLOPE = 0 against ``const:W0``; the invariance of guided sampling under the
change of process at equal noise level b_t/a_t (an affine schedule on ``ve`` and its image on
``ou``, a callable the integrator knows nothing about, started at the same noise level); the
noise-level interval against a brentq inversion of b_t/a_t typed from the definitions (conftest).
"""
import math

import numpy as np
import pytest
from conftest import DEFINITIONS
from scipy.optimize import brentq

from cfg_distortion.meanfield.dmf import trajectory
from cfg_distortion.model.schedules import parse_schedule


def test_affine_with_zero_slope_is_constant_guidance():
    a = trajectory(0.3, sigma2=1.0, schedule="affine:3,0", process="ve")
    b = trajectory(0.3, sigma2=1.0, schedule="const:3", process="ve")
    assert (a.m_final, a.v_final, a.t_switch) == (b.m_final, b.v_final, b.t_switch)
    s = parse_schedule("affine:-1,0.5", T=123.0)
    np.testing.assert_allclose(s(np.array([0.0, 2.0, 4.0])), [-1.0, 0.0, 1.0])
    assert parse_schedule("affine:-1,0.5", T=1e7)(np.array(4.0)) == s(np.array(4.0))  # independent of T


@pytest.mark.parametrize("sampler", ["sde", "ode"])
def test_affine_on_ve_equals_its_image_on_ou(sampler):
    """x_t / a_t of ou is the ve process at noise level b_t/a_t: the same schedule of the noise level
    gives the same m(0), v(0). Both start at noise level sigma_T = sqrt(e^20 - 1) (ou T = 10)."""
    w0, slope = -1.0, 0.5
    a_ou, b_ou, _ = DEFINITIONS["ou"]
    T_ou = 10.0
    sigma_T = b_ou(T_ou) / a_ou(T_ou)
    ve = trajectory(0.3, sigma2=1.0, schedule=f"affine:{w0},{slope}", process="ve", sampler=sampler, T=sigma_T)
    ou = trajectory(0.3, sigma2=1.0, schedule=lambda t: w0 + slope * np.sqrt(np.expm1(2 * t)), process="ou",
                    sampler=sampler, T=T_ou)
    # both solved to rtol 1e-10; the branch switch is an event in each
    assert ve.m_final == pytest.approx(ou.m_final, rel=1e-6)
    assert ve.v_final == pytest.approx(ou.v_final, rel=1e-6)
    assert ve.branches == ou.branches


def test_interval_sigma_is_the_interval_at_the_noise_level_times():
    a_ou, b_ou, _ = DEFINITIONS["ou"]
    s_lo, s_hi = 0.28, 5.42
    t_lo, t_hi = (brentq(lambda t, s=s: b_ou(t) / a_ou(t) - s, 1e-12, 20.0, xtol=1e-15) for s in (s_lo, s_hi))
    sched = parse_schedule(f"interval-sigma:3,{s_lo},{s_hi}", process="ou")
    assert sched.breakpoints == pytest.approx((t_hi, t_lo), rel=1e-12)
    ts = np.array([0.5 * t_lo, t_lo * 1.001, 0.5 * (t_lo + t_hi), t_hi * 0.999, t_hi * 1.001])
    np.testing.assert_array_equal(sched(ts), [0, 3, 3, 3, 0])
    ve = parse_schedule(f"interval-sigma:3,{s_lo},{s_hi}", process="ve")  # ve: t is the noise level
    assert ve.breakpoints == pytest.approx((s_hi, s_lo))


@pytest.mark.parametrize("spec, words", [
    ("affine:1", "expected 2 comma-separated values W0,SLOPE"),
    ("affine:1,nan", "SLOPE must be finite"),
    ("interval-sigma:3,0.5,0.2", "need 0 <= sigma_lo < sigma_hi"),
    ("interval-sigma:3,0.2,0.5", "needs the forward process"),
])
def test_bad_affine_and_interval_sigma_specs_say_why(spec, words):
    with pytest.raises(ValueError, match=words):
        parse_schedule(spec)


def test_affine_schedule_runs_in_the_simulator_and_the_finite_d_theory():
    from cfg_distortion.finite_d.effective import solve
    from cfg_distortion.finite_d.simulator import simulate

    # a negative affine schedule (omega = -1 + 0.01 t) keeps more variance than constant omega = 3 at d = 20
    sim = simulate(20, 50, schedule="affine:-1,0.01", sigma2=1.0, n=200, steps=100, process="ve")
    base = simulate(20, 50, omega=3.0, sigma2=1.0, n=200, steps=100, process="ve")
    assert sim.schedule == "affine:-1,0.01" and sim.v_mean > base.v_mean
    fd = solve(20, 50, schedule="interval-sigma:3,0.28,5.42", sigma2=1.0, process="ve", paths=200, steps=100)
    assert math.isfinite(fd.m_mean)
