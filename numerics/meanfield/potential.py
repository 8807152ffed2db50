"""The effective potential V(m, v; t) and its minima, vectorised (formulas from theory/potential.py).

V is branch G's expression where the wrong classes dominate (margin T(m) - phi(q) < 0,
quenched phi) and branch C's where the target does. The typical (m, v) minimise
F = V - log(v)/2 (the transverse shell's entropy included); per branch the minimum is
closed-form. The static transition is where F_G(min_G) = F_C(min_C); the dynamical one is
where the G minimum crosses into region C. Both are found as roots in t (brentq after a scan).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from cfg_distortion import _generated as G
from cfg_distortion.model.process import get_process
from cfg_distortion.model.rates import classification_margin


def effective_potential(m, v, t, alpha, omega, sigma2, process="ou"):
    """(V, branch) on arrays broadcast together; branch is 'G' or 'C' per point."""
    p = get_process(process)
    m, v, t = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (m, v, t)))
    a, Gm = p.a(t), p.Gamma(t, sigma2)
    in_c = classification_margin(m, m * m + v, alpha, a, Gm) > 0
    V = np.where(in_c, G.potential_C(m, v, a, Gm, alpha, omega), G.potential_G(m, v, a, Gm, alpha, omega))
    return V, np.where(in_c, "C", "G")


@dataclass
class Minima:
    """Per time t: the minima of F in each branch and whether the G minimum lies in region G."""

    t: np.ndarray
    m_G: np.ndarray
    v_G: np.ndarray
    m_C: np.ndarray
    v_C: np.ndarray
    G_min_in_G: np.ndarray
    static_gap: np.ndarray


def minima(t, alpha, omega, sigma2, process="ou") -> Minima:
    p = get_process(process)
    t = np.asarray(t, dtype=float)
    a, Gm = p.a(t), p.Gamma(t, sigma2)
    mG, vG = G.minimum_G_m(a, Gm, omega), G.minimum_G_v(a, Gm, omega)
    mC, vC = G.minimum_C_m(a, Gm, omega), G.minimum_C_v(a, Gm, omega)
    inside = classification_margin(mG, mG * mG + vG, alpha, a, Gm) < 0
    return Minima(t, mG, vG, mC, vC, inside, G.static_gap(a, Gm, alpha, omega))


def _roots(fun, ts, tol=1e-12):
    """Sign changes of fun on the grid ts (values within tol of 0 count as no sign), refined."""
    vals = fun(ts)
    sign = np.where(np.abs(vals) > tol, np.sign(vals), 0)
    idx = np.nonzero(sign[:-1] * sign[1:] < 0)[0]
    return [brentq(lambda x: float(fun(np.array([x]))[0]), ts[i], ts[i + 1], xtol=1e-12) for i in idx]


def transition_times(alpha, omega, sigma2, process="ou", t_max=None, samples=4001):
    """(static, dynamical): times where F_G(min) = F_C(min), and where the G minimum crosses
    the classification boundary (lists, in decreasing t, i.e. in the order sampling meets them)."""
    p = get_process(process)
    hi = t_max if t_max is not None else (1 - 1e-9 if process == "flow" else (12.0 if process == "ou" else 1e4))
    ts = np.concatenate([[0.0], np.geomspace(1e-6, hi, samples)]) if process != "flow" else np.linspace(0, hi, samples)
    static = _roots(lambda x: minima(x, alpha, omega, sigma2, process).static_gap, ts)

    def dyn(x):
        mn = minima(x, alpha, omega, sigma2, process)
        a, Gm = p.a(x), p.Gamma(x, sigma2)
        return classification_margin(mn.m_G, mn.m_G**2 + mn.v_G, alpha, a, Gm)

    return sorted(static, reverse=True), sorted(_roots(dyn, ts), reverse=True)
