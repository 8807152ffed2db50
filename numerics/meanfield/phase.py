"""Vectorised DMF over many (alpha, omega) points, and the boundary alpha_c(omega, sigma2).

:func:`integrate_points` integrates the mean-field state (m, v) of N guided trajectories
(constant omega per point) from T down to t = 0 in ONE array computation: a Dormand-Prince
5(4) scheme (the tableau of ``scipy.integrate.RK45``) with a step size shared by all points
and chosen by the worst point's error, the branch drifts and the margin h = T(m) - phi(q)
from the generated module, and a per-point event on h: when a point's margin changes sign
in a step, its crossing is located by bisection on the step's 4th-order dense output, the
point switches branch there and integrates the rest of the step with its new branch's drift.
There is no Python loop over points.

What it does not do, it hands on to the per-point reference :func:`.dmf.trajectory` (and says
so in ``fallback``): points captured by a wrong class (omega < 0 in a frozen branch G: the
two-class problem follows), points that start on the boundary, points whose new branch's flow points
back across h = 0 at the switch (Filippov sliding, or a repelling or grazing boundary), points
that switch twice within one step, and points whose error keeps the shared step from
progressing. The branch decision at a switch follows ``dmf._Model.decide`` (the flow of the
new branch must leave the boundary), with margin rates computed here vectorised from the same
generated partial derivatives.

Backed by: agreement with ``trajectory()`` point by point (tests/test_phase.py, the
`cfg-distortion verify` check ``phase_grid_matches_per_point``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import RK45

from cfg_distortion import _generated as G
from cfg_distortion.meanfield import dmf
from cfg_distortion.model import params as V
from cfg_distortion.model.process import get_process
from cfg_distortion.meanfield.flow import H_TOL, AffineOmega, Flow
from cfg_distortion.model.divergence import kl_array, w2_array
from cfg_distortion.model.roots import ConvergenceError, illinois

RTOL, ATOL = 1e-8, 1e-10
_MIN_STEP_FRACTION = 1e-12  # a shared step below this fraction of max(|t|, 1) means "stuck"
_MAX_STEPS = 20000
_BISECTION = 48  # crossing located to 2^-48 of a step
_SUBSTEPS = 4  # rest of a step after a switch, in the new branch, at this many sub-steps

# Dormand-Prince 5(4): scipy's public class attributes, not retyped
_A, _B, _C, _E, _P = RK45.A, RK45.B, RK45.C, RK45.E, RK45.P


@dataclass
class PointsResult:
    """Final state of N trajectories; arrays of shape (N,), row order of the inputs.

    ``t_switch`` is the first switch time (NaN in the array when there is none: writers
    turn it into an empty cell); with ``slope`` the schedules are affine, omega = omega + slope t; ``n_switches`` counts all switches; ``fallback`` marks the
    points integrated by ``dmf.trajectory`` instead; ``failed`` lists (index, message) of
    points whose integration failed (their numbers are NaN here and must not be written);
    ``captured`` marks the points captured by a wrong class (negative guidance entering a frozen
    branch G), ``t_capture`` their capture time (NaN elsewhere); ``quenched=False``: the annealed
    comparison (annealed kappa in frozen G, no capture).
    """

    alpha: np.ndarray
    omega: np.ndarray
    sigma2: float
    sampler: str
    process: str
    T: float
    m_final: np.ndarray
    v_final: np.ndarray
    t_switch: np.ndarray
    n_switches: np.ndarray
    classified: np.ndarray
    g_frozen: np.ndarray
    fallback: np.ndarray
    steps: int = 0
    rejected: int = 0
    failed: list = field(default_factory=list)
    slope: np.ndarray | None = None
    captured: np.ndarray = None  # captured by a wrong class (negative guidance in a frozen G)
    t_capture: np.ndarray = None  # its time (NaN where not captured)
    quenched: bool = True  # kappa_eff in frozen G and captures followed (False: the annealed comparison)
    rule: object = None  # the guidance rule (cfg_distortion.model.rules.Rule); None is cfg

    def __post_init__(self):
        if self.captured is None:
            self.captured = np.zeros(self.alpha.shape, dtype=bool)
        if self.t_capture is None:
            self.t_capture = np.full(self.alpha.shape, np.nan)

    @property
    def mean_shift(self) -> np.ndarray:
        return self.m_final - 1.0

    @property
    def variance_ratio(self) -> np.ndarray:
        return self.v_final / self.sigma2

    @property
    def kl(self) -> np.ndarray:
        """(1/d) KL(sampled || class law) per point (NaN where a point failed)."""
        return kl_array(self.m_final, self.v_final, self.sigma2)

    @property
    def w2(self) -> np.ndarray:
        """(1/d) W2^2(sampled, class law) per point (NaN where a point failed)."""
        return w2_array(self.m_final, self.v_final, self.sigma2)


def _combine(coefs, K, n):
    """sum_j coefs[j] K[j] over the first n stages (explicit axpy: faster than tensordot here)."""
    out = coefs[0] * K[0]
    for j in range(1, n):
        if coefs[j] != 0.0:
            out += coefs[j] * K[j]
    return out


def _dp_step(flow, t, y, h, in_c, omega, alpha, f0):
    """One Dormand-Prince step; returns (y_new, stages K of shape (7, 2, N), error estimate)."""
    K = np.empty((7,) + y.shape)
    K[0] = f0
    for s in range(1, 6):
        K[s] = flow.rhs(t + _C[s] * h, y + h * _combine(_A[s], K, s), in_c, omega, alpha)
    y_new = y + h * _combine(_B, K, 6)
    K[6] = flow.rhs(t + h, y_new, in_c, omega, alpha)
    err = h * _combine(_E, K, 7)
    return y_new, K, err


def _dense(y0, K, h, x):
    """4th-order dense output y(t0 + x h) for x in [0, 1] (per-point arrays)."""
    Q = [_combine(_P[:, k], K, 7) for k in range(4)]
    return y0 + h * (x * (Q[0] + x * (Q[1] + x * (Q[2] + x * Q[3]))))


def _locate(flow, t0, h, y0, K, alpha, in_c, h0, h1):
    """Per point, the crossing of h = 0 on the step's dense output (Illinois); (t_e, y_e)."""
    n = y0.shape[1]

    def fn(x, s):
        ys = _dense(y0[:, s], K[:, :, s], h, x)
        return flow.margin(t0 + x * h, ys[0], ys[1], alpha[s])

    lo, hi, _, _ = illinois(fn, np.zeros(n), np.ones(n), h0, h1, np.full(n, 2.0**-_BISECTION))
    return t0 + hi * h, _dense(y0, K, h, hi)


