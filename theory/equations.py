"""Numbered, labelled equations built from the live sympy derivations of :mod:`cfg_distortion.theory`.

Every :class:`Equation` stores the sympy object a theory function returns (never a typed
formula); its LaTeX is printed from that object when a document is rendered. The left-hand
side is only a name (``\\phi_{\\mathrm{ann}}``), the right-hand side is always sympy.

Equations come in groups, one per step of the derivation path (:data:`GROUPS`). A later
theory module adds its equations by adding one :class:`Group` whose ``build`` function
imports the module and returns its equations; :func:`all_equations` collects them in order.

Renderers: :func:`latex_document` (standalone article, compiles with pdflatex; used by
``cfg-distortion equations --format latex``) and :func:`markdown_document`
(``--format markdown``; ``$$`` blocks that render on GitHub). Long sums are broken over
lines at their top-level terms (``split`` in LaTeX, ``aligned`` in Markdown).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Callable

import sympy as sp

from .symbols import latex_names

__all__ = ["Equation", "Group", "GROUPS", "all_equations", "by_label", "expr_latex", "layout", "equation_lines",
           "markdown_equation", "latex_equation", "latex_document", "markdown_document"]

# display-only symbols (vectors, indexed invariants, derivatives of a generic a(t), b(t))
VEC_X, VEC_MU_K, VEC_MU_C, VEC_MPOST = sp.symbols("vec_x vec_mu_k vec_mu_c vec_m_post")
XMU_J, MUMU_J = sp.Symbol("xmu_j", real=True), sp.Symbol("mumu_j", nonnegative=True)
ADOT, BDOT = sp.symbols("adot bdot", real=True)
J_INDEX = sp.Symbol("j", integer=True, positive=True)
DISPLAY_NAMES = {
    VEC_X: "x", VEC_MU_K: r"\mu_k", VEC_MU_C: r"\mu_c", VEC_MPOST: r"\textstyle\sum_{k} w_k \mu_k",
    XMU_J: r"x\cdot\mu_j", MUMU_J: r"\lVert\mu_j\rVert^2", ADOT: r"\dot a_t", BDOT: r"\dot b_t",
}


LINE_WIDTH = 40  # displayed characters per line (see _visual_width) before a sum is broken


@dataclass(frozen=True)
class Equation:
    """``lhs = expr``: ``lhs`` is a LaTeX name, ``expr`` the sympy result of ``source``."""

    label: str  # "eq:..." (unique)
    lhs: str  # LaTeX of the name of the quantity, e.g. r"\phi_{\mathrm{ann}}"
    expr: sp.Basic  # the live sympy object
    description: str  # one sentence; inline math in $...$, no other LaTeX specials
    source: str  # the theory call that produced expr, e.g. "free_energy.phi_annealed()"


def lazy(module: str, function: str) -> Callable:
    """A builder that imports ``cfg_distortion.theory.<module>`` only when called."""
    def build():
        import importlib

        return getattr(importlib.import_module(f"{__package__}.{module}"), function)()
    return build


@dataclass(frozen=True)
class Group:
    """The equations of one derivation step; ``build`` imports its theory module lazily."""

    key: str
    title: str
    build: Callable[[], list[Equation]]


def expr_latex(expr: sp.Basic) -> str:
    """LaTeX of a sympy object in the project's notation (deterministic, no Dummy names)."""
    if any(isinstance(s, sp.Dummy) for s in expr.free_symbols):
        raise ValueError(f"expression has Dummy symbols, whose names are not stable: {expr}")
    names = {**latex_names(expr), **DISPLAY_NAMES}  # symbols.LATEX by name, then display-only symbols
    return sp.latex(expr, symbol_names=names)


def layout(expr: sp.Basic) -> tuple[sp.Expr | None, list[sp.Basic]]:
    """(denominator or None, top-level terms) with ``expr == Add(*terms) / denominator``.

    A sum is split at its terms (in the order sympy's printer uses); a fraction whose
    numerator is a sum is split at the numerator's terms; anything else is one term.
    """
    if isinstance(expr, sp.Add):
        return None, list(expr.as_ordered_terms())
    if isinstance(expr, sp.Expr):
        num, den = sp.fraction(expr)
        if den != 1 and isinstance(num, sp.Add):
            return den, list(num.as_ordered_terms())
    return None, [expr]


