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
           "simulate_batch", "finite_d", "validate", "equations", "PhaseDiagram", "ScheduleComparison", "Validation", "Equations"]


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

def trajectory(alpha, omega=None, *, schedule=None, sigma2=1.0, sampler="sde", process="ou", T=None):
    """The mean-field (d -> infinity) trajectory of guided sampling, m(t) and v(t) from t = T down to 0.

    Give ``omega`` (constant) or ``schedule`` (spec string or callable omega(t); a callable is
    integrated as a smooth function of t, so give jumps as a ``piecewise:`` spec to have the
    integrator restart there). ``alpha >= 0`` or ``math.inf`` (K -> infinity at fixed d: branch
    G throughout, CFG between two Gaussians in closed form); ``sigma2 > 0``; ``T`` defaults to
    a start converged to the T -> end-of-process limit. The result's ``sample(ts)`` gives
    (m, v, branch) at any times from the solver's dense output (rtol 1e-10). Backed by the
    closed-form K -> infinity limit and the exact-score simulator as d grows (docs/theory.md).
    Returns :class:`cfg_distortion.meanfield.dmf.Trajectory`.
    """
    from cfg_distortion.meanfield import dmf

    return dmf.trajectory(alpha, omega, sigma2, schedule=schedule, sampler=sampler, process=process, T=T)


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

    CSV_COLUMNS = ("alpha", "omega", "t_switch", "m_final", "v_final", "classified", "mean_shift",
                   "variance_ratio", "kl", "w2", "g_frozen", "n_switches", "integrator", "status")

    def __getattr__(self, name):  # the per-point fields of the grid, reshaped to (n_alpha, n_omega)
        if name in ("t_switch", "m_final", "v_final", "classified", "mean_shift", "variance_ratio", "kl", "w2",
                    "g_frozen", "n_switches", "fallback"):
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
            "sigma2": self.sigma2, "sampler": self.sampler, "process": self.process,
            "boundary": [b.to_json() for b in self.boundary],
            "boundary_tolerance": max((b.tolerance for b in finite), default=self.xtol),
            "boundary_method": "bracketed Illinois regula falsi in alpha on the signed final margin, vectorised "
                               "over omega",
            "alpha_c_t0": self.alpha_c_t0,
            "classified_fraction": float(np.mean(p.classified)),
            "per_point_fallback": int(p.fallback.sum()), "steps": p.steps,
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
                  progress=False) -> PhaseDiagram:
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
    log(1 + SNR_0)/2 (tests/test_phase.py, ``cfg-distortion verify``).
    """
    from cfg_distortion.meanfield import dmf, phase
    from cfg_distortion.model import params as V
    from cfg_distortion.model.process import get_process

    alphas = None if alpha is None else V.linspace_range(alpha, "alpha", minimum=0.0)
    omegas = V.linspace_range(omega, "omega")
    for w in (omegas.min(), omegas.max()):
        V.omega_bound(w)
    xtol = V.xtol(xtol)
    dmf.validate_inputs(0.0, sigma2, sampler, process, None)
    kw = dict(sampler=sampler, process=process)
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
                       notes=list(warnings), warnings=warnings, timings=timings)
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


# ---------------------------------------------------------------- finite d

def simulate(d, K=None, *, alpha=None, omega=None, schedule=None, sigma2=1.0, n=1000, seed=0, steps=None, T=None,
             sampler="sde", process="ou", target_norm="fixed", order=2, precision="auto", backend="numpy",
             progress=False):
    """Guided sampling at finite dimension ``d`` with the exact score of the K-class mixture.

    Give ``K`` (>= 2) or ``alpha`` (K = round(exp(alpha d))), and ``omega`` or ``schedule``
    (default omega = 0). Centroids mu_k ~ N(0, I_d) from ``seed`` (``target_norm="fixed"``
    rescales |mu_c|^2 to d), ``n`` samples, ``steps`` exact Gaussian transitions (default 100 at
    ``order=2``, where the posterior pull is extrapolated to each step's middle, 400 at
    ``order=1``, where it is frozen at the step's start); ``precision`` and ``backend`` choose the
    posterior kernel (float32 tiles where their rounding is negligible; numpy, numba or torch).
    Exact at omega = 0 at any step count (the class law m = 1, v = sigma2 (d - 1)/d); the
    reference that backs the mean-field theory as d grows.
    Returns :class:`cfg_distortion.finite_d.simulator.SimulationResult`.
    """
    from cfg_distortion.finite_d.simulator import simulate as run

    return run(d, K, alpha=alpha, omega=omega, schedule=schedule, sigma2=sigma2, n=n, seed=seed, steps=steps, T=T,
               sampler=sampler, process=process, target_norm=target_norm, order=order, precision=precision,
               backend=backend, progress=progress)


def finite_d(d, K=None, *, alpha=None, omega=None, schedule=None, sigma2=1.0, sampler="sde", process="ou",
             paths=20000, steps=1000, seed=0, T=None, progress=False):
    """The finite-d effective theory: (m, v) paths with a smooth branch switch and noise of order 1/d.

    Same inputs and conventions as :func:`simulate` (K = round(exp(alpha d)), |mu_c|^2 = d),
    ``paths`` paths, ``steps`` exact steps; sigma2 > 0. Tends to :func:`trajectory` as
    d -> infinity and is backed by the simulator (``cfg-distortion validate``; within 0.03
    in m at the issue's target points). Returns
    :class:`cfg_distortion.finite_d.effective.FiniteDResult`.
    """
    from cfg_distortion.finite_d.effective import solve

    return solve(d, K, alpha=alpha, omega=omega, schedule=schedule, sigma2=sigma2, sampler=sampler,
                 process=process, paths=paths, steps=steps, seed=seed, T=T, progress=progress)


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

    groups = EQ.grouped()
    if which is None:
        return Equations([e for _, eqs in groups for e in eqs])
    for group, eqs in groups:
        if group.key == which:
            return Equations(list(eqs))
    for _, eqs in groups:
        for e in eqs:
            if e.label == which:
                return Equations([e])
    keys = ", ".join(g.key for g, _ in groups)
    raise ValueError(f"equations: {which!r} is neither an equation label (eq:...) nor a group ({keys})")
