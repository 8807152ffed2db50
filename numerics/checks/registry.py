"""Registry of the project's checks of its own derivations by independent routes.

A check is a function returning :class:`Check`; ``cfg-distortion verify`` runs them all.
Modules that define checks are listed in ``CHECK_MODULES`` and imported on demand, so
later capabilities add their checks by adding a module name here.
"""
from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from typing import Callable

CHECK_MODULES = ["cfg_distortion.checks.core", "cfg_distortion.checks.simulator",
                 "cfg_distortion.checks.dmf"]

CHECK_MODULES += ["cfg_distortion.checks.schedules"]  # claims 5-6: schedules and the designed window
CHECK_MODULES += ["cfg_distortion.checks.finite_d"]  # finite-d theory: class law, d -> infinity limit
CHECK_MODULES += ["cfg_distortion.checks.phase"]  # phase diagram: vectorised grid, boundary limits

_REGISTRY: dict[str, Callable[[], "Check"]] = {}


@dataclass(frozen=True)
class Check:
    """One comparison: ``value`` against ``reference`` within ``tolerance`` (absolute)."""

    name: str
    value: float
    reference: float
    tolerance: float
    route: str = ""

    @property
    def passed(self) -> bool:
        return bool(math.isfinite(self.value) and abs(self.value - self.reference) <= self.tolerance)

    def to_json(self) -> dict:
        """Strict JSON: a non-finite number (a check that crashed) becomes null."""
        num = lambda x: x if math.isfinite(x) else None  # noqa: E731
        return {"name": self.name, "passed": self.passed, "value": num(self.value),
                "reference": num(self.reference), "tolerance": num(self.tolerance), "route": self.route}


def register(fn: Callable[[], Check]) -> Callable[[], Check]:
    _REGISTRY[fn.__name__] = fn
    return fn


def all_checks() -> dict[str, Callable[[], Check]]:
    for mod in CHECK_MODULES:
        importlib.import_module(mod)
    return dict(_REGISTRY)


def run_checks(progress=None) -> list[Check]:
    checks = all_checks()
    results = []
    for name, fn in checks.items():
        try:
            results.append(fn())
        except Exception as exc:  # a crashing check is a failed check, reported by name
            results.append(Check(name, math.nan, math.nan, 0.0, f"raised {type(exc).__name__}: {exc}"))
        if progress is not None:
            progress(name)
    return results
