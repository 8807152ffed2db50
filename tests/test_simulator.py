"""Exact-score simulator: the integrator step, the chunked posterior, the class law at omega = 0.

Independent routes: the exact step against the moment ODEs of the linear reverse SDE and
against solve_ivp of the probability flow (processes typed from their definitions in
conftest, derivatives by finite differences); the forward process by Monte Carlo; the
chunked log-sum-exp against an unchunked scipy logsumexp of -|x - a mu_k|^2 / (2 Gamma);
the omega = 0 samples against the class law with SEM error bars; the classified fraction
against direct samples of the class law classified by scipy.
"""
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from conftest import DEFINITIONS
from scipy.integrate import solve_ivp
from scipy.special import logsumexp

from cfg_distortion import _generated as G
from cfg_distortion.finite_d import posterior as P
from cfg_distortion.finite_d.simulator import draw_centroids, simulate, time_grid

Z = 4.0  # error bars: |estimate - truth| <= Z SEM (false alarm ~ 6e-5 per comparison)


def _process(name):
    """a, b, f = (log a)', g2 = (b^2)' - 2 f b^2 from the definitions, by central differences."""
    a, b, _ = DEFINITIONS[name]
    h = 1e-6
    f = lambda t: (math.log(a(t + h)) - math.log(a(t - h))) / (2 * h)  # noqa: E731
    g2 = lambda t: (b(t + h) ** 2 - b(t - h) ** 2) / (2 * h) - 2 * f(t) * b(t) ** 2  # noqa: E731
    return a, b, f, g2


STEPS = [("ou", 1.3, 0.4, 0.7), ("ou", 0.2, 0.01, 0.0), ("ve", 3.0, 1.0, 1.5), ("flow", 0.9, 0.3, 0.2)]


@pytest.mark.parametrize("name,t,s,sigma2", STEPS)
def test_sde_step_equals_moment_odes(name, t, s, sigma2):
    """Mean and variance of the reverse SDE dx = [f x - g^2 score] dt + g dW (score of N(C, sigma2)),
    integrated from t down to s with solve_ivp, equal one exact step."""
    a, b, f, g2 = _process(name)
    C, x_t = 0.7, -1.1
    Gam = lambda u: a(u) ** 2 * sigma2 + b(u) ** 2  # noqa: E731

    def rhs(u, y):
        mean, var = y
        return [f(u) * mean + g2(u) * (mean - a(u) * C) / Gam(u), 2 * (f(u) + g2(u) / Gam(u)) * var - g2(u)]

    sol = solve_ivp(rhs, (t, s), [x_t, 0.0], rtol=1e-11, atol=1e-13)
    assert sol.success
    args = (a(t), b(t), a(s), b(s), sigma2)
    mean = G.sde_step_coef_x(*args) * x_t + G.sde_step_coef_C(*args) * C
    assert sol.y[0, -1] == pytest.approx(mean, abs=1e-7)
    assert sol.y[1, -1] == pytest.approx(G.sde_step_var(*args), abs=1e-7)


@pytest.mark.parametrize("name,t,s,sigma2", STEPS)
def test_ode_step_equals_solve_ivp(name, t, s, sigma2):
    """The probability-flow ODE dx/dt = f x - (g^2/2) score, integrated from t to s, equals one step."""
    a, b, f, g2 = _process(name)
    C, x_t = 0.7, -1.1
    rhs = lambda u, x: f(u) * x + g2(u) / 2 * (x - a(u) * C) / (a(u) ** 2 * sigma2 + b(u) ** 2)  # noqa: E731
    sol = solve_ivp(rhs, (t, s), [x_t], rtol=1e-11, atol=1e-13)
    assert sol.success
    args = (a(t), b(t), a(s), b(s), sigma2)
    assert sol.y[0, -1] == pytest.approx(G.ode_step_coef_x(*args) * x_t + G.ode_step_coef_C(*args) * C, abs=1e-7)


