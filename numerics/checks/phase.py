"""Checks of the phase diagram (vectorised grid, boundary alpha_c(omega)).

Independent: the boundary at omega = 0 against the channel capacity at t = 0 (closed form), and
the K -> infinity line against the typed Gaussian moment equations (:mod:`.typed`).
Consistency: the vectorised grid and the Illinois boundary against the per-point integrator and
brentq on it (the same drifts and margin, solved two ways).
"""
from __future__ import annotations

import math

import numpy as np

from cfg_distortion.meanfield import phase
from cfg_distortion.checks.registry import Check, register
from cfg_distortion.meanfield.dmf import trajectory


@register(route="consistency")
def phase_grid_matches_per_point() -> Check:
    """The vectorised grid against per-point solve_ivp trajectories (events, DOP853) on 3 x 3 points."""
    alphas, omegas = np.array([0.05, 0.3, 0.6]), np.array([0.0, 1.5, 5.0])
    grid = phase.phase_grid(alphas, omegas, 1.0)
    res = grid.points
    err = 0.0
    for i in range(res.alpha.size):
        tr = trajectory(res.alpha[i], float(res.omega[i]), 1.0)
        ts = tr.t_switch[0] if tr.t_switch else math.nan
        dt = 0.0 if (math.isnan(ts) and math.isnan(res.t_switch[i])) else abs(ts - res.t_switch[i])
        err = max(err, abs(tr.m_final - res.m_final[i]), abs(tr.v_final - res.v_final[i]), dt,
                  0.0 if tr.classified == bool(res.classified[i]) else math.inf)
    return Check("phase_grid_matches_per_point", err, 0.0, 1e-6,
                 "max |vectorised - dmf.trajectory| over m(0), v(0), t_switch (and equal classified flags), 9 points")


@register(route="closed form from the literature")
def phase_boundary_omega0_is_alpha_c_t0() -> Check:
    """alpha_c(omega = 0) from the root finder equals the closed form alpha_c(t = 0) = log(1 + 1/sigma2)/2."""
    err = 0.0
    for sigma2 in (0.5, 1.0, 2.0):
        b, = phase.boundary([0.0], sigma2)
        err = max(err, abs(b.alpha_c - 0.5 * math.log1p(1 / sigma2)))
    return Check("phase_boundary_omega0_is_alpha_c_t0", err, 0.0, 2e-6,
                 "|alpha_c(omega = 0) - log(1 + 1/sigma2)/2| over sigma2 in {0.5, 1, 2} (root tolerance 1e-6)")


@register(route="consistency")
def phase_boundary_matches_brentq() -> Check:
    """Vectorised Illinois boundary against scipy brentq on per-point trajectories, 2 omegas."""
    omegas = [1.0, 4.0]
    vec = phase.boundary(omegas, 1.0)
    err = max(abs(v.alpha_c - phase.boundary_point(w, 1.0).alpha_c) for v, w in zip(vec, omegas))
    return Check("phase_boundary_matches_brentq", err, 0.0, 2e-6,
                 "max |alpha_c(omega) vectorised Illinois - brentq on dmf.trajectory|, omega in {1, 4}")


@register(route="independent integration")
def phase_K_infinite_line_typed_moments() -> Check:
    """The K -> infinity line (alpha = inf, vectorised) against the typed Gaussian moment equations."""
    from cfg_distortion.checks.typed import gaussian_moments
    from cfg_distortion.meanfield.dmf import DEFAULT_T

    omegas = np.array([0.5, 1.0, 3.0])
    err = 0.0
    for sampler in ("sde", "ode"):
        lim = phase.limits(omegas, 1.0, sampler=sampler)["K_infinite"]
        for k, w in enumerate(omegas):
            m, v = gaussian_moments(1.0, lambda t, w=float(w): w, sampler, "ou", T=DEFAULT_T[("ou", sampler)])
            err = max(err, abs(float(lim.m_final[k]) - m), abs(float(lim.v_final[k]) - v))
    return Check("phase_K_infinite_line_typed_moments", err, 0.0, 1e-8,
                 "max |vectorised alpha = inf - typed Gaussian moment equations| over m(0), v(0), omega in "
                 "{0.5, 1, 3}, sde and ode; tolerance: 10 x the grid integrator's error (measured 1e-9)")
