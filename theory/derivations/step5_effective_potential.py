"""Effective potential (step 5 of docs/theory.md): the equations of group ``potential`` and the document
derivations/step5-effective-potential.md, printed from `theory/potential.py`."""
from __future__ import annotations

import sympy as sp

from ..writing import Backing, Content, Document, Equation, Group, pytest_cmd

_TEST_DOCS = "tests/test_documents.py"


def _potential() -> list[Equation]:
    from .. import potential as P
    from ..symbols import m, v

    out = [Equation("eq:log-class-density-per-d", r"\tfrac{1}{d}\log p_t(x \mid c)", P.log_class_density(),
                    "Log density of the target class per dimension in the order parameters $m$, $v$.",
                    "potential.log_class_density()")]
    for b, what in (("G", "wrong classes dominate (annealed rate)"), ("C", "the target class dominates")):
        out.append(Equation(f"eq:log-marginal-{b}", rf"\tfrac{{1}}{{d}}\log p_t(x)\big|_{{\mathrm{{{b}}}}}",
                            P.log_marginal_density(b),
                            f"Log mixture density per dimension in branch {b}, where {what}.",
                            f"potential.log_marginal_density({b!r})"))
    for b in P.BRANCHES:
        out.append(Equation(f"eq:potential-{b}", rf"V_{{\mathrm{{{b}}}}}(m, v)", P.potential(b),
                            f"Effective potential of guided sampling in branch {b}.", f"potential.potential({b!r})"))
    out.append(Equation("eq:shell-entropy", r"F - V", sp.simplify(P.free_energy("G") - P.potential("G")),
                        "Entropy of the transverse shell: the typical $(m, v)$ minimise $F = V - \\log(v)/2$, "
                        "in both branches.", "potential.free_energy('G') - potential.potential('G')"))
    for b in P.BRANCHES:
        mins = P.minimum(b)
        out.append(Equation(f"eq:minimum-{b}-m", rf"m^*_{{\mathrm{{{b}}}}}", mins[m],
                            f"Overlap at the minimum of $F$ in branch {b}.", f"potential.minimum({b!r})[m]"))
        out.append(Equation(f"eq:minimum-{b}-v", rf"v^*_{{\mathrm{{{b}}}}}", mins[v],
                            f"Transverse variance at the minimum of $F$ in branch {b}.",
                            f"potential.minimum({b!r})[v]"))
    out.append(Equation("eq:static-gap", r"F_{\mathrm{G}}^* - F_{\mathrm{C}}^*", P.static_gap(),
                        "Difference of the two branch minima; the static transition is where it changes sign.",
                        "potential.static_gap()"))
    out.append(Equation("eq:dynamical-margin", r"h\big(m^*_{\mathrm{G}}, v^*_{\mathrm{G}}\big)",
                        P.dynamical_margin(),
                        "Classification margin $T - \\phi_{\\mathrm{ann}}$ at the G minimum; the dynamical "
                        "transition is where it turns positive.", "potential.dynamical_margin()"))
    return out


