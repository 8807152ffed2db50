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
def test_cli_bad_input_is_one_line_exit_2(args, word):
    out = _cli("finite-d", *args)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and word in out.stderr and "Traceback" not in out.stderr


def test_validate_rejects_a_file_as_out(tmp_path):
    f = tmp_path / "file"
    f.write_text("")
    out = _cli("validate", "--quick", "--out", str(f))
    assert out.returncode == 2 and "not a folder" in out.stderr


@pytest.mark.slow
def test_validation_at_the_target_points():
    """The issue's target: at sigma2 = 1, SDE, omega = 3, finite-d m(0) within 0.03 of the exact-score
    simulator at (d = 20, alpha = 0.3) and (d = 40, alpha = 0.15), 8 centroid draws x 1000 samples.
    Measured with 10 draws x 4000 samples: gaps +0.015 and +0.010 (SEM ~0.002), where the DMF is off by
    -0.105 and -0.054. The bound is the issue's 0.03, not loosened."""
    from cfg_distortion.finite_d import validation as VAL

    for case in VAL.TARGETS:
        (row,) = [VAL.simulate_row(case, case.ds[0], case.seeds[0], n=1000, steps=400, paths=20000)]
        assert abs(row.gap_m_finite_d) < 0.03, row
        assert abs(row.gap_m_dmf) > 0.04, row  # the regime where the d -> infinity limit is still far


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
            assert abs(row["gap_m_finite_d"]) < 0.03, row
        if row["sampler"] == "sde":
            assert abs(row["gap_m_finite_d"]) < abs(row["gap_m_dmf"]), row
