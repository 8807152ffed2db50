"""The public API of cfg-distortion: one function per question, one result object per answer.

``import cfg_distortion as cd`` exposes these functions. Every one takes keyword arguments with
the notation's names (docs/theory.md, "Notation"): ``alpha`` = log K / d, ``omega`` (constant
guidance strength) or ``schedule`` (a spec string ``const:W | interval:W,t_lo,t_hi |
linear:w_T,w_0 | piecewise:t1:w1,t2:w2,...`` or a Python callable omega(t) in forward time),
``sigma2`` (within-class variance, default 1), ``sampler`` (``"sde"``: reverse SDE, default, or
``"ode"``: probability-flow ODE), ``process`` (``"ou"``, default, ``"ve"`` or ``"flow"``), ``d``
(dimension) and ``K`` (number of classes). Defaults are those of the CLI; bad input raises
ValueError with the one line the CLI prints (exit 2). Numerical failure raises ArithmeticError
(the CLI's exit 3) or, for grids, is reported in ``status`` and ``message``.

Each function returns a :class:`cfg_distortion.result.Result` (``status``, ``message``,
``notes``, ``to_json()`` = what ``cfg-distortion <command> --json`` prints); gridded results
(:class:`PhaseDiagram`, :class:`Validation`) are :class:`~cfg_distortion.result.GridResult`
with their arrays, coordinates, ``to_csv(path)`` and ``plot(path=None)`` (a matplotlib Figure).

Modules are imported inside the functions, so ``import cfg_distortion`` stays cheap and the
symbolic layer (sympy) is loaded only by :func:`equations` and ``cd.theory``.
"""
from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from cfg_distortion.finite_d.validation import ValidationResult
from cfg_distortion.result import GridResult, Result

SAMPLERS = ("sde", "ode")
PHASE_ALPHA = None  # default alpha grid of phase_diagram: meanfield.phase.default_alphas (covers the boundary)
PHASE_OMEGA = "0:6:41"  # START:STOP:NUM, inclusive: step 0.15, so omega = 3 is on it

__all__ = ["alpha_c", "t_c", "trajectory", "phase_diagram", "design_schedule", "compare_schedules", "simulate",
           "simulate_batch", "finite_d", "validate", "equations", "schedule_map", "switch_scan", "compare_rules",
           "PhaseDiagram", "RuleComparison", "ScheduleComparison", "Validation", "Equations", "ScheduleMap",
           "SwitchScan"]


def _bar(progress: bool, **kw):
    """A tqdm bar on stderr when ``progress`` (hidden otherwise, and on a non-terminal)."""
    from tqdm import tqdm

    return tqdm(disable=None if progress else True, leave=False, file=sys.stderr, **kw)


def _atomic_write(path, write) -> str:
    """Call ``write(file_object)`` on a temporary file beside ``path`` and rename it into place
    (:func:`cfg_distortion.io.atomic_write`: the old file stays if anything fails)."""
    from cfg_distortion import io

    with io.atomic_write(path, name="path") as tmp, open(tmp, "w", newline="") as fh:
        write(fh)
    return os.fspath(path)


# ---------------------------------------------------------------- classification threshold

def alpha_c(t, sigma2=1.0, process="ou"):
    """Classification threshold alpha_c(t) = log(1 + SNR_t)/2 at forward time ``t``.

    The largest alpha = log K / d for which the target class's posterior weight tends to 1 at
    time t as d -> infinity (the capacity of the Gaussian channel mu -> a_t mu + noise).
    ``t >= 0`` (``0 <= t < 1`` for ``process="flow"``), ``sigma2 >= 0``; alpha_c is infinite
    (``alpha_c_infinite``) at t = 0 with sigma2 = 0. Backed by the sigma2 = 0 collapse time of
    Biroli, Bonnaire, de Bortoli and Mezard (2024) and a root of the general boundary
    (``cfg-distortion verify``). Returns :class:`cfg_distortion.model.critical.Threshold`.
    """
    from cfg_distortion.model import critical

    return critical.alpha_c(t, sigma2, process)


def t_c(alpha, sigma2=1.0, process="ou"):
    """Classification time t_c(alpha): the class is determined for t < t_c (root of alpha_c(t) = alpha).

    ``t_c`` is None (``never_classified``) when alpha >= alpha_c(0), and the end of the process
    (``always_classified``) when alpha = 0. Closed form, same backing as :func:`alpha_c`.
    Returns :class:`cfg_distortion.model.critical.ClassificationTime`.
    """
    from cfg_distortion.model import critical

    return critical.t_c(alpha, sigma2, process)


# ---------------------------------------------------------------- mean field (d -> infinity)

def trajectory(alpha, omega=None, *, schedule=None, sigma2=1.0, sampler="sde", process="ou", T=None, rule="cfg"):
    """The mean-field (d -> infinity) trajectory of guided sampling, m(t) and v(t) from t = T down to 0.

    Give ``omega`` (constant) or ``schedule`` (spec string or callable omega(t); a callable is
    integrated as a smooth function of t, so give jumps as a ``piecewise:`` spec to have the
    integrator restart there). ``alpha >= 0`` or ``math.inf`` (K -> infinity at fixed d: branch
    G throughout, CFG between two Gaussians in closed form); ``sigma2 > 0``; ``T`` defaults to
    a start converged to the T -> end-of-process limit. The result's ``sample(ts)`` gives
    (m, v, branch) at any times from the solver's dense output (rtol 1e-10). Backed by the
    closed-form K -> infinity limit and the exact-score simulator as d grows (docs/theory.md).
    ``rule``: the guidance rule, a spec ``cfg | rescale:PHI[,SPACE] | apg:ETA[,RHO] | zero-star |
    autoguidance:SIGMA2_BAD`` (:mod:`cfg_distortion.model.rules`; derivations/rules-*.md).
    Returns :class:`cfg_distortion.meanfield.dmf.Trajectory`.
    """
    from cfg_distortion.meanfield import dmf

    return dmf.trajectory(alpha, omega, sigma2, schedule=schedule, sampler=sampler, process=process, T=T, rule=rule)


