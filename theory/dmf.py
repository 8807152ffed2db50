"""Derivation step 6: dynamical mean-field (DMF) drifts of m and v for guided sampling.

Reverse time tau (t decreasing). With a forward SDE dx = f x dt + g dW, the samplers are

    reverse SDE:           dx = [-f x + g^2 s] dtau + g dB
    probability-flow ODE:  dx = [-f x + (g^2/2) s] dtau

with s the guided score (:mod:`.scores`): s = coef_x x + coef_target mu_c + coef_post M,
M = sum_k w_k mu_k the posterior-mean centroid. In the two branches of the large-d limit

- C (the target dominates p_t(x)): M = mu_c, so guidance is inert;
- G (wrong classes dominate, annealed): M is the mean of a centroid under the tilt
  exp(logit), i.e. the tilted saddle overlap along e = x/|x|: M = s_1 sqrt(d) e = kappa x,
  kappa = s_1 / sqrt(q) (:func:`posterior_mean_coefficient`, from :mod:`.free_energy`).
  Where the wrong classes are frozen (condensed: Sigma(1) < 0) the coherent part of M along x
  comes from the few centroids at the frozen saddle and kappa is smaller: by the envelope
  theorem kappa_eff = (2 Gamma / a) d phi / dq with the quenched phi (:func:`kappa_effective`).
  The branch-G drift therefore takes kappa as an explicit argument (``drifts("G", sampler,
  kappa=KAPPA)``, symbol :data:`.symbols.kappa`); its default is the annealed value.

Vectors are written in the basis (mu_c, x_perp) with x = m mu_c + x_perp,
mu_c.mu_c = d, x_perp.x_perp = d v, mu_c.x_perp = 0. Then m = x.mu_c/d and v = |x_perp|^2/d
obey dm = <D, mu_c>/d dtau + O(d^{-1/2}) noise and, by Ito,
dv = [2 <D, x_perp>/d + g^2 (d - 1)/d] dtau + O(d^{-1/2}) noise (SDE; no Ito term for the ODE).
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from .free_energy import tilted_saddle
from .scores import guided_score_coefficients
from .symbols import Gamma, a, d, f, g2, m, omega, q, s, theta, v
from .symbols import kappa as KAPPA

BRANCHES = ("G", "C")
SAMPLERS = ("sde", "ode")

_MU, _XP = sp.symbols("mu_c x_perp", commutative=True)  # basis labels


def _dot(u: dict, w: dict) -> sp.Expr:
    gram = {(_MU, _MU): d, (_XP, _XP): d * v, (_MU, _XP): 0, (_XP, _MU): 0}
    return sp.expand(sum(cu * cw * gram[(bu, bw)] for bu, cu in u.items() for bw, cw in w.items()))


def _add(*terms: tuple[sp.Expr, dict]) -> dict:
    out: dict = {}
    for c, vec in terms:
        for basis, coeff in vec.items():
            out[basis] = out.get(basis, 0) + c * coeff
    return out


X = {_MU: m, _XP: sp.Integer(1)}
MU_C = {_MU: sp.Integer(1)}


@cache
def posterior_mean_coefficient() -> sp.Expr:
    """kappa with M = kappa x in branch G: the annealed tilted mean of a wrong centroid."""
    s1 = tilted_saddle()[s].subs(theta, 1)
    return sp.simplify(s1 / sp.sqrt(q))


@cache
def kappa_effective() -> dict[str, sp.Expr]:
    """kappa = (2 Gamma / a) d phi / dq in each wrong-class branch of phi.

    Why: M = sum_k w_k mu_k = (Gamma / a) grad_x log Z, and for the coherent part along x,
    grad_x (d phi(|x|^2/d)) = 2 (d phi/dq) x. Annealed phi gives back
    :func:`posterior_mean_coefficient` (s_1 / sqrt(q)); the frozen phi = E(s*, n*) at the
    root theta* of Sigma(theta) = 0 is differentiated by the envelope theorem (the constraint
    does not involve q), giving s_theta* / sqrt(q) in the variable u = theta* a^2 / Gamma.
    Keys: ``annealed`` (in q, a, Gamma), ``frozen`` (in u, q, a, Gamma)."""
    from .free_energy import energy, phi_annealed
    from .symbols import u

    saddle = {k: val.subs(theta, u * Gamma / a**2) for k, val in tilted_saddle().items()}
    pref = 2 * Gamma / a
    return {"annealed": sp.simplify(pref * sp.diff(phi_annealed(), q)),
            "frozen": sp.factor(sp.simplify(pref * sp.diff(energy(), q).subs(saddle)))}


def guided_score_vector(branch: str, kappa: sp.Expr | None = None) -> dict:
    """The guided score in the basis (mu_c, x_perp) in branch G or C.

    In G the wrong-class posterior mean is M = kappa x; ``kappa=None`` uses the annealed
    value, ``kappa=KAPPA`` keeps it a free symbol (frozen G: kappa_eff)."""
    c = guided_score_coefficients()
    if branch == "C":
        M = MU_C
    elif branch == "G":
        k = posterior_mean_coefficient() if kappa is None else kappa
        M = {b: k * val for b, val in X.items()}
    else:
        raise ValueError(f"branch must be G or C (got {branch!r})")
    return _add((c["coef_x"], X), (c["coef_target"], MU_C), (c["coef_post"], M))


@cache
def drifts(branch: str, sampler: str, kappa: sp.Expr | None = None) -> tuple[sp.Expr, sp.Expr]:
    """(dm/dtau, dv/dtau) at d -> infinity in a branch, for the 'sde' or 'ode' sampler.

    ``kappa``: the branch-G coefficient of M = kappa x (None: annealed; ``KAPPA``: symbolic)."""
    dm, dv = score_drifts(guided_score_vector(branch, kappa), sampler)
    return _collect(dm, m), _collect(dv, v)


def score_drifts(score: dict, sampler: str) -> tuple[sp.Expr, sp.Expr]:
    """(dm/dtau, dv/dtau) at d -> infinity for ANY score vector in the basis (mu_c, x_perp).

    Shared by the CFG drifts above and by the guidance rules of :mod:`.rules`, whose guided
    scores are not linear in the two model scores; returned unsimplified, with q = m^2 + v."""
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be sde or ode (got {sampler!r})")
    weight = g2 if sampler == "sde" else g2 / 2
    D = _add((-f, X), (weight, score))
    xperp = {_XP: sp.Integer(1)}
    dm = _dot(D, MU_C) / d  # the Gram entries carry the factor d: dm and the first term of dv are free of d
    ito = g2 * (d - 1) / d if sampler == "sde" else 0  # quadratic variation of P_perp g dB, per d
    dv = 2 * _dot(D, xperp) / d + sp.limit(ito, d, sp.oo)
    return dm.subs(q, m**2 + v), dv.subs(q, m**2 + v)


def _collect(expr: sp.Expr, var: sp.Symbol) -> sp.Expr:
    """Write a drift linear in ``var`` as (coefficient) var + (source), each factored."""
    expr = sp.expand(sp.simplify(expr))
    slope, source = sp.factor(expr.coeff(var, 1)), sp.factor(expr.coeff(var, 0))
    if sp.simplify(slope * var + source - expr) != 0:
        raise RuntimeError(f"drift is not affine in {var}: {expr}")
    return slope * var + source


@cache
def exactness_residual(branch: str, sampler: str) -> tuple[sp.Expr, sp.Expr]:
    """Residual of the omega = 0 drifts on the exact conditional trajectory m = a_t, v = Gamma_t,
    for a general forward process: (dm/dtau + a'(t), dv/dtau + Gamma'(t)) with a' = f a and
    Gamma' = 2 f Gamma + g^2 (:func:`.process.sde_coefficients`). Both vanish identically."""
    dm, dv = drifts(branch, sampler)
    on_traj = {omega: 0, m: a, v: Gamma}
    a_dot = f * a
    Gamma_dot = 2 * f * Gamma + g2
    return sp.simplify(dm.subs(on_traj) + a_dot), sp.simplify(dv.subs(on_traj) + Gamma_dot)


