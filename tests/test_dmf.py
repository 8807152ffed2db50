"""DMF trajectories: exactness at omega = 0, T and tolerance convergence, Gaussian limits,
process invariance, the variance theorem, and the switching logic."""
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from cfg_distortion import _generated as G
from cfg_distortion.model.critical import t_c
from cfg_distortion.meanfield.dmf import DEFAULT_T, _Model, trajectory
from cfg_distortion.model.schedules import as_schedule
from cfg_distortion.theory import dmf, potential
from cfg_distortion.theory.symbols import Gamma, a, m, v
from conftest import refused

PROCESSES = ["ou", "ve", "flow"]


@pytest.mark.parametrize("branch", ["G", "C"])
@pytest.mark.parametrize("sampler", ["sde", "ode"])
def test_conditional_trajectory_solves_the_drifts_symbolically(branch, sampler):
    assert dmf.exactness_residual(branch, sampler) == (0, 0)


@pytest.mark.parametrize("process", PROCESSES)
@pytest.mark.parametrize("sampler", ["sde", "ode"])
@pytest.mark.parametrize("sigma2", [0.5, 1.0, 2.0])
def test_omega_zero_samples_the_class_law(process, sampler, sigma2):
    tr = trajectory(0.3, 0.0, sigma2, sampler=sampler, process=process)
    assert abs(tr.m_final - 1.0) < 1e-6 and abs(tr.v_final - sigma2) < 1e-6


@pytest.mark.parametrize("sigma2", [0.5, 1.0, 2.0])
def test_omega_zero_switches_at_the_classification_time(sigma2):
    """The unguided trajectory is the exact conditional one: it switches at t_c(alpha)."""
    alpha = 0.2
    tr = trajectory(alpha, 0.0, sigma2)
    assert tr.t_switch == pytest.approx([t_c(alpha, sigma2).t_c], abs=1e-6)


@pytest.mark.parametrize("process,sampler", [(p, s) for p in PROCESSES for s in ("sde", "ode")])
def test_start_time_is_converged(process, sampler):
    """Moving T further back changes m_final, v_final, t_switch by < 1e-6 (target 1e-4)."""
    T0 = DEFAULT_T[(process, sampler)]
    T1 = 1 - (1 - T0) / 10 if process == "flow" else 10 * T0 if process == "ve" else T0 + 10
    r0 = trajectory(0.3, 3.0, 1.0, sampler=sampler, process=process)
    r1 = trajectory(0.3, 3.0, 1.0, sampler=sampler, process=process, T=T1)
    assert abs(r0.m_final - r1.m_final) < 1e-6 and abs(r0.v_final - r1.v_final) < 1e-6
    assert abs(r0.t_switch[0] - r1.t_switch[0]) < 1e-6


@pytest.mark.parametrize("sampler", ["sde", "ode"])
def test_solver_tolerance_is_converged(sampler):
    r0 = trajectory(0.3, 3.0, 1.0, sampler=sampler)
    r1 = trajectory(0.3, 3.0, 1.0, sampler=sampler, rtol=1e-12, atol=1e-14)
    assert abs(r0.m_final - r1.m_final) < 1e-7 and abs(r0.v_final - r1.v_final) < 1e-7


