"""Guidance rules: omega = 0 exactness and reductions to cfg (symbolic and numeric), the spec
grammar, and the DMF drifts of every rule against the exact-score sampler with K -> infinity."""
import math
import os

import numpy as np
import pytest

from cfg_distortion.finite_d.gaussian_limit import simulate_gaussian_limit
from cfg_distortion.finite_d.rules import guided_centroid
from cfg_distortion.meanfield.dmf import trajectory
from cfg_distortion.meanfield.flow import Flow
from cfg_distortion.model.process import get_process
from cfg_distortion.model.rules import Rule, parse_rule, parse_rules

RULES = ["rescale:0.7,eps", "rescale:0.7,v", "apg:0", "apg:0,0.05", "zero-star", "autoguidance:3"]


# ---------------------------------------------------------------- symbolic


SLOW = pytest.mark.slow


@SLOW
@pytest.mark.parametrize("key", ["rescale_eps", "rescale_v", "apg_clip", "zero_star", "autoguidance", "apg"])
def test_omega_zero_is_the_conditional_sampler_symbolically(key):
    """Every rule at omega = 0 is the conditional sampler, in both branches (symbolic; the same
    check numerically for every rule: test_omega_zero_trajectory_is_the_class_law)."""
    from cfg_distortion.theory import rules as R

    for branch in "GC":
        assert R.omega_zero_residual(key, branch, "sde") == (0, 0)


@pytest.mark.parametrize("key", ["rescale_eps", "apg_clip",
                                 *(pytest.param(k, marks=SLOW) for k in ("rescale_v", "apg"))])
def test_reduces_to_cfg_symbolically(key):
    """rescale with phi = 0, APG with eta = 1 and no threshold are cfg in both branches."""
    from cfg_distortion.theory import rules as R

    for branch in "GC":
        assert R.reduction_residual(key, branch, "sde") == (0, 0)


def test_autoguidance_with_the_unconditional_as_bad_model_is_cfg():
    from cfg_distortion.theory import rules as R

    assert R.autoguidance_as_cfg_residual("G", "ode") == (0, 0)


def test_space_coefficients_follow_the_parametrisations():
    """P = A s + B x against the definitions of the sheet at random numbers (x0 = Tweedie,
    VP v = a eps - b D, flow velocity eps - D = f x - g^2 s / 2 for a = 1 - t, b = t)."""
    from cfg_distortion import _generated as G

    rng = np.random.default_rng(1)
    x, s = rng.standard_normal(2)
    t = 0.37
    a, b = 1 - t, t
    f, g2 = -1 / (1 - t), 2 * t / (1 - t)  # flow process: f = a'/a, g^2 = (b^2)' - 2 f b^2
    D = (x + b * b * s) / a
    eps = (x - a * D) / b
    want = {"eps": eps, "x0": D, "v": a * eps - b * D, "u": eps - D}
    for space, P in want.items():
        got = G.__dict__[f"prediction_coef_score_{space}"](a, b, f, g2) * s + \
            G.__dict__[f"prediction_coef_x_{space}"](a, b, f, g2) * x
        assert got == pytest.approx(P, rel=1e-12), space


# ---------------------------------------------------------------- grammar


def test_rule_specs_parse_to_canonical_forms():
    assert parse_rule(None).is_cfg and parse_rule("cfg").spec == "cfg"
    assert parse_rule("apg:0,none,-0.5").spec == "apg:0,none,-0.5" and parse_rule("apg:0,none,0").spec == "apg:0"
    assert parse_rule("rescale:0.7").spec == "rescale:0.7,v"
    assert parse_rule("apg:0, none").rho is None and parse_rule("apg:0,0.05").rho == 0.05
    assert parse_rule("autoguidance:2").sigma2_bad == 2.0
    assert [r.spec for r in parse_rules("cfg,rescale:0.7,eps,apg:0,0.05,zero-star")] == [
        "cfg", "rescale:0.7,eps", "apg:0,0.05", "zero-star"]


