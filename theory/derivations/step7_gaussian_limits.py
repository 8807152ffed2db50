"""Gaussian limits (step 7 of docs/theory.md): the equations of group ``gaussian-limits`` and the document
derivations/step7-gaussian-limits.md, printed from `theory/gaussian_limit.py`."""
from __future__ import annotations

import sympy as sp

from ..writing import VERIFY, Backing, Content, Document, Equation, Group, pytest_cmd

_TEST_DMF = "tests/test_dmf.py"


def _gaussian_limits() -> list[Equation]:
    from .. import gaussian_limit as GL
    from ..symbols import m, v

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


def _gaussian_limits_content() -> Content:
    body = [
        "If branch G holds for all $t$ (the wrong classes dominate $p_t(x)$ throughout: $K \\to \\infty$ at "
        "fixed $d$, i.e. $\\alpha = \\infty$ in the mean-field solver), guided sampling is CFG between two Gaussians, the class "
        "$N(\\mu_c, \\sigma^2 I)$ and the centroid cloud $N(0, (1 + \\sigma^2) I)$. The branch-G drifts of the "
        "mean-field document are then linear, $d\\,\\mathrm{var}/dt = k(t)\\,\\mathrm{var} - S(t)$, solved by "
        "an integrating factor, $\\mathrm{var}(0) = \\lim_{T\\to\\infty} \\mathrm{var}(T) e^{-K(T)} + "
        "\\int_0^\\infty S(t) e^{-K(t)} dt$ with $K(t) = \\int_0^t k$. For the OU process sympy integrates the "
        "rates:",
        "eq:gauss-K-m-sde", "eq:gauss-K-v-sde", "eq:gauss-K-m-ode", "eq:gauss-K-v-ode",
        "and, after the change of variable",
        "eq:snr-variable",
        "the remaining integrals, which gives the final moments in closed form:",
        "eq:gauss-m-sde", "eq:gauss-v-sde", "eq:gauss-m-ode", "eq:gauss-v-ode",
    ]
    notes = [
        "These are the $K \\to \\infty$ limit of claim 3: with infinitely many classes at fixed $d$ the sample "
        "never leaves branch G, and for $\\omega > 0$ the mean is shifted ($m(0) > 1$) and the variance shrunk "
        "($v(0) < \\sigma^2$), for both samplers. At $\\omega = 0$ they reduce to the class law.",
        "They depend on the forward process only through its SNR path, so ou, ve and flow give the same "
        "numbers (checked numerically; the closed forms are derived for OU).",
    ]
    backing = [
        Backing(("eq:gauss-m-sde", "eq:gauss-v-sde", "eq:gauss-m-ode", "eq:gauss-v-ode"), "independent integration",
                "the DMF integrated with $\\alpha = \\infty$ lands, to 1e-9, on the moment equations of guided "
                "sampling between the class $N(\\mu_c, \\sigma^2 I)$ and the cloud $N(0, (1 + \\sigma^2) I)$, "
                "whose two scores are typed in the check and the test, not taken from theory/ "
                "(`dmf_gaussian_limit_typed_moments`); the closed forms agree with both",
                (VERIFY, pytest_cmd(_TEST_DMF, "test_infinite_classes_follow_two_typed_gaussian_scores"))),
        Backing(("eq:gauss-m-sde", "eq:gauss-v-sde", "eq:gauss-m-ode", "eq:gauss-v-ode"), "limit",
                "at $\\omega = 0$: $m(0) = 1$, $v(0) = \\sigma^2$ (symbolic)",
                (pytest_cmd(_TEST_DMF, "test_gaussian_limit_reduces_to_the_class_law_without_guidance"),)),
    ]
    assumptions = [
        "Branch G at all times, annealed wrong classes: $\\sum_k w_k\\mu_k = \\kappa x$.",
        "Constant $\\omega$; OU forward process; start $m(T) = 0$, $v(T) = a_T^2(1 + \\sigma^2) + b_T^2$, "
        "$T \\to \\infty$.",
    ]
    return Content(body, assumptions, backing, notes)


DOCUMENT = Document(
    'step7-gaussian-limits', 'Gaussian limits', 'step 7', ('gaussian_limit',),
    groups=(Group('gaussian-limits', 'Gaussian limits (K -> infinity, branch G throughout)', _gaussian_limits),),
    content=_gaussian_limits_content,
)
