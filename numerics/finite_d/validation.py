"""Validation: the exact-score simulator against the d -> infinity DMF, extrapolated in 1/d.

For one case (alpha, omega or schedule, sigma2, sampler, process) and each dimension d, the
simulator (:mod:`.simulator`, ``target_norm="fixed"``, K = round(exp(alpha d))) runs over
``draws`` centroid draws (seeds 0, 1, ...) of ``n`` samples; its mean m and v at t = 0 are set
beside the DMF limit (:mod:`cfg_distortion.meanfield.dmf`, independent of d) and the finite-d
effective theory (:mod:`.effective`, same K, grid and target norm).

Error bars: each draw s gives a mean X_s with a within-draw standard error e_s; the standard
error of the pooled mean (1/S) sum X_s is the larger of the between-draw estimate
sd(X_s)/sqrt(S) (which contains both the spread of the centroid draws and the sampling
noise) and the within-draw floor sqrt(mean e_s^2 / S) (the between-draw variance cannot be
below the sampling one; with S = 2 or 3 draws the between-draw estimate alone is too noisy).

Extrapolation (:func:`extrapolate`): weighted least squares of the per-d means in x = 1/d,
weights 1/se^2. The model is a + b/d; where its chi^2 rejects it (p < 0.05, at least 3
dimensions) it becomes a + b/d + c/d^2, and ``model`` says which. The standard error of the
intercept a = value at d -> infinity comes from the fit's covariance, scaled up by
sqrt(chi^2/dof) when the scatter exceeds the error bars. Verdict ``consistent_m`` (``_v``):
|a - DMF| <= 3 standard errors. Rows with K < K_FIT_MIN = 50 classes are shown but not fitted
(where at least two others remain): at fixed alpha the finite-K corrections go like powers of
1/K = e^{-alpha d}, which no polynomial in 1/d follows (measured: alpha = 0.05, SDE, omega = 3,
the d = 40 row with K = 7 pulls the fit of m through d = 40, 80, 160 to 1.056 +- 0.003 against
the DMF's 1.044, while d = 80, 160 alone give 1.053 +- 0.004).

K = exp(alpha d) bounds the reachable d (the simulator's cost is n K d per step): small alpha
reaches large d cheaply (alpha = 0.05 at d = 160 is K = 2981). The simulations can run on a
Dask cluster (:mod:`.batch`); the same seeds give the same numbers in-process and there.
"""
from __future__ import annotations

import csv
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from cfg_distortion.model import params as V
from cfg_distortion.result import Result

CONSISTENT_SE = 3.0  # verdict: |extrapolated - DMF| <= 3 standard errors
K_FIT_MIN = 50  # rows with fewer classes stay in the table but not in the fit (corrections in 1/K = e^{-alpha d})
P_LINEAR = 0.05  # chi^2 p-value below which a + b/d is rejected for a + b/d + c/d^2
DEFAULT_DS = (40, 80, 160)
DEFAULT_DRAWS, DEFAULT_N, DEFAULT_STEPS, DEFAULT_PATHS = 4, 500, 400, 20000
QUICK_DRAWS, QUICK_PATHS = 2, 10000


@dataclass(frozen=True)
class Case:
    alpha: float
    omega: float | None
    sampler: str
    ds: tuple[int, ...]
    draws: tuple[int, ...]  # number of centroid draws at each d (same length as ds)
    schedule: str | None = None


# The preset suite (``validate`` without --alpha): the cases of the earlier fixed table.
FULL = (
    Case(0.3, 3.0, "sde", (20, 25, 30), (6, 4, 3)),
    Case(0.15, 3.0, "sde", (20, 40, 60), (6, 6, 3)),
    Case(0.1, 3.0, "sde", (20, 40, 60, 80), (6, 6, 4, 3)),
    Case(0.15, 3.0, "ode", (20, 40), (6, 6)),
)
QUICK = (
    Case(0.3, 3.0, "sde", (20, 25), (3, 2)),
    Case(0.15, 3.0, "sde", (20, 40, 50), (3, 3, 2)),
    Case(0.15, 3.0, "ode", (20, 40), (2, 2)),
)
TARGETS = (  # the finite-d theory's target points (sigma2 = 1, SDE, omega = 3)
    Case(0.3, 3.0, "sde", (20,), (8,)),
    Case(0.15, 3.0, "sde", (40,), (8,)),
)
SETTINGS = {"full": {"n": 1000, "steps": 400, "paths": 20000},
            "quick": {"n": 500, "steps": 400, "paths": 10000}}