@pytest.mark.parametrize("spec, word", [("foo", "rule must be one of"), ("rescale:2", "PHI"),
                                        ("rescale:0.5,x0", "SPACE"), ("apg:0,-1", "RHO"),
                                        ("autoguidance:0", "SIGMA2_BAD"), ("cfg:1", "no parameters"),
                                        ("apg:x", "ETA"), ("apg:0,none,1", "BETA")])
def test_bad_rule_specs_name_the_parameter(spec, word):
    with pytest.raises(ValueError, match=word):
        parse_rule(spec)


# ---------------------------------------------------------------- numeric reductions


@pytest.mark.parametrize("spec", RULES)
def test_omega_zero_trajectory_is_the_class_law(spec):
    tr = trajectory(0.3, 0.0, 1.0, rule=spec)
    assert abs(tr.m_final - 1.0) < 1e-6 and abs(tr.v_final - 1.0) < 1e-6


@pytest.mark.parametrize("spec", ["rescale:0,v", "rescale:0,eps", "apg:1", "apg:1,1e9"])
def test_cfg_parameters_give_the_cfg_trajectory(spec):
    ref, tr = trajectory(0.3, 2.0, 1.0), trajectory(0.3, 2.0, 1.0, rule=spec)
    assert tr.m_final == pytest.approx(ref.m_final, abs=1e-7)
    assert tr.v_final == pytest.approx(ref.v_final, abs=1e-7)
    assert tr.branches == ref.branches


@pytest.mark.parametrize("spec", ["apg:1", pytest.param("rescale:0,v", marks=SLOW)])
def test_cfg_parameters_follow_cfg_through_a_frozen_branch_g(spec):
    """In a frozen G the rules' drifts take the same kappa_eff as cfg's (issue 17's frozen wrong
    classes): at the cfg parameters the quenched trajectory is cfg's, segments included."""
    ref, tr = trajectory(0.7, 10.0, 1.0, sampler="ode"), trajectory(0.7, 10.0, 1.0, sampler="ode", rule=spec)
    assert ref.branches == tr.branches == ["G", "Gf", "C"]
    assert tr.m_final == pytest.approx(ref.m_final, abs=1e-7) and tr.v_final == pytest.approx(ref.v_final, abs=1e-7)


def test_capture_with_a_rule_other_than_cfg_is_refused_by_name():
    with pytest.raises(ValueError, match="rule zero-star: negative guidance in a frozen branch G"):
        trajectory(0.2, -0.5, 1.0, rule="zero-star")


# ---------------------------------------------------------------- DMF against exact per-sample rules


@pytest.mark.parametrize("spec", RULES + ["cfg"])
def test_branch_g_drift_is_the_concentrated_per_sample_rule(spec):
    """At one state (m, v) and time, the drift of m and v computed from d = 40000 exact
    per-sample predictions (norms over coordinates, K -> infinity) equals the generated
    branch-G drift: the inner products concentrate (error O(d^-1/2))."""
    rule, p, sigma2, omega, t, d = parse_rule(spec), get_process("ou"), 1.0, 3.0, 0.6, 40000
    rng = np.random.default_rng(2)
    mu_c = rng.standard_normal(d)
    mu_c *= math.sqrt(d / (mu_c @ mu_c))
    m, v = 0.4, 0.9
    z = rng.standard_normal((4, d))
    z -= np.outer(z @ mu_c / d, mu_c)
    x = m * mu_c + z * np.sqrt(v * d / np.einsum("nd,nd->n", z, z))[:, None]
    a, Gamma, f, g2 = float(p.a(t)), float(p.Gamma(t, sigma2)), float(p.f(t)), float(p.g2(t))
    C = guided_centroid(rule, x, mu_c, a * x / (Gamma + a * a), p, t, sigma2, omega)  # K -> infinity
    s_g = (a * C - x) / Gamma
    D = -f * x + g2 * s_g  # reverse-SDE drift
    xp = x - m * mu_c
    dm = float(np.mean(D @ mu_c / d))
    dv = float(np.mean(2 * np.einsum("nd,nd->n", D, xp) / d + g2))
    fm, fv = Flow(sigma2, "sde", "ou", rule=rule).branch_drift("G", t, m, v, omega)
    assert dm == pytest.approx(fm, abs=0.02 * (1 + abs(fm)))
    assert dv == pytest.approx(fv, abs=0.02 * (1 + abs(fv)))


