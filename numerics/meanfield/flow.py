"""The mean-field flow of one (sigma2, sampler, process): branch drifts, margin, margin rates.

Shared by the per-point integrator (:mod:`.dmf`, scalars) and the grid integrator
(:mod:`.phase`, arrays). The margin is h = T(m) - phi(q) with the quenched phi of
:mod:`.rates`; its rate along a branch's drift, dh/dtau = h_m F_m + h_v F_v - h_t, uses the
generated partial derivatives (envelope theorem in the frozen branch).

Branch G's drift takes the wrong-class coefficient kappa of M = kappa x from
:func:`.rates.wrong_class_kappa`: the annealed value where the wrong classes are paramagnetic,
kappa_eff = (2 Gamma / a) d phi/dq of the frozen phi where they are condensed (Sigma(1) < 0).
``Flow(..., quenched=False)`` keeps the annealed kappa everywhere (the cloud drift: for
comparisons only).
"""
from __future__ import annotations

import numpy as np

from cfg_distortion import _generated as G
from cfg_distortion.model.process import get_process
from cfg_distortion.model.rates import wrong_class_kappa, wrong_class_rate
from cfg_distortion.model.rules import parse_rule

H_TOL = 1e-9  # |h| below this at a restart counts as "on the boundary"


class AffineOmega:
    """Per-point affine schedules omega_i(t) = w0_i + slope_i t, in place of a per-point constant omega.

    Indexing selects points (as for an array of omegas); calling it at t (a scalar or per-point
    times) gives the omegas there. ``!= 0`` says which points guide at all."""

    def __init__(self, w0, slope):
        self.w0, self.slope = np.asarray(w0, dtype=float), np.asarray(slope, dtype=float)

    def __call__(self, t):
        return self.w0 + self.slope * t

    def __getitem__(self, idx):
        return AffineOmega(self.w0[idx], self.slope[idx])

    def __ne__(self, other):
        if not (np.ndim(other) == 0 and other == 0):
            return NotImplemented
        return (self.w0 != 0) | (self.slope != 0)

    __hash__ = None


