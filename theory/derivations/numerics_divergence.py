"""Distortion as a divergence (numerics (kl, w2) of docs/theory.md): the equations of group ``divergence``
and the document derivations/numerics-divergence.md, printed from `theory/divergence.py`."""
from __future__ import annotations

from ..divergence import kl_1d, kl_finite_d, kl_per_dimension, w2_1d, w2_finite_d, w2_per_dimension
from ..writing import Backing, Content, Document, Equation, Group, pytest_cmd


def equations():
    return [
        Equation("eq:kl-1d", r"\mathrm{KL}\big(\mathcal N(\mu_1, s_1)\,\|\,\mathcal N(\mu_2, s_2)\big)", kl_1d(),
                 "KL divergence of two one-dimensional Gaussians, integrated by sympy.", "divergence.kl_1d()"),
        Equation("eq:w2-1d", r"W_2^2\big(\mathcal N(\mu_1, s_1), \mathcal N(\mu_2, s_2)\big)", w2_1d(),
                 "Cost of the monotone (quantile) coupling of two one-dimensional Gaussians, optimal on the line.",
                 "divergence.w2_1d()"),
        Equation("eq:kl-finite-d", r"\tfrac{1}{d}\mathrm{KL}_d", kl_finite_d(),
                 "Per dimension at finite $d$: $d - 1$ transverse coordinates of variance $v$ and one parallel "
                 "coordinate at $m|\\mu_c|$ with variance $s_{\\mathrm{par}}$, against the class law, "
                 "$|\\mu_c|^2 = d$.", "divergence.kl_finite_d()"),
        Equation("eq:w2-finite-d", r"\tfrac{1}{d}W_{2,d}^2", w2_finite_d(),
                 "The same sum for the squared Wasserstein-2 distance.", "divergence.w2_finite_d()"),
        Equation("eq:kl", r"\mathrm{kl}", kl_per_dimension(),
                 "Its limit $d \\to \\infty$: the reported `kl` (the parallel variance drops out).",
                 "divergence.kl_per_dimension()"),
        Equation("eq:w2", r"\mathrm{w2}", w2_per_dimension(),
                 "Its limit $d \\to \\infty$: the reported `w2`.", "divergence.w2_per_dimension()"),
    ]


_TEST = "tests/test_divergence.py"


def content():
    body = [
        "The mean field reports distortion as two numbers, the overlap $m(0)$ (mean shift $m - 1$) and the "
        "transverse variance $v(0)$ (variance ratio $v/\\sigma^2$). One number that weighs both is a divergence "
        "between the sampled law and the class law $\\mathcal N(\\mu_c, \\sigma^2 I)$. At $d \\to \\infty$ the sampled "
        "law is, per the mean field, concentrated at $m|\\mu_c|$ along $e = \\mu_c/|\\mu_c|$ and Gaussian with "
        "variance $v$ in the $d - 1$ transverse directions. In the basis $(e, \\text{completion})$ both laws are "
        "products of one-dimensional Gaussians, so each divergence is a sum of one-dimensional ones:",
        "eq:kl-1d", "eq:w2-1d",
        "The first is $E_{p_1}[\\log p_1 - \\log p_2]$ integrated by sympy. The second is the cost of the monotone "
        "coupling $x_i = \\mu_i + \\sqrt{s_i} z$, which is optimal on the line; for two product laws in one basis the "
        "product of optimal one-dimensional couplings is optimal, since $W_2^2$ is at least the sum of the "
        "coordinates' one-dimensional $W_2^2$. Summing $d - 1$ transverse coordinates and the parallel one, per "
        "dimension:",
        "eq:kl-finite-d", "eq:w2-finite-d",
        "and in the limit $d \\to \\infty$, where the parallel spread contributes $O(1/d)$:",
        "eq:kl", "eq:w2",
    ]
    notes = [
        "Both vanish exactly at $(m, v) = (1, \\sigma^2)$ and nowhere else. `kl` charges a variance loss "
        "logarithmically ($-\\tfrac12\\log(v/\\sigma^2)$ as $v \\to 0$) and a mean shift in units of $\\sigma^2$; `w2` "
        "charges both in units of the data, so it stays finite as $v \\to 0$ and is defined for $\\sigma^2 = 0$.",
        "Every result that reports $m$ and $v$ (trajectory, phase-diagram CSV, schedules, schedule-design, "
        "schedule-map, simulate, finite-d, validate) also reports `kl` and `w2` from these formulas. For the "
        "simulator they are the formula evaluated at the sample means of $m$ and $v$ (the $d \\to \\infty$ "
        "summary), not a finite-$d$ divergence of the empirical law.",
    ]
    backing = [
        Backing(("eq:kl-1d", "eq:w2-1d"), "closed form",
                "the Gaussian KL $\\tfrac12(s_1/s_2 - 1 - \\log(s_1/s_2) + (\\mu_1-\\mu_2)^2/s_2)$ and the 1-D $W_2^2$ from "
                "sorted samples (quantile coupling) of the two laws",
                (pytest_cmd(_TEST, "test_one_dimensional_divergences_match_independent_routes"),)),
        Backing(("eq:kl", "eq:w2"), "Monte Carlo",
                "at $d = 400$ the generated `kl` and `w2` at the simulator's $(m, v)$ match nonparametric estimates "
                "from the samples (1-D quantile $W_2^2$ and a spacing entropy estimate of the transverse coordinates) "
                "within their error bars; both vanish on the class law",
                (pytest_cmd(_TEST),)),
    ]
    assumptions = [
        "The $d \\to \\infty$ law of the mean field: along $e$ a point mass at $m$ per unit $|\\mu_c|$ (finite spread), "
        "transverse components i.i.d. $\\mathcal N(0, v)$, $|\\mu_c|^2 = d$.",
        "KL is taken as KL(sampled $\\|$ class law); it is infinite where $v = 0$ or $\\sigma^2 = 0$ (reported as null).",
    ]
    return Content(body, assumptions, backing, notes)


DOCUMENT = Document('numerics-divergence', 'Distortion as a divergence', 'numerics (kl, w2)', ('divergence',),
                    groups=(Group('divergence', 'Distortion as a divergence (kl, w2)', equations),), content=content)
