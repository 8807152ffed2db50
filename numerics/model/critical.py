"""Classification threshold alpha_c(t) and classification time t_c(alpha).

Closed forms from :mod:`cfg_distortion.theory.classification` (alpha_c = log(1 + SNR_t)/2,
the Gaussian channel capacity), evaluated through the generated module. Backed by: the
capacity formula, the sigma2 = 0 collapse time of Biroli, Bonnaire, de Bortoli and Mezard
(2024), and a root of the general boundary T(m) = phi(q) with the frozen branch
(tests/test_classification.py, `cfg-distortion verify`).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from cfg_distortion import _generated as G
from cfg_distortion.model import params as V
from cfg_distortion.result import Result
from cfg_distortion.model.process import get_process


@dataclass(frozen=True)
class Threshold(Result):
    """alpha_c at time t (alpha = log K / d, dimensionless); ``alpha_c`` is math.inf when
    Gamma_t = 0 (sigma2 = 0 at t = 0)."""

    alpha_c: float
    t: float
    sigma2: float
    process: str

    @property
    def infinite(self) -> bool:
        return math.isinf(self.alpha_c)

    @property
    def message(self) -> str:
        if self.infinite:
            return "alpha_c is infinite: at t = 0 with sigma2 = 0 the classes are points and any alpha is classified"
        return ""

    def to_json(self) -> dict:
        out = asdict(self)
        out["alpha_c"] = None if self.infinite else self.alpha_c
        out["alpha_c_infinite"] = self.infinite
        out["expression"] = G.LATEX["alpha_c"][self.process]
        return {**out, **self._status_json()}


@dataclass(frozen=True)
class ClassificationTime(Result):
    """t_c(alpha): the class is determined for t < t_c.

    ``t_c`` is None when alpha >= alpha_c(0) (never classified) and math.inf when the class
    is determined at every time of an unbounded process (alpha = 0, sub-exponential K).
    """

    t_c: float | None
    alpha: float
    sigma2: float
    process: str
    alpha_c_at_0: float

    @property
    def never_classified(self) -> bool:
        return self.t_c is None

    @property
    def always_classified(self) -> bool:
        return self.t_c is not None and math.isinf(self.t_c)

    @property
    def message(self) -> str:
        if self.never_classified:
            return f"never classified: alpha >= alpha_c(0) = {self.alpha_c_at_0:.10g}"
        if self.always_classified:
            return "t_c is infinite: with alpha = 0 the class is determined at every time"
        return ""

    def to_json(self) -> dict:
        out = asdict(self)
        out["t_c"] = None if self.t_c is None or math.isinf(self.t_c) else self.t_c
        out["alpha_c_at_0"] = None if math.isinf(self.alpha_c_at_0) else self.alpha_c_at_0
        out["never_classified"] = self.never_classified
        out["always_classified"] = self.always_classified
        out["expression"] = G.LATEX["t_c"][self.process]
        return {**out, **self._status_json()}


def _alpha_c_value(t: float, sigma2: float, process: str) -> float:
    p = get_process(process)
    Gamma = float(p.Gamma(t, sigma2))
    if Gamma == 0.0:  # point-mass classes at t = 0
        return math.inf
    with np.errstate(over="ignore"):
        value = float(p.alpha_c(t, sigma2))
    if math.isinf(value):  # SNR_t = a^2/Gamma overflowed (Gamma < 1/float max): log1p(snr) in logs
        value = 0.5 * (math.log(Gamma + float(p.a(t)) ** 2) - math.log(Gamma))
    return value


def alpha_c(t, sigma2=1.0, process: str = "ou") -> Threshold:
    """alpha_c(t): the largest alpha for which the target's weight -> 1 at time t."""
    V.process(process)
    sigma2 = V.nonnegative("sigma2", sigma2)
    t = V.time(t, process)
    return Threshold(_alpha_c_value(t, sigma2, process), t, sigma2, process)


def t_c(alpha, sigma2=1.0, process: str = "ou") -> ClassificationTime:
    """t_c(alpha): the root of alpha_c(t) = alpha; see :class:`ClassificationTime`."""
    V.process(process)
    sigma2 = V.nonnegative("sigma2", sigma2)
    alpha = V.nonnegative("alpha", alpha)
    p = get_process(process)
    a0 = _alpha_c_value(0.0, sigma2, process)
    if alpha >= a0:
        value = None
    elif alpha == 0.0:
        value = p.t_max  # alpha_c(t) > 0 on the whole range of the process
    else:
        value = float(p.t_c(alpha, sigma2))
        if not (0.0 <= value <= p.t_max):
            raise ArithmeticError(f"t_c = {value!r} outside [0, {p.t_max}] for alpha={alpha}, sigma2={sigma2}")
    return ClassificationTime(value, alpha, sigma2, process, a0)
