"""Issue 16's reproductions: every input the help allows gives a correct result or one line naming
the parameter and its range (exit 2; the API raises ValueError with the same line); numbers that
left float range are exit 3; output paths are refused before any work; files are never mixed.

Each test quotes the command of the issue it reproduces. Correct values come from closed forms
typed here from their definitions (docs/theory.md), not from the package.
"""
import math
import signal
import subprocess
import sys
import time

import pytest

from cfg_distortion.meanfield import dmf
from cfg_distortion.model import critical
from conftest import cli_main as main
from conftest import ctrl_c_enabled, refused


# ---------------------------------------------------------------- impossible numbers


def test_simulate_T_beyond_float_range_is_refused_like_finite_d(capsys):
    """`simulate --d 8 --K 20 --omega 3 --sigma2 1 --n 64 --steps 40 --T 1000` printed nan."""
    base = ["--d", "8", "--K", "20", "--omega", "3", "--sigma2", "1"]
    line = refused(capsys, "simulate", *base, "--n", "64", "--steps", "40", "--T", "1000", word="T must satisfy")
    assert "300" in line
    assert refused(capsys, "finite-d", *base, "--paths", "64", "--steps", "40", "--T", "1000", word="T") == \
        line.replace("simulate", "finite-d")
    # the largest allowed T is the T -> infinity limit: the same law as the default T = 10 (m within 4 sem)
    from cfg_distortion.finite_d.simulator import simulate

    far, near = (simulate(8, 20, omega=3.0, sigma2=1.0, n=400, steps=40, T=T, seed=1) for T in (300.0, 10.0))
    assert math.isfinite(far.m_mean) and far.v_mean > 0
    assert abs(far.m_mean - near.m_mean) < 4 * math.hypot(far.m_sem, near.m_sem)


def test_trajectory_T_1000_is_refused_not_a_scipy_error(capsys):
    """`trajectory ... --T 1000` failed with scipy's "initial state must be finite"."""
    refused(capsys, "trajectory", "--alpha", "0.2", "--omega", "3", "--sigma2", "1", "--T", "1000",
            word="T must satisfy 0 < T <= 300")


@pytest.mark.parametrize("args", [
    ["schedule-design", "--alpha", "1e-300", "--sigma2", "1e-300", "--omega", "0.1", "--json"],
    ["trajectory", "--alpha", "0", "--omega=-0.5", "--sigma2", "1e-300", "--process", "ve", "--json"],
    ["schedules", "--alpha", "2", "--sigma2", "1e-300", "--omega", "1e-6", "--process", "ve", "--sampler", "ode"],
    ["simulate", "--d", "8", "--K", "20", "--omega", "3", "--sigma2", "1e308", "--n", "64", "--steps", "40"],
    ["simulate", "--d", "8", "--K", "20", "--omega", "3", "--sigma2", "1e308", "--n", "64", "--steps", "40", "--json"],
])
def test_sigma2_outside_float_range_is_refused_with_its_range(capsys, args):
    """Negative variances, variance_ratio 1.2e287 and v = inf came from these; now one line each."""
    line = refused(capsys, *args, word="sigma2 must satisfy 1e-100 <= sigma2 <= 1e+100")
    assert "float range" in line  # the reason


def test_api_raises_the_cli_line():
    with pytest.raises(ValueError, match=r"^sigma2 must satisfy 1e-100 <= sigma2 <= 1e\+100"):
        dmf.trajectory(0.0, -0.5, 1e-300, process="ve")


@pytest.mark.parametrize("process", ["ve", "ou"])
def test_tiny_sigma2_is_resolved_tolerances_scale(process):
    """In branch C (alpha = 0) the DMF ends on the class law, v(0) = sigma2 exactly: with an absolute
    tolerance of 1e-12 on v this came out negative at small sigma2; scaled, the ratio is 1."""
    sigma2 = 1e-30
    tr = dmf.trajectory(0.0, -0.5, sigma2, process=process)
    assert tr.classified
    assert tr.v_final > 0 and tr.variance_ratio == pytest.approx(1.0, abs=1e-6)
    assert tr.m_final == pytest.approx(1.0, abs=1e-9)


def test_critical_at_a_denormal_sigma2_is_finite():
    """`critical --sigma2 1e-320 --t 0` said alpha_c is infinite "with sigma2 = 0"; it is
    log(1 + 1/sigma2)/2 ~ 368 (ou at t = 0: a = 1, Gamma = sigma2)."""
    s = 1e-320
    expected = 0.5 * (math.log1p(s) - math.log(s))  # log1p(1/s)/2 without forming 1/s
    res = critical.alpha_c(0.0, s)
    assert res.alpha_c == pytest.approx(expected, rel=1e-14) and 368 < res.alpha_c < 369