COLUMNS = ["alpha", "omega", "schedule", "sampler", "d", "K", "draws", "n", "m_sim", "m_sem", "v_sim", "v_sem",
           "m_dmf", "v_dmf", "m_finite_d", "v_finite_d", "m_finite_d_sem", "v_finite_d_sem",
           "gap_m_finite_d", "gap_v_finite_d", "gap_m_dmf", "gap_v_dmf",
           "kl_sim", "w2_sim", "kl_dmf", "w2_dmf", "kl_finite_d", "w2_finite_d"]


# ---------------------------------------------------------------- statistics


def pooled(means, sems) -> tuple[float, float]:
    """Mean over draws and its standard error (see the module docstring)."""
    means, sems = np.asarray(means, float), np.asarray(sems, float)
    S = len(means)
    floor = math.sqrt(float(np.mean(sems**2)) / S)
    between = float(np.std(means, ddof=1)) / math.sqrt(S) if S > 1 else 0.0
    return float(means.mean()), max(floor, between)


def pool_runs(runs) -> tuple[tuple[float, float], tuple[float, float]]:
    """((m, se), (v, se)) pooled over simulation results of several centroid draws."""
    sems = lambda key: [getattr(r, key) if getattr(r, key) is not None else 0.0 for r in runs]  # noqa: E731
    return (pooled([r.m_mean for r in runs], sems("m_sem")), pooled([r.v_mean for r in runs], sems("v_sem")))


def _wls(x, y, se, degree: int) -> dict:
    X = np.vander(x, degree + 1, increasing=True)
    W = 1.0 / se**2
    cov = np.linalg.inv(X.T @ (W[:, None] * X))
    coef = cov @ (X.T @ (W * y))
    chi2 = float(np.sum(((y - X @ coef) / se) ** 2))
    dof = len(x) - degree - 1
    scale = math.sqrt(chi2 / dof) if dof > 0 and chi2 > dof else 1.0
    return {"coef": coef, "cov": cov * scale**2, "chi2": chi2, "dof": dof, "scale": scale}


def extrapolate(d, y, se) -> dict:
    """Weighted least-squares value at 1/d = 0 of y(d) +- se (see the module docstring).

    Returns value, se, model ('a + b/d' or 'a + b/d + c/d^2'), chi2, dof, p_value (None when
    dof = 0), the coefficients and their covariance (for the band of the figure).
    """
    from scipy.stats import chi2 as chi2_law

    x, y, se = 1.0 / np.asarray(d, float), np.asarray(y, float), np.asarray(se, float)
    if len(np.unique(x)) < 2:
        raise ValueError("d must list at least two different dimensions to extrapolate in 1/d")
    if np.any(~np.isfinite(se)) or np.any(se <= 0):
        raise ArithmeticError("a standard error is zero or not finite: cannot weight the fit in 1/d")
    fit = _wls(x, y, se, 1)
    p = float(chi2_law.sf(fit["chi2"], fit["dof"])) if fit["dof"] > 0 else None
    model = "a + b/d"
    if p is not None and p < P_LINEAR and len(np.unique(x)) >= 3:
        fit = _wls(x, y, se, 2)
        p = float(chi2_law.sf(fit["chi2"], fit["dof"])) if fit["dof"] > 0 else None
        model = "a + b/d + c/d^2"
    return {"value": float(fit["coef"][0]), "se": float(math.sqrt(fit["cov"][0, 0])), "model": model,
            "chi2": fit["chi2"], "dof": fit["dof"], "p_value": p, "coef": [float(c) for c in fit["coef"]],
            "cov": fit["cov"].tolist()}