@pytest.mark.parametrize("spec", ["rescale:0.7,v", *(pytest.param(s, marks=SLOW) for s in
                                                     ("apg:0", "apg:0,0.05", "zero-star", "autoguidance:3"))])
def test_k_infinity_sampler_reaches_the_branch_g_dmf(spec):
    """m(0), v(0) of the exact-score sampler with K -> infinity at d = 2000 (n = 64, 300
    exact-transition steps, ODE) within 4 standard errors plus the O(1/d) finite-d shift of
    the DMF's alpha = inf (branch G throughout) limit."""
    sim = simulate_gaussian_limit(spec, 3.0, 1.0, d=2000, n=64, steps=300, sampler="ode")
    tr = trajectory(math.inf, 3.0, 1.0, sampler="ode", rule=spec)
    assert abs(sim.m_mean - tr.m_final) < 4 * sim.m_sem + 5e-3
    assert abs(sim.v_mean - tr.v_final) < 4 * sim.v_sem + 5e-3


@pytest.mark.slow
@pytest.mark.parametrize("spec", RULES)
@pytest.mark.parametrize("sampler", ["sde", "ode"])
def test_k_infinity_sampler_reaches_the_branch_g_dmf_all(spec, sampler):
    sim = simulate_gaussian_limit(spec, 3.0, 1.0, d=4000, n=200, steps=600, sampler=sampler)
    tr = trajectory(math.inf, 3.0, 1.0, sampler=sampler, rule=spec)
    assert abs(sim.m_mean - tr.m_final) < 4 * sim.m_sem + 2.5e-3
    assert abs(sim.v_mean - tr.v_final) < 4 * sim.v_sem + 2.5e-3


def test_rule_object_round_trips_through_the_flow():
    assert Flow(1.0, "sde", "ou", rule=Rule("cfg")).rule.is_cfg


# ---------------------------------------------------------------- compare-rules


def test_compare_rules_rows_reductions_and_autoguidance_mean():
    """JSON rows carry the contract's keys; apg:1 (= cfg) gives cfg's row; autoguidance keeps
    the mean (m = a_t solves its m-drift for any omega: both models are centred on mu_c), so
    m(0) = 1, and shrinks the variance."""
    import cfg_distortion as cd
    from cfg_distortion.meanfield.compare import ROW_KEYS

    res = cd.compare_rules(0.3, rules="cfg,apg:1,autoguidance:2", omega=[3.0], boundary=False)
    assert all(set(r) == set(ROW_KEYS) for r in res.rows) and res.boundary == {}
    cfg, apg1, ag = (res.row(r, 3.0) for r in ("cfg", "apg:1", "autoguidance:2"))
    assert apg1["m_final"] == pytest.approx(cfg["m_final"], abs=1e-7)
    assert apg1["v_final"] == pytest.approx(cfg["v_final"], abs=1e-7)
    assert ag["m_final"] == pytest.approx(1.0, abs=1e-6) and ag["v_final"] < 1.0 and ag["kl"] > 0


@SLOW
def test_compare_rules_boundary_of_a_cfg_reduction_is_cfgs():
    """apg:1 (eta = 1, no threshold) is cfg: its boundary through the vectorised root finder
    on the rule's own generated drifts equals cfg's."""
    import cfg_distortion as cd

    res = cd.compare_rules(0.3, rules="cfg,apg:1", omega="1:5:3")
    for p, q in zip(res.boundary["cfg"], res.boundary["apg:1"]):
        assert q["alpha_c"] == pytest.approx(p["alpha_c"], abs=1e-5)


