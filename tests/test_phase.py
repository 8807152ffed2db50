"""Phase diagram: the vectorised grid against per-point solve_ivp trajectories, the boundary
alpha_c(omega) against the classified flags on both sides and its omega = 0 limit, the CLI's
files and columns, and its bad-input behaviour."""
import csv
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from cfg_distortion.cli import app as cli
from cfg_distortion.meanfield import dmf
from cfg_distortion.meanfield import phase
from cfg_distortion.model.rates import ConvergenceError

M_TOL, V_TOL, TS_TOL = 1e-3, 1e-3, 5e-3  # issue 5's agreement targets (observed: ~1e-7)


def run(*args):
    return subprocess.run([sys.executable, "-m", "cfg_distortion.cli", *args],
                          capture_output=True, text=True, timeout=120)


def _assert_matches(res, i, tr):
    ts = tr.t_switch[0] if tr.t_switch else math.nan
    label = f"alpha={res.alpha[i]}, omega={res.omega[i]}"
    assert abs(res.m_final[i] - tr.m_final) <= M_TOL, label
    assert abs(res.v_final[i] - tr.v_final) <= V_TOL, label
    if math.isnan(ts):
        assert math.isnan(res.t_switch[i]), label
    else:
        assert abs(res.t_switch[i] - ts) <= TS_TOL, label
    assert bool(res.classified[i]) == tr.classified, label
    assert int(res.n_switches[i]) == len(tr.t_switch), label
    assert bool(res.g_frozen[i]) == tr.g_frozen, label


@pytest.mark.parametrize("sampler,process,sigma2", [("sde", "ou", 1.0), ("ode", "ou", 0.5), ("sde", "ve", 2.0),
                                                    ("ode", "flow", 1.0)])
def test_vectorised_grid_matches_per_point(sampler, process, sigma2):
    alphas = np.array([0.02, 0.2, 0.34, 0.55, 0.9, np.inf])
    omegas = np.array([-0.5, 0.0, 0.7, 3.0, 8.0])
    grid = phase.phase_grid(alphas, omegas, sigma2, sampler=sampler, process=process)
    res = grid.points
    assert not res.failed and not (res.fallback & ~res.captured).any()  # vectorised, but captured points (handed on)
    for i in range(res.alpha.size):
        _assert_matches(res, i, dmf.trajectory(res.alpha[i], float(res.omega[i]), sigma2, sampler=sampler,
                                               process=process))
    # the layout: alpha outer, omega inner
    assert grid.field("alpha")[:, 0].tolist() == alphas.tolist()
    assert grid.field("omega")[0].tolist() == omegas.tolist()


def test_boundary_starts_and_sliding_are_handed_to_the_per_point_integrator():
    """alpha = 0 starts on h = 0. Where both flows leave it into C (omega >= 0; for the ODE F_C is
    tangent, sliding with lambda = 0, i.e. F_C) the vectorised scheme continues in C; where they part
    (omega < 0) the point goes to dmf.trajectory, flagged. Both agree with the per-point integrator."""
    res = phase.integrate_points([0.0, 0.0, 0.3], [-0.5, 2.0, 2.0], 1.0, sampler="ode")
    assert res.fallback.tolist() == [True, False, False]
    for i in range(3):
        _assert_matches(res, i, dmf.trajectory(res.alpha[i], float(res.omega[i]), 1.0, sampler="ode"))


@pytest.mark.parametrize("sigma2", [0.5, 1.0])
def test_boundary_root_is_consistent_with_classified_flags(sigma2):
    omegas = [0.0, 1.0, 4.0]
    bnd = phase.boundary(omegas, sigma2, xtol=1e-6)
    for b in bnd:
        assert b.alpha_c is not None and b.tolerance <= 1e-6
        below = dmf.trajectory(b.alpha_c - 1e-4, b.omega, sigma2)
        above = dmf.trajectory(b.alpha_c + 1e-4, b.omega, sigma2)
        assert below.classified and not above.classified, b
    assert bnd[0].alpha_c == pytest.approx(0.5 * math.log1p(1 / sigma2), abs=2e-6)  # known limit, omega -> 0
    assert bnd[0].alpha_c < bnd[1].alpha_c < bnd[2].alpha_c  # guidance raises m, classifies larger alpha


def test_boundary_equals_per_point_brentq():
    vec, = phase.boundary([2.0], 1.0)
    ref = phase.boundary_point(2.0, 1.0)
    assert abs(vec.alpha_c - ref.alpha_c) <= 2e-6


