"""Finite-d effective theory of guided sampling, solved as an SDE for (m, v) over many paths.

The theory (``theory/finite_d.py``): the target's posterior weight is smooth at finite d,
w_c = 1/(1 + exp(-d h_d)) with h_d = T(m) - phi_d(q), phi_d the exact (1/d) log E Z over the
K - 1 wrong Gaussian centroids (the annealed rate at alpha_d = log(K - 1)/d); the posterior
mean centroid is w_c mu_c + (1 - w_c) kappa x, so the drift of (m, v) is the w_c-weighted
mixture of the branch C and G drifts; m carries noise of variance g^2/d per unit time and v
of variance 4 g^2 v/d (both kept, SDE only).

Integrator: the simulator's exact step with the centroid frozen over a step
(``theory/transition.py``), written in (m, x_perp) by ``theory/finite_d.py``
(``fd_step_*``): m_s = slope m_t + shift + sqrt(var/d) z and x_perp moves by the same
slope plus N(0, var) per transverse component, so |x_perp_s|^2 is sampled exactly as
(slope |x_perp_t| + sqrt(var) z')^2 + var chi^2_{d-2}. At omega = 0 it is exact at any
step count (E m = 1, E v = sigma2 (d - 1)/d at t = 0). Same time grid (uniform in
sqrt(snr)), start law x_T ~ N(0, (Gamma_T + a_T^2) I), omega at step midpoints and
target-norm convention (|mu_c|^2 = d, the simulator's default ``fixed``) as
:mod:`.simulator`, so the two differ only by the theory's approximations. Vectorised over
paths; the loop is over steps.

The number of classes: K = round(exp(alpha d)) as in the simulator, alpha_d = log(K - 1)/d;
for alpha d > 36, log(K - 1) = alpha d to double precision, so alpha_d = alpha and K is not
reported (null), which lets d go to 10^4 and beyond.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import expit

from cfg_distortion import _generated as G
from cfg_distortion.model import params as V
from cfg_distortion.model.divergence import divergences
from cfg_distortion.model.process import get_process
from cfg_distortion.model.schedules import guidance
from cfg_distortion.finite_d.simulator import DEFAULT_T, SAMPLERS, class_count, time_grid
from cfg_distortion.result import Result

DEFAULT_PATHS = 20000
DEFAULT_STEPS = 1000
_LOG_K_EXACT = 36.0  # alpha d above this: log(round(e^{alpha d}) - 1) = alpha d to double precision


@dataclass(frozen=True, repr=False)
class FiniteDResult(Result):
    """Final (m, v) law of the finite-d effective theory at t = 0 over ``paths`` paths.

    Same observables and conventions as :class:`.simulator.SimulationResult` (m = x.mu_c/d
    with |mu_c|^2 = d, v = |x - m mu_c|^2/d), with the spread ``*_sd`` over paths and the
    standard error ``*_sem`` of the means. Backed by the exact-score simulator
    (``cfg-distortion validate``) and by the DMF as d -> infinity.
    """

    m_mean: float
    m_sd: float
    m_sem: float
    v_mean: float
    v_sd: float
    v_sem: float
    classified_fraction: float  # share of paths with w_c > 1/2 at t = 0
    d: int
    K: int | None  # None when alpha d > 36 (then alpha_d = alpha to double precision)
    alpha_d: float
    paths: int
    steps: int
    steps_taken: int
    alpha: float | None
    omega: float | None
    schedule: str
    sigma2: float
    sampler: str
    process: str
    seed: int
    T: float
    target_norm: str = "fixed"

    def to_json(self) -> dict:
        """The fields, with ``kl`` and ``w2`` at the path means (m_mean, v_mean), ``status`` and ``message``."""
        return {**asdict(self), **divergences(self.m_mean, self.v_mean, self.sigma2), "status": self.status,
                "message": self.message}


def effective_alpha(d: int, K=None, alpha=None) -> tuple[float | None, float]:
    """(K, alpha_d = log(K - 1)/d) with the simulator's rounding K = round(exp(alpha d))."""
    if alpha is not None and K is None:
        alpha = V.nonnegative("alpha", alpha)
        if alpha * d > _LOG_K_EXACT:
            return None, alpha
    K = class_count(d, K, alpha)
    return K, float(G.finite_d_alpha(float(K), float(d)))


