"""Designed guidance schedules: a negative window that restores the variance (claim 6).

A schedule ``piecewise:inf:W,t1:w,t2:0`` guides with omega = W early (the class separates),
then with a negative omega = w on the window t2 < t <= t1, then not at all. Parametrisation
(derivations/claim6-schedule-design.md, from :mod:`cfg_distortion.theory.schedule_design`):

- the window ENDS at t2 = t_s(W), the first switch time of the constant-W trajectory. Up to
  t_s that trajectory is in branch G, where guidance acts; below it, in branch C, guidance is
  inert, so a window there does nothing. Once omega = 0, the ratio r = v / Gamma_t relaxes
  to 1 (SDE) or stays put (ODE) whatever the branch and whatever m, so v(0) = sigma2 iff
  v(t2) = Gamma_{t2}: the design condition is local to the window's end;
- the window's STRENGTH w is fixed (default -1: the guided score is then the unconditional
  score grad log p_t(x)), and its START t1 is the root of v(0) - sigma2, bracketed between
  t1 = t2 (no window: the constant-W shrinkage, v(0) < sigma2) and a window long enough to
  overshoot, and found by brentq;
- if the sample then ends unclassified, the window is made stronger and shorter (|w|
  doubled, up to ``max_strength``): per unit of variance restored, a window costs less
  overlap m the closer it sits to the switch (the cost ratio of the derivation document).
  If no strength works, :class:`NoWindowError` says why.

Every number comes from :func:`.dmf.trajectory`; nothing here re-types a drift.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from cfg_distortion.model import params as V
from cfg_distortion.model.divergence import divergences
from cfg_distortion.meanfield.dmf import Trajectory, trajectory, validate_inputs
from cfg_distortion.model.process import get_process
from cfg_distortion.model.rates import classification_margin
from cfg_distortion.result import Result

XTOL = 1e-9  # absolute tolerance of brentq on the window start t1
V_TOL = 1e-4  # v(0) must equal sigma2 to this times min(1, sigma2); the root reaches ~1e-9
MAX_STRENGTH = 64.0


class NoWindowError(RuntimeError):
    """No negative window restores v(0) = sigma2 with the sample classified (the message says why)."""


@dataclass(repr=False)
class Design(Result):
    """A designed schedule, its DMF trajectory (d -> infinity), and the constant-omega baseline.

    ``status`` is ``"ok"``, or ``"no_window"`` when no negative window restores v(0) = sigma2
    with the sample classified (``message`` says why; ``schedule`` and the trajectories are
    then None). Times are forward times of the process; ``omega_max`` is the early guidance
    strength W (the ``omega`` argument of the API and the CLI).
    """

    alpha: float
    sigma2: float
    omega_max: float
    sampler: str
    process: str
    schedule: str | None
    trajectory: Trajectory | None
    baseline: Trajectory | None
    omega_window: float | None  # None: no window needed (guidance never acts)
    t_window_start: float | None
    t_window_end: float | None
    root_xtol: float
    evaluations: int
    tried_strengths: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    status: str = "ok"
    message: str = ""

    @classmethod
    def no_window(cls, alpha, sigma2, omega_max, sampler, process, reason: str) -> "Design":
        """The result when :func:`design_schedule` raises :class:`NoWindowError` (status ``no_window``)."""
        return cls(alpha, sigma2, omega_max, sampler, process, None, None, None, None, None, None, XTOL, 0,
                   status="no_window", message=str(reason))

    @property
    def m_final(self) -> float:
        return self.trajectory.m_final

    @property
    def v_final(self) -> float:
        return self.trajectory.v_final

    @property
    def classified(self) -> bool:
        return self.trajectory.classified

    @property
    def window_in_G(self) -> bool:
        """The designed trajectory is in branch G all through the window (where guidance acts)."""
        if self.omega_window is None:
            return True
        tr = self.trajectory
        inside = (tr.t > self.t_window_end) & (tr.t < self.t_window_start)
        return bool(all(b in ("G", "Gf") for b, k in zip(tr.branch, inside) if k))

    def to_json(self) -> dict:
        if self.trajectory is None:
            return {"schedule": None, "no_window": True, "reason": self.message,
                    "alpha": None if math.isinf(self.alpha) else self.alpha, "K_infinite": math.isinf(self.alpha),
                    "sigma2": self.sigma2, "omega": self.omega_max, "omega_max": self.omega_max,
                    "sampler": self.sampler, "process": self.process, **self._status_json()}
        tr, base = self.trajectory, self.baseline
        return {
            "schedule": self.schedule, "m_final": tr.m_final, "v_final": tr.v_final, "classified": tr.classified,
            "t_switch": list(tr.t_switch), "branches": list(tr.branches),
            "mean_shift": tr.mean_shift, "variance_ratio": tr.variance_ratio, **divergences(tr.m_final, tr.v_final, self.sigma2),
            "m_final_const": base.m_final, "v_final_const": base.v_final, "classified_const": base.classified,
            **divergences(base.m_final, base.v_final, self.sigma2, "_const"),
            "t_switch_const": list(base.t_switch),
            "window": None if self.omega_window is None else {
                "omega": self.omega_window, "t_start": self.t_window_start, "t_end": self.t_window_end,
                "in_branch_G": self.window_in_G},
            "v_residual": tr.v_final - self.sigma2, "root_xtol": self.root_xtol, "root_variable": "t_window_start",
            "evaluations": self.evaluations, "tried_strengths": list(self.tried_strengths),
            "alpha": self.alpha, "sigma2": self.sigma2, "omega": self.omega_max, "omega_max": self.omega_max,
            "sampler": self.sampler, "process": self.process, "T": tr.T, "notes": list(self.notes) + list(tr.notes),
            "status": self.status, "message": self.message, "no_window": False,
        }


def _num(x: float) -> str:
    return f"{x:.12g}"


def window_schedule(omega_max: float, omega_window: float, t_start: float, t_end: float) -> str:
    """``piecewise:inf:W,t1:w,t2:0`` (omega_max above t1, omega_window on (t2, t1], 0 below t2)."""
    return f"piecewise:inf:{_num(omega_max)},{_num(t_start)}:{_num(omega_window)},{_num(t_end)}:0"


def _terminal_margin(m: float, v: float, alpha: float, sigma2: float, process: str) -> float:
    """Classification margin T(m) - phi(q) at t = 0 (positive: classified)."""
    p = get_process(process)
    a0, G0 = float(p.a(0.0)), float(p.Gamma(0.0, sigma2))
    return float(classification_margin(m, m * m + v, alpha, a0, G0))


def design_schedule(alpha, sigma2, omega_max, sampler: str = "sde", process: str = "ou", *,
                    omega_window: float = -1.0, max_strength: float = MAX_STRENGTH, xtol: float = XTOL,
                    progress=None) -> Design:
    """The schedule ``piecewise:inf:W,t1:w,t2:0`` with v(0) = sigma2 and the sample classified.

    d -> infinity mean-field limit (:func:`.dmf.trajectory`). t2 is the constant-W switch
    time, w = ``omega_window`` (escalated by doubling up to ``max_strength`` if the sample
    ends unclassified), t1 the brentq root of v(0) - sigma2 to ``xtol``. Raises ValueError on
    bad input and :class:`NoWindowError` when no window works (with the reason). ``progress``: a
    tqdm-like object whose ``update()`` is called after each trajectory.
    """
    alpha, sigma2, sampler, process, T = validate_inputs(alpha, sigma2, sampler, process, None)
    W, w0, max_strength = _window_inputs(omega_max, omega_window, max_strength)
    baseline = trajectory(alpha, W, sigma2, sampler=sampler, process=process)
    common = dict(alpha=alpha, sigma2=sigma2, omega_max=W, sampler=sampler, process=process, baseline=baseline,
                  root_xtol=xtol)
    if not ({"G", "Gf"} & set(baseline.branches)) or baseline.v_final >= sigma2:
        return Design(schedule=f"const:{_num(W)}", trajectory=baseline, omega_window=None, t_window_start=None,
                      t_window_end=None, evaluations=1,
                      notes=["no window needed: constant guidance does not shrink the variance here "
                             "(branch G, where guidance acts, never occurs or leaves no trace)"], **common)
    if not baseline.classified:
        raise NoWindowError(
            f"constant omega = {W:g} never classifies the sample (branch G down to t = 0 at {_alpha_text(alpha)}, "
            f"sigma2 = {sigma2:g}); a negative window only lowers m further, so none can restore v(0) = sigma2 "
            f"and keep the class separable")
    t_end = baseline.t_switch[0]
    kw = dict(alpha=alpha, sigma2=sigma2, sampler=sampler, process=process, progress=progress)
    count, tried, w = [0], [], w0
    while abs(w) <= max_strength * (1 + 1e-12):
        tried.append(w)
        t_start, spec, tr = _restoring_window(W, w, baseline, T, xtol, count, **kw)
        if tr.classified:
            notes = [] if w == w0 else [f"omega_window = {w0:g} left the sample unclassified; strengthened to {w:g}"]
            return Design(schedule=spec, trajectory=tr, omega_window=w, t_window_start=t_start, t_window_end=t_end,
                          evaluations=count[0], tried_strengths=tried, notes=notes, **common)
        w *= 2
    margin = _terminal_margin(tr.m_final, tr.v_final, alpha, sigma2, process)
    raise NoWindowError(
        f"no window keeps the sample classified: restoring v(0) = sigma2 = {sigma2:g} lowers the overlap to "
        f"m(0) = {tr.m_final:.4g} (constant omega: {baseline.m_final:.4g}), where the classification margin at "
        f"t = 0 is {margin:.3g} < 0, for every strength tried ({', '.join(f'{x:g}' for x in tried)}); the "
        f"class is separable at {_alpha_text(alpha)} only with the variance shrunk")


def _alpha_text(alpha: float) -> str:
    return "K -> infinity (alpha = log K / d unbounded)" if math.isinf(alpha) else f"alpha = {alpha:g}"


def _window_inputs(omega_max, omega_window, max_strength) -> tuple[float, float, float]:
    """(W, w0, max_strength), checked: W > 0, w0 < 0, |w0| <= max_strength (ValueError: one line)."""
    W = V.omega_bound(V.positive("omega_max", omega_max), "omega_max")
    w0 = V.omega_bound(omega_window, "omega_window")
    if w0 >= 0:
        raise ValueError(f"omega_window must be < 0 (got {w0:g})")
    max_strength = V.positive("max_strength", max_strength)
    if max_strength > -V.OMEGA_MIN:
        raise ValueError(f"max_strength must satisfy 0 < max_strength <= {-V.OMEGA_MIN:g} (got {max_strength:g}): "
                         f"{V.OMEGA_REASON}")
    if abs(w0) > max_strength:
        raise ValueError(f"|omega_window| must be <= max_strength = {max_strength:g} (got {w0:g})")
    return W, w0, max_strength


def _restoring_window(W, w, baseline, T, xtol, count, *, alpha, sigma2, sampler, process, progress=None):
    """(t_start, spec, trajectory) of the window of strength w ending at the baseline's switch whose
    start restores v(0) = sigma2 (brentq); NoWindowError when no start in (t_s, T] does."""
    t_end = baseline.t_switch[0]

    def v_residual(t_start: float) -> float:
        count[0] += 1
        if progress is not None:
            progress.update()
        if t_start <= t_end:
            return baseline.v_final - sigma2
        return trajectory(alpha, sigma2=sigma2, schedule=window_schedule(W, w, t_start, t_end), sampler=sampler,
                          process=process).v_final - sigma2

    t_start = _window_start(v_residual, t_end, T, xtol)
    if t_start is None:
        raise NoWindowError(f"omega = {w:g} on all of (t_s, T] = ({t_end:.6g}, {T:g}] does not restore "
                            f"v(0) = sigma2 = {sigma2:g}")
    spec = window_schedule(W, w, t_start, t_end)
    tr = trajectory(alpha, sigma2=sigma2, schedule=spec, sampler=sampler, process=process)
    count[0] += 1
    if progress is not None:
        progress.update()
    if abs(tr.v_final - sigma2) > V_TOL * min(1.0, sigma2):  # relative below sigma2 = 1
        raise NoWindowError(f"the root of v(0) - sigma2 in the window start did not reach "
                            f"{V_TOL * min(1.0, sigma2):g} "
                            f"(v(0) - sigma2 = {tr.v_final - sigma2:.3g}): v(0) is not continuous there")
    return t_start, spec, tr


def _window_start(f, t_end: float, T: float, xtol: float) -> float | None:
    """Root t1 in (t_end, T] of f(t1) = v(0) - sigma2, bracketed by doubling the window length."""
    lo, length = t_end, max(t_end, 1e-3)
    while True:
        hi = min(t_end + length, T)
        if f(hi) >= 0:
            break
        if hi >= T:
            return None
        lo, length = hi, 2 * length
    if f(lo) > 0:  # cannot happen: f(t_end) is the constant-omega shrinkage
        raise NoWindowError("v(0) - sigma2 is not bracketed")
    return float(brentq(f, lo, hi, xtol=xtol, rtol=4 * np.finfo(float).eps))


# ---------------------------------------------------------------- standard schedules

# Guidance interval (Kynkaanniemi et al. 2024): guidance only for EDM noise levels
# sigma_EDM = b_t / a_t in (0.28, 5.42], a middle range of the order of those the paper uses.
INTERVAL_SIGMA = (0.28, 5.42)


def standard_schedules(alpha, sigma2, omega=3.0, sampler: str = "sde", process: str = "ou") -> list[dict]:
    """Rows (name, spec, description) of the standard schedules at guidance strength ``omega``."""
    alpha, sigma2, sampler, process, T = validate_inputs(alpha, sigma2, sampler, process, None)
    W = V.omega_bound(V.positive("omega", omega))
    return [
        {"name": "constant", "schedule": f"const:{_num(W)}", "description": "omega = W at all times"},
        {"name": "interval", "schedule": f"interval-sigma:{_num(W)},{INTERVAL_SIGMA[0]},{INTERVAL_SIGMA[1]}",
         "description": f"W only while b_t/a_t in [{INTERVAL_SIGMA[0]}, {INTERVAL_SIGMA[1]}] "
                        "(guidance interval, Kynkaanniemi et al. 2024)"},
        {"name": "linear", "schedule": f"linear:0,{_num(W)}",
         "description": "linear in t from 0 at t = T to W at t = 0 (increasing guidance)"},
    ]


def compare_schedules(alpha, sigma2, omega=3.0, sampler: str = "sde", process: str = "ou") -> list[dict]:
    """Final mean shift, variance ratio and classification for the standard and designed schedules."""
    rows = []
    for row in standard_schedules(alpha, sigma2, omega, sampler, process):
        tr = trajectory(alpha, sigma2=sigma2, schedule=row["schedule"], sampler=sampler, process=process)
        rows.append({**row, **summary(tr)})
    try:
        d = design_schedule(alpha, sigma2, omega, sampler, process)
        rows.append({"name": "designed", "schedule": d.schedule, "description": "omega = W, then a negative "
                     "window ending at the constant-W switch, then 0 (cfg-distortion schedule-design)",
                     **summary(d.trajectory)})
    except NoWindowError as exc:
        rows.append({"name": "designed", "schedule": None, "description": f"no window: {exc}", "m_final": None,
                     "v_final": None, "mean_shift": None, "variance_ratio": None, "kl": None, "w2": None,
                     "classified": None, "t_switch": None})
    return rows


def summary(tr: Trajectory) -> dict:
    """The row of one trajectory in a comparison of schedules."""
    return {"m_final": tr.m_final, "v_final": tr.v_final, "mean_shift": tr.mean_shift,
            "variance_ratio": tr.variance_ratio, "kl": tr.kl, "w2": tr.w2, "classified": tr.classified,
            "t_switch": tr.t_switch[0] if tr.t_switch else None}


def omega_curve(spec: str, t: np.ndarray, T: float, process: str | None = None) -> np.ndarray:
    """omega(t) of a schedule spec on an array of times (for plots)."""
    from cfg_distortion.model.schedules import parse_schedule

    return np.asarray(parse_schedule(spec, T, process)(t), dtype=float)


__all__ = ["Design", "NoWindowError", "design_schedule", "window_schedule", "standard_schedules",
           "compare_schedules", "omega_curve", "INTERVAL_SIGMA", "XTOL", "V_TOL"]

