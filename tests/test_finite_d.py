"""Finite-d effective theory: its derivation, its integrator, its limits, its CLI, and the simulator.

Independent routes: the finite-d wrong-class expectation against Gauss-Hermite quadrature and
Monte Carlo over Gaussian centroids (not the sympy integral); the integrator's mean increment
against the generated finite-d drift (the step and the drift are derived separately); the
omega = 0 class law with error bars; d -> infinity against the event-driven DMF; and, in the
slow test, the exact-score simulator at the issue's two target points.
"""
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from cfg_distortion import _generated as G
from cfg_distortion.finite_d.effective import solve
from cfg_distortion.theory import dmf as DMF
from cfg_distortion.theory import finite_d as F
from cfg_distortion.theory.free_energy import phi_annealed
from cfg_distortion.theory.symbols import alpha
from conftest import refused

Z = 4.0  # error bars: |estimate - truth| <= Z SEM


def test_wrong_class_expectation_is_the_annealed_rate_symbolically():
    """(1/d) log E[e^logit] from the sympy Gaussian integral is phi_annealed - alpha; kappa likewise."""
    assert sp.simplify(F.wrong_class_log_expectation() - (phi_annealed() - alpha)) == 0
    assert sp.simplify(F.phi_finite_d() - phi_annealed().subs(alpha, F.alpha_d)) == 0
    assert sp.simplify(F.tilted_mean_coefficient() - DMF.posterior_mean_coefficient()) == 0


def test_wrong_class_expectation_against_quadrature_and_monte_carlo():
    """E over mu ~ N(0, I_d) of exp(a x.mu/Gamma - a^2 |mu|^2/(2 Gamma)), and its tilted mean, at d = 5."""
    rng = np.random.default_rng(7)
    d, a, Gm = 5, 0.7, 0.8
    x = rng.standard_normal(d) * 1.1
    y, wq = np.polynomial.hermite_e.hermegauss(80)
    wq = wq / math.sqrt(2 * math.pi)
    per = [(wq * np.exp(a * xi * y / Gm - a * a * y * y / (2 * Gm))) for xi in x]
    log_E = sum(math.log(p.sum()) for p in per)
    q = float(x @ x) / d
    alpha_d = math.log(40 - 1) / d
    assert math.isclose(d * float(G.phi_annealed(alpha_d, q, a, Gm)), math.log(39) + log_E, rel_tol=1e-12)
    h = float(G.finite_d_margin(0.4, q - 0.16, a, Gm, alpha_d))  # m = 0.4, v = q - m^2
    assert math.isclose(h, float(G.target_term(0.4, a, Gm)) - (math.log(39) + log_E) / d, rel_tol=1e-12)
    mean_y = np.array([(p * y).sum() / p.sum() for p in per])  # tilted mean, per component
    assert np.allclose(mean_y, a / (Gm + a * a) * x, rtol=1e-12)
    # Monte Carlo over centroids (a different route again)
    mu = rng.standard_normal((400000, d))
    logits = a * mu @ x / Gm - a * a * np.einsum("kd,kd->k", mu, mu) / (2 * Gm)
    w = np.exp(logits)
    sem = w.std() / math.sqrt(w.size) / w.mean()
    assert abs(math.log(w.mean()) - log_E) < Z * sem


@pytest.mark.parametrize("sampler", ["sde", "ode"])
def test_mixture_drift_reduces_to_the_branches(sampler):
    """w_c -> 1 gives branch C, w_c -> 0 branch G (v: Ito term at d -> infinity); linear in between."""
    C, Gb = DMF.drifts("C", sampler), DMF.drifts("G", sampler)
    fd = F.drifts(sampler)
    for i in range(2):
        lim = (lambda e: sp.limit(e, DMF.d, sp.oo)) if i == 1 else (lambda e: e)
        assert sp.simplify(lim(fd[i].subs(F.w_c, 1)) - C[i]) == 0
        assert sp.simplify(lim(fd[i].subs(F.w_c, 0)) - Gb[i]) == 0
        assert sp.diff(fd[i], F.w_c, 2) == 0
    assert F.mixture_identity(sampler) == (0, 0)
    noise = F.noise_variances(sampler)
    if sampler == "sde":
        assert sp.simplify(noise["m"] - DMF.g2 / DMF.d) == 0 and noise["mv"] == 0
        assert sp.simplify(noise["m"].subs(DMF.g2, 2)) == 2 / DMF.d  # ou: g^2 = 2


