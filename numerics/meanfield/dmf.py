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

Frozen wrong classes. Where Sigma(1) < 0 (the wrong classes condensed) branch G's drift uses
kappa_eff = (2 Gamma / a) d phi/dq of the quenched phi for the wrong-class posterior mean
M = kappa x (:func:`cfg_distortion.model.rates.wrong_class_kappa`); such segments are
labelled "Gf" (annealed ones "G"), their ends found by events on Sigma(1).

Capture. Entering a frozen G with omega < 0 (or omega turning negative there), the guidance
attracts x to the few condensed wrong centroids and one of them, mu_w, captures the sample
(:mod:`cfg_distortion.theory.capture`). From the capture time on the d -> infinity theory is
two-class CFG between mu_c and mu_w, integrated here in (m, v, r = x.mu_w/d) with branches
"W" (the captured class dominates) and "C" (the target does), switched by events on
T(m) - E_w(r).

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
from cfg_distortion.model.rates import frozen_root, wrong_class_rate
from cfg_distortion.model.roots import ConvergenceError
from cfg_distortion.model.rules import parse_rule
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

    ``branches`` is the history of segment labels (G annealed, Gf frozen wrong classes, C, S
    sliding, W captured by a wrong class) and ``segments`` their (label, t_start, t_end);
    ``t_switch`` lists the classification switches only (between G/Gf/W and C/S).
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
    rule: str = "cfg"
    pieces: list = field(default_factory=list, repr=False)  # (t_hi, t_lo, dense solution, branch)
    omega_of_t: Schedule | None = field(default=None, repr=False)  # the schedule itself (callables included)
    quenched: bool = True
    t_capture: float | None = None
    r_final: float | None = None  # x.mu_w / d at t = 0 after a capture
    nu: float | None = None  # |mu_w|^2 / d of the capturing centroid
    status: str = "ok"
    message: str = ""

    @property
    def segments(self) -> list[tuple[str, float, float]]:
        """(label, t_start, t_end) with consecutive pieces of one label merged."""
        out: list = []
        for hi, lo, _, b in self.pieces:
            if out and out[-1][0] == b and abs(out[-1][2] - hi) <= 1e-12 * max(1.0, hi):
                out[-1] = (b, out[-1][1], lo)
            else:
                out.append((b, hi, lo))
        return out

    @property
    def captured_by_wrong_class(self) -> bool:
        return self.t_capture is not None

    @property
    def frozen_segments(self) -> list[tuple[float, float]]:
        return [(hi, lo) for b, hi, lo in self.segments if b == "Gf"]

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
    def ends_in_wrong_class(self) -> bool:
        """True when a captured trajectory still has the captured class on top at t = 0."""
        return self.captured_by_wrong_class and self.branches[-1] == "W"

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
            "g_frozen": self.g_frozen, "kappa": "quenched" if self.quenched else "annealed",
            "segments": [{"branch": b, "t_start": hi, "t_end": lo} for b, hi, lo in self.segments],
            "frozen_segments": [list(x) for x in self.frozen_segments],
            "captured_by_wrong_class": self.captured_by_wrong_class, "t_capture": self.t_capture,
            "ends_in_wrong_class": self.ends_in_wrong_class, "r_final": self.r_final, "nu": self.nu,
            "notes": list(self.notes),
            "alpha": None if math.isinf(self.alpha) else self.alpha, "K_infinite": math.isinf(self.alpha),
            "sigma2": self.sigma2, "schedule": self.schedule, "sampler": self.sampler, "process": self.process,
            "T": self.T, "rule": self.rule, "status": self.status, "message": self.message,
        }


