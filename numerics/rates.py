"""Wrong-class rate phi and the classification test, vectorised over any array shapes.

phi(alpha, q, t) is the annealed rate where the saddle's entropy Sigma(1) >= 0 and the
frozen rate otherwise; the frozen branch needs the root u of the generated
``frozen_constraint`` (decreasing in u on (0, a^2/Gamma]), found by a vectorised
bisection with a reported convergence check. All formulas come from ``_generated``.
"""
from __future__ import annotations

import numpy as np

from . import _generated as G

_BISECTION_STEPS = 200


class ConvergenceError(ArithmeticError):
    """A root finder did not reach its tolerance; never returned as a number."""


def frozen_root(alpha, q, a, Gamma, rtol: float = 1e-14):
    """u in [0, a^2/Gamma] with frozen_constraint(u) = 0, where Sigma(1) < 0 (vectorised)."""
    alpha, q, a, Gamma = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (alpha, q, a, Gamma)))
    lo = np.zeros_like(alpha)
    hi = a**2 / Gamma
    atol = 1e-16 * hi  # the root may sit at u = 0 (alpha = 0: sub-exponentially many classes)
    f_lo = G.frozen_constraint(lo, alpha, q, a, Gamma)
    f_hi = G.frozen_constraint(hi, alpha, q, a, Gamma)
    if np.any(f_lo < 0) or np.any(f_hi > 0):
        raise ConvergenceError("frozen branch: root of Sigma(u) = 0 not bracketed in [0, a^2/Gamma]")
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        f_mid = G.frozen_constraint(mid, alpha, q, a, Gamma)
        right = f_mid > 0  # Sigma decreasing: the root lies above mid
        lo = np.where(right, mid, lo)
        hi = np.where(right, hi, mid)
        if np.all(hi - lo <= rtol * hi + atol):
            return 0.5 * (lo + hi)
    raise ConvergenceError(f"frozen branch: bisection did not reach rtol={rtol:g} in {_BISECTION_STEPS} steps")


def wrong_class_rate(alpha, q, a, Gamma):
    """(phi, frozen): the quenched rate lim (1/d) log Z and whether the branch is frozen."""
    alpha, q, a, Gamma = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (alpha, q, a, Gamma)))
    frozen = np.asarray(G.entropy_saddle(alpha, q, a, Gamma) < 0)
    phi = np.array(G.phi_annealed(alpha, q, a, Gamma), dtype=float)
    if np.any(frozen):
        u = frozen_root(alpha[frozen], q[frozen], a[frozen], Gamma[frozen])
        phi[frozen] = G.phi_frozen(u, q[frozen], a[frozen], Gamma[frozen])
    return phi, frozen


def classification_margin(m, q, alpha, a, Gamma):
    """T(m) - phi(q): positive where the target's posterior weight tends to 1."""
    phi, _ = wrong_class_rate(alpha, q, a, Gamma)
    return G.target_term(m, a, Gamma) - phi
