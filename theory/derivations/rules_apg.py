"""Guidance rule APG, adaptive projected guidance without momentum (issue 13): the equation group
``rules-apg`` and the document derivations/rules-apg.md, printed from `theory/rules.py`."""
from __future__ import annotations

from ..writing import Document, Equation, Group
from . import _rules_common as RC


def equations() -> list:
    from .. import rules as R
    from ..symbols import omega

    _, vals = R.guided_score("apg_clip", "G")
    out = [
        Equation("eq:apg-rule", "D_g", RC.Dc + omega * R.m_r * ((RC.Dc - RC.Du) - (1 - R.eta) * R.c_par * RC.Dc),
                 "APG without momentum: the clipped difference, its part parallel to $D_c$ weighted by $\\eta$.",
                 "rules.guided_prediction"),
        Equation("eq:apg-cpar", r"c_\parallel", vals[R.c_par],
                 "$\\langle\\Delta, D_c\\rangle_d/\\lVert D_c\\rVert_d^2$ in branch G.",
                 "rules.guided_score('apg_clip', 'G')[1]"),
        Equation("eq:apg-mr", "m_r", vals[R.m_r], "The clip factor $\\min(1, \\rho/\\lVert\\Delta\\rVert_d)$ in branch G.",
                 "rules.guided_score('apg_clip', 'G')[1]"),
    ]
    out += RC.drift_equations("apg", "apg_clip")
    out.append(RC.residual_equation("eq:apg-omega-zero", ["apg_clip"], R.omega_zero_residual,
                                    r"\Delta\big|_{\omega = 0}",
                                    "Rule drifts at $\\omega = 0$ minus the conditional drifts, with the threshold "
                                    "(rows: branches G, C x samplers sde, ode).", "rules.omega_zero_residual"))
    out.append(RC.residual_equation("eq:apg-eta-one", ["apg_clip"], R.reduction_residual,
                                    r"\Delta\big|_{\eta = 1,\,\rho\to\infty}",
                                    "Rule drifts at $\\eta = 1$ without threshold minus the cfg drifts.",
                                    "rules.reduction_residual"))
    return out


def content():
    labels = ["eq:apg-rule", "eq:apg-cpar", "eq:apg-mr",
              "The drifts, written in $c_\\parallel$ and $m_r$:",
              *[f"eq:apg-drift-G-{smp}-{x}" for smp in ("sde", "ode") for x in "mv"],
              "At $\\omega = 0$ the rule is the conditional sampler, and with $\\eta = 1$ and no threshold it is cfg:",
              "eq:apg-omega-zero", "eq:apg-eta-one"]
    backing = RC.backing([
        ("eq:apg-omega-zero eq:apg-eta-one", "symbolic identity", "every residual simplifies to 0",
         "test_omega_zero_is_the_conditional_sampler_symbolically test_reduces_to_cfg_symbolically"),
        ("eq:apg-drift-G-sde-m eq:apg-drift-G-sde-v eq:apg-drift-G-ode-m eq:apg-drift-G-ode-v", *RC.SIM,
         RC.SIM_TESTS),
    ])
    notes = ["With $\\eta = 0$ the part of the guidance step along $D_c$ is removed. In branch G the difference "
             "$\\Delta = D_c - D_u$ has a large component along $D_c$, so APG's guidance step is smaller: the mean "
             "shift saturates (near $m(0) = 1.11$ at $\\alpha = 0.3$, $\\sigma^2 = 1$ as $\\omega$ grows), but at equal "
             "mean shift the variance shrinks more than with cfg (`cfg-distortion compare-rules --alpha 0.3 "
             "--rules cfg,apg:0 --omega 0:6:61`).",
             "The momentum buffer of the paper depends on the step sequence and is not a function of $(m, v)$: it is "
             "not in the mean field (nor, yet, in the simulator)."]
    return RC.content(["APG (Sadat et al. 2025, Algorithm 1; diffusers `normalized_guidance`, ComfyUI `nodes_apg`) on "
                       "denoised predictions, without momentum: $\\Delta = D_c - D_u$ clipped to the l2 norm $r$ "
                       "before the projection on $D_c$, with the threshold written per coordinate, "
                       "$\\rho = r/\\sqrt d$ (a finite large-$d$ limit)."], labels, notes, backing)


DOCUMENT = Document("rules-apg", "Guidance rule: adaptive projected guidance (APG)", "step 6 (guidance rules)",
                    ("rules",), groups=(Group("rules-apg", "Guidance rule: APG without momentum", equations),),
                    content=content)
