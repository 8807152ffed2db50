"""`cfg-distortion`: command-line entry point.

Each subcommand lives in a module ``cli/<name>.py`` with ``add_arguments(parser)`` and
``run(args) -> int``: it parses flags, calls one function of the public API
(:mod:`cfg_distortion.api`) and prints ``result.to_json()`` or a table; no computation lives
in a command module. Heavy imports happen inside ``run``, so ``--help`` pays for numpy at most,
never for sympy. Bad input (argparse or a ValueError from the API) prints one line on stderr
and exits with status 2; numerical trouble exits with status 3.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

COMMANDS = {
    "critical": "classification threshold alpha_c(t) or classification time t_c(alpha)",
    "verify": "check the derivations by independent routes (finite differences, Monte Carlo, limits)",
    "trajectory": "mean-field (d -> infinity) trajectory of guided sampling: m(t), v(t), branch switches",
    "phase-diagram": "switching time and distortion over (alpha, omega), boundary alpha_c(omega): CSV and figure",
    "simulate": "guided sampling with the exact K-class mixture score at finite d (m, v, classified fraction)",
    "finite-d": "finite-d effective theory of guided sampling: smooth branch switch, noisy m; m and v at t = 0",
    "validate": "simulation against the DMF and the finite-d theory at several d: table and figure",
    "schedule-design": "a negative-guidance window that restores the variance v(0) = sigma2 with the class kept",
    "schedules": "standard guidance schedules side by side: final mean shift, variance ratio, classified",
    "schedule-map": "affine schedules omega = w0 + slope t over a grid: variance-preserving curve, least divergence",
    "switch-scan": "discrete sampler (Euler-ancestral ...) switching to omega = -1 at step k: DMF and simulator",
    "compare-rules": "guidance rules (cfg, rescale, APG, CFG-Zero*, autoguidance) side by side: m, v, kl, alpha_c(omega)",
    "equations": "every derived result as numbered, labelled equations (LaTeX or Markdown)",
    "derive": "regenerate the derivation documents in derivations/ from theory/ (--check: compare only)",
}


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise UsageError(f"{self.prog}: error: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cfg-distortion", description=(
        "Theory of distortion in classifier-free guidance on Gaussian mixtures with "
        "K = exp(alpha d) classes: closed forms derived with sympy, solved with scipy."))
    from cfg_distortion import __version__

    parser.add_argument("--version", action="version", version=f"cfg-distortion {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"cfg_distortion.cli.{name.replace('-', '_')}")
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    from cfg_distortion.io import terminate_as_interrupt

    os.environ.setdefault("MPLBACKEND", "Agg")  # figures go to files: no display needed
    parser = build_parser()
    args = None
    try:
        with terminate_as_interrupt():  # SIGTERM unwinds like Ctrl-C: temporaries removed, old files kept
            args = parser.parse_args(argv)
            return int(args._module.run(args) or 0)
    except KeyboardInterrupt:
        return _interrupted(args)
    except Exception as exc:
        if _wraps_an_interrupt(exc):
            return _interrupted(args)
        status = _failed(exc, args)
        if status is None:  # not a kind the CLI reports: a bug, with its traceback
            raise
        return status


def _failed(exc: Exception, args) -> int | None:
    """One stderr line and the exit status for an exception of a kind the CLI reports; None otherwise."""
    command = getattr(args, "command", "")
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, (UsageError, ValueError)):  # bad input
        if not message.startswith("cfg-distortion"):
            message = f"cfg-distortion {command}: error: {message}".replace("  ", " ")
        print(message, file=sys.stderr)
        return 2
    if isinstance(exc, (ArithmeticError, MemoryError)):  # numerical trouble: reported, never printed as a number
        print(f"cfg-distortion {command}: numerical error: {message}".replace("  ", " "), file=sys.stderr)
        return 3
    if isinstance(exc, OSError):  # a file could not be written after the checks passed (disk full, ...)
        print(f"cfg-distortion {command}: error: {exc.strerror or exc}"
              f"{': ' + str(exc.filename) if getattr(exc, 'filename', None) else ''}; files already there are "
              "left as they were".replace("  ", " "), file=sys.stderr)
        return 1
    return None


def _interrupted(args) -> int:
    print(f"cfg-distortion {getattr(args, 'command', '')}: interrupted; files already there are left as "
          "they were".replace("  ", " "), file=sys.stderr)
    return 130


def _wraps_an_interrupt(exc: BaseException) -> bool:
    """Whether a Ctrl-C (or SIGTERM) is behind ``exc``: Python 3.11 turns a KeyboardInterrupt raised
    inside a class body's ``__set_name__`` into a RuntimeError (seen when Ctrl-C lands while
    matplotlib is imported), and other code may raise while unwinding from one."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


if __name__ == "__main__":
    sys.exit(main())
