"""Dynamical mean-field (DMF) trajectories of guided sampling at d -> infinity.

The state (m, v) is integrated with ``solve_ivp`` in forward time t from T down to 0 (the
reverse process), with the branch drifts generated from :mod:`cfg_distortion.theory.dmf`.
The branch is G while the wrong classes dominate p_t(x) (margin h = T(m) - phi(q) < 0,
phi the quenched wrong-class rate) and C once the target does (h > 0). Switches are found
by terminal events on h; the integration then restarts with the other branch's drift.

Sliding mode. After a switch the new branch's flow can point back across h = 0 (in C the
conditional drift may lower the margin that G had raised). The d -> infinity limit then
slides along the boundary with the Filippov field lambda F_G + (1 - lambda) F_C, lambda
chosen so that dh/dtau = 0; it leaves the boundary when one branch's flow points away
from it (events on dh/dtau of each branch). Segments of sliding are labelled "S".

Schedules with jumps are integrated piecewise between their breakpoints.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp

from cfg_distortion import _generated as G
from cfg_distortion.model import params as V
from cfg_distortion.model.divergence import divergences
from cfg_distortion.model.process import get_process
from cfg_distortion.meanfield.flow import H_TOL, Flow
from cfg_distortion.model.roots import ConvergenceError
from cfg_distortion.model.schedules import Schedule, guidance
from cfg_distortion.result import Result

SAMPLERS = ("sde", "ode")
# Start times at which the T -> end-of-process limit is reached to ~1e-7 in m and v. The
# offset of the start (m = 0 instead of the class's a_T) decays like a_T^2 for the SDE but
# only like a_T / sqrt(Gamma_T) for the ODE (a deterministic transport keeps it), hence the
# larger ODE horizons (tests/test_dmf.py::test_start_time_is_converged moves T back and checks).
DEFAULT_T = {("ou", "sde"): 20.0, ("ou", "ode"): 20.0, ("ve", "sde"): 1e4, ("ve", "ode"): 1e7,
             ("flow", "sde"): 1.0 - 1e-6, ("flow", "ode"): 1.0 - 1e-9}
RTOL, ATOL = 1e-10, 1e-12
_MAX_SWITCHES = 200


@dataclass(repr=False)
class Trajectory(Result):
    """A DMF trajectory (d -> infinity): samples of (t, m, v, branch) from T down to 0 and the summary.

    ``t`` is forward time (the process's own units; sampling runs from t = T down to 0),
    ``m = x.mu_c/d`` the overlap with the target centroid (1 for the class law) and
    ``v = |x - m mu_c|^2/d`` the transverse variance per dimension (sigma2 for the class
    law). ``branch`` labels each sample G (wrong classes dominate p_t(x)), C (the target
    does) or S (sliding on the boundary). :meth:`sample` evaluates the solver's dense
    output at any times. Backed by the closed forms of the K -> infinity limit and the
    exact-score simulator as d grows (docs/theory.md, claims 1-4).
    """

    alpha: float
    sigma2: float
    schedule: str
    sampler: str
    process: str
    T: float
    t: np.ndarray
    m: np.ndarray
    v: np.ndarray
    branch: list[str]
    t_switch: list[float]
    branches: list[str]
    g_frozen: bool = False
    notes: list[str] = field(default_factory=list)
    pieces: list = field(default_factory=list, repr=False)  # (t_hi, t_lo, dense solution, branch)
    omega_of_t: Schedule | None = field(default=None, repr=False)  # the schedule itself (callables included)

    def sample(self, ts) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(m, v, branch) at times ts in [0, T], from the solver's dense output."""
        ts = np.asarray(ts, dtype=float)
        m, v, br = np.empty_like(ts), np.empty_like(ts), [""] * ts.size
        for hi, lo, sol, b in self.pieces:
            sel = (ts <= hi) & (ts >= lo)
            if sel.any():
                y = sol(ts[sel])
                m[sel], v[sel] = y[0], y[1]
                for i in np.nonzero(sel)[0]:
                    br[i] = b
        return m, v, br

    @property
    def m_final(self) -> float:
        return float(self.m[-1])

    @property
    def v_final(self) -> float:
        return float(self.v[-1])

    @property
    def classified(self) -> bool:
        return self.branches[-1] == "C"

    @property
    def mean_shift(self) -> float:
        return self.m_final - 1.0

    @property
    def variance_ratio(self) -> float:
        return self.v_final / self.sigma2 if self.sigma2 > 0 else math.inf

    @property
    def kl(self) -> float | None:
        """(1/d) KL(sampled || class law) at t = 0 (derivations/numerics-divergence.md)."""
        return divergences(self.m_final, self.v_final, self.sigma2)["kl"]

    @property
    def w2(self) -> float | None:
        """(1/d) W2^2(sampled, class law) at t = 0."""
        return divergences(self.m_final, self.v_final, self.sigma2)["w2"]

    def to_json(self) -> dict:
        ratio = self.variance_ratio
        return {
            "m_final": self.m_final, "v_final": self.v_final, "t_switch": list(self.t_switch),
            "branches": list(self.branches), "classified": self.classified, "mean_shift": self.mean_shift,
            "variance_ratio": None if math.isinf(ratio) else ratio,
            **divergences(self.m_final, self.v_final, self.sigma2), "sliding": "S" in self.branches,
            "g_frozen": self.g_frozen, "notes": list(self.notes),
            "alpha": None if math.isinf(self.alpha) else self.alpha, "K_infinite": math.isinf(self.alpha),
            "sigma2": self.sigma2, "schedule": self.schedule, "sampler": self.sampler, "process": self.process,
            "T": self.T, "status": self.status, "message": self.message,
        }


class _Model:
    """One trajectory's inputs bound to the shared :class:`.flow.Flow` (scalar calls from solve_ivp)."""

    def __init__(self, alpha, sigma2, schedule: Schedule, sampler, process):
        self.alpha, self.sigma2, self.schedule, self.sampler = alpha, sigma2, schedule, sampler
        self.flow = Flow(sigma2, sampler, process)
        self.p = self.flow.p

    def _args(self, t, y):
        return float(y[0]), float(y[1]), float(self.schedule(t))

    def drift(self, branch, t, y):
        m, v, w = self._args(t, y)
        return np.array(self.flow.branch_drift(branch, t, m, v, w), dtype=float)

    def margin(self, t, y):
        m, v, _ = self._args(t, y)
        return float(self.flow.margin(t, np.array([m]), np.array([v]), np.array([self.alpha]))[0])

    def margin_rates(self, t, y):
        """(dh/dtau along F_G, dh/dtau along F_C) at (t, y)."""
        m, v, w = self._args(t, y)
        hG, hC = self.flow.margin_rates(t, m, v, self.alpha, w)
        return float(hG), float(hC)

    def sliding_drift(self, t, y):
        m, v, w = self._args(t, y)
        return np.array(self.flow.sliding_drift(t, m, v, self.alpha, w), dtype=float)

    def decide(self, t, y, previous):
        """Branch to continue in at (t, y): by the margin, or by the flows when on the boundary."""
        if math.isinf(self.alpha):
            return "G"
        h = self.margin(t, y)
        if h > H_TOL:
            return "C"
        if h < -H_TOL:
            return "G"
        hG, hC = self.margin_rates(t, y)
        if hG > 0 and hC > 0:
            return "C"
        if hG < 0 and hC < 0:
            return "G"
        if hG >= 0 >= hC:
            return "S"
        return previous if previous in ("G", "C") else "C"  # repelling boundary: keep going


def _events(model: _Model, branch: str):
    if math.isinf(model.alpha):
        return []
    if branch == "G":
        ev = lambda t, y: model.margin(t, y)  # noqa: E731  h: - -> + as t decreases
        ev.terminal, ev.direction = True, 1
        return [ev]
    if branch == "C":
        ev = lambda t, y: model.margin(t, y)  # noqa: E731
        ev.terminal, ev.direction = True, -1
        return [ev]
    to_c = lambda t, y: model.margin_rates(t, y)[1]  # noqa: E731  C flow turns away from G
    to_c.terminal, to_c.direction = True, 1
    to_g = lambda t, y: model.margin_rates(t, y)[0]  # noqa: E731  G flow turns away from C
    to_g.terminal, to_g.direction = True, -1
    return [to_c, to_g]


def _rhs(model: _Model, branch: str):
    if branch == "S":
        return lambda t, y: -model.sliding_drift(t, y)
    return lambda t, y: -model.drift(branch, t, y)


def validate_inputs(alpha, sigma2, sampler, process, T):
    """Checked (alpha, sigma2, sampler, process, T); alpha may be inf (K -> infinity at fixed d)."""
    try:
        alpha = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a number >= 0 or inf (got {alpha!r})") from None
    if math.isnan(alpha) or alpha < 0:
        raise ValueError(f"alpha must be >= 0 or inf (got {alpha})")
    sigma2 = V.sigma2(sigma2)
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of sde, ode (got {sampler!r})")
    V.process(process)
    T = V.start_time(DEFAULT_T[(process, sampler)] if T is None else T, process)
    return alpha, sigma2, sampler, process, T


def state_atol(atol, sigma2):
    """Absolute tolerances of (m, v): ``atol`` for m (O(1)), ``atol * min(1, sigma2)`` for v, which
    ends near sigma2: the tolerance scales with the problem, so a tiny sigma2 is resolved."""
    return np.array([atol, atol * min(1.0, sigma2)])


def trajectory(alpha, omega=None, sigma2=1.0, *, schedule=None, sampler="sde", process="ou", T=None,
               rtol=RTOL, atol=ATOL) -> Trajectory:
    """Integrate the DMF from x_T ~ marginal (m = 0, v = a_T^2 (1 + sigma2) + b_T^2) down to t = 0.

    Give either ``omega`` (constant) or ``schedule`` (a spec string of
    :mod:`.schedules`, or a callable omega(t)). ``alpha = inf`` keeps branch G throughout
    (K -> infinity at fixed d). Raises ValueError on bad input and ConvergenceError when
    the solver fails. ``atol`` is the absolute tolerance of m; that of v is scaled by min(1, sigma2).
    """
    alpha, sigma2, sampler, process, T = validate_inputs(alpha, sigma2, sampler, process, T)
    atol = state_atol(atol, sigma2)
    sched = guidance(omega, schedule, T, required=True, process=process)
    model = _Model(alpha, sigma2, sched, sampler, process)
    p = model.p
    y = np.array([0.0, float(G.start_variance(p.a(T), p.Gamma(T, sigma2)))])  # m = 0, v = marginal variance
    stops = sorted({b for b in sched.breakpoints if 0 < b < T} | {0.0}, reverse=True)

    ts, ms, vs, labels = [T], [y[0]], [y[1]], []
    t_cur = T
    branch = model.decide(T, y, "G")
    labels.append(branch)
    history, switches, pieces = [branch], [], []
    for stop in stops:
        while t_cur > stop:
            sol = solve_ivp(_rhs(model, branch), (t_cur, stop), y, method="DOP853", rtol=rtol, atol=atol,
                            events=_events(model, branch), dense_output=True)
            if sol.status == -1:
                raise ConvergenceError(f"DMF integration failed at t = {sol.t[-1]:.6g}: {sol.message}")
            pieces.append((t_cur, float(sol.t[-1]), sol.sol, branch))
            ts += list(sol.t[1:])
            ms += list(sol.y[0, 1:])
            vs += list(sol.y[1, 1:])
            labels += [branch] * (len(sol.t) - 1)
            t_cur, y = float(sol.t[-1]), sol.y[:, -1].copy()
            if sol.status == 1:  # an event: re-decide on the boundary
                hit = [k for k, te in enumerate(sol.t_events) if len(te)][0]
                t_cur, y = float(sol.t_events[hit][0]), sol.y_events[hit][0].copy()
                new = model.decide(t_cur, y, branch)
                if new == branch:  # the event was grazing: nudge on with the other flow
                    new = {"G": "C", "C": "G"}.get(branch, "C" if hit == 0 else "G")
                branch = _switch(branch, new, t_cur, history, switches)
        if stop > 0:  # a breakpoint of the schedule: omega jumps, the flows change
            branch = _switch(branch, model.decide(stop, y, branch), stop, history, switches)
    traj = Trajectory(alpha, sigma2, sched.spec, sampler, process, T, np.array(ts), np.array(ms),
                      np.array(vs), labels, switches, history, pieces=pieces, omega_of_t=sched)
    V.finite_result("DMF trajectory", m_final=traj.m_final, v_final=traj.v_final)
    _diagnose(model, traj)
    return traj


def _switch(branch, new, t, history, switches):
    if new != branch:
        history.append(new)
        switches.append(t)
        if len(switches) > _MAX_SWITCHES:
            raise ConvergenceError(f"more than {_MAX_SWITCHES} branch switches (chattering) near t = {t:.6g}")
    return new


def _diagnose(model: _Model, traj: Trajectory) -> None:
    """Flag G segments with guidance on (omega != 0) where the wrong classes are frozen
    (Sigma(1) < 0): there the annealed (centroid-cloud) drift of branch G is outside its range
    of validity. With omega = 0 both branches have the conditional drift and nothing is lost."""
    if math.isinf(model.alpha):
        return
    in_g = np.array([b == "G" for b in traj.branch]) & (model.schedule(traj.t) != 0)
    if not in_g.any():
        return
    t, m, v = traj.t[in_g], traj.m[in_g], traj.v[in_g]
    frozen = model.flow.frozen_in_g(t, m, v, model.alpha)
    if frozen.any():
        traj.g_frozen = True
        traj.notes.append(f"branch G with frozen wrong classes for t in [{t[frozen].min():.4g}, "
                          f"{t[frozen].max():.4g}]: the centroid-cloud drift is approximate there")
