"""cfg-distortion: why classifier-free guidance loses diversity, from first principles.

The public API (``import cfg_distortion as cd``) is built here from the layers behind it:

- :mod:`cfg_distortion.theory`     the symbolic layer (sympy): every formula derived once
- :mod:`cfg_distortion.model`      processes, schedules, parameter checks, rates, thresholds
- :mod:`cfg_distortion.meanfield`  d -> infinity solvers: trajectory, phase grid, boundary, design
- :mod:`cfg_distortion.finite_d`   posterior kernel, exact-score simulator, finite-d theory, validation
- :mod:`cfg_distortion.plots`      figures
- :mod:`cfg_distortion.checks`     the ``verify`` registry of independent checks
- :mod:`cfg_distortion.cli`        the ``cfg-distortion`` command line, a client of this API

``cfg_distortion.theory`` is imported on first use only (it needs sympy).
"""
from __future__ import annotations

import importlib

try:
    from importlib.metadata import PackageNotFoundError, version as _version

    __version__ = _version("cfg-distortion")
except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0+unknown"

from cfg_distortion.result import GridResult, Result

__all__ = ["__version__", "Result", "GridResult", "theory"]


def __getattr__(name):
    if name == "theory":
        return importlib.import_module("cfg_distortion.theory")
    raise AttributeError(f"module 'cfg_distortion' has no attribute {name!r}")