def _typed_gaussian_moment_rhs(sampler, sigma2_, omega_):
    """Moment equations of guided sampling between two Gaussians, derived here from scratch.

    The class law N(a mu_c, Gamma I) and the K -> infinity cloud N(0, (Gamma + a^2) I) are typed
    as log densities per dimension; sympy differentiates them into the two scores, the guided
    score is (1 + omega) s_c - omega s_u, and the reverse SDE dx = [f x - g^2 s] dt + g dW (or the
    ODE with g^2 s / 2 and no noise) moves m = x.mu_c / d and v = |x - m mu_c|^2 / d."""
    x_, mu_, a_, b2_, w_ = sp.symbols("x mu a b2 w", real=True)
    Gam = b2_ + a_**2 * sigma2_
    log_class = -(x_ - a_ * mu_) ** 2 / (2 * Gam)
    log_cloud = -x_**2 / (2 * (Gam + a_**2))
    s = (1 + w_) * sp.diff(log_class, x_) - w_ * sp.diff(log_cloud, x_)  # linear: s = -c_x x + c_mu mu
    c_x = sp.lambdify((a_, b2_, w_), -sp.diff(s, x_))
    c_mu = sp.lambdify((a_, b2_, w_), sp.diff(s, mu_))
    k = 1.0 if sampler == "sde" else 0.5
    a_t, b2_t = (lambda t: math.exp(-t)), (lambda t: -math.expm1(-2 * t))  # OU: f = -1, g^2 = 2

    def rhs(t, y):
        cx, cm = c_x(a_t(t), b2_t(t), omega_), c_mu(a_t(t), b2_t(t), omega_)
        drift = -1.0 + k * 2.0 * cx
        return [drift * y[0] - k * 2.0 * cm, 2 * drift * y[1] - (2.0 if sampler == "sde" else 0.0)]

    return rhs, (0.0, b2_t(20.0) + a_t(20.0) ** 2 * (1 + sigma2_))


@pytest.mark.parametrize("sampler", ["sde", "ode"])
@pytest.mark.parametrize("sigma2,omega", [(1.0, 3.0), (0.25, 6.0), (2.0, -0.4)])
def test_infinite_classes_follow_two_typed_gaussian_scores(sampler, sigma2, omega):
    """alpha = inf (K -> infinity) DMF against the moment equations of two Gaussian scores typed
    in this test and integrated by scipy (DOP853, rtol 1e-12): a route that shares nothing with
    the drifts of theory/, which the sympy closed forms also come from. Tolerance 1e-8: ten times
    the DMF's rtol 1e-10, with the start at the same T = 20."""
    from scipy.integrate import solve_ivp

    rhs, y0 = _typed_gaussian_moment_rhs(sampler, sigma2, omega)
    sol = solve_ivp(rhs, (20.0, 0.0), y0, method="DOP853", rtol=1e-12, atol=1e-14)
    tr = trajectory(math.inf, omega, sigma2, sampler=sampler)
    assert tr.branches == ["G"]
    assert tr.m_final == pytest.approx(sol.y[0, -1], abs=1e-8)
    assert tr.v_final == pytest.approx(sol.y[1, -1], abs=1e-8)
    # the sympy closed forms of the Gaussian limit land on the same numbers
    m_limit, v_limit = G.GAUSSIAN_LIMIT[sampler]
    closed_m, closed_v = m_limit(sigma2, omega), v_limit(sigma2, omega)
    assert closed_m == pytest.approx(sol.y[0, -1], abs=1e-8) and closed_v == pytest.approx(sol.y[1, -1], abs=1e-8)


@pytest.mark.xdist_group("sympy")  # the Gaussian limits are derived once, on the worker of the symbolic tests
def test_gaussian_limit_reduces_to_the_class_law_without_guidance():
    from cfg_distortion.theory import gaussian_limit as GL
    from cfg_distortion.theory.symbols import omega, sigma2
    for sampler in ("sde", "ode"):
        assert sp.simplify(GL.final_moment(m, sampler).subs(omega, 0) - 1) == 0
        assert sp.simplify(GL.final_moment(v, sampler).subs(omega, 0) - sigma2) == 0


@pytest.mark.parametrize("sampler", ["sde", "ode"])
@pytest.mark.parametrize("omega", [1.0, 3.0])
def test_results_depend_on_the_snr_path_only(sampler, omega):
    """ou, ve and flow share the SNR path up to a change of time: at constant omega their
    t = 0 results must agree (an invariance the integrator does not know about)."""
    res = [trajectory(0.3, omega, 1.0, sampler=sampler, process=p) for p in PROCESSES]
    for r in res[1:]:
        assert r.m_final == pytest.approx(res[0].m_final, abs=1e-6)
        assert r.v_final == pytest.approx(res[0].v_final, abs=1e-6)


