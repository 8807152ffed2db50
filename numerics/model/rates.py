"""Wrong-class rate phi and the classification margin, vectorised over any array shapes.

phi(alpha, q, t) is the annealed rate where the saddle's entropy Sigma(1) >= 0 and the
frozen rate otherwise; the frozen branch needs the root u of the generated
``frozen_constraint`` (decreasing in u on [0, a^2/Gamma]), found by a vectorised Illinois
regula falsi with a convergence check. Its partial derivatives (for the switching logic)
are the generated ones: direct in the annealed branch, by the envelope theorem in the frozen
one. All formulas come from ``_generated``.
"""
from __future__ import annotations

import math

import numpy as np

from cfg_distortion import _generated as G
from cfg_distortion.model.roots import ConvergenceError, illinois

__all__ = ["ConvergenceError", "frozen_root", "wrong_class_rate", "wrong_class_kappa", "classification_margin"]


def frozen_root(alpha, q, a, Gamma, rtol: float = 1e-13):
    """u in [0, a^2/Gamma] with frozen_constraint(u) = 0, where Sigma(1) < 0 (vectorised).

    The root may sit at u = 0 (alpha = 0: sub-exponentially many classes)."""
    alpha, q, a, Gamma = (np.atleast_1d(np.asarray(x, dtype=float)) for x in np.broadcast_arrays(alpha, q, a, Gamma))
    hi = a**2 / Gamma
    lo = np.zeros_like(hi)
    f_lo = G.frozen_constraint(lo, alpha, q, a, Gamma)
    f_hi = G.frozen_constraint(hi, alpha, q, a, Gamma)
    # on the freezing line Sigma(1) = 0 rounding may put f_hi a few ulps above 0: the root is hi
    tiny = 1e-12 * (1.0 + np.abs(alpha))
    at_hi = (f_hi > 0) & (f_hi <= tiny)
    if np.any(f_lo < 0) or np.any(f_hi > tiny):
        raise ConvergenceError("frozen branch: root of Sigma(u) = 0 not bracketed in [0, a^2/Gamma]")
    if np.any(at_hi):
        f_hi = np.where(at_hi, 0.0, f_hi)
    fn = lambda x, s: G.frozen_constraint(x, alpha[s], q[s], a[s], Gamma[s])  # noqa: E731
    lo, hi, f_lo, f_hi = illinois(fn, lo, hi, f_lo, f_hi, rtol * hi + 1e-300)
    return np.where(np.abs(f_lo) < np.abs(f_hi), lo, hi)


def wrong_class_rate(alpha, q, a, Gamma, derivatives: bool = False):
    """(phi, frozen): the quenched rate lim (1/d) log Z and whether the branch is frozen.

    With ``derivatives``: ((phi, dphi/dq, dphi/da, dphi/dGamma), frozen)."""
    alpha, q, a, Gamma = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (alpha, q, a, Gamma)))
    frozen = np.asarray(G.entropy_saddle(alpha, q, a, Gamma) < 0)
    count = 4 if derivatives else 1  # phi, then d/dq, d/da, d/dGamma
    out = [np.array(fn(alpha, q, a, Gamma), dtype=float) for fn in G.WRONG_CLASS_RATE["annealed"][:count]]
    if np.any(frozen):
        fa, fq, fa_, fG = alpha[frozen], q[frozen], a[frozen], Gamma[frozen]
        u = frozen_root(fa, fq, fa_, fG)
        for arr, fn in zip(out, G.WRONG_CLASS_RATE["frozen"]):
            arr[frozen] = fn(u, fq, fa_, fG)
    return (tuple(out) if derivatives else out[0]), frozen


def wrong_class_kappa(alpha, q, a, Gamma):
    """(kappa, frozen): the coefficient of the wrong-class posterior mean along x, M = kappa x,
    kappa = (2 Gamma / a) d phi / dq with the quenched phi (generated ``kappa_annealed`` where
    Sigma(1) >= 0, ``kappa_frozen`` at the frozen root u otherwise). alpha = inf: annealed."""
    if all(isinstance(x, float) or np.ndim(x) == 0 for x in (alpha, q, a, Gamma)):
        return _wrong_class_kappa_point(float(alpha), float(q), float(a), float(Gamma))
    alpha, q, a, Gamma = (np.asarray(x, dtype=float) for x in (alpha, q, a, Gamma))
    shape = np.broadcast_shapes(alpha.shape, q.shape, a.shape, Gamma.shape)
    # the grid integrator passes per-point alpha, q with a, Gamma of one time: broadcast lazily
    kappa = np.empty(shape)
    kappa[...] = G.kappa_annealed(q, a, Gamma)
    finite = np.isfinite(alpha)
    with np.errstate(invalid="ignore"):
        frozen = finite & (G.entropy_saddle(np.where(finite, alpha, 0.0), q, a, Gamma) < 0)
    if frozen.shape != shape:
        frozen = np.broadcast_to(frozen, shape).copy()
    if frozen.any():
        fal, fq, fa, fG = (np.broadcast_to(x, shape)[frozen] for x in (alpha, q, a, Gamma))
        kappa[frozen] = _frozen_kappa(fal, fq, fa, fG)
    return kappa, frozen


def _wrong_class_kappa_point(alpha, q, a, Gamma):
    """wrong_class_kappa at one point (the scalar calls of solve_ivp), without array overhead."""
    if math.isfinite(alpha) and G.entropy_saddle(alpha, q, a, Gamma) < 0:
        return np.float64(_frozen_kappa(alpha, q, a, Gamma)[0]), np.bool_(True)
    return np.float64(G.kappa_annealed(q, a, Gamma)), np.bool_(False)


def _frozen_kappa(alpha, q, a, Gamma):
    """kappa_eff where the wrong classes are frozen: the generated envelope form at the frozen root."""
    return G.kappa_frozen(frozen_root(alpha, q, a, Gamma), q, a, Gamma)


def classification_margin(m, q, alpha, a, Gamma):
    """T(m) - phi(q): positive where the target's posterior weight tends to 1."""
    phi, _ = wrong_class_rate(alpha, q, a, Gamma)
    return G.target_term(m, a, Gamma) - phi