@dataclass(repr=False)
class PhaseDiagram(GridResult):
    """The mean-field phase diagram over alpha (axis 0) x constant omega (axis 1).

    Arrays of shape (len(alphas), len(omegas)): ``t_switch`` (first switch to branch C,
    forward time; NaN where there is none), ``m_final``, ``v_final``, ``mean_shift`` = m(0) - 1,
    ``variance_ratio`` = v(0)/sigma2, ``kl`` and ``w2`` (per-dimension KL divergence and squared
    Wasserstein-2 distance to the class law), ``classified``. ``alpha_c`` (shape (len(omegas),)) is
    the boundary: the largest alpha whose guided trajectory still ends classified, a root of
    the final margin to ``xtol`` (NaN where there is none in [1e-6, 50]). ``status`` is
    ``"failed"`` when some points could not be integrated (``failed`` names them; their cells
    are NaN and empty in the CSV).
    """

    alphas: np.ndarray
    omegas: np.ndarray
    grid: object = field(repr=False)  # meanfield.phase.PhaseGrid
    boundary: list = field(repr=False)  # [meanfield.phase.BoundaryPoint] per omega
    limits: dict = field(repr=False)  # "alpha_0", "K_infinite": PointsResult per omega
    sigma2: float = 1.0
    sampler: str = "sde"
    process: str = "ou"
    xtol: float = 1e-6
    alpha_c_t0: float = math.nan
    seconds: float = 0.0
    status: str = "ok"
    message: str = ""
    notes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)  # the boundary leaves the alpha grid
    timings: dict = field(default_factory=dict)  # seconds per stage
    rule: str = "cfg"  # the guidance rule's spec (model.rules)

    CSV_COLUMNS = ("alpha", "omega", "t_switch", "m_final", "v_final", "classified", "mean_shift",
                   "variance_ratio", "kl", "w2", "g_frozen", "n_switches", "integrator", "status",
                   "captured_by_wrong_class", "t_capture")

    def __getattr__(self, name):  # the per-point fields of the grid, reshaped to (n_alpha, n_omega)
        if name in ("t_switch", "m_final", "v_final", "classified", "mean_shift", "variance_ratio", "kl", "w2",
                    "g_frozen", "n_switches", "fallback", "captured", "t_capture"):
            return self.grid.field(name)
        raise AttributeError(name)

    @property
    def alpha_c(self) -> np.ndarray:
        return np.array([np.nan if b.alpha_c is None else b.alpha_c for b in self.boundary])

    @property
    def failed(self) -> list[tuple[float, float, str]]:
        """(alpha, omega, error) of every point whose integration failed."""
        p = self.grid.points
        return [(float(p.alpha[i]), float(p.omega[i]), msg) for i, msg in p.failed]

    def to_json(self) -> dict:
        p = self.grid.points
        finite = [b for b in self.boundary if b.alpha_c is not None]
        return {
            "points": int(p.alpha.size), "alpha": [float(self.alphas[0]), float(self.alphas[-1]), int(self.alphas.size)],
            "omega": [float(self.omegas[0]), float(self.omegas[-1]), int(self.omegas.size)],
            "sigma2": self.sigma2, "sampler": self.sampler, "process": self.process, "rule": self.rule,
            "boundary": [b.to_json() for b in self.boundary],
            "boundary_tolerance": max((b.tolerance for b in finite), default=self.xtol),
            "boundary_method": "bracketed Illinois regula falsi in alpha on the signed final margin, vectorised "
                               "over omega",
            "alpha_c_t0": self.alpha_c_t0,
            "classified_fraction": float(np.mean(p.classified)),
            "per_point_fallback": int(p.fallback.sum()), "steps": p.steps,
            "captured_by_wrong_class": int(p.captured.sum()),
            "failed": [{"alpha": a, "omega": w, "error": m} for a, w, m in self.failed],
            "seconds": round(self.seconds, 3), "warnings": list(self.warnings), "timings": dict(self.timings),
            **self._status_json(),
        }

    def csv_text(self) -> str:
        """The grid CSV: one row per point (alpha outer, omega inner), written column by column
        (meanfield.phase.grid_csv_text); failed points have empty numbers and ``failed: ...``."""
        from cfg_distortion.meanfield import phase

        return phase.grid_csv_text(self.grid.points)

    def csv_rows(self) -> list[list[str]]:
        """The CSV rows (header first), as lists of cells."""
        import csv
        import io as _io

        return list(csv.reader(_io.StringIO(self.csv_text())))

    def boundary_csv_text(self) -> str:
        """The boundary alpha_c(omega) as CSV: omega, alpha_c (empty where no root), tolerance, note."""
        from cfg_distortion.meanfield import phase

        return phase.boundary_csv_text(self.boundary)

    def to_csv(self, path) -> str:
        """Write one row per grid point (alpha outer, omega inner) to ``path``, atomically."""
        return _atomic_write(path, lambda fh: fh.write(self.csv_text()))

    def boundary_to_csv(self, path) -> str:
        """Write the boundary alpha_c(omega) to ``path`` (one row per omega), atomically."""
        return _atomic_write(path, lambda fh: fh.write(self.boundary_csv_text()))

    def plot(self, path=None):
        """Maps over (alpha, omega) and profiles with the limit lines; writes path.png/.pdf if given."""
        from cfg_distortion.model import critical
        from cfg_distortion.plots import phase as phase_figure

        def t_c_curve(alpha):
            value = critical.t_c(alpha, self.sigma2, self.process).t_c
            return np.nan if value is None else value

        fig = phase_figure.figure(self.grid, self.boundary, self.limits, sigma2=self.sigma2, sampler=self.sampler,
                                  process=self.process, alpha_c0=self.alpha_c_t0, t_c=t_c_curve)
        if path is not None:
            from cfg_distortion.plots.common import save

            save(fig, os.fspath(path), name="path", dpi=100, bbox_inches=None)
        return fig