def _potential_content() -> Content:
    body = [
        "The guided sampler targets $p_t(x \\mid c)^{1+\\omega} p_t(x)^{-\\omega}$. Its effective potential "
        "$V(m, v; t) = -\\frac{1}{d}\\log[p_t(x \\mid c)^{1+\\omega} p_t(x)^{-\\omega}]$ at large $d$ needs two "
        "log densities per dimension in the order parameters $m = x\\cdot\\mu_c/d$ and "
        "$v = \\lVert x - m\\mu_c\\rVert^2/d$. The class term:",
        "eq:log-class-density-per-d",
        "The mixture term is the $k$-independent part, $-\\alpha$, and $\\frac{1}{d}\\log\\sum_k e^{\\ell_k} "
        "\\to \\max(T(m), \\phi(q))$ (target term against wrong-class rate). This gives two branches: G, where "
        "the wrong classes dominate ($\\phi_{\\mathrm{ann}} > T$) and $p_t(x)$ is the density of the centroid "
        "cloud $N(0, (a_t^2 + \\Gamma_t) I)$, and C, where the target dominates and $p_t(x) = p_t(x \\mid c)/K$:",
        "eq:log-marginal-G", "eq:log-marginal-C",
        "eq:potential-G", "eq:potential-C",
        "The order parameters also carry the entropy of the transverse shell "
        "($\\mathrm{vol}\\{\\lVert x_\\perp\\rVert^2 = d v\\} \\propto v^{(d-3)/2}$), so their typical values "
        "minimise $F = V - \\frac12\\log v$:",
        "eq:shell-entropy",
        "eq:minimum-G-m", "eq:minimum-G-v", "eq:minimum-C-m", "eq:minimum-C-v",
        "The static transition is where the two minima are equal, the dynamical one where the G minimum "
        "leaves region G (the margin $h = T - \\phi_{\\mathrm{ann}}$ evaluated there turns positive):",
        "eq:static-gap", "eq:dynamical-margin",
    ]
    notes = [
        "**Guidance is inert in branch C**: its minimum is the class law ($m^* = a_t$, $v^* = \\Gamma_t$) for "
        "every $\\omega$; $\\omega$ only adds the constant $-\\alpha\\omega$ to $V_{\\mathrm{C}}$.",
        "**Guidance distorts in branch G**: it is CFG between two Gaussians, the class and the centroid "
        "cloud. For $\\omega > 0$ its minimum has $m^* > a_t$ (mean shift along $\\mu_c$) and "
        "$v^* < \\Gamma_t$ (variance shrinkage); at $\\omega = 0$ it is the class law again. Whether sampling "
        "sees this distortion depends on when the trajectory leaves branch G, which the margin "
        "$h(m^*_{\\mathrm{G}}, v^*_{\\mathrm{G}})$ locates; at $\\omega = 0$ it reduces to $\\alpha_c - \\alpha$, the "
        "classification threshold of the previous document.",
        "**What $V$ is, and what it is not.** Its minima are the typical $(m, v)$ of the tilted density "
        "$p_t(x \\mid c)^{1+\\omega} p_t(x)^{-\\omega}$ at each $t$ separately. That family is not the path of "
        "marginals of the guided sampler: tilting does not commute with the noising, so the sampler's law at "
        "$t$ is not the tilt of $p_t$. Its static and dynamical transitions are transitions of the tilted "
        "family, not the DMF switch. At $(\\alpha, \\omega, \\sigma^2) = (0.3, 3, 1)$ the annealed G minimum at "
        "$t = 0$ is $(m, v) = (1.6, 0.4)$ (with the quenched $\\phi$, which `numerics` uses: $(1.96, 0.49)$) "
        "while the DMF with the same branch-G drifts (branch G throughout, $\\alpha = \\infty$) ends at "
        "$(1.875, 0.283)$ (SDE) and $(2.217, 0.125)$ (ODE); the dynamical transition of "
        "$V$ is at $t = 0.944$ while the DMF switches at $1.039$ (SDE) and $1.073$ (ODE). The potential says "
        "where guidance would push a sample that had time to equilibrate; the switch time and the final "
        "distortion come from the mean-field dynamics of step 6.",
    ]
    backing = [
        Backing(("eq:log-marginal-G",), "closed form",
                "equals the log density of $N(0, (a_t^2 + \\Gamma_t) I_d)$ per dimension, the law of "
                "$a_t\\mu + \\sqrt{\\Gamma_t} z$ with $\\mu \\sim N(0, I_d)$, written independently",
                (pytest_cmd(_TEST_DOCS, "test_branch_G_marginal_is_the_centroid_cloud"),)),
        Backing(("eq:minimum-G-m", "eq:minimum-G-v", "eq:minimum-C-m", "eq:minimum-C-v"), "limit",
                "at $\\omega = 0$ both minima are the class law $m = a_t$, $v = \\Gamma_t$; for $\\omega > 0$ the G "
                "minimum has $m^* > a_t$ and $v^* < \\Gamma_t$ (symbolic)",
                (pytest_cmd(_TEST_DOCS, "test_potential_minima_and_the_omega_zero_limit"),)),
        Backing(("eq:dynamical-margin",), "limit",
                "at $\\omega = 0$ the margin is $\\alpha_c - \\alpha$ with $\\alpha_c$ of the classification document",
                (pytest_cmd(_TEST_DOCS, "test_dynamical_margin_at_omega_zero_is_the_threshold"),)),
        Backing(("eq:static-gap", "eq:dynamical-margin"), "numerical integration",
                "the potential's transitions and minima set beside the DMF switch and end state at one point, "
                "computed from both (they differ: the numbers of the note)",
                (pytest_cmd("tests/test_frozen_g.py", "test_potential_transitions_are_not_the_dmf_switch"),)),
    ]
    assumptions = [
        "$d \\to \\infty$ with $K = e^{\\alpha d}$, $\\lVert\\mu_c\\rVert^2/d \\to 1$, equal class priors.",
        "$\\frac{1}{d}\\log\\sum_k e^{\\ell_k} \\to \\max(T, \\phi)$: a sum of two exponentially large terms is "
        "dominated by the larger one.",
        "Branch G is written with the annealed wrong-class rate $\\phi_{\\mathrm{ann}}$ here; the numeric layer "
        "uses the quenched rate, frozen branch included, for the margin and inside $V_{\\mathrm{G}}$ (the frozen "
        "G minimum: the frozen-wrong-classes document).",
        "$V$ is defined up to constants independent of $(m, v)$; only differences of $F$ matter.",
    ]
    return Content(body, assumptions, backing, notes)


DOCUMENT = Document(
    'step5-effective-potential', 'Effective potential', 'step 5', ('potential',),
    groups=(Group('potential', 'Effective potential', _potential),),
    content=_potential_content,
)