def test_sde_step_matches_forward_monte_carlo():
    """Regress x_s on x_t for x0 ~ N(C, sigma2), x_s = a_s x0 + b_s z, x_t = x_s (a_t/a_s) + fresh noise."""
    rng = np.random.default_rng(1)
    a, b, _ = DEFINITIONS["ou"]
    t, s, sigma2, C, N = 0.8, 0.3, 0.5, 0.4, 1_000_000
    x_s = a(s) * (C + math.sqrt(sigma2) * rng.standard_normal(N)) + b(s) * rng.standard_normal(N)
    x_t = math.exp(-(t - s)) * x_s + math.sqrt(-math.expm1(-2 * (t - s))) * rng.standard_normal(N)  # OU semigroup
    slope, intercept = np.polyfit(x_t, x_s, 1)
    resid = np.var(x_s - slope * x_t - intercept)
    args = (a(t), b(t), a(s), b(s), sigma2)
    assert slope == pytest.approx(G.sde_step_coef_x(*args), abs=5 / math.sqrt(N))
    assert intercept == pytest.approx(G.sde_step_coef_C(*args) * C, abs=5 / math.sqrt(N))
    assert resid == pytest.approx(G.sde_step_var(*args), rel=5 * math.sqrt(2 / N))


def test_frozen_centroid_is_the_guided_score():
    """-(x - a C)/Gamma with C = c_t mu_c + c_p m_post equals the generated guided score."""
    rng = np.random.default_rng(2)
    x, mu_c, m_post = rng.standard_normal((3, 7))
    a, Gamma, omega = 0.6, 0.9, 2.5
    C = G.frozen_coef_target(omega) * mu_c + G.frozen_coef_post(omega) * m_post
    guided = (G.score_coef_x(a, Gamma) * x + G.guided_coef_target(a, Gamma, omega) * mu_c
              + G.guided_coef_post(a, Gamma, omega) * m_post)
    np.testing.assert_allclose(-(x - a * C) / Gamma, guided, rtol=1e-14, atol=1e-14)


# ---------------------------------------------------------------- chunked posterior


def _reference(x, mu, a, Gamma):
    """Unchunked: logits -|x - a mu_k|^2/(2 Gamma) + |x|^2/(2 Gamma), scipy logsumexp, softmax."""
    sq = ((x[:, None, :] - a * mu[None, :, :]) ** 2).sum(-1)
    logits = -sq / (2 * Gamma) + (x**2).sum(-1)[:, None] / (2 * Gamma)
    lse = logsumexp(logits, axis=1)
    return lse, np.exp(logits - lse[:, None]) @ mu


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("d,a,Gamma", [(6, 0.5, 0.8), (40, 1.0, 0.002)])  # the second underflows the bound shift
def test_chunked_posterior_equals_unchunked(monkeypatch, parallel, d, a, Gamma):
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(P, "TILE_ELEMENTS", 7 * 37)  # chunks of 37 classes: K = 1001 is not a multiple
    monkeypatch.setattr(P, "BLOCK_MAX", 7)
    rng = np.random.default_rng(3)
    mu = rng.standard_normal((1001, d))
    x = 1.3 * mu[:23] + rng.standard_normal((23, d))
    lse_ref, mean_ref = _reference(x, mu, a, Gamma)
    with ThreadPoolExecutor(2) as pool:
        post = P.MixturePosterior(P.centroid_rows(mu), pool if parallel else None, 2)
        lse, mean = post.moments(x, a, Gamma)
    np.testing.assert_allclose(lse, lse_ref, rtol=1e-12)
    np.testing.assert_allclose(mean, mean_ref, rtol=1e-9, atol=1e-11)


# ---------------------------------------------------------------- simulator


@pytest.mark.parametrize("sampler", ["sde", "ode"])
@pytest.mark.parametrize("process,target_norm", [("ou", "fixed"), ("flow", "fixed"), ("ve", "random")])
def test_omega_zero_reproduces_class_law(sampler, process, target_norm):
    """At omega = 0 and the default step count: m = 1 and E v = sigma2 (d - 1)/d within Z SEM."""
    d, sigma2 = 20, 0.7
    r = simulate(d, 50, omega=0, sigma2=sigma2, n=4000, seed=5, sampler=sampler, process=process,
                 target_norm=target_norm)
    assert r.steps == 400
    assert abs(r.m_mean - 1.0) <= Z * r.m_sem
    assert abs(r.v_mean - sigma2 * (d - 1) / d) <= Z * r.v_sem


