"""Guidance rule CFG-Zero* (issue 13): the equation group ``rules-zero-star`` and the document
derivations/rules-zero-star.md, printed from `theory/rules.py`."""
from __future__ import annotations

import sympy as sp

from ..writing import Document, Equation, Group
from . import _rules_common as RC


def equations() -> list:
    from .. import rules as R
    from ..symbols import omega

    out = [Equation("eq:zero-star-rule", "u_g", (1 + omega) * RC.Pc - omega * sp.Symbol("s^*") * RC.Pu,
                    "CFG-Zero*: $s^* = \\langle u_c, u_u\\rangle/\\lVert u_u\\rVert^2$, on the probability-flow "
                    "velocity; $s^* u_u$ is the projection of $u_c$ on $u_u$.", "rules.guided_prediction")]
    out += RC.drift_equations("zero-star", "zero_star")
    out.append(RC.residual_equation("eq:zero-star-omega-zero", ["zero_star"], R.omega_zero_residual,
                                    r"\Delta\big|_{\omega = 0}",
                                    "Rule drifts at $\\omega = 0$ minus the conditional drifts (rows: branches G, C x "
                                    "samplers sde, ode).", "rules.omega_zero_residual"))
    return out


def content():
    labels = ["eq:zero-star-rule", "The drifts:",
              *[f"eq:zero-star-drift-G-{smp}-{x}" for smp in ("sde", "ode") for x in "mv"],
              "At $\\omega = 0$ the rule is the conditional sampler:", "eq:zero-star-omega-zero"]
    backing = RC.backing([
        ("eq:zero-star-omega-zero", "symbolic identity", "the residual simplifies to 0",
         "test_omega_zero_is_the_conditional_sampler_symbolically"),
        ("eq:zero-star-drift-G-sde-m eq:zero-star-drift-G-sde-v eq:zero-star-drift-G-ode-m "
         "eq:zero-star-drift-G-ode-v", *RC.SIM, RC.SIM_TESTS),
    ])
    notes = ["In branch G the unconditional velocity is a multiple of $x$ (the wrong-class posterior mean is along "
             "$x$), so the projection $s^* u_u$ is the part of $u_c$ along $x$ and guidance acts only orthogonally to "
             "the state. $s^*$ alone diverges where $u_u$ vanishes; the projection, cancelled symbolically, does not. "
             "Zero-init (the first steps set to zero) depends on the step sequence and is not in the mean field.",
             "At $\\alpha = 0.3$, $\\sigma^2 = 1$, $\\omega = 3$ (OU, SDE) CFG-Zero* ends at $m(0) = 1.245$, "
             "$v(0) = 0.908$; at equal mean shift its variance is within 0.01 of cfg's "
             "(`cfg-distortion compare-rules --alpha 0.3`)."]
    return RC.content(["CFG-Zero* (Fan et al. 2025; the authors' `sd3_pipeline.py`, diffusers "
                       "`classifier_free_zero_star_guidance`) on the velocity $u = f x - \\tfrac12 g^2 s$ of the "
                       "probability-flow ODE, which is the flow-matching velocity $\\epsilon - D$ for the flow "
                       "process ($a = 1 - t$, $b = t$) and defines the rule for the others."], labels, notes, backing)


DOCUMENT = Document("rules-zero-star", "Guidance rule: CFG-Zero*", "step 6 (guidance rules)", ("rules",),
                    groups=(Group("rules-zero-star", "Guidance rule: CFG-Zero* (projection form)", equations),),
                    content=content)