def _validate(alpha, omega, sigma2, sampler, process, T):
    alpha = np.asarray(alpha, dtype=float).ravel()
    omega = np.asarray(omega, dtype=float).ravel()
    if alpha.shape != omega.shape:
        raise ValueError(f"alpha and omega must have the same number of points ({alpha.size} != {omega.size})")
    if alpha.size == 0:
        raise ValueError("no grid points")
    if np.any(np.isnan(alpha)) or np.any(alpha < 0):
        raise ValueError(f"alpha must be >= 0 or inf (got {alpha[np.isnan(alpha) | (alpha < 0)][0]})")
    bad = ~((omega >= V.OMEGA_MIN) & (omega <= V.OMEGA_MAX))
    if bad.any():
        V.omega_bound(omega[bad][0])  # raises with the range and its reason
    _, sigma2, sampler, process, T = dmf.validate_inputs(0.0, sigma2, sampler, process, T)
    return alpha, omega, sigma2, sampler, process, T


def _omega_at(omega, t):
    """Per-point omega at time t: the array itself, or an affine family evaluated there."""
    return omega(t) if isinstance(omega, AffineOmega) else omega


@dataclass
class _Points:
    """The per-point state of the vectorised march (arrays of length N, updated in place)."""

    alpha: np.ndarray
    omega: object  # per-point array, or AffineOmega
    y: np.ndarray  # (m, v) stacked, shape (2, N)
    h_now: np.ndarray  # classification margin at the current time
    in_c: np.ndarray  # in branch C
    t_switch: np.ndarray  # first switch time (NaN: none yet)
    n_switches: np.ndarray
    g_frozen: np.ndarray  # went through a frozen branch G
    handoff: np.ndarray  # handed on to the per-point integrator
    live: np.ndarray  # still integrated here

    @property
    def finite(self) -> np.ndarray:
        return np.isfinite(self.alpha)


def _start(flow, alpha, omega, T, sigma2, quenched) -> _Points:
    """The state at t = T: m = 0, v the marginal variance, each point's branch from its margin.

    Points that start on the boundary take the branch that both flows leave it towards
    (``dmf._Model.decide``), else go per point; so do captures at the start."""
    n = alpha.size
    y = np.empty((2, n))
    y[0], y[1] = 0.0, float(G.start_variance(flow.p.a(T), flow.p.Gamma(T, sigma2)))
    finite = np.isfinite(alpha)
    h_now = flow.margin(T, y[0], y[1], alpha)
    pts = _Points(alpha, omega, y, h_now, h_now > H_TOL, np.full(n, np.nan), np.zeros(n, dtype=int),
                  np.zeros(n, dtype=bool), finite & (np.abs(h_now) <= H_TOL), np.ones(n, dtype=bool))
    if pts.handoff.any():  # starts on the boundary (alpha = 0 at large T)
        k = np.flatnonzero(pts.handoff)
        hG, hC = flow.margin_rates(T, y[0, k], y[1, k], alpha[k], omega[k])
        to_c, to_g = (hG > 0) & (hC >= 0), (hG < 0) & (hC < 0)  # hC = 0: sliding with lambda = 0 is F_C
        pts.in_c[k] = to_c
        pts.handoff[k] = ~(to_c | to_g)
        tangent = k[to_c & (hC == 0)]  # dmf labels these S at T and switches to C there at once
        pts.t_switch[tangent], pts.n_switches[tangent] = T, 1
    pts.live = ~pts.handoff
    _mark_frozen(flow, pts, T, quenched)
    return pts


