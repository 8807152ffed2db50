import json
import math
import os
import subprocess
import sys
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


@pytest.fixture(scope="session")
def repo():
    return REPO


# Regenerating everything from theory/ takes ~20 s of CPU: done once per session, in a fresh
# interpreter with another hash seed (the output must not depend on set order), started when the
# session starts so that it runs on the second core beside the other tests, and shared by the
# codegen-freshness test and the derivation-document tests.
_GENERATE = """
import contextlib, io, json, sys
from cfg_distortion.theory import codegen
from cfg_distortion.cli.app import main
module = codegen.generate_module()
err = io.StringIO()
with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
    status = main(["derive", "--check"])
json.dump({"module": module, "derive_check_status": status, "derive_check_stderr": err.getvalue()}, sys.stdout)
"""
_generation = {}


def _start_generation():
    if "process" not in _generation:
        env = {**os.environ, "PYTHONHASHSEED": "4242"}
        _generation["process"] = subprocess.Popen([sys.executable, "-c", _GENERATE], cwd=REPO, env=env,
                                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return _generation["process"]


def pytest_collection_finish(session):
    """Start the regeneration early, only when a test that needs it was collected."""
    if any("generated" in getattr(item, "fixturenames", ()) for item in session.items):
        _start_generation()


def pytest_sessionfinish(session, exitstatus):
    p = _generation.get("process")
    if p is not None and p.poll() is None:
        p.kill()
        p.communicate()


@pytest.fixture(scope="session")
def generated():
    """What ``python -m cfg_distortion.theory.codegen`` and ``cfg-distortion derive --check`` produce
    now, run once from the repository root: {"module": text, "derive_check_status", "derive_check_stderr"}."""
    out, err = _start_generation().communicate(timeout=900)
    assert _generation["process"].returncode == 0, err
    return json.loads(out)
