"""The exact-score simulator under guidance (omega != 0), each against a route of its own.

Everything the references need is typed here from the model's definitions, not taken from
``theory/`` or the generated code: the OU forward process a = e^{-t}, b^2 = 1 - e^{-2t}
(conftest), the class score -(x - a mu_c)/Gamma, the mixture score -(x - a sum_k w_k mu_k)/Gamma
with w_k a softmax of -|x - a mu_k|^2/(2 Gamma) (scipy), and the guided score
(1 + omega) s_cond - omega s_mix. The centroids are the simulator's (``draw_centroids``, the same
seed), the samples are drawn independently, and two independent samples are compared with
their standard errors: |mean_sim - mean_ref| <= Z sqrt(sem_sim^2 + sem_ref^2).

- Fine reference (K = 2, d = 4): a plain Euler-Maruyama (SDE) or Euler (ODE) integration of the
  reverse dynamics with the guided score, on 1000 steps refined towards t = 0, against the
  simulator at its defaults (order 2, 100 steps): omega > 0, omega < 0 and a schedule with a
  jump, both samplers. Its O(step) bias is measured below (halving the steps moves m and v by < 0.01) and
  is far inside the error bars, and so is the simulator's own step error (~0.001 at the default).
- Step contract (K = 2, d = 4, one step, or two steps + a jump): the documented scheme (C frozen
  at the START of each step, exact Gaussian transition of the class N(C, sigma2 I) from Gaussian
  conditioning of the forward pair) reproduced in the test on the simulator's time grid (uniform
  in e^{-t}: t = 10, -log((1 + e^{-10})/2), 0, plus the jump). Over so few steps the posterior
  weights change completely within a step, so weights taken anywhere else than at the start of
  the step show at once. (At 400 first-order steps a centroid frozen at the step's END time is
  another first-order scheme, as accurate as the documented one, measured: 0.0002 against 0.0012
  in m at K = 2, d = 4, omega = 3; only the contract can tell them apart.)
- Gaussian cloud (slow): with very many classes in small d the mixture is the Gaussian N(0, (a^2 +
  Gamma) I), the guided dynamics is linear, and the mean and variance ODEs of m and of one
  transverse component are integrated here from the two Gaussian scores.
"""
import math

import numpy as np
import pytest
from conftest import DEFINITIONS
from scipy.integrate import solve_ivp
from scipy.special import softmax

from cfg_distortion.finite_d.simulator import draw_centroids, simulate

Z = 4.0  # two-sample error bars; false alarm ~6e-5 per comparison
A, B, _ = DEFINITIONS["ou"]
T = 10.0  # the simulator's default start time for ou


def _gamma(t, sigma2):
    return A(t) ** 2 * sigma2 + B(t) ** 2


def _posterior_mean(x, mu, a, G):
    """sum_k w_k mu_k, w = softmax_k of -|x - a mu_k|^2/(2 G) (the |x|^2 term is common to all k)."""
    return softmax((a * (x @ mu.T) - 0.5 * a * a * (mu * mu).sum(1)) / G, axis=1) @ mu


def _guided_score(x, mu, t, omega, sigma2):
    """(1 + omega) grad log p(x | c) - omega grad log p(x): class 0 and the K-component mixture."""
    a, G = A(t), _gamma(t, sigma2)
    s_cond = -(x - a * mu[0]) / G
    s_mix = -(x - a * _posterior_mean(x, mu, a, G)) / G
    return (1 + omega) * s_cond - omega * s_mix


def _observables(x, mu_c):
    """m = x . mu_c/|mu_c|^2 and v = |x - m mu_c|^2/d per sample."""
    m = x @ mu_c / (mu_c @ mu_c)
    perp = x - m[:, None] * mu_c
    return m, (perp**2).sum(-1) / x.shape[1]


def _stats(values):
    return values.mean(), values.std(ddof=1) / math.sqrt(values.size)


def _assert_same_law(res, x, mu_c):
    """The simulator's m and v means against the reference samples x (n x d)."""
    m, v = _observables(x, mu_c)
    (m_ref, m_sem), (v_ref, v_sem) = _stats(m), _stats(v)
    assert abs(res.m_mean - m_ref) <= Z * math.hypot(res.m_sem, m_sem), (res.m_mean, m_ref, m_sem)
    assert abs(res.v_mean - v_ref) <= Z * math.hypot(res.v_sem, v_sem), (res.v_mean, v_ref, v_sem)


