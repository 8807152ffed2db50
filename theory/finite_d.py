"""Finite-d effective theory: the smooth branch switch of guided sampling at finite d.

At finite d the posterior weight of the target class c is

    w_c = e^{logit_c} / (e^{logit_c} + Z),   Z = sum_{k != c} e^{logit_k},

with logit_c = d T(m) for |mu_c|^2 = d (:func:`.classification.target_term`). The effective
theory replaces Z by its expectation over the K - 1 wrong centroids, E Z = e^{d phi_d(q)}:

    phi_d(q) = alpha_d + (1/d) log E_mu[e^{logit(mu)}],   alpha_d = log(K - 1)/d,   mu ~ N(0, I_d),

an exact Gaussian integral at any d (:func:`wrong_class_log_expectation`; it is the annealed
rate with alpha replaced by log(K - 1)/d, asserted). Then w_c = 1/(1 + e^{-d h_d}) with the
finite-d margin h_d = T(m) - phi_d(q), and the posterior-mean centroid is

    M = w_c mu_c + (1 - w_c) kappa x,   kappa = E[mu e^{logit}]/E[e^{logit}] along x

(the same Gaussian integral, asserted against :func:`.dmf.posterior_mean_coefficient`).

Dynamics (:func:`drifts`): the guided score with this M, in the basis (mu_c, x_perp) of
:mod:`.dmf`, gives drifts of (m, v) that are the w_c-weighted mixture of the branch C and G
drifts (asserted), with the Ito term g^2 (d - 1)/d of v kept at finite d. Noise
(:func:`noise_variances`): m carries mu_c . g dB/d, of variance g^2/d per unit time
(= 2/d for ou); v carries 2 x_perp . g dB/d, of variance 4 g^2 v/d, O(1/d) like m's, and is
kept; the two are independent (mu_c . x_perp = 0). The ODE sampler has no noise.

Integrator (:func:`order_parameter_step`): the exact-transition step of the simulator
(:mod:`.transition`, centroid C frozen over a step) written in (m, x_perp): both move by
one common slope, m gets a shift, and the noise is N(0, var/d) along mu_c and N(0, var)
per transverse component, so v_s d/var is a noncentral chi^2 with d - 1 degrees of freedom.
At omega = 0 it is exact at any step size. Target norm: |mu_c|^2 = d (the simulator's
default ``target_norm="fixed"``).
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from . import dmf as DMF
from .classification import target_term
from .free_energy import phi_annealed
from .scores import class_logit, guided_score_coefficients
from .symbols import Gamma, K, a, alpha, b, d, m, mumu, omega, q, sigma2, v, xmu
from .transition import a_s, b_s, frozen_centroid, ode_transition, sde_transition

__all__ = [
    "w_c",
    "wrong_class_log_expectation",
    "tilted_mean_coefficient",
    "alpha_d",
    "effective_alpha",
    "phi_finite_d",
    "margin",
    "target_weight",
    "drifts",
    "mixture_identity",
    "noise_variances",
    "order_parameter_step",
    "kappa_bar",
    "wrong_logit_components",
    "target_logit",
    "finite_K_definitions",
    "finite_K_annealed_ratio",
    "finite_K_step",
    "numeric_functions",
]

w_c = sp.Symbol("w_c", nonnegative=True)  # posterior weight of the target class, in [0, 1]
kappa_bar = sp.Symbol("kappa_K", real=True)  # E[sum_{k != c} w_k mu_k] = kappa_bar x: finite-K wrong-class mean
_u, _r = sp.symbols("u r", real=True)  # a wrong centroid: u = mu . x/|x| ~ N(0, 1), r = |mu_perp|^2 ~ chi2_{d-1}
_A, _Z = sp.symbols("A Z", positive=True)  # e^{logit_c} and the wrong-class sum
alpha_d = sp.Symbol("alpha_d", nonnegative=True)  # log(K - 1)/d, the finite-d stand-in for alpha

_y, _x1 = sp.symbols("y x_1", real=True)  # one component of a wrong centroid and of x


def _component_logit() -> sp.Expr:
    """The logit of one centroid is a sum over components: its part in one component y of mu."""
    return sp.expand(class_logit().subs({xmu: _x1 * _y, mumu: _y**2}))


def _gaussian_mean(weight: sp.Expr) -> sp.Expr:
    """E[weight(y)] for y ~ N(0, 1), by sympy integration."""
    density = sp.exp(-_y**2 / 2) / sp.sqrt(2 * sp.pi)
    return sp.simplify(sp.integrate(weight * density, (_y, -sp.oo, sp.oo), conds="none"))


@cache
def wrong_class_log_expectation() -> sp.Expr:
    """(1/d) log E_mu[e^{logit(mu)}] for mu ~ N(0, I_d), exact at every d.

    The components of mu are independent, so E factorises into one Gaussian integral per
    component of x; the log of the product depends on x through sum x_i^2 = q d only.
    Asserted: equals phi_annealed - alpha (the annealed large-deviation saddle is exact
    here), whose tidier form is returned.
    """
    per_component = sp.expand_log(sp.log(_gaussian_mean(sp.exp(_component_logit()))), force=True)
    slope = sp.diff(per_component, _x1, 2) / 2  # per_component = const + slope x_1^2
    const = per_component.subs(_x1, 0)
    assert sp.simplify(per_component - const - slope * _x1**2) == 0
    result = const + slope * q  # (1/d) sum_i over components, sum_i x_i^2 = q d
    tidy = phi_annealed().subs(alpha, 0)  # the same function in the annealed rate's tidier form
    assert sp.simplify(sp.expand_log(result - tidy, force=True)) == 0
    return tidy


@cache
def tilted_mean_coefficient() -> sp.Expr:
    """kappa with E[mu e^{logit}] / E[e^{logit}] = kappa x, by the same Gaussian integral.

    Asserted equal to the annealed saddle's :func:`.dmf.posterior_mean_coefficient`.
    """
    weight = sp.exp(_component_logit())
    kappa = sp.simplify(_gaussian_mean(_y * weight) / _gaussian_mean(weight) / _x1)
    assert sp.simplify(kappa - DMF.posterior_mean_coefficient()) == 0
    return kappa


def effective_alpha() -> sp.Expr:
    """alpha_d = log(K - 1)/d: E Z = (K - 1) E[e^{logit}] = e^{d (alpha_d + log E[e^logit]/d)}."""
    return sp.log(K - 1) / d


@cache
def phi_finite_d() -> sp.Expr:
    """phi_d(q) = alpha_d + (1/d) log E[e^{logit}] = (1/d) log E Z over K - 1 wrong classes.

    Asserted: the annealed rate phi_annealed with alpha replaced by alpha_d.
    """
    phi = alpha_d + wrong_class_log_expectation()
    assert sp.simplify(phi - phi_annealed().subs(alpha, alpha_d)) == 0
    return phi


@cache
def margin() -> sp.Expr:
    """h_d = T(m) - phi_d(q) in (m, v, alpha_d): w_c = 1/(1 + e^{-d h_d})."""
    return target_term() - phi_finite_d().subs(q, m**2 + v)


@cache
def target_weight() -> sp.Expr:
    """w_c = e^{d T} / (e^{d T} + E Z), the target's posterior weight with Z replaced by E Z."""
    return 1 / (1 + sp.exp(-d * margin()))