def _visual_width(tex: str) -> int:
    """Rough displayed width of LaTeX: a ``\\frac{A}{B}`` counts as the wider of A and B,
    ``\\left``/``\\right`` and braces count nothing, another command counts one."""
    def group(i: int) -> tuple[str, int]:  # content of the brace group opening at tex[i], and its end
        depth = 0
        for j in range(i, len(tex)):
            depth += {"{": 1, "}": -1}.get(tex[j], 0)
            if depth == 0:
                return tex[i + 1:j], j + 1
        return tex[i + 1:], len(tex)

    width, i = 0, 0
    while i < len(tex):
        if tex.startswith("\\frac{", i):
            num, i = group(i + 5)
            den, i = group(i) if i < len(tex) and tex[i] == "{" else ("", i)
            width += max(_visual_width(num), _visual_width(den))
        elif tex[i] == "\\":
            j = i + 1
            while j < len(tex) and tex[j].isalpha():
                j += 1
            name = tex[i + 1:j]
            width += 0 if name in ("left", "right", "textstyle", "quad") else 1
            i = max(j, i + 2) if j == i + 1 else j
        else:
            width += 0 if tex[i] in "{} " else 1
            i += 1
    return width


def equation_lines(eq: Equation, width: int = LINE_WIDTH) -> list[str]:
    """Right-hand side as display lines: one line, or a long expression broken at the
    top-level terms of :func:`layout` (a fraction as ``\\frac{1}{den} \\Big[ ... \\Big]``).

    The first line starts with the first term; each later line starts with its sign.
    Joined, the lines are sympy's LaTeX of ``expr`` (a sum) or of its numerator's terms.
    """
    whole = expr_latex(eq.expr)
    den, terms = layout(eq.expr)
    if _visual_width(whole) <= width or len(terms) == 1:
        return [whole]
    lines: list[str] = []
    current = rf"\frac{{1}}{{{expr_latex(den)}}} \Big[" if den is not None else ""
    for i, term in enumerate(terms):
        text = expr_latex(term)
        if i > 0:
            text = f"- {text[1:].lstrip()}" if text.startswith("-") else f"+ {text}"
        if current and _visual_width(current) + _visual_width(text) > width:
            lines.append(current)
            current = text
        else:
            current = f"{current} {text}".strip()
    lines.append(current + (r" \Big]" if den is not None else ""))
    return lines


def _aligned(eq: Equation, env: str) -> str:
    lines = equation_lines(eq)
    if len(lines) == 1:
        return f"{eq.lhs} = {lines[0]}"
    body = [f"{eq.lhs} &= {lines[0]}"] + [rf"&\quad {line}" for line in lines[1:]]
    return f"\\begin{{{env}}}\n" + " \\\\\n".join(body) + f"\n\\end{{{env}}}"


def latex_equation(eq: Equation) -> str:
    """A numbered, labelled amsmath ``equation`` (``split`` for long sums)."""
    return f"\\begin{{equation}}\\label{{{eq.label}}}\n{_aligned(eq, 'split')}\n\\end{{equation}}"


def markdown_equation(eq: Equation, number: int) -> str:
    """Number, label, sentence and source, then a ``$$`` display block (``aligned`` for long sums)."""
    head = f"**({number})** `{eq.label}`: {eq.description} *From `{eq.source}`.*"
    return f"{head}\n\n$$\n{_aligned(eq, 'aligned')}\n$$"


# ---------------------------------------------------------------- the equations, by step


