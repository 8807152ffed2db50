"""Derivation steps 3-4: the true-class term, the classification boundary, alpha_c(t), t_c(alpha).

True-class term. The target's own logit per dimension, with m = x.mu_c / d and
|mu_c|^2 / d -> 1 (mu_c ~ N(0, I_d)), is T(m) = (a m - a^2/2) / Gamma.

Classification boundary. The target's posterior weight tends to 1 as d -> infinity iff
T(m) > phi(q), with phi the wrong-class rate of :mod:`.free_energy` (annealed branch when
Sigma(1) >= 0, frozen branch otherwise). In the annealed branch the boundary is explicit,
m_boundary(q); in the frozen branch it is the same equation with the frozen phi.

On the exact conditional trajectory x_t = a mu_c + sqrt(Gamma) z one has m = a and
q = a^2 + Gamma. Solving T = phi_ann there for alpha gives

    alpha_c(t) = (1/2) log(1 + a_t^2 / Gamma_t) = (1/2) log(1 + SNR_t),

the capacity of a Gaussian channel with signal power a_t^2 and noise Gamma_t: K = e^{alpha d}
codewords mu_k are decodable from x_t iff alpha < capacity. On that trajectory the entropy
of the annealed saddle is Sigma(1) = alpha - alpha_c (:func:`entropy_on_trajectory`), so the
classification threshold is also the freezing line. For alpha > alpha_c the wrong classes
are annealed (exponentially many contribute) and phi_ann - T = alpha - alpha_c > 0: they
outweigh the target. For alpha < alpha_c they are frozen on their few best centroids, and
phi_frozen < phi_frozen(alpha_c) = T: the target wins. The inverse
t_c(alpha) solves alpha_c(t) = alpha; it exists iff alpha < alpha_c(0).
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from . import free_energy as F
from .free_energy import entropy_at_saddle, phi_annealed
from .process import PRESETS, ForwardProcess
from .scores import class_logit
from .simplify import tidy
from .symbols import Gamma, a, alpha, d, m, mumu, n, q, s, sigma2, snr, t, theta, xmu

__all__ = [
    "classic_mistake",
    "target_term",
    "conditional_trajectory",
    "boundary_m_annealed",
    "alpha_c_generic",
    "alpha_c_snr",
    "entropy_on_trajectory",
    "alpha_c",
    "t_c",
]


@cache
def target_term() -> sp.Expr:
    """T(m) = (1/d) logit of the target class, with |mu_c|^2 = d."""
    return sp.expand(class_logit().subs({xmu: d * m, mumu: d}) / d)


@cache
def conditional_trajectory() -> dict[sp.Symbol, sp.Expr]:
    """(m, q) on x_t = a mu_c + sqrt(Gamma) z at d -> infinity (|mu_c|^2/d -> 1, |z|^2/d -> 1,
    mu_c . z / d -> 0)."""
    mu2, z2, muz = sp.Integer(1), sp.Integer(1), sp.Integer(0)
    return {m: a * mu2 + sp.sqrt(Gamma) * muz, q: a**2 * mu2 + 2 * a * sp.sqrt(Gamma) * muz + Gamma * z2}


@cache
def boundary_m_annealed() -> sp.Expr:
    """m on the classification boundary T(m) = phi_ann(q) (valid where Sigma(1) >= 0)."""
    sol = sp.solve(sp.Eq(target_term(), phi_annealed()), m)
    return tidy(sol[0])


@cache
def alpha_c_generic() -> sp.Expr:
    """alpha_c in terms of a and Gamma: solves T(m) = phi_ann(q) on the conditional trajectory."""
    eq = sp.Eq(target_term(), phi_annealed()).subs(conditional_trajectory())
    sol = sp.solve(eq, alpha)
    return tidy(sol[0])


@cache
def alpha_c_snr() -> sp.Expr:
    """alpha_c as a function of snr = a^2/Gamma."""
    return sp.simplify(sp.logcombine(alpha_c_generic().subs(a, sp.sqrt(snr * Gamma)), force=True))


@cache
def entropy_on_trajectory() -> sp.Expr:
    """Sigma(1) on the conditional trajectory, as alpha - alpha_c: zero exactly at alpha_c."""
    return sp.simplify(entropy_at_saddle().subs(theta, 1).subs(conditional_trajectory()) - (alpha - alpha_c_generic()))


def _process(process: str | ForwardProcess) -> ForwardProcess:
    if isinstance(process, ForwardProcess):
        return process
    try:
        return PRESETS[process]
    except KeyError:
        raise ValueError(f"process must be one of {', '.join(PRESETS)} (got {process!r})") from None


@cache
def alpha_c(process: str | ForwardProcess = "ou") -> sp.Expr:
    """Closed form of alpha_c(t; sigma2) for a forward process (preset name or ForwardProcess)."""
    p = _process(process)
    one_plus_snr = sp.factor(sp.together(1 + p.snr))
    return alpha_c_snr().subs(snr + 1, one_plus_snr)


@cache
def t_c(process: str | ForwardProcess = "ou") -> sp.Expr:
    """Closed form of t_c(alpha; sigma2): the root of alpha_c(t) = alpha in [0, t_max).

    Valid for 0 < alpha < alpha_c(0); outside that range it is not a time of the process
    (the numeric layer reports 'never classified' or 'classified at all times').
    """
    p = _process(process)
    S = sp.Symbol("S", positive=True)  # the snr at which alpha_c = alpha: e^{2 alpha} - 1
    roots = sp.solve(sp.Eq(p.snr, S), t)
    # keep the branch that lies in [0, t_max) at an interior parameter point
    probe = {S: sp.exp(sp.Rational(1, 5)) - 1, sigma2: sp.Rational(1, 2)}
    inside = []
    for r in roots:
        val = complex(r.subs(probe).evalf())
        if abs(val.imag) < 1e-12 and 0 <= val.real < float(p.t_max):
            inside.append(r)
    if len(inside) != 1:
        raise RuntimeError(f"t_c for {p.name}: expected one root in the process range, got {roots}")
    return _cancel_removable_singularity(sp.simplify(inside[0])).subs(S, sp.exp(2 * alpha) - 1)


def _cancel_removable_singularity(expr: sp.Expr) -> sp.Expr:
    """Rewrite a quadratic root (A + B) / D, A the radical part, as (A^2 - B^2) / (D (A - B)).

    sympy's root formula for the flow preset is 0/0 where its denominator D vanishes
    (a removable singularity that float64 cannot evaluate near it); multiplying by the
    conjugate cancels D. Expressions without that shape are returned unchanged.
    """
    numer, denom = sp.fraction(sp.together(expr))
    radical = sp.Add(*[term for term in sp.Add.make_args(sp.expand(numer)) if term.has(sp.Pow) and any(
        p.exp.is_Rational and not p.exp.is_integer for p in term.atoms(sp.Pow))])
    rest = sp.expand(numer) - radical
    if radical == 0 or rest == 0 or not denom.free_symbols:
        return expr
    quotient = sp.cancel(sp.factor(sp.expand(radical**2 - rest**2)) / denom)
    if sp.fraction(sp.together(quotient))[1].free_symbols & denom.free_symbols:
        return expr  # the denominator did not cancel: leave sympy's form
    return sp.simplify(quotient) / (radical - rest)


@cache
def classic_mistake() -> dict[str, sp.Expr]:
    """The REM with the centroid norm fixed, |mu_k|^2 = d (n = 1 - s^2): the classic mistake.

    Only the overlap fluctuates. Its annealed rate, its freezing alpha, and the alpha at which
    the target term meets its frozen rate E(s = sqrt(2 alpha)) on the conditional trajectory.
    """
    E = F.energy().subs(n, 1 - s**2)
    s_star = sp.solve(sp.diff(E - F.overlap_rate(), s), s)[0]
    phi_ann = sp.simplify(alpha + (E - F.overlap_rate()).subs(s, s_star))
    freeze = sp.simplify(F.overlap_rate().subs(s, s_star))
    s_max = [r for r in sp.solve(sp.Eq(F.overlap_rate(), alpha), s) if not r.could_extract_minus_sign()][0]
    on_traj = sp.Eq(target_term(), E.subs(s, s_max)).subs(conditional_trajectory())
    alpha_c = sp.solve(on_traj, alpha)
    if len(alpha_c) != 1:
        raise RuntimeError(f"fixed-norm threshold: expected one root, got {alpha_c}")
    return {"phi_annealed": phi_ann, "freezing_alpha": freeze, "alpha_c": sp.simplify(alpha_c[0])}
