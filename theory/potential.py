"""Derivation step 5: the effective potential of guided sampling and its two branches.

    V(m, v; t) = -(1/d) log [ p_t(x|c)^{1+omega} p_t(x)^{-omega} ]   (d -> infinity)

with p_t(x) = (1/K) sum_k p_t(x|k). Per dimension, log p_t(x) = (k-independent part of
log p_t(x|k)) - alpha + (1/d) log sum_k exp(logit_k), and the last term is
max(T(m), phi(q)) at large d (target term vs wrong-class rate, :mod:`.classification`).

- Branch G (phi > T: wrong classes dominate, annealed phi): guidance acts. log p_t(x)
  reduces to the log density of the centroid cloud N(0, (a^2 + Gamma) I).
- Branch C (T > phi: the target dominates): log p_t(x) = log p_t(x|c) - alpha, so
  V_C = -log p_t(x|c)/d + omega alpha and guidance is inert.

The distribution of the order parameters (m, v) also carries the entropy of the transverse
shell, (1/2) log v per dimension (volume of {x : |x_perp|^2 = d v} ~ v^{(d-3)/2}), so the
quantity whose minima are the typical (m, v) is F = V - (1/2) log v (:func:`free_energy`).
Minima of F per branch, the static transition (equal minima) and the dynamical transition
(the G minimum reaches the boundary T = phi) follow.

Quenched phi in branch G. Where the wrong classes are frozen, log p_t(x) carries the frozen
phi(q) instead of the annealed one (:func:`log_marginal_density` with ``phi=PHI``, a symbol
the numeric layer fills with the quenched rate). The stationarity conditions of F only see
dphi/dq = a kappa / (2 Gamma), kappa = (2 Gamma / a) dphi/dq as in :func:`.dmf.kappa_effective`,
so the G minimum is closed-form at given kappa (:func:`minimum_kappa`) and the quenched one
solves the scalar fixed point kappa = kappa_eff(q*(kappa)).

What V is. Its minima are the typical (m, v) of the TILTED density
p_t(x|c)^{1+omega} p_t(x)^{-omega} at each t, not of the law the guided sampler produces:
tilting does not commute with the noising, so the family of tilted densities is not the path
of marginals of any sampler. Its transitions are transitions of that family; the DMF switch
(:mod:`.dmf`) is where the sampler leaves branch G, and the two differ (the derivation
document gives both at one point).
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from .classification import target_term
from .free_energy import phi_annealed
from .scores import class_log_density
from .simplify import tidy
from .symbols import Gamma, alpha, d, kappa, m, mumu, omega, q, v, xmu, xx

PHI = sp.Symbol("phi", real=True)  # the wrong-class rate phi(q), filled by the numeric layer

BRANCHES = ("G", "C")


def _per_d(expr: sp.Expr) -> sp.Expr:
    return sp.limit(sp.expand(expr / d), d, sp.oo)


@cache
def log_class_density() -> sp.Expr:
    """(1/d) log p_t(x|c) with x.mu_c = d m, |x|^2 = d (m^2 + v), |mu_c|^2 = d."""
    return sp.expand(_per_d(class_log_density().subs({xx: d * (m**2 + v), xmu: d * m, mumu: d})))


@cache
def log_marginal_density(branch: str, phi: sp.Expr | None = None) -> sp.Expr:
    """(1/d) log p_t(x) at large d in branch G (the wrong classes win) or C (the target wins).

    In G the wrong-class rate is phi_ann unless ``phi`` is given (``PHI``: the quenched rate)."""
    common = _per_d(class_log_density().subs({xmu: 0, mumu: 0, xx: d * q})) - alpha
    rate = {"G": phi_annealed() if phi is None else phi, "C": target_term()}[branch]
    return tidy((common + rate).subs(q, m**2 + v))


@cache
def potential(branch: str, phi: sp.Expr | None = None) -> sp.Expr:
    """V_branch(m, v; t) = -(1 + omega) log p(x|c)/d + omega log p(x)/d."""
    return sp.expand(-(1 + omega) * log_class_density() + omega * log_marginal_density(branch, phi))


@cache
def free_energy(branch: str, phi: sp.Expr | None = None) -> sp.Expr:
    """F = V - (1/2) log v: minus the large-d log density of the order parameters (m, v)."""
    return potential(branch, phi) - sp.log(v) / 2


@cache
def minimum_kappa() -> dict[sp.Symbol, sp.Expr]:
    """Stationary point of F_G when the wrong-class rate has slope dphi/dq = a kappa / (2 Gamma).

    F_G's stationarity conditions involve phi only through dphi/dq, so phi may be replaced by
    a kappa q / (2 Gamma) plus a constant; with the annealed kappa this is :func:`minimum` ("G")."""
    from .symbols import a

    F = free_energy("G", a * kappa * (m**2 + v) / (2 * Gamma))
    sols = sp.solve([sp.diff(F, m), sp.diff(F, v)], [m, v], dict=True)
    if len(sols) != 1:
        raise RuntimeError(f"G minimum at given kappa: expected one stationary point, got {sols}")
    return {k: sp.factor(val) for k, val in sols[0].items()}


@cache
def minimum(branch: str) -> dict[sp.Symbol, sp.Expr]:
    """The stationary point (m*, v*) of F in a branch (a minimum where v* > 0)."""
    F = free_energy(branch)
    sols = sp.solve([sp.diff(F, m), sp.diff(F, v)], [m, v], dict=True)
    if len(sols) != 1:
        raise RuntimeError(f"branch {branch}: expected one stationary point, got {sols}")
    return {k: sp.factor(val) for k, val in sols[0].items()}


@cache
def static_gap() -> sp.Expr:
    """F_G(min_G) - F_C(min_C): the static transition is where it changes sign."""
    return tidy(free_energy("G").subs(minimum("G")) - free_energy("C").subs(minimum("C")))


@cache
def dynamical_margin() -> sp.Expr:
    """T(m*) - phi_ann(q*) at the G minimum: positive once the G minimum lies in region C
    (the dynamical transition). The numeric layer uses the quenched phi (frozen branch too)."""
    mG = minimum("G")
    return sp.simplify((target_term() - phi_annealed()).subs(q, m**2 + v).subs(mG))


def numeric_functions():
    """Generated functions of this module (see :mod:`.codegen`)."""
    from .codegen import NumericFunction
    from .symbols import a

    args = (m, v, a, Gamma, alpha, omega)
    fns = []
    for branch in BRANCHES:
        fns.append(NumericFunction(f"potential_{branch}", args, lambda b=branch: potential(b),
                                   f"effective potential V in branch {branch}"))
        fns.append(NumericFunction(f"free_energy_{branch}", args, lambda b=branch: free_energy(b),
                                   f"V - log(v)/2 in branch {branch}"))
        for var in (m, v):
            fns.append(NumericFunction(f"minimum_{branch}_{var}", (a, Gamma, omega),
                                       lambda b=branch, var=var: minimum(b)[var],
                                       f"{var} at the minimum of F in branch {branch}"))
    fns.append(NumericFunction("static_gap", (a, Gamma, alpha, omega), static_gap,
                               "F_G(min_G) - F_C(min_C)"))
    fns.append(NumericFunction("free_energy_G_phi", args + (PHI,), lambda: free_energy("G", PHI),
                               "V - log(v)/2 in branch G with the wrong-class rate phi given (quenched)"))
    fns.append(NumericFunction("potential_G_phi", args + (PHI,), lambda: potential("G", PHI),
                               "effective potential V in branch G with the wrong-class rate phi given (quenched)"))
    for var in (m, v):
        fns.append(NumericFunction(f"minimum_Gk_{var}", (a, Gamma, omega, kappa), lambda var=var: minimum_kappa()[var],
                                   f"{var} at the stationary point of F_G at wrong-class slope dphi/dq = a kappa/(2 Gamma)"))
    return fns
