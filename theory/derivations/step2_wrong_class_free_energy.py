"""Wrong-class free energy (step 2 of docs/theory.md): the equations of group ``free-energy`` and the
document derivations/step2-wrong-class-free-energy.md, printed from `theory/free_energy.py`."""
from __future__ import annotations

from ..writing import VERIFY, Backing, Content, Document, Equation, Group, pytest_cmd

_TEST_FREE = "tests/test_free_energy.py"
_TEST_DOCS = "tests/test_documents.py"


def _free_energy() -> list[Equation]:
    from .. import classification as C
    from .. import free_energy as F
    from ..symbols import n, s

    cgf_s, cgf_n = F.gaussian_cgfs()
    saddle = F.tilted_saddle()
    mistake = C.classic_mistake()
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
                 "classification.classic_mistake()['phi_annealed']"),
        Equation("eq:fixed-norm-freezing-alpha", r"\alpha_{\mathrm{f}}^{\lVert\mu\rVert^2 = d}",
                 mistake["freezing_alpha"], "Freezing line of the same fixed-norm model.",
                 "classification.classic_mistake()['freezing_alpha']"),
    ]


def _free_energy_content() -> Content:
    body = [
        "With the target class $c$ and $x$ fixed, the wrong classes enter the mixture through "
        "$Z(x) = \\sum_{k \\ne c} e^{\\ell_k}$, a sum of $K - 1 \\approx e^{\\alpha d}$ independent terms. Its rate "
        "$\\phi = \\lim \\frac{1}{d}\\log Z$ is a random-energy-model computation. Write $\\lVert x\\rVert^2 = q d$ "
        "and split each centroid along $e = x/\\lVert x\\rVert$ and across it: the overlap "
        "$s = \\mu_k\\cdot e/\\sqrt d$ and the transverse norm $n = \\lVert\\mu_k - (\\mu_k\\cdot e)e\\rVert^2/d$ "
        "are independent. Their cumulant generating functions, integrated by sympy against $N(0, 1)$:",
        "eq:cgf-overlap", "eq:cgf-norm",
        "Their Legendre transforms are the large-deviation rates, $P(s, n) \\approx e^{-d(I_s + I_n)}$:",
        "eq:overlap-rate", "eq:norm-rate",
        "The logit is $d$ times an energy linear in $s^2$, $s$ and $n$:",
        "eq:energy",
        "The centroids that dominate $\\mathbb{E}\\sum_k e^{\\theta \\ell_k}$ sit at the maximiser of "
        "$\\theta E - I$, found by sympy:",
        "eq:saddle-s", "eq:saddle-n", "eq:tilted-free-entropy",
        "At $\\theta = 1$ this is the annealed rate $\\frac{1}{d}\\log\\mathbb{E}Z$ (paramagnetic branch):",
        "eq:phi-annealed",
        "It is the quenched rate only while exponentially many terms sit at the saddle, i.e. while their "
        "entropy is non-negative:",
        "eq:entropy-saddle", "eq:freezing-alpha",
        "Below the freezing line the sum condenses on its few largest terms (frozen branch, Derrida's REM; "
        "equivalently Parisi's 1RSB formula $\\phi = \\min_{0 < \\theta \\le 1} (\\alpha + \\max[\\theta E - I])"
        "/\\theta$). The freezing temperature solves $\\Sigma(\\theta) = 0$; in the variable $u = \\theta a_t^2/"
        "\\Gamma_t$ the constraint is monotone, so a bracketed root finder solves it:",
        "eq:frozen-constraint", "eq:phi-frozen",
        "**The classic mistake.** Holding the centroid norm at its typical value, $\\lVert\\mu_k\\rVert^2 = d$ "
        "(i.e. $n = 1 - s^2$), keeps only the overlap fluctuations. The same steps then give",
        "eq:fixed-norm-phi-annealed", "eq:fixed-norm-freezing-alpha",
        "which differ from the annealed rate and the freezing line above at order one.",
    ]
    notes = [
        "Why the norm matters: the logit rewards overlap with $x$ but penalises $\\lVert\\mu_k\\rVert^2$ through "
        "$-a_t^2\\lVert\\mu_k\\rVert^2/(2\\Gamma_t)$. The wrong classes that dominate $Z$ are atypical twice: "
        "they have a large overlap and a transverse norm $n_\\theta < 1$, smaller than typical. A "
        "large-deviation cost of order one is paid for that norm, and the rate, the entropy and hence the "
        "transition all move when it is dropped (the classification document shows the threshold it would "
        "predict).",
        "The frozen rate is continuous with the annealed one across the freezing line and lies below it "
        "(Jensen), as the quenched checks confirm.",
    ]
    backing = [
        Backing(("eq:cgf-overlap", "eq:cgf-norm", "eq:overlap-rate", "eq:norm-rate"), "symbolic identity",
                "the Legendre transforms of the cumulant generating functions displayed here are the rates of "
                "`free_energy`",
                (pytest_cmd(_TEST_DOCS, "test_displayed_cgfs_give_the_rates"),)),
        Backing(("eq:overlap-rate", "eq:norm-rate"), "limit",
                "exact Gaussian and chi-squared tail probabilities (scipy) at $d = 4000$ have these exponents "
                "within $3\\log d/d$",
                (pytest_cmd(_TEST_FREE, "test_overlap_rate_is_the_gaussian_tail_exponent"),
                 pytest_cmd(_TEST_FREE, "test_norm_rate_is_the_chi2_tail_exponent"))),
        Backing(("eq:phi-annealed",), "closed form",
                "sympy integrates $\\mathbb{E}\\,e^{\\ell_k}$ one component at a time, with no saddle point; the "
                "result equals $\\phi_{\\mathrm{ann}} - \\alpha$",
                (pytest_cmd(_TEST_FREE, "test_annealed_rate_is_the_exact_gaussian_integral"),)),
        Backing(("eq:phi-annealed",), "Monte Carlo",
                "$\\frac{1}{d}\\log$ of the mean of $e^{\\ell_k}$ over two million sampled centroids at $d = 6$, "
                "within 5 SEM (check `annealed_rate_monte_carlo`)",
                (VERIFY,)),
        Backing(("eq:phi-annealed", "eq:freezing-alpha", "eq:frozen-constraint", "eq:phi-frozen"), "exact log-sum-exp",
                "exact log-sum-exp over $K = e^{\\alpha d}$ sampled centroids (up to 1.5 million) in the annealed "
                "branch ($d = 40$) and the frozen branch (a fit in $1/d$ over $d = 30, 45, 71$ after the extreme-value "
                "shift, whose limit must reject the annealed value, 0.25 away); checks "
                "`quenched_rate_annealed_branch`, `quenched_rate_frozen_branch`; and with full centroid vectors "
                "at $d = 30$",
                (VERIFY, pytest_cmd(_TEST_FREE, "test_quenched_rate_with_full_centroid_vectors"))),
        Backing(("eq:frozen-constraint", "eq:phi-frozen"), "closed form",
                "Parisi's 1RSB formula $\\min_\\theta(\\alpha + F(\\theta))/\\theta$ with $F$ by quadrature, in "
                "both branches, to $10^{-7}$, on the conditional trajectory and at random $(\\alpha, q, a, \\Gamma)$ "
                "(hypothesis, derandomised); continuous across the freezing line",
                (pytest_cmd(_TEST_FREE, "test_quenched_rate_matches_the_one_rsb_formula"),
                 pytest_cmd(_TEST_FREE, "test_quenched_rate_is_the_one_rsb_minimum_everywhere"))),
        Backing(("eq:fixed-norm-phi-annealed",), "closed form",
                "the fixed-norm annealed rate differs from $\\phi_{\\mathrm{ann}}$ at order one",
                (pytest_cmd(_TEST_FREE, "test_dropping_the_norm_moves_the_transition"),)),
    ]
    assumptions = [
        "Centroids $\\mu_k \\sim N(0, I_d)$ i.i.d. and independent of $x$ (for $k \\ne c$).",
        "$K - 1 \\approx e^{\\alpha d}$: $\\frac{1}{d}\\log(K - 1) \\to \\alpha$ as $d \\to \\infty$ at fixed "
        "$\\alpha$, $q$, $t$.",
        "$x$ enters only through $q = \\lVert x\\rVert^2/d$ (rotational invariance of the centroid law).",
        "Both large deviations are kept: the overlap $s$ and the transverse norm $n$ (independent, "
        "$n \\sim \\chi^2_{d-1}/d$).",
        "Rates are leading order in $d$; finite-$d$ corrections are $O(\\log d/d)$ (frozen branch: the "
        "extreme-value shift $-\\log d/(2\\theta^* d)$).",
    ]
    return Content(body, assumptions, backing, notes)


DOCUMENT = Document(
    'step2-wrong-class-free-energy', 'Wrong-class free energy', 'step 2', ('free_energy',),
    groups=(Group('free-energy', 'Wrong-class free energy (random-energy model)', _free_energy),),
    content=_free_energy_content,
)