def _process_generic() -> list[Equation]:
    from .process import forward_process
    from .symbols import a, b, t

    A, B = sp.Function("a")(t), sp.Function("b")(t)
    p = forward_process(A, B, "generic")

    def show(e):  # a(t), b(t) and their derivatives as the symbols a_t, b_t, \dot a_t, \dot b_t
        return e.subs({sp.Derivative(A, t): ADOT, sp.Derivative(B, t): BDOT}).subs({A: a, B: b})

    src = "process.forward_process(a(t), b(t))"
    return [
        Equation("eq:Gamma", r"\Gamma_t", show(p.Gamma),
                 "Per-component variance of $x_t$ given its class, for any forward process $x_t = a_t x_0 + b_t z$.",
                 src + ".Gamma"),
        Equation("eq:snr", r"\mathrm{SNR}_t", show(p.snr),
                 "Signal-to-noise ratio of the class centroid in $x_t$.", src + ".snr"),
        Equation("eq:f", "f_t", show(p.f),
                 "Drift of the forward SDE $dx = f_t x\\,dt + g_t\\,dW$ with the marginals of $x_t$ given $x_0$.",
                 src + ".f"),
        Equation("eq:g2", "g_t^2", show(p.g2),
                 "Squared diffusion of the same forward SDE, solved from the variance equation.", src + ".g2"),
    ]


def _process_presets() -> list[Equation]:
    from .process import PRESETS

    out = []
    for name, p in PRESETS.items():
        tag = rf"^{{\mathrm{{{name}}}}}"
        src = f"process.PRESETS[{name!r}]"
        out += [
            Equation(f"eq:{name}-a", f"a_t{tag}", p.a, f"Signal coefficient of the {name} process.", src + ".a"),
            Equation(f"eq:{name}-b", f"b_t{tag}", p.b, f"Noise coefficient of the {name} process.", src + ".b"),
            Equation(f"eq:{name}-Gamma", rf"\Gamma_t{tag}", p.Gamma,
                     f"Class-conditional variance per component for the {name} process.", src + ".Gamma"),
            Equation(f"eq:{name}-snr", rf"\mathrm{{SNR}}_t{tag}", p.snr,
                     f"Signal-to-noise ratio for the {name} process.", src + ".snr"),
            Equation(f"eq:{name}-f", f"f_t{tag}", p.f, f"Forward drift coefficient of the {name} process.", src + ".f"),
            Equation(f"eq:{name}-g2", rf"\big(g_t{tag}\big)^2", p.g2, f"Forward squared diffusion of the {name} process.",
                     src + ".g2"),
        ]
    return out


def _scores() -> list[Equation]:
    from . import scores as S
    from .symbols import K, mumu, xmu

    cx, cmu = S.score_coefficients()
    g = S.guided_score_coefficients()
    logit_j = S.class_logit().subs({xmu: XMU_J, mumu: MUMU_J})
    weight = sp.exp(S.class_logit()) / sp.Sum(sp.exp(logit_j), (J_INDEX, 1, K))
    return [
        Equation("eq:class-log-density", r"\log p_t(x \mid k)", S.class_log_density(),
                 "Log density of $x_t$ given class $k$, written in the invariants of $x$ and $\\mu_k$.",
                 "scores.class_log_density()"),
        Equation("eq:class-score", r"\nabla_x \log p_t(x \mid k)", cx * VEC_X + cmu * VEC_MU_K,
                 "Class score, from the chain rule in the invariants.", "scores.score_coefficients()"),
        Equation("eq:class-logit", r"\ell_k", S.class_logit(),
                 "The $k$-dependent part of the class log density; the posterior weights are its softmax.",
                 "scores.class_logit()"),
        Equation("eq:posterior-weight", "w_k(x, t)", weight,
                 "Posterior weight of class $k$ given $x_t = x$ (equal class priors).",
                 "scores.class_logit() in a softmax over the K classes"),
        Equation("eq:mixture-gradient", r"\partial_{x_1} \log \textstyle\sum_k e^{l_k}", S.mixture_score_structure(),
                 "The gradient of a log-sum-exp is the posterior average of the component gradients.",
                 "scores.mixture_score_structure()"),
        Equation("eq:unconditional-score", r"\nabla_x \log p_t(x)", cx * VEC_X + cmu * VEC_MPOST,
                 "Unconditional (mixture) score: the class score with $\\mu_k$ replaced by the posterior mean centroid.",
                 "scores.score_coefficients()"),
        Equation("eq:guided-score", r"s_\omega(x, t)",
                 g["coef_x"] * VEC_X + g["coef_target"] * VEC_MU_C + g["coef_post"] * VEC_MPOST,
                 "Guided score $(1 + \\omega) \\nabla \\log p_t(x \\mid c) - \\omega \\nabla \\log p_t(x)$; "
                 "guidance leaves the coefficient of $x$ alone.", "scores.guided_score_coefficients()"),
    ]


