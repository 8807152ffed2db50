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

Wrong classes (``wrong_classes``): ``"finite"`` (default where K <= FINITE_K_MAX) takes the
exact finite-K expectation of the posterior mean, E[sum_k w_k mu_k | x] = wbar_c mu_c +
kappa_bar x over the K - 1 i.i.d. wrong centroids (``theory/finite_d.py``,
:func:`finite_K_tables`), in place of the annealed ratio of expectations (w_c from E Z,
(1 - w_c) kappa x), which over-weights the few centroids that dominate Z at small K. It is
estimated without bias at each step by Monte Carlo over the wrong centroids' exact law
(u ~ N(0, 1) along x, |mu_perp|^2 ~ chi2_{d-1}): ``replicas`` draws of the K - 1 centroids,
shared by a grid of q values (interpolated in q, common random numbers) and fresh at each
step, so their error averages out over the steps. ``"annealed"`` is the earlier theory; it is
used where K is not known (alpha d > 36) or above FINITE_K_MAX, where the d -> infinity limit
of both is the same annealed branch G (not frozen for the SDE at omega >= 0).
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

WRONG_CLASSES = ("finite", "annealed")
FINITE_K_MAX = 20000  # above this the annealed theory is used (cost nq x replicas x K per step)
DEFAULT_REPLICAS = 16
Q_NODES = 12
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
    wrong_classes: str = "annealed"

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


def finite_K_tables(rng, K: int, d: int, q_nodes, a: float, Gamma: float, replicas: int):
    """log Z and U = sum_k softmax_k u_k over ``replicas`` draws of the K - 1 wrong centroids, at each q node.

    Arrays of shape (len(q_nodes), replicas); the same draws serve every q (common random numbers).
    """
    u = rng.standard_normal((replicas, K - 1))
    r = 2.0 * rng.standard_gamma((d - 1) / 2.0, (replicas, K - 1)) if d > 1 else np.zeros((replicas, K - 1))
    q = np.asarray(q_nodes, float)[:, None, None]
    logits = G.fk_wrong_logit(u[None], r[None], q, d, a, Gamma)
    top = logits.max(axis=2, keepdims=True)
    np.subtract(logits, top, out=logits)
    np.exp(logits, out=logits)  # e^{l - max}: in (0, 1], the largest 1
    Z = logits.sum(axis=2)
    U = np.einsum("qrk,rk->qr", logits, u) / Z
    return np.log(Z) + top[..., 0], U


L_SPACING = 0.125  # grid of the target logit in the (q, logit_c) tables; w varies on a scale of 1
L_MARGIN = 25.0  # beyond log Z +- this the target weight is 0 or 1 to e^-25


def finite_K_moments(m, q, d: int, a: float, Gamma: float, q_nodes, log_Z, U):
    """(wbar_c, kappa_bar) per path: the replicas' mean of w = 1/(1 + Z e^{-logit_c}) and (1 - w) U/|x|.

    Tabulated on (q node, logit_c) with logit_c every L_SPACING within L_MARGIN of the replicas'
    log Z (outside, w is 0 or 1 to e^-25), then interpolated bilinearly per path.
    """
    q_nodes = np.asarray(q_nodes, float)
    lc = G.fk_target_logit(m, d, a, Gamma)
    lo, hi = float(log_Z.min()) - L_MARGIN, float(log_Z.max()) + L_MARGIN
    grid = np.arange(lo, hi + L_SPACING, L_SPACING)
    w = expit(grid[None, :, None] - log_Z[:, None, :])  # (q, l, replica)
    w_tab = w.mean(axis=2)
    k_tab = ((1.0 - w) * U[:, None, :]).mean(axis=2)
    x = np.clip((lc - lo) / L_SPACING, 0.0, len(grid) - 1.000001)
    i = x.astype(int)
    s = x - i
    if len(q_nodes) == 1:
        j, t = np.zeros(len(m), int), np.zeros(len(m))
        w_tab, k_tab = np.repeat(w_tab, 2, axis=0), np.repeat(k_tab, 2, axis=0)
    else:
        j = np.clip(np.searchsorted(q_nodes, q) - 1, 0, len(q_nodes) - 2)
        t = np.clip((q - q_nodes[j]) / (q_nodes[j + 1] - q_nodes[j]), 0.0, 1.0)

    def bilinear(tab):
        lo_q = (1 - s) * tab[j, i] + s * tab[j, i + 1]
        hi_q = (1 - s) * tab[j + 1, i] + s * tab[j + 1, i + 1]
        return (1 - t) * lo_q + t * hi_q

    return bilinear(w_tab), bilinear(k_tab) / np.sqrt(q * d)