def _start(rng, n, d, sigma2):
    """x_T ~ N(0, (Gamma_T + a_T^2) I): the mixture's mean and covariance at T (centroids N(0, I))."""
    return rng.standard_normal((n, d)) * math.sqrt(_gamma(T, sigma2) + A(T) ** 2)


def _euler_reference(mu, omega_of_t, sigma2, sampler, n, rng, steps=1000):
    """Reverse OU dynamics in tau = T - t: SDE dx = [x + 2 s] dtau + sqrt(2) dB, ODE dx = [x + s] dtau,
    plain Euler(-Maruyama) on t_k = T (k/steps)^2 (steps of 2T/steps at T, finer towards t = 0)."""
    d = mu.shape[1]
    x = _start(rng, n, d, sigma2)
    ts = T * (np.arange(steps, -1, -1) / steps) ** 2
    for t, s in zip(ts[:-1], ts[1:]):
        h = t - s
        score = _guided_score(x, mu, t, float(omega_of_t(0.5 * (t + s))), sigma2)
        if sampler == "sde":
            x = x + (x + 2 * score) * h + math.sqrt(2 * h) * rng.standard_normal(x.shape)
        else:
            x = x + (x + score) * h
    return x


def _jump(t):
    """piecewise:inf:3,0.6:-1 written out: 3 for t > 0.6, -1 below."""
    return np.where(np.asarray(t) > 0.6, 3.0, -1.0)


CASES = [  # (sampler, omega, schedule, omega(t) for the reference)
    ("sde", 3.0, None, lambda t: 3.0),
    ("ode", 3.0, None, lambda t: 3.0),
    ("sde", -0.7, None, lambda t: -0.7),
    ("ode", None, "piecewise:inf:3,0.6:-1", _jump),
]


@pytest.mark.parametrize("sampler,omega,schedule,omega_of_t", CASES,
                         ids=["sde-omega3", "ode-omega3", "sde-omega-0.7", "ode-jump"])
def test_guided_simulator_matches_fine_euler_reference(sampler, omega, schedule, omega_of_t):
    """n = 1000 each: the error bars (Z sqrt(2) SEM ~ 0.08 in m, 0.1 in v) are several times
    smaller than what a wrong posterior width (Gamma without b^2) or half the guidance in the
    frozen centroid moves (0.15 to 0.3 at omega = 3, 0.16 in v at omega = -0.7)."""
    d, K, sigma2, n, seed = 4, 2, 1.0, 1000, 21
    res = simulate(d, K, omega=omega, schedule=schedule, sigma2=sigma2, n=n, seed=seed, sampler=sampler)
    mu = draw_centroids(K, d, seed)
    x = _euler_reference(mu, omega_of_t, sigma2, sampler, n, np.random.default_rng(1000 + seed))
    _assert_same_law(res, x, mu[0])


def test_euler_reference_is_converged_in_its_steps():
    """The reference's O(step) bias: halving its steps (ODE, the same starting points, so the
    difference is the discretisation alone) moves m and v by < 0.01, far inside the error bars."""
    mu = draw_centroids(2, 4, 21)
    fine, coarse = (_euler_reference(mu, lambda t: 3.0, 1.0, "ode", 300, np.random.default_rng(5), steps=s)
                    for s in (1000, 500))
    (mf, vf), (mc, vc) = _observables(fine, mu[0]), _observables(coarse, mu[0])
    assert abs(mf.mean() - mc.mean()) < 0.01 and abs(vf.mean() - vc.mean()) < 0.01


# ---------------------------------------------------------------- the step contract


def _step_reference(mu, omegas, times, sigma2, sampler, n, rng):
    """The documented scheme with the test's own posterior and Gaussian conditioning.

    Over t -> s, C = (1 + omega) mu_c - omega sum_k w_k(x_t, t) mu_k is frozen; for the class
    N(C, sigma2 I) the forward pair has x_s = a_s C + sqrt(Gamma_s) e, x_t = (a_t/a_s) x_s + noise,
    so Cov(x_s, x_t) = (a_t/a_s) Gamma_s and x_s | x_t is Gaussian (SDE); the ODE maps the
    standardised x_t to the standardised x_s."""
    d = mu.shape[1]
    x = _start(rng, n, d, sigma2)
    for t, s, w in zip(times[:-1], times[1:], omegas):
        a_t, a_s, G_t, G_s = A(t), A(s), _gamma(t, sigma2), _gamma(s, sigma2)
        post = _posterior_mean(x, mu, a_t, G_t)
        C = (1 + w) * mu[0] - w * post
        if sampler == "ode":
            x = a_s * C + math.sqrt(G_s / G_t) * (x - a_t * C)
        else:
            cov = a_t / a_s * G_s
            x = (a_s * C + cov / G_t * (x - a_t * C)
                 + math.sqrt(G_s - cov**2 / G_t) * rng.standard_normal(x.shape))
    return x