def _gaussian_cgfs() -> tuple[sp.Expr, sp.Expr]:
    """Cumulant generating functions per component, integrated here by sympy against N(0, 1):
    log E e^{lambda g} and log E e^{lambda g^2} (the latter for lambda < 1/2)."""
    from .symbols import lam

    g = sp.Symbol("g", real=True)
    c = sp.Symbol("c", positive=True)  # 1 - 2 lambda > 0, so that the second integral converges
    density = sp.exp(-g**2 / 2) / sp.sqrt(2 * sp.pi)
    lin = sp.integrate(sp.exp(lam * g) * density, (g, -sp.oo, sp.oo))
    quad = sp.integrate(sp.exp(-c * g**2 / 2) / sp.sqrt(2 * sp.pi), (g, -sp.oo, sp.oo))
    cgf_sq = sp.expand_log(sp.log(quad), force=True).subs(c, 1 - 2 * lam)
    return sp.simplify(sp.log(lin)), cgf_sq


@cache
def classic_mistake() -> dict[str, sp.Expr]:
    """The REM with the centroid norm fixed, |mu_k|^2 = d (n = 1 - s^2): the classic mistake.

    Only the overlap fluctuates. Its annealed rate, its freezing alpha, and the alpha at which
    the target term meets its frozen rate E(s = sqrt(2 alpha)) on the conditional trajectory.
    """
    from . import classification as C
    from . import free_energy as F
    from .symbols import alpha, n, s

    E = F.energy().subs(n, 1 - s**2)
    s_star = sp.solve(sp.diff(E - F.overlap_rate(), s), s)[0]
    phi_ann = sp.simplify(alpha + (E - F.overlap_rate()).subs(s, s_star))
    freeze = sp.simplify(F.overlap_rate().subs(s, s_star))
    s_max = [r for r in sp.solve(sp.Eq(F.overlap_rate(), alpha), s) if not r.could_extract_minus_sign()][0]
    on_traj = sp.Eq(C.target_term(), E.subs(s, s_max)).subs(C.conditional_trajectory())
    alpha_c = sp.solve(on_traj, alpha)
    if len(alpha_c) != 1:
        raise RuntimeError(f"fixed-norm threshold: expected one root, got {alpha_c}")
    return {"phi_annealed": phi_ann, "freezing_alpha": freeze, "alpha_c": sp.simplify(alpha_c[0])}


