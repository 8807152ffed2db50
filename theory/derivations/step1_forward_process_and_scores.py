"""Forward process and scores (step 1 of docs/theory.md): the equations of group ``process``, group
``scores`` and the document derivations/step1-forward-process-and-scores.md, printed from
`theory/process.py`, `theory/scores.py`."""
from __future__ import annotations

import sympy as sp

from ..writing import ADOT, BDOT, J_INDEX, MUMU_J, VEC_MPOST, VEC_MU_C, VEC_MU_K, VEC_X, VERIFY, XMU_J, Backing, Content, Document, Equation, Group, pytest_cmd

_TEST_PROCESS = "tests/test_process.py"
_TEST_SCORES = "tests/test_scores.py"


def _process_generic() -> list[Equation]:
    from ..process import forward_process
    from ..symbols import a, b, t

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
    from ..process import PRESETS

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
    from .. import scores as S
    from ..symbols import K, mumu, xmu

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


def _process() -> list[Equation]:
    return _process_generic() + _process_presets()


def _scores_content() -> Content:
    presets = []
    from ..process import PRESETS

    for name in PRESETS:
        presets += [f"The `{name}` preset:"] + [f"eq:{name}-{q}" for q in ("a", "b", "Gamma", "snr", "f", "g2")]
    body = [
        "At forward time $t$ the data of class $c$, $x_0 \\sim N(\\mu_c, \\sigma^2 I_d)$, become "
        "$x_t = a_t x_0 + b_t z \\sim N(a_t \\mu_c, \\Gamma_t I_d)$. The whole theory depends on the process only "
        "through $a_t$ and $\\Gamma_t$, and the samplers through the coefficients $f_t, g_t^2$ of the forward SDE "
        "with the same marginals, which sympy solves from the mean and variance equations "
        "$\\dot a_t = f_t a_t$ and $\\tfrac{d}{dt} b_t^2 = 2 f_t b_t^2 + g_t^2$:",
        "eq:Gamma", "eq:snr", "eq:f", "eq:g2",
        "The three presets are specialisations of these generic forms.",
        *presets,
        "The class log density depends on $x$ and $\\mu_k$ only through $\\lVert x\\rVert^2$, $x\\cdot\\mu_k$ and "
        "$\\lVert\\mu_k\\rVert^2$, so the chain rule gives every score as a combination of $x$ and centroids:",
        "eq:class-log-density", "eq:class-score",
        "Only the logit depends on $k$. The posterior weights are its softmax, and sympy's derivative of a "
        "log-sum-exp is the posterior average of the component gradients, so the mixture score is the class "
        "score with $\\mu_k$ replaced by the posterior mean centroid:",
        "eq:class-logit", "eq:posterior-weight", "eq:mixture-gradient", "eq:unconditional-score",
        "The guided score $(1 + \\omega)\\nabla\\log p_t(x \\mid c) - \\omega\\nabla\\log p_t(x)$:",
        "eq:guided-score",
    ]
    notes = [
        "Guidance does not touch the coefficient of $x$; the coefficients of $\\mu_c$ and of the posterior mean "
        "add up to the class coefficient $a_t/\\Gamma_t$ for every $\\omega$. So the guided score is the "
        "conditional score plus $\\omega\\, a_t/\\Gamma_t$ times $\\mu_c - \\sum_k w_k \\mu_k$: it pushes away from "
        "the posterior mean centroid, and it is inert wherever the posterior already sits on the target "
        "($w_c \\to 1$). Whether it does, at large $d$ with $K = e^{\\alpha d}$ classes, is the question of the "
        "next two documents.",
    ]
    backing = [
        Backing(("eq:f", "eq:g2"), "numerical integration",
                "integrating the mean and variance equations with `solve_ivp` reproduces $a_t/a_{t_0}$ and the "
                "variance of $x_t$ given $x_{t_0}$, for each preset",
                (pytest_cmd(_TEST_PROCESS, "test_sde_coefficients_reproduce_the_marginals"),)),
        Backing(("eq:Gamma", "eq:snr"), "Monte Carlo",
                "the sample variance of $a_t x_0 + b_t z$ (400 000 draws) is $\\Gamma_t$ within 5 SEM",
                (pytest_cmd(_TEST_PROCESS, "test_gamma_and_snr_are_the_class_variance"),)),
        Backing(("eq:class-score", "eq:unconditional-score", "eq:guided-score"), "finite differences",
                "the generated scores equal mpmath finite differences of the log mixture density "
                "(checks `score_conditional_fd`, `score_unconditional_fd`, `score_guided_fd`) and scipy central "
                "differences for three values of $\\omega$",
                (VERIFY, pytest_cmd(_TEST_SCORES, "test_guided_score_matches_finite_difference"))),
        Backing(("eq:class-logit", "eq:posterior-weight"), "closed form",
                "the softmax of the logit equals Bayes' rule computed from scipy densities",
                (pytest_cmd(_TEST_SCORES, "test_posterior_weights_are_bayes_rule"),)),
        Backing(("eq:mixture-gradient",), "symbolic identity",
                "the structure of sympy's derivative of the log-sum-exp is checked",
                (pytest_cmd(_TEST_SCORES, "test_mixture_gradient_is_posterior_average"),)),
        Backing(("eq:guided-score",), "symbolic identity",
                "guidance leaves the coefficient of $x$ alone and conserves the centroid coefficient",
                (pytest_cmd(_TEST_SCORES, "test_guidance_leaves_the_coefficient_of_x_alone"),)),
    ]
    assumptions = [
        "Data: $x_0 \\mid c \\sim N(\\mu_c, \\sigma^2 I_d)$ with equal class priors $1/K$.",
        "Forward process $x_t = a_t x_0 + b_t z$, $z \\sim N(0, I_d)$ independent of $x_0$, $a_t > 0$ "
        "differentiable; presets `ou`, `ve`, `flow`.",
        "No limit is taken here: the scores and weights are exact at every finite $d$ and $K$.",
    ]
    return Content(body, assumptions, backing, notes)


DOCUMENT = Document(
    'step1-forward-process-and-scores', 'Forward process and scores', 'step 1', ('process', 'scores'),
    groups=(Group('process', 'Forward process', _process), Group('scores', 'Scores and posterior weights', _scores)),
    content=_scores_content,
)