class _Model:
    """One trajectory's inputs bound to the shared :class:`.flow.Flow` (scalar calls from solve_ivp)."""

    def __init__(self, alpha, sigma2, schedule: Schedule, sampler, process, quenched=True, rule=None):
        self.alpha, self.sigma2, self.schedule, self.sampler = alpha, sigma2, schedule, sampler
        self.flow = Flow(sigma2, sampler, process, quenched=quenched, rule=rule)
        self.p = self.flow.p
        self.quenched = bool(quenched)

    def _args(self, t, y):
        return float(y[0]), float(y[1]), float(self.schedule(t))

    def drift(self, branch, t, y):
        m, v, w = self._args(t, y)
        return np.array(self.flow.branch_drift(branch, t, m, v, w, self.alpha), dtype=float)

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

    def entropy(self, t, y):
        """Sigma(1) of the annealed saddle at (t, y); < 0: the wrong classes are frozen."""
        m, v, _ = self._args(t, y)
        a, Gm, _, _ = self.flow.coeffs(t)
        return float(G.entropy_saddle(self.alpha, m * m + v, a, Gm))

    def is_frozen(self, t, y) -> bool:
        return math.isfinite(self.alpha) and self.entropy(t, y) < 0

    def omega_ahead(self, t, stop) -> float:
        """omega just below t (towards stop): the guidance the next segment starts with."""
        return float(self.schedule(t - 1e-9 * (t - stop)))

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

    # ---- after a capture: the two-class problem in y = (m, v, r), nu fixed
    def capture_state(self, t, y):
        """(r, nu) of the capturing centroid at the frozen saddle of (t, y)."""
        m, v, _ = self._args(t, y)
        a, Gm, _, _ = self.flow.coeffs(t)
        q = m * m + v
        # on the freezing line itself (the event) the root is the annealed end u = a^2 / Gamma
        u = a * a / Gm if self.entropy(t, y) >= 0 else frozen_root(self.alpha, q, a, Gm)
        u = float(np.ravel(u)[0])
        return float(G.capture_r(u, q, a, Gm)), float(G.capture_nu(u, q, a, Gm))

    def capture_drift(self, branch, t, y, nu):
        m, v, w = self._args(t, y)
        a, Gm, f, g2 = self.flow.coeffs(t)
        return np.array([fn(m, v, float(y[2]), nu, a, Gm, f, g2, w) for fn in G.CAPTURE_DRIFTS[(branch, self.sampler)]],
                        dtype=float)

    def capture_margin(self, t, y, nu):
        a, Gm, _, _ = self.flow.coeffs(t)
        return float(G.capture_margin(float(y[0]), float(y[2]), nu, a, Gm))

    def capture_rates(self, t, y, nu):
        """d/dtau of T(m) - E_w(r) along the W and the C flow (central difference in tau)."""
        eps = 1e-7 * max(1.0, abs(t))
        out = []
        for b in "WC":
            F = self.capture_drift(b, t, y, nu)
            out.append((self.capture_margin(t - eps, y + eps * F, nu)
                        - self.capture_margin(t + eps, y - eps * F, nu)) / (2 * eps))
        return out


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


