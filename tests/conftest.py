import json
import math
import os
import signal
from pathlib import Path

import pytest
from hypothesis import settings

# sympy keeps 1000 expressions in its cache by default; the symbolic tests of one run reuse many more
# (about 10 % of their time). Read when sympy is first imported, which is after this file (pytest and
# hypothesis do not import it).
os.environ.setdefault("SYMPY_CACHE_SIZE", "100000")

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


def cli_json(capsys, *args, code=0):
    """In-process CLI run that must exit ``code``: its stdout, parsed as the one JSON object it is."""
    status, out, err = cli_main(capsys, *args)
    assert status == code, (args, out, err)
    return json.loads(out)


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


# Regenerating everything from theory/ (the generated module and the derivation documents) is
# done once per test run, in the process of the symbolic tests: under pytest-xdist (the default,
# `-n auto --dist loadgroup` in pyproject) every test that asks for it is in the xdist group "sympy",
# so one worker computes it, with the sympy derivations those tests build anyway already cached
# there (a separate interpreter repeated them: about 30 s of CPU). The worker's hash seed is random,
# as in the `python -m cfg_distortion.theory.codegen` run that wrote the committed module, so an
# output that depended on set order would show as a mismatch on some runs.
@pytest.fixture(scope="session")
def generated():
    """What ``python -m cfg_distortion.theory.codegen`` and ``cfg-distortion derive --check`` produce
    now, from the repository root: {"module": text, "derive_check_status", "derive_check_stderr"}."""
    import contextlib
    import io

    from cfg_distortion.cli.app import main
    from cfg_distortion.theory import codegen

    module = codegen.generate_module()
    err = io.StringIO()
    here = os.getcwd()
    os.chdir(REPO)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            status = main(["derive", "--check"])
    finally:
        os.chdir(here)
    return {"module": module, "derive_check_status": status, "derive_check_stderr": err.getvalue()}
