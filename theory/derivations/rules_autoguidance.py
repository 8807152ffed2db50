"""Guidance rule autoguidance (issue 13): the equation group ``rules-autoguidance`` and the document
derivations/rules-autoguidance.md, printed from `theory/rules.py`."""
from __future__ import annotations

import sympy as sp

from ..writing import Document, Equation, Group
from . import _rules_common as RC


def equations() -> list:
    from .. import rules as R

    bad = R.bad_score()
    out = [Equation("eq:autoguidance-bad-score", r"s_\mathrm{bad}",
                    sp.ImmutableMatrix([[bad.get(R._MU, 0), bad.get(R._XP, 0)]]),
                    "Score of the bad model, the class law with variance $\\sigma^2_\\mathrm{bad}$, along "
                    "$(\\mu_c, x_\\perp)$.", "rules.bad_score()")]
    out += RC.drift_equations("autoguidance", "autoguidance")
    out.append(RC.residual_equation("eq:autoguidance-omega-zero", ["autoguidance"], R.omega_zero_residual,
                                    r"\Delta\big|_{\omega = 0}",
                                    "Rule drifts at $\\omega = 0$ minus the conditional drifts (rows: branches G, C x "
                                    "samplers sde, ode).", "rules.omega_zero_residual"))
    for sampler in ("sde", "ode"):
        out.append(Equation(f"eq:autoguidance-final-v-{sampler}", rf"v(0)\big|_{{\mathrm{{{sampler}}}}}",
                            R.autoguidance_final_moments(sampler)[1],
                            f"Final transverse variance, {RC.SAMPLER_WORDS[sampler]}, OU from the marginal start "
                            "($T \\to \\infty$), at every $\\alpha$ (with $m(0) = 1$).",
                            f"rules.autoguidance_final_moments({sampler!r})[1]"))
    out.append(Equation("eq:autoguidance-as-cfg", r"\Delta\big|_{s_\mathrm{bad} = s_u}",
                        sp.ImmutableMatrix([list(R.autoguidance_as_cfg_residual("G", "ode"))]),
                        "With the unconditional model as the bad one, autoguidance minus cfg (branch G, ODE).",
                        "rules.autoguidance_as_cfg_residual('G', 'ode')"))
    return out


def content():
    labels = ["eq:autoguidance-bad-score", "The drifts:",
              *[f"eq:autoguidance-drift-G-{smp}-{x}" for smp in ("sde", "ode") for x in "mv"],
              "At $\\omega = 0$ the rule is the conditional sampler, and with the unconditional model as the bad one "
              "it is cfg:", "eq:autoguidance-omega-zero", "eq:autoguidance-as-cfg",
              "The drifts are linear in $(m, v)$ and the same in both branches, so the final moments have a closed "
              "form at every $\\alpha$: $m = a_t$ solves the drift of $m$ (both models are centred on $\\mu_c$), so "
              "$m(0) = 1$, and the integrating factor solves the drift of $v$ (after $u = e^{2t}$ and "
              "$z = (\\sigma^2_\\mathrm{bad} - 1 + u)/(\\sigma^2 - 1 + u)$ the integrand is a power of $z$):",
              "eq:autoguidance-final-v-sde", "eq:autoguidance-final-v-ode"]
    backing = RC.backing([
        ("eq:autoguidance-omega-zero eq:autoguidance-as-cfg", "symbolic identity", "every residual simplifies to 0",
         "test_omega_zero_is_the_conditional_sampler_symbolically "
         "test_autoguidance_with_the_unconditional_as_bad_model_is_cfg"),
        ("eq:autoguidance-drift-G-sde-m eq:autoguidance-drift-G-sde-v eq:autoguidance-drift-G-ode-m "
         "eq:autoguidance-drift-G-ode-v", *RC.SIM, RC.SIM_TESTS),
        ("eq:autoguidance-final-v-sde eq:autoguidance-final-v-ode", "independent integration",
         "the generated closed form equals the numerical DMF integration (rtol 1e-10) at several $\\omega$, "
         "$\\sigma^2$, $\\sigma^2_\\mathrm{bad}$, both samplers, $\\alpha = 0.3$ and $\\infty$; the exact-score "
         "sampler reaches it at $d = 2000$", "test_autoguidance_final_moments_in_closed_form "
         "test_k_infinity_sampler_reaches_the_branch_g_dmf_all"),
    ])
    notes = ["Both models are centred on $\\mu_c$, so the guided score is the score of a Gaussian centred on "
             "$a\\mu_c$: no mean shift, only the class variance changes (it shrinks for $\\omega > 0$, "
             "$\\sigma^2_\\mathrm{bad} > \\sigma^2$). The rule never uses the unconditional model, so branches G and "
             "C have the same drift (free of $\\kappa$) and the classification margin does not feed back on it.",
             "At $\\alpha = 0.3$, $\\sigma^2 = 1$, $\\omega = 3$ (OU, SDE) autoguidance:2 ends at $m(0) = 1$, "
             "$v(0) = 0.283$ (`cfg-distortion compare-rules --alpha 0.3`)."]
    return RC.content(["Autoguidance (Karras et al. 2024; EDM2 `gnet(x).lerp(net(x), w)`, $\\omega = w - 1$) with the "
                       "bad model modelled as the exact denoiser of the same class with a larger within-class variance "
                       "$\\sigma^2_\\mathrm{bad}$ (a modelling choice, not the paper's)."], labels, notes, backing,
                      ["The bad model sees the same condition as the good one."])


DOCUMENT = Document("rules-autoguidance", "Guidance rule: autoguidance", "step 6 (guidance rules)", ("rules",),
                    groups=(Group("rules-autoguidance", "Guidance rule: autoguidance", equations),),
                    content=content)
