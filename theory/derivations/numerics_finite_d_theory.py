"""Finite-d theory (numerics (finite-d) of docs/theory.md): the equations of group ``finite-d`` and the
document derivations/numerics-finite-d-theory.md, printed from `theory/finite_d.py`."""
from __future__ import annotations

import sympy as sp

from ..writing import Backing, Content, Document, Equation, Group, pytest_cmd

_TEST = "tests/test_finite_d.py"


def equations() -> list:
    from .. import dmf as DMF
    from .. import finite_d as F

    out = [
        Equation("eq:fd-log-expectation", r"\tfrac1d \log \mathbb{E}_\mu e^{\ell(\mu)}", F.wrong_class_log_expectation(),
                 "Exact Gaussian expectation of one wrong class's weight at any $d$, for $\\mu \\sim N(0, I_d)$ and "
                 "$q = \\lVert x\\rVert^2/d$.", "finite_d.wrong_class_log_expectation()"),
        Equation("eq:fd-alpha", r"\alpha_d", F.effective_alpha(),
                 "Rate of the number of wrong classes at finite $d$ (replaces $\\alpha$).",
                 "finite_d.effective_alpha()"),
        Equation("eq:fd-phi", r"\phi_d", F.phi_finite_d(),
                 "Finite-$d$ wrong-class rate $\\frac1d\\log\\mathbb{E}Z$: the annealed rate at $\\alpha = \\alpha_d$.",
                 "finite_d.phi_finite_d()"),
        Equation("eq:fd-kappa", r"\kappa", F.tilted_mean_coefficient(),
                 "Tilted mean of a wrong centroid along $x$, from the same Gaussian integral.",
                 "finite_d.tilted_mean_coefficient()"),
        Equation("eq:fd-margin", r"h_d", F.margin(),
                 "Finite-$d$ margin between the target term and the wrong classes.", "finite_d.margin()"),
        Equation("eq:fd-weight", r"w_c", F.target_weight(),
                 "Posterior weight of the target with $Z$ replaced by $\\mathbb{E}Z$: a smooth switch.",
                 "finite_d.target_weight()"),
    ]
    for sampler in DMF.SAMPLERS:
        kind = "reverse SDE" if sampler == "sde" else "probability-flow ODE"
        for i, var in enumerate("mv"):
            out.append(Equation(f"eq:fd-drift-{sampler}-{var}", rf"\dot {var}\big|_{{d,\,\mathrm{{{sampler}}}}}",
                                F.drifts(sampler)[i],
                                f"Finite-$d$ reverse-time drift of ${var}$ at target weight $w_c$, {kind}"
                                + (" (Ito term at finite $d$)." if (sampler, var) == ("sde", "v") else "."),
                                f"finite_d.drifts({sampler!r})[{i}]"))
    residual = sp.ImmutableMatrix([list(F.mixture_identity(s)) for s in DMF.SAMPLERS])
    out.append(Equation("eq:fd-mixture-residual",
                        r"\dot{(m, v)}\big|_d - w_c \dot{(m, v)}\big|_{\mathrm{C}} - (1 - w_c)\dot{(m, v)}\big|_{\mathrm{G}}",
                        residual, "The finite-$d$ drift is the $w_c$-weighted mixture of the branch drifts "
                        "(rows: sde, ode; $v$ at $d \\to \\infty$).", "finite_d.mixture_identity(sampler)"))
    noise = F.noise_variances("sde")
    out.append(Equation("eq:fd-noise", r"\big(d\langle m\rangle, d\langle v\rangle, d\langle m, v\rangle\big)/d\tau",
                        sp.ImmutableMatrix([[noise["m"], noise["v"], noise["mv"]]]),
                        "Noise of the order parameters per unit reverse time for the SDE ($g_t^2 = 2$ for ou).",
                        "finite_d.noise_variances('sde')"))
    out += [
        Equation("eq:fdk-wrong-logit", r"\ell(u, r)", F.wrong_logit_components(),
                 "Logit of a wrong centroid $\\mu = u\\,x/\\lVert x\\rVert + \\mu_\\perp$ with $u \\sim N(0, 1)$ and "
                 "$r = \\lVert\\mu_\\perp\\rVert^2 \\sim \\chi^2_{d-1}$ independent.", "finite_d.wrong_logit_components()"),
        Equation("eq:fdk-target-logit", r"\ell_c", F.target_logit(),
                 "Logit of the target class for $\\lVert\\mu_c\\rVert^2 = d$, $x\\cdot\\mu_c = m d$.",
                 "finite_d.target_logit()"),
        Equation("eq:fdk-weight", r"\frac{e^{\ell_c}}{e^{\ell_c} + Z}", F.finite_K_definitions()["w"],
                 "Target weight for one draw of the $K - 1$ wrong centroids, $Z$ the sum of their $e^{\\ell_k}$; "
                 "$\\bar w_c$ is its expectation over the draws.", "finite_d.finite_K_definitions()['w']"),
        Equation("eq:fdk-kappa", r"\frac{\sum_{k\ne c} e^{\ell_k}\,\mu_k\cdot x}{(e^{\ell_c} + Z)\lVert x\rVert^2}",
                 F.finite_K_definitions()["kappa"],
                 "Wrong classes' posterior mean along $x$ for one draw, with $U = \\sum_k \\mathrm{softmax}_k u_k$; "
                 "$\\kappa_K$ is its expectation over the draws.", "finite_d.finite_K_definitions()['kappa']"),
        Equation("eq:fdk-annealed-ratio", r"\frac{\mathbb{E}[e^{\ell} u]}{\mathbb{E}[e^{\ell}]}",
                 F.finite_K_annealed_ratio(),
                 "The ratio of expectations is $\\kappa\\lVert x\\rVert$ with the annealed $\\kappa$: "
                 "$\\kappa_K \\to (1 - w_c)\\kappa$ where $Z$ self-averages.", "finite_d.finite_K_annealed_ratio()"),
        Equation("eq:fdk-step-sde-slope", r"\lambda^{K}_{t \to s}", F.finite_K_step("sde")["slope"],
                 "Slope of $m$ and $x_\\perp$ in the exact SDE step for the posterior mean "
                 "$\\bar w_c\\mu_c + \\kappa_K x$ (the shift is that of the annealed step with $w_c = \\bar w_c$).",
                 "finite_d.finite_K_step('sde')['slope']"),
    ]
    step = F.order_parameter_step("sde")
    out.append(Equation("eq:fd-step-sde-slope", r"\lambda_{t \to s}", step["slope"],
                        "Common slope of $m$ and $x_\\perp$ in the exact SDE step with frozen centroid.",
                        "finite_d.order_parameter_step('sde')['slope']"))
    out.append(Equation("eq:fd-step-sde-shift", r"\beta_{t \to s}", step["shift"],
                        "Shift of $m$ in the exact SDE step with frozen centroid.",
                        "finite_d.order_parameter_step('sde')['shift']"))
    return out