class Flow:
    """Vectorised drifts, margin and margin rates for one (sigma2, sampler, process)."""

    def __init__(self, sigma2, sampler, process, quenched=True, rule=None):
        self.sigma2 = sigma2
        self.quenched = bool(quenched)
        self.p = get_process(process)
        self.da = G.PROCESS[process]["da"]
        self.dGamma = G.PROCESS[process]["dGamma"]
        self.rule = parse_rule(rule)
        self._last = (None, None)  # (t, coeffs(t)) of the latest scalar time
        if self.rule.is_cfg:
            self.fns = {b: G.DRIFTS[(b, sampler)] for b in "GC"}
            self.fns_kappa = G.KAPPA_DRIFTS[sampler]
        else:  # a guidance rule of theory/rules.py: its drifts also take b_t (and kappa in G) and its parameters
            self.fns = self.rule.drift_functions(sampler)
            self.fns_kappa = self.fns["G"]

    def coeffs(self, t):
        """(a, Gamma, f, g2) at t (a scalar, or an array of per-point times)."""
        p = self.p
        if isinstance(t, float) or np.ndim(t) == 0:
            # one time: solve_ivp asks for the same t two or three times per step (both branches, kappa)
            t = float(t)
            if self._last[0] != t:
                self._last = (t, (float(p.a(t)), float(p.Gamma(t, self.sigma2)), float(p.f(t)), float(p.g2(t))))
            return self._last[1]
        t = np.asarray(t, dtype=float)
        return (np.broadcast_to(p.a(t), t.shape), p.Gamma(t, self.sigma2),
                np.broadcast_to(p.f(t), t.shape), np.broadcast_to(p.g2(t), t.shape))

    def kappa(self, t, m, v, alpha):
        """(kappa, frozen) of branch G at (t, m, v): kappa_eff where frozen (unless not quenched)."""
        a, Gm, _, _ = self.coeffs(t)
        q = m * m + v
        if not self.quenched:
            return G.kappa_annealed(q, a, Gm), np.zeros(np.shape(q), dtype=bool)
        return wrong_class_kappa(alpha, q, a, Gm)

    def _state_args(self, t, m, v, omega):
        """The leading arguments of the generated drifts: (m, v, a, Gamma, f, g2, omega), with b_t
        after a for a guidance rule other than cfg (its predictions' space coefficients need it)."""
        a, Gm, f, g2 = self.coeffs(t)
        if self.rule.is_cfg:
            return (m, v, a, Gm, f, g2, omega)
        b = np.broadcast_to(self.p.b(np.asarray(t, dtype=float)), np.shape(t)) if np.ndim(t) else float(self.p.b(t))
        return (m, v, a, b, Gm, f, g2, omega)

    def _g_drift(self, t, m, v, omega, alpha):
        # kappa only matters where omega != 0: skip the frozen root there (alpha = inf: annealed)
        if isinstance(omega, float) and isinstance(alpha, float):
            alpha = alpha if omega != 0 else np.inf
        else:
            alpha = np.where(np.asarray(omega) != 0, alpha, np.inf)
        kappa, _ = self.kappa(t, m, v, alpha)
        fm, fv = self.fns_kappa
        args = self._state_args(t, m, v, omega)
        return fm(*args, kappa), fv(*args, kappa)

    def branch_drift(self, branch, t, m, v, omega, alpha=np.inf):
        """(dm/dtau, dv/dtau) of one branch (alpha sets kappa in branch G; inf: annealed);
        ``omega`` a number, per-point array or :class:`AffineOmega`."""
        if isinstance(omega, AffineOmega):
            omega = omega(t)
        if branch == "G":
            return self._g_drift(t, m, v, omega, alpha)
        fm, fv = self.fns[branch]
        args = self._state_args(t, m, v, omega)
        return fm(*args), fv(*args)

    def rhs(self, t, y, in_c, omega, alpha):
        """dy/dt (= -dy/dtau) with y = (m, v) stacked as shape (2, N); branch C where in_c."""
        gm, gv = self.branch_drift("G", t, y[0], y[1], omega, alpha)
        cm, cv = self.branch_drift("C", t, y[0], y[1], omega)
        return -np.stack([np.where(in_c, cm, gm), np.where(in_c, cv, gv)])

    def margin(self, t, m, v, alpha):
        """h = T(m) - phi(q); -inf where alpha = inf (K -> infinity: branch G for good)."""
        finite = np.isfinite(alpha)
        h = np.full(np.shape(m), -np.inf)
        if np.any(finite):
            a, Gm, _, _ = self.coeffs(t)
            sel = lambda x: x[finite] if np.ndim(x) else x  # noqa: E731
            m_, v_ = m[finite], v[finite]
            phi, _ = wrong_class_rate(alpha[finite], m_ * m_ + v_, sel(a), sel(Gm))
            h[finite] = G.target_term(m_, sel(a), sel(Gm)) - phi
        return h

    def margin_rates(self, t, m, v, alpha, omega):
        """(dh/dtau along F_G, dh/dtau along F_C), vectorised (finite alpha only)."""
        a, Gm, _, _ = self.coeffs(t)
        (_, p_q, p_a, p_G), _ = wrong_class_rate(alpha, m * m + v, a, Gm, derivatives=True)
        h_m = G.target_term_dm(m, a, Gm) - 2 * m * p_q
        h_v = -p_q
        h_t = ((G.target_term_da(m, a, Gm) - p_a) * self.da(t)
               + (G.target_term_dGamma(m, a, Gm) - p_G) * self.dGamma(t, self.sigma2))
        rates = []
        for b in "GC":
            Fm, Fv = self.branch_drift(b, t, m, v, omega, alpha)
            rates.append(h_m * Fm + h_v * Fv - h_t)  # tau = -t
        return rates[0], rates[1]

    def frozen_in_g(self, t, m, v, alpha):
        """Sigma(1) < -1e-7: wrong classes frozen (branch G uses kappa_eff there)."""
        a, Gm, _, _ = self.coeffs(t)
        return G.entropy_saddle(alpha, m * m + v, a, Gm) < -1e-7

    def sliding_drift(self, t, m, v, alpha, omega):
        """Filippov field lambda F_G + (1 - lambda) F_C with dh/dtau = 0 (lambda clipped to [0, 1])."""
        hG, hC = self.margin_rates(t, m, v, alpha, omega)
        with np.errstate(divide="ignore", invalid="ignore"):
            lam = np.where(hC != hG, hC / (hC - hG), 0.5)
        lam = np.clip(lam, 0.0, 1.0)
        gm, gv = self.branch_drift("G", t, m, v, omega, alpha)
        cm, cv = self.branch_drift("C", t, m, v, omega)
        return lam * gm + (1 - lam) * cm, lam * gv + (1 - lam) * cv