def _free_energy() -> list[Equation]:
    from . import free_energy as F
    from .symbols import lam, n, s

    cgf_s, cgf_n = _gaussian_cgfs()
    saddle = F.tilted_saddle()
    mistake = classic_mistake()
    return [
        Equation("eq:cgf-overlap", r"\Lambda_s(\lambda)", cgf_s,
                 "Cumulant generating function of the overlap $\\mu_k \\cdot e \\sim N(0, 1)$, integrated by sympy.",
                 "sympy.integrate over N(0, 1)"),
        Equation("eq:cgf-norm", r"\Lambda_n(\lambda)", cgf_n,
                 "Cumulant generating function per component of the transverse norm (a chi-squared), "
                 "integrated by sympy for $\\lambda < 1/2$.", "sympy.integrate over N(0, 1)"),
        Equation("eq:overlap-rate", "I_s(s)", F.overlap_rate(),
                 "Large-deviation rate of the overlap, the Legendre transform of its cumulant generating function.",
                 "free_energy.overlap_rate()"),
        Equation("eq:norm-rate", "I_n(n)", F.norm_rate(),
                 "Large-deviation rate of the transverse norm, the Legendre transform of its cumulant generating "
                 "function.", "free_energy.norm_rate()"),
        Equation("eq:energy", "E(s, n)", F.energy(),
                 "Logit of a wrong class per dimension in terms of its overlap and transverse norm.",
                 "free_energy.energy()"),
        Equation("eq:saddle-s", r"s_\theta", saddle[s],
                 "Overlap at the maximiser of $\\theta E - I_s - I_n$.", "free_energy.tilted_saddle()[s]"),
        Equation("eq:saddle-n", r"n_\theta", saddle[n],
                 "Transverse norm at the same tilted saddle.", "free_energy.tilted_saddle()[n]"),
        Equation("eq:tilted-free-entropy", r"\max_{s,n}\,[\theta E - I]", F.tilted_free_entropy(),
                 "Value of the tilted saddle, the rate of $\\mathbb{E}\\, e^{\\theta \\ell_k}$.",
                 "free_energy.tilted_free_entropy()"),
        Equation("eq:phi-annealed", r"\phi_{\mathrm{ann}}", F.phi_annealed(),
                 "Annealed (paramagnetic) rate of the wrong-class partition function, valid while the saddle's "
                 "entropy is non-negative.", "free_energy.phi_annealed()"),
        Equation("eq:entropy-saddle", r"\Sigma(\theta)", F.entropy_at_saddle(),
                 "Entropy (log-number per dimension) of the wrong classes that dominate at tilt $\\theta$.",
                 "free_energy.entropy_at_saddle()"),
        Equation("eq:freezing-alpha", r"\alpha_{\mathrm{f}}", F.freezing_alpha(),
                 "Freezing line $\\Sigma(1) = 0$: the annealed branch holds for $\\alpha \\ge \\alpha_{\\mathrm{f}}$.",
                 "free_energy.freezing_alpha()"),
        Equation("eq:frozen-constraint", r"\Sigma\big(\theta = u \Gamma_t / a_t^2\big)", F.frozen_constraint(),
                 "Frozen-branch condition: its root $u$ in $(0, a_t^2/\\Gamma_t]$ fixes the freezing temperature.",
                 "free_energy.frozen_constraint()"),
        Equation("eq:phi-frozen", r"\phi_{\mathrm{frozen}}", F.phi_frozen(),
                 "Frozen (condensed) rate: the energy of the saddle at the root $u$ of the frozen constraint.",
                 "free_energy.phi_frozen()"),
        Equation("eq:fixed-norm-phi-annealed", r"\phi_{\mathrm{ann}}^{\lVert\mu\rVert^2 = d}", mistake["phi_annealed"],
                 "Annealed rate when the centroid norm is wrongly held at $d$ (overlap fluctuations only).",
                 "equations.classic_mistake()['phi_annealed']"),
        Equation("eq:fixed-norm-freezing-alpha", r"\alpha_{\mathrm{f}}^{\lVert\mu\rVert^2 = d}",
                 mistake["freezing_alpha"], "Freezing line of the same fixed-norm model.",
                 "equations.classic_mistake()['freezing_alpha']"),
    ]


