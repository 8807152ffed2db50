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

__all__ = ["kl_1d", "w2_1d", "kl_finite_d", "w2_finite_d", "kl_per_dimension", "w2_per_dimension", "equations",
           "content", "numeric_functions"]

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


# ---------------------------------------------------------------- equations and document


def equations():
    """The equations of the divergence document (a Group of equations.GROUPS)."""
    from .equations import Equation

    return [
        Equation("eq:kl-1d", r"\mathrm{KL}\big(\mathcal N(\mu_1, s_1)\,\|\,\mathcal N(\mu_2, s_2)\big)", kl_1d(),
                 "KL divergence of two one-dimensional Gaussians, integrated by sympy.", "divergence.kl_1d()"),
        Equation("eq:w2-1d", r"W_2^2\big(\mathcal N(\mu_1, s_1), \mathcal N(\mu_2, s_2)\big)", w2_1d(),
                 "Cost of the monotone (quantile) coupling of two one-dimensional Gaussians, optimal on the line.",
                 "divergence.w2_1d()"),
        Equation("eq:kl-finite-d", r"\tfrac{1}{d}\mathrm{KL}_d", kl_finite_d(),
                 "Per dimension at finite $d$: $d - 1$ transverse coordinates of variance $v$ and one parallel "
                 "coordinate at $m|\\mu_c|$ with variance $s_{\\mathrm{par}}$, against the class law, "
                 "$|\\mu_c|^2 = d$.", "divergence.kl_finite_d()"),
        Equation("eq:w2-finite-d", r"\tfrac{1}{d}W_{2,d}^2", w2_finite_d(),
                 "The same sum for the squared Wasserstein-2 distance.", "divergence.w2_finite_d()"),
        Equation("eq:kl", r"\mathrm{kl}", kl_per_dimension(),
                 "Its limit $d \\to \\infty$: the reported `kl` (the parallel variance drops out).",
                 "divergence.kl_per_dimension()"),
        Equation("eq:w2", r"\mathrm{w2}", w2_per_dimension(),
                 "Its limit $d \\to \\infty$: the reported `w2`.", "divergence.w2_per_dimension()"),
    ]


_TEST = "tests/test_divergence.py"


def content():
    """The document (a documents.Content), registered in documents.DOCUMENTS."""
    from .documents import Backing, Content, pytest_cmd

    body = [
        "The mean field reports distortion as two numbers, the overlap $m(0)$ (mean shift $m - 1$) and the "
        "transverse variance $v(0)$ (variance ratio $v/\\sigma^2$). One number that weighs both is a divergence "
        "between the sampled law and the class law $\\mathcal N(\\mu_c, \\sigma^2 I)$. At $d \\to \\infty$ the sampled "
        "law is, per the mean field, concentrated at $m|\\mu_c|$ along $e = \\mu_c/|\\mu_c|$ and Gaussian with "
        "variance $v$ in the $d - 1$ transverse directions. In the basis $(e, \\text{completion})$ both laws are "
        "products of one-dimensional Gaussians, so each divergence is a sum of one-dimensional ones:",
        "eq:kl-1d", "eq:w2-1d",
        "The first is $E_{p_1}[\\log p_1 - \\log p_2]$ integrated by sympy. The second is the cost of the monotone "
        "coupling $x_i = \\mu_i + \\sqrt{s_i} z$, which is optimal on the line; for two product laws in one basis the "
        "product of optimal one-dimensional couplings is optimal, since $W_2^2$ is at least the sum of the "
        "coordinates' one-dimensional $W_2^2$. Summing $d - 1$ transverse coordinates and the parallel one, per "
        "dimension:",
        "eq:kl-finite-d", "eq:w2-finite-d",
        "and in the limit $d \\to \\infty$, where the parallel spread contributes $O(1/d)$:",
        "eq:kl", "eq:w2",
    ]
    notes = [
        "Both vanish exactly at $(m, v) = (1, \\sigma^2)$ and nowhere else. `kl` charges a variance loss "
        "logarithmically ($-\\tfrac12\\log(v/\\sigma^2)$ as $v \\to 0$) and a mean shift in units of $\\sigma^2$; `w2` "
        "charges both in units of the data, so it stays finite as $v \\to 0$ and is defined for $\\sigma^2 = 0$.",
        "Every result that reports $m$ and $v$ (trajectory, phase-diagram CSV, schedules, schedule-design, "
        "schedule-map, simulate, finite-d, validate) also reports `kl` and `w2` from these formulas. For the "
        "simulator they are the formula evaluated at the sample means of $m$ and $v$ (the $d \\to \\infty$ "
        "summary), not a finite-$d$ divergence of the empirical law.",
    ]
    backing = [
        Backing(("eq:kl-1d", "eq:w2-1d"), "closed form",
                "the Gaussian KL $\\tfrac12(s_1/s_2 - 1 - \\log(s_1/s_2) + (\\mu_1-\\mu_2)^2/s_2)$ and the 1-D $W_2^2$ from "
                "sorted samples (quantile coupling) of the two laws",
                (pytest_cmd(_TEST, "test_one_dimensional_divergences_match_independent_routes"),)),
        Backing(("eq:kl", "eq:w2"), "Monte Carlo",
                "at $d = 400$ the generated `kl` and `w2` at the simulator's $(m, v)$ match nonparametric estimates "
                "from the samples (1-D quantile $W_2^2$ and a spacing entropy estimate of the transverse coordinates) "
                "within their error bars; both vanish on the class law",
                (pytest_cmd(_TEST),)),
    ]
    assumptions = [
        "The $d \\to \\infty$ law of the mean field: along $e$ a point mass at $m$ per unit $|\\mu_c|$ (finite spread), "
        "transverse components i.i.d. $\\mathcal N(0, v)$, $|\\mu_c|^2 = d$.",
        "KL is taken as KL(sampled $\\|$ class law); it is infinite where $v = 0$ or $\\sigma^2 = 0$ (reported as null).",
    ]
    return Content(body, assumptions, backing, notes)
