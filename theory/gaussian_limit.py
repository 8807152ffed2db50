"""Derivation step 7: Gaussian limits -- branch G at all times, constant omega.

If the wrong classes dominate p_t(x) for all t (K -> infinity at fixed d, ``--alpha inf``),
guided sampling is CFG between two Gaussians: the class N(mu_c, sigma2 I) and the centroid
cloud N(0, (1 + sigma2) I). The branch-G drifts of :mod:`.dmf` are then linear ODEs,

    d var / dt = k(t) var - S(t)      (forward time t; var = m or v),

solved by an integrating factor: with K(t) = int_0^t k,

    var(0) = lim_{T -> inf} var(T) e^{-K(T)} + int_0^inf S(t) e^{-K(t)} dt.

sympy evaluates both for the OU process after changing the time variable to r = 1 + SNR_t
(in which the integrands become powers of r). The final moments are functions of (sigma2,
omega) only: every forward process with the same SNR path gives them (the numeric tests
check ou, ve and flow against them), and they are the K -> infinity limit of claim 3.
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from . import dmf
from .process import PRESETS
from .symbols import m, omega, sigma2, t, v

_r = sp.Symbol("r", positive=True)  # 1 + SNR_t, from 1 + 1/sigma2 at t = 0 down to 1 at t = inf


def _rate_and_source(var: sp.Symbol, sampler: str):
    """k(t), S(t) of d var/dt = k var - S in branch G for the OU process."""
    p = PRESETS["ou"]
    drift = sp.expand(dmf.drifts("G", sampler)[{m: 0, v: 1}[var]])
    return sp.simplify(p.specialise(-drift.coeff(var, 1))), sp.simplify(p.specialise(drift.coeff(var, 0)))


def _in_r(expr: sp.Expr) -> sp.Expr:
    """expr(t) dt written as g(r) dr, r = 1 + SNR_t (OU), simplified to powers of r."""
    snr = PRESETS["ou"].snr
    roots = [x for x in sp.solve(sp.Eq(_r, 1 + snr), t) if x.is_real is not False]
    t_of_r = roots[0]
    g = sp.simplify(expr.subs(t, t_of_r) * sp.diff(t_of_r, _r))
    g = sp.powsimp(sp.powdenest(sp.factor(sp.expand_log(g, force=True).rewrite(sp.exp)), force=True), force=True)
    return sp.simplify(sp.powdenest(sp.factor(sp.logcombine(g, force=True)), force=True))


@cache
def integrating_factor_exponent(var: sp.Symbol, sampler: str) -> sp.Expr:
    """K(t) = int_0^t k(s) ds for var in {m, v}."""
    k, _ = _rate_and_source(var, sampler)
    s_ = sp.Symbol("s_", nonnegative=True)
    return sp.simplify(sp.integrate(k.subs(t, s_), (s_, 0, t)))


@cache
def final_moment_integral(var: sp.Symbol, sampler: str) -> sp.Integral:
    """The integral int_0^inf S e^{-K} dt, as an unevaluated sympy Integral in r = 1 + SNR."""
    _, S = _rate_and_source(var, sampler)
    g = _in_r(S * sp.exp(-integrating_factor_exponent(var, sampler)))
    # t: 0 -> inf is r: 1 + 1/sigma2 -> 1
    return sp.Integral(-g, (_r, 1, 1 + 1 / sigma2))


@cache
def final_moment(var: sp.Symbol, sampler: str) -> sp.Expr:
    """m(0) or v(0) at constant omega in the Gaussian limit, from T -> infinity with
    m(T) = 0, v(T) = a_T^2 (1 + sigma2) + b_T^2 (-> 1)."""
    p = PRESETS["ou"]
    start = {m: sp.Integer(0), v: p.a**2 * (1 + sigma2) + p.b**2}[var]
    K = integrating_factor_exponent(var, sampler)
    homogeneous = sp.limit(sp.simplify(start * sp.exp(-K)), t, sp.oo)
    particular = final_moment_integral(var, sampler).doit(conds="none")
    result = homogeneous + particular
    return sp.factor(sp.simplify(sp.powdenest(sp.powsimp(result, force=True), force=True)))


class exprel(sp.Function):
    """(e^x - 1) / x, continued by 1 at x = 0 (printed as scipy.special.exprel)."""

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sp.Integer(1)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return (sp.exp(x) - 1) / x


def _removable_form(expr: sp.Expr) -> sp.Expr:
    """expr with each factor (b^y - 1) / y (removable at y = 0) written as log(b) exprel(y log b).

    The closed form of v(0) for the SDE is sigma2^(2 omega + 2) ((1 + 1/sigma2)^(2 omega + 1) - 1) /
    ((2 omega + 1) (1 + sigma2)^(2 omega)): 0/0 at omega = -1/2, where its limit is
    sigma2 (1 + sigma2) log(1 + 1/sigma2). The exprel form is exact and finite there."""
    num, den = sp.fraction(expr)
    out = expr
    for pw in num.atoms(sp.Pow):
        y = pw.exp
        zeros = sp.solve(y, omega) if omega in y.free_symbols else []
        if len(zeros) == 1 and sp.simplify(den.subs(omega, zeros[0])) == 0:  # y = 0 is a zero of den too
            base = pw.base
            L = sp.log(base)
            prefactor = sp.simplify(out * y / (pw - 1))
            # exprel(y L) = (b^y - 1) / (y L) since e^{y log b} = b^y: the identity is checked, not assumed
            if sp.simplify(prefactor * (pw - 1) / y - out) == 0:
                out = prefactor * L * exprel(y * L)
    return out


@cache
def final_moment_stable(var: sp.Symbol, sampler: str) -> sp.Expr:
    """:func:`final_moment` in a form without removable singularities (exprel)."""
    return _removable_form(final_moment(var, sampler))


def numeric_functions():
    """Generated functions of this module (see :mod:`.codegen`)."""
    from .codegen import NumericFunction
    from .symbols import omega

    fns = []
    for sampler in dmf.SAMPLERS:
        for var in (m, v):
            fns.append(NumericFunction(
                f"gaussian_limit_{var}_{sampler}", (sigma2, omega),
                lambda var=var, sampler=sampler: final_moment_stable(var, sampler),
                f"{var}(0) in the Gaussian (K -> infinity) limit at constant omega, {sampler} sampler"))
    return fns
