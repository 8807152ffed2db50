"""Validation to d -> infinity: the extrapolation in 1/d, the result's contract, Dask batches.

Independent routes: the fit's standard error against the scatter of the intercept over
synthetic data sets with known truth (coverage), the chosen model against data made with
a known 1/d^2 term, the in-process batch against a 2-worker Dask LocalCluster (same seeds,
same numbers), and in the slow test the exact-score simulator against the event-driven DMF.
"""
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from cfg_distortion.finite_d import validation as VAL
from conftest import refused


def test_extrapolation_standard_error_has_its_coverage():
    """y = a + b/d + N(0, se^2): the intercept lies within 1 (2) reported se in ~68 % (95 %) of 1000 data sets."""
    rng = np.random.default_rng(1)
    d = np.array([40.0, 80.0, 160.0, 320.0])
    se = np.array([0.004, 0.003, 0.003, 0.002])
    hits1 = hits2 = 0
    reps = 1000
    for _ in range(reps):
        y = 0.9 + 2.0 / d + se * rng.standard_normal(4)
        fit = VAL.extrapolate(d, y, se)
        z = abs(fit["value"] - 0.9) / fit["se"]
        hits1 += z <= 1
        hits2 += z <= 2
    # the Birge scaling sqrt(chi2/dof) when chi2 > dof only widens the bars: coverage >= nominal - noise
    assert hits1 / reps > 0.68 - 0.045 and hits2 / reps > 0.95 - 0.02  # 3 binomial sd


def test_extrapolation_adds_one_over_d_squared_where_the_data_ask():
    d = np.array([20.0, 30.0, 40.0, 60.0, 80.0])
    se = np.full(5, 1e-3)
    curved = 1.0 + 3.0 / d - 40.0 / d**2
    fit = VAL.extrapolate(d, curved, se)
    assert fit["model"] == "a + b/d + c/d^2" and abs(fit["value"] - 1.0) < 1e-9
    assert np.allclose(fit["coef"], [1.0, 3.0, -40.0])
    straight = VAL.extrapolate(d, 1.0 + 3.0 / d, se)
    assert straight["model"] == "a + b/d" and abs(straight["value"] - 1.0) < 1e-12
    two = VAL.extrapolate([40, 80], [1.1, 1.05], [0.01, 0.01])  # exact line: a = 1, se by propagation
    assert math.isclose(two["value"], 1.0) and math.isclose(two["se"], math.sqrt(0.01**2 * 4 + 0.01**2), rel_tol=1e-9)


def test_extrapolation_refuses_a_single_dimension():
    with pytest.raises(ValueError, match="at least two"):
        VAL.extrapolate([40, 40], [1.0, 1.0], [0.1, 0.1])
    with pytest.raises(ValueError, match="at least two"):
        VAL.validate(0.3, 3.0, d=[20])


def test_small_validation_contract_and_meaning():
    """A tiny run: the JSON keys of the contract, the DMF from the trajectory, the verdict from the numbers."""
    from cfg_distortion.meanfield.dmf import trajectory

    res = VAL.validate(0.3, 3.0, d=(8, 12), draws=2, n=40, steps=40, paths=400)
    js = json.loads(res.to_json_string())
    assert set(js["extrapolated"]) >= {"m", "m_se", "v", "v_se", "model", "consistent_m", "consistent_v"}
    tr = trajectory(0.3, 3.0, 1.0)
    assert js["dmf"] == {"m": tr.m_final, "v": tr.v_final}
    assert [r["d"] for r in js["rows"]] == [8, 12] and [r["K"] for r in js["rows"]] == [11, 37]
    e = js["extrapolated"]
    assert e["consistent_m"] == (abs(e["m"] - tr.m_final) <= 3 * e["m_se"])
    for r in js["rows"]:  # the pooled mean is the mean of the draws, its se at least the sampling floor
        assert math.isclose(r["m_sim"], float(np.mean(r["m_draws"])), rel_tol=1e-12)
        assert r["m_sem"] >= np.std(r["m_draws"], ddof=1) / math.sqrt(2) - 1e-15


def test_scheduler_without_dask_is_one_clear_line(monkeypatch):
    from cfg_distortion.finite_d import batch

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ValueError, match=r"cfg-distortion\[distributed\]"):
        batch.check_scheduler("local")
    assert batch.check_scheduler(None) is None


def test_dask_local_cluster_gives_the_in_process_numbers():
    """Same seeds, same numbers: a batch of simulations in-process and on a 2-worker LocalCluster."""
    pytest.importorskip("distributed", reason='needs the optional extra: pip install "cfg-distortion[distributed]"')
    from cfg_distortion.finite_d.batch import simulate_batch

    runs = [dict(d=10, alpha=0.3, omega=3.0, n=30, steps=30, seed=s, sampler=sm) for s in (0, 1) for sm in ("sde", "ode")]
    here = simulate_batch(runs)
    there = simulate_batch(runs, scheduler="local", workers=2)
    assert [r.to_json() for r in here] == [r.to_json() for r in there]
    assert len({r.m_mean for r in here}) == 4  # different seeds and samplers really differ


def _cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "cfg_distortion.cli", *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize("args,word", [
    (["--alpha", "0.3", "--omega", "3", "--d", "20"], "at least two"),
    (["--alpha", "0.3", "--omega", "3", "--d", "20,x"], "d must"),
    (["--alpha", "0.3", "--omega", "3", "--draws", "1"], "draws"),
    (["--omega", "3"], "--alpha is required"),
    (["--alpha", "0.5", "--omega", "3", "--d", "40,80"], "memory"),
])
def test_cli_bad_input_is_one_line_exit_2(args, word, tmp_path, capsys):
    """In process (the entry point's own exit 2 is held by test_cli's subprocess runs)."""
    refused(capsys, "validate", *args, "--out", str(tmp_path), word=word, stdout_empty=True)


@pytest.mark.slow
def test_sde_extrapolation_is_consistent_with_the_dmf(tmp_path):
    """The README example: alpha = 0.05, omega = 3, sigma2 = 1, SDE, d = 40, 80, 160 (K = 7, 55, 2981)."""
    out = _cli("validate", "--alpha", "0.05", "--omega", "3", "--sigma2", "1", "--out", str(tmp_path), "--json",
               timeout=3600)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    e = res["extrapolated"]
    assert e["consistent_m"] and e["consistent_v"], e
    assert e["m_se"] < 0.02 and e["v_se"] < 0.03  # tight enough to mean something
    assert (tmp_path / "validate.csv").exists() and (tmp_path / "validate.png").exists()
