"""cfg-distortion: why classifier-free guidance loses diversity, from first principles.

``import cfg_distortion as cd`` gives the public API (:mod:`cfg_distortion.api`):

- ``cd.alpha_c(t, sigma2, process)``, ``cd.t_c(alpha, sigma2, process)``: classification
  threshold and time (closed forms)
- ``cd.trajectory(alpha, omega | schedule=..., sigma2=1, sampler="sde", process="ou")``: the
  d -> infinity mean-field trajectory m(t), v(t) with its branch switches (``.sample(ts)``)
- ``cd.phase_diagram(alpha=None, omega="0:6:41", ...)``: the grid over (alpha, omega) (default alpha:
  a range covering the boundary)
  and the boundary alpha_c(omega) (``.to_csv()``, ``.plot()``)
- ``cd.design_schedule(alpha, omega, ...)``, ``cd.compare_schedules(alpha, omega, ...)``:
  guidance schedules, the negative window that restores the variance
- ``cd.compare_rules(alpha, rules="cfg,rescale:0.7,...", omega="0:6:7", ...)``: guidance rules
  beyond linear CFG (rescale, APG, CFG-Zero*, autoguidance) side by side, with alpha_c(omega)
  per rule; ``rule=`` on ``trajectory``, ``phase_diagram`` and ``simulate``
- ``cd.simulate(d, K | alpha=..., ...)``, ``cd.finite_d(d, ...)``, ``cd.validate(alpha, omega, d=...)``,
  ``cd.simulate_batch(runs, scheduler=...)``: the exact-score simulator at finite d, the finite-d
  theory, the two against the DMF extrapolated in 1/d, and batches of simulations (in-process or Dask)
- ``cd.equations(label_or_group=None)``: the derived equations (sympy objects, LaTeX)
- ``cd.theory``: the symbolic layer (sympy), imported on first use

Every call returns a :class:`Result` (``status``, ``message``, ``notes``, ``to_json()``, the
object ``cfg-distortion <command> --json`` prints). The model, the notation and what backs
each result: docs/theory.md. The layers behind the API:

- :mod:`cfg_distortion.theory`     the symbolic layer (sympy): every formula derived once
- :mod:`cfg_distortion.model`      processes, schedules, parameter checks, rates, thresholds
- :mod:`cfg_distortion.meanfield`  d -> infinity solvers: trajectory, phase grid, boundary, design
- :mod:`cfg_distortion.finite_d`   posterior kernel, exact-score simulator, finite-d theory, validation
- :mod:`cfg_distortion.plots`      figures
- :mod:`cfg_distortion.checks`     the ``verify`` registry of independent checks
- :mod:`cfg_distortion.cli`        the ``cfg-distortion`` command line, a client of this API
"""
from __future__ import annotations

import importlib

try:
    from importlib.metadata import PackageNotFoundError, version as _version

    __version__ = _version("cfg-distortion")
except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0+unknown"

import types as _types

import cfg_distortion.finite_d as _finite_d_package
from cfg_distortion import api
from cfg_distortion.api import (alpha_c, compare_rules, compare_schedules, design_schedule, equations, phase_diagram,
                                schedule_map, simulate, simulate_batch, switch_scan, t_c, trajectory, validate)
from cfg_distortion.model.divergence import kl, w2
from cfg_distortion.result import GridResult, Result


class _CallableSubpackage(_types.ModuleType):
    """``cd.finite_d`` is both the subpackage ``cfg_distortion.finite_d`` (``cd.finite_d.simulator``)
    and the API function :func:`cfg_distortion.api.finite_d` (``cd.finite_d(20, alpha=0.3, omega=3)``):
    calling the package calls the function, so neither name shadows the other."""

    def __call__(self, *args, **kwargs):
        return api.finite_d(*args, **kwargs)


_finite_d_package.__class__ = _CallableSubpackage
_CallableSubpackage.__call__.__doc__ = api.finite_d.__doc__
_finite_d_package.__doc__ = f"{_finite_d_package.__doc__}\n\nCalled, ``cd.finite_d(...)`` is :func:`cfg_distortion.api.finite_d`:\n\n{api.finite_d.__doc__}"
_finite_d_package.__signature__ = __import__("inspect").signature(api.finite_d)
finite_d = _finite_d_package

__all__ = ["__version__", "Result", "GridResult", "theory", "alpha_c", "t_c", "trajectory", "phase_diagram",
           "design_schedule", "compare_schedules", "compare_rules", "schedule_map", "simulate", "simulate_batch",
           "switch_scan", "finite_d", "validate", "equations", "kl", "w2"]


def __getattr__(name):
    if name == "theory":
        return importlib.import_module("cfg_distortion.theory")
    raise AttributeError(f"module 'cfg_distortion' has no attribute {name!r}")