def _posterior_mean() -> dict:
    """M = w_c mu_c + (1 - w_c) kappa x in the basis (mu_c, x_perp)."""
    kappa = tilted_mean_coefficient()
    return DMF._add((w_c, DMF.MU_C), ((1 - w_c) * kappa, DMF.X))


def _drift_vector(sampler: str) -> dict:
    c = guided_score_coefficients()
    score = DMF._add((c["coef_x"], DMF.X), (c["coef_target"], DMF.MU_C), (c["coef_post"], _posterior_mean()))
    weight = DMF.g2 if sampler == "sde" else DMF.g2 / 2
    return DMF._add((-DMF.f, DMF.X), (weight, score))


_XPERP = {DMF._XP: sp.Integer(1)}


@cache
def drifts(sampler: str) -> tuple[sp.Expr, sp.Expr]:
    """(dm/dtau, dv/dtau) at finite d for target weight w_c, 'sde' or 'ode' sampler.

    dm = <D, mu_c>/d, dv = 2 <D, x_perp>/d + g^2 (d - 1)/d (Ito: the noise g dB has d - 1
    components across mu_c); the ODE has no Ito term.
    """
    if sampler not in DMF.SAMPLERS:
        raise ValueError(f"sampler must be sde or ode (got {sampler!r})")
    D = _drift_vector(sampler)
    ito = DMF.g2 * (d - 1) / d if sampler == "sde" else 0
    dm = DMF._dot(D, DMF.MU_C) / d
    dv = 2 * DMF._dot(D, _XPERP) / d + ito
    return sp.simplify(dm.subs(q, m**2 + v)), sp.simplify(dv.subs(q, m**2 + v))


@cache
def mixture_identity(sampler: str) -> tuple[sp.Expr, sp.Expr]:
    """Residuals of drift = w_c drift_C + (1 - w_c) drift_G (d -> infinity drifts of :mod:`.dmf`),
    with the v drift's Ito term taken at d -> infinity. Both are identically 0."""
    G, C = DMF.drifts("G", sampler), DMF.drifts("C", sampler)
    out = []
    for i, fd in enumerate(drifts(sampler)):
        fd_inf = sp.limit(fd, d, sp.oo) if i == 1 else fd
        out.append(sp.simplify(fd_inf - (w_c * C[i] + (1 - w_c) * G[i])))
    return out[0], out[1]


