"""The exact-score sampler with K -> infinity, for every guidance rule: the independent route
for the branch-G drifts of :mod:`cfg_distortion.theory.rules`.

With infinitely many classes the unconditional law of x_0 is the Gaussian N(0, (1 + sigma2) I)
(the model's definition: a centroid drawn from N(0, I) plus the class noise), whose score at
time t is -x / (Gamma + a^2): the posterior mean of the centroid is a x / (Gamma + a^2). The
rules are applied per sample by :func:`.rules.guided_centroid` (norms over the coordinates of
each sample) and the steps are the simulator's exact Gaussian transitions.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from cfg_distortion import _generated as G
from cfg_distortion.finite_d.rules import guided_centroid
from cfg_distortion.finite_d.simulator import DEFAULT_T, _step_coefficients, time_grid
from cfg_distortion.model import params as V
from cfg_distortion.model.process import get_process
from cfg_distortion.model.rules import parse_rule


@dataclass(frozen=True)
class GaussianLimitResult:
    """m(0), v(0) (means and standard errors over the n samples) of the K -> infinity sampler."""

    m_mean: float
    m_sem: float
    v_mean: float
    v_sem: float
    rule: str
    omega: float
    sigma2: float
    d: int
    n: int
    steps: int
    sampler: str
    process: str
    seed: int

    def to_json(self) -> dict:
        return asdict(self)


def simulate_gaussian_limit(rule=None, omega=0.0, sigma2=1.0, *, d=2000, n=200, steps=400, sampler="sde",
                            process="ou", seed=0, T=None) -> GaussianLimitResult:
    """The guided sampler with exact scores and K -> infinity (unconditional law Gaussian), at
    finite d: the independent route for the branch-G drifts of every rule."""
    rule = parse_rule(rule)
    d, n, steps = V.integer("d", d, 2), V.integer("n", n, 2), V.integer("steps", steps, 1)
    omega, sigma2 = V.finite("omega", omega, "any real"), V.positive("sigma2", sigma2)
    p = get_process(V.process(process))
    T = DEFAULT_T[process] if T is None else V.time(T, process, "T")
    rng = np.random.default_rng(seed)
    mu_c = rng.standard_normal(d)
    mu_c *= math.sqrt(d / float(mu_c @ mu_c))  # |mu_c|^2 = d, as the DMF's m = 1
    x = rng.standard_normal((n, d)) * math.sqrt(float(G.start_variance(p.a(T), p.Gamma(T, sigma2))))
    times = time_grid(process, T, steps)
    state = {}  # the rule's memory across steps (APG's momentum buffer)
    for t, s in zip(times[:-1], times[1:]):
        a, Gamma = float(p.a(t)), float(p.Gamma(t, sigma2))
        # K -> infinity: the posterior mean of a centroid drawn from N(0, I) given x = a mu + N(0, Gamma),
        # so that the unconditional score is that of N(0, (Gamma + a^2) I)
        C = guided_centroid(rule, x, mu_c, a * x / (Gamma + a * a), p, t, sigma2, omega, state)
        kx, kC, var = _step_coefficients(p, sampler, t, s, sigma2)
        x = kx * x + kC * C
        if var > 0:
            x += math.sqrt(var) * rng.standard_normal((n, d))
    m = x @ mu_c / d
    v = np.einsum("nd,nd->n", x - m[:, None] * mu_c, x - m[:, None] * mu_c) / d
    sem = lambda y: float(np.std(y, ddof=1) / math.sqrt(len(y)))  # noqa: E731
    return GaussianLimitResult(float(m.mean()), sem(m), float(v.mean()), sem(v), rule.spec, omega, sigma2, d, n,
                               steps, sampler, process, seed)
