"""Exact-score simulator: guided sampling of the K-class Gaussian mixture at finite d.

Model (docs/theory.md): K centroids mu_k ~ N(0, I_d) drawn from ``seed``, target class c = 0,
x0 | c ~ N(mu_c, sigma2 I). Guided score s = (1 + omega) grad log p_t(x|c) - omega grad
log p_t(x) with the exact K-component mixture posterior w_k(x, t) (:mod:`.posterior`).

Integrator (``theory/transition.py``): the guided score is -(x - a C)/Gamma with the
centroid combination C = (1 + omega) mu_c - omega sum_k w_k mu_k. Each step t -> s freezes C
at x_t and takes the exact transition of the reverse SDE (or probability-flow ODE) of the
single class N(C, sigma2 I). At omega = 0 this is exact at any step size, so the omega = 0
class law (m = 1, E v = sigma2 (d - 1)/d) is reproduced without discretisation bias; for
omega != 0 the error is the variation of w_k within a step. A plain Euler step would bias
the variance by O(step) even at omega = 0.

Second order (``order=2``, the default): composed exact steps integrate C against the step
clock (``theory.transition.step_clock``: snr = a^2/Gamma for the SDE, whose natural parameter
a x/Gamma moves by C d snr, and lambda = sqrt(snr) for the ODE), so the frozen step is exact
for a C linear in the clock if C takes its value at the step's clock midpoint. The posterior
mean m_post = sum_k w_k mu_k is extrapolated there linearly from its values at this step's
start and the previous one (one kernel pass per step, like a two-step exponential
Adams-Bashforth method); omega is taken at the step's midpoint as before, and the first step
and the first after an omega = 0 stretch are first order. The ODE error falls ~4x per
doubling of the steps; 100 steps (``DEFAULT_STEPS[2]``) beat the former 400 first-order
steps in m and v for omega = 3 and a negative window (``test_step_convergence_*``).

Precision and backend: the kernel's tiles run in float32 wherever their rounding is
negligible (``precision="auto"``, see :mod:`.posterior`; the state and all sums across tiles
stay float64) and on the array engine ``backend`` (:mod:`.backends`: numpy, numba, torch).

Time grid: uniform in lambda = sqrt(a_t^2/(a_t^2 + b_t^2)), the square root of the SNR of
unit-variance data (lambda = e^{-t} for ou), from lambda(T) to 1 at t = 0. The exact ODE step
reads x_s/sqrt(Gamma_s) = x_t/sqrt(Gamma_t) + C (lambda_s - lambda_t) with lambda = a/sqrt(Gamma)
(see ``ode_step_coef_C``), so freezing C costs ~ sum |Delta C| Delta lambda: even steps in
lambda spread that error evenly (sigma2 = 1 keeps the grid finite for sigma2 = 0). Measured
at d = 20, K = 1000, omega = 3 (ODE): the 400-step error is ~0.003 in m and < 0.001 in v,
against 0.007 in v for a grid uniform in the SNR itself. The schedule's jump times are
added as grid points, and omega is evaluated at each step's midpoint. Start: x_T ~ N(0, (Gamma_T + a_T^2) I), the Gaussian with the
mixture marginal's mean and covariance; the default T makes a_T/sqrt(Gamma_T) ~ 1e-4 (ou:
T = 10, ve: T = 1e4, flow: T = 1 - 1e-4), which bounds the start's effect on m.

Observables at t = 0: m = x . mu_c/|mu_c|^2 (the coordinate along mu_c, = x . mu_c/d when
|mu_c|^2 = d) and v = |x - m mu_c|^2/d; ``target_norm="fixed"`` rescales mu_c to
|mu_c|^2 = d (the finite-d trap of docs/theory.md), ``"random"`` keeps the drawn norm and reports
``target_norm2`` = |mu_c|^2/d; ``classified_fraction`` is the share of samples whose target
posterior weight at t = 0 exceeds 1/2 (for sigma2 = 0: target is the nearest centroid).
"""
from __future__ import annotations

import math
from contextlib import nullcontext
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np

