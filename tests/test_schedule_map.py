"""schedule-map: the affine family on a grid and its variance-preserving curve.

Independent route: every curve point (found by the vectorised root finder on the vectorised grid
integrator) is fed back to the per-point reference ``trajectory --schedule affine:W0,SLOPE``
(solve_ivp with events), which must give v(0) = sigma2 within the reported tolerance plus the two
integrators' tolerances; the grid values agree with the per-point reference too. The theorem of
step 8 (omega >= 0 implies v(0) <= sigma2) says no curve point has w0 > 0 with slope >= 0.
"""
import json

import numpy as np
import pytest

from cfg_distortion import api
from cfg_distortion.cli.app import main
from cfg_distortion.meanfield.dmf import trajectory

# one worker computes the module's schedule map (8 s of CPU), not both
pytestmark = pytest.mark.xdist_group("schedule-map")

INTEGRATOR_TOL = 1e-7  # vectorised grid (rtol 1e-11 at the roots) against solve_ivp (rtol 1e-10), in v


@pytest.fixture(scope="module")
def small_map():
    return api.schedule_map(0.3, sigma2=1.0, process="ve", w0="-1:0.5:4", slope="0:1:5", compare=False)


def test_preserving_curve_points_give_v_equal_sigma2_through_trajectory(small_map):
    res = small_map
    assert len(res.curve.points) >= 2
    for p in res.curve.points:
        tr = trajectory(0.3, sigma2=1.0, schedule=p.schedule, process="ve")
        assert abs(tr.v_final - 1.0) <= p.v_tolerance + INTEGRATOR_TOL, (p, tr.v_final)
        assert tr.classified == p.classified
        assert p.w0 <= 0  # omega >= 0 everywhere cannot preserve the variance (step 8) unless omega = 0


def test_grid_agrees_with_the_per_point_reference(small_map):
    g = small_map.grid
    for i, j in [(0, 0), (1, 3), (3, 4)]:
        tr = trajectory(0.3, sigma2=1.0, schedule=f"affine:{float(g.w0s[i])!r},{float(g.slopes[j])!r}", process="ve")
        assert g.field("v_final")[i, j] == pytest.approx(tr.v_final, rel=1e-6)
        assert g.field("m_final")[i, j] == pytest.approx(tr.m_final, rel=1e-6, abs=1e-8)


def test_json_contract_and_best_point(small_map):
    out = small_map.to_json()
    keys = {"w0", "slope", "m_final", "v_final", "kl", "classified"}
    assert out["preserving_curve"] and all(keys <= set(p) for p in out["preserving_curve"])
    best = out["best"]
    classified = [p for p in out["preserving_curve"] if p["classified"]]
    assert best["kl"] == min(p["kl"] for p in classified)
    json.dumps(out, allow_nan=False)


def test_cli_writes_csv_and_figure(tmp_path, capsys):
    rc = main(["schedule-map", "--alpha", "0.3", "--w0=-1:-0.5:2", "--slope", "0:0.8:3", "--out", str(tmp_path),
               "--json", "--no-compare"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("csv", "png", "pdf"):
        assert (tmp_path / f"schedule_map.{key}").stat().st_size > 0 and out["files"][key]
    header = (tmp_path / "schedule_map.csv").read_text().splitlines()[0].split(",")
    assert {"w0", "slope", "kl", "w2", "classified"} <= set(header)
    assert out["references"] == {}


def test_bad_grid_is_one_line_exit_2(tmp_path, capsys):
    assert main(["schedule-map", "--alpha", "0.3", "--slope", "0:1", "--out", str(tmp_path)]) == 2
    assert "slope must be START:STOP:NUM" in capsys.readouterr().err
    assert not np.any([p.name.startswith("schedule_map") for p in tmp_path.iterdir()])


def test_ode_log_ratio_of_an_affine_schedule():
    """log(v(0)/sigma2) = -(w0 I0(t_s) + slope I1(t_s)) for the ODE (theory/affine.py), against solve_ivp."""
    import math

    import sympy as sp

    from cfg_distortion.theory import affine as A

    f = sp.lambdify((A.w0, A.slope, A.t_s, A.sigma2), A.ode_log_ratio())
    for w0, slope, sigma2 in [(-1.0, 0.5, 1.0), (-0.5, 0.3, 0.5)]:
        T = 1e5  # omega(T) stays inside the schedules' allowed range (<= 1e5)
        tr = trajectory(0.3, sigma2=sigma2, schedule=f"affine:{w0},{slope}", process="ve", sampler="ode", T=T)
        assert tr.branches == ["G", "C"]
        # the integrals run to infinity, the trajectory from T: their tail is slope int_T^oo t k_t dt < 2 slope/T
        assert math.log(tr.v_final / sigma2) == pytest.approx(f(w0, slope, tr.t_switch[0], sigma2),
                                                              abs=2 * slope / T + 1e-6)
