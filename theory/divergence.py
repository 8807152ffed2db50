"""Distortion as one number: KL divergence and squared Wasserstein-2 distance per dimension.

At d -> infinity the guided sampler's law is summarised by (m, v): along the target direction
e = mu_c/|mu_c| the sample sits at m |mu_c| (its spread there is O(1), i.e. O(1/d) per
dimension), and the d - 1 transverse components are i.i.d. N(0, v). The class law is
N(mu_c, sigma2 I). Both laws are Gaussian with covariances diagonal in one basis (e and any
orthonormal completion), so each divergence is a sum over coordinates of one-dimensional
divergences. sympy derives:

- :func:`kl_1d`: KL(N(mu1, s1) || N(mu2, s2)) as the Gaussian integral of log(p1/p2) under p1;
- :func:`w2_1d`: the squared W2 distance of two 1-D Gaussians as the cost of the monotone
  (quantile) coupling x1 = mu1 + sqrt(s1) z, x2 = mu2 + sqrt(s2) z, which is optimal on the line;
  for two product laws in a shared basis the product of optimal 1-D couplings is optimal (W2^2
  is bounded below by the sum of the coordinates' 1-D W2^2, and this coupling attains it);
- :func:`kl_per_dimension`, :func:`w2_per_dimension`: the sum over the d - 1 transverse and the one
  parallel coordinate, divided by d, in the limit d -> infinity with |mu_c|^2 = d. The parallel
  variance drops out of both limits.

Results (generated as ``divergence_kl(m, v, sigma2)`` and ``divergence_w2(m, v, sigma2)``):
kl = (v/sigma2 - 1 - log(v/sigma2) + (m - 1)^2/sigma2)/2 and w2 = (m - 1)^2 + (sqrt v - sqrt sigma2)^2.
Both vanish exactly on the class law (m, v) = (1, sigma2).
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from .symbols import d, m, sigma2, v

__all__ = ["kl_1d", "w2_1d", "kl_finite_d", "w2_finite_d", "kl_per_dimension", "w2_per_dimension", "numeric_functions"]

# one-dimensional Gaussians N(mu1, s1) (sampled) and N(mu2, s2) (reference); variances s > 0
mu1, mu2 = sp.symbols("mu_1 mu_2", real=True)
s1, s2 = sp.symbols("s_1 s_2", positive=True)
s_par = sp.Symbol("s_par", positive=True)  # variance of the sampled law along e (drops out at d -> infinity)
_z = sp.Symbol("z", real=True)
_vp, _sp = sp.symbols("v_p sigma2_p", positive=True)  # positive stand-ins for v, sigma2 during the derivation


def _log_density(x, mu, s):
    return -(x - mu) ** 2 / (2 * s) - sp.log(2 * sp.pi * s) / 2


@cache
def _gauss_moment(k: int) -> sp.Expr:
    """E[z^k] for z ~ N(0, 1), by integration against the density."""
    return sp.integrate(_z**k * sp.exp(-_z**2 / 2) / sp.sqrt(2 * sp.pi), (_z, -sp.oo, sp.oo))


def _gauss_expectation(expr_of_z: sp.Expr) -> sp.Expr:
    """E[expr(z)] for z ~ N(0, 1) and expr a polynomial in z: term by term, each moment integrated."""
    poly = sp.Poly(sp.expand(expr_of_z), _z)
    return sp.simplify(sum(c * _gauss_moment(k) for (k,), c in poly.terms()))


@cache
def kl_1d() -> sp.Expr:
    """KL(N(mu1, s1) || N(mu2, s2)) = E_{p1}[log p1 - log p2], integrated with x = mu1 + sqrt(s1) z."""
    x = mu1 + sp.sqrt(s1) * _z
    out = sp.expand(sp.expand_log(_gauss_expectation(_log_density(x, mu1, s1) - _log_density(x, mu2, s2)),
                                  force=True))
    mean_part = sp.factor(out - out.subs(mu1, mu2))
    return sp.expand(out.subs(mu1, mu2)) + mean_part


@cache
def w2_1d() -> sp.Expr:
    """W2^2(N(mu1, s1), N(mu2, s2)): the cost E[(x1 - x2)^2] of the monotone coupling of the two quantiles."""
    out = sp.expand(_gauss_expectation((mu1 + sp.sqrt(s1) * _z - mu2 - sp.sqrt(s2) * _z) ** 2))
    return sp.factor(out - out.subs(mu1, mu2)) + sp.factor(out.subs(mu1, mu2))


def _finite_d(one_d: sp.Expr) -> sp.Expr:
    """(1/d) [(d - 1) x transverse term + parallel term], |mu_c| = sqrt(d), in the positive stand-ins."""
    transverse = one_d.subs({mu1: 0, mu2: 0, s1: _vp, s2: _sp})
    parallel = one_d.subs({mu1: m * sp.sqrt(d), mu2: sp.sqrt(d), s1: s_par, s2: _sp})
    return ((d - 1) * transverse + parallel) / d


@cache
def kl_finite_d() -> sp.Expr:
    """(1/d) KL(sampled || class) at finite d, with parallel variance s_par."""
    return _finite_d(kl_1d()).subs({_vp: v, _sp: sigma2})


@cache
def w2_finite_d() -> sp.Expr:
    """(1/d) W2^2(sampled, class) at finite d, with parallel variance s_par."""
    return _finite_d(w2_1d()).subs({_vp: v, _sp: sigma2})


def _limit(expr: sp.Expr) -> sp.Expr:
    out = sp.limit(_finite_d(expr), d, sp.oo)
    if out.has(s_par):
        raise RuntimeError(f"the parallel variance does not drop out: {out}")
    return out


@cache
def kl_per_dimension() -> sp.Expr:
    """lim (1/d) KL(sampled || class law) as d -> infinity: a function of (m, v, sigma2)."""
    r = sp.Symbol("r", positive=True)  # v / sigma2: the limit depends on v only through it
    out = sp.expand(sp.expand_log(_limit(kl_1d()).subs(_vp, r * _sp), force=True))
    if out.has(sp.log(_sp)):
        raise RuntimeError(f"kl does not depend on v through v/sigma2 only: {out}")
    mean_part = sp.factor(out - out.subs(m, 1))  # (m - 1)^2 / (2 sigma2)
    spread_part = sp.expand(out.subs(m, 1))  # (r - 1 - log r) / 2
    return (spread_part + mean_part).subs({r: v / sigma2, _sp: sigma2})


@cache
def w2_per_dimension() -> sp.Expr:
    """lim (1/d) W2^2(sampled, class law) as d -> infinity: a function of (m, v, sigma2)."""
    out = sp.expand(_limit(w2_1d()))
    mean_part = sp.factor(out - out.subs(m, 1))
    spread_part = sp.factor(out.subs(m, 1))
    return (mean_part + spread_part).subs({_vp: v, _sp: sigma2})


# ---------------------------------------------------------------- generated functions


def numeric_functions():
    """``divergence_kl(m, v, sigma2)`` and ``divergence_w2(m, v, sigma2)`` (see :mod:`.codegen`)."""
    from .codegen import NumericFunction

    return [
        NumericFunction("divergence_kl", (m, v, sigma2), kl_per_dimension,
                        "(1/d) KL(sampled law || class law) at d -> infinity, from the overlap m and the "
                        "transverse variance v (|mu_c|^2 = d)"),
        NumericFunction("divergence_w2", (m, v, sigma2), w2_per_dimension,
                        "(1/d) W2^2(sampled law, class law) at d -> infinity, from m and v (|mu_c|^2 = d)"),
    ]