def _transverse_norm2(rng, r2, slope, var, d):
    """|slope x_perp + sqrt(var) z|^2 for z ~ N(0, I_{d-1}), given r2 = |x_perp|^2 (exact in law)."""
    along = slope * np.sqrt(r2)
    if var > 0:
        along = along + math.sqrt(var) * rng.standard_normal(r2.shape)
        rest = 2.0 * rng.standard_gamma((d - 2) / 2.0, r2.shape) if d > 2 else 0.0
        return along * along + var * rest
    return along * along


def solve(d, K=None, *, alpha=None, omega=None, schedule=None, sigma2=1.0, sampler="sde", process="ou",
          paths=DEFAULT_PATHS, steps=DEFAULT_STEPS, seed=0, T=None, progress=False) -> FiniteDResult:
    """Final (m, v) law of the finite-d effective theory; see the module docstring.

    Give exactly one of ``K`` and ``alpha`` and at most one of ``omega`` and ``schedule``
    (default omega = 0). sigma2 > 0 (the margin at t = 0 needs Gamma_0 = sigma2 > 0).
    Bad input raises ValueError with one line naming the parameter.
    """
    d = V.integer("d", d, 1)
    K, alpha_d = effective_alpha(d, K, alpha)
    sigma2 = V.sigma2(sigma2)
    paths, steps, seed = V.integer("paths", paths, 2), V.integer("steps", steps, 1), V.integer("seed", seed, 0)
    sampler = V.choice("sampler", sampler, SAMPLERS)
    V.process(process)
    T = V.start_time(DEFAULT_T[process] if T is None else T, process)
    sched = guidance(omega, schedule, T, process=process)
    # ~10 float arrays over paths and over steps; >= 30 ns per path and step, ~20 us per step of Python
    V.budget("the finite-d theory", f"steps x paths = {steps} x {paths}", 8.0 * 10 * (paths + steps),
             steps * (3e-8 * paths + 2e-5))

    p = get_process(process)
    times = time_grid(process, T, steps, sched.breakpoints)
    omegas = sched(0.5 * (times[:-1] + times[1:]))
    if not np.all(np.isfinite(omegas)):
        raise ValueError(f"schedule {sched.spec!r} is not finite on [0, T]")
    a, b, Gm = p.a(times), p.b(times), p.Gamma(times, sigma2)
    slope_fn, shift_fn = G.FINITE_D_STEPS[sampler]

    rng = np.random.default_rng(seed)
    s0 = float(G.start_variance(a[0], Gm[0]))
    m = math.sqrt(s0 / d) * rng.standard_normal(paths)  # x_T . mu_c / d with |mu_c|^2 = d
    r2 = s0 * 2.0 * rng.standard_gamma((d - 1) / 2.0, paths) if d > 1 else np.zeros(paths)  # |x_perp|^2

    from tqdm import tqdm

    bar = tqdm(total=len(omegas), desc="finite-d", unit="step", disable=None if progress else True,
               delay=2.0, leave=False)
    for i, w in enumerate(omegas):
        wc = expit(d * G.finite_d_margin(m, r2 / d, a[i], Gm[i], alpha_d))
        args = (a[i], b[i], a[i + 1], b[i + 1], sigma2, w, wc)
        slope, shift = slope_fn(*args), shift_fn(*args)
        var = float(G.sde_step_var(a[i], b[i], a[i + 1], b[i + 1], sigma2)) if sampler == "sde" else 0.0
        m = slope * m + shift
        if var > 0:
            m += math.sqrt(var / d) * rng.standard_normal(paths)
        if d > 1:
            r2 = _transverse_norm2(rng, r2, slope, var, d)
        bar.update()
    bar.close()

    v = r2 / d
    hit = G.finite_d_margin(m, v, a[-1], Gm[-1], alpha_d) > 0
    sd = lambda x: float(np.std(x, ddof=1))  # noqa: E731
    V.finite_result("finite-d theory", m_mean=m.mean(), v_mean=v.mean(), m_sd=sd(m), v_sd=sd(v))
    return FiniteDResult(
        m_mean=float(m.mean()), m_sd=sd(m), m_sem=sd(m) / math.sqrt(paths),
        v_mean=float(v.mean()), v_sd=sd(v), v_sem=sd(v) / math.sqrt(paths),
        classified_fraction=float(hit.mean()), d=d, K=K, alpha_d=alpha_d,
        paths=paths, steps=steps, steps_taken=len(omegas), alpha=None if alpha is None else float(alpha),
        omega=omega, schedule=sched.spec, sigma2=sigma2, sampler=sampler, process=process, seed=seed, T=float(T))
