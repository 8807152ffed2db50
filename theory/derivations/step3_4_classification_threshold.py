"""Classification threshold (steps 3-4 of docs/theory.md): the equations of group ``classification`` and
the document derivations/step3-4-classification-threshold.md, printed from `theory/classification.py`."""
from __future__ import annotations

import sympy as sp

from ..writing import VERIFY, Backing, Content, Document, Equation, Group, pytest_cmd

_TEST_CLASS = "tests/test_classification.py"
_TEST_DOCS = "tests/test_documents.py"


def _classification() -> list[Equation]:
    from .. import classification as C
    from ..process import PRESETS
    from ..symbols import m, q, sigma2, t

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
        Equation("eq:fixed-norm-alpha-c", r"\alpha_c^{\lVert\mu\rVert^2 = d}", C.classic_mistake()["alpha_c"],
                 "Threshold that the fixed-norm model would give (frozen branch, on the trajectory): "
                 "smaller than the capacity.", "classification.classic_mistake()['alpha_c']"),
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


def _classification_content() -> Content:
    from ..process import PRESETS

    body = [
        "The target's own logit per dimension, with $m = x\\cdot\\mu_c/d$ and $\\lVert\\mu_c\\rVert^2/d \\to 1$:",
        "eq:target-term",
        "The target's posterior weight tends to one as $d \\to \\infty$ iff $T(m) > \\phi(q)$, with $\\phi$ the "
        "wrong-class rate (annealed branch where $\\Sigma(1) \\ge 0$, frozen otherwise). In the annealed branch "
        "the boundary is explicit:",
        "eq:boundary-m",
        "On the exact conditional trajectory $x_t = a_t\\mu_c + \\sqrt{\\Gamma_t} z$ the order parameters are",
        "eq:trajectory-m", "eq:trajectory-q",
        "and solving $T = \\phi_{\\mathrm{ann}}$ there for $\\alpha$ gives the classification threshold:",
        "eq:alpha-c-generic", "eq:alpha-c-snr",
        "On that trajectory the entropy of the annealed saddle is exactly $\\alpha - \\alpha_c$ (sympy "
        "simplifies the difference to zero):",
        "eq:freezing-is-classification",
        "Per process:",
        *[f"eq:alpha-c-{name}" for name in PRESETS],
        "eq:alpha-c-at-zero",
        "Its inverse, the classification time, exists iff $0 < \\alpha < \\alpha_c(0)$:",
        *[f"eq:t-c-{name}" for name in PRESETS],
        "For point-mass classes it is the collapse time of Biroli, Bonnaire, de Bortoli and Mezard (2024):",
        "eq:collapse-time",
        "With the centroid norm wrongly held fixed (previous document), the target would meet the fixed-norm "
        "frozen rate $E(s = \\sqrt{2\\alpha})$ on the trajectory at",
        "eq:fixed-norm-alpha-c",
        "which is strictly below the capacity for every $\\mathrm{SNR}_t > 0$: dropping the norm moves the "
        "transition.",
    ]
    notes = [
        "**Meaning.** $\\alpha_c(t) = \\frac12\\log(1 + \\mathrm{SNR}_t)$ is the capacity of the Gaussian "
        "channel $\\mu \\mapsto a_t\\mu + N(0, \\Gamma_t)$ with signal power $a_t^2$ and noise $\\Gamma_t$: "
        "$K = e^{\\alpha d}$ codewords $\\mu_k$ are decodable from $x_t$ iff $\\alpha$ is below capacity. "
        "Classification of a diffusion sample is channel decoding.",
        "**Freezing is classification.** For $\\alpha > \\alpha_c$ the wrong classes are annealed "
        "(exponentially many contribute) and $\\phi_{\\mathrm{ann}} - T = \\alpha - \\alpha_c > 0$: they outweigh "
        "the target. For $\\alpha < \\alpha_c$ they are frozen on their few best centroids and the target wins. "
        "On the conditional trajectory the two transitions are the same line. The reason is a Nishimori-type "
        "identity: the tilt $e^{\\ell_k}$ is the Bayes posterior of the class given $x_t$, and on the conditional "
        "trajectory the planted $\\mu_c$ is a typical draw of it, so $\\mu_c$ sits at the annealed saddle "
        "($\\mu_c\\cdot e/\\sqrt d = a_t/\\sqrt{\\Gamma_t + a_t^2} = s_1$): its logit is $T = E(s_1, n_1)$, hence "
        "$\\phi_{\\mathrm{ann}} - T = \\alpha - I(s_1, n_1) = \\Sigma(1)$, and the margin vanishes exactly where the "
        "entropy does. Off that trajectory (guided sampling) the two lines separate, and branch G can be frozen.",
        "**Reading $\\alpha_c(0)$.** $\\alpha_c$ decreases with $t$, so $\\alpha_c(0) = \\frac12\\log(1 + "
        "1/\\sigma^2)$ bounds which $\\alpha$ can be classified at all; for $\\sigma^2 = 0$ it is infinite and "
        "every $\\alpha$ is classified at late enough reverse times.",
    ]
    backing = [
        Backing(("eq:alpha-c-snr", "eq:alpha-c-ou", "eq:alpha-c-ve", "eq:alpha-c-flow"), "closed form",
                "equals Shannon's $\\frac12\\log(1 + P/N)$ written from the process definitions, for three "
                "processes and three $\\sigma^2$; near the end of each process, where $\\alpha_c \\to 0$, too (checks "
                "`alpha_c_late_is_channel_capacity_ou`, `alpha_c_late_is_channel_capacity_ve`, "
                "`alpha_c_late_is_channel_capacity_flow`)",
                (pytest_cmd(_TEST_CLASS, "test_alpha_c_is_the_channel_capacity"), VERIFY)),
        Backing(("eq:boundary-m", "eq:alpha-c-generic"), "closed form",
                "on the conditional trajectory the boundary is Shannon's capacity (the checks above); the annealed "
                "boundary solves $T = \\phi_{\\mathrm{ann}}$ (a brentq root of the margin through both branches "
                "of $\\phi$ agrees with the closed form: a consistency check of this code, not a backing)",
                (pytest_cmd(_TEST_CLASS, "test_alpha_c_is_the_channel_capacity"),
                 pytest_cmd(_TEST_CLASS, "test_annealed_boundary_solves_target_equals_phi"))),
        Backing(("eq:alpha-c-at-zero",), "closed form",
                "$\\alpha_c$ decreases with $t$ (hypothesis, three processes) and $t_c$ does not exist at or "
                "above $\\alpha_c(0)$",
                (pytest_cmd(_TEST_CLASS, "test_alpha_c_is_the_capacity_and_decreases_over_the_whole_process"),
                 pytest_cmd(_TEST_CLASS, "test_never_and_always_classified"))),
        Backing(("eq:freezing-is-classification",), "symbolic identity",
                "`entropy_on_trajectory()` is exactly 0",
                (pytest_cmd(_TEST_CLASS, "test_classification_line_is_the_freezing_line"),)),
        Backing(("eq:t-c-ou", "eq:t-c-ve", "eq:t-c-flow"), "root finding",
                "brentq on the capacity, and $\\alpha_c(t_c(\\alpha)) = \\alpha$ over random inputs (hypothesis)",
                (pytest_cmd(_TEST_CLASS, "test_t_c_is_the_root_of_the_capacity"),
                 pytest_cmd(_TEST_CLASS, "test_t_c_is_where_the_capacity_equals_alpha"))),
        Backing(("eq:collapse-time",), "limit",
                "the published collapse time, and an independent derivation from distances (noncentral "
                "chi-squared large deviations, not the REM over inner products); check `collapse_time_sigma2_0`",
                (pytest_cmd(_TEST_CLASS, "test_sigma2_zero_is_the_collapse_time"), VERIFY)),
        Backing(("eq:fixed-norm-alpha-c",), "closed form",
                "below the capacity at every tested SNR",
                (pytest_cmd(_TEST_DOCS, "test_fixed_norm_threshold_is_below_capacity"),)),
    ]
    assumptions = [
        "$\\lVert\\mu_c\\rVert^2/d \\to 1$ (centroids $N(0, I_d)$); at finite $d$ it fluctuates by "
        "$\\sqrt{2/d}$.",
        "On the conditional trajectory: $\\lVert z\\rVert^2/d \\to 1$ and $\\mu_c\\cdot z/d \\to 0$.",
        "The wrong-class rate of the previous document: $K - 1 \\approx e^{\\alpha d}$, $d \\to \\infty$.",
        "Classification means: the target's posterior weight tends to one (ties at $T = \\phi$ are the "
        "boundary).",
    ]
    return Content(body, assumptions, backing, notes)


DOCUMENT = Document(
    'step3-4-classification-threshold', 'Classification threshold', 'steps 3-4', ('classification',),
    groups=(Group('classification', 'Classification threshold and time', _classification),),
    content=_classification_content,
)
