"""Symbolic layer of cfg-distortion: every formula is derived here, once, with sympy.

Modules follow the derivation path of docs/theory.md (model, notation, claims):

- :mod:`.symbols`        the notation (``alpha``, ``omega``, ``sigma2``, ``m``, ``v``, ``q`` ...)
- :mod:`.process`        step 1a: forward process (a_t, b_t) -> Gamma, snr, f, g^2; presets
- :mod:`.scores`         step 1b: conditional, unconditional and guided scores, class weights
- :mod:`.free_energy`    step 2: large-d rate phi of the wrong-class partition function (REM)
- :mod:`.classification` steps 3-4: target term, classification boundary, alpha_c(t), t_c(alpha)
- :mod:`.potential`      step 5: effective potential, its two branches and their minima
- :mod:`.dmf`            step 6: mean-field drifts of m and v per branch and sampler
- :mod:`.gaussian_limit` step 7: K -> infinity (CFG between two Gaussians) in closed form
- :mod:`.variance`       step 8: the variance theorem's symbolic facts
- :mod:`.schedule_design`, :mod:`.finite_d`, :mod:`.transition`, ...: claim 6, finite-d theory, exact steps
- :mod:`.equations`, :mod:`.documents`, :mod:`.latex`: labelled equations, derivations/, LaTeX
- :mod:`.codegen`        the one place that turns these expressions into numeric code

Submodules load on first attribute access (``cfg_distortion.theory.dmf``).

Every public function returns sympy objects that can be printed, substituted,
simplified and passed to :func:`sympy.latex`.
"""

import importlib as _importlib
import pkgutil as _pkgutil

_SUBMODULES = {m.name for m in _pkgutil.iter_modules(__path__)}


def __getattr__(name):
    """``cfg_distortion.theory.<module>`` without importing it first (``cd.theory.dmf.drifts(...)``)."""
    if name in _SUBMODULES:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES)
