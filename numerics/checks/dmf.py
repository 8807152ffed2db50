"""Checks of the DMF trajectories (derivation steps 5-7) by independent routes; claim 5 (the
variance theorem) is checked in checks_schedules."""
from __future__ import annotations

import math

from cfg_distortion import _generated as G
from cfg_distortion.checks.registry import Check, register
from cfg_distortion.meanfield.dmf import trajectory


def _omega0(sampler: str, sigma2: float) -> Check:
    tr = trajectory(0.3, 0.0, sigma2, sampler=sampler)
    err = max(abs(tr.m_final - 1.0), abs(tr.v_final - sigma2))
    return Check(f"dmf_omega0_{sampler}_sigma2_{sigma2:g}", err, 0.0, 1e-6,
                 "omega = 0 must sample the class law exactly: max(|m(0) - 1|, |v(0) - sigma2|)")


for _sampler in ("sde", "ode"):
    for _s2 in (0.5, 1.0, 2.0):
        def _make(sampler=_sampler, s2=_s2):
            return _omega0(sampler, s2)
        _make.__name__ = f"dmf_omega0_{_sampler}_sigma2_{_s2:g}"
        register(_make)


@register
def dmf_gaussian_limit_closed_form() -> Check:
    """alpha = inf integration against the sympy closed forms of the Gaussian (K -> inf) limit."""
    err = 0.0
    for sampler in ("sde", "ode"):
        for sigma2, omega in ((1.0, 3.0), (0.5, 1.0), (2.0, 0.5)):
            tr = trajectory(math.inf, omega, sigma2, sampler=sampler)
            err = max(err, abs(tr.m_final - getattr(G, f"gaussian_limit_m_{sampler}")(sigma2, omega)),
                      abs(tr.v_final - getattr(G, f"gaussian_limit_v_{sampler}")(sigma2, omega)))
    return Check("dmf_gaussian_limit_closed_form", err, 0.0, 1e-6,
                 "max |DMF(alpha = inf) - closed form| over m(0), v(0), both samplers, 3 (sigma2, omega)")