def _mark_frozen(flow, pts: _Points, t, quenched) -> None:
    """Flag live points in a frozen branch G at t; with omega(t) < 0 there they are captured by a
    wrong class (quenched only), which the per-point integrator follows."""
    frozen_g = pts.live & ~pts.in_c & (pts.omega != 0) & pts.finite & flow.frozen_in_g(t, pts.y[0], pts.y[1],
                                                                                       pts.alpha)
    pts.g_frozen |= frozen_g
    capture = frozen_g & (_omega_at(pts.omega, t) < 0) & quenched
    pts.live &= ~capture
    pts.handoff |= capture


def _first_step(flow, T) -> float:
    """The first (negative) step from T: 1e-3 of the horizon, within the process's time range."""
    h = -min(1e-3 * max(T, 1.0), 0.5 * T)
    if math.isfinite(flow.p.t_max):
        h = -min(-h, 1e-2 * (flow.p.t_max - T))
    return h


def _march(flow, pts: _Points, T, rtol, atol_y, quenched, progress) -> tuple[int, int]:
    """Adaptive Dormand-Prince steps from T down to 0 for all live points together, switching
    points at their margin's sign changes; returns (accepted, rejected) step counts."""
    t, h = T, _first_step(flow, T)
    f0 = flow.rhs(t, pts.y, pts.in_c, pts.omega, pts.alpha)
    steps = rejected = 0
    done_units = 0
    scale_T = math.log1p(T)
    while t > 0.0:
        if steps + rejected > _MAX_STEPS:
            raise ConvergenceError(f"vectorised DMF: more than {_MAX_STEPS} steps (t = {t:.6g})")
        if not pts.live.any():
            break
        if t + h <= 0.0:
            h = -t
        with np.errstate(all="ignore"):
            y_new, K, err = _dp_step(flow, t, pts.y, h, pts.in_c, pts.omega, pts.alpha, f0)
            scale = atol_y + rtol * np.maximum(np.abs(pts.y), np.abs(y_new))
            ratio = np.max(np.abs(err) / scale, axis=0)
        ratio = np.where(pts.live, ratio, 0.0)
        bad = pts.live & ~np.isfinite(ratio)
        if np.any(bad):  # a point blew up: the reference integrator decides it
            pts.live &= ~bad
            pts.handoff |= bad
            continue
        err_norm = float(np.max(ratio)) if np.any(pts.live) else 0.0
        if err_norm > 1.0:
            rejected += 1
            h *= max(0.2, 0.9 * err_norm ** -0.2)
            if -h < _MIN_STEP_FRACTION * max(t, 1.0):  # stuck on a few points: hand them on
                stuck = pts.live & (ratio > 1.0)
                pts.live &= ~stuck
                pts.handoff |= stuck
                h = -_MIN_STEP_FRACTION * max(t, 1.0) * 1e3
            continue
        t_new = t + h if t + h > 1e-300 else 0.0
        steps += 1
        f0 = _accept(flow, pts, t, h, t_new, K, y_new)
        _mark_frozen(flow, pts, t_new, quenched)
        t = t_new
        h *= min(5.0, 0.9 * err_norm ** -0.2) if err_norm > 0 else 5.0
        if progress is not None:
            units = int(1000 * (1 - math.log1p(t) / scale_T))
            progress.update(units - done_units)
            done_units = units
    return steps, rejected


def _accept(flow, pts: _Points, t, h, t_new, K, y_new) -> np.ndarray:
    """Take an accepted step: switch the points whose margin changed sign against their branch
    (a start on the boundary is not a crossing until it leaves it); return the next step's f0."""
    h_new = flow.margin(t_new, y_new[0], y_new[1], pts.alpha)
    h_now, in_c = pts.h_now, pts.in_c
    crossing = pts.live & pts.finite & np.where(in_c, (h_new < 0) & (h_now >= 0), (h_new > 0) & (h_now <= 0))
    f0 = K[6]
    if np.any(crossing):
        idx = np.flatnonzero(crossing)
        y_new, h_new, f_sub = _switch_points(flow, idx, t, h, t_new, pts.y, K, y_new, h_now, h_new, pts.alpha,
                                             pts.omega, in_c, pts.t_switch, pts.n_switches, pts.g_frozen, pts.live,
                                             pts.handoff)
        f0[:, idx] = f_sub
    pts.y, pts.h_now = y_new, h_new
    return f0


