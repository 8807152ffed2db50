"""The --json contract by value: every command's named keys against the API computed here.

Each command runs in-process (``cli.app.main``, stdout captured) with inputs away from the
defaults (sigma2 != 1, a process other than ou, the ode sampler) so that a flag the CLI drops
or a key it fills from the wrong quantity shows. Deterministic results (critical, trajectory,
simulate and finite-d with their seeds) must be equal to the last bit; derived keys are checked
by their definitions (mean_shift = m_final - 1, variance_ratio = v_final/sigma2). Where the
command's own computation is long (schedule-design, schedules, phase-diagram) the JSON is held
against cheap API calls that say the same thing: the reported schedule, integrated again, gives
the reported m, v and switches; the reported boundary alpha_c(omega) separates classified from
unclassified trajectories; the CSV rows equal the per-point trajectories. ``verify`` and
``validate`` run on a small registry / case set patched in, against the same objects computed here.

equations and derive have no --json (they write documents; tests/test_documents.py).
"""
import csv
import math

import numpy as np
import pytest

import cfg_distortion as cd
from conftest import cli_json


def trajectory(alpha, omega=None, sigma2=1.0, **kw):
    """cd.trajectory with sigma2 positional, as the checks below read best."""
    return cd.trajectory(alpha, omega, sigma2=sigma2, **kw)


def _divergences(m, v, sigma2):
    """kl and w2 per dimension of N(m mu_c, v) against the class N(mu_c, sigma2), as issue 12 defines them."""
    r = v / sigma2
    return 0.5 * (r - 1 - math.log(r) + (m - 1) ** 2 / sigma2), (m - 1) ** 2 + (math.sqrt(v) - math.sqrt(sigma2)) ** 2


def _assert_divergences(out, m, v, sigma2):
    kl, w2 = _divergences(m, v, sigma2)
    assert out["kl"] == pytest.approx(kl, rel=1e-9, abs=1e-15) and out["w2"] == pytest.approx(w2, rel=1e-9, abs=1e-15)


def _blank_figure(stem):
    """Stands in for a result's plot() (the figures have their own tests): empty stem.png and stem.pdf."""
    for path in (f"{stem}.png", f"{stem}.pdf"):
        open(path, "wb").close()
    return None  # the CLI closes what plot() returns; plt.close(None) closes nothing open here


@pytest.mark.parametrize("process,sigma2,t", [("ve", 0.5, 0.7), ("flow", 2.0, 0.3)])
def test_critical_alpha_c(capsys, process, sigma2, t):
    out = cli_json(capsys, "critical", "--sigma2", str(sigma2), "--t", str(t), "--process", process, "--json")
    api = cd.alpha_c(t, sigma2, process)
    assert out["alpha_c"] == api.alpha_c and out["t"] == t and out["sigma2"] == sigma2 and out["process"] == process
    assert isinstance(out["expression"], str) and out["expression"]
    # and the value is the process's own: alpha_c = log(1 + SNR_t)/2 with its a, b typed here
    a, b = {"ve": (1.0, t), "flow": (1.0 - t, t)}[process]
    assert out["alpha_c"] == pytest.approx(0.5 * math.log1p(a * a / (a * a * sigma2 + b * b)), rel=1e-12)


def test_critical_t_c(capsys):
    out = cli_json(capsys, "critical", "--sigma2", "0.5", "--alpha", "0.2", "--process", "ve", "--json")
    api = cd.t_c(0.2, 0.5, "ve")
    assert out["t_c"] == api.t_c and out["sigma2"] == 0.5 and out["process"] == "ve"
    assert cd.alpha_c(out["t_c"], 0.5, "ve").alpha_c == pytest.approx(0.2, rel=1e-9)
    never = cli_json(capsys, "critical", "--sigma2", "1", "--alpha", "5", "--json")
    assert never["t_c"] is None and never["never_classified"] is True