T_HALF = -math.log((1 + math.exp(-T)) / 2)  # the middle of a 2-step grid uniform in e^{-t}
CONTRACT = [  # (sampler, schedule, steps, times of the grid, omega at the steps' midpoints)
    ("sde", "const:3", 1, [T, 0.0], [3.0]),
    ("ode", "const:-0.7", 1, [T, 0.0], [-0.7]),
    ("sde", "piecewise:inf:3,0.3:-1", 2, [T, T_HALF, 0.3, 0.0], [3.0, 3.0, -1.0]),  # + the jump at 0.3
    ("ode", "piecewise:inf:3,0.3:-1", 2, [T, T_HALF, 0.3, 0.0], [3.0, 3.0, -1.0]),
]


@pytest.mark.parametrize("sampler,schedule,steps,times,omegas", CONTRACT,
                         ids=["sde-1step", "ode-1step", "sde-2steps-jump", "ode-2steps-jump"])
def test_each_step_freezes_the_guided_centroid_at_its_start(sampler, schedule, steps, times, omegas):
    """order=1, the documented first-order step (order 2 starts with one such step too). One step
    from T = 10 to 0 freezes C at x_T, where the weights are uniform; weights taken at
    the step's end (t = 0, where they are nearly 0 or 1) move m by ~0.1 to 0.4 and v by ~0.1 to 0.6,
    against error bars of ~0.04 (n = 2000)."""
    d, K, sigma2, n, seed = 4, 2, 1.0, 2000, 4
    res = simulate(d, K, schedule=schedule, sigma2=sigma2, n=n, seed=seed, steps=steps, sampler=sampler, order=1)
    assert res.steps_taken == len(omegas)
    mu = draw_centroids(K, d, seed)
    x = _step_reference(mu, omegas, np.array(times), sigma2, sampler, n, np.random.default_rng(77))
    _assert_same_law(res, x, mu[0])


# ---------------------------------------------------------------- the Gaussian cloud


def _gaussian_cloud_moments(d, omega, sigma2, sampler):
    """E m and E v at t = 0 when p_t(x) = N(0, (a^2 + Gamma) I) and p_t(x | c) = N(a mu_c, Gamma I).

    The guided score c(t) x + k(t) mu_c, c = -(1 + omega)/Gamma + omega/(a^2 + Gamma),
    k = (1 + omega) a/Gamma, is linear: along mu_c (|mu_c|^2 = d) E m obeys
    dm/dtau = m + 2 (c m + k) (SDE) or m + c m + k (ODE); each of the d - 1 transverse components
    has variance P with dP/dtau = 2 (1 + 2c) P + 2 (SDE) or 2 (1 + c) P (ODE); E v = (d - 1) P/d."""
    def rhs(tau, y):
        t = T - tau
        a, G = A(t), _gamma(t, sigma2)
        c, k = -(1 + omega) / G + omega / (a * a + G), (1 + omega) * a / G
        m, P = y
        if sampler == "sde":
            return [m + 2 * (c * m + k), 2 * (1 + 2 * c) * P + 2]
        return [m + c * m + k, 2 * (1 + c) * P]

    sol = solve_ivp(rhs, (0.0, T), [0.0, _gamma(T, sigma2) + A(T) ** 2], rtol=1e-10, atol=1e-12)
    m, P = sol.y[:, -1]
    return m, (d - 1) / d * P


@pytest.mark.slow
@pytest.mark.parametrize("sampler,omega,sigma2", [("sde", 2.0, 4.0), ("ode", 2.0, 4.0), ("ode", -0.7, 4.0)])
def test_many_classes_follow_the_gaussian_cloud(sampler, omega, sigma2):
    """d = 2, K = 40000 centroids: within Z SEM of the linear (Gaussian-cloud) dynamics; a wide class
    (sigma2 = 4) keeps thousands of centroids inside the posterior, where the cloud is Gaussian."""
    d, K = 2, 40000
    res = simulate(d, K, omega=omega, sigma2=sigma2, n=2000, seed=3, steps=200, sampler=sampler)
    m, v = _gaussian_cloud_moments(d, omega, sigma2, sampler)
    assert abs(res.m_mean - m) <= Z * res.m_sem
    assert abs(res.v_mean - v) <= Z * res.v_sem