def integrate_points(alpha, omega, sigma2=1.0, *, sampler="sde", process="ou", T=None, rtol=RTOL, atol=ATOL,
                     progress=None, slope=None, quenched=True, rule=None) -> PointsResult:
    """Integrate N = len(alpha) DMF trajectories (constant omega each) together; see the module doc.

    With ``slope`` (one per point) the schedules are affine: omega_i(t) = omega_i + slope_i t.

    Same start as ``dmf.trajectory`` (m = 0, v = a_T^2 (1 + sigma2) + b_T^2 at the same default
    T). ``progress``: a tqdm-like object with ``update(n)`` over 1000 units of log(1 + t).
    A point that the vectorised scheme hands on and whose per-point integration raises is
    listed in ``failed`` (its numbers are NaN in the arrays: report it, never write them).
    ``quenched=False``: the annealed kappa in frozen G and no capture, as ``dmf.trajectory``'s.
    """
    alpha, omega, sigma2, sampler, process, T = _validate(alpha, omega, sigma2, sampler, process, T)
    w0 = omega
    if slope is not None:
        slope = np.asarray(slope, dtype=float).ravel()
        if slope.shape != omega.shape or not np.all(np.isfinite(slope)):
            raise ValueError(f"slope must be finite, one per point ({slope.size} for {omega.size} points)")
        omega = AffineOmega(omega, slope)
    flow = Flow(sigma2, sampler, process, quenched=quenched, rule=rule)
    atol_y = dmf.state_atol(atol, sigma2)[:, None]  # v's tolerance scales with sigma2
    pts = _start(flow, alpha, omega, T, sigma2, quenched)
    steps, rejected = _march(flow, pts, T, rtol, atol_y, quenched, progress)
    result = PointsResult(alpha, w0, sigma2, sampler, process, T, pts.y[0].copy(), pts.y[1].copy(), pts.t_switch,
                          pts.n_switches, pts.in_c.copy(), pts.g_frozen, pts.handoff.copy(), steps=steps,
                          rejected=rejected, slope=slope, quenched=bool(quenched), rule=flow.rule)
    _run_handoffs(result)
    return result


def _switch_points(flow, idx, t, h, t_new, y, K, y_new, h_now, h_new, alpha, omega, in_c, t_switch, n_switches,
                   g_frozen, live, handoff):
    """Switch the points idx at their crossing and integrate the rest of the step in the new branch."""
    al, om, was_c = alpha[idx], omega[idx], in_c[idx]
    t_e, y_e = _locate(flow, t, h, y[:, idx], K[:, :, idx], al, was_c, h_now[idx], h_new[idx])
    g_frozen[idx] |= ~was_c & (om != 0) & flow.frozen_in_g(t_e, y_e[0], y_e[1], al)
    hG, hC = flow.margin_rates(t_e, y_e[0], y_e[1], al, om)
    # the new branch's flow must leave the boundary (else sliding, repelling or grazing: per point)
    ok = np.where(was_c, hG < 0, hC > 0)
    now_c = ~was_c
    y_sub = y_e.copy()
    with np.errstate(all="ignore"):
        hs = (t_new - t_e) / _SUBSTEPS
        ts = t_e.copy()
        for _ in range(_SUBSTEPS):
            f_s = flow.rhs(ts, y_sub, now_c, om, al)
            y_sub, _, _ = _dp_step(flow, ts, y_sub, hs, now_c, om, al, f_s)
            ts = ts + hs
        h_sub = flow.margin(t_new, y_sub[0], y_sub[1], al)
    again = np.where(now_c, h_sub < 0, h_sub > 0) | ~np.all(np.isfinite(y_sub), axis=0)
    ok &= ~again  # a second switch within the step: per point
    first = n_switches[idx] == 0
    t_switch[idx[first]] = t_e[first]
    n_switches[idx] += 1
    in_c[idx] = np.where(ok, now_c, in_c[idx])
    y_new[:, idx] = np.where(ok, y_sub, y_new[:, idx])
    h_new[idx] = np.where(ok, h_sub, h_new[idx])
    lost = idx[~ok]
    live[lost] = False
    handoff[lost] = True
    return y_new, h_new, flow.rhs(t_new, y_new[:, idx], in_c[idx], om, al)