def _margin_derivatives() -> dict[str, sp.Expr]:
    """Partial derivatives of the classification margin h = T(m) - phi(q) that the switching
    logic needs (dh/dtau along each branch's drift). For the frozen phi the envelope theorem
    gives d phi / dp = dE/dp at the saddle (the constraint Sigma = 0 does not involve q, a, Gamma)."""
    from .classification import target_term
    from .free_energy import energy, phi_annealed
    from .symbols import u

    E = energy()
    saddle = {k: val.subs(theta, u * Gamma / a**2) for k, val in tilted_saddle().items()}
    out = {}
    T = target_term()
    for name, var in (("m", m), ("a", a), ("Gamma", Gamma)):
        out[f"target_term_d{name}"] = sp.simplify(sp.diff(T, var))
    for name, var in (("q", q), ("a", a), ("Gamma", Gamma)):
        out[f"phi_annealed_d{name}"] = sp.simplify(sp.diff(phi_annealed(), var))
        out[f"phi_frozen_d{name}"] = sp.simplify(sp.diff(E, var).subs(saddle))
    return out


def numeric_functions():
    """Generated functions of this module (see :mod:`.codegen`)."""
    from .codegen import NumericFunction
    from .process import PRESETS
    from .symbols import alpha, sigma2, t, u

    fns = []
    args = (m, v, a, Gamma, f, g2, omega)
    for branch in BRANCHES:
        for sampler in SAMPLERS:
            for i, var in enumerate("mv"):
                fns.append(NumericFunction(
                    f"drift_{branch}_{sampler}_{var}", args,
                    lambda branch=branch, sampler=sampler, i=i: drifts(branch, sampler)[i],
                    f"d{var}/dtau in branch {branch}, {sampler} sampler (reverse time)"))
    for sampler in SAMPLERS:
        for i, var in enumerate("mv"):
            fns.append(NumericFunction(
                f"drift_Gk_{sampler}_{var}", args + (KAPPA,),
                lambda sampler=sampler, i=i: drifts("G", sampler, KAPPA)[i],
                f"d{var}/dtau in branch G with wrong-class coefficient kappa (M = kappa x), {sampler} sampler"))
    kap = kappa_effective()
    fns.append(NumericFunction("kappa_annealed", (q, a, Gamma), lambda: kap["annealed"],
                               "kappa = (2 Gamma / a) d phi_ann / dq: annealed wrong-class posterior mean along x"))
    fns.append(NumericFunction("kappa_frozen", (u, q, a, Gamma), lambda: kap["frozen"],
                               "kappa_eff = (2 Gamma / a) d phi_frozen / dq at the root u of frozen_constraint"))
    derivs = _margin_derivatives()
    sig = {"target_term": (m, a, Gamma), "phi_annealed": (alpha, q, a, Gamma), "phi_frozen": (u, q, a, Gamma)}
    for name, expr in derivs.items():
        fns.append(NumericFunction(name, sig[name.rsplit("_d", 1)[0]], lambda expr=expr: expr,
                                   f"partial derivative {name}"))
    for pname, p in PRESETS.items():
        fns.append(NumericFunction(f"{pname}_da", (t,), lambda p=p: sp.diff(p.a, t), f"a'(t) of the {pname} process"))
        fns.append(NumericFunction(f"{pname}_dGamma", (t, sigma2), lambda p=p: sp.diff(p.Gamma, t),
                                   f"Gamma'(t) of the {pname} process"))
    return fns
