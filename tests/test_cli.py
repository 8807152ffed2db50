"""The CLI's JSON contract and its bad-input behaviour (one line on stderr, exit 2).

Most runs are in process (``conftest.cli_main``: the same ``app.main`` that the entry point calls);
the subprocess runs here hold the entry point itself: its exit codes, a one-line stderr and no
traceback for both kinds of bad input (argparse's and the API's ValueError), and ``verify``."""
import json
import math
import subprocess
import sys

import pytest
from conftest import DEFINITIONS, cli_json, cli_main, refused


def run(*args):
    return subprocess.run([sys.executable, "-m", "cfg_distortion.cli", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", ["ou", "ve", "flow"])
@pytest.mark.parametrize("sigma2", [0.25, 1.0, 2.0])
def test_critical_t_json(name, sigma2, capsys):
    t = 0.4
    out = cli_json(capsys, "critical", "--sigma2", str(sigma2), "--t", str(t), "--process", name, "--json")
    assert {"alpha_c", "t", "sigma2", "process", "expression"} <= out.keys()
    a_def, b_def, _ = DEFINITIONS[name]
    cap = 0.5 * math.log1p(a_def(t) ** 2 / (a_def(t) ** 2 * sigma2 + b_def(t) ** 2))
    assert abs(out["alpha_c"] - cap) < 1e-8
    assert out["process"] == name and out["t"] == t and out["sigma2"] == sigma2
    assert "\\log" in out["expression"]


def test_critical_alpha_json_and_null(capsys):
    out = cli_json(capsys, "critical", "--sigma2", "1", "--alpha", "0.2", "--json")
    assert out["t_c"] == pytest.approx(0.5 * math.log(1 / math.expm1(0.4)), abs=1e-12)  # sigma2 = 1: 1/S
    never = cli_json(capsys, "critical", "--sigma2", "1", "--alpha", "0.5", "--json")
    assert never["t_c"] is None and never["never_classified"] is True


def test_infinite_threshold_is_said_not_printed(capsys):
    out = cli_json(capsys, "critical", "--sigma2", "0", "--t", "0", "--json")
    assert out["alpha_c"] is None and out["alpha_c_infinite"] is True and "infinite" in out["message"]
    code, human, _ = cli_main(capsys, "critical", "--sigma2", "0", "--t", "0")
    assert code == 0
    assert "infinite" in human and "inf " not in human


@pytest.mark.parametrize("args,word", [
    (["--sigma2", "-1", "--t", "1"], "sigma2"),
    (["--sigma2", "nan", "--t", "1"], "sigma2"),
    (["--sigma2", "1", "--t", "inf"], "t"),
    (["--sigma2", "1", "--t", "-0.5"], "t"),
    (["--sigma2", "1", "--t", "1.0", "--process", "flow"], "t"),
    (["--sigma2", "1", "--alpha", "-1"], "alpha"),
    (["--sigma2", "1", "--alpha", "nan"], "alpha"),
    (["--sigma2", "1"], "--alpha"),
    (["--sigma2", "1", "--t", "1", "--alpha", "0.1"], "--t"),
    (["--sigma2", "1", "--t", "1", "--process", "vp"], "process"),
    (["--sigma2", "abc", "--t", "1"], "sigma2"),
])
def test_bad_input_is_one_line_exit_2(args, word, capsys):
    refused(capsys, "critical", *args, word=word, stdout_empty=True)


@pytest.mark.parametrize("args,word", [(["--sigma2", "abc", "--t", "1"], "sigma2"),  # refused by argparse
                                       (["--sigma2", "1", "--t", "inf"], "t")])  # by the API's ValueError
def test_entry_point_bad_input_is_one_line_exit_2(args, word):
    r = run("critical", *args)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0] and "Traceback" not in r.stderr


def test_api_raises_the_same_message():
    from cfg_distortion.model.critical import alpha_c
    with pytest.raises(ValueError, match=r"sigma2 must be >= 0"):
        alpha_c(1.0, -1.0)
    r = run("critical", "--sigma2", "-1", "--t", "1")
    assert "sigma2 must be >= 0" in r.stderr


def test_verify_json_passes():
    r = run("verify", "--json")
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["passed"] is True, [c for c in out["checks"] if not c["passed"]]
    names = {c["name"] for c in out["checks"]}
    assert {"score_conditional_fd", "score_unconditional_fd", "score_guided_fd", "annealed_rate_monte_carlo",
            "quenched_rate_annealed_branch", "quenched_rate_frozen_branch", "collapse_time_sigma2_0",
            "alpha_c_late_is_channel_capacity_ou", "margin_rates_finite_difference"} <= names
    for c in out["checks"]:
        assert {"name", "passed", "value", "reference", "tolerance", "route", "backing"} <= c.keys()
    assert out["counts"] == {"independent": sum(c["backing"] for c in out["checks"]),
                             "consistency": sum(c["route"] == "consistency" for c in out["checks"])}