from cfg_distortion import _generated as G
from cfg_distortion.model import params as V
from cfg_distortion.model.divergence import divergences
from cfg_distortion.finite_d._blas import cores, single_threaded_blas
from cfg_distortion.finite_d.backends import check_backend, make_kernel
from cfg_distortion.finite_d.posterior import MixturePosterior, centroid_rows, check_precision
from cfg_distortion.model.process import get_process
from cfg_distortion.model.rules import parse_rule
from cfg_distortion.model.schedules import guidance
from cfg_distortion.result import Result
from cfg_distortion.finite_d.rules import guided_centroid

SAMPLERS = ("sde", "ode")
ORDERS = (1, 2)
DEFAULT_STEPS = {1: 400, 2: 100}  # order 2 at 100 steps is more accurate than order 1 at 400 (test_simulator)
TARGET_NORMS = ("fixed", "random")
DEFAULT_T = {"ou": 10.0, "ve": 1.0e4, "flow": 1.0 - 1.0e-4}
TARGET = 0  # index of the target class c
MEMORY_FRACTION = 0.8  # of the available memory the simulator may plan to use


@dataclass(frozen=True, repr=False)
class SimulationResult(Result):
    """Final law of the exact-score simulation at t = 0 (finite d, K classes).

    ``m_mean`` is the mean of m = x.mu_c/|mu_c|^2 over the n samples (1 for the class law),
    ``v_mean`` of v = |x - m mu_c|^2/d (sigma2 (d - 1)/d for the class law), with their
    standard errors over the samples (one centroid draw); ``classified_fraction`` is the
    share of samples whose Bayes posterior weight of the target exceeds 1/2 at t = 0.
    Exact at omega = 0 at any step count; the step error for omega != 0 is documented in
    the module docstring.
    """

    m_mean: float
    m_sem: float | None
    v_mean: float
    v_sem: float | None
    classified_fraction: float
    K: int
    d: int
    n: int
    steps: int
    steps_taken: int
    target_norm2: float
    alpha: float | None
    omega: float | None
    schedule: str
    sigma2: float
    seed: int
    T: float
    sampler: str
    process: str
    target_norm: str
    order: int = 1
    precision: str = "float64"
    backend: str = "numpy"
    integrator: str = "exact"
    grid_kind: str | None = None  # discrete integrators: "karras" or "uniform"
    grid: tuple | None = None  # discrete integrators: the noise levels sigma_0 > ... > sigma_{N-1} > 0 of the steps
    rule: str = "cfg"

    def to_json(self) -> dict:
        """The fields, with ``kl`` and ``w2`` at the sample means (m_mean, v_mean), ``status`` and ``message``."""
        out = {**asdict(self), **divergences(self.m_mean, self.v_mean, self.sigma2), "status": self.status,
               "message": self.message}
        out["grid"] = None if self.grid is None else list(self.grid)
        return out


# ---------------------------------------------------------------- inputs


def class_count(d: int, K=None, alpha=None) -> int:
    """K itself, or round(exp(alpha d)); exactly one of them. K >= 2."""
    if (K is None) == (alpha is None):
        raise ValueError("give exactly one of K and alpha (K = exp(alpha d))")
    if K is not None:
        return V.integer("K", K, 2)
    alpha = V.nonnegative("alpha", alpha)
    log_K = alpha * d
    if log_K > 700:
        raise ValueError(f"alpha = {alpha:g} at d = {d} gives K = exp(alpha d) = e^{log_K:.4g}, which overflows")
    K = int(round(math.exp(log_K)))
    if K < 2:
        raise ValueError(f"alpha = {alpha:g} at d = {d} gives K = exp(alpha d) = {K} classes; need K >= 2")
    return K


def memory_needed(K: int, d: int, n: int) -> int:
    """Bytes: centroid rows K x (d + 2), ~8 n x d sample arrays, a logit tile per core."""
    return 8 * (K * (d + 2) + 8 * n * (d + 2) + 2 * cores() * (1 << 17))


def check_memory(K: int, d: int, n: int) -> None:
    need, have = memory_needed(K, d, n), V.available_bytes()
    if need > MEMORY_FRACTION * have:
        raise ValueError(f"K x d = {K} x {d} (n = {n}) does not fit in memory: the simulator needs "
                         f"{need / 2**30:.3g} GiB (float64 centroids and samples), more than "
                         f"{MEMORY_FRACTION:.0%} of the {have / 2**30:.3g} GiB available")