def test_classified_fraction_matches_direct_class_samples():
    """omega = 0: the share classified at t = 0 equals that of exact draws x0 ~ N(mu_c, sigma2 I)."""
    d, K, sigma2, n = 10, 30, 0.6, 4000
    r = simulate(d, K, omega=0, sigma2=sigma2, n=n, seed=7, steps=50)
    mu = draw_centroids(K, d, 7)
    x0 = mu[0] + math.sqrt(sigma2) * np.random.default_rng(8).standard_normal((n, d))
    logits = -((x0[:, None, :] - mu[None]) ** 2).sum(-1) / (2 * sigma2)
    direct = np.mean(logits[:, 0] - logsumexp(logits, axis=1) > -math.log(2))
    sem = math.sqrt(direct * (1 - direct) / n)
    assert 0.2 < direct < 0.95  # a regime where the fraction is informative
    assert abs(r.classified_fraction - direct) <= Z * math.sqrt(2) * sem


def test_guidance_shrinks_variance_and_converges_in_steps():
    """omega = 3: v below the class value sigma2 (d - 1)/d and m above 1; the ODE at the default
    400 steps and at 1600 steps (same x_T: the difference is the discretisation error alone,
    first order, so ~3/4 of the 400-step error) agree within the statistical error."""
    d, sigma2 = 20, 1.0
    fine, default = (simulate(d, 300, omega=3, sigma2=sigma2, n=1000, seed=11, steps=s, sampler="ode")
                     for s in (1600, 400))
    assert default.v_mean + Z * default.v_sem < sigma2 * (d - 1) / d
    assert default.m_mean - Z * default.m_sem > 1.0
    assert abs(default.m_mean - fine.m_mean) < fine.m_sem
    assert abs(default.v_mean - fine.v_mean) < fine.v_sem


def test_time_grid_is_uniform_in_sqrt_snr_and_has_breakpoints():
    t = time_grid("ou", 10.0, 100, breakpoints=(0.5, 20.0))
    assert t[0] == 10.0 and t[-1] == 0.0 and np.all(np.diff(t) < 0) and 0.5 in t and len(t) == 102
    lam = np.exp(-t[t != 0.5])  # ou: sqrt(a^2 / (a^2 + b^2)) = e^{-t}
    np.testing.assert_allclose(np.diff(lam), np.diff(lam)[0], rtol=1e-9)


@pytest.mark.parametrize("kwargs,word", [
    (dict(d=0, K=5), "d"), (dict(d=5, K=1), "K"), (dict(d=5, K=5, n=0), "n"), (dict(d=5, K=5, steps=0), "steps"),
    (dict(d=5, K=5, sigma2=-1.0), "sigma2"), (dict(d=5, K=5, sigma2=math.nan), "sigma2"),
    (dict(d=5, K=5, omega=math.nan), "omega"), (dict(d=5, alpha=math.nan), "alpha"),
    (dict(d=100, alpha=8.0), "overflows"), (dict(d=5, alpha=0.0), "K >= 2"), (dict(d=5), "exactly one"),
    (dict(d=100, K=10**9), "GiB"), (dict(d=5, K=5, T=1.0, process="flow"), "T"),
    (dict(d=5, K=5, sampler="euler"), "sampler"), (dict(d=5, K=5, schedule="const:nan"), "schedule"),
])
def test_bad_input_raises_one_line(kwargs, word):
    with pytest.raises(ValueError) as err:
        simulate(**kwargs)
    assert word in str(err.value) and "\n" not in str(err.value)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "cfg_distortion.cli", "simulate", *args],
                          capture_output=True, text=True, timeout=120)


def test_cli_json_contract():
    r = _cli("--d", "8", "--alpha", "0.4", "--omega", "2", "--sigma2", "0.5", "--n", "200", "--steps", "50", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {"m_mean", "m_sem", "v_mean", "v_sem", "classified_fraction", "K", "d", "n", "steps"} <= out.keys()
    assert out["K"] == round(math.exp(0.4 * 8)) and out["d"] == 8 and out["n"] == 200 and out["steps"] == 50
    assert out["alpha"] == 0.4 and out["omega"] == 2.0 and out["sigma2"] == 0.5 and out["sampler"] == "sde"


@pytest.mark.parametrize("args,word", [
    (["--d", "100", "--K", "1000000000", "--omega", "1", "--sigma2", "1"], "GiB"),
    (["--d", "0", "--K", "5", "--omega", "1", "--sigma2", "1"], "d"),
    (["--d", "5", "--K", "5", "--omega", "nan", "--sigma2", "1"], "omega"),
    (["--d", "5", "--K", "5", "--sigma2", "1"], "--omega"),
])
def test_cli_bad_input_is_one_line_exit_2(args, word):
    r = _cli(*args)
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and word in r.stderr and "Traceback" not in r.stderr
