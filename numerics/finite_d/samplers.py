"""Discrete samplers as practitioners run them: Euler, Euler-ancestral and Heun on the ``ve`` process.

Conventions of the k-diffusion library (Karras et al. 2022, "Elucidating the design space"):
x_sigma = x0 + sigma z, the denoiser D(x, sigma) = E[x0 | x_sigma = x], the ODE direction
d = (x - D)/sigma, steps over a decreasing grid sigma_0 = sigma_max > ... > sigma_{N-1} = sigma_min
followed by sigma_N = 0, and the start x = sigma_max z.

- ``euler``: x <- x + (sigma_{i+1} - sigma_i) d(x, sigma_i) (probability-flow ODE);
- ``euler-ancestral`` (eta = 1): sigma_up = min(sigma_{i+1}, sqrt(sigma_{i+1}^2 (sigma_i^2 - sigma_{i+1}^2)
  / sigma_i^2)), sigma_down = sqrt(sigma_{i+1}^2 - sigma_up^2); x <- x + (sigma_down - sigma_i) d
  + sigma_up z (the reverse SDE's ancestral step);
- ``heun``: Euler predictor, then the trapezoid of d at sigma_i and sigma_{i+1}; the last step
  (to sigma = 0) is an Euler step.

Grids: ``karras`` sigma_i = (sigma_max^(1/rho) + i/(N-1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho,
and ``uniform``, evenly spaced in sigma (the same formula with rho = 1); both followed by 0.

The denoisers come from the posterior kernel (:meth:`.posterior.MixturePosterior.denoisers`, the
generated Gaussian conditioning coefficients of ``theory.transition``): D_c(x, sigma) = c_x x + c_mu mu_c,
D_u(x, sigma) = c_x x + c_mu sum_k w_k(x, sigma) mu_k. :func:`guided_denoiser` combines them
(D_u + (1 + omega)(D_c - D_u)); it is the one place a guidance rule replaces. The guidance
strength of step i is omega(sigma_i), the schedule evaluated at the step's starting noise
level (for ``ve`` the process time t is sigma), used for both evaluations of a Heun step; so
``piecewise:inf:W,S:-1`` with S = sigma_k switches to omega = -1 from step k on.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from cfg_distortion import _generated as G
from cfg_distortion.model import params as V

INTEGRATORS = ("exact", "euler", "euler-ancestral", "heun")
DISCRETE = INTEGRATORS[1:]
GRIDS = ("uniform", "karras")
SIGMA_MAX, SIGMA_MIN, RHO = 80.0, 0.002, 7.0  # EDM / k-diffusion defaults
DEFAULT_STEPS = 30
SDE_LIKE = {"euler": "ode", "euler-ancestral": "sde", "heun": "ode"}  # the continuous sampler each one discretises


def sigma_grid(steps: int, kind: str = "karras", sigma_max: float = SIGMA_MAX, sigma_min: float = SIGMA_MIN,
               rho: float = RHO) -> np.ndarray:
    """The N = ``steps`` noise levels sigma_0 = sigma_max > ... > sigma_{N-1} = sigma_min, then 0 (N + 1 values)."""
    steps = V.integer("steps", steps, 1)
    V.choice("grid", kind, GRIDS)
    sigma_max, sigma_min = V.positive("sigma_max", sigma_max), V.positive("sigma_min", sigma_min)
    rho = V.positive("rho", rho)
    if sigma_min >= sigma_max:
        raise ValueError(f"sigma_min must be < sigma_max (got sigma_min={sigma_min:g}, sigma_max={sigma_max:g})")
    r = rho if kind == "karras" else 1.0
    ramp = np.arange(steps) / (steps - 1) if steps > 1 else np.zeros(1)
    lo, hi = sigma_min ** (1 / r), sigma_max ** (1 / r)
    sigmas = (hi + ramp * (lo - hi)) ** r
    sigmas[0] = sigma_max
    if steps > 1:
        sigmas[-1] = sigma_min
    return np.append(sigmas, 0.0)


class Denoisers:
    """D_c(x, sigma) and D_u(x, sigma) of the mixture on ``ve`` (a = 1, Gamma = sigma2 + sigma^2).

    ``posterior``: the kernel of :func:`.posterior.posterior_kernel`, whose ``denoisers`` gives both
    in one pass over the classes; D_c alone needs no pass (the generated conditioning coefficients)."""

    def __init__(self, posterior, mu_c: np.ndarray, sigma2: float):
        self.post, self.mu_c, self.sigma2 = posterior, mu_c, float(sigma2)

    def conditional(self, x: np.ndarray, sigma: float) -> np.ndarray:
        gamma = self.sigma2 + sigma * sigma
        cx, cmu = float(G.denoiser_coef_x(1.0, gamma, self.sigma2)), float(G.denoiser_coef_mu(1.0, gamma, self.sigma2))
        return cx * x + cmu * self.mu_c

    def both(self, x: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
        """(D_c, D_u) at (x, sigma), one kernel pass."""
        return self.post.denoisers(x, self.mu_c, 1.0, self.sigma2 + sigma * sigma, self.sigma2)

    def unconditional(self, x: np.ndarray, sigma: float) -> np.ndarray:
        return self.both(x, sigma)[1]


def guided_denoiser(d_c: np.ndarray, d_u: np.ndarray, omega: float) -> np.ndarray:
    """Classifier-free guidance on denoisers: D_u + (1 + omega)(D_c - D_u) (omega = 0: D_c; omega = -1: D_u)."""
    return d_u + (1.0 + omega) * (d_c - d_u)


def guided(den: Denoisers, x: np.ndarray, sigma: float, omega: float) -> np.ndarray:
    """The guided denoiser at (x, sigma); at omega = 0 only D_c, which needs no pass over the classes."""
    if omega == 0.0:
        return den.conditional(x, sigma)
    d_c, d_u = den.both(x, sigma)
    return guided_denoiser(d_c, d_u, omega)


def ancestral_step(sigma: float, sigma_next: float, eta: float = 1.0) -> tuple[float, float]:
    """(sigma_down, sigma_up) of k-diffusion's ``get_ancestral_step``."""
    if sigma_next == 0.0:
        return 0.0, 0.0
    up = min(sigma_next, eta * math.sqrt(sigma_next**2 * (sigma**2 - sigma_next**2) / sigma**2))
    return math.sqrt(sigma_next**2 - up**2), up


