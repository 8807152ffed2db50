"""Designed guidance schedules (claim 6) and the variance bound for nonnegative schedules (claim 5).

The designed schedule is checked by feeding its string back to the public trajectory API; the
bound by hypothesis over random nonnegative piecewise schedules; the theory of the design
document (ratio drifts, relaxation propagator) symbolically.
"""
import json
import math
import re

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from cfg_distortion.cli.app import main
from cfg_distortion.meanfield.design import NoWindowError, compare_schedules, design_schedule
from cfg_distortion.meanfield.dmf import trajectory
from cfg_distortion.theory import schedule_design as SD
from cfg_distortion.theory.dmf import BRANCHES, SAMPLERS
from cfg_distortion.theory.symbols import Gamma, a, omega, sigma2

SPEC = re.compile(r"piecewise:inf:[0-9.e+-]+,[0-9.e+-]+:-[0-9.e+-]+,[0-9.e+-]+:0")


def _fed_back(d):
    return trajectory(d.alpha, sigma2=d.sigma2, schedule=d.schedule, sampler=d.sampler, process=d.process)


def test_designed_schedule_at_the_reference_point():
    d = design_schedule(0.3, 1.0, 3.0)
    assert SPEC.fullmatch(d.schedule), d.schedule
    tr = _fed_back(d)
    assert abs(tr.v_final - 1.0) < 1e-4 and tr.classified
    assert d.window_in_G and d.t_window_end == pytest.approx(d.baseline.t_switch[0])
    assert d.baseline.v_final < 0.97 and tr.m_final < d.baseline.m_final  # the shrinkage is undone, m(0) nearer 1


@pytest.mark.parametrize("alpha,s2,W,sampler", [
    (0.2, 0.8, 2.0, "sde"), (0.2, 1.25, 4.0, "sde"), (0.3, 0.8, 4.0, "sde"), (0.3, 1.25, 2.0, "sde"),
    (0.25, 1.0, 3.0, "sde"), (0.3, 1.0, 3.0, "ode")])
def test_designed_schedule_on_a_grid(alpha, s2, W, sampler):
    d = design_schedule(alpha, s2, W, sampler)
    tr = _fed_back(d)
    assert abs(tr.v_final - s2) < 1e-4 and tr.classified, (d.schedule, tr.v_final, tr.branches)


def test_stronger_window_costs_less_overlap():
    weak, strong = design_schedule(0.3, 1.0, 3.0), design_schedule(0.3, 1.0, 3.0, omega_window=-4.0)
    assert abs(strong.v_final - 1.0) < 1e-4 and strong.classified
    assert strong.t_window_start - strong.t_window_end < weak.t_window_start - weak.t_window_end
    assert strong.m_final > weak.m_final


@settings(max_examples=25)
@given(alpha=st.floats(0.0, 0.5), s2=st.floats(0.3, 3.0), sampler=st.sampled_from(["sde", "ode"]),
       pieces=st.lists(st.tuples(st.floats(0.01, 4.0), st.floats(0.0, 8.0)), min_size=1, max_size=4))
def test_nonnegative_schedules_never_exceed_sigma2(alpha, s2, sampler, pieces):
    """Claim 5, two-sided: v(0) of the DMF equals the v-equation of two typed Gaussian scores
    integrated along the DMF's branch history (1e-8, from the solvers' rtol), and is <= sigma2.
    alpha <= 0.5 keeps branch G annealed, where the typed cloud is its marginal."""
    from cfg_distortion.checks.typed import v_along_history

    times = sorted({round(t, 6) for t, _ in pieces}, reverse=True)
    values = [w for _, w in pieces][: len(times)]
    spec = "piecewise:inf:" + ",".join([f"{values[0]:.6g}"] + [f"{t:.6g}:{w:.6g}" for t, w in
                                                             zip(times[1:], values[1:])])
    tr = trajectory(alpha, sigma2=s2, schedule=spec, sampler=sampler)
    assert tr.v_final <= s2 * (1 + 1e-8), (spec, tr.v_final)
    if "S" not in tr.branches and not tr.g_frozen:
        typed = v_along_history(s2, spec, sampler, list(tr.t_switch), list(tr.branches), T=tr.T)
        assert tr.v_final == pytest.approx(typed, rel=1e-8, abs=1e-10), spec