def phase_diagram(alpha=PHASE_ALPHA, omega=PHASE_OMEGA, *, sigma2=1.0, sampler="sde", process="ou", xtol=1e-6,
                  progress=False, rule="cfg") -> PhaseDiagram:
    """Switching time and distortion over a grid of alpha x constant omega, and the boundary alpha_c(omega).

    ``alpha`` and ``omega`` are ``"START:STOP:NUM"`` strings (inclusive, like numpy.linspace) or
    sequences of values; alpha >= 0. Default omega ``"0:6:41"``; default alpha: 40 or more points
    in a round step up to 1.25 x the boundary's largest alpha for this sigma2, sampler and omega
    range (``0.025:1.025:41`` at sigma2 = 1: (0.3, 3) is a grid point); a warning (in ``notes``
    and ``warnings``) when the boundary leaves a given alpha grid. The grid
    is over constant omega: all points are integrated together in one vectorised
    Dormand-Prince computation (a schedule or callable omega(t) would need the per-point
    :func:`trajectory`). The boundary is a root in alpha of the signed final margin
    T(m) - phi(q) to ``xtol``, not read off the grid. d -> infinity mean field; backed by
    agreement with :func:`trajectory` point by point and by the limits alpha_c(omega = 0) =
    log(1 + SNR_0)/2 (tests/test_phase.py, ``cfg-distortion verify``). ``rule``: the guidance
    rule spec, as in :func:`trajectory`.
    """
    from cfg_distortion.meanfield import dmf, phase
    from cfg_distortion.model import params as V
    from cfg_distortion.model.process import get_process
    from cfg_distortion.model.rules import parse_rule

    rule = parse_rule(rule)

    alphas = None if alpha is None else V.linspace_range(alpha, "alpha", minimum=0.0)
    omegas = V.linspace_range(omega, "omega")
    for w in (omegas.min(), omegas.max()):
        V.omega_bound(w)
    xtol = V.xtol(xtol)
    dmf.validate_inputs(0.0, sigma2, sampler, process, None)
    kw = dict(sampler=sampler, process=process, rule=rule)
    start = time.perf_counter()
    timings, last = {}, [start]

    def lap(name):  # seconds of each stage, for to_json()["timings"]
        now = time.perf_counter()
        timings[name], last[0] = round(now - last[0], 3), now

    if alphas is None:
        alphas = phase.default_alphas(omegas, sigma2, **kw)
        lap("default_alpha")
    with _bar(progress, total=1000, desc="grid", unit="‰") as bar:
        grid = phase.phase_grid(alphas, omegas, sigma2, progress=bar, **kw)
    lap("grid")
    with _bar(progress, desc="boundary (integrations)") as bar:
        bnd = phase.boundary(omegas, sigma2, xtol=xtol, progress=bar, **kw)
    lap("boundary")
    lim = phase.limits(omegas, sigma2, **kw)
    lap("limits")
    warnings = phase.boundary_warnings(bnd, alphas)
    res = PhaseDiagram(alphas, omegas, grid, bnd, lim, float(sigma2), sampler, process, float(xtol),
                       float(get_process(process).alpha_c(0.0, sigma2)), time.perf_counter() - start,
                       rule=rule.spec, notes=list(warnings), warnings=warnings, timings=timings)
    if grid.points.failed:
        res.status = "failed"
        res.message = f"{len(grid.points.failed)} of {alphas.size * omegas.size} grid points failed to integrate"
    return res


def design_schedule(alpha, omega, *, sigma2=1.0, omega_window=-1.0, sampler="sde", process="ou", progress=False):
    """A negative-guidance window that restores v(0) = sigma2 with the class kept (claim 6).

    The schedule ``piecewise:inf:W,t1:w,t2:0`` with W = ``omega`` > 0 early, w =
    ``omega_window`` < 0 (default -1, the unconditional score; doubled up to -64 if the sample
    would end unclassified) on a window ending at the constant-W switch time t2, and t1 the
    brentq root of v(0) - sigma2 (xtol 1e-9). d -> infinity mean field. ``status`` is
    ``"no_window"`` (``message``: why) when none exists. Backed by the exactness of the
    omega = 0 flow and ``cfg-distortion verify`` (derivations/claim6-schedule-design.md).
    Returns :class:`cfg_distortion.meanfield.design.Design`.
    """
    from cfg_distortion.meanfield import design
    from cfg_distortion.meanfield.dmf import validate_inputs
    from cfg_distortion.model import params as V

    V.positive("omega", omega)
    alpha, sigma2, sampler, process, _ = validate_inputs(alpha, sigma2, sampler, process, None)
    try:
        with _bar(progress, desc="schedule-design (trajectories)", unit="run") as bar:
            return design.design_schedule(alpha, sigma2, omega, sampler, process, omega_window=omega_window,
                                          progress=bar)
    except design.NoWindowError as exc:
        return design.Design.no_window(alpha, sigma2, float(omega), sampler, process, str(exc))


@dataclass(repr=False)
class ScheduleComparison(Result):
    """Rows (name, schedule, description, m_final, v_final, mean_shift, variance_ratio, classified,
    t_switch) of several guidance schedules at the same alpha, sigma2 and strength omega."""

    rows: list
    alpha: float
    sigma2: float
    omega: float
    sampler: str
    process: str
    status: str = "ok"
    message: str = ""
    notes: list = field(default_factory=list)

    def to_json(self) -> dict:
        return {"schedules": self.rows, "alpha": self.alpha, "sigma2": self.sigma2, "omega": self.omega,
                "sampler": self.sampler, "process": self.process, **self._status_json()}


