"""The effective potential V(m, v; t) and its minima, vectorised (formulas from theory/potential.py).

V is branch G's expression where the wrong classes dominate (margin T(m) - phi(q) < 0,
quenched phi, also inside V: frozen phi where the wrong classes are condensed) and branch C's
where the target does. The G minimum is closed-form at a given wrong-class slope kappa; where
the wrong classes are frozen at it, kappa solves kappa = kappa_eff(q*(kappa)) (bracketed root).

V's minima are the typical (m, v) of the tilted density p_t(x|c)^{1+omega} p_t(x)^{-omega} at
each t, not of the guided sampler's law: its transitions are not the DMF switch (see
derivations/step5-effective-potential.md). The typical (m, v) minimise
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
from cfg_distortion.model.rates import classification_margin, wrong_class_kappa, wrong_class_rate
from cfg_distortion.model.roots import illinois


def effective_potential(m, v, t, alpha, omega, sigma2, process="ou"):
    """(V, branch) on arrays broadcast together; branch is 'G' or 'C' per point."""
    p = get_process(process)
    m, v, t = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (m, v, t)))
    a, Gm = p.a(t), p.Gamma(t, sigma2)
    phi, _ = wrong_class_rate(alpha, m * m + v, a, Gm)
    in_c = G.target_term(m, a, Gm) - phi > 0
    V = np.where(in_c, G.potential_C(m, v, a, Gm, alpha, omega), G.potential_G_phi(m, v, a, Gm, alpha, omega, phi))
    return V, np.where(in_c, "C", "G")


def g_minimum(a, Gamma, alpha, omega):
    """(m*, v*, kappa, frozen) of F_G with the quenched wrong-class rate (arrays over a, Gamma)."""
    shape = np.broadcast(np.asarray(a), np.asarray(Gamma), np.asarray(omega)).shape
    a, Gamma, omega = (np.atleast_1d(np.broadcast_to(np.asarray(x, dtype=float), shape)).ravel()
                       for x in (a, Gamma, omega))
    k_ann = np.array(G.kappa_annealed(a * 0 + 1.0, a, Gamma), dtype=float)

    def q_star(k, sel=slice(None)):
        mm, vv = (G.minimum_Gk_m(a[sel], Gamma[sel], omega[sel], k),
                  G.minimum_Gk_v(a[sel], Gamma[sel], omega[sel], k))
        return mm * mm + vv

    kappa = k_ann.copy()
    _, frozen = wrong_class_kappa(alpha, q_star(k_ann), a, Gamma)
    frozen &= np.isfinite(q_star(k_ann)) & (q_star(k_ann) > 0)
    if np.any(frozen):
        idx = np.flatnonzero(frozen)

        def fn(k, s):
            j = idx[s]
            return k - wrong_class_kappa(alpha, q_star(k, j), a[j], Gamma[j])[0]

        lo, hi = np.zeros(idx.size), k_ann[idx]
        l, r, fl, fr = illinois(fn, lo, hi, fn(lo, slice(None)), fn(hi, slice(None)), 1e-14 * hi)
        kappa[idx] = np.where(np.abs(fl) < np.abs(fr), l, r)
    out = (G.minimum_Gk_m(a, Gamma, omega, kappa), G.minimum_Gk_v(a, Gamma, omega, kappa), kappa, frozen)
    return tuple(np.reshape(x, shape) for x in out)


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
    G_min_frozen: np.ndarray  # the wrong classes are frozen at the G minimum (quenched phi used)


def minima(t, alpha, omega, sigma2, process="ou") -> Minima:
    p = get_process(process)
    t = np.asarray(t, dtype=float)
    a, Gm = p.a(t), p.Gamma(t, sigma2)
    mG, vG, _, frozen = g_minimum(a, Gm, alpha, omega)
    mC, vC = G.minimum_C_m(a, Gm, omega), G.minimum_C_v(a, Gm, omega)
    inside = classification_margin(mG, mG * mG + vG, alpha, a, Gm) < 0
    phi, _ = wrong_class_rate(alpha, mG * mG + vG, a, Gm)
    gap = G.free_energy_G_phi(mG, vG, a, Gm, alpha, omega, phi) - G.free_energy_C(mC, vC, a, Gm, alpha, omega)
    return Minima(t, mG, vG, mC, vC, inside, gap, frozen)


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
