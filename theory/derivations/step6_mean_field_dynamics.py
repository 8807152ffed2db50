"""Mean-field dynamics (step 6 of docs/theory.md): the equations of group ``dmf`` and the document
derivations/step6-mean-field-dynamics.md, printed from `theory/dmf.py`."""
from __future__ import annotations

import sympy as sp

from ..writing import Backing, Content, Document, Equation, Group, pytest_cmd

_TEST_DOCS = "tests/test_documents.py"


def _dmf() -> list[Equation]:
    from .. import dmf as M

    out = [Equation("eq:posterior-mean-G", r"\kappa", M.posterior_mean_coefficient(),
                    "In branch G the posterior-mean centroid is $\\kappa x$, from the annealed tilted saddle.",
                    "dmf.posterior_mean_coefficient()")]
    for b in M.BRANCHES:
        vec = M.guided_score_vector(b)
        for basis, name in ((M._MU, r"\mu_c"), (M._XP, r"x_\perp")):
            out.append(Equation(f"eq:score-{b}-{basis}".replace("_", ""),
                                rf"s_\omega\big|_{{\mathrm{{{b}}}}} \text{{ along }} {name}",
                                vec.get(basis, sp.Integer(0)),
                                f"Component of the guided score along ${name}$ in branch {b}.",
                                f"dmf.guided_score_vector({b!r})"))
    for b in M.BRANCHES:
        for sampler in M.SAMPLERS:
            dm, dv = M.drifts(b, sampler)
            kind = "reverse SDE" if sampler == "sde" else "probability-flow ODE"
            src = f"dmf.drifts({b!r}, {sampler!r})"
            out.append(Equation(f"eq:drift-{b}-{sampler}-m", rf"\dot m\big|_{{\mathrm{{{b}}},\,\mathrm{{{sampler}}}}}",
                                dm, f"Reverse-time drift of $m$ in branch {b} for the {kind}.", src + "[0]"))
            out.append(Equation(f"eq:drift-{b}-{sampler}-v", rf"\dot v\big|_{{\mathrm{{{b}}},\,\mathrm{{{sampler}}}}}",
                                dv, f"Reverse-time drift of $v$ in branch {b} for the {kind}"
                                + (", with the Ito term." if sampler == "sde" else "."), src + "[1]"))
    residual = sp.ImmutableMatrix([list(M.exactness_residual(b, smp)) for b in M.BRANCHES for smp in M.SAMPLERS])
    out.append(Equation("eq:exactness-residual",
                        r"\big(\dot m + \dot a_t,\ \dot v + \dot\Gamma_t\big)\big|_{\omega = 0,\ m = a_t,\ v = \Gamma_t}",
                        residual,
                        "With $\\omega = 0$ the conditional trajectory $m = a_t$, $v = \\Gamma_t$ solves every "
                        "branch's drifts exactly (rows: G sde, G ode, C sde, C ode).",
                        "dmf.exactness_residual(branch, sampler)"))
    return out


def _dmf_content() -> Content:
    from ..dmf import BRANCHES, SAMPLERS

    drifts = [f"eq:drift-{b}-{smp}-{x}" for b in BRANCHES for smp in SAMPLERS for x in "mv"]
    body = [
        "In reverse time $\\tau$ the samplers are the reverse SDE $dx = [-f_t x + g_t^2 s]\\,d\\tau + g_t\\,dB$ "
        "and the probability-flow ODE $dx = [-f_t x + \\frac12 g_t^2 s]\\,d\\tau$, with $s$ the guided score "
        "of the scores document. Its posterior-mean centroid is $\\mu_c$ in branch C and, in branch G, the "
        "mean of a centroid under the tilt $e^{\\ell_k}$, i.e. the annealed saddle overlap along "
        "$e = x/\\lVert x\\rVert$:",
        "eq:posterior-mean-G",
        "In the basis $x = m\\mu_c + x_\\perp$ the guided score has the components",
        "eq:score-G-muc", "eq:score-G-xperp", "eq:score-C-muc", "eq:score-C-xperp",
        "Projecting the drift on $\\mu_c$ gives $\\dot m$; the drift of $v$ adds, for the SDE, the Ito term "
        "$g_t^2 (d-1)/d \\to g_t^2$ from the transverse noise (the noise itself is $O(d^{-1/2})$ and "
        "vanishes):",
        *drifts,
        "Exactness check: with $\\omega = 0$, on the exact conditional trajectory $m = a_t$, "
        "$v = \\Gamma_t$, for a general forward process ($\\dot a_t = f_t a_t$, "
        "$\\dot\\Gamma_t = 2 f_t \\Gamma_t + g_t^2$), sympy simplifies every residual to zero:",
        "eq:exactness-residual",
    ]
    notes = [
        "The two branches share the conditional drift; guidance enters only in branch G, through the "
        "$\\omega$ terms, where it both pushes $m$ up and contracts $v$ faster. At $\\omega = 0$ the branches "
        "coincide, as they must: the unguided sampler follows the class law whatever the posterior does.",
        "The reverse time derivative is $\\dot m = dm/d\\tau = -dm/dt$; the numeric layer integrates these "
        "drifts in forward time from large $t$ down to 0, switching branch on events of the margin "
        "(`numerics/meanfield/dmf.py`).",
    ]
    backing = [
        Backing(("eq:exactness-residual",), "symbolic identity",
                "every residual simplifies to 0 (both branches, both samplers, general $a_t$, $b_t$)",
                (pytest_cmd(_TEST_DOCS, "test_dmf_conditional_trajectory_is_exact"),)),
        Backing(tuple(drifts), "symbolic identity",
                "at $\\omega = 0$ the drifts of branch G equal those of branch C",
                (pytest_cmd(_TEST_DOCS, "test_dmf_branches_agree_without_guidance"),)),
        Backing(("eq:posterior-mean-G",), "closed form",
                "$\\kappa x$ is the mean of $\\mu$ given $a_t\\mu + \\sqrt{\\Gamma_t} z = x$ for "
                "$\\mu \\sim N(0, I)$ (Gaussian conditioning, written independently)",
                (pytest_cmd(_TEST_DOCS, "test_branch_G_posterior_mean_is_gaussian_conditioning"),)),
    ]
    assumptions = [
        "$d \\to \\infty$: $m$ and $v$ are self-averaging; their noise is $O(d^{-1/2})$ and is dropped.",
        "Branch C: the posterior sits on the target, $\\sum_k w_k\\mu_k = \\mu_c$. Branch G: annealed wrong "
        "classes, $\\sum_k w_k\\mu_k = \\kappa x$.",
        "$\\lVert\\mu_c\\rVert^2 = d$ and $x_\\perp \\perp \\mu_c$ by construction; forward coefficients $f_t$, "
        "$g_t^2$ of the process document.",
    ]
    return Content(body, assumptions, backing, notes)


DOCUMENT = Document(
    'step6-mean-field-dynamics', 'Mean-field dynamics', 'step 6', ('dmf',),
    groups=(Group('dmf', 'Mean-field dynamics', _dmf),),
    content=_dmf_content,
)
