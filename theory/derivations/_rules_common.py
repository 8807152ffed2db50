"""Shared pieces of the four guidance-rule documents (rules_rescale, rules_apg, rules_zero_star,
rules_autoguidance): the equation group ``rules`` (prediction spaces, the two scores of branch G),
the drift and residual equations of a rule form, the common assumptions and the backing by the
exact-score sampler. Not a document itself."""
from __future__ import annotations

import sympy as sp

from ..writing import Backing, Content, Equation, pytest_cmd

TEST = "tests/test_rules.py"
SAMPLER_WORDS = {"sde": "reverse SDE", "ode": "probability-flow ODE"}
Pc, Pu, Dc, Du = sp.symbols("P_c P_u D_c D_u")


def drift_equations(prefix: str, key: str) -> list:
    """dm/dtau and dv/dtau of a rule form in branch G, both samplers, written in the rule's scalars."""
    from .. import rules as R

    out = []
    for sampler in ("sde", "ode"):
        (dm, dv), _ = R.rule_drifts_in_scalars(key, "G", sampler)
        src = f"rules.rule_drifts_in_scalars({key!r}, 'G', {sampler!r})"
        for var, expr, i in (("m", dm, 0), ("v", dv, 1)):
            out.append(Equation(f"eq:{prefix}-drift-G-{sampler}-{var}",
                                rf"\dot {var}\big|_{{\mathrm{{G}},\,\mathrm{{{sampler}}}}}", expr,
                                f"Drift of ${var}$ in branch G, {SAMPLER_WORDS[sampler]}, in the rule's scalars and "
                                "the wrong-class coefficient $\\kappa$.", f"{src}[0][{i}]"))
    return out


def residual_equation(label: str, keys: list[str], fn, lhs: str, sentence: str, source: str) -> Equation:
    """A matrix of residuals (rows: rule form x branch G, C x sampler sde, ode), each (dm, dv)."""
    rows = [list(fn(k, b, smp)) for k in keys for b in "GC" for smp in ("sde", "ode")]
    return Equation(label, lhs, sp.ImmutableMatrix(rows), sentence, source)


def equations() -> list:
    """Group ``rules``: the prediction spaces P = A s + B x and the two scores of branch G."""
    from .. import rules as R

    out = []
    for space in R.SPACES:
        A, B = R.space_coefficients(space)
        out.append(Equation(f"eq:rule-space-{space.replace('0', 'zero')}", rf"(A, B)_{{\mathrm{{{space}}}}}",
                            sp.ImmutableMatrix([[A, B]]),
                            f"The {space} prediction is $P = A s + B x$, from Tweedie's formula and the definitions.",
                            f"rules.space_coefficients({space!r})"))
    s_c, s_u = R.predictions("G")
    for name, vec in (("c", s_c), ("u", s_u)):
        out.append(Equation(f"eq:rule-score-{name}-G", rf"s_{name}\big|_\mathrm{{G}}",
                            sp.ImmutableMatrix([[vec.get(R._MU, 0), vec.get(R._XP, 0)]]),
                            f"Components along $(\\mu_c, x_\\perp)$ of the "
                            f"{'conditional' if name == 'c' else 'unconditional'} score in branch G (wrong-class "
                            "posterior mean $\\kappa x$).", "rules.predictions('G')"))
    return out


COMMON_ASSUMPTIONS = [
    "$d \\to \\infty$ with $\\lVert\\mu_c\\rVert^2 = d$: inner products of the predictions concentrate on the "
    "Gram rule $\\langle\\mu_c,\\mu_c\\rangle_d = 1$, $\\langle x_\\perp, x_\\perp\\rangle_d = v$, "
    "$\\langle\\mu_c, x_\\perp\\rangle_d = 0$; coordinate means vanish, so a per-sample std is a norm.",
    "Exact predictions: in branch G the wrong classes' posterior-mean centroid is $\\kappa x$ (the annealed "
    "value of the centroid cloud, or $\\kappa_\\mathrm{eff}$ where the wrong classes are frozen: "
    "derivations/frozen-wrong-classes-and-capture.md), kept as the symbol $\\kappa$ in every drift below; "
    "branch C has the target ($s_u = s_c$).",
    "The rule is applied to each model evaluation with the current state only (no history).",
]

SIM = ("simulation", "the exact-score sampler with K -> infinity at d = 2000 (norms over the coordinates of each "
       "sample, as the reference implementations compute them) reaches the branch-G DMF's m(0), v(0); the drift at "
       "one state from d = 40000 per-sample predictions equals the generated drift")
SIM_TESTS = ("test_branch_g_drift_is_the_concentrated_per_sample_rule "
             "test_k_infinity_sampler_reaches_the_branch_g_dmf test_k_infinity_sampler_reaches_the_branch_g_dmf_all")


def backing(rows) -> list:
    """Backing rows from (labels, kind, route, test names), all separated by spaces."""
    return [Backing(tuple(labels.split()), kind, route, tuple(pytest_cmd(TEST, t) for t in tests.split()))
            for labels, kind, route, tests in rows]


def content(intro: list[str], labels: list[str], notes: list[str], backing_rows: list, extra_assumptions=()):
    body = [*intro, "Predictions in the rule's space and the two scores of branch G:",
            "eq:rule-space-eps", "eq:rule-space-xzero", "eq:rule-space-v", "eq:rule-space-u",
            "eq:rule-score-c-G", "eq:rule-score-u-G", *labels]
    return Content(body, [*COMMON_ASSUMPTIONS, *extra_assumptions], backing_rows, notes)