def solve(d, K=None, *, alpha=None, omega=None, schedule=None, sigma2=1.0, sampler="sde", process="ou",
          paths=DEFAULT_PATHS, steps=DEFAULT_STEPS, seed=0, T=None, wrong_classes="finite",
          replicas=DEFAULT_REPLICAS, progress=False, rule=None) -> FiniteDResult:
    """Final (m, v) law of the finite-d effective theory; see the module docstring.

    Give exactly one of ``K`` and ``alpha`` and at most one of ``omega`` and ``schedule``
    (default omega = 0). sigma2 > 0 (the margin at t = 0 needs Gamma_0 = sigma2 > 0).
    ``wrong_classes``: "finite" (exact finite-K expectation, where K <= FINITE_K_MAX) or
    "annealed"; the result says which was used. ``rule``: only ``cfg`` (the exact-transition
    steps of this theory are derived for linear guidance; other rules: the DMF with ``rule=`` and
    the simulator). Bad input raises ValueError with one line naming the parameter.
    """
    from cfg_distortion.model.rules import parse_rule

    if not parse_rule(rule).is_cfg:
        raise ValueError(f"rule must be cfg for the finite-d theory (got {parse_rule(rule).spec!r}); use "
                         "trajectory or simulate for other rules")
    d = V.integer("d", d, 1)
    K, alpha_d = effective_alpha(d, K, alpha)
    sigma2 = V.sigma2(sigma2)
    paths, steps, seed = V.integer("paths", paths, 2), V.integer("steps", steps, 1), V.integer("seed", seed, 0)
    sampler = V.choice("sampler", sampler, SAMPLERS)
    wrong_classes = V.choice("wrong_classes", wrong_classes, WRONG_CLASSES)
    replicas = V.integer("replicas", replicas, 1)
    if K is None or K > FINITE_K_MAX:
        wrong_classes = "annealed"
    V.process(process)
    T = V.start_time(DEFAULT_T[process] if T is None else T, process)
    sched = guidance(omega, schedule, T, process=process)
    # ~10 float arrays over paths and over steps; >= 30 ns per path and step, ~20 us per step of Python
    V.budget("the finite-d theory", f"steps x paths = {steps} x {paths}", 8.0 * 10 * (paths + steps),
             steps * (3e-8 * paths + 2e-5))

    m, r2, (a_end, Gm_end), steps_taken = _evolve(d, K, alpha_d, sched, sigma2, sampler, process, T, paths, steps,
                                                  seed, wrong_classes, replicas, progress)
    v = r2 / d
    hit = G.finite_d_margin(m, v, a_end, Gm_end, alpha_d) > 0
    sd = lambda x: float(np.std(x, ddof=1))  # noqa: E731
    V.finite_result("finite-d theory", m_mean=m.mean(), v_mean=v.mean(), m_sd=sd(m), v_sd=sd(v))
    return FiniteDResult(
        m_mean=float(m.mean()), m_sd=sd(m), m_sem=sd(m) / math.sqrt(paths),
        v_mean=float(v.mean()), v_sd=sd(v), v_sem=sd(v) / math.sqrt(paths),
        classified_fraction=float(hit.mean()), d=d, K=K, alpha_d=alpha_d,
        paths=paths, steps=steps, steps_taken=steps_taken, alpha=None if alpha is None else float(alpha),
        omega=omega, schedule=sched.spec, sigma2=sigma2, sampler=sampler, process=process, seed=seed, T=float(T),
        wrong_classes=wrong_classes)


def _evolve(d, K, alpha_d, sched, sigma2, sampler, process, T, paths, steps, seed, wrong_classes, replicas, progress):
    """The paths' (m, |x_perp|^2) from t = T down to 0 by the exact steps of the effective theory;
    returns (m, r2, (a_0, Gamma_0), steps taken)."""
    p = get_process(process)
    times = time_grid(process, T, steps, sched.breakpoints)
    omegas = sched(0.5 * (times[:-1] + times[1:]))
    if not np.all(np.isfinite(omegas)):
        raise ValueError(f"schedule {sched.spec!r} is not finite on [0, T]")
    a, b, Gm = p.a(times), p.b(times), p.Gamma(times, sigma2)
    slope_fn, shift_fn = G.FINITE_D_STEPS[sampler]

    rng = np.random.default_rng(seed)
    table_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    fk_slope = G.FINITE_K_STEP_SLOPE[sampler]
    s0 = float(G.start_variance(a[0], Gm[0]))
    m = math.sqrt(s0 / d) * rng.standard_normal(paths)  # x_T . mu_c / d with |mu_c|^2 = d
    r2 = s0 * 2.0 * rng.standard_gamma((d - 1) / 2.0, paths) if d > 1 else np.zeros(paths)  # |x_perp|^2

    from tqdm import tqdm

    bar = tqdm(total=len(omegas), desc="finite-d", unit="step", disable=None if progress else True,
               delay=2.0, leave=False)
    for i, w in enumerate(omegas):
        if wrong_classes == "finite":
            q = m * m + r2 / d
            q_nodes = np.unique(np.linspace(q.min(), q.max(), Q_NODES))
            log_Z, U = finite_K_tables(table_rng, K, d, q_nodes, a[i], Gm[i], replicas)
            wc, kbar = finite_K_moments(m, q, d, a[i], Gm[i], q_nodes, log_Z, U)
            args = (a[i], b[i], a[i + 1], b[i + 1], sigma2, w)
            slope, shift = fk_slope(*args, kbar), shift_fn(*args, wc)
        else:
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

    return m, r2, (a[-1], Gm[-1]), len(omegas)