def test_verify_reports_each_check_by_value(capsys, monkeypatch):
    from cfg_distortion.checks import registry

    fakes = {"agrees": lambda: registry.Check("agrees", 1.25, 1.0, 0.5, "route a", route="finite difference"),
             "disagrees": lambda: registry.Check("disagrees", 2.0, 1.0, 0.5, "route b", route="consistency")}
    monkeypatch.setattr(registry, "all_checks", lambda: dict(fakes))
    for name, fn in fakes.items():
        monkeypatch.setitem(registry._ROUTE_OF, name, fn().route)
    out = cli_json(capsys, "verify", "--json", code=1)  # one check fails: exit 1
    assert out["passed"] is False
    assert [c["name"] for c in out["checks"]] == list(fakes)
    for got, fn in zip(out["checks"], fakes.values()):
        want = fn()
        assert (got["passed"], got["value"], got["reference"], got["tolerance"], got["route"]) == (
            want.passed, want.value, want.reference, want.tolerance, want.route)
    assert [c["passed"] for c in out["checks"]] == [True, False]


@pytest.mark.parametrize("args,kw", [
    (["--alpha", "0.3", "--omega", "3", "--sigma2", "0.5"], dict(alpha=0.3, omega=3.0, sigma2=0.5)),
    (["--alpha", "0.2", "--schedule", "piecewise:inf:4,0.5:-1", "--sigma2", "2", "--sampler", "ode",
      "--process", "flow"], dict(alpha=0.2, schedule="piecewise:inf:4,0.5:-1", sigma2=2.0, sampler="ode",
                                 process="flow")),
    (["--alpha", "inf", "--omega", "2", "--sigma2", "0.5"], dict(alpha=math.inf, omega=2.0, sigma2=0.5)),
])
def test_trajectory(capsys, args, kw):
    out = cli_json(capsys, "trajectory", *args, "--json")
    kw = dict(kw)
    tr = trajectory(kw.pop("alpha"), kw.pop("omega", None), kw.pop("sigma2"), **kw)
    assert out["m_final"] == tr.m[-1] and out["v_final"] == tr.v[-1]
    assert out["t_switch"] == list(tr.t_switch) and out["branches"] == list(tr.branches)
    assert out["classified"] == (tr.branches[-1] == "C")
    assert out["mean_shift"] == pytest.approx(tr.m[-1] - 1.0, abs=1e-15)
    assert out["variance_ratio"] == pytest.approx(tr.v[-1] / tr.sigma2, rel=1e-15)
    assert out["sigma2"] == tr.sigma2 and out["sampler"] == tr.sampler and out["process"] == tr.process
    assert out["schedule"] == tr.schedule and out["T"] == tr.T
    assert (out["alpha"], out["K_infinite"]) == ((None, True) if math.isinf(tr.alpha) else (tr.alpha, False))
    _assert_divergences(out, tr.m[-1], tr.v[-1], tr.sigma2)


def test_simulate(capsys):
    out = cli_json(capsys, "simulate", "--d", "6", "--K", "7", "--schedule", "piecewise:inf:2,0.4:-1", "--sigma2", "0.6",
                "--n", "150", "--steps", "60", "--seed", "3", "--sampler", "ode", "--json")
    r = cd.simulate(6, 7, schedule="piecewise:inf:2,0.4:-1", sigma2=0.6, n=150, steps=60, seed=3, sampler="ode")
    for key in ("m_mean", "m_sem", "v_mean", "v_sem", "classified_fraction", "K", "d", "n", "steps", "sigma2",
                "seed", "sampler", "schedule", "steps_taken", "target_norm2"):
        assert out[key] == getattr(r, key), key
    assert out["m_mean"] != out["v_mean"]
    _assert_divergences(out, r.m_mean, r.v_mean, 0.6)


