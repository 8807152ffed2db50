"""The affine family omega(t) = w0 + slope t over a grid, and its variance-preserving curve.

The paper's proposal (a variance-exploding process, t the noise level) is guidance that is
negative near the data (t < -w0/slope) and positive early. :func:`affine_grid` integrates the
d -> infinity mean field for every (w0, slope) of a grid in ONE vectorised computation
(:func:`.phase.integrate_points` with per-point affine schedules). :func:`preserving_curve`
finds, for each w0, the slope(s) where v(0) = sigma2: sign changes of v(0) - sigma2 along the
slope axis of the grid give brackets, refined all together by the vectorised Illinois regula
falsi (:func:`cfg_distortion.model.roots.illinois`), each evaluation one vectorised integration
at the grid's tolerance, and a last one at tighter tolerance gives each root's (m, v). A sign change that is a jump of v(0) (the classification transition: the
trajectory goes from branch G throughout to a switch at a finite time) is not a root; it is
recognised by the residual left at the converged bracket and reported, not returned.

Backed by: the per-point reference :func:`.dmf.trajectory` at every curve point
(tests/test_schedule_map.py), which gives v(0) = sigma2 within the reported tolerance.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cfg_distortion.meanfield import dmf
from cfg_distortion.meanfield.phase import PointsResult, affine_spec, integrate_points
from cfg_distortion.model.divergence import divergences
from cfg_distortion.model.roots import ConvergenceError, illinois

FINAL_RTOL, FINAL_ATOL = 1e-10, 1e-12  # integrator tolerances of the final evaluation at each root
SLOPE_XTOL = 1e-9  # bracket width in slope at which the root finder stops
JUMP = 1e-6  # |v(0) - sigma2| left at a converged bracket above this: a jump of v(0), not a root


@dataclass
class AffineGrid:
    """``integrate_points`` over w0s x slopes (w0 outer, slope inner); fields reshape to (n_w0, n_slope)."""

    alpha: float
    w0s: np.ndarray
    slopes: np.ndarray
    points: PointsResult

    def field(self, name: str) -> np.ndarray:
        return np.asarray(getattr(self.points, name)).reshape(self.w0s.size, self.slopes.size)


@dataclass(frozen=True)
class CurvePoint:
    """A point of the variance-preserving curve: v(0) = sigma2 at omega = w0 + slope t."""

    w0: float
    slope: float
    m_final: float
    v_final: float
    kl: float | None
    w2: float | None
    classified: bool
    t_switch: float | None
    v_tolerance: float  # bound on |v(0) - sigma2| anywhere in the final bracket of the root

    @property
    def schedule(self) -> str:
        return affine_spec(self.w0, self.slope)

    def to_json(self) -> dict:
        return {"w0": self.w0, "slope": self.slope, "m_final": self.m_final, "v_final": self.v_final, "kl": self.kl,
                "w2": self.w2, "classified": self.classified, "t_switch": self.t_switch,
                "v_tolerance": self.v_tolerance, "schedule": self.schedule}


@dataclass
class Curve:
    points: list[CurvePoint]
    jumps: list[tuple[float, float]] = field(default_factory=list)  # (w0, slope) where v(0) jumps across sigma2
    evaluations: int = 0


def affine_grid(alpha, w0s, slopes, sigma2=1.0, *, sampler="sde", process="ve", T=None, progress=None) -> AffineGrid:
    """The DMF at every (w0, slope) of w0s x slopes, vectorised."""
    w0s = np.asarray(w0s, dtype=float).ravel()
    slopes = np.asarray(slopes, dtype=float).ravel()
    W, S = np.meshgrid(w0s, slopes, indexing="ij")
    res = integrate_points(np.full(W.size, float(alpha)), W.ravel(), sigma2, sampler=sampler, process=process, T=T,
                           progress=progress, slope=S.ravel())
    return AffineGrid(float(alpha), w0s, slopes, res)


def _evaluate(alpha, w0, slope, sigma2, kw, final=False) -> PointsResult:
    tol = dict(rtol=FINAL_RTOL, atol=FINAL_ATOL) if final else {}  # the grid's tolerances while bracketing
    res = integrate_points(np.full(w0.size, float(alpha)), w0, sigma2, slope=slope, **tol, **kw)
    if res.failed:
        i, msg = res.failed[0]
        raise ConvergenceError(f"w0={res.omega[i]:g}, slope={res.slope[i]:g}: {msg}")
    return res


def preserving_curve(grid: AffineGrid, sigma2=1.0, *, sampler="sde", process="ve", T=None,
                     xtol=SLOPE_XTOL) -> Curve:
    """For each w0 of the grid, the slopes with v(0) = sigma2 (bracketed on the grid, refined by Illinois)."""
    kw = dict(sampler=sampler, process=process, T=T)
    f = grid.field("v_final") - sigma2
    ok = np.isfinite(f)
    rows, cols = np.nonzero(ok[:, :-1] & ok[:, 1:] & (np.sign(f[:, :-1]) * np.sign(f[:, 1:]) < 0))
    exact_r, exact_c = np.nonzero(ok & (f == 0))  # a grid point on the curve (e.g. w0 = 0, slope = 0)
    w0 = grid.w0s[rows]
    lo, hi = grid.slopes[cols], grid.slopes[cols + 1]
    f_lo, f_hi = f[rows, cols], f[rows, cols + 1]
    calls = {"n": 0}

    def fn(x, sel):
        calls["n"] += 1
        return _evaluate(grid.alpha, w0[sel], x, sigma2, kw).v_final - sigma2

    roots_w0, roots_s, tol = list(grid.w0s[exact_r]), list(grid.slopes[exact_c]), [0.0] * exact_r.size
    jumps = []
    if rows.size:
        l, r, fl, fr = illinois(fn, lo, hi, f_lo, f_hi, np.full(rows.size, xtol))
        bound = np.maximum(np.abs(fl), np.abs(fr))
        root = np.where(np.abs(fl) <= np.abs(fr), l, r)
        for k in range(rows.size):
            if bound[k] > JUMP:
                jumps.append((float(w0[k]), float(root[k])))
            else:
                roots_w0.append(float(w0[k]))
                roots_s.append(float(root[k]))
                tol.append(float(bound[k]))
    points = []
    if roots_w0:
        order = np.lexsort((roots_s, roots_w0))
        rw, rs, tl = np.array(roots_w0)[order], np.array(roots_s)[order], np.array(tol)[order]
        res = _evaluate(grid.alpha, rw, rs, sigma2, kw, final=True)
        for i in range(rw.size):
            m, v = float(res.m_final[i]), float(res.v_final[i])
            ts = float(res.t_switch[i])
            points.append(CurvePoint(float(rw[i]), float(rs[i]), m, v, **divergences(m, v, sigma2),
                                     classified=bool(res.classified[i]), t_switch=ts if np.isfinite(ts) else None,
                                     v_tolerance=float(max(tl[i], abs(v - sigma2)))))
    return Curve(points, jumps, calls["n"])


def best_point(curve: Curve) -> tuple[CurvePoint | None, str]:
    """The curve point of least kl that ends classified, or (None, why)."""
    classified = [p for p in curve.points if p.classified and p.kl is not None]
    if not curve.points:
        return None, "no (w0, slope) of the grid has v(0) = sigma2: widen --w0 or --slope"
    if not classified:
        return None, "no point of the variance-preserving curve ends classified"
    return min(classified, key=lambda p: p.kl), ""


def check_trajectory(point: CurvePoint, alpha, sigma2, *, sampler="sde", process="ve", T=None) -> dmf.Trajectory:
    """The per-point reference trajectory of a curve point (for checks)."""
    return dmf.trajectory(alpha, sigma2=sigma2, schedule=point.schedule, sampler=sampler, process=process, T=T)


__all__ = ["AffineGrid", "CurvePoint", "Curve", "affine_grid", "preserving_curve", "best_point", "check_trajectory"]
