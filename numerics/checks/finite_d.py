"""Checks of the finite-d effective theory (``theory/finite_d.py``, :mod:`.finite_d`).

- At omega = 0 the exact-transition step in (m, x_perp) has no discretisation error: the
  paths at t = 0 follow the class law, E m = 1 and E v = sigma2 (d - 1)/d, even with 20 steps
  (tolerance: 4 standard errors of the path mean).
- At d = 10^4 the smooth switch is sharp and the noise small: m(0) approaches the
  event-driven d -> infinity DMF (tolerance 0.005; measured ~0.001). Two theories of this
  project against each other: consistency, not backing.
"""
from __future__ import annotations

from cfg_distortion.checks.registry import Check, register

_Z = 4.0


@register(route="closed form from the literature")
def finite_d_class_law() -> Check:
    """omega = 0, d = 20, sigma2 = 0.7, 20 steps: the worse of m and v against the class law."""
    from cfg_distortion.finite_d.effective import solve

    d, sigma2 = 20, 0.7
    r = solve(d, alpha=0.3, omega=0.0, sigma2=sigma2, paths=40000, steps=20, seed=11)
    route = f"finite-d SDE d={d} alpha=0.3 omega=0, {r.paths} paths, 20 steps; tolerance {_Z:g} SEM"
    checks = (Check("finite_d_class_law_m", r.m_mean, 1.0, _Z * r.m_sem, route),
              Check("finite_d_class_law_v", r.v_mean, sigma2 * (d - 1) / d, _Z * r.v_sem, route))
    return max(checks, key=lambda c: abs(c.value - c.reference) / c.tolerance)


@register(route="consistency")
def finite_d_large_d_limit() -> Check:
    """m(0) of the finite-d theory at d = 10^4 against the DMF, alpha = 0.3, omega = 3, sigma2 = 1."""
    from cfg_distortion.meanfield.dmf import trajectory
    from cfg_distortion.finite_d.effective import solve

    tr = trajectory(0.3, 3.0, 1.0, sampler="sde")
    r = solve(10_000, alpha=0.3, omega=3.0, sigma2=1.0, paths=2000, steps=1000)
    return Check("finite_d_large_d_limit", r.m_mean, tr.m_final, 0.005,
                 "finite-d SDE d=1e4 (2000 paths, 1000 steps) vs event-driven DMF")