def test_finite_d(capsys):
    out = cli_json(capsys, "finite-d", "--d", "30", "--alpha", "0.2", "--omega", "2", "--sigma2", "0.7", "--sampler",
                "ode", "--paths", "300", "--steps", "80", "--seed", "5", "--json")
    r = cd.finite_d(30, alpha=0.2, omega=2.0, sigma2=0.7, sampler="ode", paths=300, steps=80, seed=5)
    for key in ("m_mean", "m_sd", "m_sem", "v_mean", "v_sd", "v_sem", "classified_fraction", "d", "K", "alpha_d",
                "paths", "steps", "sigma2", "sampler", "seed"):
        assert out[key] == getattr(r, key), key
    assert out["K"] == round(math.exp(0.2 * 30)) and out["alpha_d"] == pytest.approx(math.log(out["K"] - 1) / 30)
    _assert_divergences(out, r.m_mean, r.v_mean, 0.7)


def test_schedule_design(capsys):
    """The reported schedule, integrated again, gives the reported m, v, branch and switches, with
    v(0) = sigma2 to the design's 1e-4; the constant-omega baseline is trajectory(alpha, omega_max)."""
    alpha, sigma2, W = 0.3, 0.8, 3.0
    out = cli_json(capsys, "schedule-design", "--alpha", str(alpha), "--sigma2", str(sigma2), "--omega", str(W),
                "--sampler", "ode", "--json")
    tr = trajectory(alpha, sigma2=sigma2, schedule=out["schedule"], sampler="ode")
    assert out["m_final"] == pytest.approx(tr.m_final, abs=1e-9) and out["v_final"] == pytest.approx(tr.v_final, abs=1e-9)
    assert out["classified"] is tr.classified is True and out["t_switch"] == pytest.approx(tr.t_switch, abs=1e-9)
    assert abs(out["v_final"] - sigma2) <= 1e-4
    base = trajectory(alpha, W, sigma2, sampler="ode")
    assert out["m_final_const"] == base.m_final and out["v_final_const"] == base.v_final
    assert (out["alpha"], out["sigma2"], out["omega_max"]) == (alpha, sigma2, W)


def test_schedules(capsys, monkeypatch):
    """The standard rows by value; the designed row's search is stubbed out here (it is the
    schedule-design command, held above) and must then be reported as missing, not invented."""
    from cfg_distortion.meanfield import design

    def no_window(*args, **kw):
        raise design.NoWindowError("stubbed in the test")

    monkeypatch.setattr(design, "design_schedule", no_window)
    alpha, sigma2, W = 0.25, 1.5, 2.0
    out = cli_json(capsys, "schedules", "--alpha", str(alpha), "--sigma2", str(sigma2), "--omega", str(W), "--sampler",
                "ode", "--json")
    assert (out["alpha"], out["sigma2"], out["omega"], out["sampler"]) == (alpha, sigma2, W, "ode")
    names = [r["name"] for r in out["schedules"]]
    assert len(set(names)) == len(names) >= 4 and names[-1] == "designed"
    designed = out["schedules"][-1]
    assert designed["schedule"] is None and designed["m_final"] is None and "stubbed" in designed["description"]
    for row in out["schedules"][:-1]:
        tr = trajectory(alpha, sigma2=sigma2, schedule=row["schedule"], sampler="ode")
        assert row["m_final"] == pytest.approx(tr.m_final, abs=1e-9), row["name"]
        assert row["v_final"] == pytest.approx(tr.v_final, abs=1e-9), row["name"]
        assert row["mean_shift"] == pytest.approx(tr.m_final - 1.0, abs=1e-9)
        assert row["variance_ratio"] == pytest.approx(tr.v_final / sigma2, rel=1e-9)
        assert row["classified"] == tr.classified
        _assert_divergences(row, tr.m_final, tr.v_final, sigma2)
        assert row["t_switch"] == (pytest.approx(tr.t_switch[0], abs=1e-9) if tr.t_switch else None)


