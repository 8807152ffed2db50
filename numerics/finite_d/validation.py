"""Validation: the exact-score simulator against the d -> infinity DMF and the finite-d theory.

For each case (alpha, omega, sampler) and each dimension d, the simulator (:mod:`.simulator`,
``target_norm="fixed"``, K = round(exp(alpha d))) runs over several centroid draws (seeds);
its mean m and v at t = 0 are set beside the DMF limit (:mod:`.dmf`, independent of d) and
the finite-d effective theory (:mod:`.finite_d`, same K, grid and target norm).

Error bars: each draw s gives a mean X_s with a within-draw standard error e_s; the
standard error of the pooled mean (1/S) sum X_s is the larger of the between-draw estimate
sd(X_s)/sqrt(S) and the within-draw floor sqrt(mean e_s^2 / S) (the between-draw variance
can never be below the sampling one; with S = 2 or 3 draws the between-draw estimate alone
is too noisy to trust).

K = exp(alpha d) bounds the reachable d (the simulator's cost is n K d per step), so the
larger d come with smaller alpha; ``--quick`` uses K <= 1808 and ~1 minute on 2 cores.
"""
from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Case:
    alpha: float
    omega: float
    sampler: str
    ds: tuple[int, ...]
    seeds: tuple[int, ...]  # number of centroid draws at each d (same length as ds)


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
TARGETS = (  # the target points: finite-d within 0.03 of the simulator in m
    Case(0.3, 3.0, "sde", (20,), (8,)),
    Case(0.15, 3.0, "sde", (40,), (8,)),
)
SETTINGS = {"full": {"n": 1000, "steps": 400, "paths": 20000, "curve_paths": 10000},
            "quick": {"n": 500, "steps": 400, "paths": 10000, "curve_paths": 4000}}
CURVE_DS = (16, 20, 25, 30, 40, 50, 60, 80, 100, 150, 250, 500, 1000)
COLUMNS = ["alpha", "omega", "sampler", "d", "K", "draws", "n", "m_sim", "m_sem", "v_sim", "v_sem",
           "m_dmf", "v_dmf", "m_finite_d", "v_finite_d", "m_finite_d_sem", "gap_m_finite_d", "gap_m_dmf",
           "kl_sim", "w2_sim", "kl_dmf", "w2_dmf", "kl_finite_d", "w2_finite_d"]


@dataclass(frozen=True)
class Row:
    alpha: float
    omega: float
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
    sigma2: float = 1.0

    @property
    def gap_m_finite_d(self) -> float:
        return self.m_finite_d - self.m_sim

    @property
    def gap_m_dmf(self) -> float:
        return self.m_dmf - self.m_sim

    def to_json(self) -> dict:
        from cfg_distortion.model.divergence import divergences

        out = {**asdict(self), "gap_m_finite_d": self.gap_m_finite_d, "gap_m_dmf": self.gap_m_dmf}
        for src in ("sim", "dmf", "finite_d"):  # kl, w2 at each route's (m, v)
            out.update(divergences(out[f"m_{src}"], out[f"v_{src}"], self.sigma2, f"_{src}"))
        return out


def pooled(means, sems) -> tuple[float, float]:
    """Mean over draws and its standard error (see the module docstring)."""
    means, sems = np.asarray(means, float), np.asarray(sems, float)
    S = len(means)
    floor = math.sqrt(float(np.mean(sems**2)) / S)
    between = float(np.std(means, ddof=1)) / math.sqrt(S) if S > 1 else 0.0
    return float(means.mean()), max(floor, between)


def dmf_final(case: Case, sigma2: float = 1.0) -> tuple[float, float]:
    from cfg_distortion.meanfield.dmf import trajectory

    tr = trajectory(case.alpha, case.omega, sigma2, sampler=case.sampler)
    return tr.m_final, tr.v_final


def simulate_row(case: Case, d: int, draws: int, n: int, steps: int, paths: int, dmf=None,
                 sigma2: float = 1.0, progress=None) -> Row:
    """Simulator over ``draws`` centroid draws at one d, with the DMF and finite-d values beside it."""
    from cfg_distortion.finite_d.effective import solve
    from cfg_distortion.finite_d.simulator import simulate

    sims = []
    for seed in range(draws):
        sims.append(simulate(d, alpha=case.alpha, omega=case.omega, sigma2=sigma2, n=n, seed=seed, steps=steps,
                             sampler=case.sampler))
        if progress is not None:
            progress()
    m_sim, m_sem = pooled([r.m_mean for r in sims], [r.m_sem for r in sims])
    v_sim, v_sem = pooled([r.v_mean for r in sims], [r.v_sem for r in sims])
    fd = solve(d, alpha=case.alpha, omega=case.omega, sigma2=sigma2, sampler=case.sampler, paths=paths, steps=steps)
    m_dmf, v_dmf = dmf if dmf is not None else dmf_final(case, sigma2)
    return Row(case.alpha, case.omega, case.sampler, d, sims[0].K, draws, n, m_sim, m_sem, v_sim, v_sem,
               m_dmf, v_dmf, fd.m_mean, fd.v_mean, fd.m_sem, sigma2)


def theory_curve(case: Case, paths: int, steps: int, ds=CURVE_DS, sigma2: float = 1.0) -> dict:
    """Finite-d theory (m, v) at the dimensions ``ds`` (for the figure's curve)."""
    from cfg_distortion.finite_d.effective import solve

    m, v = [], []
    for d in ds:
        r = solve(d, alpha=case.alpha, omega=case.omega, sigma2=sigma2, sampler=case.sampler, paths=paths,
                  steps=steps)
        m.append(r.m_mean)
        v.append(r.v_mean)
    return {"d": list(ds), "m": m, "v": v}


def run(cases=QUICK, settings=None, progress=False) -> tuple[list[Row], list[dict]]:
    """Rows for every (case, d) and one finite-d curve per case."""
    from tqdm import tqdm

    settings = settings or SETTINGS["quick"]
    total = sum(sum(c.seeds) for c in cases)
    bar = tqdm(total=total, desc="validate", unit="run", disable=None if progress else True, leave=False)
    rows, curves = [], []
    for case in cases:
        dmf = dmf_final(case)
        for d, draws in zip(case.ds, case.seeds):
            rows.append(simulate_row(case, d, draws, settings["n"], settings["steps"], settings["paths"], dmf,
                                     progress=bar.update))
        curves.append(theory_curve(case, settings["curve_paths"], settings["steps"]))
    bar.close()
    return rows, curves


def write_csv(rows: list[Row], path: Path) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.to_json()[k] for k in COLUMNS})
    return path
