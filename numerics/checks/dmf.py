"""Checks of the DMF trajectories (derivation steps 5-7) by independent routes; claim 5 (the
variance theorem) is checked in :mod:`.schedules`.

- omega = 0 reproduces the class law (the unguided reverse dynamics samples the data law,
  Anderson 1982), for both samplers and three sigma2;
- alpha = inf (K -> infinity) against the moment equations of guided sampling between two
  Gaussians, typed in :mod:`.typed` from the two Gaussian scores and integrated by scipy: this
  tests the branch-G drift, which the sympy closed forms of theory/gaussian_limit.py share;
- the margin rates dh/dtau along each branch's drift, against central finite differences of the
  margin h = T(m) - phi(q) along that drift, in the annealed and the frozen branch.
"""
from __future__ import annotations

import math

import numpy as np

from cfg_distortion.checks.registry import Check, register
from cfg_distortion.meanfield.dmf import DEFAULT_T, trajectory


def _omega0(sampler: str, sigma2: float) -> Check:
    tr = trajectory(0.3, 0.0, sigma2, sampler=sampler)
    err = max(abs(tr.m_final - 1.0), abs(tr.v_final - sigma2))
    return Check(f"dmf_omega0_{sampler}_sigma2_{sigma2:g}", err, 0.0, 2e-8,
                 "omega = 0 must sample the class law exactly: max(|m(0) - 1|, |v(0) - sigma2|); tolerance: "
                 "solver rtol 1e-10 and the ODE's start offset (measured up to 3e-9), times about 10")


for _sampler in ("sde", "ode"):
    for _s2 in (0.5, 1.0, 2.0):
        def _make(sampler=_sampler, s2=_s2):
            return _omega0(sampler, s2)
        _make.__name__ = f"dmf_omega0_{_sampler}_sigma2_{_s2:g}"
        register(_make, route="closed form from the literature")


GAUSSIAN_CASES = ((1.0, 3.0), (0.5, 1.0), (2.0, 0.5))


@register(route="independent integration")
def dmf_gaussian_limit_typed_moments() -> Check:
    """alpha = inf DMF against the typed Gaussian moment equations, both samplers, 3 (sigma2, omega)."""
    from cfg_distortion.checks.typed import gaussian_moments

    err = 0.0
    for sampler in ("sde", "ode"):
        for sigma2, omega in GAUSSIAN_CASES:
            tr = trajectory(math.inf, omega, sigma2, sampler=sampler)
            m, v = gaussian_moments(sigma2, lambda t, w=omega: w, sampler, "ou", T=DEFAULT_T[("ou", sampler)])
            err = max(err, abs(tr.m_final - m), abs(tr.v_final - v))
    return Check("dmf_gaussian_limit_typed_moments", err, 0.0, 1e-9,
                 "max |DMF(alpha = inf) - typed moment equations| over m(0), v(0), both samplers, (sigma2, omega) in "
                 f"{GAUSSIAN_CASES}; tolerance: 10 x the DMF solver's rtol 1e-10 (the typed one runs at 1e-12)")


# (t, m, v, alpha, sigma2, omega, sampler): annealed and frozen branches, both samplers
MARGIN_POINTS = ((1.0, 0.55, 0.9, 0.3, 1.0, 3.0, "sde"), (0.6, 0.8, 0.7, 0.45, 1.0, 2.0, "ode"),
                 (0.1, 0.85, 0.3, 0.2, 0.25, 1.5, "sde"), (0.2, 0.7, 0.5, 0.15, 0.25, -0.5, "ode"))


@register(route="finite difference")
def margin_rates_finite_difference() -> Check:
    """dh/dtau along F_G and F_C from the generated partial derivatives of T and phi (envelope
    theorem in the frozen branch) against (h(t - e, y + e F) - h(t + e, y - e F)) / (2 e)."""
    from cfg_distortion.meanfield.flow import Flow

    err, eps, frozen_seen = 0.0, 1e-5, 0
    for t, m, v, alpha, sigma2, omega, sampler in MARGIN_POINTS:
        flow = Flow(sigma2, sampler, "ou")
        M, V, A = np.array([m]), np.array([v]), np.array([alpha])
        frozen_seen += int(bool(flow.frozen_in_g(t, M, V, A)[0]))
        rates = flow.margin_rates(t, M, V, A, omega)
        for branch, rate in zip("GC", rates):
            Fm, Fv = flow.branch_drift(branch, t, M, V, omega, A)
            hp = flow.margin(t - eps, M + eps * Fm, V + eps * Fv, A)
            hm = flow.margin(t + eps, M - eps * Fm, V - eps * Fv, A)
            fd = float((hp - hm)[0]) / (2 * eps)
            err = max(err, abs(float(rate[0]) - fd) / max(1.0, abs(fd)))
    if frozen_seen == 0:
        raise RuntimeError("margin_rates_finite_difference: no point in the frozen branch")
    return Check("margin_rates_finite_difference", err, 0.0, 1e-8,
                 f"max relative |rate - central difference| (step 1e-5) over {len(MARGIN_POINTS)} points, both "
                 f"branches' drifts, {frozen_seen} point(s) frozen; tolerance: O(e^2) truncation ~1e-10 and "
                 "rounding ~1e-11 (measured 2e-9: the frozen root's rtol 1e-13 amplified), times about 5")


@register(route="finite difference")
def kappa_eff_matches_finite_difference() -> Check:
    """kappa = (2 Gamma / a) d phi/dq (generated, envelope theorem in the frozen branch) against a
    central finite difference of the quenched rate phi(q) itself, in both wrong-class branches."""
    from cfg_distortion import _generated as G
    from cfg_distortion.model.process import get_process
    from cfg_distortion.model.rates import wrong_class_kappa, wrong_class_rate

    p = get_process("ou")
    # (alpha, q, t): frozen at small alpha / large q, annealed at large alpha
    pts = np.array([(0.2, 1.5, 0.3), (0.1, 2.0, 0.5), (0.6, 9.0, 0.8), (0.7, 4.0, 0.4), (1.0, 1.0, 0.5),
                    (0.5, 1.0, 2.0)])
    alpha, q, t = pts.T
    a, Gm = p.a(t), p.Gamma(t, 1.0)
    kappa, frozen = wrong_class_kappa(alpha, q, a, Gm)
    h = 1e-5 * q
    fd = (wrong_class_rate(alpha, q + h, a, Gm)[0] - wrong_class_rate(alpha, q - h, a, Gm)[0]) / (2 * h)
    err = float(np.max(np.abs(kappa - 2 * Gm / a * fd) / kappa))
    if not (frozen.any() and (~frozen).any()):
        raise RuntimeError("the check points must cover both the frozen and the annealed branch")
    k_ann = np.asarray(G.kappa_annealed(q, a, Gm), dtype=float)
    rival = float(np.max(np.abs(k_ann - 2 * Gm / a * fd) / k_ann))  # the annealed kappa would be this far off
    return Check("kappa_eff_matches_finite_difference", err, 0.0, 1e-7,
                 f"max relative |kappa - (2 Gamma/a) dphi/dq| over {len(pts)} (alpha, q, t), "
                 f"{int(frozen.sum())} frozen; central difference, step 1e-5 q; tolerance: O(h^2) truncation "
                 "~1e-10 and rounding ~1e-11 (measured 1e-10), times about 1000; rival: the annealed kappa",
                 rival=rival)