def affine_spec(w0: float, slope: float) -> str:
    """The schedule string of omega = w0 + slope t (exact round trip of the floats)."""
    return f"affine:{float(w0)!r},{float(slope)!r}"


def _run_handoffs(res: PointsResult) -> None:
    """Integrate the handed-on points with the per-point reference; record failures by point."""
    for i in np.flatnonzero(res.fallback):
        try:
            if res.slope is None:
                tr = dmf.trajectory(res.alpha[i], float(res.omega[i]), res.sigma2, sampler=res.sampler,
                                    process=res.process, T=res.T, quenched=res.quenched, rule=res.rule)
            else:
                tr = dmf.trajectory(res.alpha[i], sigma2=res.sigma2, schedule=affine_spec(res.omega[i], res.slope[i]),
                                    sampler=res.sampler, process=res.process, T=res.T, quenched=res.quenched,
                                    rule=res.rule)
        except (ConvergenceError, ArithmeticError, ValueError) as exc:
            res.failed.append((int(i), f"{type(exc).__name__}: {exc}"))
            for arr in (res.m_final, res.v_final, res.t_switch):
                arr[i] = np.nan
            continue
        res.m_final[i], res.v_final[i] = tr.m_final, tr.v_final
        res.t_switch[i] = tr.t_switch[0] if tr.t_switch else np.nan
        res.n_switches[i] = len(tr.t_switch)
        res.classified[i] = tr.classified
        res.g_frozen[i] = tr.g_frozen
        res.captured[i] = tr.captured_by_wrong_class
        res.t_capture[i] = tr.t_capture if tr.t_capture is not None else np.nan


# ---------------------------------------------------------------- grids, boundary, limits

@dataclass
class PhaseGrid:
    """``integrate_points`` over the product alphas x omegas; arrays reshape to (n_alpha, n_omega)."""

    alphas: np.ndarray
    omegas: np.ndarray
    points: PointsResult

    def field(self, name: str) -> np.ndarray:
        return np.asarray(getattr(self.points, name)).reshape(self.alphas.size, self.omegas.size)


def phase_grid(alphas, omegas, sigma2=1.0, *, sampler="sde", process="ou", T=None, progress=None,
               rule=None) -> PhaseGrid:
    """All points of alphas x omegas (alpha outer, omega inner) in one vectorised integration."""
    alphas = np.asarray(alphas, dtype=float).ravel()
    omegas = np.asarray(omegas, dtype=float).ravel()
    n = alphas.size * omegas.size
    # ~40 float arrays over the points (7 Dormand-Prince stages of 2); >= 10 us per point (4.6 s of CPU for 1e5)
    V.budget("the phase grid", f"alpha x omega = {alphas.size} x {omegas.size} points", 8.0 * 40 * n, 1e-5 * n)
    A, W = np.meshgrid(alphas, omegas, indexing="ij")
    res = integrate_points(A.ravel(), W.ravel(), sigma2, sampler=sampler, process=process, T=T, progress=progress,
                           rule=rule)
    return PhaseGrid(alphas, omegas, res)


def final_margin(alpha, omega, sigma2=1.0, *, sampler="sde", process="ou", T=None):
    """(h(t = 0), trajectory): the margin T(m) - phi(q) at the end of the per-point trajectory.

    Continuous in alpha, and zero on the boundary alpha_c(omega), where the first switch
    reaches t = 0 (a switch at t -> 0 does not move the final state)."""
    tr = dmf.trajectory(alpha, omega, sigma2, sampler=sampler, process=process, T=T)
    flow = Flow(tr.sigma2, sampler, process)
    h = flow.margin(0.0, np.array([tr.m_final]), np.array([tr.v_final]), np.array([float(alpha)]))
    return float(h[0]), tr


@dataclass(frozen=True)
class BoundaryPoint:
    """alpha_c(omega): the largest alpha whose guided trajectory ends classified.

    ``alpha_c`` is None when no alpha in [alpha_min, alpha_max] separates the two
    (``note`` says which side); ``tolerance`` is brentq's bound on |alpha - root|."""

    omega: float
    alpha_c: float | None
    tolerance: float
    evaluations: int
    note: str = ""

    def to_json(self) -> dict:
        out = {"omega": self.omega, "alpha_c": self.alpha_c, "tolerance": self.tolerance}
        if self.note:
            out["note"] = self.note
        return out


