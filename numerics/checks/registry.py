"""Registry of the project's checks of its own derivations.

A check is a function returning :class:`Check`; ``cfg-distortion verify`` runs them all.
Modules that define checks are listed in ``CHECK_MODULES`` and imported on demand, so
later capabilities add their checks by adding a module name here.

Every check is registered with its **route**, one of :data:`ROUTES`: the way the reference
value is obtained. All routes but ``consistency`` are independent of the code under test
(a finite difference of a log density, a Monte Carlo estimate, an exact log-sum-exp over
sampled centroids, a closed form from the literature, an integration of equations typed in
the check itself, the exact-score simulator); they back results, and the documents and the
README cite only them. ``consistency`` checks compare two parts of this code with each other
(two integrators of the same drift, a root finder against the closed form solved from the same
margin): they catch regressions but back nothing.

A check that claims to tell a result from a rival one (the frozen against the annealed branch,
say) gives ``rival``, the value it would have measured if the rival were true; it passes only
if that value lies outside its tolerance, so a check unable to separate the two fails.
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

ROUTES = ("finite difference", "Monte Carlo", "exact log-sum-exp", "closed form from the literature",
          "independent integration", "simulator", "consistency")
INDEPENDENT = tuple(r for r in ROUTES if r != "consistency")

_REGISTRY: dict[str, Callable[[], "Check"]] = {}
_ROUTE_OF: dict[str, str] = {}


@dataclass(frozen=True)
class Check:
    """One comparison: ``value`` against ``reference`` within ``tolerance`` (absolute).

    ``detail`` says how, in words (sizes, seeds, the reason for the tolerance); ``route`` is
    one of :data:`ROUTES` (filled in from the registration when left empty); ``rival`` is
    the value the check would measure if the rival result were true (see the module text)."""

    name: str
    value: float
    reference: float
    tolerance: float
    detail: str = ""
    route: str = ""
    rival: float | None = None

    @property
    def rejects_rival(self) -> bool | None:
        if self.rival is None:
            return None
        return bool(math.isfinite(self.rival) is False or abs(self.rival - self.reference) > self.tolerance)

    @property
    def passed(self) -> bool:
        ok = bool(math.isfinite(self.value) and abs(self.value - self.reference) <= self.tolerance)
        return ok and self.rejects_rival is not False

    @property
    def backing(self) -> bool:
        """True when the route is independent of the code under test."""
        return self.route in INDEPENDENT

    def to_json(self) -> dict:
        """Strict JSON: a non-finite number (a check that crashed) becomes null."""
        num = lambda x: x if x is not None and math.isfinite(x) else None  # noqa: E731
        return {"name": self.name, "passed": self.passed, "route": self.route, "backing": self.backing,
                "value": num(self.value), "reference": num(self.reference), "tolerance": num(self.tolerance),
                "rival": num(self.rival), "rejects_rival": self.rejects_rival, "detail": self.detail}


def register(fn: Callable[[], Check] | None = None, *, route: str):
    """Decorator: ``@register(route="finite difference")``; the route must be one of ROUTES."""
    if route not in ROUTES:
        raise ValueError(f"route must be one of {', '.join(ROUTES)} (got {route!r})")

    def deco(f: Callable[[], Check]) -> Callable[[], Check]:
        _REGISTRY[f.__name__] = f
        _ROUTE_OF[f.__name__] = route
        return f

    return deco if fn is None else deco(fn)


def all_checks() -> dict[str, Callable[[], Check]]:
    for mod in CHECK_MODULES:
        importlib.import_module(mod)
    return dict(_REGISTRY)


def routes() -> dict[str, str]:
    """Every registered check's route, without running any check."""
    all_checks()
    return dict(_ROUTE_OF)


def _with_route(check: Check, name: str) -> Check:
    route = _ROUTE_OF[name]
    if check.route and check.route != route:
        raise ValueError(f"check {name} reports route {check.route!r} but is registered as {route!r}")
    return Check(check.name, check.value, check.reference, check.tolerance, check.detail, route, check.rival)


def run_checks(progress=None, names=None) -> list[Check]:
    checks = all_checks()
    results = []
    for name, fn in checks.items():
        if names is not None and name not in names:
            continue
        try:
            results.append(_with_route(fn(), name))
        except Exception as exc:  # a crashing check is a failed check, reported by name
            results.append(Check(name, math.nan, math.nan, 0.0, f"raised {type(exc).__name__}: {exc}",
                                 _ROUTE_OF[name]))
        if progress is not None:
            progress(name)
    return results
