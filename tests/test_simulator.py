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
from conftest import DEFINITIONS, refused
from scipy.integrate import solve_ivp
from scipy.special import logsumexp

from cfg_distortion import _generated as G
from cfg_distortion.finite_d import posterior as P
from cfg_distortion.finite_d.simulator import DEFAULT_STEPS, draw_centroids, simulate, time_grid

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


@pytest.mark.parametrize("precision", ["float64", "float32"])
@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("d,a,Gamma", [(6, 0.5, 0.8), (40, 1.0, 0.002)])  # the second underflows the bound shift
def test_chunked_posterior_equals_unchunked(monkeypatch, parallel, d, a, Gamma, precision):
    """Float64 tiles to rounding; float32 tiles to ~1e-5 relative: a logit's float32 rounding is
    eps32 ~ 6e-8 times the terms that cancel in it (|x|^2/(2 Gamma) ~ 30 here) times ~sqrt(d) for the
    sum, and a logit error moves the weights by the same relative amount. The second case underflows
    even float32's shifted range, so the guard recomputes every sample in float64 (float64 tolerance)."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(P, "TILE_ELEMENTS", 7 * 37)  # chunks of 37 classes: K = 1001 is not a multiple
    monkeypatch.setattr(P, "BLOCK_MAX", 7)
    rng = np.random.default_rng(3)
    mu = rng.standard_normal((1001, d))
    x = 1.3 * mu[:23] + rng.standard_normal((23, d))
    lse_ref, mean_ref = _reference(x, mu, a, Gamma)
    with ThreadPoolExecutor(2) as pool:
        post = P.MixturePosterior(P.centroid_rows(mu), pool if parallel else None, 2, precision)
        lse, mean = post.moments(x, a, Gamma)
    fallback = precision == "float32" and Gamma < 0.01
    assert post.float64_samples == (len(x) if fallback else 0)
    rtol = 1e-5 if precision == "float32" and not fallback else 1e-9
    np.testing.assert_allclose(lse, lse_ref, rtol=1e-12 if rtol < 1e-6 else 1e-6)
    np.testing.assert_allclose(mean, mean_ref, rtol=rtol, atol=rtol * np.abs(mean_ref).max())


def test_float32_clamp_keeps_normal_numbers_and_the_sums():
    """Shifted logits spread over [-200, 0]: float32 exp would return denormals (and zeros) for
    the lower ones; the clamp at -87 changes a sum by at most K e^{-87}, so the float32 kernel
    still equals the unchunked float64 reference to float32 accuracy."""
    rng = np.random.default_rng(4)
    d, K, a, Gamma = 10, 2000, 1.0, 0.05
    mu = rng.standard_normal((K, d))
    x = mu[:9] + 0.25 * rng.standard_normal((9, d))
    lse_ref, mean_ref = _reference(x, mu, a, Gamma)
    gaps = lse_ref[:, None] - (-((x[:, None, :] - a * mu[None]) ** 2).sum(-1) / (2 * Gamma)
                               + (x**2).sum(-1)[:, None] / (2 * Gamma))
    assert np.mean(gaps > 87 + 80) > 0.5  # most terms lie below float32's normal range even after the shift
    post = P.MixturePosterior(P.centroid_rows(mu), precision="float32")
    lse, mean = post.moments(x, a, Gamma)
    assert post.float64_samples == 0
    np.testing.assert_allclose(mean, mean_ref, rtol=1e-5, atol=1e-5 * np.abs(mean_ref).max())
    np.testing.assert_allclose(lse, lse_ref, rtol=1e-6)


def test_auto_precision_uses_float64_where_float32_rounding_matters():
    """Auto: float32 while eps32 x (logit scale |x|^2/(2 Gamma)) <= 1e-4, float64 beyond."""
    post = P.MixturePosterior(P.centroid_rows(np.eye(3)), precision="auto")
    assert post.use_float32(np.array([30.0]))  # sigma2 = 1, d = 20: bound ~ 20
    assert not post.use_float32(np.array([2000.0]))  # sigma2 = 0.01 near t = 0


def test_denoisers_are_tweedie_of_the_mixture_density():
    """D_u = (x + b^2 grad log p_t(x))/a with grad log p_t by central differences of scipy's
    logsumexp of the mixture density, D_c the same for the class-c density alone (Tweedie)."""
    rng = np.random.default_rng(6)
    d, K, a, b, sigma2 = 5, 40, 0.7, 0.8, 0.6
    Gamma = a**2 * sigma2 + b**2
    mu = rng.standard_normal((K, d))
    x = rng.standard_normal((3, d))

    def log_p(y, classes):
        return logsumexp(-((y[None, :] - a * mu[classes]) ** 2).sum(-1) / (2 * Gamma))

    def tweedie(y, classes, h=1e-5):
        grad = np.array([(log_p(y + h * e, classes) - log_p(y - h * e, classes)) / (2 * h) for e in np.eye(d)])
        return (y + b**2 * grad) / a

    from cfg_distortion.finite_d.backends import posterior_kernel

    with posterior_kernel(mu, precision="float64") as post:
        D_c, D_u = post.denoisers(x, mu[0], a, Gamma, sigma2)
    for i in range(len(x)):
        np.testing.assert_allclose(D_u[i], tweedie(x[i], slice(None)), rtol=1e-7, atol=1e-8)
        np.testing.assert_allclose(D_c[i], tweedie(x[i], slice(0, 1)), rtol=1e-7, atol=1e-8)


# ---------------------------------------------------------------- simulator


@pytest.mark.parametrize("sampler", ["sde", "ode"])
@pytest.mark.parametrize("process,target_norm", [("ou", "fixed"), ("flow", "fixed"), ("ve", "random")])
def test_omega_zero_reproduces_class_law(sampler, process, target_norm):
    """At omega = 0 and the default step count: m = 1 and E v = sigma2 (d - 1)/d within Z SEM."""
    d, sigma2 = 20, 0.7
    r = simulate(d, 50, omega=0, sigma2=sigma2, n=4000, seed=5, sampler=sampler, process=process,
                 target_norm=target_norm)
    assert r.steps == DEFAULT_STEPS[2] and r.order == 2
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


def test_guidance_shrinks_variance():
    """omega = 3 at the defaults: v below the class value sigma2 (d - 1)/d and m above 1."""
    d, sigma2 = 20, 1.0
    r = simulate(d, 300, omega=3, sigma2=sigma2, n=1000, seed=11)
    assert r.v_mean + Z * r.v_sem < sigma2 * (d - 1) / d
    assert r.m_mean - Z * r.m_sem > 1.0


def _ode(steps, order, **kw):
    r = simulate(20, 100, sigma2=1.0, n=300, seed=12, steps=steps, order=order, sampler="ode", **kw)
    return np.array([r.m_mean, r.v_mean])


def test_step_convergence_omega_zero_is_exact():
    """omega = 0: the exact step composes exactly, so the ODE's final state (same x_T) does not
    depend on the step count (agreement to rounding, far below any statistical error)."""
    np.testing.assert_allclose(_ode(7, 2, omega=0), _ode(100, 2, omega=0), rtol=1e-10)


@pytest.mark.parametrize("guidance", [dict(omega=3.0), dict(schedule="piecewise:inf:3,1.0:-1,0.3:3")])
def test_step_convergence_second_order_beats_400_first_order_steps(guidance):
    """omega = 3 and a negative-guidance window, ODE from the same x_T, so differences between
    step counts are discretisation errors alone. Against a 400-step order-2 reference (its own
    error ~1e-5): the order-2 error falls ~4x per doubling (second order; asserted >= 3x), and
    the default (order 2, 100 steps) error is below that of the former default, 400 first-order
    steps (measured at d = 20, K = 300, n = 1000: 1.6e-4 vs 2.8e-3 in m, 1e-4 vs 3.4e-4 in v at
    omega = 3; 4.3e-4 vs 2.1e-3 and 1.9e-4 vs 7.1e-4 with the window)."""
    ref = _ode(400, 2, **guidance)
    err = {s: np.abs(_ode(s, 2, **guidance) - ref) for s in (25, 50, DEFAULT_STEPS[2])}
    first = np.abs(_ode(400, 1, **guidance) - ref)
    assert np.all(err[25] >= 3 * err[50]) and np.all(err[50] >= 3 * err[100])
    assert np.all(err[DEFAULT_STEPS[2]] < first)


def test_sde_second_order_agrees_with_fine_first_order():
    """SDE, omega = 3: the default (order 2, 100 steps) and 800 first-order steps (half the error of
    the former 400-step default) agree within the statistical error of their difference."""
    kw = dict(omega=3, sigma2=1.0, n=1000, sampler="sde")
    fast, fine = simulate(20, 100, seed=13, **kw), simulate(20, 100, seed=14, steps=800, order=1, **kw)
    assert abs(fast.m_mean - fine.m_mean) <= Z * math.hypot(fast.m_sem, fine.m_sem)
    assert abs(fast.v_mean - fine.v_mean) <= Z * math.hypot(fast.v_sem, fine.v_sem)


@pytest.mark.parametrize("sampler", ["sde", "ode"])
def test_float32_agrees_with_float64(sampler):
    """Same seed, float32 tiles against float64 tiles: the paths are coupled, so any difference is
    the tiles' rounding; it must be far inside the error bars (< SEM / 20)."""
    kw = dict(omega=3, sigma2=1.0, n=500, seed=15, sampler=sampler)
    r32, r64 = simulate(20, 500, precision="float32", **kw), simulate(20, 500, precision="float64", **kw)
    assert abs(r32.m_mean - r64.m_mean) < r64.m_sem / 20 and abs(r32.v_mean - r64.v_mean) < r64.v_sem / 20


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
    (dict(d=5, K=5, precision="float16"), "precision"), (dict(d=5, K=5, backend="cupy"), "backend"),
    (dict(d=5, K=5, order=3), "order"),
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
def test_cli_bad_input_is_one_line_exit_2(args, word, capsys):
    """In process (the entry point's own exit 2 is held by test_cli's subprocess runs)."""
    refused(capsys, "simulate", *args, word=word, stdout_empty=True)
