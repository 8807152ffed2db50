"""The exact-score simulator's integrator step, derived for a general forward process (a, b).

The guided score is affine in x with the coefficient -1/Gamma of the plain class score
(:func:`cfg_distortion.theory.scores.guided_score_coefficients`), so it can be written as
the score of ONE Gaussian class with a moved centroid:

    s(x) = -(x - a C) / Gamma,   C = (1 + omega) mu_c - omega sum_k w_k(x) mu_k.

The simulator freezes C over a step t -> s (s < t) and takes the EXACT transition of the
reverse dynamics of the single class N(C, sigma2 I). For that class the forward pair
(x_s, x_t) is jointly Gaussian, so

- reverse SDE: x_s | x_t ~ N(a_s C + (Cov/Gamma_t)(x_t - a_t C), Gamma_s - Cov^2/Gamma_t),
  Cov = Cov(x_s, x_t) = (a_t/a_s) Gamma_s per component (Gaussian conditioning; the
  reverse SDE's path law is the time reversal of the forward one);
- probability-flow ODE: x_s = a_s C + sqrt(Gamma_s/Gamma_t)(x_t - a_t C) (the flow of
  y = x - a C is dy/dt = Gamma'/(2 Gamma) y).

At omega = 0, C = mu_c is constant and both steps are exact at any step size: the
integrator cannot bias the class law. For omega != 0 the only error is the variation of
the posterior weights w_k within a step (first order in the step). Everything is derived
here with sympy for generic a(t), b(t); ``codegen`` generates the numeric coefficients.
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from . import scores as S
from .symbols import Gamma, a, b, mumu, omega, sigma2, t, xmu, xx

__all__ = [
    "a_s", "b_s", "Gamma_s",
    "forward_transition",
    "joint_covariance",
    "sde_transition",
    "ode_transition",
    "frozen_centroid",
    "step_clock",
    "denoiser_coefficients",
    "logit_coefficients",
    "logit_upper_bound",
    "start_variance",
    "numeric_functions",
]

# process coefficients at the end s < t of a reverse step (a, b, Gamma are those at t)
a_s = sp.Symbol("a_s", positive=True)
b_s = sp.Symbol("b_s", positive=True)
Gamma_s = sp.Symbol("Gamma_s", positive=True)

_s = sp.Symbol("s", nonnegative=True)  # the earlier time, as a variable of generic functions
_A, _B = sp.Function("A"), sp.Function("B")  # generic a(t), b(t)


def _Gamma_of(time) -> sp.Expr:
    return _A(time) ** 2 * sigma2 + _B(time) ** 2


def _generic_sde() -> tuple[sp.Expr, sp.Expr]:
    """f and g^2 of the forward SDE for generic A(t), B(t) (theory.process)."""
    from .process import sde_coefficients

    return sde_coefficients(_A(t), _B(t))


@cache
def forward_transition() -> tuple[sp.Expr, sp.Expr]:
    """(mean factor, variance) of x_t | x_s under the forward SDE dx = f x dt + g dW, s < t.

    Mean: dM/dt = f M with f = A'/A gives M = A(t)/A(s). Variance: dV/dt = 2 f V + g^2,
    V(s) = 0; with V = A^2 W the integrating factor leaves W' = g^2/A^2, whose antiderivative
    B^2/A^2 is checked here by differentiation. Returned in the symbols a, b (time t) and
    a_s, b_s (time s).
    """
    f, g2 = _generic_sde()
    mean = _A(t) / _A(_s)
    assert sp.simplify(sp.diff(mean, t) - f * mean) == 0
    antiderivative = _B(t) ** 2 / _A(t) ** 2
    assert sp.simplify(sp.diff(antiderivative, t) - g2 / _A(t) ** 2) == 0
    var = _A(t) ** 2 * (antiderivative - antiderivative.subs(t, _s))
    assert sp.simplify(sp.diff(var, t) - (2 * f * var + g2)) == 0 and var.subs(t, _s) == 0
    to_symbols = {_A(t): a, _B(t): b, _A(_s): a_s, _B(_s): b_s}
    return sp.simplify(mean.subs(to_symbols)), sp.expand(var.subs(to_symbols))


@cache
def joint_covariance() -> sp.Expr:
    """Cov(x_s, x_t) per component for x0 ~ N(C, sigma2 I): (a_t/a_s) Var(x_s).

    x_t = (a/a_s) x_s + (noise independent of x_s), and Var(x_s) = a_s^2 sigma2 + b_s^2.
    The marginal variance a^2 sigma2 + b^2 at t is recovered (asserted).
    """
    mean, var = forward_transition()
    var_s = a_s**2 * sigma2 + b_s**2
    assert sp.simplify(mean**2 * var_s + var - (a**2 * sigma2 + b**2)) == 0
    return sp.expand(mean * var_s)


@cache
def sde_transition() -> dict[str, sp.Expr]:
    """x_s = coef_x x_t + coef_C C + sqrt(var) z for the reverse SDE (exact, frozen C).

    Gaussian conditioning of the jointly Gaussian (x_s, x_t) with means (a_s C, a C) and
    covariance [[Gamma_s, Cov], [Cov, Gamma]], in a, b, a_s, b_s, sigma2.
    """
    x_t, C = sp.symbols("x_t C", real=True)
    cov = joint_covariance()
    G_t, G_s = a**2 * sigma2 + b**2, a_s**2 * sigma2 + b_s**2
    Sigma = sp.Matrix([[G_s, cov], [cov, G_t]])
    cond_mean = a_s * C + Sigma[0, 1] / Sigma[1, 1] * (x_t - a * C)
    cond_var = Sigma[0, 0] - Sigma[0, 1] ** 2 / Sigma[1, 1]
    cond_mean = sp.expand(cond_mean)
    return {
        "coef_x": sp.factor(cond_mean.coeff(x_t)),
        "coef_C": sp.factor(cond_mean.coeff(C)),
        "var": sp.factor(cond_var),
    }


@cache
def ode_transition() -> dict[str, sp.Expr]:
    """x_s = coef_x x_t + coef_C C for the probability-flow ODE (exact, frozen C).

    dx/dt = f x - (g^2/2) s(x) with s = -(x - A C)/Gamma; y = x - A C obeys
    dy/dt = rate y with rate = f + g^2/(2 Gamma) = Gamma'/(2 Gamma) (asserted), so
    y_s = exp(int_t^s rate) y_t = sqrt(Gamma_s/Gamma_t) y_t. Equivalently (asserted) z = x/sqrt(Gamma)
    moves by C (lambda_s - lambda_t) with lambda = a/sqrt(Gamma) = sqrt(snr): freezing C costs
    ~ |Delta C| Delta lambda per step, which is why the simulator's grid is uniform in lambda.
    """
    f, g2 = _generic_sde()
    C = sp.Symbol("C", real=True)
    y = sp.Function("y")(t)
    x = y + _A(t) * C
    score = -(x - _A(t) * C) / _Gamma_of(t)
    # dy/dt = dx/dt - A' C = f x - (g^2/2) s - A' C; divide by y for the (x-independent) rate
    dydt = sp.expand(f * x - g2 / 2 * score - sp.diff(_A(t), t) * C)
    rate = sp.simplify(dydt / y)
    assert sp.simplify(rate - sp.diff(_Gamma_of(t), t) / (2 * _Gamma_of(t))) == 0
    ratio = sp.sqrt(_Gamma_of(_s) / _Gamma_of(t))  # exp of int_t^s Gamma'/(2 Gamma)
    assert sp.simplify(sp.diff(sp.log(ratio), _s) - rate.subs(t, _s)) == 0
    to_symbols = {_A(t): a, _B(t): b, _A(_s): a_s, _B(_s): b_s}
    coef_x = ratio.subs(to_symbols)
    coef_C = sp.expand(a_s - coef_x * a)
    # in z = x/sqrt(Gamma) the step is z_s = z_t + C (lambda_s - lambda_t), lambda = a/sqrt(Gamma)
    lam = lambda a_, b_: a_ / sp.sqrt(a_**2 * sigma2 + b_**2)  # noqa: E731
    assert sp.simplify(coef_C / sp.sqrt(a_s**2 * sigma2 + b_s**2) - (lam(a_s, b_s) - lam(a, b))) == 0
    return {"coef_x": coef_x, "coef_C": coef_C}


@cache
def step_clock() -> dict[str, sp.Expr]:
    """The clock in which each exact step adds C uniformly: snr for the SDE, lambda = sqrt(snr) for the ODE.

    SDE: in the natural parameter u = a x / Gamma the frozen-C step reads
    u_s = u_t + C (snr_s - snr_t) + noise of variance (a_s/Gamma_s)^2 var = snr_s - snr_t
    (both asserted): u is a Brownian motion in the clock snr with drift C. ODE: in
    z = x/sqrt(Gamma), z_s = z_t + C (lambda_s - lambda_t) (asserted in :func:`ode_transition`).
    Composing frozen steps therefore integrates C against d snr (SDE) or d lambda (ODE), so a
    C that varies linearly in that clock over a step is integrated exactly by the frozen step
    with C replaced by its value at the clock midpoint: the simulator's second-order step
    extrapolates C there from the last two evaluations.
    """
    sde = sde_transition()
    G_t, G_s = a**2 * sigma2 + b**2, a_s**2 * sigma2 + b_s**2
    snr_t, snr_s = a**2 / G_t, a_s**2 / G_s
    assert sp.simplify(sde["coef_x"] * a_s / G_s - a / G_t) == 0
    assert sp.simplify(sde["coef_C"] * a_s / G_s - (snr_s - snr_t)) == 0
    assert sp.simplify(sde["var"] * (a_s / G_s) ** 2 - (snr_s - snr_t)) == 0
    ode_transition()  # asserts the lambda clock
    return {"sde": a**2 / G_t, "ode": a / sp.sqrt(G_t)}


@cache
def denoiser_coefficients() -> dict[str, sp.Expr]:
    """D(x) = E[x0 | x_t = x] = coef_x x + coef_mu M, M = mu_c (class c) or sum_k w_k mu_k (mixture).

    Gaussian conditioning of (x0, x_t) given class k: Cov = a sigma2, Var x_t = Gamma, so
    E[x0 | x_t, k] = mu_k + (a sigma2/Gamma)(x - a mu_k); it is linear in mu_k, so the mixture's
    posterior mean replaces mu_k by sum_k w_k mu_k. Checked against Tweedie's formula
    E[x0 | x_t] = (x + b^2 grad log p_t(x))/a with the class score of :mod:`.scores`.
    """
    x_, mu_ = sp.symbols("x mu_k", real=True)
    cond = sp.expand(mu_ + a * sigma2 / Gamma * (x_ - a * mu_))
    cx, cmu = S.score_coefficients()
    b2 = Gamma - a**2 * sigma2
    tweedie = (x_ + b2 * (cx * x_ + cmu * mu_)) / a
    assert sp.simplify(cond - tweedie) == 0
    return {"coef_x": sp.simplify(cond.coeff(x_)), "coef_mu": sp.factor(cond.coeff(mu_))}


@cache
def frozen_centroid() -> dict[str, sp.Expr]:
    """Coefficients of mu_c and of m_post = sum_k w_k mu_k in C, from the guided score.

    Asserts that the guided score has the x coefficient -1/Gamma of one Gaussian class, so
    s = -(x - a C)/Gamma with C = (Gamma/a)(coef_target mu_c + coef_post m_post).
    """
    coef = S.guided_score_coefficients()
    assert sp.simplify(coef["coef_x"] + 1 / Gamma) == 0
    return {
        "target": sp.simplify(coef["coef_target"] * Gamma / a),
        "post": sp.simplify(coef["coef_post"] * Gamma / a),
    }


@cache
def logit_coefficients() -> tuple[sp.Expr, sp.Expr]:
    """(c_xmu, c_mumu) with class_logit = c_xmu (x . mu_k) + c_mumu |mu_k|^2 (asserted linear)."""
    logit = S.class_logit()
    c_xmu, c_mumu = sp.diff(logit, xmu), sp.diff(logit, mumu)
    assert sp.simplify(logit - c_xmu * xmu - c_mumu * mumu) == 0
    return sp.simplify(c_xmu), sp.simplify(c_mumu)


@cache
def logit_upper_bound() -> sp.Expr:
    """max over mu of class_logit for given |x|^2: a shift that makes every exp(logit) <= 1.

    The logit is a concave quadratic in mu (c_mumu < 0); its maximum lies along x, at the
    root of the derivative in the coordinate y = mu . x/|x|.
    """
    c_xmu, c_mumu = logit_coefficients()
    y = sp.Symbol("y", real=True)
    r = sp.sqrt(xx)
    quad = c_xmu * r * y + c_mumu * y**2
    (y_star,) = sp.solve(sp.diff(quad, y), y)
    assert sp.simplify(sp.diff(quad, y, 2)).is_negative
    return sp.simplify(quad.subs(y, y_star))


@cache
def start_variance() -> sp.Expr:
    """Per-component variance of x_t under the mixture with mu_k ~ N(0, I): Gamma + a^2.

    Law of total variance: E Var(x_t | mu) + Var(E[x_t | mu]) = Gamma + a^2 Var(mu_1).
    The simulator starts from N(0, this) at t = T (exactly N(0, I) for ou up to e^{-2T}).
    """
    var_mu = sp.Integer(1)
    return Gamma + a**2 * var_mu


def numeric_functions():
    from .codegen import NumericFunction

    sde, ode, frozen = sde_transition(), ode_transition(), frozen_centroid()
    clock, den = step_clock(), denoiser_coefficients()
    step = (a, b, a_s, b_s, sigma2)
    return [
        NumericFunction("sde_step_coef_x", step, lambda: sde["coef_x"],
                        "reverse-SDE exact step t -> s: coefficient of x_t in the mean of x_s"),
        NumericFunction("sde_step_coef_C", step, lambda: sde["coef_C"],
                        "reverse-SDE exact step t -> s: coefficient of the frozen centroid C"),
        NumericFunction("sde_step_var", step, lambda: sde["var"],
                        "reverse-SDE exact step t -> s: per-component variance of x_s given x_t"),
        NumericFunction("ode_step_coef_x", step, lambda: ode["coef_x"],
                        "probability-flow exact step t -> s: coefficient of x_t"),
        NumericFunction("ode_step_coef_C", step, lambda: ode["coef_C"],
                        "probability-flow exact step t -> s: coefficient of the frozen centroid C"),
        NumericFunction("sde_step_clock", (a, b, sigma2), lambda: clock["sde"],
                        "reverse-SDE clock snr = a^2/Gamma: each exact step adds C (snr_s - snr_t) to a x/Gamma"),
        NumericFunction("ode_step_clock", (a, b, sigma2), lambda: clock["ode"],
                        "probability-flow clock lambda = a/sqrt(Gamma): each exact step adds C d lambda to x/sqrt(Gamma)"),
        NumericFunction("denoiser_coef_x", (a, Gamma, sigma2), lambda: den["coef_x"],
                        "coefficient of x in the posterior mean E[x0 | x_t = x] (class or mixture)"),
        NumericFunction("denoiser_coef_mu", (a, Gamma, sigma2), lambda: den["coef_mu"],
                        "coefficient of mu_c (class) or sum_k w_k mu_k (mixture) in E[x0 | x_t = x]"),
        NumericFunction("frozen_coef_target", (omega,), lambda: frozen["target"],
                        "coefficient of mu_c in the frozen centroid C of the guided score"),
        NumericFunction("frozen_coef_post", (omega,), lambda: frozen["post"],
                        "coefficient of sum_k w_k mu_k in the frozen centroid C"),
        NumericFunction("logit_coef_xmu", (a, Gamma), lambda: logit_coefficients()[0],
                        "coefficient of x . mu_k in class_logit"),
        NumericFunction("logit_coef_mumu", (a, Gamma), lambda: logit_coefficients()[1],
                        "coefficient of |mu_k|^2 in class_logit"),
        NumericFunction("logit_bound", (xx, a, Gamma), logit_upper_bound,
                        "max over mu of class_logit at given |x|^2 (shift for a safe exp)"),
        NumericFunction("start_variance", (a, Gamma), start_variance,
                        "per-component variance of the mixture marginal x_t (start law at T)"),
    ]