def band(fit: dict, inv_d) -> tuple[np.ndarray, np.ndarray]:
    """The fitted curve and its standard error at the points 1/d = inv_d."""
    X = np.vander(np.asarray(inv_d, float), len(fit["coef"]), increasing=True)
    cov = np.asarray(fit["cov"])
    return X @ np.asarray(fit["coef"]), np.sqrt(np.einsum("ij,jk,ik->i", X, cov, X))


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Row:
    alpha: float
    omega: float | None
    schedule: str
    sampler: str
    d: int
    K: int
    draws: int
    n: int
    m_sim: float
    m_sem: float
    v_sim: float
    v_sem: float
    m_dmf: float
    v_dmf: float
    m_finite_d: float
    v_finite_d: float
    m_finite_d_sem: float
    v_finite_d_sem: float
    m_draws: tuple = ()
    v_draws: tuple = ()
    sigma2: float = 1.0

    @property
    def gap_m_finite_d(self) -> float:
        return self.m_finite_d - self.m_sim

    @property
    def gap_v_finite_d(self) -> float:
        return self.v_finite_d - self.v_sim

    @property
    def gap_m_dmf(self) -> float:
        return self.m_dmf - self.m_sim

    @property
    def gap_v_dmf(self) -> float:
        return self.v_dmf - self.v_sim

    def to_json(self) -> dict:
        out = asdict(self)
        from cfg_distortion.model.divergence import divergences

        out["m_draws"], out["v_draws"] = list(self.m_draws), list(self.v_draws)
        out.update({"gap_m_finite_d": self.gap_m_finite_d, "gap_v_finite_d": self.gap_v_finite_d,
                    "gap_m_dmf": self.gap_m_dmf, "gap_v_dmf": self.gap_v_dmf})
        for src in ("sim", "dmf", "finite_d"):  # kl, w2 at each route's (m, v)
            out.update(divergences(out[f"m_{src}"], out[f"v_{src}"], self.sigma2, f"_{src}"))
        return out


@dataclass(frozen=True)
class CaseValidation:
    """One case: per-d rows, the DMF, the extrapolation to d -> infinity and the finite-d curve."""

    case: Case
    sigma2: float
    process: str
    rows: tuple[Row, ...]
    dmf: dict
    fits: dict  # "m", "v": the output of :func:`extrapolate`
    curve: dict  # finite-d theory at more d, for the figure

    @property
    def extrapolated(self) -> dict:
        m, v = self.fits["m"], self.fits["v"]
        return {"m": m["value"], "m_se": m["se"], "v": v["value"], "v_se": v["se"],
                "model": {"m": m["model"], "v": v["model"]},
                "consistent_m": abs(m["value"] - self.dmf["m"]) <= CONSISTENT_SE * m["se"],
                "consistent_v": abs(v["value"] - self.dmf["v"]) <= CONSISTENT_SE * v["se"],
                "fit": {k: {"d": f["d"], "chi2": f["chi2"], "dof": f["dof"], "p_value": f["p_value"], "coef": f["coef"]}
                        for k, f in self.fits.items()}}

    def label(self) -> str:
        g = f"omega = {self.case.omega:g}" if self.case.schedule is None else f"schedule {self.case.schedule}"
        return f"alpha = {self.case.alpha:g}, {g}, {self.case.sampler.upper()}"

    def to_json(self) -> dict:
        c = self.case
        return {"alpha": c.alpha, "omega": c.omega, "schedule": self.rows[0].schedule, "sampler": c.sampler,
                "sigma2": self.sigma2, "process": self.process, "rows": [r.to_json() for r in self.rows],
                "extrapolated": self.extrapolated, "dmf": dict(self.dmf), "finite_d_curve": self.curve}


