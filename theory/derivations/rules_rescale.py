"""Guidance rule CFG-rescale (issue 13): the equation groups ``rules`` (shared by the four rule
documents) and ``rules-rescale``, and the document derivations/rules-rescale.md, printed from
`theory/rules.py`."""
from __future__ import annotations

from ..writing import Document, Equation, Group
from . import _rules_common as RC


def equations() -> list:
    from .. import rules as R
    from ..symbols import omega

    out = [Equation("eq:rescale-rule", "P_g", (1 - R.phi + R.phi * R.k_r) * ((1 + omega) * RC.Pc - omega * RC.Pu),
                    "CFG-rescale: the cfg prediction scaled by $1 - \\phi + \\phi k$.", "rules.guided_prediction")]
    for space in R.RESCALE_SPACES:
        _, vals = R.guided_score(f"rescale_{space}", "G")
        out.append(Equation(f"eq:rescale-k-{space}", rf"k\big|_{{\mathrm{{{space}}}}}", vals[R.k_r],
                            f"$k = \\lVert P_c\\rVert_d/\\lVert P_{{cfg}}\\rVert_d$ in branch G, {space} space.",
                            f"rules.guided_score('rescale_{space}', 'G')[1]"))
        out.append(Equation(f"eq:rescale-kx-{space}", rf"k_x\big|_{{\mathrm{{{space}}}}}", vals[R.k_x],
                            f"$k_x = (k - 1) B/A$ in branch G, {space} space.",
                            f"rules.guided_score('rescale_{space}', 'G')[1]"))
    out += RC.drift_equations("rescale", "rescale_v")
    out.append(RC.residual_equation("eq:rescale-omega-zero", ["rescale_v"], R.omega_zero_residual,
                                    r"\Delta\big|_{\omega = 0}",
                                    "Rule drifts at $\\omega = 0$ minus the conditional drifts, v space (rows: "
                                    "branches G, C x samplers sde, ode; the eps space in tests/test_rules.py).",
                                    "rules.omega_zero_residual"))
    out.append(RC.residual_equation("eq:rescale-phi-zero", ["rescale_eps"], R.reduction_residual,
                                    r"\Delta\big|_{\phi = 0}",
                                    "Rule drifts at $\\phi = 0$ minus the cfg drifts, eps space, same rows.",
                                    "rules.reduction_residual"))
    return out


def content():
    labels = ["eq:rescale-rule", *[f"eq:rescale-{k}-{s}" for s in ("eps", "v") for k in ("k", "kx")],
              "The guided score is $k_\\phi s_{cfg} + \\phi k_x x$ with $k_\\phi = 1 - \\phi + \\phi k$; the drifts "
              "(the same form in every space, which enters through $k$ and $k_x$; printed for the v space):",
              *[f"eq:rescale-drift-G-{smp}-{x}" for smp in ("sde", "ode") for x in "mv"],
              "At $\\omega = 0$ the rule is the conditional sampler and at $\\phi = 0$ it is cfg, in both branches "
              "and both samplers:", "eq:rescale-omega-zero", "eq:rescale-phi-zero"]
    backing = RC.backing([
        ("eq:rescale-omega-zero eq:rescale-phi-zero", "symbolic identity", "every residual simplifies to 0",
         "test_omega_zero_is_the_conditional_sampler_symbolically test_reduces_to_cfg_symbolically"),
        ("eq:rescale-drift-G-sde-m eq:rescale-drift-G-sde-v eq:rescale-drift-G-ode-m eq:rescale-drift-G-ode-v",
         *RC.SIM, RC.SIM_TESTS),
    ])
    notes = ["In branch C the two predictions coincide, $k = 1$ and the rule is the conditional sampler. In branch G "
             "$k < 1$ for $\\omega > 0$ where guidance inflates the prediction's norm, so rescale scales the guided "
             "prediction back towards the conditional norm; which coordinates that shrinks depends on the space "
             "(in eps space the whole score, in v space also the identity part $B x$).",
             "At $\\alpha = 0.3$, $\\sigma^2 = 1$, $\\omega = 3$ (OU, SDE) rescale:0.7 in v space ends at "
             "$m(0) = 1.199$, $v(0) = 0.914$ against cfg's 1.298 and 0.965: less mean shift, more variance loss; at "
             "equal mean shift it shrinks the variance more than cfg (`cfg-distortion compare-rules --alpha 0.3`).",
             "Not derived: rescale in the x0 and velocity spaces ($B/A$ diverges at $t = 0$ there)."]
    return RC.content(["CFG-rescale (Lin et al. 2024, Sec. 3.4; diffusers `rescale_noise_cfg`, ComfyUI `RescaleCFG`) "
                       "acts on the prediction $P$ of one space: the cfg prediction is scaled by $1 - \\phi + \\phi k$, "
                       "$k = \\mathrm{std}(P_c)/\\mathrm{std}(P_{cfg})$, one scalar per sample over all coordinates."],
                      labels, notes, backing)


DOCUMENT = Document("rules-rescale", "Guidance rule: CFG-rescale", "step 6 (guidance rules)", ("rules",),
                    groups=(Group("rules", "Guidance rules: prediction spaces and the scores of branch G",
                                  RC.equations),
                            Group("rules-rescale", "Guidance rule: CFG-rescale", equations)),
                    content=content)
