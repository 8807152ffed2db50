"""Seeded, time-bounded fuzz of every subcommand (issue 16).

Invocations are drawn from each subcommand's own argparse definition (so commands added later
are fuzzed too): every flag gets an edge value of its type (0, -1, 1e-300, 1e-320, 1e308, nan,
inf, junk, over-long or unwritable paths, broken schedule and range specs) or a small sane one,
plus unknown flags. Every run is in-process (an escaping exception is a traceback) and must:

- exit 0 (1 for schedule-design's "no window" and verify/derive --check reports), 2 with exactly
  one line on stderr naming what was wrong, or 3 with one line (numerical failure);
- never print NaN, inf or Infinity as a number, nor a negative variance in its JSON.

A run still working after its time slice is stopped and counted as slow (it was accepted and
computing); the default suite runs a few seconds of cases, `-m slow` a wide sweep.
"""
import json
import math
import random
import re
import signal
import time

import pytest

from cfg_distortion.cli import app

# commands whose accepted runs take minutes (sympy derivations, every check, simulations at
# several d): fuzzed with bad flags and unusable paths only, which must be refused at once
HEAVY = {"validate", "verify", "equations", "derive"}
SLICE_SECONDS = 4.0
NUMBER = re.compile(r"(?<!-> )(?<![\w.])-?(nan|inf|infinity)(?![\w])", re.IGNORECASE)  # "K -> infinity" is words

FLOATS = ["0", "1", "3", "-0.5", "0.3", "1e-300", "1e-320", "1e308", "-1e308", "nan", "inf", "-inf", "abc", "",
          "1e6", "-1000"]
SMALL_INTS = ["1", "2", "3", "8", "16"]
BAD_INTS = ["0", "-1", "1000000000000", "10**3", "1e8", "x", "", "99999999999999999999"]
SPECS = ["const:3", "const:nan", "linear:-1e308,1e308", "linear:0,3", "piecewise:inf:3,1:-1,0.5:0",
         "piecewise:1:3,2:1", "affine:0,1e9", "affine:3,-0.1", "interval:3,2,1", "interval:3,0.5,2", "bogus",
         "const:", "interval-sigma:3,0.28,5.42", "piecewise:inf:1e6,1:0"]
RANGES = ["0.1:0.5:3", "0:1:2", "0.2:0.2:1", "1:0:0", "a:b:c", "0:1e308:2", "-1:1:3", "0:6:1000000000",
          "0.1:0.6:2:4", "nan:1:2", "0:3:2"]


def _paths(tmp):
    (tmp / "afile").write_text("")
    (tmp / "adir").mkdir(exist_ok=True)
    return [str(tmp / "out"), "/proc/x", str(tmp / "afile" / "sub"), str(tmp / ("x" * 300)), str(tmp / "adir"),
            str(tmp / "missing" / "deeper" / "f")]


def _value(rng, action, paths):
    name = action.dest
    if action.choices:
        return rng.choice(list(action.choices) + ["bogus"])
    if name in ("out", "plot", "dir"):
        return rng.choice(paths)
    if name == "schedule":
        return rng.choice(SPECS)
    if name in ("alpha", "omega") and action.type is None:  # phase-diagram's START:STOP:NUM ranges
        return rng.choice(RANGES)
    if action.type is int:
        return rng.choice(SMALL_INTS * 3 + BAD_INTS)
    if action.type is float:
        return rng.choice(FLOATS)
    return rng.choice(["x", "", "0", "-1"])


def _invocation(rng, command, parser, paths):
    argv = [command]
    heavy = command in HEAVY
    for action in parser._actions:
        if not action.option_strings or action.dest == "help":
            continue
        flag = action.option_strings[-1]
        if action.nargs == 0:  # store_true
            if rng.random() < (0.2 if heavy else 0.5):
                argv.append(flag)
            continue
        if heavy and action.dest not in ("out", "dir"):
            continue
        if action.required or rng.random() < 0.35:
            value = _value(rng, action, paths)
            argv.append(f"{flag}={value}")
    if heavy:  # an accepted run would take minutes: make sure it is refused
        argv.append(rng.choice(["--no-such-flag", "--out=/proc/x", "--dir=/proc/x", "--json=1"]))
    elif rng.random() < 0.1:
        argv.append(rng.choice(["--no-such-flag", "stray", "--json=1"]))
    return argv


class _Slow(BaseException):
    pass


def _alarm(signum, frame):
    raise _Slow()


def _walk(obj, key=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk(v, k)
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk(v, key)
    else:
        yield key, obj


def _check(argv, code, out, err):
    where = " ".join(argv)
    assert code in (0, 1, 2, 3), (where, code, err)
    assert "Traceback" not in err, (where, err)
    if code in (2, 3):
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1, (where, err)
        assert lines[0].startswith("cfg-distortion"), (where, err)
    assert not NUMBER.search(out), (where, out[:500])
    if "--json" in argv and code == 0 and out.strip().startswith("{"):
        for key, value in _walk(json.loads(out)):
            if isinstance(value, float):
                assert math.isfinite(value), (where, key, value)
                if key.startswith("v_") or key in ("v", "v_mean", "variance_ratio"):
                    assert value >= 0, (where, key, value)


def _fuzz(tmp_path, capsys, monkeypatch, seed, budget_seconds, max_cases):
    monkeypatch.chdir(tmp_path)
    parser = app.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    commands = sorted(sub.choices)
    assert set(commands) == set(app.COMMANDS)
    rng = random.Random(seed)
    paths = _paths(tmp_path)
    old = signal.signal(signal.SIGALRM, _alarm)
    start, cases, seen, slow = time.perf_counter(), 0, set(), 0
    try:
        while cases < max_cases and time.perf_counter() - start < budget_seconds:
            command = commands[cases % len(commands)] if cases < len(commands) else rng.choice(commands)
            argv = _invocation(rng, command, sub.choices[command], paths)
            signal.setitimer(signal.ITIMER_REAL, SLICE_SECONDS)
            try:
                code = app.main(argv)
            except _Slow:
                slow += 1
                capsys.readouterr()
                continue
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            out, err = capsys.readouterr()
            _check(argv, code, out, err)
            seen.add(command)
            cases += 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return cases, seen, slow


def test_fuzz_every_subcommand_quick(tmp_path, capsys, monkeypatch):
    cases, seen, _ = _fuzz(tmp_path, capsys, monkeypatch, seed=16, budget_seconds=6.0, max_cases=40)
    assert seen == set(app.COMMANDS)  # each subcommand at least once (the first pass is one of each)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4))
def test_fuzz_wide(tmp_path, capsys, monkeypatch, seed):
    _fuzz(tmp_path, capsys, monkeypatch, seed=1000 + seed, budget_seconds=150.0, max_cases=400)