def step(integrator: str, x: np.ndarray, sigma: float, sigma_next: float, denoise: Callable, rng) -> np.ndarray:
    """One step of a discrete sampler from sigma to sigma_next; ``denoise(x, sigma)`` is the guided denoiser."""
    if integrator == "euler":
        return x + (sigma_next - sigma) * (x - denoise(x, sigma)) / sigma
    if integrator == "euler-ancestral":
        down, up = ancestral_step(sigma, sigma_next)
        x = x + (down - sigma) * (x - denoise(x, sigma)) / sigma
        if up > 0:
            x += up * rng.standard_normal(x.shape)
        return x
    if integrator == "heun":
        d = (x - denoise(x, sigma)) / sigma
        x_pred = x + (sigma_next - sigma) * d
        if sigma_next == 0.0:
            return x_pred
        d_next = (x_pred - denoise(x_pred, sigma_next)) / sigma_next
        return x + (sigma_next - sigma) * 0.5 * (d + d_next)
    raise ValueError(f"integrator must be one of {', '.join(DISCRETE)} here (got {integrator!r})")


def cfgpp_step(integrator: str, x: np.ndarray, sigma: float, sigma_next: float, den: Denoisers, lam: float,
               rng) -> np.ndarray:
    """One CFG++ step (Chung et al. 2025; ComfyUI ``sample_euler_cfg_pp``, ``sample_euler_ancestral_cfg_pp``):
    the guided denoiser D_lambda = D_u + lambda (D_c - D_u), re-noised with the UNCONDITIONAL one,
    x_next = D_lambda + sigma_down (x - D_u)/sigma (+ sigma_up noise for the ancestral sampler)."""
    d_c, d_u = den.both(x, sigma)
    d_lam = d_u + lam * (d_c - d_u)
    if integrator == "euler":
        return d_lam + sigma_next * (x - d_u) / sigma
    if integrator == "euler-ancestral":
        down, up = ancestral_step(sigma, sigma_next)
        x = d_lam + down * (x - d_u) / sigma
        if up > 0:
            x += up * rng.standard_normal(x.shape)
        return x
    raise ValueError(f"rule cfgpp (CFG++) needs integrator euler or euler-ancestral (got {integrator!r}): its "
                     "identity with a per-step cfg holds for first-order steps only")


def run(integrator: str, x: np.ndarray, sigmas: np.ndarray, omegas: np.ndarray, den: Denoisers, rng,
        start: int = 0, on_step: Callable | None = None, cfgpp: bool = False) -> np.ndarray:
    """Steps start..N-1 over ``sigmas`` (N + 1 values ending in 0) from x at sigmas[start]; omegas[i] at step i.

    ``on_step(i, x)`` is called before step i (e.g. to keep the state for a switch scan).
    ``cfgpp``: CFG++ steps with lambda_i = 1 + omegas[i] (:func:`cfgpp_step`) instead of cfg."""
    for i in range(start, sigmas.size - 1):
        if on_step is not None:
            on_step(i, x)
        w = float(omegas[i])
        if cfgpp:
            x = cfgpp_step(integrator, x, float(sigmas[i]), float(sigmas[i + 1]), den, 1.0 + w, rng)
            continue
        x = step(integrator, x, float(sigmas[i]), float(sigmas[i + 1]), lambda y, s, w=w: guided(den, y, s, w), rng)
    return x


__all__ = ["INTEGRATORS", "DISCRETE", "GRIDS", "SIGMA_MAX", "SIGMA_MIN", "RHO", "SDE_LIKE", "sigma_grid", "Denoisers",
           "guided_denoiser", "guided", "ancestral_step", "step", "cfgpp_step", "run"]