def boundary_point(omega, sigma2=1.0, *, sampler="sde", process="ou", T=None, bracket=None, xtol=1e-6,
                   alpha_min=1e-6, alpha_max=50.0) -> BoundaryPoint:
    """alpha_c(omega, sigma2) by brentq on the final margin of ``dmf.trajectory`` in alpha.

    ``bracket = (lo, hi)`` is a guess (e.g. from a grid: the largest classified alpha and the
    next); it is checked and widened geometrically (down to alpha_min, up to alpha_max) until
    the trajectory is classified at lo and not at hi."""
    from scipy.optimize import brentq

    calls = {"n": 0}
    cache = {}

    def f(alpha):
        if alpha not in cache:
            calls["n"] += 1
            h, tr = final_margin(alpha, omega, sigma2, sampler=sampler, process=process, T=T)
            # the final branch decides; |h| makes the function continuous through the boundary
            cache[alpha] = abs(h) if tr.classified else -abs(h)
        return cache[alpha]

    a0 = float(get_process(process).alpha_c(0.0, sigma2))
    lo, hi = bracket if bracket is not None else (0.5 * a0, a0)
    lo, hi = max(float(lo), alpha_min), min(float(hi), alpha_max)
    while f(lo) <= 0:
        if lo <= alpha_min:
            return BoundaryPoint(float(omega), None, xtol, calls["n"], f"not classified for alpha >= {alpha_min:g}")
        hi, lo = lo, max(lo / 4, alpha_min)
    while f(hi) > 0:
        if hi >= alpha_max:
            return BoundaryPoint(float(omega), None, xtol, calls["n"], f"classified up to alpha = {alpha_max:g}")
        lo, hi = hi, min(hi * 2, alpha_max)
    rtol = 4 * np.finfo(float).eps
    root = brentq(f, lo, hi, xtol=xtol, rtol=rtol)
    return BoundaryPoint(float(omega), float(root), xtol + rtol * abs(root), calls["n"])


def signed_final_margin(alpha, omega, sigma2=1.0, *, sampler="sde", process="ou", T=None, rule=None):
    """Vectorised over points: |h(t = 0)| if the trajectory ends classified, else -|h(t = 0)|.

    h is continuous in alpha and vanishes where the first switch reaches t = 0, so this is a
    continuous function whose root in alpha is the boundary. Raises ConvergenceError when a
    point fails."""
    res = integrate_points(alpha, omega, sigma2, sampler=sampler, process=process, T=T, rule=rule)
    if res.failed:
        i, msg = res.failed[0]
        raise ConvergenceError(f"alpha={res.alpha[i]:g}, omega={res.omega[i]:g}: {msg}")
    h = Flow(res.sigma2, sampler, process).margin(0.0, res.m_final, res.v_final, res.alpha)
    return np.where(res.classified, np.abs(h), -np.abs(h))


def endpoint_alpha(omegas, sigma2=1.0, *, sampler="sde", process="ou", T=None, alpha_max=50.0, rule=None):
    """The alpha at which the K -> infinity endpoint (branch G throughout) sits on the t = 0
    classification boundary: T(m_G(0)) = phi(alpha, q_G(0)), solved for alpha (phi grows with
    alpha). When the first switch of alpha slightly below alpha_c(omega) happens at t -> 0
    (the G trajectory does not depend on alpha), this IS alpha_c(omega); :func:`boundary` uses
    it as its first guess and checks it by integrating. NaN where there is no root below alpha_max."""
    omegas = np.asarray(omegas, dtype=float).ravel()
    g = integrate_points(np.full(omegas.size, np.inf), omegas, sigma2, sampler=sampler, process=process, T=T,
                         rule=rule)
    flow = Flow(g.sigma2, sampler, process)
    m, v = g.m_final, g.v_final

    def fn(x, sel):
        return flow.margin(0.0, m[sel], v[sel], x)

    lo, hi = np.zeros(omegas.size), np.full(omegas.size, alpha_max)
    f_lo, f_hi = fn(lo, slice(None)), fn(hi, slice(None))
    ok = (f_lo > 0) & (f_hi < 0)
    out = np.full(omegas.size, np.nan)
    if ok.any():
        k = np.flatnonzero(ok)
        l, r, _, _ = illinois(lambda x, s: fn(x, k[s]), lo[ok], hi[ok], f_lo[ok], f_hi[ok],
                               np.full(k.size, 1e-13))
        out[ok] = 0.5 * (l + r)
    return out