@pytest.mark.parametrize("sampler", ["sde", "ode"])
def test_step_increment_matches_the_finite_d_drift(sampler):
    """(E[m_s] - m_t)/dtau and (E[v_s] - v_t)/dtau of the exact step -> the generated drifts as dtau -> 0."""
    t, m, v, sigma2, omega, wc, d = 0.8, 0.6, 0.9, 1.0, 3.0, 0.3, 20
    a, b, f, g2 = (G.ou_a(t), G.ou_b(t), G.ou_f(t), G.ou_g2(t))
    Gm = G.ou_Gamma(t, sigma2)
    for h, tol in ((1e-3, 5e-3), (1e-4, 5e-4)):
        s = t - h
        args = (a, b, G.ou_a(s), G.ou_b(s), sigma2, omega, wc)
        slope, shift = (fn(*args) for fn in G.FINITE_D_STEPS[sampler])
        var = G.sde_step_var(a, b, G.ou_a(s), G.ou_b(s), sigma2) if sampler == "sde" else 0.0
        dm = (slope * m + shift - m) / h
        dv = (slope**2 * v + var * (d - 1) / d - v) / h  # E|slope x_perp + sqrt(var) z|^2/d
        args_d = (m, v, a, Gm, f, g2, omega, wc, d)
        drift_m, drift_v = G.FINITE_D_DRIFTS[sampler]
        assert abs(dm - drift_m(*args_d)) < tol
        assert abs(dv - drift_v(*args_d)) < tol


@pytest.mark.parametrize("sampler", ["sde", "ode"])
def test_omega_zero_is_unbiased(sampler):
    """omega = 0: E m = 1 and E v = sigma2 (d - 1)/d at t = 0 within error bars, even with 20 steps."""
    d, sigma2 = 20, 0.7
    r = solve(d, alpha=0.3, omega=0.0, sigma2=sigma2, sampler=sampler, paths=40000, steps=20, seed=3)
    assert abs(r.m_mean - 1.0) < Z * r.m_sem
    assert abs(r.v_mean - sigma2 * (d - 1) / d) < Z * r.v_sem
    assert abs(r.m_sd - math.sqrt(sigma2 / d)) < 0.02 * math.sqrt(sigma2 / d)  # law N(1, sigma2/d)


def test_large_d_approaches_the_dmf():
    """d = 10^4: m(0) within 0.005 of the d -> infinity DMF (measured 0.001 with 1000 steps), v within 0.005."""
    from cfg_distortion.meanfield.dmf import trajectory

    tr = trajectory(0.3, 3.0, 1.0, sampler="sde")
    r = solve(10_000, alpha=0.3, omega=3.0, sigma2=1.0, paths=2000, steps=1000)
    assert r.K is None and r.alpha_d == 0.3
    assert abs(r.m_mean - tr.m_final) < 0.005
    assert abs(r.v_mean - tr.v_final) < 0.005


def _cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "cfg_distortion.cli", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_cli_json_contract():
    out = _cli("finite-d", "--d", "20", "--alpha", "0.3", "--omega", "3", "--sigma2", "1", "--paths", "2000",
               "--steps", "200", "--json")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    for key in ("m_mean", "m_sd", "v_mean", "d", "alpha", "omega", "sigma2", "sampler", "paths", "seed", "K"):
        assert key in res
    assert res["K"] == 403 and res["target_norm"] == "fixed"
    assert 1.35 < res["m_mean"] < 1.5
    sched = _cli("finite-d", "--d", "20", "--alpha", "0.3", "--schedule", "interval:3,0,1", "--sigma2", "1",
                 "--paths", "500", "--steps", "100", "--sampler", "ode")
    assert sched.returncode == 0 and "m = x.mu_c/d" in sched.stdout


@pytest.mark.parametrize("args,word", [
    (["--d", "0", "--alpha", "0.3", "--omega", "3", "--sigma2", "1"], "d must"),
    (["--d", "20", "--alpha", "nan", "--omega", "3", "--sigma2", "1"], "alpha"),
    (["--d", "20", "--alpha", "-0.1", "--omega", "3", "--sigma2", "1"], "alpha"),
    (["--d", "20", "--alpha", "0.3", "--omega", "3", "--sigma2", "0"], "sigma2"),
    (["--d", "20", "--alpha", "0.3", "--omega", "inf", "--sigma2", "1"], "omega"),
    (["--d", "20", "--alpha", "0.01", "--omega", "3", "--sigma2", "1"], "K >= 2"),
    (["--d", "20", "--alpha", "0.3", "--omega", "3", "--sigma2", "1", "--paths", "0"], "paths"),
])
def test_cli_bad_input_is_one_line_exit_2(args, word, capsys):
    """In process (the entry point's own exit 2 is held by test_cli's subprocess runs)."""
    refused(capsys, "finite-d", *args, word=word, stdout_empty=True)


