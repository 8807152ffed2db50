"""Derivation step 8: the variance theorem (claim 5).

Statement. For any schedule with omega(t) >= 0 for all t, the DMF trajectory started from
the cloud (T -> infinity) ends with v(0) <= sigma2; equality holds only if omega vanishes
(almost everywhere) on the times where branch G is active.

Comparison argument, from three symbolic facts derived here:

1. The drift of v does not involve m, in either branch and for either sampler
   (:func:`v_drift_independent_of_m`): v obeys a scalar ODE dv/dtau = F_B(v, t; omega)
   whatever the branch history, which m decides.
2. Branch C's v-drift equals the omega = 0 drift F_0 (guidance is inert there), and branch
   G's differs from F_0 by (:func:`guidance_excess`)

       F_G - F_0 = -c(t) omega v,   c(t) = g^2 a^2 / (Gamma (Gamma + a^2)) x (2 for the SDE, 1 for the ODE),

   with c(t) >= 0; so F_B(v, t; omega) <= F_0(v, t) for omega >= 0, v >= 0, in both branches.
3. v = Gamma_t solves dv/dtau = F_0 exactly (the conditional law; step 6's exactness check).

F_0 is affine in v, hence Lipschitz; by the comparison theorem for scalar ODEs, a solution
of dv/dtau <= F_0(v, t) started at or below the solution of the equality stays below it:
v(t) <= Gamma_t + (v(T) - Gamma_T) e^{-int_t^T k}, and the start excess v(T) - Gamma_T = a_T^2
vanishes as T -> infinity. At t = 0, Gamma_0 = sigma2. If omega > 0 on a set of positive
measure where branch G is active, the inequality is strict there and the gap, transported
by the linear F_0, stays positive down to t = 0: v(0) < sigma2.
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from .dmf import BRANCHES, SAMPLERS, drifts
from .symbols import m, omega


@cache
def v_drift_independent_of_m() -> dict[tuple[str, str], sp.Expr]:
    """d(dv/dtau)/dm for every branch and sampler (all zero)."""
    return {(b, s): sp.simplify(sp.diff(drifts(b, s)[1], m)) for b in BRANCHES for s in SAMPLERS}


@cache
def guidance_excess(branch: str, sampler: str) -> sp.Expr:
    """F_B(v; omega) - F_B(v; 0): what guidance adds to the v-drift in a branch."""
    dv = drifts(branch, sampler)[1]
    return sp.factor(sp.simplify(dv - dv.subs(omega, 0)))


@cache
def excess_is_nonpositive(branch: str, sampler: str) -> bool | None:
    """sympy's verdict on guidance_excess <= 0 for omega >= 0 (a, Gamma > 0, g2 >= 0, v >= 0)."""
    w = sp.Symbol("omega_nn", nonnegative=True)
    return guidance_excess(branch, sampler).subs(omega, w).is_nonpositive