def test_critical_cli_denormal(capsys):
    code, out, err = main(capsys, "critical", "--sigma2", "1e-320", "--t", "0")
    assert code == 0 and "368.41" in out and "infinite" not in out


def test_xtol_beyond_its_range_is_refused(capsys, tmp_path):
    """`phase-diagram --xtol 1e308` reported alpha_c = 1e-6 at omega = 0 (it is 0.3466)."""
    refused(capsys, "phase-diagram", "--xtol", "1e308", "--out", str(tmp_path), word="xtol must satisfy")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [
    ["trajectory", "--alpha", "0.2", "--omega=-1000", "--sigma2", "1"],
    ["trajectory", "--alpha", "0.2", "--omega", "1e6", "--sampler", "ode", "--sigma2", "1"],
    ["schedules", "--alpha", "0.2", "--omega", "1e6", "--sampler", "ode", "--sigma2", "1"],
    ["schedule-design", "--alpha", "0.2", "--omega", "1e6", "--sampler", "ode", "--sigma2", "1"],
    ["trajectory", "--alpha", "0.2", "--schedule", "linear:-1e308,1e308", "--sigma2", "1"],
    ["trajectory", "--alpha", "0.2", "--schedule", "affine:0,1e9", "--sigma2", "1"],
])
def test_omega_beyond_its_range_is_refused(capsys, args):
    """omega = -1e3 printed v ~ 1e301; omega ~ 1e6 (ODE) and linear:-1e308,1e308 hung."""
    line = refused(capsys, *args, word="<= 100000")
    assert "omega" in line


def test_strongest_negative_guidance_allowed_is_a_number():
    """At the bound omega = -100 the K -> infinity (Gaussian CFG) variance is large but finite."""
    tr = dmf.trajectory(math.inf, -100.0, 1.0, sampler="ode")
    assert math.isfinite(tr.v_final) and 1e20 < tr.v_final < 1e40


@pytest.mark.parametrize("extra,word", [
    (["--steps", "1000000000000"], "GiB"),
    (["--steps", "100000000"], " h "),
])
def test_finite_d_sizes_that_cannot_fit_are_refused_with_the_estimate(capsys, extra, word):
    """`finite-d --steps 1000000000000` tried to allocate 7 TiB; `--steps 1e8` hung."""
    line = refused(capsys, "finite-d", "--d", "8", "--K", "20", "--omega", "3", "--sigma2", "1", *extra,
                   word=word)
    assert "steps x paths" in line


def test_simulate_time_estimate_refuses_a_year_long_run(capsys):
    refused(capsys, "simulate", "--d", "1000", "--K", "100000", "--omega", "3", "--sigma2", "1", "--n", "100000",
            "--steps", "100000", word="would run about")


# ---------------------------------------------------------------- output paths, before any work


def _no_work(monkeypatch):
    """Every solver the commands call raises if reached: a refusal must come before any work."""
    from cfg_distortion.meanfield import design, phase

    def boom(*a, **k):
        raise AssertionError("work started before the output path was checked")

    monkeypatch.setattr(phase, "phase_grid", boom)
    monkeypatch.setattr(dmf, "trajectory", boom)
    monkeypatch.setattr(design, "design_schedule", boom)


@pytest.mark.parametrize("make", [
    lambda d: "/proc/x",
    lambda d: str(d / "afile" / "sub"),
    lambda d: str(d / ("x" * 300)),
])
def test_phase_diagram_bad_out_is_refused_before_work(capsys, monkeypatch, tmp_path, make):
    (tmp_path / "afile").write_text("")
    _no_work(monkeypatch)
    refused(capsys, "phase-diagram", "--alpha", "0.1:0.2:2", "--omega", "0:1:2", "--out", make(tmp_path),
            word="out ")


@pytest.mark.parametrize("make", [
    lambda d: "/proc/x",
    lambda d: str(d / "afile" / "sub"),
    lambda d: str(d / ("x" * 300)),
])
@pytest.mark.parametrize("command", [["trajectory", "--omega", "3"], ["schedule-design", "--omega", "3"]])
def test_bad_plot_folder_is_refused_before_work(capsys, monkeypatch, tmp_path, make, command):
    (tmp_path / "afile").write_text("")
    _no_work(monkeypatch)
    refused(capsys, *command, "--alpha", "0.2", "--sigma2", "1", "--plot", "--out", make(tmp_path), word="out ")