def test_guidance_confined_to_branch_c_is_inert():
    """Equality case of the theorem: omega > 0 only where branch C is active changes nothing."""
    unguided = trajectory(0.3, 0.0, 1.0)  # switches at t_c(0.3)
    late = trajectory(0.3, schedule=f"interval:5,0,{0.9 * unguided.t_switch[0]}", sigma2=1.0)
    base = trajectory(0.3, 3.0, 1.0)  # switches at about 1.04
    ts = base.t_switch[0]
    never = trajectory(0.3, schedule=f"piecewise:inf:3,{0.9 * ts}:0", sigma2=1.0)
    assert late.v_final == pytest.approx(1.0, abs=1e-7) and late.m_final == pytest.approx(1.0, abs=1e-7)
    assert never.v_final == pytest.approx(base.v_final, abs=1e-7)


def test_branch_g_marginal_is_the_centroid_cloud():
    """Independent route: in branch G, (1/d) log p_t(x) is the log density of N(0, (a^2 + Gamma) I)."""
    cloud = -(m**2 + v) / (2 * (Gamma + a**2)) - sp.log(2 * sp.pi * (Gamma + a**2)) / 2
    assert sp.simplify(potential.log_marginal_density("G") - cloud) == 0


def test_branch_c_minimum_is_the_class_law_and_g_minimum_at_omega0():
    assert potential.minimum("C") == {m: a, v: Gamma}
    from cfg_distortion.theory.symbols import omega
    assert {k: sp.simplify(val.subs(omega, 0)) for k, val in potential.minimum("G").items()} == {m: a, v: Gamma}


def test_sliding_field_keeps_the_margin_constant():
    """On the boundary, the Filippov combination of the two flows has dh/dtau = 0."""
    model = _Model(0.3, 1.0, as_schedule("const:3"), "sde", "ou")
    t = 1.0
    a_, G_ = float(G.ou_a(t)), float(G.ou_Gamma(t, 1.0))
    v_ = 0.8
    from scipy.optimize import brentq
    m_ = brentq(lambda x: model.margin(t, [x, v_]), 0.0, 5.0, xtol=1e-14)
    y = np.array([m_, v_])
    hG, hC = model.margin_rates(t, y)
    F = model.sliding_drift(t, y)
    # dh/dtau along F, by finite differences of the margin (an independent route to the rates)
    eps = 1e-6
    h_dot = (model.margin(t - eps, y + eps * F) - model.margin(t + eps, y - eps * F)) / (2 * eps)
    if hG >= 0 >= hC:
        assert abs(h_dot) < 1e-6
    fd_G = (model.margin(t - eps, y + eps * model.drift("G", t, y)) -
            model.margin(t + eps, y - eps * model.drift("G", t, y))) / (2 * eps)
    assert fd_G == pytest.approx(hG, abs=1e-6)


def test_events_not_if_tests_locate_the_switch():
    """The switch time is the root of the margin along the trajectory, to solver accuracy."""
    tr = trajectory(0.3, 3.0, 1.0)
    model = _Model(0.3, 1.0, as_schedule("const:3"), "sde", "ou")
    ts = tr.t_switch[0]
    m_, v_, _ = tr.sample(np.array([ts]))
    assert abs(model.margin(ts, [m_[0], v_[0]])) < 1e-8


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "cfg_distortion.cli", "trajectory", *args],
                          capture_output=True, text=True, timeout=120)