def test_cli_files_columns_and_values(tmp_path):
    out = tmp_path / "pd"
    r = run("phase-diagram", "--alpha", "0.05:0.9:5", "--omega", "0:4:3", "--sigma2", "1", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    files = summary["files"]
    assert set(files) == {"csv", "boundary", "png", "pdf"}
    for key in ("csv", "png", "pdf"):
        assert (out / f"phase_diagram.{key}").stat().st_size > 1000
    with open(files["boundary"]) as fh:  # the boundary as CSV, the same numbers as the JSON
        written = list(csv.DictReader(fh))
    assert [float(r["alpha_c"]) for r in written] == pytest.approx([b["alpha_c"] for b in summary["boundary"]],
                                                                   rel=1e-11)
    assert [set(b) >= {"omega", "alpha_c", "tolerance"} for b in summary["boundary"]] == [True] * 3
    assert summary["boundary"][0]["alpha_c"] == pytest.approx(0.5 * math.log(2), abs=2e-6)
    with open(files["csv"]) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 15
    assert {"alpha", "omega", "t_switch", "m_final", "v_final", "classified", "mean_shift", "variance_ratio",
            "g_frozen"} <= set(rows[0])
    assert "nan" not in open(files["csv"]).read().lower()
    for row in rows[::4]:
        tr = dmf.trajectory(float(row["alpha"]), float(row["omega"]), 1.0)
        assert abs(float(row["m_final"]) - tr.m_final) <= M_TOL
        assert abs(float(row["v_final"]) - tr.v_final) <= V_TOL
        assert row["classified"] == str(tr.classified).lower()
        assert (row["t_switch"] == "") == (not tr.t_switch)
        if tr.t_switch:
            assert abs(float(row["t_switch"]) - tr.t_switch[0]) <= TS_TOL
    # boundary against the grid's own flags: classified exactly left of alpha_c(omega)
    for row in rows:
        b = next(b for b in summary["boundary"] if b["omega"] == pytest.approx(float(row["omega"])))
        assert (row["classified"] == "true") == (float(row["alpha"]) < b["alpha_c"])


@pytest.mark.parametrize("args,word", [
    (["--alpha", "0:1:0"], "NUM"),
    (["--alpha", "0:1:2.5"], "NUM"),
    (["--alpha", "a:1:3"], "alpha"),
    (["--alpha", "-0.1:1:3"], "alpha"),
    (["--alpha", "0:1"], "START:STOP:NUM"),
    (["--omega", "0:nan:3"], "omega"),
    (["--sigma2", "0"], "sigma2"),
    (["--sigma2", "abc"], "sigma2"),
    (["--sampler", "euler"], "sampler"),
])
def test_bad_input_is_one_line_exit_2(args, word, tmp_path, capsys):
    code = cli.main(["phase-diagram", *args, "--out", str(tmp_path)])  # in-process: an escaping exception fails
    out, err = capsys.readouterr()
    assert code == 2, (args, err)
    assert out == "" and len(err.strip().splitlines()) == 1 and word in err
    assert not (tmp_path / "phase_diagram.csv").exists()


def test_unwritable_out_is_one_line_exit_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = run("phase-diagram", "--alpha", "0.1:0.2:2", "--omega", "0:1:2", "--out", str(blocker / "sub"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "out " in r.stderr and "not a folder" in r.stderr


def test_failed_point_is_reported_by_name_not_nan(tmp_path, monkeypatch, capsys):
    """A point the per-point integrator cannot do (here: forced) is named on stderr and in the CSV."""
    real = dmf.trajectory

    def failing(alpha, *a, **k):
        if alpha == 0.0:
            raise ConvergenceError("forced failure for the test")
        return real(alpha, *a, **k)

    monkeypatch.setattr(dmf, "trajectory", failing)
    # alpha = 0 with omega < 0 starts on the boundary with the flows parting: integrated per point
    code = cli.main(["phase-diagram", "--alpha", "0:0.3:2", "--omega=-1:-0.5:2", "--out", str(tmp_path), "--json"])
    err = capsys.readouterr().err
    assert code == 3
    assert "alpha=0, omega=-1" in err and "alpha=0, omega=-0.5" in err
    text = (tmp_path / "phase_diagram.csv").read_text()
    assert "nan" not in text.lower() and text.count("failed: ") == 2