@cache
def noise_variances(sampler: str) -> dict[str, sp.Expr]:
    """Quadratic variations per unit time of dm and dv and their covariation.

    The noise g dB enters m as mu_c . g dB/d and v as 2 x_perp . g dB/d, so
    d<m> = g^2 |mu_c|^2/d^2, d<v> = 4 g^2 |x_perp|^2/d^2, d<m, v> = 2 g^2 mu_c.x_perp/d^2.
    """
    if sampler == "ode":
        return {"m": sp.Integer(0), "v": sp.Integer(0), "mv": sp.Integer(0)}
    g2 = DMF.g2
    return {"m": sp.simplify(g2 * DMF._dot(DMF.MU_C, DMF.MU_C) / d**2),
            "v": sp.simplify(4 * g2 * DMF._dot(_XPERP, _XPERP) / d**2),
            "mv": sp.simplify(2 * g2 * DMF._dot(DMF.MU_C, _XPERP) / d**2)}


@cache
def order_parameter_step(sampler: str) -> dict[str, sp.Expr]:
    """The simulator's exact step with frozen C, in the order parameters (m, x_perp).

    x_s = coef_x x_t + coef_C C + sqrt(var) z with C = target mu_c + post M and
    M = w_c mu_c + (1 - w_c) kappa x_t gives m_s = slope m_t + shift + N(0, var/d) and
    x_perp_s = slope x_perp_t + N(0, var I_{d-1}); kappa at time t with Gamma = a^2 sigma2 + b^2.
    """
    step = sde_transition() if sampler == "sde" else ode_transition()
    frozen = frozen_centroid()
    kappa = tilted_mean_coefficient().subs(Gamma, a**2 * sigma2 + b**2)
    slope = step["coef_x"] + step["coef_C"] * frozen["post"] * (1 - w_c) * kappa
    shift = step["coef_C"] * (frozen["target"] + frozen["post"] * w_c)
    var = step["var"] if sampler == "sde" else sp.Integer(0)
    return {"slope": sp.simplify(slope), "shift": sp.simplify(shift), "var": var}


# ---------------------------------------------------------------- finite number of classes
#
# The annealed stand-in above replaces Z by E Z and the wrong classes' posterior mean by
# kappa x, a ratio of expectations. With a few hundred classes Z is dominated by the few
# centroids closest to x (it is not self-averaging) and E Z over-counts them. The exact
# finite-K expectation keeps the ratio inside: over the K - 1 i.i.d. wrong centroids,
#
#     E[sum_k w_k mu_k | x] = wbar_c mu_c + kappa_bar x,
#     wbar_c    = E[A / (A + Z)],                          A = e^{logit_c} = e^{d T(m)},
#     kappa_bar = E[sum_{k != c} e^{l_k} u_k / (A + Z)] / |x|,
#
# with l_k = l(u_k, r_k) the logit of a wrong centroid written in u_k = mu_k . x/|x| ~ N(0, 1)
# and r_k = |mu_k - u_k x/|x||^2 ~ chi2_{d-1} (independent). The law of the wrong centroids
# is invariant under rotations that fix x, so the mean has no other component: exact at any
# d and K. The step is linear in (wbar_c, kappa_bar), so the mean step of the order
# parameters uses them in place of (w_c, (1 - w_c) kappa).


@cache
def wrong_logit_components() -> sp.Expr:
    """l(u, r): the class logit of a wrong centroid mu = u x/|x| + mu_perp, |mu_perp|^2 = r, |x|^2 = q d."""
    return sp.expand(class_logit().subs({xmu: sp.sqrt(q * d) * _u, mumu: _u**2 + _r}))


@cache
def target_logit() -> sp.Expr:
    """logit_c = d T(m) for |mu_c|^2 = d (asserted against the class logit with x . mu_c = m d)."""
    lc = sp.expand(d * target_term())
    assert sp.simplify(lc - class_logit().subs({xmu: m * d, mumu: d})) == 0
    return lc


@cache
def finite_K_definitions() -> dict[str, sp.Expr]:
    """The two finite-K expectations' integrands for one draw of the K - 1 wrong centroids.

    ``w`` = A/(A + Z) and ``kappa`` = S_u/((A + Z)|x|) with S_u = sum_k e^{l_k} u_k; in terms of
    the softmax over the wrong classes, U = S_u/Z: w = 1/(1 + Z e^{-logit_c}), kappa = (1 - w) U/|x|
    (asserted).
    """
    S_u, U = sp.symbols("S_u U", real=True)
    w = _A / (_A + _Z)
    kap = S_u / ((_A + _Z) * sp.sqrt(q * d))
    w_soft = 1 / (1 + _Z * sp.exp(-target_logit()))
    assert sp.simplify(w.subs(_A, sp.exp(target_logit())) - w_soft) == 0
    assert sp.simplify(kap - (1 - w) * (U / sp.sqrt(q * d)).subs(U, S_u / _Z)) == 0
    return {"w": w_soft, "kappa": (1 - w_soft) * U / sp.sqrt(q * d), "U": U}


