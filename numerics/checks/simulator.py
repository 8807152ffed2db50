"""Checks of the exact-score simulator: at omega = 0 it must reproduce the class law.

With omega = 0 the guided score is the class score, the exact-transition step has no
discretisation error, and the samples at t = 0 must follow N(mu_c, sigma2 I): m = 1 and
E v = sigma2 (d - 1)/d (v is the squared norm of the d - 1 components orthogonal to mu_c,
over d). Tolerance: 4 standard errors of the sample mean.
"""
from __future__ import annotations

from cfg_distortion.checks.registry import Check, register

_Z = 4.0
_CASE = dict(d=20, K=200, sigma2=0.5, n=4000, seed=20260216)


def _run(sampler: str):
    from cfg_distortion.finite_d.simulator import simulate

    return simulate(_CASE["d"], _CASE["K"], omega=0.0, sigma2=_CASE["sigma2"], n=_CASE["n"], seed=_CASE["seed"],
                    sampler=sampler)


def _class_law(sampler: str) -> tuple[Check, Check]:
    r = _run(sampler)
    d, sigma2 = _CASE["d"], _CASE["sigma2"]
    route = f"simulate d={d} K={_CASE['K']} n={_CASE['n']} {sampler}, {r.steps} steps, omega=0; tolerance {_Z:g} SEM"
    return (Check(f"simulator_class_law_m_{sampler}", r.m_mean, 1.0, _Z * r.m_sem, route),
            Check(f"simulator_class_law_v_{sampler}", r.v_mean, sigma2 * (d - 1) / d, _Z * r.v_sem, route))


@register(route="simulator")
def simulator_class_law_sde() -> Check:
    """m and v of the reverse-SDE samples at omega = 0 (both must pass; the worse is reported)."""
    return max(_class_law("sde"), key=lambda c: abs(c.value - c.reference) / c.tolerance)


@register(route="simulator")
def simulator_class_law_ode() -> Check:
    """m and v of the probability-flow samples at omega = 0 (the worse of the two is reported)."""
    return max(_class_law("ode"), key=lambda c: abs(c.value - c.reference) / c.tolerance)