def boundary(omegas, sigma2=1.0, *, sampler="sde", process="ou", T=None, xtol=1e-6, alpha_min=1e-6,
             alpha_max=50.0, progress=None, rule=None) -> list[BoundaryPoint]:
    """alpha_c(omega) for all omegas at once: bracketed Illinois regula falsi in alpha on
    :func:`signed_final_margin`, every evaluation one vectorised integration over the omegas.

    The bracket is built around :func:`endpoint_alpha` (alpha_c(t = 0) where that has no root)
    and widened geometrically within [alpha_min, alpha_max] until the trajectory is classified
    at its low end and not at its high end. ``tolerance`` is the final bracket width (<= xtol).
    :func:`boundary_point` is the per-point brentq reference."""
    omegas = np.asarray(omegas, dtype=float).ravel()
    xtol = V.xtol(xtol)
    kw = dict(sigma2=sigma2, sampler=sampler, process=process, T=T, rule=rule)
    a0 = float(get_process(process).alpha_c(0.0, sigma2))
    guess = endpoint_alpha(omegas, alpha_max=alpha_max, **kw)
    guess = np.clip(np.where(np.isfinite(guess), guess, a0), 2 * alpha_min, 0.5 * alpha_max)
    step_lo = step_hi = np.full(omegas.size, 4 * xtol)  # the guess is usually right to ~1e-7
    lo, hi = np.maximum(guess - step_lo, alpha_min), np.minimum(guess + step_hi, alpha_max)

    def evaluate(alpha, sel):
        if progress is not None:
            progress.update(1)
        return signed_final_margin(alpha, omegas[sel], **kw)

    all_ = np.arange(omegas.size)
    f_lo, f_hi = evaluate(lo, all_), evaluate(hi, all_)
    while True:  # widen down where lo is not classified, up where hi is
        down = (f_lo <= 0) & (lo > alpha_min)
        up = (f_hi > 0) & (hi < alpha_max)
        if not (down.any() or up.any()):
            break
        if down.any():
            step_lo = np.where(down, 8 * step_lo, step_lo)
            hi[down], f_hi[down] = lo[down], f_lo[down]
            lo[down] = np.maximum(lo[down] - step_lo[down], alpha_min)
            f_lo[down] = evaluate(lo[down], np.flatnonzero(down))
        if up.any():
            step_hi = np.where(up, 8 * step_hi, step_hi)
            lo[up], f_lo[up] = hi[up], f_hi[up]
            hi[up] = np.minimum(hi[up] + step_hi[up], alpha_max)
            f_hi[up] = evaluate(hi[up], np.flatnonzero(up))
    note = np.full(omegas.size, "", dtype=object)
    note[f_lo <= 0] = f"not classified for alpha >= {alpha_min:g}"
    note[f_hi > 0] = f"classified up to alpha = {alpha_max:g}"
    ok = note == ""
    idx = np.flatnonzero(ok)
    root = np.full(omegas.size, np.nan)
    if idx.size:
        l, r, fl, fr = illinois(lambda x, s: evaluate(x, idx[s]), lo[ok], hi[ok], f_lo[ok], f_hi[ok],
                                 np.full(idx.size, xtol))
        # the end of the final bracket with the smaller |f|; the root is within the bracket width
        root[ok] = np.where(np.abs(fl) <= np.abs(fr), l, r)
    # tolerance: the termination bound xtol (the final bracket is narrower, or collapsed on an exact zero)
    return [BoundaryPoint(float(w), float(root[k]) if ok[k] else None, float(xtol), 0, str(note[k]))
            for k, w in enumerate(omegas)]


def limits(omegas, sigma2=1.0, *, sampler="sde", process="ou", T=None, rule=None) -> dict[str, PointsResult]:
    """The alpha -> 0 (alpha = 0: sub-exponential K) and K -> infinity (alpha = inf: branch G
    throughout, CFG between the class and the centroid cloud) trajectories at each omega."""
    omegas = np.asarray(omegas, dtype=float).ravel()
    return {name: integrate_points(np.full(omegas.size, al), omegas, sigma2, sampler=sampler, process=process, T=T,
                                   rule=rule)
            for name, al in (("alpha_0", 0.0), ("K_infinite", np.inf))}


# ---------------------------------------------------------------- default grid, CSV text

_NICE = (1.0, 2.0, 2.5, 5.0)


def _nice_step(raw: float) -> float:
    """The largest of 1, 2, 2.5, 5 x 10^k not above ``raw``."""
    k = math.floor(math.log10(raw))
    return max(s * 10.0**k for s in _NICE if s * 10.0**k <= raw * (1 + 1e-12))


