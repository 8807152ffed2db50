"""Affine guidance omega(t) = w0 + slope t on the variance-exploding process, and its variance-preserving curve.

For ``ve`` (a = 1, b = t, so t is the noise level) the weight with which guidance moves the variance
ratio rho = v / Gamma_t in branch G (:func:`.schedule_design.guidance_weight`) specialises to
:func:`guidance_weight_ve`. For the probability-flow ODE, d log rho / dtau = -omega k_t in branch G
and 0 in branch C, so with one switch G -> C at t_s and rho(T -> infinity) = 1,

    log(v(0)/sigma2) = -int_{t_s}^infinity (w0 + slope t) k_t dt = -(w0 I0(t_s) + slope I1(t_s)),

with I0 and I1 integrated by sympy (:func:`weight_moments`). v(0) = sigma2 is therefore the line
slope = -w0 I0/I1 at the switch time of that schedule (:func:`ode_preserving_slope`): a negative
w0 (negative guidance near the data) paid back by a positive slope (positive guidance early). Both
integrals converge as T -> infinity (k_t ~ 2/t^3), so the ODE's variance, unlike its m, has a
T -> infinity limit. For the SDE the same weight acts and the relaxation of
:mod:`.schedule_design` adds no omega, so the curve has the same sign structure; it is found
numerically (``cfg-distortion schedule-map``).
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from .dmf import f, g2
from .process import PRESETS
from .schedule_design import guidance_weight
from .symbols import sigma2, t

__all__ = ["t_s", "w0", "slope", "guidance_weight_ve", "weight_moments", "ode_log_ratio", "ode_preserving_slope"]

t_s = sp.Symbol("t_s", positive=True)  # the switch time G -> C of the trajectory
w0, slope = sp.symbols("w_0 slope", real=True)


@cache
def guidance_weight_ve() -> sp.Expr:
    """k_t on the ve process."""
    p = PRESETS["ve"]
    return sp.factor(sp.simplify(p.specialise(guidance_weight().subs({f: p.f, g2: p.g2}))))


@cache
def weight_moments() -> tuple[sp.Expr, sp.Expr]:
    """(I0, I1) = (int_{t_s}^oo k_t dt, int_{t_s}^oo t k_t dt) on ve."""
    sp2 = sp.Symbol("sigma2_p", positive=True)  # sigma2 > 0 while integrating (partial fractions in s)
    k = guidance_weight_ve().subs(sigma2, sp2)
    s_ = sp.Symbol("s_", positive=True)
    out = []
    for power in (0, 1):
        # antiderivative of the partial fractions, then its limit at infinity (the log terms cancel there)
        F = sp.integrate(sp.apart(sp.expand(s_**power * k.subs(t, s_)), s_), s_)
        val = sp.limit(F, s_, sp.oo) - F.subs(s_, t_s)
        if val.has(sp.Integral) or val.has(sp.nan) or val.has(sp.oo):
            raise RuntimeError(f"moment {power} of k_t not in closed form: {val}")
        out.append(sp.simplify(val).subs(sp2, sigma2))
    return out[0], out[1]


@cache
def ode_log_ratio() -> sp.Expr:
    """log(v(0)/sigma2) of the ODE with one switch at t_s, omega = w0 + slope t in branch G."""
    I0, I1 = weight_moments()
    return -(w0 * I0 + slope * I1)


@cache
def ode_preserving_slope() -> sp.Expr:
    """The slope with v(0) = sigma2 for a given w0 and switch time t_s (ODE)."""
    (sol,) = sp.solve(sp.Eq(ode_log_ratio(), 0), slope)
    return sp.simplify(sol)