@dataclass(frozen=True, repr=False)
class ValidationResult(Result):
    """Simulation against the DMF at several d, extrapolated to d -> infinity.

    ``rows`` (every case), and for a single case ``extrapolated`` = {m, m_se, v, v_se, model,
    consistent_m, consistent_v} and ``dmf`` = {m, v}; ``cases`` holds one
    :class:`CaseValidation` per case. ``write_csv(file)`` writes the rows to an open file;
    :class:`cfg_distortion.api.Validation` adds ``to_csv(path)`` and ``plot(path)`` (the figure:
    m(0), v(0) against 1/d with error bars, the fit with its band, the DMF at 1/d = 0 and the
    finite-d theory).
    """

    cases: tuple[CaseValidation, ...]
    settings: dict
    seconds: float
    notes: tuple = field(default=())

    @property
    def rows(self) -> list[Row]:
        return [r for c in self.cases for r in c.rows]

    @property
    def extrapolated(self) -> dict:
        return self._single().extrapolated

    @property
    def dmf(self) -> dict:
        return dict(self._single().dmf)

    def _single(self) -> CaseValidation:
        if len(self.cases) != 1:
            raise AttributeError("this validation has several cases: see .cases[i].extrapolated")
        return self.cases[0]

    @property
    def consistent(self) -> bool:
        return all(c.extrapolated["consistent_m"] and c.extrapolated["consistent_v"] for c in self.cases)

    def to_json(self) -> dict:
        out = {"status": self.status, "message": self.message, "notes": list(self.notes),
               "rows": [r.to_json() for r in self.rows], "settings": dict(self.settings), "seconds": self.seconds}
        if len(self.cases) == 1:
            one = self.cases[0].to_json()
            out.update({k: one[k] for k in ("extrapolated", "dmf", "finite_d_curve", "alpha", "omega", "schedule",
                                            "sampler", "sigma2", "process")})
        else:
            out["cases"] = [{k: v for k, v in c.to_json().items() if k != "rows"} for c in self.cases]
        return out

    def write_csv(self, fh) -> None:
        """The rows (:data:`COLUMNS`) as CSV to the open text file ``fh``."""
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for r in self.rows:
            w.writerow({k: r.to_json()[k] for k in COLUMNS})


# ---------------------------------------------------------------- running


def dmf_final(case: Case, sigma2: float = 1.0, process: str = "ou") -> dict:
    from cfg_distortion.meanfield.dmf import trajectory

    tr = trajectory(case.alpha, case.omega, sigma2, schedule=case.schedule, sampler=case.sampler, process=process)
    return {"m": float(tr.m_final), "v": float(tr.v_final)}


def _sim_kwargs(case: Case, d: int, seed: int, sigma2: float, process: str, n: int, steps: int) -> dict:
    return dict(d=d, alpha=case.alpha, omega=case.omega, schedule=case.schedule, sigma2=sigma2, n=n, seed=seed,
                steps=steps, sampler=case.sampler, process=process)


def _finite_d(case: Case, d: int, sigma2: float, process: str, paths: int, steps: int):
    from cfg_distortion.finite_d.effective import solve

    return solve(d, alpha=case.alpha, omega=case.omega, schedule=case.schedule, sigma2=sigma2,
                 sampler=case.sampler, process=process, paths=paths, steps=steps)


def _check(case: Case, sigma2: float, process: str, n: int) -> None:
    """Every (d, K) of the case is runnable: checked before any work starts."""
    from cfg_distortion.finite_d.simulator import check_memory, class_count

    if len(set(case.ds)) < 2:
        raise ValueError(f"d must list at least two different dimensions to extrapolate in 1/d (got {list(case.ds)})")
    for d in case.ds:
        V.integer("d", d, 2)
        check_memory(class_count(d, alpha=case.alpha), d, n)


