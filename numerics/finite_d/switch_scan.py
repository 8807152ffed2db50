"""Switch scan at finite d: a discrete sampler that guides with omega, then switches to omega_after at step k.

For N steps and each k = 0..N the sampler (:mod:`.samplers`) runs steps 0..k-1 with omega and
steps k..N-1 with omega_after (default -1: the unconditional denoiser). The N + 1 runs share their
guided prefix: it is run once, its state kept before every step, and each continuation starts from
the state before step k with its own noise stream (seeded by (seed, k)). k = N never switches.
The observables are the simulator's (:func:`.simulator.observables`): m = x . mu_c / |mu_c|^2,
v = |x - m mu_c|^2 / d, and the classified fraction at t = 0, with standard errors over samples
(one centroid draw).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cfg_distortion.finite_d import samplers as SM
from cfg_distortion.finite_d import simulator as SIM
from cfg_distortion.finite_d.backends import posterior_kernel
from cfg_distortion.model import params as V


@dataclass(frozen=True)
class SwitchRow:
    k: int
    sigma_switch: float  # sigma_k, the noise level of the first step with omega_after (0: never switches)
    m_sim: float
    m_sem: float | None
    v_sim: float
    v_sem: float | None
    classified_fraction: float


def _sem(x: np.ndarray) -> float | None:
    return float(np.std(x, ddof=1) / math.sqrt(x.size)) if x.size > 1 else None


def simulate_switches(d, K=None, *, alpha=None, omega=3.0, omega_after=-1.0, sigma2=1.0, steps=30,
                      integrator="euler-ancestral", grid="karras", sigma_max=SM.SIGMA_MAX, sigma_min=SM.SIGMA_MIN,
                      rho=SM.RHO, n=1000, seed=0, target_norm="fixed", precision="auto",
                      progress=None) -> tuple[list[SwitchRow], np.ndarray, int]:
    """(rows for k = 0..N, the sigma grid (N + 1 values ending in 0), K); see the module doc.

    ``progress``: a tqdm-like object with ``update(n)`` over the N + N(N+1)/2 sampler steps."""
    d = V.integer("d", d, 1)
    K = SIM.class_count(d, K, alpha)
    n, seed = V.integer("n", n, 2), V.integer("seed", seed, 0)
    omega, omega_after = V.finite("omega", omega, "a real number"), V.finite("omega_after", omega_after, "a real number")
    sigma2 = V.positive("sigma2", sigma2)
    V.choice("integrator", integrator, SM.DISCRETE)
    target_norm = V.choice("target_norm", target_norm, SIM.TARGET_NORMS)
    sigmas = SM.sigma_grid(steps, grid, sigma_max, sigma_min, rho)
    N = sigmas.size - 1
    SIM.check_memory(K, d, n * 2)
    mu = SIM.draw_centroids(K, d, seed, target_norm)
    mu_c = mu[SIM.TARGET].copy()
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    x = rng.standard_normal((n, d)) * float(sigmas[0])

    def tick(*_):
        if progress is not None:
            progress.update(1)

    out = []
    with posterior_kernel(mu, precision) as post:  # the kernel's thread pool lives as long as the runs
        del mu
        den = SM.Denoisers(post, mu_c, sigma2)
        kept = [None] * N

        def keep(i, state):
            kept[i] = state.copy()
            tick()

        finals = {N: SM.run(integrator, x, sigmas, np.full(N, omega), den, rng, on_step=keep)}
        for k in range(N):
            rng_k = np.random.default_rng(np.random.SeedSequence([seed, k, 1]))
            finals[k] = SM.run(integrator, kept[k], sigmas, np.full(N, omega_after), den, rng_k, start=k,
                               on_step=tick)
            kept[k] = None
        for k in range(N + 1):
            xf = finals.pop(k)
            hit = SIM.classified_at_zero(post, xf, sigma2)
            m, v = SIM.observables(xf, mu_c)
            out.append(SwitchRow(k, float(sigmas[k]), float(m.mean()), _sem(m), float(v.mean()), _sem(v),
                                 float(hit.mean())))
    return out, sigmas, K


__all__ = ["SwitchRow", "simulate_switches"]