def _g_events(model: _Model, frozen: bool):
    """In branch G (finite alpha): the freezing line Sigma(1) = 0, and in a frozen G the
    guidance turning negative (a capture)."""
    if math.isinf(model.alpha) or not model.quenched:  # annealed comparison: one G drift, no freezing events
        return []
    ev = lambda t, y: model.entropy(t, y)  # noqa: E731
    ev.terminal, ev.direction = True, (1 if frozen else -1)
    out = [ev]
    if frozen and model.quenched:
        # offset: a schedule that is 0 on the segment must not fire (an event identically 0 fires every step)
        turn = lambda t, y: float(model.schedule(t)) + 1e-12  # noqa: E731
        turn.terminal, turn.direction = True, -1
        out.append(turn)
    return out


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
               rtol=RTOL, atol=ATOL, quenched=True, rule=None) -> Trajectory:
    """Integrate the DMF from x_T ~ marginal (m = 0, v = a_T^2 (1 + sigma2) + b_T^2) down to t = 0.

    Give either ``omega`` (constant) or ``schedule`` (a spec string of
    :mod:`.schedules`, or a callable omega(t)). ``alpha = inf`` keeps branch G throughout
    (K -> infinity at fixed d). ``quenched=False`` keeps the annealed (centroid-cloud) kappa in
    frozen G segments and does not follow a capture (for comparisons only). ``rule``: a guidance
    rule spec (:mod:`cfg_distortion.model.rules`, default cfg; its branch-G drift takes the same
    kappa). Raises ValueError on bad input (and for a rule other than cfg captured by a wrong
    class: that two-class dynamics is derived for cfg only) and ConvergenceError when the solver
    fails. ``atol`` is the absolute tolerance of m; that of v is scaled by min(1, sigma2).
    """
    alpha, sigma2, sampler, process, T = validate_inputs(alpha, sigma2, sampler, process, T)
    atol = state_atol(atol, sigma2)
    sched = guidance(omega, schedule, T, required=True, process=process)
    rule = parse_rule(rule)
    model = _Model(alpha, sigma2, sched, sampler, process, quenched, rule)
    p = model.p
    y = np.array([0.0, float(G.start_variance(p.a(T), p.Gamma(T, sigma2)))])  # m = 0, v = marginal variance
    stops = sorted({b for b in sched.breakpoints if 0 < b < T} | {0.0}, reverse=True)

    ts, ms, vs, labels = [T], [y[0]], [y[1]], []
    t_cur = T
    branch = model.decide(T, y, "G")
    frozen = branch == "G" and model.is_frozen(T, y)
    labels.append("Gf" if frozen else branch)
    history, switches, pieces = [branch], [], []
    captured = False
    stalled = 0
    for i_stop, stop in enumerate(stops):
        while t_cur > stop:
            if branch == "G" and frozen and quenched and model.omega_ahead(t_cur, stop) < 0:
                captured = True
                break
            label = "Gf" if (branch == "G" and frozen) else branch
            events = _events(model, branch)
            n_margin = len(events)
            if branch == "G":
                events = events + _g_events(model, frozen)
            sol = solve_ivp(_rhs(model, branch), (t_cur, stop), y, method="DOP853", rtol=rtol, atol=atol,
                            events=events, dense_output=True)
            if sol.status == -1:
                raise ConvergenceError(f"DMF integration failed at t = {sol.t[-1]:.6g}: {sol.message}")
            pieces.append((t_cur, float(sol.t[-1]), sol.sol, label))
            ts += list(sol.t[1:])
            ms += list(sol.y[0, 1:])
            vs += list(sol.y[1, 1:])
            labels += [label] * (len(sol.t) - 1)
            t_cur, y = float(sol.t[-1]), sol.y[:, -1].copy()
            if sol.status == 1:  # an event: re-decide on the boundary
                hits = [(float(te[0]), k) for k, te in enumerate(sol.t_events) if len(te)]
                t_cur, hit = max(hits)  # the first one met in reverse time
                y = sol.y_events[hit][0].copy()
                if hit >= n_margin:  # freezing line (flip the label) or omega turning negative (capture)
                    stalled = stalled + 1 if pieces[-1][0] - t_cur <= 1e-12 * max(1.0, t_cur) else 0
                    if stalled > 4:
                        raise ConvergenceError(f"DMF: the freezing line Sigma(1) = 0 is tangent at t = {t_cur:.6g} "
                                               "(repeated events without progress)")
                    if hit == n_margin:
                        frozen = not frozen
                    continue
                new = model.decide(t_cur, y, branch)
                if new == branch:  # the event was grazing: nudge on with the other flow
                    new = {"G": "C", "C": "G"}.get(branch, "C" if hit == 0 else "G")
                branch = _switch(branch, new, t_cur, history, switches)
                frozen = branch == "G" and model.is_frozen(t_cur, y)
        if captured:
            break
        if stop > 0:  # a breakpoint of the schedule: omega jumps, the flows change
            branch = _switch(branch, model.decide(stop, y, branch), stop, history, switches)
            frozen = branch == "G" and model.is_frozen(stop, y)
    traj = Trajectory(alpha, sigma2, sched.spec, sampler, process, T, np.array(ts), np.array(ms),
                      np.array(vs), labels, switches, history, pieces=pieces, omega_of_t=sched,
                      quenched=bool(quenched), rule=rule.spec)
    if captured:
        if not rule.is_cfg:
            raise ValueError(f"rule {rule.spec}: negative guidance in a frozen branch G at t = {t_cur:.4g} (capture by "
                             "a wrong class) is derived for rule cfg only")
        _follow_capture(model, traj, t_cur, y, [st for st in stops if st < t_cur] or [0.0], rtol, atol)
    traj.branches = _label_history(traj)
    V.finite_result("DMF trajectory", m_final=traj.m_final, v_final=traj.v_final)
    _diagnose(model, traj)
    return traj


def _label_history(traj: Trajectory) -> list[str]:
    """The history of segment labels (G, Gf, C, S, W), consecutive repeats merged."""
    out = [b for b, _, _ in traj.segments] or [traj.branches[0]]
    if traj.branches and not traj.pieces:
        return list(traj.branches)
    # the branch entered at the very end (a switch at a final breakpoint) has no piece
    last = traj.branches[-1]
    if last not in ("G",) and out[-1] != last and traj.t_switch and traj.t_switch[-1] <= traj.pieces[-1][1]:
        out.append(last)
    return out


