"""Guidance rules on the exact per-sample predictions: the simulator's side of the rules.

Each rule is applied as the reference implementations apply it, to whole vectors of one
sample (here a row of an n x d array): ``torch.std`` over all coordinates of a sample
(centred, unbiased) for CFG-rescale (diffusers ``rescale_noise_cfg``), l2 norms over all
coordinates for APG (diffusers ``normalized_guidance``, the port of the paper's Algorithm 1,
with the absolute threshold r = rho sqrt(d)), and the dot product over all coordinates with
the 1e-8 guard for CFG-Zero* (``sd3_pipeline.py`` of the authors). Nothing here uses the
large-d limits of ``theory/rules.py``: that is what makes the simulator a check of them.

The predictions of a space are P = A s + B x with the generated coefficients A, B
(``prediction_coef_*``); the guided score s_g = (P_g - B x)/A is handed to the simulator's
exact-transition step as the frozen centroid C = (x + Gamma s_g)/a, so that s_g = -(x - a C)/Gamma.

:mod:`.gaussian_limit` runs the same per-sample rules with K -> infinity.
"""
from __future__ import annotations

import math
import numpy as np

from cfg_distortion import _generated as G
from cfg_distortion.model.rules import Rule

ZERO_STAR_GUARD = 1e-8  # added to ||u_u||^2 by the reference implementation


def _row_dot(P, Q):
    return np.einsum("nd,nd->n", P, Q)[:, None]


def guided_prediction(rule: Rule, Pc: np.ndarray, Pu: np.ndarray, omega: float, state: dict | None = None
                      ) -> np.ndarray:
    """The rule on per-sample predictions (rows), omega = guidance scale - 1. ``state``: the
    rule's memory across model evaluations (APG's momentum buffer), a dict the caller keeps."""
    if rule.family == "cfgpp":
        raise ValueError("rule cfgpp (CFG++) runs on the discrete samplers only (simulate --integrator euler or "
                         "euler-ancestral)")
    cfg = (1.0 + omega) * Pc - omega * Pu
    if rule.family in ("cfg", "autoguidance"):
        return cfg
    if rule.family == "rescale":
        k = Pc.std(axis=1, ddof=1, keepdims=True) / cfg.std(axis=1, ddof=1, keepdims=True)
        return (rule.phi * k + (1.0 - rule.phi)) * cfg
    if rule.family == "apg":
        delta = Pc - Pu
        if rule.has_momentum:  # B_k = Delta_k + beta B_{k-1}, then Delta <- B_k (diffusers MomentumBuffer)
            if state is None:
                raise ValueError(f"rule {rule.spec}: the momentum buffer needs a state kept across steps")
            if "apg_buffer" in state:
                delta = delta + rule.beta * state["apg_buffer"]
            state["apg_buffer"] = delta
        if rule.rho is not None:
            r = rule.rho * math.sqrt(Pc.shape[1])
            norm = np.sqrt(_row_dot(delta, delta))
            delta = delta * np.minimum(1.0, r / np.maximum(norm, np.finfo(float).tiny))
        unit = Pc / np.sqrt(_row_dot(Pc, Pc))
        par = _row_dot(delta, unit) * unit
        return Pc + omega * (delta - par + rule.eta * par)
    if rule.family == "zero-star":
        s_star = _row_dot(Pc, Pu) / (_row_dot(Pu, Pu) + ZERO_STAR_GUARD)
        return (1.0 + omega) * Pc - omega * s_star * Pu
    raise ValueError(f"unknown rule family {rule.family!r}")


def guided_centroid(rule: Rule, x, mu_c, m_post, p, t: float, sigma2: float, omega: float, state=None):
    """C with guided score -(x - a C)/Gamma at time t; ``m_post`` the posterior-mean centroid
    sum_k w_k mu_k (n x d), so that the unconditional score is -(x - a m_post)/Gamma; ``state``
    as in :func:`guided_prediction` (one model evaluation per call)."""
    a, b, f, g2 = float(p.a(t)), float(p.b(t)), float(p.f(t)), float(p.g2(t))
    Gamma = float(p.Gamma(t, sigma2))
    s_c = (a * mu_c - x) / Gamma
    s_u = (a * m_post - x) / Gamma
    if rule.family == "autoguidance":  # the bad model: the same class with variance sigma2_bad
        s_u = (a * mu_c - x) / float(p.Gamma(t, rule.sigma2_bad))
    coef_score, coef_x = G.PREDICTION_COEF[rule.space]
    A, B = float(coef_score(a, b, f, g2)), float(coef_x(a, b, f, g2))
    P_g = guided_prediction(rule, A * s_c + B * x, A * s_u + B * x, omega, state)
    s_g = (P_g - B * x) / A
    return (x + Gamma * s_g) / a
