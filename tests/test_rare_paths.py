"""The paths that rarely run, exercised where their errors show, each against a route of its own.

- Filippov sliding (dmf.trajectory's "S" segments). No trajectory of the model itself slides: the
  branch-C flow leaves the boundary into C wherever it was scanned (hC > 0 on h = 0 for the three
  processes, both samplers, alpha 0.02..1, sigma2 0.05..4; the only "S" labels are alpha = 0 starts
  that leave at once). So the test constructs a flow that does: branch C's drift of m is lowered
  by a constant (monkeypatched into Flow.branch_drift, the one place both integrators and the
  sliding field take drifts from), the G flow of omega = 3 pushes into C, and the trajectory slides
  along h = 0 from the switch to t = 0. The independent route is the regularised large-d
  dynamics, with the branches mixed by the smooth weight w_C = expit(d h) instead of events and a
  Filippov lambda, integrated by LSODA: it converges to the sliding motion like 1/d (measured:
  7e-4 at d = 1e4, 7e-5 at d = 1e5).
- Frozen-branch partial derivatives of the quenched rate phi, where the wrong classes are frozen
  (Sigma(1) < 0), against central differences of phi itself, and the margin rates the switching
  logic uses against central differences of the margin along each branch's flow.
- The phase grid at alpha = 0, where trajectories switch two or three times (G, C, G, C) and
  are handed to the per-point integrator: the first switch and the number of switches.
- The finite-d theory's count of wrong classes, K - 1, against a direct log-sum-exp over K - 1
  sampled centroids at K = 3 (Monte Carlo of E Z), and the closed Gaussian expectation typed here.
"""
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.special import expit, logsumexp

from cfg_distortion import _generated as G
from cfg_distortion.finite_d.effective import effective_alpha, solve
from cfg_distortion.meanfield import dmf, phase
from cfg_distortion.meanfield.flow import Flow
from cfg_distortion.model.process import get_process
from cfg_distortion.model.rates import wrong_class_rate

# ---------------------------------------------------------------- sliding

PUSH = 1.0  # lowers branch C's dm/dtau: the C flow then points back into G on the boundary


@pytest.fixture
def pushed_c_flow(monkeypatch):
    original = Flow.branch_drift

    def branch_drift(self, branch, t, m, v, omega, alpha=np.inf):
        fm, fv = original(self, branch, t, m, v, omega, alpha)
        return (fm - PUSH, fv) if branch == "C" else (fm, fv)

    monkeypatch.setattr(Flow, "branch_drift", branch_drift)


def _regularised(alpha, omega, sigma2, sampler, T, v_T, d):
    """dy/dtau = w_C F_C + (1 - w_C) F_G with w_C = expit(d h): the sliding limit as d -> infinity."""
    flow = Flow(sigma2, sampler, "ou")
    al = np.array([alpha])

    def rhs(t, y):
        w = expit(d * flow.margin(t, y[:1], y[1:], al)[0])
        gm, gv = flow.branch_drift("G", t, y[0], y[1], omega)
        cm, cv = flow.branch_drift("C", t, y[0], y[1], omega)
        return [-(w * cm + (1 - w) * gm), -(w * cv + (1 - w) * gv)]  # d/dt = -d/dtau

    sol = solve_ivp(rhs, (T, 0.0), [0.0, v_T], method="LSODA", rtol=1e-9, atol=1e-11)
    assert sol.success
    return sol.y[:, -1]


def test_sliding_motion_is_the_large_d_limit_of_the_smooth_switch(pushed_c_flow):
    alpha, omega, sigma2 = 0.3, 3.0, 1.0
    tr = dmf.trajectory(alpha, omega, sigma2, sampler="sde")
    assert tr.branches == ["G", "S"]  # it really slides: from the switch to t = 0
    t_s = tr.t_switch[0]
    assert t_s > 0.5
    # on the boundary all along the slide
    flow = Flow(sigma2, "sde", "ou")
    ts = np.linspace(t_s, 0.0, 9)
    m, v, _ = tr.sample(ts)
    assert np.max(np.abs(flow.margin(ts, m, v, np.full(ts.size, alpha)))) < 1e-7
    m_ref, v_ref = _regularised(alpha, omega, sigma2, "sde", tr.T, tr.v[0], d=1e5)
    assert tr.m_final == pytest.approx(m_ref, abs=5e-4)  # measured 7e-5 (the O(1/d) regularisation)
    assert tr.v_final == pytest.approx(v_ref, abs=5e-4)


# ---------------------------------------------------------------- frozen branch

FROZEN_POINTS = [(0.05, 0.5, 1.0), (0.1, 0.3, 1.5), (0.02, 1.0, 0.9), (0.2, 0.1, 2.0)]  # (alpha, t, q)


