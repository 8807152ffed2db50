"""Formulas typed here, from their textbook definitions, for the checks' independent routes.

Nothing in this module comes from ``theory/`` or ``_generated``: the forward processes are
typed from their definitions (Song et al. 2021 for OU and VE, Lipman et al. 2023 for the
linear flow), with f = d log a / dt and g^2 = d b^2/dt - 2 f b^2; the Gaussian scores are
typed from the two Gaussian densities; the moment equations of a reverse dynamics with a
linear score are written out by hand. A check that integrates these equations and lands on
the DMF tests the DMF's drift, not its own copy of it.

Moment equations. With a score s(x) = -c_x x + c_mu mu_c (|mu_c|^2 = d), the reverse SDE
dx = [f x - g^2 s] dt + g dW (integrated from T down to 0) gives, per dimension,
  dm/dt = (f + g^2 c_x) m - g^2 c_mu,        dv/dt = 2 (f + g^2 c_x) v - g^2,
and the probability-flow ODE dx/dt = f x - g^2 s / 2 gives
  dm/dt = (f + g^2 c_x / 2) m - g^2 c_mu / 2,  dv/dt = (2 f + g^2 c_x) v.
For guidance omega between the class N(a mu_c, Gamma I), Gamma = b^2 + a^2 sigma2, and the
centroid cloud N(0, (Gamma + a^2) I) (the K -> infinity law, or branch G's annealed
marginal): c_x = (1 + omega)/Gamma - omega/(Gamma + a^2), c_mu = (1 + omega) a / Gamma.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp

# (a(t), b(t)^2, f(t), g^2(t)) typed from each process's definition
PROCESSES = {
    "ou": (lambda t: math.exp(-t), lambda t: -math.expm1(-2 * t), lambda t: -1.0, lambda t: 2.0),
    "ve": (lambda t: 1.0, lambda t: t * t, lambda t: 0.0, lambda t: 2.0 * t),
    "flow": (lambda t: 1.0 - t, lambda t: t * t, lambda t: -1.0 / (1.0 - t), lambda t: 2.0 * t / (1.0 - t)),
}


def capacity(t: float, sigma2: float, process: str) -> float:
    """Shannon capacity (nats per dimension) of the channel mu -> a_t mu + N(0, Gamma_t I),
    mu ~ N(0, I): (1/2) log(1 + a^2 / Gamma) (Shannon 1948)."""
    a, b2, _, _ = (fn(t) for fn in PROCESSES[process])
    return 0.5 * math.log1p(a * a / (b2 + a * a * sigma2))


def guidance_weight(t: float, sigma2: float, process: str = "ou") -> float:
    """k(t) in branch G of the ODE: d log v / dt = 2 f + g^2/Gamma + omega k(t), so that
    log(v(0)/sigma2) = -int omega k dt over the G phase; k = g^2 a^2 / (Gamma (Gamma + a^2))."""
    a, b2, _, g2 = (fn(t) for fn in PROCESSES[process])
    Gm = b2 + a * a * sigma2
    return g2 * a * a / (Gm * (Gm + a * a))


def _rhs(process, sigma2, sampler, omega_of_t, guided_until=None):
    fa, fb2, ff, fg2 = PROCESSES[process]

    def rhs(t, y):
        a, b2, f, g2 = fa(t), fb2(t), ff(t), fg2(t)
        Gm = b2 + a * a * sigma2
        w = omega_of_t(t) if (guided_until is None or t > guided_until) else 0.0
        cx = (1 + w) / Gm - w / (Gm + a * a)
        cmu = (1 + w) * a / Gm
        if sampler == "sde":
            return [(f + g2 * cx) * y[0] - g2 * cmu, 2 * (f + g2 * cx) * y[1] - g2]
        return [(f + 0.5 * g2 * cx) * y[0] - 0.5 * g2 * cmu, (2 * f + g2 * cx) * y[1]]

    return rhs


def gaussian_moments(sigma2: float, omega_of_t, sampler: str, process: str = "ou", T: float = 20.0,
                     guided_until: float | None = None, t_end: float = 0.0, y0=None) -> tuple[float, float]:
    """(m, v) at t_end of guided sampling between the class and the Gaussian cloud, from
    m(T) = 0, v(T) = Gamma_T + a_T^2 (the start law), by DOP853 at rtol 1e-12.

    ``guided_until``: guidance acts only for t > guided_until (branch G), and is inert below
    it (branch C: the target dominates p_t, the guided score is the class score)."""
    fa, fb2, _, _ = PROCESSES[process]
    if y0 is None:
        y0 = [0.0, fb2(T) + fa(T) ** 2 * (1 + sigma2)]
    sol = solve_ivp(_rhs(process, sigma2, sampler, omega_of_t, guided_until), (T, t_end), y0, method="DOP853",
                    rtol=1e-12, atol=1e-14)
    if not sol.success:
        raise ArithmeticError(f"typed moment equations failed: {sol.message}")
    return float(sol.y[0, -1]), float(sol.y[1, -1])


def piecewise_omega(spec: str):
    """omega(t) of a ``piecewise:t1:w1,t2:w2,...`` spec (t decreasing), parsed here on its own."""
    body = spec.split(":", 1)[1]
    pieces = [(math.inf if t == "inf" else float(t), float(w)) for t, w in (p.split(":") for p in body.split(","))]

    def omega(t):
        value = pieces[0][1]
        for t_start, w in pieces:
            if t <= t_start:
                value = w
        return value

    return omega


def breakpoints(spec: str) -> list[float]:
    body = spec.split(":", 1)[1]
    return [float(t) for t, _ in (p.split(":") for p in body.split(",")) if t != "inf"]


def v_along_history(sigma2, spec, sampler, t_switch, branches, process="ou", T=20.0):
    """v(0) given the schedule and the DMF's branch history (switch times ``t_switch``,
    decreasing, and ``branches``, e.g. ["G", "C"]): guidance acts in G and is inert in C. The
    v-equation is free of m in both branches, so only the switch times come from the DMF.
    Integrated piecewise between breakpoints and switches (no step across a jump)."""
    if "S" in branches:
        raise ValueError("a sliding segment has no typed v-equation here")
    omega = piecewise_omega(spec)
    cuts = sorted({T, 0.0, *(t for t in breakpoints(spec) if 0.0 < t < T), *t_switch}, reverse=True)
    edges = [T, *t_switch, 0.0]

    def branch_at(t):
        for k in range(len(branches)):
            if edges[k] >= t >= edges[k + 1]:
                return branches[k]
        return branches[-1]

    y = None
    for hi, lo in zip(cuts[:-1], cuts[1:]):
        mid = 0.5 * (hi + lo)
        w = omega(mid) if branch_at(mid) == "G" else 0.0
        y = list(gaussian_moments(sigma2, lambda t, w=w: w, sampler, process, T=hi, t_end=lo, y0=y))
    return y[1]


__all__ = ["PROCESSES", "capacity", "guidance_weight", "gaussian_moments", "piecewise_omega", "v_along_history",
           "np"]