def compare_schedules(alpha, omega=3.0, *, sigma2=1.0, sampler="sde", process="ou", schedules=None):
    """Final mean shift m(0) - 1, variance ratio v(0)/sigma2 and classification of standard schedules.

    Constant omega, a guidance interval (Kynkaanniemi et al. 2024), linear in t and the
    designed window of :func:`design_schedule`, all at strength ``omega`` > 0; ``schedules``
    (a dict name -> spec string or callable omega(t)) adds your own rows. d -> infinity mean
    field (:func:`trajectory` for each row). Returns :class:`ScheduleComparison`.
    """
    from cfg_distortion.meanfield import design, dmf
    from cfg_distortion.model import params as V

    V.positive("omega", omega)
    alpha, sigma2, sampler, process, _ = dmf.validate_inputs(alpha, sigma2, sampler, process, None)
    rows = design.compare_schedules(alpha, sigma2, omega, sampler, process)
    for name, spec in (schedules or {}).items():
        tr = dmf.trajectory(alpha, sigma2=sigma2, schedule=spec, sampler=sampler, process=process)
        rows.append({"name": str(name), "schedule": tr.schedule, "description": "user schedule",
                     **design.summary(tr)})
    return ScheduleComparison(rows, alpha, sigma2, float(omega), sampler, process)


@dataclass(repr=False)
class RuleComparison(GridResult):
    """Guidance rules side by side (:func:`compare_rules`): ``rows`` {"rule", "omega", "m_final",
    "v_final", "kl", "classified"} (rule outer, omega inner) and ``boundary``: rule spec ->
    [{"omega", "alpha_c", "tolerance", "note"}] (alpha_c None where no root; empty at alpha = inf)."""

    alpha: float
    sigma2: float
    sampler: str
    process: str
    rules: list
    omegas: list
    rows: list
    boundary: dict
    status: str = "ok"
    message: str = ""
    notes: list = field(default_factory=list)

    def to_json(self) -> dict:
        return {"alpha": None if math.isinf(self.alpha) else self.alpha, "K_infinite": math.isinf(self.alpha),
                "sigma2": self.sigma2, "sampler": self.sampler, "process": self.process, "rules": self.rules,
                "omegas": self.omegas, "rows": self.rows, "boundary": self.boundary, **self._status_json()}

    def row(self, rule: str, omega: float) -> dict:
        """The row of one rule (its canonical spec, as in ``rules``) at one omega."""
        return next(r for r in self.rows if r["rule"] == rule and r["omega"] == omega)

    def csv_text(self) -> str:
        """One row per (rule, omega): rule, omega, m_final, v_final, kl, classified."""
        from cfg_distortion.meanfield import compare

        return compare.csv_text(compare.ROW_KEYS, self.rows)

    def boundary_csv_text(self) -> str:
        """One row per (rule, omega): rule, omega, alpha_c (empty where no root), tolerance, note."""
        from cfg_distortion.meanfield import compare

        rows = [{"rule": r, **p} for r, pts in self.boundary.items() for p in pts]
        return compare.csv_text(compare.BOUNDARY_KEYS, rows)

    def to_csv(self, path) -> str:
        """Write :meth:`csv_text` to ``path``, atomically."""
        return _atomic_write(path, lambda fh: fh.write(self.csv_text()))

    def plot(self, path=None):
        """kl and v(0)/sigma2 against omega and the boundaries alpha_c(omega), one colour per rule;
        writes path.png and path.pdf if given. Returns the matplotlib Figure."""
        from cfg_distortion.plots.rules import figure

        fig = figure(self)
        if path is not None:
            from cfg_distortion.plots.common import save

            save(fig, os.fspath(path), name="path")
        return fig


def compare_rules(alpha, *, sigma2=1.0, rules=None, omega="0:6:7", sampler="sde", process="ou", boundary=True,
                  xtol=1e-6, progress=False):
    """Guidance rules side by side: for each rule and constant omega, m(0), v(0), ``kl`` and
    ``classified``; for each rule the boundary alpha_c(omega).

    ``rules``: a comma-separated string or a list of specs (``cfg | rescale:PHI[,SPACE] |
    apg:ETA[,RHO] | zero-star | autoguidance:SIGMA2_BAD``; default ``cfg, rescale:0.7,v, apg:0,
    zero-star, autoguidance:2``); ``omega``: ``"START:STOP:NUM"`` (default ``"0:6:7"``) or a
    sequence; ``alpha = math.inf`` is K -> infinity (branch G throughout, no boundary);
    ``boundary=False`` skips alpha_c(omega). d -> infinity mean field, one :func:`trajectory`
    per row and the vectorised root finder of :func:`phase_diagram` per rule; the rules' drifts
    are derived in theory/rules.py (derivations/rules-*.md) and backed by the exact-score
    sampler at K -> infinity (tests/test_rules.py). Rows ``{"rule", "omega", "m_final",
    "v_final", "kl", "classified"}``; ``to_csv(path)``, ``boundary_csv_text()``, ``plot(path)``.
    Returns :class:`RuleComparison`.
    """
    from cfg_distortion.meanfield import compare, dmf
    from cfg_distortion.model import params as V
    from cfg_distortion.model.rules import parse_rules

    rules = parse_rules(rules)
    omegas = V.linspace_range(omega, "omega")
    alpha, sigma2, sampler, process, _ = dmf.validate_inputs(alpha, sigma2, sampler, process, None)
    runs = omegas.size + (1 if boundary and math.isfinite(alpha) else 0)
    with _bar(progress, total=len(rules) * runs, desc="compare-rules", unit="run") as bar:
        fields = compare.compare_rules(alpha, sigma2, rules=rules, omega=omegas, sampler=sampler, process=process,
                                       boundary=boundary, xtol=xtol, progress=bar)
    return RuleComparison(**fields)


# ---------------------------------------------------------------- finite d