@pytest.mark.parametrize("alpha,t,q", FROZEN_POINTS)
def test_frozen_rate_derivatives_are_its_finite_differences(alpha, t, q):
    p = get_process("ou")
    a, Gm = float(p.a(t)), float(p.Gamma(t, 1.0))
    (_, d_q, d_a, d_G), frozen = wrong_class_rate(alpha, q, a, Gm, derivatives=True)
    assert bool(frozen)
    eps = 1e-6

    def phi(dq=0.0, da=0.0, dG=0.0):
        return float(wrong_class_rate(alpha, q + dq, a + da, Gm + dG)[0])

    assert d_q == pytest.approx((phi(dq=eps) - phi(dq=-eps)) / (2 * eps), abs=1e-8)
    assert d_a == pytest.approx((phi(da=eps) - phi(da=-eps)) / (2 * eps), abs=1e-8)
    assert d_G == pytest.approx((phi(dG=eps) - phi(dG=-eps)) / (2 * eps), abs=1e-8)


@pytest.mark.parametrize("alpha,t,q", FROZEN_POINTS)
@pytest.mark.parametrize("sampler", ["sde", "ode"])
def test_margin_rates_in_the_frozen_branch_are_the_margin_along_the_flow(alpha, t, q, sampler):
    """dh/dtau of each branch's flow (what switches, grazing and sliding are decided on) against
    [h(t - e, y + e F) - h(t + e, y - e F)]/(2 e), at states where the wrong classes are frozen."""
    flow, omega = Flow(1.0, sampler, "ou"), 2.0
    m = 0.4 * math.sqrt(q)
    v = q - m * m
    rates = flow.margin_rates(t, m, v, alpha, omega)
    eps = 1e-6
    h = lambda tt, y: flow.margin(tt, np.array([y[0]]), np.array([y[1]]), np.array([alpha]))[0]  # noqa: E731
    for branch, rate in zip("GC", rates):
        F = np.array(flow.branch_drift(branch, t, m, v, omega, alpha))
        y = np.array([m, v])
        fd = (h(t - eps, y + eps * F) - h(t + eps, y - eps * F)) / (2 * eps)
        assert float(rate) == pytest.approx(fd, abs=1e-7), branch


# ---------------------------------------------------------------- phase grid, several switches


@pytest.mark.parametrize("sampler,sigma2,omega", [("sde", 0.3, -0.8), ("sde", 3.0, -0.8), ("ode", 1.0, -0.5)])
def test_phase_grid_first_and_later_switches_match_the_per_point_integrator(sampler, sigma2, omega):
    """In the annealed comparison (quenched=False): with kappa_eff, negative guidance at alpha = 0
    is captured by a wrong class at the start and switches no more; the grid's bookkeeping of
    several switches is the same code in both."""
    res = phase.integrate_points([0.0, 0.3], [omega, omega], sigma2, sampler=sampler, quenched=False)
    tr = dmf.trajectory(0.0, omega, sigma2, sampler=sampler, quenched=False)
    assert len(tr.t_switch) >= 2  # G -> C -> G (-> C): the switches this test is about
    assert res.fallback[0]
    assert res.t_switch[0] == tr.t_switch[0]  # the FIRST switch, not a later one
    assert res.n_switches[0] == len(tr.t_switch)
    assert bool(res.classified[0]) == tr.classified and res.m_final[0] == tr.m_final
    other = dmf.trajectory(0.3, omega, sigma2, sampler=sampler, quenched=False)
    assert res.n_switches[1] == len(other.t_switch)


# ---------------------------------------------------------------- finite-d count of wrong classes


def test_finite_d_counts_k_minus_one_wrong_classes():
    """(1/d) log E Z with Z = sum over the K - 1 wrong classes of e^{l_k}, l_k = (a x.mu_k - a^2 |mu_k|^2/2)/Gamma,
    mu_k ~ N(0, I_d): by a direct log-sum-exp over sampled centroids at K = 3, d = 3, and its Gaussian
    closed form log(K - 1)/d - log(1 + a^2/Gamma)/2 + a^2 q/(2 Gamma (Gamma + a^2))."""
    d, K, t, sigma2 = 3, 3, 0.8, 1.0
    _, alpha_d = effective_alpha(d, K)
    assert solve(d, K, omega=1.0, sigma2=sigma2, paths=2, steps=2).alpha_d == alpha_d
    p = get_process("ou")
    a, Gm = float(p.a(t)), float(p.Gamma(t, sigma2))
    x = np.array([0.9, -0.4, 0.7])
    m, q = 0.5, float(x @ x) / d  # the target overlap enters T(m) only
    phi_d = G.target_term(m, a, Gm) - G.finite_d_margin(m, q - m * m, a, Gm, alpha_d)

    closed = math.log(K - 1) / d - 0.5 * math.log1p(a * a / Gm) + a * a * q / (2 * Gm * (Gm + a * a))
    assert phi_d == pytest.approx(closed, abs=1e-12)

    rng = np.random.default_rng(11)
    draws = 100_000
    mu = rng.standard_normal((draws, K - 1, d))
    logits = (a * mu @ x - 0.5 * a * a * (mu * mu).sum(-1)) / Gm
    log_z = logsumexp(logits, axis=1)  # log Z per draw of the K - 1 wrong centroids
    log_mean_z = logsumexp(log_z) - math.log(draws)
    z = np.exp(log_z - log_mean_z)
    sem = float(np.std(z) / math.sqrt(draws))  # of E Z / mean, i.e. of log E Z to first order
    assert log_mean_z / d == pytest.approx(phi_d, abs=5 * sem / d)
    assert abs(math.log(K / (K - 1)) / d) > 20 * sem / d  # K instead of K - 1 would show