def run_cases(cases, sigma2=1.0, process="ou", n=DEFAULT_N, steps=DEFAULT_STEPS, paths=DEFAULT_PATHS,
              scheduler=None, progress=False, curve_factors=(2, 4, 16, 64)) -> ValidationResult:
    """Simulations (in one batch, possibly on Dask), finite-d theory and DMF for every case."""
    from cfg_distortion.finite_d.batch import check_scheduler, run_batch
    from cfg_distortion.finite_d.simulator import simulate

    check_scheduler(scheduler)
    for case in cases:
        _check(case, sigma2, process, n)
    start = time.perf_counter()
    jobs = [(i, d, s) for i, c in enumerate(cases) for d, S in zip(c.ds, c.draws) for s in range(S)]
    sims = run_batch(simulate, [_sim_kwargs(cases[i], d, s, sigma2, process, n, steps) for i, d, s in jobs],
                     scheduler, progress, "validate")
    by_key = {}
    for (i, d, s), r in zip(jobs, sims):
        by_key.setdefault((i, d), []).append(r)
    out = []
    for i, case in enumerate(cases):
        dmf = dmf_final(case, sigma2, process)
        rows = []
        for d in case.ds:
            runs = by_key[(i, d)]
            (m_sim, m_sem), (v_sim, v_sem) = pool_runs(runs)
            fd = _finite_d(case, d, sigma2, process, paths, steps)
            rows.append(Row(case.alpha, case.omega, runs[0].schedule, case.sampler, d, runs[0].K, len(runs), n,
                            m_sim, m_sem, v_sim, v_sem, dmf["m"], dmf["v"], fd.m_mean, fd.v_mean, fd.m_sem,
                            fd.v_sem, tuple(r.m_mean for r in runs), tuple(r.v_mean for r in runs), sigma2))
        ds = [r.d for r in rows]
        fitted = [r for r in rows if r.K >= K_FIT_MIN]
        if len(fitted) < 2:
            fitted = rows
        fits = {k: extrapolate([r.d for r in fitted], [getattr(r, f"{k}_sim") for r in fitted],
                               [getattr(r, f"{k}_sem") for r in fitted]) for k in ("m", "v")}
        for f in fits.values():
            f["d"] = [r.d for r in fitted]
        curve_ds = sorted({*ds, *(max(ds) * f for f in curve_factors)})
        curve = {"d": curve_ds, "m": [], "v": []}
        for d in curve_ds:
            fd = rows[ds.index(d)] if d in ds else None
            if fd is None:
                r = _finite_d(case, d, sigma2, process, paths, steps)
                curve["m"].append(r.m_mean)
                curve["v"].append(r.v_mean)
            else:
                curve["m"].append(fd.m_finite_d)
                curve["v"].append(fd.v_finite_d)
        out.append(CaseValidation(case, sigma2, process, tuple(rows), dmf, fits, curve))
    settings = {"n": n, "steps": steps, "paths": paths, "target_norm": "fixed", "scheduler": scheduler or "in-process",
                "consistent_se": CONSISTENT_SE, "p_linear": P_LINEAR, "K_fit_min": K_FIT_MIN}
    notes = ["|mu_c|^2 = d (target_norm fixed); standard errors pooled over centroid draws x samples",
             f"extrapolation: weighted least squares in 1/d over the rows with K >= {K_FIT_MIN}, a + b/d unless "
             f"chi^2 rejects it (p < {P_LINEAR}); consistent: |extrapolated - DMF| <= {CONSISTENT_SE:g} se"]
    return ValidationResult(tuple(out), settings, time.perf_counter() - start, notes=tuple(notes))