def test_a_folder_where_the_trajectory_figure_goes_is_refused(capsys, monkeypatch, tmp_path):
    (tmp_path / "trajectory.pdf").mkdir()
    _no_work(monkeypatch)
    refused(capsys, "trajectory", "--alpha", "0.2", "--omega", "3", "--sigma2", "1", "--plot", "--out",
            str(tmp_path), word="is a folder")


def test_equations_out_is_checked_before_rendering(capsys, monkeypatch, tmp_path):
    (tmp_path / "adir" / "equations.tex").mkdir(parents=True)
    monkeypatch.setitem(sys.modules, "cfg_distortion.theory.equations", None)  # importing it would fail
    refused(capsys, "equations", "--out", str(tmp_path / "adir"), word="is a folder")


def test_derive_check_outside_the_repository_says_so_at_once(capsys, monkeypatch, tmp_path):
    """`derive --check` outside the repository worked 36 s before saying so."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "cfg_distortion.theory.documents", None)  # importing it would fail
    refused(capsys, "derive", "--check", word="run from the repository root")


def test_a_folder_where_a_figure_goes_keeps_the_old_csv(capsys, tmp_path):
    """If res/phase_diagram.png is a directory, `phase-diagram --out res` overwrote the old CSV, then
    crashed; now it is refused before any work and the CSV is untouched."""
    res = tmp_path / "res"
    res.mkdir()
    (res / "phase_diagram.csv").write_text("old\n")
    (res / "phase_diagram.png").mkdir()
    refused(capsys, "phase-diagram", "--alpha", "0.1:0.2:2", "--omega", "0:1:2", "--out", str(res),
            word="is a folder")
    assert (res / "phase_diagram.csv").read_text() == "old\n"


PHASE = ["-m", "cfg_distortion.cli", "phase-diagram", "--alpha", "0.05:0.6:6", "--omega", "0:4:5"]


def _members(folder):
    return {p.name: (p.stat().st_ino, p.read_bytes()) for p in folder.iterdir() if p.is_file()}


def test_interrupted_phase_diagram_leaves_the_old_set_or_the_new_one(tmp_path):
    """Ctrl-C halfway through a run, then SIGTERM at 90 % of it (while figures are drawn): each time
    all files old (same inodes and bytes) or all new, no temporary or journal left. The delays are
    fractions of an uninterrupted run timed here."""
    out = tmp_path / "res"
    t0 = time.perf_counter()
    first = subprocess.run([sys.executable, *PHASE, "--out", str(out)], capture_output=True, text=True, timeout=300)
    full = time.perf_counter() - t0
    assert first.returncode == 0, first.stderr
    for sig, frac, sigma2 in ((signal.SIGINT, 0.5, "0.5"), (signal.SIGTERM, 0.9, "2")):
        before = _members(out)
        p = subprocess.Popen([sys.executable, *PHASE, "--sigma2", sigma2, "--out", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_enabled)
        time.sleep(frac * full)
        p.send_signal(sig)
        _, err = p.communicate(timeout=300)
        after = _members(out)
        assert set(after) == set(before)  # no temporary, no journal left
        same = [after[n][0] == before[n][0] for n in before]
        assert all(same) or not any(same), f"a mix of old and new files: {dict(zip(before, same))}"
        if all(same):
            assert after == before and p.returncode == 130 and len(err.strip().splitlines()) == 1


def test_an_interrupt_that_python_wraps_is_still_an_interrupt(capsys, monkeypatch):
    """Python 3.11 turns a KeyboardInterrupt raised in ``__set_name__`` into a RuntimeError (Ctrl-C
    landing while matplotlib defines its classes on import; found by the test above on a smaller grid,
    where the half-way Ctrl-C lands there): the CLI still
    says "interrupted" on one line and exits 130, where it used to print a traceback and exit 1. An
    exception with no interrupt behind it still escapes with its traceback."""
    from cfg_distortion.cli import critical as command

    class Interrupting:
        def __set_name__(self, owner, name):
            raise KeyboardInterrupt

    def interrupted_while_importing(args):
        type("Formatter", (), {"attr": Interrupting()})  # what an import defining such a class does

    monkeypatch.setattr(command, "run", interrupted_while_importing)
    status, out, err = main(capsys, "critical", "--sigma2", "1", "--t", "0.5")
    assert status == 130 and out == ""
    assert len(err.strip().splitlines()) == 1 and "interrupted" in err and "Traceback" not in err

    def bug(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(command, "run", bug)
    with pytest.raises(RuntimeError, match="a bug"):
        main(capsys, "critical", "--sigma2", "1", "--t", "0.5")