def test_negative_window_after_the_switch_is_inert():
    base = trajectory(0.3, 3.0, 1.0)
    ts = base.t_switch[0]
    for late in (f"piecewise:inf:3,{0.9 * ts}:-2,{0.2 * ts}:3", f"piecewise:inf:3,{0.5 * ts}:-1,{0.1 * ts}:0"):
        tr = trajectory(0.3, sigma2=1.0, schedule=late)
        assert tr.v_final == pytest.approx(base.v_final, abs=1e-8)
        assert tr.m_final == pytest.approx(base.m_final, abs=1e-8)
    early = trajectory(0.3, sigma2=1.0, schedule=f"piecewise:inf:3,{1.3 * ts}:-1,{ts}:0")
    assert early.v_final > base.v_final + 1e-3  # the same window inside the G phase does act


def test_no_window_needed_and_no_window_possible():
    d = design_schedule(0.0, 1.0, 3.0)  # alpha = 0: branch C throughout, guidance inert
    assert d.schedule == "const:3" and d.omega_window is None and d.v_final == pytest.approx(1.0, abs=1e-9)
    with pytest.raises(NoWindowError, match="never classifies"):
        design_schedule(math.inf, 1.0, 3.0)
    with pytest.raises(NoWindowError, match="classification margin"):
        design_schedule(0.3, 5.0, 3.0, max_strength=2.0)


def test_ratio_drift_is_exact_on_the_class_law():
    for b in BRANCHES:
        for smp in SAMPLERS:
            assert sp.simplify(SD.ratio_drift(b, smp).subs({omega: 0, SD.rho: 1})) == 0
    assert all(omega not in SD.ratio_drift("C", smp).free_symbols for smp in SAMPLERS)  # C is inert
    assert sp.simplify(SD.ratio_sensitivity("G", "sde") + 2 * SD.guidance_weight() * SD.rho) == 0


def test_propagator_solves_the_relaxation():
    assert SD.propagator_residual() == 0
    assert SD.relaxation_propagator().subs({a: 1, Gamma: sigma2}) == 1  # P_0 = 1 (a_0 = 1, Gamma_0 = sigma2)


def test_compare_schedules_rows():
    rows = {r["name"]: r for r in compare_schedules(0.3, 1.0, 3.0)}
    assert list(rows) == ["constant", "interval", "linear", "designed"]
    for name in ("constant", "interval", "linear"):
        assert rows[name]["variance_ratio"] < 1.0 and rows[name]["classified"]
    assert rows["designed"]["variance_ratio"] == pytest.approx(1.0, abs=1e-4) and rows["designed"]["classified"]


# ---------------------------------------------------------------- CLI

BASE = ["schedule-design", "--alpha", "0.3", "--sigma2", "1", "--omega", "3"]


def test_schedule_design_json_and_plot(capsys, tmp_path):
    assert main(BASE + ["--json", "--plot", "--out", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("schedule", "m_final", "v_final", "classified", "t_switch", "m_final_const", "v_final_const",
                "root_xtol", "alpha", "sigma2", "omega", "status"):
        assert key in out, key
    assert abs(out["v_final"] - 1) < 1e-4 and out["classified"] and out["v_final_const"] < 0.97
    assert out["status"] == "ok" and out["omega"] == 3
    assert (tmp_path / "schedule-design.png").stat().st_size > 0 and (tmp_path / "schedule-design.pdf").stat().st_size > 0


@pytest.mark.parametrize("args,word", [
    (["--omega", "0"], "omega"), (["--omega", "-1"], "omega"), (["--omega", "nan"], "omega"),
    (["--alpha", "-0.1"], "alpha"), (["--sigma2", "0"], "sigma2"), (["--sigma2", "nan"], "sigma2")])
def test_schedule_design_bad_input_is_one_line_exit_2(capsys, args, word):
    argv = list(BASE)
    flag, value = args
    argv[argv.index(flag) + 1] = value
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and word in err and "Traceback" not in err


def test_schedule_design_no_window_exits_1(capsys):
    assert main(["schedule-design", "--alpha", "inf", "--sigma2", "1", "--omega", "3", "--json"]) == 1
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["schedule"] is None and out["status"] == "no_window" and "never classifies" in out["message"]
    assert captured.err.count("\n") == 1 and "no window" in captured.err


def test_schedules_table(capsys):
    assert main(["schedules", "--alpha", "0.3", "--sigma2", "1"]) == 0
    text = capsys.readouterr().out
    for name in ("constant", "interval", "linear", "designed", "variance_ratio"):
        assert name in text
    assert main(["schedules", "--alpha", "0.3", "--sigma2", "1", "--omega", "0"]) == 2
