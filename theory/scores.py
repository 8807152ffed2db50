"""Derivation step 1b: scores and posterior class weights of the Gaussian mixture.

At time t, x_t | (class k) ~ N(a mu_k, Gamma I_d). Its log density is a function of
three invariants, |x|^2 (``xx``), x . mu_k (``xmu``) and |mu_k|^2 (``mumu``), so its
gradient follows from the chain rule

    grad_x l_k = 2 (dl_k / dxx) x + (dl_k / dxmu) mu_k,

which sympy evaluates. The unconditional density is the mixture with equal weights,
p_t(x) = (1/K) sum_k p_t(x | k); the gradient of its log is the posterior average of
grad_x l_k, with posterior weights w_k = softmax_k(logit_k), where ``logit_k`` is the
k-dependent part of l_k. Every score is therefore of the form

    score = coef_x * x + coef_mu * (a combination of centroids),

and this module returns the two coefficients (functions of a, Gamma) and the logit.
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from .symbols import Gamma, a, d, mumu, omega, xmu, xx

__all__ = [
    "class_log_density",
    "score_coefficients",
    "class_logit",
    "mixture_score_structure",
    "guided_score_coefficients",
]


@cache
def class_log_density() -> sp.Expr:
    """log N(x; a mu_k, Gamma I_d) written in the invariants xx, xmu, mumu."""
    sq_dist = xx - 2 * a * xmu + a**2 * mumu  # |x - a mu_k|^2 expanded
    return -sq_dist / (2 * Gamma) - d / 2 * sp.log(2 * sp.pi * Gamma)


@cache
def score_coefficients() -> tuple[sp.Expr, sp.Expr]:
    """(coef_x, coef_mu) with grad_x log p_t(x | k) = coef_x x + coef_mu mu_k."""
    l = class_log_density()
    return sp.simplify(2 * sp.diff(l, xx)), sp.simplify(sp.diff(l, xmu))


@cache
def class_logit() -> sp.Expr:
    """k-dependent part of log p_t(x | k): w_k(x, t) = softmax_k of this expression."""
    l = sp.expand(class_log_density())
    return sp.simplify(l - l.subs({xmu: 0, mumu: 0}))


@cache
def mixture_score_structure() -> sp.Expr:
    """grad of log sum_k exp(l_k(x)) for a generic finite mixture, to show the weights.

    Returned as an expression in the symbols ``K``, index ``k`` and the indexed
    l_k and grad l_k; sympy differentiates the log-sum-exp with respect to one
    coordinate x_1 and the result is sum_k w_k grad l_k with w_k = e^{l_k} / sum e^{l_j}.
    """
    k = sp.Idx("k")
    K = sp.Symbol("K", positive=True, integer=True)
    x1 = sp.Symbol("x_1", real=True)
    l = sp.Function("l")
    log_mix = sp.log(sp.Sum(sp.exp(l(k, x1)), (k, 1, K)))
    return sp.diff(log_mix, x1)


@cache
def guided_score_coefficients() -> dict[str, sp.Expr]:
    """Coefficients of the guided score s = (1 + omega) grad log p_t(x|c) - omega grad log p_t(x).

    With m_post = sum_k w_k mu_k the posterior mean centroid,
    s = coef_x x + coef_target mu_c + coef_post m_post. The coefficient of x is the
    same in both scores, so guidance acts only through the centroid terms.
    """
    cx, cmu = score_coefficients()
    # conditional: cx x + cmu mu_c ; unconditional: cx x + cmu m_post
    x_, muc, mpost = sp.symbols("x mu_c m_post")
    guided = sp.expand((1 + omega) * (cx * x_ + cmu * muc) - omega * (cx * x_ + cmu * mpost))
    return {
        "coef_x": sp.simplify(guided.coeff(x_)),
        "coef_target": sp.factor(guided.coeff(muc)),
        "coef_post": sp.factor(guided.coeff(mpost)),
    }
