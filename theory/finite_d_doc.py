"""The "Finite-d theory" derivation document and its equations (registered in
:mod:`.documents` and :mod:`.equations` by one entry each; everything printed from
:mod:`.finite_d`)."""
from __future__ import annotations

import sympy as sp

_TEST = "tests/test_finite_d.py"


def equations() -> list:
    from . import dmf as DMF
    from . import finite_d as F
    from .equations import Equation

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
    step = F.order_parameter_step("sde")
    out.append(Equation("eq:fd-step-sde-slope", r"\lambda_{t \to s}", step["slope"],
                        "Common slope of $m$ and $x_\\perp$ in the exact SDE step with frozen centroid.",
                        "finite_d.order_parameter_step('sde')['slope']"))
    out.append(Equation("eq:fd-step-sde-shift", r"\beta_{t \to s}", step["shift"],
                        "Shift of $m$ in the exact SDE step with frozen centroid.",
                        "finite_d.order_parameter_step('sde')['shift']"))
    return out


def content():
    from .documents import Backing, Content, pytest_cmd

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
    ]
    assumptions = [
        "$Z$ is replaced by $\\mathbb{E}Z$ (annealed at finite $d$), and the wrong classes' posterior mean by "
        "its annealed value $\\kappa x$: the fluctuations of $Z$ and the components of "
        "$\\sum_{k\\ne c} w_k\\mu_k$ outside the plane of $(\\mu_c, x)$ are neglected. This is accurate where "
        "many wrong classes contribute (paramagnetic regime) and overestimates $Z$ near condensation.",
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
    ]
    notes = [
        "Measured at $\\sigma^2 = 1$, SDE, $\\omega = 3$ (10 centroid draws of 4000 samples each): at "
        "$d = 20$, $\\alpha = 0.3$ the simulator gives $m(0) = 1.4035 \\pm 0.0019$, the finite-$d$ theory "
        "$1.418$ and the DMF $1.298$; at $d = 40$, $\\alpha = 0.15$, $1.1915 \\pm 0.0009$, $1.202$ and $1.138$. "
        "The finite-$d$ theory removes most of the $1/d$ offset of $m$; it overshoots slightly, "
        "consistently with $\\mathbb{E}Z$ overestimating $Z$ at small $K$.",
        "The theory is less accurate for $v$: it predicts a lower $v(0)$ than the simulator at small $d$ "
        "($0.815$ against $0.867$ at $d = 20$, $\\alpha = 0.3$). The annealed $\\kappa x$ contracts $x_\\perp$ "
        "as if infinitely many wrong classes shared the posterior; with a few hundred classes the posterior "
        "mean of the wrong classes is partly condensed on a few centroids and contracts less.",
    ]
    return Content(body, assumptions, backing, notes)