def _classification() -> list[Equation]:
    from . import classification as C
    from .process import PRESETS
    from .symbols import m, q, sigma2, t

    traj = C.conditional_trajectory()
    out = [
        Equation("eq:target-term", "T(m)", C.target_term(),
                 "Logit of the target class per dimension, with $\\lVert\\mu_c\\rVert^2/d \\to 1$.",
                 "classification.target_term()"),
        Equation("eq:trajectory-m", r"m\big|_{\mathrm{traj}}", traj[m],
                 "Overlap with the target centroid on the exact conditional trajectory.",
                 "classification.conditional_trajectory()[m]"),
        Equation("eq:trajectory-q", r"q\big|_{\mathrm{traj}}", traj[q],
                 "Squared norm per dimension on the exact conditional trajectory.",
                 "classification.conditional_trajectory()[q]"),
        Equation("eq:boundary-m", r"m_{\mathrm{b}}(q)", C.boundary_m_annealed(),
                 "Classification boundary $T(m) = \\phi_{\\mathrm{ann}}(q)$ solved for $m$ (annealed branch).",
                 "classification.boundary_m_annealed()"),
        Equation("eq:alpha-c-generic", r"\alpha_c", C.alpha_c_generic(),
                 "Classification threshold: $T = \\phi_{\\mathrm{ann}}$ on the conditional trajectory solved for "
                 "$\\alpha$.", "classification.alpha_c_generic()"),
        Equation("eq:alpha-c-snr", r"\alpha_c", C.alpha_c_snr(),
                 "The same threshold in terms of the signal-to-noise ratio: the Gaussian channel capacity.",
                 "classification.alpha_c_snr()"),
        Equation("eq:freezing-is-classification", r"\Sigma(1)\big|_{\mathrm{traj}} - (\alpha - \alpha_c)",
                 C.entropy_on_trajectory(),
                 "On the conditional trajectory the freezing line is the classification line, identically.",
                 "classification.entropy_on_trajectory()"),
        Equation("eq:fixed-norm-alpha-c", r"\alpha_c^{\lVert\mu\rVert^2 = d}", classic_mistake()["alpha_c"],
                 "Threshold that the fixed-norm model would give (frozen branch, on the trajectory): "
                 "smaller than the capacity.", "equations.classic_mistake()['alpha_c']"),
    ]
    for name in PRESETS:
        out.append(Equation(f"eq:alpha-c-{name}", rf"\alpha_c^{{\mathrm{{{name}}}}}(t)", C.alpha_c(name),
                            f"Classification threshold at forward time $t$ for the {name} process.",
                            f"classification.alpha_c({name!r})"))
    out.append(Equation("eq:alpha-c-at-zero", r"\alpha_c(0)", sp.simplify(C.alpha_c("ou").subs(t, 0)),
                        "Threshold at $t = 0$, the same for every process with $a_0 = 1, b_0 = 0$: no larger "
                        "$\\alpha$ is ever classified.", "classification.alpha_c('ou') at t = 0"))
    for name in PRESETS:
        out.append(Equation(f"eq:t-c-{name}", rf"t_c^{{\mathrm{{{name}}}}}(\alpha)", C.t_c(name),
                            f"Classification time of the {name} process, for $0 < \\alpha < \\alpha_c(0)$.",
                            f"classification.t_c({name!r})"))
    out.append(Equation("eq:collapse-time", r"t_c^{\mathrm{ou}}\big|_{\sigma^2 = 0}", C.t_c("ou").subs(sigma2, 0),
                        "Point-mass classes: the collapse time of Biroli, Bonnaire, de Bortoli and Mezard (2024).",
                        "classification.t_c('ou') at sigma2 = 0"))
    return out


def _potential() -> list[Equation]:
    from . import potential as P
    from .symbols import m, v

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


def _dmf() -> list[Equation]:
    from . import dmf as M

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


# Derivation steps in order. A later step adds one Group here (its build imports its module).
def _gaussian_limits() -> list[Equation]:
    from . import gaussian_limit as GL
    from .symbols import m, v

    out = [Equation("eq:snr-variable", "r", 1 + sp.Symbol("SNR_t", positive=True),
                    "Time variable of the Gaussian limit: in $r = 1 + \\mathrm{SNR}_t$ the integrands are powers "
                    "of $r$, from $r = 1 + 1/\\sigma^2$ at $t = 0$ to $r = 1$ at $t = \\infty$.", "gaussian_limit._r")]
    for sampler in ("sde", "ode"):
        kind = "reverse SDE" if sampler == "sde" else "probability-flow ODE"
        for var, name in ((m, "m"), (v, "v")):
            out.append(Equation(f"eq:gauss-K-{name}-{sampler}", rf"K_{{{name}}}^{{\mathrm{{{sampler}}}}}(t)",
                                GL.integrating_factor_exponent(var, sampler),
                                f"Integrated rate of the linear branch-G equation for ${name}$ ({kind}, OU).",
                                f"gaussian_limit.integrating_factor_exponent({name}, {sampler!r})"))
            out.append(Equation(f"eq:gauss-{name}-{sampler}", rf"{name}(0)\big|_{{K \to \infty}}^{{\mathrm{{{sampler}}}}}",
                                GL.final_moment(var, sampler),
                                f"Final {'mean overlap' if name == 'm' else 'transverse variance'} at constant "
                                f"$\\omega$ when branch G holds at all times ({kind}).",
                                f"gaussian_limit.final_moment({name}, {sampler!r})"))
    return out