@cache
def finite_K_annealed_ratio() -> sp.Expr:
    """E[e^{l} u] / E[e^{l}] over one wrong centroid, by sympy's Gaussian integral over u (the
    r-dependence cancels in the ratio). Asserted: kappa |x| with the annealed kappa, so
    kappa_bar -> (1 - w_c) kappa wherever Z self-averages (many classes, no condensation)."""
    h = wrong_logit_components().subs(_r, 0)
    density = sp.exp(-_u**2 / 2) / sp.sqrt(2 * sp.pi)
    num = sp.integrate(_u * sp.exp(h) * density, (_u, -sp.oo, sp.oo), conds="none")
    den = sp.integrate(sp.exp(h) * density, (_u, -sp.oo, sp.oo), conds="none")
    ratio = sp.simplify(num / den)
    assert sp.simplify(ratio - tilted_mean_coefficient() * sp.sqrt(q * d)) == 0
    return ratio


@cache
def finite_K_step(sampler: str) -> dict[str, sp.Expr]:
    """The exact step with frozen C in (m, x_perp) for the posterior mean wbar_c mu_c + kappa_bar x.

    m_s = slope m_t + shift + N(0, var/d), x_perp,s = slope x_perp,t + N(0, var I_{d-1}). Asserted:
    with kappa_bar = (1 - w_c) kappa and wbar_c = w_c it is :func:`order_parameter_step`.
    """
    step = sde_transition() if sampler == "sde" else ode_transition()
    frozen = frozen_centroid()
    slope = sp.simplify(step["coef_x"] + step["coef_C"] * frozen["post"] * kappa_bar)
    shift = sp.simplify(step["coef_C"] * (frozen["target"] + frozen["post"] * w_c))
    old = order_parameter_step(sampler)
    kappa = tilted_mean_coefficient().subs(Gamma, a**2 * sigma2 + b**2)
    assert sp.simplify(slope.subs(kappa_bar, (1 - w_c) * kappa) - old["slope"]) == 0
    assert sp.simplify(shift - old["shift"]) == 0
    return {"slope": slope, "shift": shift}


def numeric_functions():
    """Generated functions of this module (see :mod:`.codegen`)."""
    from .codegen import NumericFunction

    fns = [
        NumericFunction("finite_d_alpha", (K, d), effective_alpha,
                        "alpha_d = log(K - 1)/d, the rate of the number of wrong classes at finite d"),
        NumericFunction("finite_d_margin", (m, v, a, Gamma, alpha_d), margin,
                        "finite-d margin h_d = T(m) - phi_d(q); target weight w_c = 1/(1 + exp(-d h_d))"),
    ]
    fns.append(NumericFunction("fk_wrong_logit", (_u, _r, q, d, a, Gamma), wrong_logit_components,
                               "logit of a wrong centroid with u = mu.x/|x| and r = |mu_perp|^2, |x|^2 = q d"))
    fns.append(NumericFunction("fk_target_logit", (m, d, a, Gamma), target_logit,
                               "logit of the target class, d T(m), for |mu_c|^2 = d"))
    for sampler in DMF.SAMPLERS:
        fns.append(NumericFunction(f"fk_step_{sampler}_slope", (a, b, a_s, b_s, sigma2, omega, kappa_bar),
                                   lambda sampler=sampler: finite_K_step(sampler)["slope"],
                                   f"finite-K exact {sampler} step in (m, x_perp): slope, wrong-class mean kappa_bar x"))
    step_args = (a, b, a_s, b_s, sigma2, omega, w_c)
    for sampler in DMF.SAMPLERS:
        for i, var in enumerate("mv"):
            fns.append(NumericFunction(
                f"drift_fd_{sampler}_{var}", (m, v, a, Gamma, DMF.f, DMF.g2, omega, w_c, d),
                lambda sampler=sampler, i=i: drifts(sampler)[i],
                f"finite-d d{var}/dtau at target weight w_c, {sampler} sampler (reverse time)"))
        for part in ("slope", "shift"):
            fns.append(NumericFunction(
                f"fd_step_{sampler}_{part}", step_args,
                lambda sampler=sampler, part=part: order_parameter_step(sampler)[part],
                f"finite-d exact {sampler} step t -> s in (m, x_perp): {part}"))
    return fns