def test_validate_rejects_a_file_as_out(tmp_path):
    f = tmp_path / "file"
    f.write_text("")
    out = _cli("validate", "--quick", "--out", str(f))
    assert out.returncode == 2 and "not a folder" in out.stderr


@pytest.mark.slow
def test_validation_at_the_target_points():
    """The issue's target points (sigma2 = 1, SDE, omega = 3; 8 centroid draws x 1000 samples): the finite-K
    theory within 0.015 of the simulator in m at (d = 20, alpha = 0.3) and (d = 40, alpha = 0.15), and in v
    at d = 40. At d = 20 its v is 0.03 low: that is the memory of the quenched centroids, which the theory
    does not have (see test_finite_K_theory_is_the_memoryless_simulator); asserted: closer than the annealed
    theory, and the DMF far (the regime where the d -> infinity limit is still far)."""
    from cfg_distortion.finite_d import validation as VAL

    for case in VAL.TARGETS:
        row = VAL.row_at(case, case.ds[0], case.draws[0], n=1000, steps=400, paths=20000)
        annealed = solve(row.d, alpha=case.alpha, omega=case.omega, paths=20000, steps=400, wrong_classes="annealed")
        assert abs(row.gap_m_finite_d) < 0.015, row
        assert abs(row.gap_v_finite_d) < abs(annealed.v_mean - row.v_sim), row
        if row.d == 40:
            assert abs(row.gap_v_finite_d) < 0.015, row
        assert abs(row.gap_m_dmf) > 0.04, row


def _memoryless_simulation(d, alpha, omega, n, seed, steps=400, sigma2=1.0):
    """The exact-score sampler with the K - 1 wrong centroids drawn afresh at every step (target fixed)."""
    from cfg_distortion.finite_d.posterior import MixturePosterior, centroid_rows
    from cfg_distortion.finite_d.simulator import draw_centroids, time_grid

    K = int(round(math.exp(alpha * d)))
    T = 10.0
    times = time_grid("ou", T, steps)
    rng = np.random.default_rng(1000 + seed)
    mu = draw_centroids(K, d, seed)
    mu_c = mu[0].copy()
    x = rng.standard_normal((n, d)) * math.sqrt(float(G.start_variance(G.ou_a(T), G.ou_Gamma(T, sigma2))))
    for t, s in zip(times[:-1], times[1:]):
        mu[1:] = rng.standard_normal((K - 1, d))
        a, Gm = float(G.ou_a(t)), float(G.ou_Gamma(t, sigma2))
        _, post = MixturePosterior(centroid_rows(mu)).moments(x, a, Gm)
        C = G.frozen_coef_target(omega) * mu_c + G.frozen_coef_post(omega) * post
        args = (a, float(G.ou_b(t)), float(G.ou_a(s)), float(G.ou_b(s)), sigma2)
        x = G.sde_step_coef_x(*args) * x + G.sde_step_coef_C(*args) * C
        x += math.sqrt(G.sde_step_var(*args)) * rng.standard_normal((n, d))
    m = x @ mu_c / d
    v = np.einsum("nd,nd->n", x - m[:, None] * mu_c, x - m[:, None] * mu_c) / d
    return m.mean(), v.mean()


@pytest.mark.slow
def test_finite_K_theory_is_the_memoryless_simulator():
    """d = 20, alpha = 0.3 (K = 403), omega = 3, SDE: the simulator with the wrong centroids re-drawn at every
    step (the dynamics whose posterior mean the finite-K theory averages exactly) against the theory, within
    0.01 in m and v (4 draws x 1000 samples: se ~0.004). The quenched simulator's v is 0.03 higher: the gap
    the theory leaves is the memory of the centroids."""
    ms, vs = zip(*(_memoryless_simulation(20, 0.3, 3.0, 1000, s) for s in range(4)))
    r = solve(20, alpha=0.3, omega=3.0, paths=20000, steps=400)
    assert r.wrong_classes == "finite"
    assert abs(np.mean(ms) - r.m_mean) < 0.01 and abs(np.mean(vs) - r.v_mean) < 0.01, (ms, vs, r)