def _variance_theorem() -> list[Equation]:
    from . import variance as VT

    out = []
    for b in ("G", "C"):
        for sampler in ("sde", "ode"):
            out.append(Equation(f"eq:guidance-excess-{b}-{sampler}",
                                rf"\dot v\big|_{{\mathrm{{{b}}},\,\omega}} - \dot v\big|_{{\mathrm{{{b}}},\,0}}"
                                rf"\ (\mathrm{{{sampler}}})",
                                VT.guidance_excess(b, sampler),
                                f"What guidance adds to the drift of $v$ in branch {b} "
                                f"({'reverse SDE' if sampler == 'sde' else 'probability-flow ODE'}).",
                                f"variance.guidance_excess({b!r}, {sampler!r})"))
    out.append(Equation("eq:v-drift-m-independence", r"\partial \dot v / \partial m",
                        sp.ImmutableMatrix([list(VT.v_drift_independent_of_m().values())]),
                        "The drift of $v$ does not involve $m$ (columns: G sde, G ode, C sde, C ode).",
                        "variance.v_drift_independent_of_m()"))
    return out


GROUPS: list[Group] = [
    Group("process", "Forward process", lambda: _process_generic() + _process_presets()),
    Group("scores", "Scores and posterior weights", _scores),
    Group("free-energy", "Wrong-class free energy (random-energy model)", _free_energy),
    Group("classification", "Classification threshold and time", _classification),
    Group("potential", "Effective potential", _potential),
    Group("dmf", "Mean-field dynamics", _dmf),
    Group("gaussian-limits", "Gaussian limits (K -> infinity, branch G throughout)", _gaussian_limits),
    Group("variance-theorem", "Variance theorem", _variance_theorem),
    Group("schedule-design", "Schedule design (claim 6)", lazy("schedule_design", "equations")),
    Group("finite-d", "Finite-d theory", lazy("finite_d_doc", "equations")),
    Group("divergence", "Distortion as a divergence (kl, w2)", lazy("divergence", "equations")),
    Group("affine", "Affine schedules and the variance-preserving curve", lazy("affine", "equations")),
    Group("frozen", "Frozen wrong classes and capture", lazy("frozen_doc", "equations")),
]


@cache
def grouped() -> tuple[tuple[Group, tuple[Equation, ...]], ...]:
    """Each group with its equations; labels are checked to be unique."""
    out = tuple((g, tuple(g.build())) for g in GROUPS)
    labels = [e.label for _, eqs in out for e in eqs]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise RuntimeError(f"duplicate equation labels: {dup}")
    return out


def all_equations() -> list[Equation]:
    return [e for _, eqs in grouped() for e in eqs]


def by_label() -> dict[str, Equation]:
    return {e.label: e for e in all_equations()}


# ---------------------------------------------------------------- whole documents

_TITLE = "cfg-distortion: derived equations"
_INTRO = ("Every equation below is printed from the sympy object that the toolkit's theory layer "
          "derives; none is typed by hand. Regenerate with cfg-distortion equations. The notation is that of "
          "the theory note docs/theory.md of the repository.")


def _latex_text(text: str) -> str:
    """Escape LaTeX specials outside $...$ (descriptions and sources are plain text otherwise)."""
    parts = text.split("$")
    for i in range(0, len(parts), 2):
        parts[i] = (parts[i].replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("&", r"\&")
                    .replace("%", r"\%").replace("#", r"\#").replace("^", r"\^{}").replace("{", r"\{")
                    .replace("}", r"\}"))
    return "$".join(parts)


def latex_document() -> str:
    """A standalone article (amsmath only) with every equation numbered and labelled."""
    out = [r"\documentclass[11pt]{article}", r"\usepackage{amsmath,amssymb}", r"\allowdisplaybreaks",
           rf"\title{{{_latex_text(_TITLE)}}}", r"\author{}", r"\date{}", r"\begin{document}", r"\maketitle", r"\raggedright", _latex_text(_INTRO)]
    for group, eqs in grouped():
        out.append(rf"\section{{{_latex_text(group.title)}}}")
        for e in eqs:
            out.append(f"{_latex_text(e.description)} (From \\texttt{{{_latex_text(e.source)}}}.)")
            out.append(latex_equation(e))
    out.append(r"\end{document}")
    return "\n\n".join(out) + "\n"


def markdown_document() -> str:
    """The same equations as Markdown with ``$$`` blocks, numbered in order."""
    out = [f"# {_TITLE}", _INTRO]
    number = 0
    for group, eqs in grouped():
        out.append(f"## {group.title}")
        for e in eqs:
            number += 1
            out.append(markdown_equation(e, number))
    return "\n\n".join(out) + "\n"