def draw_centroids(K: int, d: int, seed: int, target_norm: str = "fixed") -> np.ndarray:
    """mu_k ~ N(0, I_d), k = 0..K-1 (K x d), from ``seed``; ``fixed`` sets |mu_0|^2 = d.

    Drawn in row blocks from one stream: the same seed gives the same centroids for any n.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[0])
    mu = np.empty((K, d))
    for lo in range(0, K, 1 << 16):
        mu[lo: lo + (1 << 16)] = rng.standard_normal((min(1 << 16, K - lo), d))
    if target_norm == "fixed":
        mu[TARGET] *= math.sqrt(d / float(mu[TARGET] @ mu[TARGET]))
    return mu


def time_grid(process: str, T: float, steps: int, breakpoints=()) -> np.ndarray:
    """Decreasing times T = t_0 > ... > t_N = 0, uniform in lambda = sqrt(snr(t, sigma2 = 1)), plus breakpoints."""
    p = get_process(process)
    lam_T = math.sqrt(float(p.snr(T, 1.0)))
    target = (lam_T + (1.0 - lam_T) * np.arange(steps + 1) / steps) ** 2  # snr, increasing <-> t decreasing
    lo, hi = np.zeros(steps + 1), np.full(steps + 1, T)
    for _ in range(200):  # bisection on the decreasing snr(t): exact to rounding
        mid = 0.5 * (lo + hi)
        above = p.snr(mid, 1.0) > target
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
        if np.all(hi - lo <= 1e-15 * np.maximum(hi, 1.0)):
            break
    t = 0.5 * (lo + hi)
    t[0], t[-1] = T, 0.0
    extra = [b for b in breakpoints if 0.0 < b < T]
    return np.unique(np.concatenate([t, extra]))[::-1]


# ---------------------------------------------------------------- sampler


def _step_coefficients(p, sampler: str, t: float, s: float, sigma2: float):
    args = (p.a(t), p.b(t), p.a(s), p.b(s), sigma2)
    if sampler == "sde":
        return float(G.sde_step_coef_x(*args)), float(G.sde_step_coef_C(*args)), float(G.sde_step_var(*args))
    return float(G.ode_step_coef_x(*args)), float(G.ode_step_coef_C(*args)), 0.0


def _clock(p, sampler: str, t: float, sigma2: float) -> float:
    """The step clock (``theory.transition.step_clock``): snr for the SDE, lambda = sqrt(snr) for the ODE."""
    fn = G.sde_step_clock if sampler == "sde" else G.ode_step_clock
    return float(fn(p.a(t), p.b(t), sigma2))


def _frozen_centroid(post: MixturePosterior, x, mu_c, a, Gamma, omega):
    """C = (1 + omega) mu_c - omega sum_k w_k(x) mu_k, per sample (n x d) or mu_c if omega = 0."""
    if omega == 0.0:
        return mu_c
    _, m_post = post.moments(x, a, Gamma)
    m_post *= G.frozen_coef_post(omega)
    m_post += G.frozen_coef_target(omega) * mu_c
    return m_post


def _classified(post: MixturePosterior, x, p, sigma2: float) -> np.ndarray:
    """Target posterior weight at t = 0 above 1/2 (sigma2 = 0: the weights' limit, nearest centroid)."""
    a0 = float(p.a(0.0))
    if sigma2 > 0:
        lse, _ = post.moments(x, a0, sigma2)
        return post.logits(x, TARGET, a0, sigma2) - lse > -math.log(2.0)
    c_xmu, c_mumu = float(G.logit_coef_xmu(a0, 1.0)), float(G.logit_coef_mumu(a0, 1.0))
    return post.logits(x, TARGET, a0, 1.0) >= post.max_logit(x, c_xmu, c_mumu)


def _sem(values: np.ndarray) -> float | None:
    return float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else None


def simulate(d, K=None, *, alpha=None, omega=None, schedule=None, sigma2=1.0, n=1000, seed=0, steps=None,
             T=None, sampler="sde", process="ou", target_norm="fixed", progress=False, order=2, precision="auto",
             backend="numpy", integrator="exact", grid=None, sigma_max=None, sigma_min=None, rho=None,
             rule=None) -> SimulationResult:
    """Run the guided sampler with the exact mixture score; see the module docstring.

    Give exactly one of ``K`` and ``alpha`` (K = round(exp(alpha d))) and at most one of
    ``omega`` (a number) and ``schedule`` (a spec string or callable; default omega = 0).
    ``order``: 2 (default) extrapolates the posterior pull to the middle of each step, 1
    freezes it at the step's start; ``steps`` defaults to ``DEFAULT_STEPS[order]``.
    ``precision``: "auto" (float32 tiles where their rounding is negligible), "float32",
    "float64"; ``backend``: the kernel's array engine (:mod:`.backends`).
    ``integrator``: ``"exact"`` (the transition above, default) or a discrete sampler of
    :mod:`.samplers` (``"euler"``, ``"euler-ancestral"``, ``"heun"``; process ``ve`` only, with
    ``steps`` (default 30) noise levels of ``grid`` = ``"karras"`` (default) or ``"uniform"`` from
    ``sigma_max`` (80) to ``sigma_min`` (0.002), ``rho`` (7), then 0; ``sampler``, ``T`` and
    ``order`` do not apply).
    ``rule``: a guidance rule spec, applied to the exact per-sample predictions with the
    (extrapolated) posterior mean (:mod:`.rules`; default cfg; integrator ``exact`` only).
    Bad input raises ValueError with one line naming the parameter.
    """
    from cfg_distortion.finite_d import samplers as SM

    rule = parse_rule(rule)
    V.choice("integrator", integrator, SM.INTEGRATORS)
    if integrator != "exact":
        if rule.family not in ("cfg", "cfgpp"):
            raise ValueError(f"rule must be cfg or cfgpp with integrator {integrator} (got {rule.spec!r}); the other "
                             "guidance rules run on the exact integrator")
        return _simulate_discrete(d, K, alpha=alpha, omega=omega, schedule=schedule, sigma2=sigma2, n=n, seed=seed,
                                  steps=SM.DEFAULT_STEPS if steps is None else steps, T=T, process=process,
                                  target_norm=target_norm, progress=progress, integrator=integrator, grid=grid,
                                  sigma_max=sigma_max, sigma_min=sigma_min, rho=rho, precision=precision,
                                  backend=backend, cfgpp=rule.family == "cfgpp")
    if any(x is not None for x in (grid, sigma_max, sigma_min, rho)):
        raise ValueError("grid, sigma_max, sigma_min and rho apply to the discrete integrators only "
                         f"({', '.join(SM.DISCRETE)}), not to integrator exact")
    if rule.family == "cfgpp":
        raise ValueError("rule cfgpp (CFG++) needs integrator euler or euler-ancestral (got integrator exact): its "
                         "guidance depends on the step sizes")
    d = V.integer("d", d, 1)
    K = class_count(d, K, alpha)
    if order not in ORDERS:
        raise ValueError(f"order must be 1 or 2 (got {order!r})")
    steps = DEFAULT_STEPS[order] if steps is None else steps
    n, steps, seed = V.integer("n", n, 1), V.integer("steps", steps, 1), V.integer("seed", seed, 0)
    precision, backend = check_precision(precision), check_backend(backend)
    sigma2 = V.sigma2(sigma2, allow_zero=True)
    sampler, target_norm = V.choice("sampler", sampler, SAMPLERS), V.choice("target_norm", target_norm, TARGET_NORMS)
    V.process(process)
    T = V.start_time(DEFAULT_T[process] if T is None else T, process)
    sched = guidance(omega, schedule, T, process=process)
    check_memory(K, d, n)
    # time: 2 K d multiply-adds per sample and step at >= 1e10 per second, ~20 us per step of Python
    V.budget("the simulation", f"steps x n x K x d = {steps} x {n} x {K} x {d}", 8.0 * 6 * steps,
             steps * (2.0 * n * K * d / 1e10 + 2e-5))

    p = get_process(process)
    times = time_grid(process, T, steps, sched.breakpoints)
    omegas = sched(0.5 * (times[:-1] + times[1:]))
    if not np.all(np.isfinite(omegas)):
        raise ValueError(f"schedule {sched.spec!r} is not finite on [0, T]")
    mu = draw_centroids(K, d, seed, target_norm)
    mu_c = mu[TARGET].copy()
    norm2 = float(mu_c @ mu_c)
    rows = centroid_rows(mu)
    del mu
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    x = rng.standard_normal((n, d)) * math.sqrt(float(G.start_variance(p.a(T), p.Gamma(T, sigma2))))

    x, hit = _march(x, rows, mu_c, p, times, omegas, sigma2, sampler, order, rule, backend, precision, progress, rng)
    m, v = observables(x, mu_c)
    V.finite_result("simulation", m_mean=m.mean(), v_mean=v.mean(), m_sem=_sem(m), v_sem=_sem(v))
    return SimulationResult(
        m_mean=float(m.mean()), m_sem=_sem(m), v_mean=float(v.mean()), v_sem=_sem(v),
        classified_fraction=float(hit.mean()), K=K, d=d, n=n, steps=steps, steps_taken=len(omegas),
        target_norm2=norm2 / d, alpha=None if alpha is None else float(alpha), omega=omega, schedule=sched.spec,
        sigma2=sigma2, seed=seed, T=float(T), sampler=sampler, process=process, target_norm=target_norm,
        order=order, precision=precision, backend=backend, rule=rule.spec)


def _march(x, rows, mu_c, p, times, omegas, sigma2, sampler, order, rule, backend, precision, progress, rng):
    """The exact-transition steps from times[0] down to 0 (x updated in place); returns (x, classified)."""
    from tqdm import tqdm

    n, d = x.shape
    with single_threaded_blas() as tiles_in_parallel:
        workers = cores() if tiles_in_parallel else 1
        with ThreadPoolExecutor(workers) if workers > 1 else nullcontext() as pool:
            post = make_kernel(backend, rows, pool, workers, precision)
            bar = tqdm(total=len(omegas), desc="simulate", unit="step", disable=None if progress else True,
                       delay=2.0, leave=False)
            prev = None  # (pull, clock) at the previous step's start, for the order-2 extrapolation
            rule_state = {}  # the rule's memory across steps (APG's momentum buffer)
            for t, s, w in zip(times[:-1], times[1:], omegas):
                w = float(w)
                if w == 0.0:
                    C, prev = mu_c, None
                else:
                    C, prev = _guided_centroid(post, x, mu_c, p, sampler, t, s, sigma2, w, order, prev, rule,
                                               rule_state)
                kx, kC, var = _step_coefficients(p, sampler, t, s, sigma2)
                x *= kx
                x += kC * C
                if var > 0:
                    x += math.sqrt(var) * rng.standard_normal((n, d))
                bar.update()
            bar.close()
            hit = _classified(post, x, p, sigma2)
    return x, hit


def _guided_centroid(post, x, mu_c, p, sampler, t, s, sigma2, w, order, prev, rule, rule_state):
    """The guided centroid C frozen over the step t -> s, and the (pull, clock) the next step extrapolates
    from: the posterior pull at t (order 1) or extrapolated to the step's middle in the clock (order 2)."""
    _, m_post = post.moments(x, float(p.a(t)), float(p.Gamma(t, sigma2)))
    clk = _clock(p, sampler, t, sigma2)
    C = m_post.copy() if order == 2 else m_post
    if order == 2 and prev is not None:  # m_post linear in the clock: its value mid-step
        r = 0.5 * (_clock(p, sampler, s, sigma2) - clk) / (clk - prev[1])
        C += r * (m_post - prev[0])
    prev = (m_post, clk) if order == 2 else None
    if rule.is_cfg:
        C *= G.frozen_coef_post(w)
        C += G.frozen_coef_target(w) * mu_c
    else:  # a guidance rule on the exact per-sample predictions, with C the posterior mean
        C = guided_centroid(rule, x, mu_c, C, p, t, sigma2, w, rule_state)
    return C, prev


# ---------------------------------------------------------------- discrete samplers (k-diffusion conventions)


def classified_at_zero(post: MixturePosterior, x, sigma2: float) -> np.ndarray:
    """Target posterior weight above 1/2 at t = 0 (process-independent: a_0 = 1, Gamma_0 = sigma2)."""
    return _classified(post, x, get_process("ve"), sigma2)


def observables(x: np.ndarray, mu_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sample m = x . mu_c / |mu_c|^2 and v = |x - m mu_c|^2 / d (x is not modified)."""
    d = x.shape[1]
    m = x @ mu_c / float(mu_c @ mu_c)
    perp = x - m[:, None] * mu_c
    return m, np.einsum("nd,nd->n", perp, perp) / d


def _simulate_discrete(d, K=None, *, alpha, omega, schedule, sigma2, n, seed, steps, T, process, target_norm,
                       progress, integrator, grid, sigma_max, sigma_min, rho, precision, backend,
                       cfgpp=False) -> SimulationResult:
    """``simulate`` with a discrete sampler of :mod:`.samplers` (see there for the conventions)."""
    from cfg_distortion.finite_d import samplers as SM

    if process != "ve":
        raise ValueError(f"integrator {integrator} follows the k-diffusion conventions on process ve "
                         f"(got process {process!r})")
    if T is not None:
        raise ValueError(f"T does not apply to integrator {integrator}: the grid starts at sigma_max")
    d = V.integer("d", d, 1)
    K = class_count(d, K, alpha)
    n, steps, seed = V.integer("n", n, 1), V.integer("steps", steps, 1), V.integer("seed", seed, 0)
    sigma2 = V.nonnegative("sigma2", sigma2)
    target_norm = V.choice("target_norm", target_norm, TARGET_NORMS)
    precision, backend = check_precision(precision), check_backend(backend)
    sigmas = SM.sigma_grid(steps, grid or "karras", SM.SIGMA_MAX if sigma_max is None else sigma_max,
                           SM.SIGMA_MIN if sigma_min is None else sigma_min, SM.RHO if rho is None else rho)
    sched = guidance(omega, schedule, float(sigmas[0]), process=process)
    omegas = np.asarray(sched(sigmas[:-1]), dtype=float)
    if not np.all(np.isfinite(omegas)):
        raise ValueError(f"schedule {sched.spec!r} is not finite on the grid")
    check_memory(K, d, n)
    mu = draw_centroids(K, d, seed, target_norm)
    mu_c = mu[TARGET].copy()
    rows = centroid_rows(mu)
    del mu
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    x = rng.standard_normal((n, d)) * float(sigmas[0])  # k-diffusion start: x = sigma_max z

    from tqdm import tqdm

    with single_threaded_blas() as tiles_in_parallel:
        workers = cores() if tiles_in_parallel else 1
        with ThreadPoolExecutor(workers) if workers > 1 else nullcontext() as pool:
            post = make_kernel(backend, rows, pool, workers, precision)
            den = SM.Denoisers(post, mu_c, sigma2)
            with tqdm(total=steps, desc=integrator, unit="step", disable=None if progress else True, delay=2.0,
                      leave=False) as bar:
                x = SM.run(integrator, x, sigmas, omegas, den, rng, on_step=lambda i, _: bar.update(i > 0),
                           cfgpp=cfgpp)
            hit = classified_at_zero(post, x, sigma2)
    m, v = observables(x, mu_c)
    return SimulationResult(
        m_mean=float(m.mean()), m_sem=_sem(m), v_mean=float(v.mean()), v_sem=_sem(v),
        classified_fraction=float(hit.mean()), K=K, d=d, n=n, steps=steps, steps_taken=steps,
        target_norm2=float(mu_c @ mu_c) / d, alpha=None if alpha is None else float(alpha), omega=omega,
        schedule=sched.spec, sigma2=sigma2, seed=seed, T=float(sigmas[0]), sampler=SM.SDE_LIKE[integrator],
        process=process, target_norm=target_norm, order=1, precision=precision, backend=backend,
        integrator=integrator, grid_kind=grid or "karras", grid=tuple(float(s) for s in sigmas[:-1]),
        rule="cfgpp" if cfgpp else "cfg")