def row_at(case: Case, d: int, draws: int, n: int = DEFAULT_N, steps: int = DEFAULT_STEPS, paths: int = DEFAULT_PATHS,
           sigma2: float = 1.0, process: str = "ou", scheduler=None) -> Row:
    """Simulation (pooled over ``draws`` centroid draws), finite-d theory and DMF at one d."""
    from cfg_distortion.finite_d.batch import run_batch
    from cfg_distortion.finite_d.simulator import simulate

    runs = run_batch(simulate, [_sim_kwargs(case, d, s, sigma2, process, n, steps) for s in range(draws)], scheduler)
    (m_sim, m_sem), (v_sim, v_sem) = pool_runs(runs)
    fd = _finite_d(case, d, sigma2, process, paths, steps)
    dmf = dmf_final(case, sigma2, process)
    return Row(case.alpha, case.omega, runs[0].schedule, case.sampler, d, runs[0].K, draws, n, m_sim, m_sem, v_sim,
               v_sem, dmf["m"], dmf["v"], fd.m_mean, fd.v_mean, fd.m_sem, fd.v_sem,
               tuple(r.m_mean for r in runs), tuple(r.v_mean for r in runs), sigma2)


def _ds(d) -> tuple[int, ...]:
    if isinstance(d, str):
        try:
            d = [int(x) for x in d.split(",") if x.strip()]
        except ValueError:
            raise ValueError(f"d must be a comma-separated list of integers >= 2 (got {d!r})") from None
    if isinstance(d, (int, np.integer)):
        d = [d]
    ds = tuple(V.integer("d", x, 2) for x in d)
    if len(set(ds)) < 2:
        raise ValueError(f"d must list at least two different dimensions to extrapolate in 1/d (got {list(ds)})")
    return tuple(sorted(set(ds)))


def validate(alpha=None, omega=None, *, schedule=None, sigma2=1.0, sampler="sde", process="ou", d=None,
             draws=None, n=None, steps=DEFAULT_STEPS, paths=None, quick=False, scheduler=None,
             progress=False) -> ValidationResult:
    """Exact-score simulation at several d against the DMF, extrapolated to d -> infinity.

    With ``alpha`` given: one case (``omega`` or ``schedule``, default omega = 0) at the
    dimensions ``d`` (default 40, 80, 160; K = round(exp(alpha d)) at each), ``draws`` centroid
    draws of ``n`` samples each (default 4 x 500; ``quick``: 2 x 500 and fewer finite-d paths).
    Without ``alpha``: the preset suite (:data:`FULL`, or :data:`QUICK` if ``quick``), sigma2 = 1,
    ou. ``scheduler``: None (in-process), 'local' (a Dask LocalCluster) or a Dask scheduler
    address. Bad input raises ValueError with one line naming the parameter; a failed fit or
    solver raises ArithmeticError.
    """
    sigma2 = V.positive("sigma2", sigma2)
    sampler = V.choice("sampler", sampler, ("sde", "ode"))
    V.process(process)
    steps = V.integer("steps", steps, 1)
    if alpha is None:
        if any(x is not None for x in (omega, schedule, d, draws)):
            raise ValueError("alpha is required when omega, schedule, d or draws are given")
        mode = "quick" if quick else "full"
        s = SETTINGS[mode]
        n = s["n"] if n is None else V.integer("n", n, 2)
        paths = s["paths"] if paths is None else V.integer("paths", paths, 2)
        return run_cases(QUICK if quick else FULL, sigma2, process, n, steps, paths, scheduler, progress)
    alpha = V.positive("alpha", alpha)
    if omega is not None and schedule is not None:
        raise ValueError("give at most one of omega and schedule")
    if omega is None and schedule is None:
        omega = 0.0
    if omega is not None:
        omega = V.finite("omega", omega, "a real number")
    elif not isinstance(schedule, str):
        raise ValueError("schedule must be a spec string such as interval:3,0,1 (got a non-string)")
    ds = _ds(DEFAULT_DS if d is None else d)
    draws = (QUICK_DRAWS if quick else DEFAULT_DRAWS) if draws is None else V.integer("draws", draws, 2)
    n = DEFAULT_N if n is None else V.integer("n", n, 2)
    paths = (QUICK_PATHS if quick else DEFAULT_PATHS) if paths is None else V.integer("paths", paths, 2)
    case = Case(alpha, omega, sampler, ds, (draws,) * len(ds), schedule)
    return run_cases((case,), sigma2, process, n, steps, paths, scheduler, progress)