def default_alphas(omegas, sigma2=1.0, *, sampler="sde", process="ou", T=None, points: int = 40,
                   rule=None) -> np.ndarray:
    """An alpha grid that covers the boundary alpha_c(omega) over ``omegas`` for this sigma2 and sampler.

    Up to 1.25 times the larger of alpha_c(t = 0) (the omega = 0 boundary) and the largest
    :func:`endpoint_alpha` over the omegas (where the boundary sits for omega > 0), in a round
    step (1, 2, 2.5 or 5 x 10^k) giving at least ``points`` points, starting one step above 0
    (alpha = 0 starts on the boundary). At sigma2 = 1 (SDE, omega in [0, 6]) the step is 0.025,
    so (alpha, omega) = (0.3, 3) is a grid point.
    """
    omegas = np.asarray(omegas, dtype=float).ravel()
    a0 = float(get_process(process).alpha_c(0.0, sigma2))
    with np.errstate(all="ignore"):
        ends = endpoint_alpha(omegas, sigma2, sampler=sampler, process=process, T=T, rule=rule)
    top = 1.25 * max(a0, float(np.nanmax(ends)) if np.isfinite(ends).any() else a0)
    step = _nice_step(top / points)
    n = math.ceil(top / step - 1e-9)
    decimals = max(0, 3 - math.floor(math.log10(step)))
    return np.round(step * np.arange(1, n + 1), decimals)


def boundary_warnings(boundary, alphas) -> list[str]:
    """One line when the boundary alpha_c(omega) leaves the alpha grid (or no root was found in range)."""
    lo, hi = float(np.min(alphas)), float(np.max(alphas))
    found = [b.alpha_c for b in boundary if b.alpha_c is not None]
    outside = [a for a in found if not lo <= a <= hi]
    missing = len(boundary) - len(found)
    if not outside and not missing:
        return []
    span = f"alpha_c from {min(found):.4g} to {max(found):.4g}" if found else "no alpha_c found"
    return [f"the boundary leaves the alpha grid [{lo:g}, {hi:g}] at {len(outside) + missing} of {len(boundary)} "
            f"omegas ({span}{f'; {missing} without a root' if missing else ''}): widen the alpha range"]


GRID_COLUMNS = ["alpha", "omega", "t_switch", "m_final", "v_final", "classified", "mean_shift", "variance_ratio",
                "kl", "w2", "g_frozen", "n_switches", "integrator", "status", "captured_by_wrong_class", "t_capture"]
BOUNDARY_COLUMNS = ["omega", "alpha_c", "tolerance", "note"]


def _numbers(x) -> np.ndarray:
    """'%.12g' strings of a float array, empty where NaN or +-inf (column-wise, no per-point branching)."""
    x = np.asarray(x, dtype=float)
    text = np.array(list(map("{:.12g}".format, x.tolist())), dtype=object)
    text[~np.isfinite(x)] = ""
    return text


def _words(flag, yes: str, no: str) -> np.ndarray:
    return np.where(np.asarray(flag, dtype=bool), yes, no).astype(object)


def _rows(columns: list[str], cells: list) -> str:
    return ",".join(columns) + "\n" + "".join(map("{}\n".format, map(",".join, zip(*cells))))


def grid_csv_text(res: PointsResult) -> str:
    """The grid CSV (GRID_COLUMNS), one row per point, written column by column.

    A failed point has empty cells but its coordinates, ``per-point`` and ``failed: <message>``."""
    n = res.alpha.size
    failed = np.zeros(n, dtype=bool)
    status = np.where(np.asarray(res.captured, dtype=bool), "captured", "ok").astype(object)
    for i, msg in res.failed:
        failed[i], status[i] = True, ("failed: " + msg).replace(",", ";").replace("\n", " ")
    with np.errstate(all="ignore"):
        numbers = [res.t_switch, res.m_final, res.v_final]
        derived = [res.mean_shift, res.variance_ratio, res.kl, res.w2]
    cells = [_numbers(res.alpha), _numbers(res.omega)]
    cells += [_numbers(np.where(failed, np.nan, x)) for x in numbers]
    cells.append(_words(res.classified, "true", "false"))
    cells += [_numbers(np.where(failed, np.nan, x)) for x in derived]
    cells += [_words(res.g_frozen, "true", "false"), np.array(list(map(str, res.n_switches.tolist())), dtype=object),
              _words(res.fallback | failed, "per-point", "vectorised"), status,
              _words(res.captured, "true", "false"), _numbers(res.t_capture)]
    for k in (5, 10, 11, 14):  # classified, g_frozen, n_switches, captured: empty for a failed point
        cells[k][failed] = ""
    return _rows(GRID_COLUMNS, cells)


def boundary_csv_text(boundary) -> str:
    """The boundary alpha_c(omega) as CSV (BOUNDARY_COLUMNS); alpha_c empty where no root was found."""
    omega = _numbers([b.omega for b in boundary])
    alpha_c = _numbers([np.nan if b.alpha_c is None else b.alpha_c for b in boundary])
    tol = _numbers([b.tolerance for b in boundary])
    note = np.array([b.note.replace(",", ";") for b in boundary], dtype=object)
    return _rows(BOUNDARY_COLUMNS, [omega, alpha_c, tol, note])
