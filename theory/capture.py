"""Capture by a wrong class: what negative guidance does in a frozen branch G.

Where the wrong classes are condensed (Sigma(1) < 0, :mod:`.free_energy`), the posterior
over them is carried by a few centroids at the frozen saddle (s*, n*), theta* the root of
Sigma(theta) = 0. With omega < 0 the guided score contains -omega (a / Gamma) M with
M = sum_k w_k mu_k, an ATTRACTION towards these centroids. Its pull on the logit of
centroid k is proportional to w_k |mu_k|^2, so the largest weight grows fastest and, on the
time scale 1/d, one centroid mu_w carries the whole wrong-class weight: the sample is
captured by the wrong class w. What follows is two-class CFG between mu_c and mu_w.

At d -> infinity the two-class problem closes on three order parameters,

    m = x.mu_c / d,   r = x.mu_w / d,   v = |x - m mu_c|^2 / d   (q = m^2 + v),

with mu_c.mu_w / d -> 0 and nu = |mu_w|^2 / d fixed by the capture:
r = sqrt(q) s*, nu = s*^2 + n* at the capture time (:func:`capture_state`). Two branches:

- W (the captured class dominates p_t(x), margin T(m) - E_w(r) < 0): M = mu_w;
- C (the target dominates): M = mu_c, guidance inert.

E_w(r) = (1/d) logit of mu_w (:func:`captured_logit`); at the capture it equals the frozen
phi (the captured centroid sits at the frozen saddle), which :mod:`tests` check symbolically.
The drifts are derived from the same guided score as :mod:`.dmf`, in the Gram basis
(x, mu_c, mu_w); Ito term g^2 for |x|^2 / d (SDE), none for the ODE.
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from .classification import target_term
from .free_energy import tilted_saddle
from .scores import class_logit, guided_score_coefficients
from .symbols import Gamma, a, d, m, mumu, n, q, s, theta, u, v, xmu

r = sp.Symbol("r", real=True)  # x . mu_w / d: overlap with the capturing centroid
nu = sp.Symbol("nu", positive=True)  # |mu_w|^2 / d

BRANCHES = ("W", "C")

_X, _MU, _W = sp.symbols("x mu_c mu_w", commutative=True)  # basis labels
_q = sp.Symbol("q_", positive=True)


def _dot(p: dict, w: dict) -> sp.Expr:
    gram = {(_X, _X): d * _q, (_X, _MU): d * m, (_X, _W): d * r,
            (_MU, _MU): d, (_W, _W): d * nu, (_MU, _W): 0}
    g = lambda x, y: gram.get((x, y), gram.get((y, x)))  # noqa: E731
    return sp.expand(sum(cp * cw * g(bp, bw) for bp, cp in p.items() for bw, cw in w.items()))


@cache
def drifts(branch: str, sampler: str) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """(dm/dtau, dv/dtau, dr/dtau) of the two-class problem in branch W or C."""
    from .dmf import SAMPLERS, f, g2

    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be sde or ode (got {sampler!r})")
    if branch not in BRANCHES:
        raise ValueError(f"branch must be W or C (got {branch!r})")
    c = guided_score_coefficients()
    weight = g2 if sampler == "sde" else g2 / 2
    M = _W if branch == "W" else _MU
    D = {_X: -f + weight * c["coef_x"], _MU: weight * c["coef_target"]}
    D[M] = D.get(M, 0) + weight * c["coef_post"]
    dm = _dot(D, {_MU: 1}) / d
    dr = _dot(D, {_W: 1}) / d
    ito = g2 if sampler == "sde" else 0
    dq = 2 * _dot(D, {_X: 1}) / d + ito
    dv = dq - 2 * m * dm  # v = q - m^2; the Ito term of m^2 is O(1/d)
    sub = {_q: m**2 + v}
    return tuple(sp.factor(sp.simplify(e.subs(sub))) for e in (dm, dv, dr))


@cache
def captured_logit() -> sp.Expr:
    """E_w(r) = (1/d) logit of the captured class with x.mu_w = d r, |mu_w|^2 = d nu."""
    return sp.expand(class_logit().subs({xmu: d * r, mumu: d * nu}) / d)


@cache
def margin() -> sp.Expr:
    """T(m) - E_w(r): positive where the target beats the captured class."""
    return sp.expand(target_term() - captured_logit())


@cache
def capture_state() -> dict[str, sp.Expr]:
    """(r, nu) at capture from the frozen saddle at theta* = u Gamma / a^2: r = sqrt(q) s*,
    nu = s*^2 + n* (the centroid's overlap with x and its squared norm per d)."""
    sad = {k: val.subs(theta, u * Gamma / a**2) for k, val in tilted_saddle().items()}
    return {"r": sp.factor(sp.simplify(sp.sqrt(q) * sad[s])),
            "nu": sp.factor(sp.simplify(sad[s]**2 + sad[n]))}


def numeric_functions():
    """Generated functions of this module (see :mod:`.codegen`)."""
    from .codegen import NumericFunction
    from .dmf import SAMPLERS, f, g2
    from .symbols import omega

    args = (m, v, r, nu, a, Gamma, f, g2, omega)
    fns = []
    for branch in BRANCHES:
        for sampler in SAMPLERS:
            for i, var in enumerate("mvr"):
                fns.append(NumericFunction(
                    f"capture_drift_{branch}_{sampler}_{var}", args,
                    lambda branch=branch, sampler=sampler, i=i: drifts(branch, sampler)[i],
                    f"d{var}/dtau after a capture, branch {branch}, {sampler} sampler (two-class problem)"))
    fns.append(NumericFunction("capture_margin", (m, r, nu, a, Gamma), margin,
                               "T(m) - E_w(r): target vs captured class, per d"))
    state = capture_state()
    for key in ("r", "nu"):
        fns.append(NumericFunction(f"capture_{key}", (u, q, a, Gamma), lambda key=key: state[key],
                                   f"{key} of the capturing centroid at the frozen saddle theta* = u Gamma / a^2"))
    return fns