def test_cli_json_contract(tmp_path):
    r = run_cli("--alpha", "0.3", "--omega", "3", "--sigma2", "1", "--json", "--plot", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for key in ("m_final", "v_final", "t_switch", "branches", "classified", "mean_shift", "variance_ratio",
                "alpha", "sigma2", "schedule", "sampler", "process", "T"):
        assert key in out
    assert out["branches"] == ["G", "C"] and out["classified"] is True
    assert out["mean_shift"] == pytest.approx(out["m_final"] - 1)
    assert out["variance_ratio"] == pytest.approx(out["v_final"])
    assert (tmp_path / "trajectory.png").stat().st_size > 0 and (tmp_path / "trajectory.pdf").stat().st_size > 0


def test_cli_alpha_inf():
    out = json.loads(run_cli("--alpha", "inf", "--omega", "3", "--sigma2", "1", "--json").stdout)
    assert out["branches"] == ["G"] and out["K_infinite"] is True and out["t_switch"] == []


@pytest.mark.parametrize("args,word", [
    (["--alpha", "nan", "--omega", "1", "--sigma2", "1"], "alpha"),
    (["--alpha", "0.3", "--omega", "nan", "--sigma2", "1"], "omega"),
    (["--alpha", "0.3", "--omega", "1", "--sigma2", "-1"], "sigma2"),
    (["--alpha", "0.3", "--omega", "1", "--sigma2", "1", "--T", "0"], "T"),
    (["--alpha", "0.3", "--omega", "1", "--sigma2", "1", "--sampler", "euler"], "sampler"),
    (["--alpha", "0.3", "--schedule", "piecewise:1:2,3:1", "--sigma2", "1"], "decreasing"),
    (["--alpha", "0.3", "--schedule", "interval:3,0.5", "--sigma2", "1"], "interval"),
    (["--alpha", "0.3", "--schedule", "const:abc", "--sigma2", "1"], "'abc'"),
    (["--alpha", "0.3", "--schedule", "wiggle:1", "--sigma2", "1"], "wiggle"),
    (["--alpha", "0.3", "--omega", "1", "--sigma2", "1", "--process", "flow", "--T", "1.5"], "T"),
])
def test_cli_bad_input(args, word, capsys):
    """In process (the entry point's own exit 2 is held by test_cli's subprocess runs)."""
    refused(capsys, "trajectory", *args, word=word, stdout_empty=True)


@pytest.mark.parametrize("process,T", [("ou", 1.0), ("flow", 0.8)])
def test_short_horizon_start_law_is_the_mixture_marginal(process, T):
    """At a short horizon T the start law N(0, (Gamma_T + a_T^2) I) is far from the class law, and
    at omega = 0 the guided score is the class score, linear in x. Then the ODE is the class's own
    probability-flow map, x_0 - mu_c = sqrt(sigma2/Gamma_T) (x_T - a_T mu_c), so (x_T . mu_c = 0)
        m(0) = 1 - a_T sqrt(sigma2/Gamma_T),   v(0) = sigma2 (Gamma_T + a_T^2)/Gamma_T,
    and the SDE lands on the moment equations typed in checks/typed.py from the same start.
    A start variance without a_T^2 (invisible at the default T, where a_T^2 ~ 1e-9) fails this."""
    from cfg_distortion.checks import typed

    sigma2 = 0.5
    fa, fb2, _, _ = typed.PROCESSES[process]
    a_T, gamma_T = fa(T), fb2(T) + fa(T) ** 2 * sigma2
    ode = trajectory(0.5, 0.0, sigma2, sampler="ode", process=process, T=T)
    assert ode.m_final == pytest.approx(1 - a_T * math.sqrt(sigma2 / gamma_T), abs=1e-8)
    assert ode.v_final == pytest.approx(sigma2 * (gamma_T + a_T**2) / gamma_T, rel=1e-8)
    sde = trajectory(0.5, 0.0, sigma2, sampler="sde", process=process, T=T)
    m_ref, v_ref = typed.gaussian_moments(sigma2, lambda t: 0.0, "sde", process=process, T=T)
    assert (sde.m_final, sde.v_final) == pytest.approx((m_ref, v_ref), rel=1e-7)
    assert v_ref - sigma2 > 1e3 * 1e-7 * sigma2  # the start's excess is far above the tolerance at t = 0