def simulate(d, K=None, *, alpha=None, omega=None, schedule=None, sigma2=1.0, n=1000, seed=0, steps=None, T=None,
             sampler="sde", process="ou", target_norm="fixed", order=2, precision="auto", backend="numpy",
             progress=False, integrator="exact", grid=None, sigma_max=None, sigma_min=None, rho=None, rule="cfg"):
    """Guided sampling at finite dimension ``d`` with the exact score of the K-class mixture.

    Give ``K`` (>= 2) or ``alpha`` (K = round(exp(alpha d))), and ``omega`` or ``schedule``
    (default omega = 0). Centroids mu_k ~ N(0, I_d) from ``seed`` (``target_norm="fixed"``
    rescales |mu_c|^2 to d), ``n`` samples, ``steps`` exact Gaussian transitions (default 100 at
    ``order=2``, where the posterior pull is extrapolated to each step's middle, 400 at
    ``order=1``, where it is frozen at the step's start); ``precision`` and ``backend`` choose the
    posterior kernel (float32 tiles where their rounding is negligible; numpy, numba or torch).
    Exact at omega = 0 at any step count (the class law m = 1, v = sigma2 (d - 1)/d); the
    reference that backs the mean-field theory as d grows. ``integrator`` = ``"euler"``,
    ``"euler-ancestral"`` or ``"heun"`` runs instead the discrete sampler practitioners use
    (k-diffusion conventions, process ``ve`` only; ``steps`` noise levels of ``grid`` =
    ``"karras"`` (default) or ``"uniform"`` from ``sigma_max`` = 80 to ``sigma_min`` = 0.002,
    ``rho`` = 7, then 0; the result's ``grid`` lists them): biased by its discretisation.
    ``rule``: the guidance rule spec, as in :func:`trajectory`, applied to the exact per-sample
    predictions (norms over the coordinates of each sample, as the reference implementations
    compute them; exact integrator only).
    Returns :class:`cfg_distortion.finite_d.simulator.SimulationResult`.
    """
    from cfg_distortion.finite_d.simulator import simulate as run

    return run(d, K, alpha=alpha, omega=omega, schedule=schedule, sigma2=sigma2, n=n, seed=seed, steps=steps, T=T,
               sampler=sampler, process=process, target_norm=target_norm, order=order, precision=precision,
               backend=backend, progress=progress, integrator=integrator, grid=grid, sigma_max=sigma_max,
               sigma_min=sigma_min, rho=rho, rule=rule)


def finite_d(d, K=None, *, alpha=None, omega=None, schedule=None, sigma2=1.0, sampler="sde", process="ou",
             paths=20000, steps=1000, seed=0, T=None, progress=False, rule="cfg"):
    """The finite-d effective theory: (m, v) paths with a smooth branch switch and noise of order 1/d.

    Same inputs and conventions as :func:`simulate` (K = round(exp(alpha d)), |mu_c|^2 = d),
    ``paths`` paths, ``steps`` exact steps; sigma2 > 0. Tends to :func:`trajectory` as
    d -> infinity and is backed by the simulator (``cfg-distortion validate``; within 0.03
    in m at the issue's target points). Returns
    :class:`cfg_distortion.finite_d.effective.FiniteDResult`. ``rule``: ``"cfg"`` only (its
    exact-transition steps are derived for linear guidance; a ValueError names the others).
    """
    from cfg_distortion.finite_d.effective import solve

    return solve(d, K, alpha=alpha, omega=omega, schedule=schedule, sigma2=sigma2, sampler=sampler,
                 process=process, paths=paths, steps=steps, seed=seed, T=T, progress=progress, rule=rule)


class Validation(ValidationResult, GridResult):
    """The exact-score simulator at several d against the DMF, extrapolated to d -> infinity
    (:class:`cfg_distortion.finite_d.validation.ValidationResult`: ``rows``, ``extrapolated``,
    ``dmf``, ``cases``), with ``to_csv(path)`` and ``plot(path=None)``: m(0) and v(0) against 1/d
    with error bars, the weighted fit with its band, the DMF at 1/d = 0 and the finite-d theory."""

    def to_csv(self, path) -> str:
        return _atomic_write(path, self.write_csv)

    def plot(self, path=None):
        from cfg_distortion.plots.validation import plot_validation

        return plot_validation(self, path)


def validate(alpha=None, omega=None, *, schedule=None, sigma2=1.0, sampler="sde", process="ou", d=None, draws=None,
             n=None, steps=400, paths=None, quick=False, scheduler=None, progress=False) -> Validation:
    """Run the exact-score simulator at several d over several centroid draws beside the DMF and the
    finite-d theory, and extrapolate it to d -> infinity by weighted least squares in 1/d.

    With ``alpha``: one case (``omega`` or ``schedule``) at the dimensions ``d`` (default 40, 80,
    160), ``draws`` centroid draws (default 4) of ``n`` samples (default 500). Without: the preset
    suite of the earlier fixed table (``quick``: fewer cases). ``scheduler``: None (in-process),
    'local' (a Dask LocalCluster) or a Dask scheduler address (extra ``distributed``); the same seeds
    give the same numbers. See :func:`cfg_distortion.finite_d.validation.validate`. Returns
    :class:`Validation`.
    """
    from dataclasses import fields

    from cfg_distortion.finite_d import validation as VAL

    res = VAL.validate(alpha, omega, schedule=schedule, sigma2=sigma2, sampler=sampler, process=process, d=d,
                       draws=draws, n=n, steps=steps, paths=paths, quick=quick, scheduler=scheduler, progress=progress)
    return Validation(**{f.name: getattr(res, f.name) for f in fields(res)})


def simulate_batch(runs, scheduler=None, progress=False, workers=None) -> list:
    """:func:`simulate` for each keyword dict of ``runs`` (results in the same order), in-process
    (default) or on Dask (``scheduler='local'`` for a LocalCluster, or a scheduler address; extra
    ``distributed``). Each run draws from its own seed: the same numbers wherever it runs."""
    from cfg_distortion.finite_d.batch import simulate_batch as run

    return run(runs, scheduler=scheduler, progress=progress, workers=workers)


# ---------------------------------------------------------------- equations (symbolic layer)