def test_phase_diagram(capsys, tmp_path, monkeypatch):
    """Boundary: omegas in the input order, and alpha_c(omega) separates classified (just below)
    from unclassified (just above) per-point trajectories. CSV: one row per grid point (alpha outer,
    omega inner) equal to the per-point trajectory. (The figure is stubbed: tests/test_phase.py.)"""
    monkeypatch.setattr(cd.api.PhaseDiagram, "plot", lambda self, path=None: _blank_figure(path))
    alphas, omegas, sigma2 = np.linspace(0.1, 0.7, 3), np.array([3.0, 0.0]), 0.7
    out = cli_json(capsys, "phase-diagram", "--alpha", "0.1:0.7:3", "--omega=3:0:2", "--sigma2", str(sigma2),
                "--out", str(tmp_path), "--xtol", "1e-7", "--json")
    assert out["points"] == 6 and out["sigma2"] == sigma2
    assert [b["omega"] for b in out["boundary"]] == list(omegas)
    for b in out["boundary"]:
        eps = 1e-4
        assert trajectory(b["alpha_c"] - eps, b["omega"], sigma2).classified
        assert not trajectory(b["alpha_c"] + eps, b["omega"], sigma2).classified
    with open(out["files"]["csv"]) as fh:
        rows = list(csv.DictReader(fh))
    assert [(float(r["alpha"]), float(r["omega"])) for r in rows] == [(a, w) for a in alphas for w in omegas]
    for r in rows:
        tr = trajectory(float(r["alpha"]), float(r["omega"]), sigma2)
        assert float(r["m_final"]) == pytest.approx(tr.m_final, abs=1e-5)
        assert float(r["v_final"]) == pytest.approx(tr.v_final, abs=1e-5)
        assert (r["classified"] == "true") == tr.classified
        first = tr.t_switch[0] if tr.t_switch else None
        assert (r["t_switch"] == "") if first is None else float(r["t_switch"]) == pytest.approx(first, abs=1e-5)
        assert int(r["n_switches"]) == len(tr.t_switch)


def test_validate(capsys, monkeypatch, tmp_path):
    from cfg_distortion.finite_d import validation as VAL

    case = VAL.Case(0.3, 3.0, "ode", (8, 10), (2, 2))  # the fit in 1/d needs two dimensions
    settings = {"n": 60, "steps": 40, "paths": 200}
    monkeypatch.setattr(VAL, "QUICK", (case,))
    monkeypatch.setitem(VAL.SETTINGS, "quick", settings)
    monkeypatch.setattr(cd.api.Validation, "plot", lambda self, path=None: _blank_figure(path))  # not the contract
    out = cli_json(capsys, "validate", "--quick", "--steps", "40", "--out", str(tmp_path), "--json")
    row = out["rows"][0]
    assert [r["d"] for r in out["rows"]] == [8, 10] and set(out["extrapolated"]) >= {
        "m", "m_se", "v", "v_se", "model", "consistent_m", "consistent_v"}
    sims = [cd.simulate(8, alpha=0.3, omega=3.0, n=60, steps=40, seed=s, sampler="ode") for s in (0, 1)]
    fd = cd.finite_d(8, alpha=0.3, omega=3.0, sampler="ode", paths=200, steps=40)
    tr = trajectory(0.3, 3.0, 1.0, sampler="ode")
    assert (row["alpha"], row["omega"], row["sampler"], row["d"], row["K"], row["draws"]) == (
        0.3, 3.0, "ode", 8, sims[0].K, 2)
    assert row["m_sim"] == pytest.approx(np.mean([r.m_mean for r in sims]), rel=1e-14)
    assert row["v_sim"] == pytest.approx(np.mean([r.v_mean for r in sims]), rel=1e-14)
    assert row["m_sem"] >= math.sqrt(np.mean([r.m_sem**2 for r in sims]) / 2) * (1 - 1e-12)
    assert (row["m_finite_d"], row["v_finite_d"]) == (fd.m_mean, fd.v_mean)
    assert (row["m_dmf"], row["v_dmf"]) == (tr.m_final, tr.v_final)
    assert row["gap_m_finite_d"] == pytest.approx(fd.m_mean - row["m_sim"], abs=1e-14)