def _follow_capture(model: _Model, traj: Trajectory, t_cur, y, stops, rtol, atol) -> None:
    """Integrate the two-class problem (branches W, C) from the capture at t_cur down to 0."""
    atol = np.append(np.atleast_1d(atol)[:2], np.atleast_1d(atol)[0])  # (m, v) tolerances, r like m
    r0, nu = model.capture_state(t_cur, y)
    traj.t_capture, traj.nu = float(t_cur), nu
    traj.g_frozen = True  # a capture happens where guided branch G enters the frozen phase
    y = np.array([y[0], y[1], r0])
    branch = "W" if model.capture_margin(t_cur, y, nu) < 0 else "C"
    traj.branches.append(branch)
    after_t, after_y = [t_cur], [y.copy()]
    for stop in stops:
        while t_cur > stop:
            ev = lambda t, yy: model.capture_margin(t, yy, nu)  # noqa: E731
            ev.terminal, ev.direction = True, (1 if branch == "W" else -1)
            sol = solve_ivp(lambda t, yy, b=branch: -model.capture_drift(b, t, yy, nu), (t_cur, stop), y,
                            method="DOP853", rtol=rtol, atol=atol, events=[ev], dense_output=True)
            if sol.status == -1:
                raise ConvergenceError(f"two-class DMF failed at t = {sol.t[-1]:.6g}: {sol.message}")
            traj.pieces.append((t_cur, float(sol.t[-1]), sol.sol, branch))
            traj.t = np.concatenate([traj.t, sol.t[1:]])
            traj.m = np.concatenate([traj.m, sol.y[0, 1:]])
            traj.v = np.concatenate([traj.v, sol.y[1, 1:]])
            traj.branch += [branch] * (len(sol.t) - 1)
            after_t += list(sol.t[1:])
            after_y += list(sol.y[:, 1:].T)
            t_cur, y = float(sol.t[-1]), sol.y[:, -1].copy()
            if sol.status == 1:
                t_cur, y = float(sol.t_events[0][0]), sol.y_events[0][0].copy()
                new = {"W": "C", "C": "W"}[branch]
                hW, hC = model.capture_rates(t_cur, y, nu)
                if (new == "C" and hC < 0) or (new == "W" and hW > 0):
                    raise ConvergenceError(f"two-class DMF: the boundary T(m) = E_w(r) is sliding at t = {t_cur:.6g}"
                                           " (not followed)")
                branch = _switch(branch, new, t_cur, traj.branches, traj.t_switch)
    traj.r_final = float(y[2])
    ends_wrong = branch == "W"
    traj.status = "captured"
    traj.message = (f"captured by a wrong class at t = {traj.t_capture:.4g} (negative guidance in a frozen branch G); "
                    + ("the sample ends in the wrong class" if ends_wrong else
                       "the target takes over again before t = 0"))
    traj.notes.append("after the capture the d -> infinity theory is two-class CFG between mu_c and the capturing "
                      f"centroid mu_w (|mu_w|^2/d = {nu:.4g}): m, v, r = x.mu_w/d follow its DMF (branches W, C)")
    # the other wrong classes see only |x|^2: check they stay below the top class (target or w)
    tt, yy = np.array(after_t), np.array(after_y).T
    a, Gm, _, _ = model.flow.coeffs(tt)
    phi, _ = wrong_class_rate(model.alpha, yy[0] ** 2 + yy[1], a, Gm)
    T_c = G.target_term(yy[0], a, Gm)
    top = np.maximum(T_c, T_c - G.capture_margin(yy[0], yy[2], nu, a, Gm))
    over = phi > top + 1e-9
    if over.any():
        traj.notes.append(f"from t = {tt[over].max():.4g} on the remaining wrong classes' rate exceeds the top "
                          "class's (a second capture, not followed: the end state is the one-capture prediction)")


def _switch(branch, new, t, history, switches):
    if new != branch:
        history.append(new)
        switches.append(t)
        if len(switches) > _MAX_SWITCHES:
            raise ConvergenceError(f"more than {_MAX_SWITCHES} branch switches (chattering) near t = {t:.6g}")
    return new


def _diagnose(model: _Model, traj: Trajectory) -> None:
    """Note the G segments with guidance on (omega != 0) where the wrong classes are frozen
    (Sigma(1) < 0): quenched, the drift there uses kappa_eff; annealed (``quenched=False``), the
    centroid-cloud drift is outside its range of validity. With omega = 0 nothing depends on kappa."""
    if math.isinf(model.alpha):
        return
    in_g = np.array([b in ("G", "Gf") for b in traj.branch]) & (model.schedule(traj.t) != 0)
    if not in_g.any():
        return
    t, m, v = traj.t[in_g], traj.m[in_g], traj.v[in_g]
    frozen = model.flow.frozen_in_g(t, m, v, model.alpha)
    if frozen.any():
        traj.g_frozen = True
        span = f"t in [{t[frozen].min():.4g}, {t[frozen].max():.4g}]"
        if model.quenched and traj.frozen_segments:  # the segments' ends are event times, not samples
            span = " and ".join(f"t in [{lo:.4g}, {hi:.4g}]" for hi, lo in traj.frozen_segments)
        if model.quenched:
            traj.notes.append(f"branch G with frozen wrong classes (Gf) for {span}: the drift uses kappa_eff = "
                              "(2 Gamma/a) dphi/dq of the quenched phi")
        else:
            traj.notes.append(f"branch G with frozen wrong classes for {span}: the centroid-cloud drift is "
                              "approximate there")
    if model.sampler == "ode" and traj.v_final < 1e-3 * model.sigma2:
        traj.notes.append(f"v(0) = {traj.v_final:.3g} is far below the O(1/d) accuracy of the d -> infinity "
                          "theory: at finite d expect v(0) of order 1/d")