@dataclass(repr=False)
class Equations(Result):
    """Derived equations (label, LaTeX name, live sympy object, one-sentence description).

    Iterate, index by position or by label, ``latex()`` for the LaTeX of all of them (one
    ``name = expression`` line each, the symbols of docs/theory.md), ``to_json()`` for the
    list the CLI would print. Each item's ``expr`` is the sympy object itself."""

    items: list
    status: str = "ok"
    message: str = ""
    notes: list = field(default_factory=list)

    def __len__(self):
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def __getitem__(self, key):
        if isinstance(key, str):
            for e in self.items:
                if e.label == key:
                    return e
            raise KeyError(key)
        return self.items[key]

    def latex(self) -> str:
        from cfg_distortion.theory.equations import expr_latex

        return "\n".join(f"{e.lhs} = {expr_latex(e.expr)}" for e in self.items)

    def to_json(self) -> dict:
        from cfg_distortion.theory.equations import expr_latex

        return {"equations": [{"label": e.label, "lhs": e.lhs, "latex": expr_latex(e.expr),
                               "description": e.description, "source": e.source} for e in self.items],
                **self._status_json()}


def equations(which=None) -> Equations:
    """Derived equations from the live sympy derivations (imports sympy).

    ``which``: None for all, an equation label (``"eq:drift-G-sde-m"``) or a group key
    (``"process"``, ``"scores"``, ``"free-energy"``, ``"classification"``, ``"potential"``,
    ``"dmf"``, ``"gaussian-limits"``, ``"variance-theorem"``, ...). The same equations as
    ``cfg-distortion equations`` and derivations/equations.md.
    """
    from cfg_distortion.theory import equations as EQ

    if which is None:
        return Equations(EQ.all_equations())
    groups = EQ.groups()
    for group in groups:  # a group: build only that one
        if group.key == which:
            return Equations(list(EQ.built(group.key)))
    for group in groups:  # a label: build the groups in order until it turns up
        for e in EQ.built(group.key):
            if e.label == which:
                return Equations([e])
    keys = ", ".join(g.key for g in groups)
    raise ValueError(f"equations: {which!r} is neither an equation label (eq:...) nor a group ({keys})")


# ---------------------------------------------------------------- affine schedules: schedule map

MAP_W0 = "-1:1:21"  # default grids of schedule_map (START:STOP:NUM, inclusive)
MAP_SLOPE = "0:1:21"


@dataclass
class ScheduleMap(GridResult):
    """The DMF over the affine family omega = w0 + slope t, its variance-preserving curve and best point."""

    alpha: float
    sigma2: float
    sampler: str
    process: str
    T: float
    w0s: np.ndarray
    slopes: np.ndarray
    grid: object  # meanfield.schedule_map.AffineGrid
    curve: object  # meanfield.schedule_map.Curve
    best: object  # CurvePoint or None
    best_reason: str
    references: dict  # {"constant": {...}, "designed": {...}}: kl of the comparison schedules (or {})
    seconds: float
    notes: list = field(default_factory=list)
    status: str = "ok"
    message: str = ""
    files: dict = field(default_factory=dict)

    CSV_COLUMNS = ("w0", "slope", "m_final", "v_final", "mean_shift", "variance_ratio", "kl", "w2", "classified",
                   "t_switch", "n_switches", "integrator")

    def to_json(self) -> dict:
        from cfg_distortion.meanfield.schedule_map import SLOPE_XTOL

        p = self.grid.points
        return {
            "files": dict(self.files),
            "preserving_curve": [c.to_json() for c in self.curve.points],
            "best": None if self.best is None else self.best.to_json(),
            "best_reason": self.best_reason or None,
            "jumps": [{"w0": w, "slope": s} for w, s in self.curve.jumps],
            "references": self.references,
            "alpha": self.alpha, "sigma2": self.sigma2, "sampler": self.sampler, "process": self.process, "T": self.T,
            "w0": [float(self.w0s[0]), float(self.w0s[-1]), int(self.w0s.size)],
            "slope": [float(self.slopes[0]), float(self.slopes[-1]), int(self.slopes.size)],
            "points": int(p.omega.size), "classified_fraction": float(np.mean(p.classified)),
            "per_point_fallback": int(p.fallback.sum()),
            "root_method": "bracketed Illinois regula falsi in slope on v(0) - sigma2 (brackets: sign changes on the "
                           "grid), vectorised over w0",
            "root_xtol": SLOPE_XTOL, "root_evaluations": self.curve.evaluations,
            "seconds": round(self.seconds, 3), **self._status_json(),
        }

    def csv_rows(self) -> list[list[str]]:
        p = self.grid.points
        cell = lambda x: "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.12g}"  # noqa: E731
        failed = dict(p.failed)
        kl, w2, shift, ratio = p.kl, p.w2, p.mean_shift, p.variance_ratio
        rows = [list(self.CSV_COLUMNS)]
        for i in range(p.omega.size):
            if i in failed:
                rows.append([cell(p.omega[i]), cell(p.slope[i])] + [""] * 9 + ["failed: " + failed[i]])
                continue
            rows.append([cell(p.omega[i]), cell(p.slope[i]), cell(p.m_final[i]), cell(p.v_final[i]), cell(shift[i]),
                         cell(ratio[i]), cell(float(kl[i])), cell(float(w2[i])), str(bool(p.classified[i])).lower(),
                         cell(float(p.t_switch[i])), str(int(p.n_switches[i])),
                         "per-point" if p.fallback[i] else "vectorised"])
        return rows

    def to_csv(self, path) -> str:
        """One row per (w0, slope) (w0 outer), atomically."""
        import csv

        return _atomic_write(path, lambda fh: csv.writer(fh).writerows(self.csv_rows()))

    def plot(self, path=None):
        """The maps, the curve and the best point; writes path.png/.pdf if given."""
        from cfg_distortion.plots import schedule_map as figure

        refs = {k: v.get("kl") for k, v in self.references.items()}
        fig = figure.figure(self.grid, self.curve, self.best, sigma2=self.sigma2, sampler=self.sampler,
                            process=self.process, references=refs)
        if path is not None:
            fig.savefig(f"{os.fspath(path)}.png", dpi=100)
            fig.savefig(f"{os.fspath(path)}.pdf")
        return fig


