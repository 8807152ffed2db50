"""Claim 6: why a negative-guidance window can undo the variance shrinkage, and where it must sit.

Everything is derived from the DMF drifts of :mod:`.dmf` (step 6). Write the transverse
variance as a ratio to the class law, rho = v / Gamma_t: on the exact conditional trajectory
rho = 1 at all t, and rho(0) = v(0) / sigma2 is the final variance ratio. With the forward-process
relations Gamma'(t) = 2 f Gamma + g^2 (:mod:`.process`), in reverse time tau = -t,

    drho/dtau = (dv/dtau + rho (2 f Gamma + g^2)) / Gamma     at v = rho Gamma.

- :func:`ratio_drift`: drho/dtau in each branch and sampler. Guidance enters only in branch G,
  through one positive weight k(t) (:func:`guidance_weight`); in branch C it is absent (inert).
- :func:`relaxation_rate`, :func:`relaxation_propagator`: once omega = 0 the SDE relaxes rho to 1
  at rate g^2/Gamma whatever the branch and whatever m, so rho(0) - 1 = (rho(t2) - 1) sigma2 SNR_{t2};
  the ODE keeps rho constant. The design condition v(0) = sigma2 is therefore v(t2) = Gamma_{t2}.
- :func:`window_cost`: overlap m lost per unit of rho gained by a negative window (the ratio of
  the omega-sensitivities of the m and rho drifts); for OU it falls as t decreases, so windows late in
  the G phase (close to the switch) are the cheapest.
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from .dmf import BRANCHES, drifts, f, g2
from .symbols import Gamma, a, omega, sigma2, v

rho = sp.Symbol("rho", positive=True)  # v / Gamma_t: the transverse variance relative to the class law

__all__ = ["rho", "ratio_drift", "guidance_weight", "ratio_sensitivity", "ode_log_ratio_rate", "relaxation_rate",
           "relaxation_propagator", "propagator_residual", "window_cost"]


def _by_omega(expr: sp.Expr) -> sp.Expr:
    """expr (affine in omega) as (omega-free part) + omega (coefficient), each factored."""
    expr = sp.expand(sp.simplify(expr))
    c0, c1 = sp.factor(expr.coeff(omega, 0)), sp.factor(expr.coeff(omega, 1))
    if sp.simplify(c0 + omega * c1 - expr) != 0:
        raise RuntimeError(f"not affine in omega: {expr}")
    return c0 + omega * c1


@cache
def ratio_drift(branch: str, sampler: str) -> sp.Expr:
    """drho/dtau for rho = v / Gamma_t in a branch ('G' or 'C') and sampler ('sde' or 'ode')."""
    dv = drifts(branch, sampler)[1]
    return _by_omega((dv.subs(v, rho * Gamma) + rho * (2 * f * Gamma + g2)) / Gamma)


@cache
def ratio_sensitivity(branch: str, sampler: str) -> sp.Expr:
    """d(drho/dtau)/d omega: how guidance moves the variance ratio (0 in branch C)."""
    return sp.factor(sp.diff(ratio_drift(branch, sampler), omega))


@cache
def guidance_weight() -> sp.Expr:
    """k(t) > 0 with d(drho/dtau)/d omega = -k rho (ODE) and -2 k rho (SDE) in branch G."""
    return sp.factor(sp.simplify(-ratio_sensitivity("G", "ode") / rho))


@cache
def ode_log_ratio_rate(branch: str) -> sp.Expr:
    """d log rho / dtau for the probability-flow ODE: -omega k in G, 0 in C (exact, no relaxation)."""
    return sp.factor(sp.simplify(ratio_drift(branch, "ode") / rho))


@cache
def relaxation_rate() -> sp.Expr:
    """-d(drho/dtau)/drho of the SDE at omega = 0, the same in both branches: rho relaxes to 1 at this rate."""
    rates = {sp.factor(-sp.diff(ratio_drift(b, "sde").subs(omega, 0), rho)) for b in BRANCHES}
    if len(rates) != 1:
        raise RuntimeError(f"branches relax differently at omega = 0: {rates}")
    return rates.pop()


@cache
def relaxation_propagator() -> sp.Expr:
    """P_t = sigma2 SNR_t: rho(0) - 1 = (rho(t) - 1) P_t for the SDE with omega = 0 below t (P_0 = 1)."""
    return sigma2 * a**2 / Gamma


@cache
def propagator_residual() -> sp.Expr:
    """d log P_t / dt + relaxation rate, with a' = f a and Gamma' = 2 f Gamma + g^2: zero identically, so
    (with P_0 = 1) P_t = exp(-int_0^t lambda), the factor by which rho - 1 decays from t down to 0."""
    P = relaxation_propagator()
    dlogP_dt = sp.diff(sp.log(P), a) * f * a + sp.diff(sp.log(P), Gamma) * (2 * f * Gamma + g2)
    return sp.simplify(dlogP_dt + relaxation_rate())


@cache
def window_cost(sampler: str = "sde") -> sp.Expr:
    """-(d mdot/d omega) / (d rhodot/d omega) in branch G: overlap lost per unit of rho gained by omega < 0."""
    dm = drifts("G", sampler)[0]
    return sp.factor(sp.simplify(-sp.diff(dm, omega) / ratio_sensitivity("G", sampler)))