def content():
    body = [
        "At finite $d$ the target's posterior weight is $w_c = e^{\\ell_c}/(e^{\\ell_c} + Z)$ with "
        "$\\ell_c = d\\,T(m)$ for $\\lVert\\mu_c\\rVert^2 = d$ and $Z = \\sum_{k \\ne c} e^{\\ell_k}$ over the "
        "$K - 1$ wrong classes. The effective theory replaces $Z$ by its expectation over the centroids. The "
        "logit is a sum over components, so the expectation factorises into one Gaussian integral per "
        "component, which sympy evaluates:",
        "eq:fd-log-expectation",
        "With $\\mathbb{E}Z = (K - 1)\\,\\mathbb{E}e^{\\ell}$ this is the annealed rate of the free-energy "
        "document with $\\alpha$ replaced by",
        "eq:fd-alpha", "eq:fd-phi",
        "and the same integral with an extra factor $\\mu$ gives the posterior-mean centroid of the wrong "
        "classes, $\\kappa x$ (the branch-G coefficient of the mean-field document):",
        "eq:fd-kappa",
        "The switch between the branches is then smooth, of width $1/d$ in the margin:",
        "eq:fd-margin", "eq:fd-weight",
        "The posterior-mean centroid is $M = w_c\\mu_c + (1 - w_c)\\kappa x$. Putting it in the guided score "
        "and projecting the drift as in the mean-field document, with the Ito term $g_t^2 (d - 1)/d$ kept at "
        "finite $d$:",
        "eq:fd-drift-sde-m", "eq:fd-drift-sde-v", "eq:fd-drift-ode-m", "eq:fd-drift-ode-v",
        "Because $M$ is linear in $w_c$, the drift is the $w_c$-weighted mixture of the two branches:",
        "eq:fd-mixture-residual",
        "The noise $g_t\\,dB$ enters $m$ as $\\mu_c\\cdot g_t\\,dB/d$ and $v$ as $2 x_\\perp\\cdot g_t\\,dB/d$; "
        "with $\\lVert\\mu_c\\rVert^2 = d$ their quadratic variations are",
        "eq:fd-noise",
        "so $m$ carries noise of variance $2/d$ per unit time for ou. The noise of $v$ is of the same order "
        "$1/d$ and is kept. Numerically (`numerics/finite_d/effective.py`) the SDE is integrated over many paths with the "
        "simulator's exact step with the centroid frozen over a step, written in $(m, x_\\perp)$: $m$ and "
        "$x_\\perp$ move by one slope, $m$ by a shift, plus Gaussian noise of variance $\\mathrm{var}/d$ "
        "along $\\mu_c$ and $\\mathrm{var}$ per transverse component, so $\\lVert x_\\perp\\rVert^2$ is "
        "sampled exactly:",
        "eq:fd-step-sde-slope", "eq:fd-step-sde-shift",
        "**A finite number of classes.** $Z$ over a few hundred classes is dominated by the few centroids "
        "closest to $x$; it does not self-average, and $\\mathbb{E}Z$ over-counts them. The theory therefore "
        "keeps the ratio inside the expectation (the default, `wrong_classes=\"finite\"`): over the $K - 1$ "
        "i.i.d. wrong centroids, written in their overlap $u$ with $x/\\lVert x\\rVert$ and the norm $r$ of "
        "their remaining part,",
        "eq:fdk-wrong-logit", "eq:fdk-target-logit",
        "the posterior mean is $\\mathbb{E}[\\sum_k w_k\\mu_k \\mid x] = \\bar w_c\\,\\mu_c + \\kappa_K\\,x$, "
        "exactly at any $d$ and $K$ (the wrong centroids' law is invariant under rotations that fix $x$), "
        "with $\\bar w_c$ and $\\kappa_K$ the expectations over the draws of",
        "eq:fdk-weight", "eq:fdk-kappa",
        "Where many classes share the posterior this reduces to the annealed theory, because the ratio of "
        "the expectations is the annealed coefficient:",
        "eq:fdk-annealed-ratio",
        "The step is linear in the posterior mean, so its mean uses $(\\bar w_c, \\kappa_K)$ in place of "
        "$(w_c, (1 - w_c)\\kappa)$:",
        "eq:fdk-step-sde-slope",
        "Numerically the two expectations are estimated without bias at every step by Monte Carlo over the "
        "exact law of $(u, r)$ (16 draws of the $K - 1$ centroids per step, shared by a grid of $q$ values "
        "and fresh at each step, so their error averages over the steps); above $K = 2\\times 10^4$ (or when "
        "$\\alpha d > 36$) the annealed theory is used, with the same $d \\to \\infty$ limit.",
    ]
    assumptions = [
        "The posterior mean of the classes is replaced by its expectation over fresh draws of the wrong "
        "centroids given the current $x$ (finite-$K$: exact for that expectation; annealed: $Z$ replaced by "
        "$\\mathbb{E}Z$, accurate where many wrong classes contribute and overestimating $Z$ near "
        "condensation). What is neglected is the memory of the quenched centroids: in the sampler the same "
        "centroids act all along the path, so $x$ is correlated with the ones that pushed it, and the "
        "fluctuating part of $\\sum_{k\\ne c} w_k\\mu_k$ outside the plane of $(\\mu_c, x)$ accumulates. "
        "Both are $O(1/d)$ and matter at $d \\approx 20$.",
        "Target norm $\\lVert\\mu_c\\rVert^2 = d$ (the simulator's default `--target-norm fixed`); "
        "$K = \\mathrm{round}(e^{\\alpha d})$ as in the simulator, so $\\alpha_d = \\log(K - 1)/d$.",
        "The step freezes $w_c$ and the centroid over a step (the simulator's scheme); at $\\omega = 0$ it is "
        "exact at any step count.",
    ]
    backing = [
        Backing(("eq:fd-log-expectation", "eq:fd-phi", "eq:fd-kappa"), "symbolic identity, quadrature, Monte Carlo",
                "equal to the annealed rate at $\\alpha_d$ and to the branch-G $\\kappa$ (sympy); against "
                "Gauss-Hermite quadrature and a Monte Carlo over $4 \\times 10^5$ centroids at $d = 5$",
                (pytest_cmd(_TEST, "test_wrong_class_expectation_is_the_annealed_rate_symbolically"),
                 pytest_cmd(_TEST, "test_wrong_class_expectation_against_quadrature_and_monte_carlo"))),
        Backing(("eq:fd-drift-sde-m", "eq:fd-drift-sde-v", "eq:fd-drift-ode-m", "eq:fd-drift-ode-v",
                 "eq:fd-mixture-residual", "eq:fd-noise"), "symbolic identity, limit",
                "$w_c \\to 1$ gives branch C, $w_c \\to 0$ branch G; the exact step's mean increment tends to "
                "the drift as the step shrinks",
                (pytest_cmd(_TEST, "test_mixture_drift_reduces_to_the_branches"),
                 pytest_cmd(_TEST, "test_step_increment_matches_the_finite_d_drift"))),
        Backing(("eq:fd-step-sde-slope", "eq:fd-step-sde-shift"), "closed form, limit",
                "at $\\omega = 0$ the paths follow the class law $m \\sim N(1, \\sigma^2/d)$, "
                "$\\mathbb{E}v = \\sigma^2(d-1)/d$ with 20 steps (verify check `finite_d_class_law`); at $d = 10^4$ "
                "$m(0)$ is within 0.005 of the DMF (a consistency of the two theories, not a backing)",
                (pytest_cmd(_TEST, "test_omega_zero_is_unbiased"), pytest_cmd(_TEST, "test_large_d_approaches_the_dmf"),
                 "cfg-distortion verify")),
        Backing(("eq:fd-weight",), "simulation",
                "the exact-score simulator over several centroid draws at the two target points (a `slow` test: "
                "add `-m slow`); the table and figure at $d = 20..80$: `cfg-distortion validate --quick`",
                (pytest_cmd(_TEST, "test_validation_at_the_target_points"),)),
        Backing(("eq:fdk-wrong-logit", "eq:fdk-target-logit", "eq:fdk-weight", "eq:fdk-kappa"), "Monte Carlo",
                "the finite-$K$ expectations from the $(u, r)$ law against draws of $K - 1$ whole centroids "
                "$\\mu \\sim N(0, I_d)$ for a fixed $x$ ($d = 20$, $K = 60$, two points; 4 SEM)",
                (pytest_cmd(_TEST, "test_finite_K_expectation_against_whole_centroid_draws"),)),
        Backing(("eq:fdk-annealed-ratio", "eq:fdk-step-sde-slope"), "symbolic identity",
                "sympy's Gaussian integral gives the annealed $\\kappa\\lVert x\\rVert$; with "
                "$\\kappa_K = (1 - w_c)\\kappa$ the step is the annealed step (both samplers)",
                (pytest_cmd(_TEST, "test_finite_K_step_reduces_to_the_annealed_step"),)),
        Backing(("eq:fdk-step-sde-slope",), "simulation",
                "the exact-score sampler with the wrong centroids re-drawn at every step (the dynamics whose "
                "posterior mean the theory averages exactly) agrees with the theory within 0.01 in $m$ and $v$ "
                "at $d = 20$, $\\alpha = 0.3$ (a `slow` test)",
                (pytest_cmd(_TEST, "test_finite_K_theory_is_the_memoryless_simulator"),)),
    ]
    notes = [
        "Measured at $\\sigma^2 = 1$, SDE, $\\omega = 3$, 400 steps, 8 centroid draws of 1000 samples "
        "(`python -m pytest -m slow tests/test_finite_d.py -k target_points`). At $d = 20$, $\\alpha = 0.3$ "
        "($K = 403$) the simulator gives $m(0) = 1.4051 \\pm 0.0034$, $v(0) = 0.8640 \\pm 0.0031$; the "
        "finite-$K$ theory $1.4166$, $0.8338$ (gaps $+0.012$, $-0.030$), the annealed one $1.4194$, $0.8120$ "
        "($+0.014$, $-0.052$), the DMF $1.298$, $0.965$. At $d = 40$, $\\alpha = 0.15$ ($K = 403$): simulator "
        "$1.1907 \\pm 0.0017$, $0.9580 \\pm 0.0031$; finite-$K$ $1.1982$, $0.9514$ ($+0.007$, $-0.007$); "
        "annealed $1.2007$, $0.9474$ ($+0.010$, $-0.011$); DMF $1.138$, $0.993$.",
        "What the finite-$K$ theory leaves at $d = 20$ is not in the posterior mean it averages: the sampler "
        "with the $K - 1$ wrong centroids re-drawn at every step gives $m = 1.411$, $v = 0.834$ (4 draws of "
        "1000 samples), the theory's numbers, while the same sampler with fixed centroids gives $v = 0.864$. "
        "The missing $+0.03$ in $v$ is the memory of the quenched centroids: the guidance pushes $x$ away "
        "from the wrong centroids that dominate the posterior, those same centroids keep acting, and $x$ ends "
        "anti-correlated with them, so they contract it less than fresh ones would. A theory of it needs "
        "the two-time correlations of the posterior mean along the path (a dynamical cavity computation), "
        "which this one-time theory does not have. The effect falls fast with $d$: at $d = 40$ the theory "
        "is within $0.007$ in $v$.",
    ]
    return Content(body, assumptions, backing, notes)


DOCUMENT = Document('numerics-finite-d-theory', 'Finite-d theory', 'numerics (finite-d)', ('finite_d',),
                    groups=(Group('finite-d', 'Finite-d theory', equations),), content=content)