def schedule_map(alpha, *, sigma2=1.0, process="ve", sampler="sde", w0=MAP_W0, slope=MAP_SLOPE, T=None,
                 omega=3.0, compare=True, progress=False) -> ScheduleMap:
    """The d -> infinity mean field over the affine family omega(t) = w0 + slope t and its variance-preserving curve.

    ``w0`` and ``slope`` are ``"START:STOP:NUM"`` strings (inclusive; defaults ``"-1:1:21"`` and
    ``"0:1:21"``) or sequences. All grid points are integrated in one vectorised computation.
    For each w0 the slopes with v(0) = sigma2 are bracketed by sign changes on the grid and found
    by a vectorised Illinois root finder (``root_xtol`` in slope; each point's ``v_tolerance``
    bounds |v(0) - sigma2| over its final bracket); a sign change that is a jump of v(0) (the
    classification transition) is listed in ``jumps``, not on the curve. ``best`` is the curve
    point of least kl = (1/d) KL(sampled || class law) that ends classified. With ``compare``, the
    constant schedule ``const:omega`` and the designed window of :func:`design_schedule` at
    ``omega`` are evaluated for ``references``. Backed by the per-point :func:`trajectory` at the
    curve points (tests/test_schedule_map.py).
    """
    from cfg_distortion.meanfield import dmf
    from cfg_distortion.meanfield import schedule_map as SM
    from cfg_distortion.model import params as V

    w0s = V.linspace_range(w0, "w0")
    slopes = V.linspace_range(slope, "slope")
    _, sigma2, sampler, process, T = dmf.validate_inputs(alpha, sigma2, sampler, process, T)
    alpha = V.nonnegative("alpha", alpha)
    start = time.perf_counter()
    kw = dict(sampler=sampler, process=process, T=T)
    with _bar(progress, total=1000, desc="grid", unit="‰") as bar:
        grid = SM.affine_grid(alpha, w0s, slopes, sigma2, progress=bar, **kw)
    notes = []
    status, message = "ok", ""
    if grid.points.failed:
        status = "failed"
        message = f"{len(grid.points.failed)} of {w0s.size * slopes.size} grid points failed to integrate"
    curve = SM.preserving_curve(grid, sigma2, **kw)
    best, reason = SM.best_point(curve)
    from cfg_distortion.model.process import get_process

    alpha_c0 = float(get_process(process).alpha_c(0.0, sigma2))
    if best is not None and best.w0 == max(p.w0 for p in curve.points) and alpha < alpha_c0:
        notes.append("the least-divergence point sits at the end of the curve nearest omega = 0 (no guidance): at this "
                     "alpha the unguided sampler already ends classified (alpha < alpha_c(0)), so every guided "
                     "schedule costs divergence; compare curve points at fixed w0 instead")
    if sampler == "ode" and np.any(slopes > 0):
        notes.append("probability-flow ODE: with slope > 0 the early push on m is never forgotten, so m(0) grows with "
                     "the start time T (about log T); the numbers depend on T")
    references = {}
    if compare:
        references = _map_references(alpha, sigma2, omega, sampler, process)
    return ScheduleMap(alpha, sigma2, sampler, process, float(T), w0s, slopes, grid, curve, best, reason, references,
                       time.perf_counter() - start, notes, status, message)


def _map_references(alpha, sigma2, omega, sampler, process) -> dict:
    """kl (and m, v) of constant guidance and of the designed window at the same omega."""
    from cfg_distortion.meanfield import dmf
    from cfg_distortion.meanfield.design import NoWindowError, design_schedule as design

    def summary(tr):
        return {"schedule": tr.schedule, "m_final": tr.m_final, "v_final": tr.v_final, "kl": tr.kl, "w2": tr.w2,
                "classified": tr.classified}

    out = {"constant": summary(dmf.trajectory(alpha, omega, sigma2, sampler=sampler, process=process))}
    try:
        out["designed"] = summary(design(alpha, sigma2, omega, sampler, process).trajectory)
    except NoWindowError as exc:
        out["designed"] = {"schedule": None, "kl": None, "reason": str(exc)}
    return out


# ---------------------------------------------------------------- discrete samplers: switch scan


@dataclass
class SwitchScan(GridResult):
    """For each switch step k of a discrete sampler: the DMF prediction and the finite-d simulation."""

    alpha: float | None
    K: int
    d: int
    sigma2: float
    omega: float
    omega_after: float
    integrator: str
    grid_kind: str
    sigmas: np.ndarray  # N + 1 noise levels, the last 0
    rows: list  # dicts with the JSON row keys
    baseline: dict  # the same sampler at omega = 0 (its discretisation bias alone)
    dmf_sampler: str
    n: int
    seed: int
    seconds: float
    notes: list = field(default_factory=list)
    status: str = "ok"
    message: str = ""
    files: dict = field(default_factory=dict)

    ROW_KEYS = ("k", "sigma_switch", "v_ratio_dmf", "m_dmf", "kl_dmf", "classified_dmf", "v_ratio_sim", "v_ratio_sem",
                "m_sim", "m_sem", "kl_sim", "classified_fraction")

    @staticmethod
    def _best(rows, key, ok) -> int | None:
        """The k of least ``key`` among rows with ``ok``; ties (to 1e-9) go to the earliest switch."""
        cand = [r for r in rows if ok(r) and r[key] is not None]
        if not cand:
            return None
        least = min(r[key] for r in cand)
        return min(r["k"] for r in cand if r[key] <= least + 1e-9 * max(abs(least), 1e-12))

    @property
    def best_k_dmf(self) -> int | None:
        """The switch step of least kl among those whose DMF trajectory ends classified (earliest of ties)."""
        return self._best(self.rows, "kl_dmf", lambda r: r["classified_dmf"])

    @property
    def best_k_sim(self) -> int | None:
        """The switch step of least kl (at the simulated m, v) among those with a classified majority."""
        return self._best(self.rows, "kl_sim", lambda r: r["classified_fraction"] >= 0.5)

    def to_json(self) -> dict:
        return {
            "files": dict(self.files), "rows": [dict(r) for r in self.rows],
            "best_k_dmf": self.best_k_dmf, "best_k_sim": self.best_k_sim,
            "grid": [float(s) for s in self.sigmas[:-1]], "grid_kind": self.grid_kind,
            "baseline_omega0": self.baseline,
            "alpha": self.alpha, "K": self.K, "d": self.d, "sigma2": self.sigma2, "omega": self.omega,
            "omega_after": self.omega_after, "integrator": self.integrator, "steps": int(self.sigmas.size - 1),
            "dmf_sampler": self.dmf_sampler, "dmf_T": float(self.sigmas[0]), "n": self.n, "seed": self.seed,
            "v_ratio_sim_definition": "v / (sigma2 (d - 1)/d): 1 is the class law at this d",
            "seconds": round(self.seconds, 3), **self._status_json(),
        }

    def to_csv(self, path) -> str:
        import csv

        def cell(x):
            if x is None:
                return ""
            if isinstance(x, bool):
                return str(x).lower()
            return f"{x:.12g}" if isinstance(x, float) else str(x)

        rows = [list(self.ROW_KEYS)] + [[cell(r[k]) for k in self.ROW_KEYS] for r in self.rows]
        return _atomic_write(path, lambda fh: csv.writer(fh).writerows(rows))

    def plot(self, path=None):
        from cfg_distortion.plots import switch_scan as figure

        fig = figure.figure(self)
        if path is not None:
            fig.savefig(f"{os.fspath(path)}.png", dpi=100)
            fig.savefig(f"{os.fspath(path)}.pdf")
        return fig