def test_compare_rules_cli_json_files_and_bad_rule(tmp_path, capsys):
    import json

    from cfg_distortion.cli import app

    argv = ["compare-rules", "--alpha", "0.3", "--out", str(tmp_path), "--rules", "cfg,rescale:0.7,eps", "--omega",
            "3:3:1", "--no-boundary", "--json"]
    assert app.main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert [row["rule"] for row in out["rows"]] == ["cfg", "rescale:0.7,eps"]
    assert {"rule", "omega", "m_final", "v_final", "kl", "classified"} == set(out["rows"][0])
    assert all(os.path.getsize(p) > 0 for p in out["files"].values())
    csv_rows = (tmp_path / "compare_rules.csv").read_text().splitlines()
    assert csv_rows[0] == "rule,omega,m_final,v_final,kl,classified" and len(csv_rows) == 3
    assert app.main(argv[:5] + ["--rules", "rescale:3"]) == 2
    err = capsys.readouterr().err
    assert "PHI" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["cfg", *RULES[1:]])
def test_finite_k_simulator_with_the_rule_approaches_its_dmf_as_d_grows(spec):
    """The exact-score simulator with the rule applied per sample (finite K = exp(alpha d), norms
    over coordinates) at alpha = 0.1, omega = 3, d = 40 and 80 (6 centroid draws x 400 samples,
    300 steps: the rule's x-dependent guided coefficient is frozen over a step, a first-order bias
    of ~0.005 in v at 100 steps for autoguidance, 3e-4 at 400). The gap to the rule's DMF, fitted
    as A + B/d through the two d (the class law itself has v = sigma2 (d - 1)/d), extrapolates to
    A = 0 within 4 standard errors of the draws, in m and in v."""
    import cfg_distortion as cd

    alpha, omega = 0.1, 3.0
    tr = cd.trajectory(alpha, omega, rule=spec)
    gaps = {}
    for d in (40, 80):
        runs = [cd.simulate(d, alpha=alpha, omega=omega, rule=spec, n=400, seed=seed, steps=300) for seed in range(6)]
        m, v = np.array([r.m_mean for r in runs]), np.array([r.v_mean for r in runs])
        gaps[d] = (m.mean() - tr.m_final, m.std(ddof=1) / math.sqrt(m.size),
                   v.mean() - tr.v_final, v.std(ddof=1) / math.sqrt(v.size))
    for i in (0, 2):  # m, v
        A = 2 * gaps[80][i] - gaps[40][i]
        err = math.hypot(2 * gaps[80][i + 1], gaps[40][i + 1])
        assert abs(A) < 4 * err, (spec, "mv"[i // 2], A, err, gaps)


def test_apg_momentum_is_refused_by_the_mean_field_by_name():
    with pytest.raises(ValueError, match="momentum BETA depends on the step sequence"):
        trajectory(0.3, 3.0, 1.0, rule="apg:0,none,-0.5")


@pytest.mark.slow
@pytest.mark.parametrize("beta", [-0.5, 0.5])
def test_apg_momentum_tends_to_cfg_at_omega_over_one_minus_beta(beta):
    """With eta = 1 and no threshold APG is cfg on the buffer B_k = Delta_k + beta B_{k-1}; for
    many steps B -> Delta/(1 - beta) (GUIDANCE_RULES section 3), so the K -> infinity sampler with
    momentum at omega approaches the cfg DMF at omega/(1 - beta), the gap shrinking with the step
    count (first order in the step: measured 0.013 -> 0.004 in v from 150 to 600 steps at beta = 0.5)."""
    omega = 2.0 * (1 - beta)
    tr = trajectory(math.inf, 2.0, 1.0, sampler="ode")
    gaps = []
    for steps in (150, 600):
        sim = simulate_gaussian_limit(f"apg:1,none,{beta}", omega, 1.0, d=2000, n=64, steps=steps, sampler="ode")
        gaps.append(abs(sim.v_mean - tr.v_final))
        assert abs(sim.m_mean - tr.m_final) < 4 * sim.m_sem + 0.015
    assert gaps[1] < 4 * sim.v_sem + 0.006 and gaps[1] < gaps[0] + 2 * sim.v_sem


@pytest.mark.parametrize("sampler", ["sde", "ode"])
def test_autoguidance_final_moments_in_closed_form(sampler):
    """The sympy closed form of autoguidance's m(0), v(0) (generated) against the numerical DMF
    integration, at finite and infinite alpha (the drifts do not depend on the branch)."""
    from cfg_distortion import _generated as G

    for alpha, omega, sigma2, bad in ((math.inf, 3.0, 1.0, 2.0), (0.3, 1.5, 0.5, 3.0), (0.3, -0.3, 2.0, 4.0)):
        tr = trajectory(alpha, omega, sigma2, sampler=sampler, rule=f"autoguidance:{bad}")
        m0 = getattr(G, f"autoguidance_final_m_{sampler}")(omega, sigma2, bad)
        v0 = getattr(G, f"autoguidance_final_v_{sampler}")(omega, sigma2, bad)
        assert tr.m_final == pytest.approx(m0, abs=1e-7) and tr.v_final == pytest.approx(v0, rel=1e-6)


@pytest.mark.parametrize("integrator", ["euler", "euler-ancestral"])
def test_cfgpp_step_is_a_cfg_step_at_the_per_step_omega(integrator):
    """CFG++ (lambda = 1 + omega) re-noising with D_u is one cfg step of the same sampler at
    omega_i = lambda sigma_down / (sigma_i - sigma_down) - 1 (GUIDANCE_RULES section 4, with
    sigma_down = sigma_{i+1} for Euler): the same x from the same noise, on exact denoisers."""
    from cfg_distortion.finite_d import samplers as SM
    from cfg_distortion.finite_d.backends import make_kernel
    from cfg_distortion.finite_d.posterior import centroid_rows

    rng = np.random.default_rng(3)
    d, K, sigma2, lam = 16, 50, 1.0, 0.6
    mu = rng.standard_normal((K, d))
    den = SM.Denoisers(make_kernel("numpy", centroid_rows(mu), None, 1, "float64"), mu[0].copy(), sigma2)
    x = 3.0 * rng.standard_normal((8, d))
    for sigma, sigma_next in ((3.0, 2.4), (0.9, 0.5)):
        down = sigma_next if integrator == "euler" else SM.ancestral_step(sigma, sigma_next)[0]
        w_i = lam * sigma / (sigma - down) - 1.0
        pp = SM.cfgpp_step(integrator, x, sigma, sigma_next, den, lam, np.random.default_rng(7))
        ref = SM.step(integrator, x, sigma, sigma_next, lambda y, s: SM.guided(den, y, s, w_i), np.random.default_rng(7))
        assert np.allclose(pp, ref, rtol=1e-12, atol=1e-12)


def test_cfgpp_runs_on_the_discrete_samplers_only():
    import cfg_distortion as cd

    res = cd.simulate(8, K=20, omega=-0.4, rule="cfgpp", integrator="euler", process="ve", n=16, steps=10)
    assert res.rule == "cfgpp" and math.isfinite(res.v_mean)
    for kw in (dict(), dict(integrator="heun", process="ve")):
        with pytest.raises(ValueError, match="cfgpp"):
            cd.simulate(8, K=20, omega=-0.4, rule="cfgpp", n=16, steps=10, **kw)
    with pytest.raises(ValueError, match="discrete samplers"):
        trajectory(0.3, -0.4, 1.0, rule="cfgpp")
