import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests are derandomised (a fixed example sequence, the same on every run and in CI) and
# keep no example database; HYPOTHESIS_PROFILE=explore draws fresh examples for a local hunt.
settings.register_profile("derandomized", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", derandomize=False, database=None, deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "derandomized"))

REPO = Path(__file__).resolve().parent.parent

# forward processes typed from their definitions (docs/theory.md), independent of theory/
DEFINITIONS = {
    "ou": (lambda t: math.exp(-t), lambda t: math.sqrt(-math.expm1(-2 * t)), math.inf),
    "ve": (lambda t: 1.0, lambda t: t, math.inf),
    "flow": (lambda t: 1.0 - t, lambda t: t, 1.0),
}


def cli_main(capsys, *args):
    """In-process CLI run (an escaping exception fails the test): (code, stdout, stderr)."""
    from cfg_distortion.cli import app

    code = app.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, *args, word, code=2, stdout_empty=False):
    """The CLI, in process, refuses with exit ``code`` and one stderr line containing ``word``, no
    traceback, and prints no NaN or inf (with ``stdout_empty``: nothing at all) on stdout."""
    status, out, err = cli_main(capsys, *args)
    assert status == code, (args, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and word in lines[0] and "Traceback" not in err, (args, err)
    assert "nan" not in out.lower() and "inf" not in out.lower()
    assert out == "" or not stdout_empty, (args, out)
    return lines[0]


def ctrl_c_enabled():
    """In the child before it starts: SIGINT back to its default action, so that Python turns it into
    KeyboardInterrupt as in a terminal. A shell starts background jobs (`pytest ... &`) with SIGINT
    ignored, and Python keeps an inherited SIG_IGN: there Ctrl-C does nothing and no interrupt lands."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="session")
def repo():
    return REPO


# Regenerating everything from theory/ takes ~20 s of CPU: done once per test run, in a fresh
# interpreter with another hash seed (the output must not depend on set order), started when
# collection ends so that it runs beside the other tests, and shared by the codegen-freshness test
# and the derivation-document tests. Under pytest-xdist (the default, `-n 2` in pyproject) the
# workers share one run: the first worker to get there starts it (an exclusive lock file in a
# folder named after the run), and every worker reads its output file once it is complete.
_GENERATE = """
import contextlib, io, json, os, sys, traceback
out = sys.argv[1]
try:
    from cfg_distortion.theory import codegen
    from cfg_distortion.cli.app import main
    module = codegen.generate_module()
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(["derive", "--check"])
    result = {"module": module, "derive_check_status": status, "derive_check_stderr": err.getvalue()}
except BaseException:
    result = {"error": traceback.format_exc()}
with open(out + ".part", "w") as f:
    json.dump(result, f)
os.replace(out + ".part", out)
"""
_generation = {}


def pytest_configure(config):
    """Under xdist the controller names the run, so that it knows the workers' shared folder."""
    if getattr(config.option, "numprocesses", None) and getattr(config.option, "testrunuid", "") is None:
        config.option.testrunuid = uuid.uuid4().hex


def _generation_folder(config) -> Path:
    run = getattr(config, "workerinput", {}).get("testrunuid") or getattr(config.option, "testrunuid", None) \
        or f"solo-{os.getpid()}"
    folder = Path(tempfile.gettempdir()) / f"cfg-distortion-generated-{run}"
    folder.mkdir(exist_ok=True)
    return folder


def _start_generation(config):
    """Start the regeneration unless another worker of this run already has; return the output path."""
    if "out" not in _generation:
        folder = _generation_folder(config)
        _generation["out"] = folder / "generated.json"
        try:
            os.close(os.open(folder / "started", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return _generation["out"]
        env = {**os.environ, "PYTHONHASHSEED": "4242"}
        _generation["stderr"] = open(folder / "stderr.txt", "w")
        _generation["process"] = subprocess.Popen([sys.executable, "-c", _GENERATE, str(_generation["out"])],
                                                  cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                                  stderr=_generation["stderr"])
    return _generation["out"]


def pytest_collection_finish(session):
    """Start the regeneration early, only when a test that needs it was collected."""
    if any("generated" in getattr(item, "fixturenames", ()) for item in session.items):
        _start_generation(session.config)


def pytest_sessionfinish(session, exitstatus):
    """The worker that started the regeneration lets it finish (another worker may be waiting for
    it), unless the run was interrupted; the run's folder goes when the controller finishes."""
    p = _generation.get("process")
    if p is not None and p.poll() is None:
        if exitstatus == pytest.ExitCode.INTERRUPTED:
            p.kill()
        try:
            p.wait(timeout=900)
        except subprocess.TimeoutExpired:
            p.kill()
    if not hasattr(session.config, "workerinput"):
        shutil.rmtree(_generation_folder(session.config), ignore_errors=True)


@pytest.fixture(scope="session")
def generated(pytestconfig):
    """What ``python -m cfg_distortion.theory.codegen`` and ``cfg-distortion derive --check`` produce
    now, run once per test run from the repository root:
    {"module": text, "derive_check_status", "derive_check_stderr"}."""
    out = _start_generation(pytestconfig)
    folder = out.parent
    deadline = time.monotonic() + 900
    while not out.exists():
        p = _generation.get("process")
        if p is not None and p.poll() is not None and not out.exists():
            pytest.fail("regeneration died: " + (folder / "stderr.txt").read_text()[-3000:])
        if time.monotonic() > deadline:
            pytest.fail("regeneration did not finish in 900 s")
        time.sleep(0.2)
    result = json.loads(out.read_text())
    assert "error" not in result, result.get("error")
    return result