def switch_scan(d, K=None, *, alpha=None, omega=3.0, omega_after=-1.0, sigma2=1.0, steps=30,
                integrator="euler-ancestral", grid="karras", sigma_max=80.0, sigma_min=0.002, rho=7.0, n=1000,
                seed=0, progress=False) -> SwitchScan:
    """After which step should guidance switch to omega_after (default -1)? For each k = 0..steps.

    The discrete sampler (``integrator`` = euler, euler-ancestral or heun on ``ve``, k-diffusion
    conventions; ``steps`` noise levels of the ``grid``) guides with ``omega`` for steps 0..k-1 and
    with ``omega_after`` from step k on. Each row gives the DMF prediction (continuous time from
    T = sigma_max, switch at the step's sigma_k, the SDE for euler-ancestral and the ODE for euler
    and heun) beside the simulator at finite ``d`` (``n`` samples, one centroid draw, standard
    errors over samples). ``baseline_omega0`` is the same sampler without guidance: its departure
    from the class law is the discretisation bias. Backed by the samplers' convergence to the class
    law at omega = 0 (tests/test_samplers.py).
    """
    from cfg_distortion.finite_d import samplers as SMP
    from cfg_distortion.finite_d import simulator as SIM
    from cfg_distortion.finite_d.switch_scan import simulate_switches
    from cfg_distortion.meanfield import dmf
    from cfg_distortion.model.divergence import kl as kl_of
    from cfg_distortion.model import params as V

    start = time.perf_counter()
    V.choice("integrator", integrator, SMP.DISCRETE)
    steps = V.integer("steps", steps, 1)
    sigmas = SMP.sigma_grid(steps, grid, sigma_max, sigma_min, rho)  # checks the grid before the work
    dmf.validate_inputs(0.0 if alpha is None else alpha, sigma2, "sde", "ve", float(sigmas[0]))
    N = steps
    with _bar(progress, total=N + N * (N + 1) // 2, desc=f"switch scan ({integrator})", unit="step") as bar:
        sim_rows, sigmas, K = simulate_switches(d, K, alpha=alpha, omega=omega, omega_after=omega_after,
                                                sigma2=sigma2, steps=steps, integrator=integrator, grid=grid,
                                                sigma_max=sigma_max, sigma_min=sigma_min, rho=rho, n=n, seed=seed,
                                                progress=bar)
    d = int(d)
    alpha_dmf = math.log(K - 1) / d if alpha is None else float(alpha)  # the DMF's alpha for a given K
    smp = SMP.SDE_LIKE[integrator]
    class_v = sigma2 * (d - 1) / d
    rows = []
    for r in sim_rows:
        k = r.k
        if k == N:
            spec = f"const:{float(omega)!r}"
        elif k == 0:
            spec = f"const:{float(omega_after)!r}"
        else:
            spec = f"piecewise:inf:{float(omega)!r},{r.sigma_switch!r}:{float(omega_after)!r}"
        tr = dmf.trajectory(alpha_dmf, sigma2=sigma2, schedule=spec, sampler=smp, process="ve", T=float(sigmas[0]))
        ratio = r.v_sim / class_v
        rows.append({"k": k, "sigma_switch": r.sigma_switch, "v_ratio_dmf": tr.v_final / sigma2, "m_dmf": tr.m_final,
                     "kl_dmf": tr.kl, "classified_dmf": tr.classified, "schedule_dmf": spec,
                     "v_ratio_sim": ratio, "v_ratio_sem": None if r.v_sem is None else r.v_sem / class_v,
                     "m_sim": r.m_sim, "m_sem": r.m_sem, "kl_sim": kl_of(r.m_sim, ratio * sigma2, sigma2),
                     "classified_fraction": r.classified_fraction})
    base = SIM.simulate(d, K, omega=0.0, sigma2=sigma2, n=n, seed=seed, steps=steps, process="ve",
                        integrator=integrator, grid=grid, sigma_max=sigma_max, sigma_min=sigma_min, rho=rho)
    baseline = {"v_ratio_sim": base.v_mean / class_v, "v_ratio_sem": base.v_sem / class_v, "m_sim": base.m_mean,
                "m_sem": base.m_sem, "classified_fraction": base.classified_fraction}
    notes = [f"the DMF integrates the continuous {smp.upper()} from T = sigma_max = {float(sigmas[0]):g} with the "
             "switch at sigma_k; the simulator adds the sampler's discretisation error (see baseline_omega0) and "
             f"finite-d effects (d = {d})"]
    return SwitchScan(None if alpha is None else float(alpha), K, d, float(sigma2), float(omega), float(omega_after),
                      integrator, grid, sigmas, rows, baseline, smp, int(n), int(seed), time.perf_counter() - start,
                      notes)
