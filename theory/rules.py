"""Guidance rules beyond linear CFG as symbolic input of the mean-field theory.

A guidance rule maps the conditional and unconditional predictions P_c, P_u of one sample,
in the rule's own space (noise ``eps``, denoised ``x0``, ``v`` or velocity ``u``), to the
guided prediction P_g. On the Gaussian mixture every prediction is affine in the score with
coefficients that do not depend on the condition,

    P = A s + B x        (A, B functions of a, b and the process; :func:`space_coefficients`),

and in the large-d limit every score the DMF needs lies in span{mu_c, x} (branch G: the
unconditional posterior-mean centroid is kappa x, kept as the symbol kappa: the annealed
:func:`.dmf.posterior_mean_coefficient`, or kappa_eff where the wrong classes are frozen,
:func:`.dmf.kappa_effective`; branch C: it is mu_c). So every inner product a rule takes concentrates on a function of
(m, v) through the Gram rule <mu_c, mu_c>_d = 1, <x_perp, x_perp>_d = v, <mu_c, x_perp>_d = 0
(:func:`inner`), the guided prediction stays in the span, and the guided score

    s_g = (P_g - B x) / A

goes through the same sampler drift as CFG (:func:`.dmf.score_drifts`): no drift is typed.

Rules (the omega convention of the toolkit: omega = 0 is the conditional sampler):

- ``cfg``            P_g = (1 + omega) P_c - omega P_u (any space: the weights sum to 1).
- ``rescale``        Lin et al. 2024, Sec. 3.4: P_cfg as cfg, k = std(P_c)/std(P_cfg),
                     P_g = (1 - phi + phi k) P_cfg; large d: std -> ||.||_d (zero-mean coordinates).
- ``apg``            Sadat et al. 2025, Algorithm 1 without momentum, on denoised predictions:
                     Delta = D_c - D_u, Delta <- Delta min(1, rho / ||Delta||_d) (rho = r / sqrt(d)),
                     Delta_par = (<Delta, D_c>/||D_c||^2) D_c, D_g = D_c + omega (Delta - (1 - eta) Delta_par).
- ``zero-star``      Fan et al. 2025: s* = <u_c, u_u>/||u_u||^2, u_g = (1 + omega) u_c - omega s* u_u
                     on the velocity u = f x - (g^2/2) s of the probability-flow ODE (for the flow
                     process u = eps - D, the flow-matching velocity); the projection form, so s*
                     never appears alone (it diverges where u_u = 0, the product does not).
- ``autoguidance``   Karras et al. 2024: D_g = (1 + omega) D_good - omega D_bad with D_bad the exact
                     denoiser of the same class with the larger within-class variance sigma2_bad
                     (a modelling choice); linear, so space-free, and blind to the branch.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp

from .dmf import BRANCHES, MU_C, SAMPLERS, X, _MU, _XP, _add, f, g2, guided_score_vector, score_drifts
from .symbols import Gamma, a, b, m, omega, sigma2, v
from .symbols import kappa as KAPPA

__all__ = ["phi", "eta", "rho", "sigma2_bad", "SPACES", "FAMILIES", "RuleForm", "RULE_FORMS", "space_coefficients",
           "inner", "predictions", "guided_prediction", "guided_score", "rule_drifts", "omega_zero_residual",
           "reduction_residual", "numeric_functions"]

phi = sp.Symbol("phi", nonnegative=True)  # rescale strength (0: cfg, 1: full rescale)
eta = sp.Symbol("eta", real=True)  # APG weight of the parallel component (1: cfg)
rho = sp.Symbol("rho", positive=True)  # APG per-coordinate norm threshold r / sqrt(d)
sigma2_bad = sp.Symbol("sigma2_bad", positive=True)  # autoguidance: within-class variance of the bad model
Gamma_bad = sigma2_bad * a**2 + b**2  # per-class variance of x_t under the bad model

SPACES = ("eps", "x0", "v", "u")
RESCALE_SPACES = ("eps", "v")  # x0 and u: B/A diverges at t = 0; their generated drifts are not derived yet
FAMILIES = ("cfg", "rescale", "apg", "zero-star", "autoguidance")

_S, _D, _X = sp.symbols("s D x")  # a score, a denoised prediction, the state (one coordinate)


@cache
def space_coefficients(space: str) -> tuple[sp.Expr, sp.Expr]:
    """(A, B) with P = A s + B x for the prediction P of ``space``, derived from the definitions

    s = (a D - x)/b^2 (Tweedie), eps = (x - a D)/b, v = a eps - b D, u = f x - (g^2/2) s
    (the probability-flow velocity; for the flow process a = 1 - t, b = t it is eps - D)."""
    D_of_s = sp.solve(sp.Eq(_S, (a * _D - _X) / b**2), _D)[0]
    eps = (_X - a * D_of_s) / b
    P = {"eps": eps, "x0": D_of_s, "v": a * eps - b * D_of_s, "u": f * _X - g2 / 2 * _S}
    if space not in P:
        raise ValueError(f"space must be one of {', '.join(SPACES)} (got {space!r})")
    expr = sp.expand(P[space])
    return sp.factor(expr.coeff(_S)), sp.factor(expr.coeff(_X))


def _vec(expr_by_basis: dict) -> dict:
    return {k: sp.factor(c) for k, c in expr_by_basis.items()}  # factored coefficients keep the norms short


def _scale(c: sp.Expr, vec: dict) -> dict:
    return _add((c, vec))


def inner(P: dict, Q: dict) -> sp.Expr:
    """<P, Q>_d = P.Q/d at d -> infinity, from the Gram rule of the basis (mu_c, x_perp)."""
    gram = {(_MU, _MU): 1, (_XP, _XP): v, (_MU, _XP): 0, (_XP, _MU): 0}
    return sp.factor_terms(sp.Add(*(cp * cq * gram[(bp, bq)] for bp, cp in P.items() for bq, cq in Q.items())))


def _is_zero(vec: dict) -> bool:
    return all(c == 0 for c in vec.values())  # coefficients are factored (_vec): zero is literal


def _to_prediction(score: dict, space: str) -> dict:
    A, B = space_coefficients(space)
    return _vec(_add((A, score), (B, X)))


def _to_score(P: dict, space: str) -> dict:
    A, B = space_coefficients(space)
    return _vec(_add((1 / A, P), (-B / A, X)))


def branch_kappa(branch: str):
    """The kappa argument of :mod:`.dmf` for a branch: the free symbol in G (M = kappa x), none in C."""
    return KAPPA if branch == "G" else None


@cache
def predictions(branch: str) -> tuple[dict, dict]:
    """(s_c, s_u): the conditional and unconditional scores of a branch, read off the guided
    score of :mod:`.dmf` at omega = 0 and omega = -1 (it is affine in omega); in G with the
    wrong-class coefficient kappa as a free symbol."""
    s_g = guided_score_vector(branch, branch_kappa(branch))
    return _vec({k: c.subs(omega, 0) for k, c in s_g.items()}), _vec({k: c.subs(omega, -1) for k, c in s_g.items()})


def bad_score() -> dict:
    """Score of the bad model of autoguidance: the class N(mu_c, sigma2_bad I), same condition."""
    from .scores import score_coefficients

    cx, cmu = score_coefficients()
    cx, cmu = cx.subs(Gamma, Gamma_bad), cmu.subs(Gamma, Gamma_bad)
    return _vec(_add((cx, X), (cmu, MU_C)))


@dataclass(frozen=True)
class RuleForm:
    """One generated form of a rule family: a fixed space (or none) and its symbolic parameters."""

    key: str  # name in the generated functions: rule_<key>_<branch>_<sampler>_<m|v>
    family: str
    space: str  # the space the rule acts in
    params: tuple[sp.Symbol, ...]
    clip: bool = False  # APG with the norm threshold rho


RULE_FORMS: dict[str, RuleForm] = {
    **{f"rescale_{sp_}": RuleForm(f"rescale_{sp_}", "rescale", sp_, (phi,)) for sp_ in RESCALE_SPACES},
    "apg": RuleForm("apg", "apg", "x0", (eta,)),
    "apg_clip": RuleForm("apg_clip", "apg", "x0", (eta, rho), clip=True),
    "zero_star": RuleForm("zero_star", "zero-star", "u", ()),
    "autoguidance": RuleForm("autoguidance", "autoguidance", "x0", (sigma2_bad,)),
}


# the rules' per-sample scalars, kept as symbols while the vectors are combined and
# substituted by their concentrated values (:func:`inner`) at the end: cheap, exact algebra
k_r = sp.Symbol("k", positive=True)  # rescale ratio std(P_c)/std(P_cfg)
k_x = sp.Symbol("k_x", real=True)  # rescale: (k - 1) B/A, the x-part of the rescaled score
m_r = sp.Symbol("m_r", positive=True)  # APG clip factor min(1, rho/||Delta||)
c_par = sp.Symbol("c_par", real=True)  # APG <Delta, D_c>/||D_c||^2


def guided_prediction(form: RuleForm | None, Pc: dict, Pu: dict) -> tuple[dict, dict]:
    """The rule itself: (guided prediction, values of its scalars) from (P_c, P_u) in the rule's
    space (``Pu`` is the bad model's prediction for autoguidance). ``form=None`` is cfg."""
    cfg = _vec(_add((1 + omega, Pc), (-omega, Pu)))
    if form is None or form.family in ("cfg", "autoguidance"):
        return cfg, {}
    if form.family == "rescale":
        return _vec(_scale(1 - phi + phi * k_r, cfg)), rescale_values(Pc, Pu, cfg, form.space)
    if form.family == "apg":
        delta = _vec(_add((1, Pc), (-1, Pu)))
        if _is_zero(delta):  # branch C: D_u = D_c, guidance inert (and the clip undefined)
            return Pc, {}
        values = {c_par: inner(delta, Pc) / inner(Pc, Pc)}  # of the unclipped Delta: the clip is a scale
        if form.clip:
            values[m_r] = rho / sp.Max(rho, sp.sqrt(inner(delta, delta)))  # min(1, rho/norm), finite at norm 0
            delta = _scale(m_r, delta)
        return _vec(_add((1, Pc), (omega, delta), (-omega * (1 - eta) * (m_r if form.clip else 1) * c_par, Pc))), values
    if form.family == "zero-star":
        # s* u_u = (<u_c, u_u>/||u_u||^2) u_u: cancel the common factor of u_u before it can vanish
        proj = {k: sp.cancel(sp.expand(inner(Pc, Pu) * c) / sp.expand(inner(Pu, Pu))) for k, c in Pu.items()}
        return _vec(_add((1 + omega, Pc), (-omega, proj))), {}
    raise ValueError(f"unknown rule family {form.family!r}")


def rescale_values(Pc: dict, Pu: dict, cfg: dict, space: str) -> dict:
    """k = ||P_c||_d / ||P_cfg||_d and k_x = (k - 1) B/A: the rescaled score is k_phi s_cfg + phi k_x x.

    Generated for the spaces where B/A stays finite down to t = 0 (eps: B = 0; v: B/A = 1/(a^2 + b^2))."""
    A, B = space_coefficients(space)
    k = sp.sqrt(inner(Pc, Pc) / inner(cfg, cfg))
    return {k_r: k, k_x: (k - 1) * sp.cancel(B / A)}


@cache
def guided_score(key: str | None, branch: str) -> dict:
    """(guided score in the basis (mu_c, x_perp), values of its scalars) of a rule form (``None``: cfg) in a branch."""
    if branch not in BRANCHES:
        raise ValueError(f"branch must be G or C (got {branch!r})")
    form = None if key is None else RULE_FORMS[key]
    s_c, s_u = predictions(branch)
    if form is not None and form.family == "autoguidance":
        s_u = bad_score()
    space = "eps" if form is None else form.space
    P_g, values = guided_prediction(form, _to_prediction(s_c, space), _to_prediction(s_u, space))
    if form is not None and form.family == "rescale":  # (k_phi P_cfg - B x)/A, written without B/A
        s_cfg = _vec(_add((1 + omega, s_c), (-omega, s_u)))
        return _vec(_add((1 - phi + phi * k_r, s_cfg), (phi * k_x, X))), values
    return _to_score(P_g, space), values


@cache
def rule_drifts_in_scalars(key: str, branch: str, sampler: str) -> tuple[tuple[sp.Expr, sp.Expr], dict]:
    """((dm/dtau, dv/dtau) written in the rule's scalars k, k_x, c_par, m_r; their concentrated values)."""
    score, values = guided_score(key, branch)
    return tuple(sp.collect(sp.expand(e), list(values), func=sp.factor) for e in score_drifts(score, sampler)), values


@cache
def rule_drifts(key: str, branch: str, sampler: str) -> tuple[sp.Expr, sp.Expr]:
    """(dm/dtau, dv/dtau) at d -> infinity for a rule form in a branch and sampler."""
    drifts_, values = rule_drifts_in_scalars(key, branch, sampler)
    return tuple(e.subs(values) for e in drifts_)


def _factor_radicands(expr: sp.Expr) -> sp.Expr:
    """Each square root (or its inverse) with its radicand factored: sqrt(X)/sqrt(Y), combined by
    powsimp into sqrt(X/Y), cancels to 1 where X = Y as polynomials; the sums of squares alone
    do not (k = ||P_c||/||P_cfg|| of rescale at omega = 0)."""
    return expr.replace(lambda x: x.is_Pow and x.exp in (sp.S.Half, -sp.S.Half),
                        lambda x: sp.Pow(sp.factor(x.base), x.exp))


def _drifts_at(key: str, branch: str, sampler: str, at: dict) -> tuple[sp.Expr, sp.Expr]:
    """Rule drifts with ``at`` substituted, the scalars simplified one by one first (k -> 1 at omega = 0)."""
    drifts_, values = rule_drifts_in_scalars(key, branch, sampler)
    vals = {s: sp.simplify(_factor_radicands(sp.powsimp(val.subs(at), force=True))) for s, val in values.items()}
    return tuple(e.subs(at).subs(vals) for e in drifts_)


@cache
def omega_zero_residual(key: str, branch: str, sampler: str) -> tuple[sp.Expr, sp.Expr]:
    """Rule drifts at omega = 0 minus the conditional (cfg, omega = 0) drifts of :mod:`.dmf`: both 0."""
    from .dmf import drifts

    dm, dv = _drifts_at(key, branch, sampler, {omega: 0})
    cm, cv = drifts(branch, sampler, branch_kappa(branch))
    return (sp.simplify(dm - cm.subs(omega, 0)), sp.simplify(dv - cv.subs(omega, 0)))


REDUCTIONS = {  # rule form -> parameter values at which its sheet says it is cfg
    **{f"rescale_{sp_}": {phi: 0} for sp_ in RESCALE_SPACES},
    "apg": {eta: 1},
    "apg_clip": {eta: 1},  # and rho -> infinity: see reduction_residual
}


@cache
def reduction_residual(key: str, branch: str, sampler: str) -> tuple[sp.Expr, sp.Expr]:
    """Rule drifts at its cfg parameters minus the cfg drifts of :mod:`.dmf` (both 0)."""
    from .dmf import drifts

    dm, dv = rule_drifts(key, branch, sampler)
    cm, cv = drifts(branch, sampler, branch_kappa(branch))
    at = REDUCTIONS[key]
    # rho -> infinity: once rho exceeds ||Delta||, Max(rho, ||Delta||) = rho and the clip factor is 1
    no_clip = lambda e: e.replace(lambda x: isinstance(x, sp.Max) and rho in x.args, lambda x: rho)  # noqa: E731
    return sp.simplify(no_clip(dm.subs(at)) - cm), sp.simplify(no_clip(dv.subs(at)) - cv)


def autoguidance_as_cfg_residual(branch: str, sampler: str) -> tuple[sp.Expr, sp.Expr]:
    """Autoguidance with the unconditional model as the bad one, minus cfg (both 0): the
    guided prediction is the same function of (good, bad) as cfg's of (c, u)."""
    from .dmf import drifts

    s_c, s_u = predictions(branch)
    P, _ = guided_prediction(RULE_FORMS["autoguidance"], _to_prediction(s_c, "x0"), _to_prediction(s_u, "x0"))
    dm, dv = score_drifts(_to_score(P, "x0"), sampler)
    cm, cv = drifts(branch, sampler, branch_kappa(branch))
    return sp.simplify(dm - cm), sp.simplify(dv - cv)


# ---------------------------------------------------------------- autoguidance in closed form


@cache
def autoguidance_final_moments(sampler: str) -> tuple[sp.Expr, sp.Expr]:
    """(m(0), v(0)) of autoguidance for the OU process from the marginal start as T -> infinity.

    Autoguidance never uses the unconditional model, so its drifts are the same in both branches
    and linear in (m, v): the final moments hold at every alpha. m: m = a_t solves the m-drift
    identically (both models are centred on mu_c) and the homogeneous part decays, so m(0) = 1.
    v: d v / dt = k v - S (forward time) is solved by the integrating factor K = int_0^t k, as for
    the Gaussian limit of cfg (:mod:`.gaussian_limit`), v(0) = lim_T v(T) e^{-K(T)} + int_0^inf
    S e^{-K} dt, the integral after u = e^{2t} and z = (sigma2_bad - 1 + u)/(sigma2 - 1 + u), which
    makes the integrand a power of z. Depends on the SNR path only (like every Gaussian limit)."""
    from .process import PRESETS
    from .symbols import t

    p = PRESETS["ou"]
    dm, dv = rule_drifts("autoguidance", "G", sampler)
    ou = lambda e: sp.simplify(p.specialise(e).subs(b, p.b))  # noqa: E731
    if ou(dm.subs(m, a)) + sp.diff(p.a, t) != 0:  # dm/dtau = -dm/dt along m = a_t
        raise RuntimeError("autoguidance: m = a_t does not solve the m-drift")
    s_ = sp.Symbol("s_", nonnegative=True)
    u, z = sp.Symbol("u", positive=True), sp.Symbol("z", positive=True)

    def factor_exponent(drift, var):
        k = ou(-sp.expand(drift).coeff(var, 1))
        return sp.simplify(sp.integrate(k.subs(t, s_), (s_, 0, t))), ou(sp.expand(drift).coeff(var, 0))

    K_m, _ = factor_exponent(dm, m)
    if sp.limit(sp.exp(-K_m.subs(omega, 1)) * p.a, t, sp.oo) != 0:  # the start m(T) = 0 is forgotten
        raise RuntimeError("autoguidance: the m-drift's homogeneous part does not decay")
    K_v, S_v = factor_exponent(dv, v)
    boundary = sp.simplify(sp.limit(sp.exp(-K_v), t, sp.oo))  # v(T) -> 1 for OU
    integral = sp.Integer(0)
    if S_v != 0:
        integrand = sp.simplify((S_v * sp.exp(-K_v)).subs(t, sp.log(u) / 2) / (2 * u))
        integrand = sp.powsimp(sp.expand_log(integrand, force=True).rewrite(sp.Pow), force=True)
        u_of_z = sp.solve(sp.Eq(z, (sigma2_bad - 1 + u) / (sigma2 - 1 + u)), u)[0]
        g = sp.powsimp(sp.powdenest(sp.factor(sp.simplify(integrand.subs(u, u_of_z) * sp.diff(u_of_z, z))),
                                    force=True), force=True)
        integral = sp.integrate(g, (z, sigma2_bad / sigma2, 1), conds="none")
    return sp.Integer(1), sp.simplify(boundary + integral)


def numeric_functions():
    """Generated functions: the space coefficients (for the simulator) and every rule drift."""
    from .codegen import NumericFunction

    fns = []
    for space in SPACES:
        for i, name in enumerate(("score", "x")):
            fns.append(NumericFunction(
                f"prediction_coef_{name}_{space}", (a, b, f, g2), lambda space=space, i=i: space_coefficients(space)[i],
                f"coefficient of the {name} in the {space} prediction P = A s + B x"))
    base = (m, v, a, b, Gamma, f, g2, omega)
    for key, form in RULE_FORMS.items():
        for branch in BRANCHES:
            for sampler in SAMPLERS:
                for i, var in enumerate("mv"):
                    kappa = (KAPPA,) if branch == "G" else ()
                    fns.append(NumericFunction(
                        f"rule_{key}_{branch}_{sampler}_{var}", base + kappa + form.params,
                        lambda key=key, branch=branch, sampler=sampler, i=i: rule_drifts(key, branch, sampler)[i],
                        f"d{var}/dtau of the {form.family} rule ({form.space} space) in branch {branch}, "
                        f"{sampler} sampler"))
    for sampler in SAMPLERS:
        for i, var in enumerate("mv"):
            fns.append(NumericFunction(
                f"autoguidance_final_{var}_{sampler}", (omega, sigma2, sigma2_bad),
                lambda sampler=sampler, i=i: autoguidance_final_moments(sampler)[i],
                f"{var}(0) of autoguidance in closed form, {sampler} sampler (any alpha; removable 0/0 at "
                "sigma2_bad = sigma2, and at omega = -1/2 for the sde)"))
    return fns