@pytest.mark.slow
def test_full_validation_runs(tmp_path):
    """The full `validate` run (~6 minutes on 2 shared cores). Measured: finite-d m within 0.019 of the
    simulation wherever K >= 100, and 0.027-0.039 at K = 7 and 20 (d = 20, alpha = 0.1 and 0.15), where
    E Z over a handful of wrong classes is a poor stand-in for Z; for the SDE it is closer than the DMF
    at every row (for the ODE at d = 20, K = 20 it is not: +0.027 against -0.007). Asserted: 0.03 for
    K >= 100, closer than the DMF for every SDE row, files written."""
    out = _cli("validate", "--out", str(tmp_path), "--json", timeout=3600)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert (tmp_path / "validate.csv").exists() and all(p.endswith((".png", ".pdf")) for p in res["figure"])
    for row in res["rows"]:
        if row["K"] >= 100:
            assert abs(row["gap_m_finite_d"]) < 0.03, row  # issue 6's bound (issue 15's 0.015: the target test)
        if row["sampler"] == "sde":
            assert abs(row["gap_m_finite_d"]) < abs(row["gap_m_dmf"]), row


@pytest.mark.parametrize("m,t", [(0.3, 0.9), (0.8, 0.4)])
def test_finite_K_expectation_against_whole_centroid_draws(m, t):
    """wbar_c and kappa_bar from the (u, r) law of the wrong centroids (``finite_K_tables``) against draws of
    K - 1 whole centroids mu ~ N(0, I_d) for one fixed x: the posterior weight of the target and the
    projection of the wrong classes' posterior mean on x, averaged over the draws (4 SEM)."""
    from cfg_distortion.finite_d.effective import finite_K_moments, finite_K_tables

    d, K, R = 20, 60, 6000
    a, Gm = float(G.ou_a(t)), float(G.ou_Gamma(t, 1.0))
    rng = np.random.default_rng(5)
    mu_c = np.zeros(d)
    mu_c[0] = math.sqrt(d)
    x = rng.standard_normal(d) * 1.1
    x[0] = m * math.sqrt(d)  # x . mu_c / d = m
    q = float(x @ x) / d
    mu = rng.standard_normal((R, K - 1, d))
    cx, cm = float(G.logit_coef_xmu(a, Gm)), float(G.logit_coef_mumu(a, Gm))
    logits = cx * mu @ x + cm * np.einsum("rkd,rkd->rk", mu, mu)
    lc = cx * float(x @ mu_c) + cm * d
    top = np.maximum(logits.max(axis=1), lc)
    e, ec = np.exp(logits - top[:, None]), np.exp(lc - top)
    w = ec / (ec + e.sum(axis=1))
    kap = (e * (mu @ x)).sum(axis=1) / (ec + e.sum(axis=1)) / float(x @ x)
    log_Z, U = finite_K_tables(np.random.default_rng(6), K, d, [q], a, Gm, R)
    wbar, kbar = finite_K_moments(np.array([m]), np.array([q]), d, a, Gm, [q], log_Z, U)
    se_w = math.hypot(w.std() / math.sqrt(R), w.std() / math.sqrt(R))  # two independent estimates
    se_k = math.hypot(kap.std() / math.sqrt(R), kap.std() / math.sqrt(R))
    assert abs(wbar[0] - w.mean()) < Z * se_w + 2e-3  # + the logit grid's interpolation (spacing 1/8)
    assert abs(kbar[0] - kap.mean()) < Z * se_k + 2e-3
    assert 0.02 < w.mean() < 0.98  # a point where both terms matter


def test_finite_K_step_reduces_to_the_annealed_step():
    """kappa_K = (1 - w_c) kappa turns the finite-K step into the annealed one (both samplers), and the
    ratio of expectations over one wrong centroid is the annealed kappa |x| (sympy's Gaussian integral)."""
    for sampler in ("sde", "ode"):
        step = F.finite_K_step(sampler)  # asserts the reduction
        assert sp.diff(step["slope"], F.kappa_bar, 2) == 0 and step["slope"].has(F.kappa_bar)
    assert sp.simplify(F.finite_K_annealed_ratio() / sp.sqrt(DMF.q * DMF.d) - DMF.posterior_mean_coefficient()) == 0
