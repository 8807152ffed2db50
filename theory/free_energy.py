"""Derivation step 2: large-d rate phi of the wrong-class partition function.

With the target class c and x fixed,

    Z(x) = sum_{k != c} exp(logit_k),  logit_k = a x.mu_k / Gamma - a^2 |mu_k|^2 / (2 Gamma),

a sum of K - 1 ~ e^{alpha d} i.i.d. terms (mu_k ~ N(0, I_d) independent of x). Write
|x|^2 = q d and split each centroid along e = x/|x| and across it:

    s = mu_k . e / sqrt(d)             (overlap; mu_k . e ~ N(0, 1))
    n = |mu_k - (mu_k . e) e|^2 / d    (transverse norm; chi^2_{d-1} / d)

Both large deviations are kept: P(s, n) ~ exp(-d I(s, n)) with I = I_s + I_n obtained
here as Legendre transforms of the cumulant generating functions, and the logit is
d E(s, n) with E linear in s and in n. Dropping the norm (n = 1) is the classic mistake:
it changes the tilted saddle and moves the transition.

Random-energy-model analysis (Derrida 1981; the 1RSB formula for the quenched rate):

- tilted saddle at temperature theta:   max_{s,n} [theta E - I]  ->  (s_theta, n_theta)
- annealed (paramagnetic) branch:        phi_ann = alpha + max [E - I]  (theta = 1)
- entropy at the saddle:                 Sigma(theta) = alpha - I(s_theta, n_theta)
- condensation (freezing):               Sigma(1) < 0, i.e. alpha < I(s_1, n_1) fails
- frozen (condensed) branch:             phi = E(s_theta*, n_theta*) with Sigma(theta*) = 0,
  equivalently phi = min_{0 < theta <= 1} (alpha + max[theta E - I]) / theta.

The frozen equation Sigma(theta*) = 0 is transcendental; it is returned in the variable
u = theta a^2 / Gamma in which it is monotone (so a bracketed root finder solves it).
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from .scores import class_logit
from .simplify import tidy
from .symbols import Gamma, a, alpha, d, lam, mumu, n, q, s, theta, u, xmu

__all__ = [
    "gaussian_cgfs",
    "overlap_rate",
    "norm_rate",
    "rate",
    "energy",
    "tilted_saddle",
    "tilted_free_entropy",
    "phi_annealed",
    "entropy_at_saddle",
    "freezing_alpha",
    "frozen_constraint",
    "phi_frozen",
]


def _legendre(cgf: sp.Expr, var: sp.Symbol) -> sp.Expr:
    """Cramer rate sup_lambda [lambda var - cgf(lambda)] (cgf convex, single stationary point)."""
    lam_star = sp.solve(sp.diff(lam * var - cgf, lam), lam)
    if len(lam_star) != 1:
        raise RuntimeError(f"Legendre transform: expected one stationary point, got {lam_star}")
    return sp.simplify((lam * var - cgf).subs(lam, lam_star[0]))


@cache
def overlap_rate() -> sp.Expr:
    """I_s(s): rate of s = mu.e/sqrt(d), mu.e ~ N(0,1) (CGF per d: lambda^2 / 2)."""
    return _legendre(lam**2 / 2, s)


@cache
def norm_rate() -> sp.Expr:
    """I_n(n): rate of n = chi^2_{d-1}/d (CGF per component: -log(1 - 2 lambda)/2)."""
    return _legendre(-sp.log(1 - 2 * lam) / 2, n)


@cache
def rate() -> sp.Expr:
    """I(s, n) = I_s + I_n: the overlap and the transverse part of a Gaussian are independent."""
    return overlap_rate() + norm_rate()


@cache
def energy() -> sp.Expr:
    """E(s, n) = logit / d with x.mu = d sqrt(q) s and |mu|^2 = d (s^2 + n)."""
    return sp.expand(class_logit().subs({xmu: d * sp.sqrt(q) * s, mumu: d * (s**2 + n)}) / d)


@cache
def tilted_saddle() -> dict[sp.Symbol, sp.Expr]:
    """Maximiser (s_theta, n_theta) of theta E(s, n) - I(s, n)."""
    F = theta * energy() - rate()
    sols = sp.solve([sp.diff(F, s), sp.diff(F, n)], [s, n], dict=True)
    if len(sols) != 1:
        raise RuntimeError(f"tilted saddle: expected one solution, got {sols}")
    return {k: sp.factor(v) for k, v in sols[0].items()}


@cache
def tilted_free_entropy() -> sp.Expr:
    """max_{s,n} [theta E - I] at the saddle (per-d log of E[exp(theta logit)])."""
    return tidy((theta * energy() - rate()).subs(tilted_saddle()))


@cache
def phi_annealed() -> sp.Expr:
    """Paramagnetic branch: phi_ann = alpha + max_{s,n}[E - I] = lim (1/d) log E Z."""
    return tidy(alpha + tilted_free_entropy().subs(theta, 1))


@cache
def entropy_at_saddle() -> sp.Expr:
    """Sigma(theta) = alpha - I(s_theta, n_theta): log-number (per d) of dominant terms."""
    return tidy(alpha - rate().subs(tilted_saddle()))


@cache
def freezing_alpha() -> sp.Expr:
    """alpha at which Sigma(1) = 0; the annealed branch holds for alpha above it."""
    sol = sp.solve(sp.Eq(entropy_at_saddle().subs(theta, 1), 0), alpha)
    return tidy(sol[0])


def _theta_of_u() -> sp.Expr:
    return u * Gamma / a**2


@cache
def frozen_constraint() -> sp.Expr:
    """Sigma(theta) with theta = u Gamma / a^2: the frozen branch solves this = 0 for u.

    It is decreasing in u (the entropy of the saddle falls as the tilt grows), so the
    root in (0, a^2/Gamma] is unique when Sigma(1) < 0.
    """
    return tidy(entropy_at_saddle().subs(theta, _theta_of_u()))


@cache
def phi_frozen() -> sp.Expr:
    """Frozen branch: phi = E(s_theta, n_theta) at theta = u Gamma / a^2 (u solves the constraint)."""
    return sp.factor(sp.simplify(energy().subs(tilted_saddle()).subs(theta, _theta_of_u())))


def gaussian_cgfs() -> tuple[sp.Expr, sp.Expr]:
    """Cumulant generating functions per component, integrated here by sympy against N(0, 1):
    log E e^{lambda g} and log E e^{lambda g^2} (the latter for lambda < 1/2)."""
    g = sp.Symbol("g", real=True)
    c = sp.Symbol("c", positive=True)  # 1 - 2 lambda > 0, so that the second integral converges
    density = sp.exp(-g**2 / 2) / sp.sqrt(2 * sp.pi)
    lin = sp.integrate(sp.exp(lam * g) * density, (g, -sp.oo, sp.oo))
    quad = sp.integrate(sp.exp(-c * g**2 / 2) / sp.sqrt(2 * sp.pi), (g, -sp.oo, sp.oo))
    cgf_sq = sp.expand_log(sp.log(quad), force=True).subs(c, 1 - 2 * lam)
    return sp.simplify(sp.log(lin)), cgf_sq
