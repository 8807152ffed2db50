"""Discrete samplers (k-diffusion conventions on ve), the exact integrator, and the switch scan.

Independent routes: the Karras grid against its definition in the issue; the unconditional
denoiser against a direct scipy softmax over all classes; the class law at omega = 0 (m = 1,
E v = sigma2 (d - 1)/d) with SEM error bars, the order of convergence of each sampler in the step
count (first order for euler-ancestral, second for heun), the exact integrator unbiased at 3 steps;
kl and w2 at the sampler's (m, v) against nonparametric estimates from its samples at d = 200.
"""
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from scipy.special import softmax

from cfg_distortion.finite_d import samplers as SM
from cfg_distortion.finite_d.posterior import MixturePosterior, centroid_rows
from cfg_distortion.finite_d.simulator import draw_centroids, simulate
from cfg_distortion.model.divergence import kl, w2

Z = 4.0


def test_karras_grid_is_the_published_formula():
    n, smax, smin, rho = 30, 80.0, 0.002, 7.0
    i = np.arange(n)
    want = (smax ** (1 / rho) + i / (n - 1) * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho
    got = SM.sigma_grid(n, "karras", smax, smin, rho)
    np.testing.assert_allclose(got[:-1], want, rtol=1e-13)
    assert got[-1] == 0.0 and got[0] == smax and got[-2] == smin
    np.testing.assert_allclose(SM.sigma_grid(5, "uniform", 4.0, 1.0)[:-1], [4, 3.25, 2.5, 1.75, 1])
    with pytest.raises(ValueError, match="sigma_min must be < sigma_max"):
        SM.sigma_grid(5, "karras", 1.0, 2.0)


def test_denoisers_are_posterior_means_of_x0():
    """D_u from the tiled kernel equals the softmax-weighted class denoisers computed directly."""
    d, K, sigma2, sigma = 6, 40, 0.7, 1.3
    mu = draw_centroids(K, d, 3)
    post = MixturePosterior(centroid_rows(mu))
    den = SM.Denoisers(post, mu[0], sigma2)
    x = np.random.default_rng(1).standard_normal((5, d)) * 2
    gamma = sigma2 + sigma**2
    w = softmax(-((x[:, None, :] - mu[None]) ** 2).sum(-1) / (2 * gamma), axis=1)
    # E[x0 | x, k] = mu_k + sigma2/gamma (x - mu_k): Gaussian conditioning, typed from the model
    per_class = mu[None] + sigma2 / gamma * (x[:, None, :] - mu[None])
    np.testing.assert_allclose(den.unconditional(x, sigma), (w[..., None] * per_class).sum(1), rtol=1e-10)
    np.testing.assert_allclose(den.conditional(x, sigma), per_class[:, 0], rtol=1e-12)
    dc, du = den.conditional(x, sigma), den.unconditional(x, sigma)
    np.testing.assert_allclose(SM.guided_denoiser(dc, du, 0.0), dc)
    np.testing.assert_allclose(SM.guided_denoiser(dc, du, -1.0), du)
    np.testing.assert_allclose(SM.guided(den, x, sigma, 2.0), du + 3.0 * (dc - du))


def _v_error(integrator, steps, n, seed=0):
    r = simulate(20, 2, omega=0.0, sigma2=1.0, n=n, steps=steps, process="ve", integrator=integrator, seed=seed)
    return r.v_mean / (19 / 20) - 1.0, r.v_sem / (19 / 20), r


def test_euler_ancestral_converges_to_the_class_law_at_first_order():
    """v error at 40 and 160 Karras steps: ratio ~4 (weak order 1); m unbiased at every step count."""
    e1, s1, r1 = _v_error("euler-ancestral", 40, 10000)
    e2, s2, r2 = _v_error("euler-ancestral", 160, 10000)
    assert e1 < -10 * s1 and e2 < -5 * s2  # a real, resolved bias
    ratio = e1 / e2
    assert 3.0 < ratio < 5.5, ratio  # order 1: 4, within the error bars of e2 (~10%)
    for r in (r1, r2):
        assert abs(r.m_mean - 1.0) < Z * r.m_sem


def test_heun_converges_at_second_order():
    e1, s1, _ = _v_error("heun", 10, 4000)
    e2, s2, _ = _v_error("heun", 40, 4000, seed=0)  # same start: the difference is the discretisation
    assert abs(e1) > 10 * s1 and abs(e2) < abs(e1) / 8  # order 2 gives 16


def test_exact_integrator_is_unbiased_at_three_steps():
    r = simulate(20, 2, omega=0.0, sigma2=1.0, n=10000, steps=3, process="ve")
    assert abs(r.m_mean - 1.0) < Z * r.m_sem
    assert abs(r.v_mean - 19 / 20) < Z * r.v_sem


def test_kl_and_w2_match_nonparametric_estimates_from_guided_samples():
    """Guided Heun samples at d = 200: the formulas at the samples' (m, v) against estimates from the samples."""
    from test_divergence import nonparametric

    d, K, steps, blocks = 200, 100, 20, 4
    mu = draw_centroids(K, d, 1)
    mu_c = mu[0].copy()
    den = SM.Denoisers(MixturePosterior(centroid_rows(mu)), mu_c, 1.0)
    sig = SM.sigma_grid(steps)
    rng = np.random.default_rng(0)
    est, ms, vs = [], [], []
    for _ in range(blocks):
        x = SM.run("heun", rng.standard_normal((50, d)) * sig[0], sig, np.full(steps, 3.0), den, rng)
        m = x @ mu_c / d
        est.append(nonparametric(x, mu_c, 1.0))
        ms.append(m.mean())
        vs.append(np.mean(((x - m[:, None] * mu_c) ** 2).sum(1) / d))
    est = np.array(est)
    mean, sem = est.mean(0), est.std(0, ddof=1) / math.sqrt(blocks)
    m, v = float(np.mean(ms)), float(np.mean(vs))
    assert kl(m, v, 1.0) > 0.01  # guidance distorts: a nontrivial comparison
    assert abs(mean[0] - kl(m, v, 1.0)) <= Z * sem[0] + 3e-3
    assert abs(mean[1] - w2(m, v, 1.0)) <= Z * sem[1] + 3e-3


def test_discrete_integrators_refuse_other_processes_and_report_the_grid():
    with pytest.raises(ValueError, match="process ve"):
        simulate(5, 3, omega=1.0, integrator="euler", process="ou", n=4, steps=3)
    r = simulate(5, 3, omega=1.0, integrator="euler", process="ve", n=4, steps=3, grid="uniform", sigma_max=10.0)
    out = r.to_json()
    assert out["grid"] == pytest.approx([10.0, 5.001, 0.002]) and out["integrator"] == "euler"


def test_a_switch_at_step_k_is_a_piecewise_schedule_at_sigma_k():
    """``piecewise:inf:W,S:-1`` with S = sigma_k gives omega = W on steps 0..k-1 and -1 from step k."""
    from cfg_distortion.model.schedules import parse_schedule

    sig = SM.sigma_grid(10)
    k = 4
    omegas = parse_schedule(f"piecewise:inf:3,{float(sig[k])!r}:-1", T=sig[0])(sig[:-1])
    np.testing.assert_array_equal(omegas, [3] * k + [-1] * (10 - k))


def test_switch_scan_rows_and_cli_contract(tmp_path):
    """JSON rows carry the issue's keys; k = N never switches (DMF = constant omega); k = 0 is omega_after."""
    cmd = [sys.executable, "-m", "cfg_distortion.cli", "switch-scan", "--K", "30", "--d", "10", "--sigma2", "1",
           "--omega", "3", "--steps", "4", "--n", "40", "--out", str(tmp_path), "--json"]
    out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    keys = {"k", "sigma_switch", "v_ratio_dmf", "m_dmf", "v_ratio_sim", "v_ratio_sem", "m_sim", "m_sem",
            "classified_fraction"}
    assert [r["k"] for r in out["rows"]] == [0, 1, 2, 3, 4]
    assert all(keys <= set(r) for r in out["rows"])
    assert out["rows"][-1]["sigma_switch"] == 0.0 and out["rows"][0]["sigma_switch"] == 80.0
    assert out["grid"] == pytest.approx(list(SM.sigma_grid(4)[:-1]))
    from cfg_distortion.meanfield.dmf import trajectory

    alpha = math.log(29) / 10
    const = trajectory(alpha, 3.0, 1.0, process="ve", sampler="sde", T=80.0)
    assert out["rows"][-1]["m_dmf"] == pytest.approx(const.m_final, rel=1e-9)
    for ext in ("csv", "png", "pdf"):
        assert (tmp_path / f"switch_scan.{ext}").stat().st_size > 0
