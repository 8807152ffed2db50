"""Variance theorem (step 8 of docs/theory.md): the equations of group ``variance-theorem`` and the
document derivations/step8-variance-theorem.md, printed from `theory/variance.py`."""
from __future__ import annotations

import sympy as sp

from ..writing import VERIFY, Backing, Content, Document, Equation, Group, pytest_cmd

_TEST_DMF = "tests/test_dmf.py"
_TEST_VAR = "tests/test_variance.py"


def _variance_theorem() -> list[Equation]:
    from .. import variance as VT

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


def _variance_theorem_content() -> Content:
    body = [
        "**Claim** ($d \\to \\infty$ and $T \\to \\infty$). If $\\omega(t) \\ge 0$ for all $t$, the mean-field "
        "trajectory started from the noise ($T \\to \\infty$) ends with $v(0) \\le \\sigma^2$, with equality only "
        "if $\\omega = 0$ (almost everywhere) on the times where branch G is active. It holds for both samplers, any "
        "branch history and either value of the wrong-class coefficient $\\kappa \\ge 0$ (annealed or frozen).",
        "**Fact 1.** The drift of $v$ does not involve $m$, in either branch and for either sampler, so $v$ obeys "
        "a scalar equation $\\dot v = F_B(v, t; \\omega)$ whatever the branch history (which $m$ decides):",
        "eq:v-drift-m-independence",
        "**Fact 2.** Guidance only lowers the drift of $v$: it adds nothing in branch C and a term "
        "$-c(t)\\,\\omega v$ with $c(t) \\ge 0$ in branch G:",
        "eq:guidance-excess-G-sde", "eq:guidance-excess-G-ode", "eq:guidance-excess-C-sde",
        "eq:guidance-excess-C-ode",
        "Hence, for $\\omega \\ge 0$ and $v \\ge 0$, $F_B(v, t; \\omega) \\le F_0(v, t)$ in both branches, "
        "$F_0$ being the unguided drift.",
        "**Fact 3.** $v = \\Gamma_t$ solves $\\dot v = F_0$ exactly (the exactness check of the mean-field "
        "document), and $\\Gamma_0 = \\sigma^2$.",
        "**Comparison.** $F_0$ is affine in $v$, hence Lipschitz. By the comparison theorem for scalar ODEs, a "
        "solution of $\\dot v \\le F_0(v, t)$ stays below the solution of $\\dot v = F_0$ started from the same "
        "point; the start excess $v(T) - \\Gamma_T = a_T^2$ is transported by the linear $F_0$ and vanishes as "
        "$T \\to \\infty$. So $v(t) \\le \\Gamma_t$ for all $t$ and $v(0) \\le \\sigma^2$. If $\\omega > 0$ on a "
        "set of positive measure where branch G is active, the inequality is strict there; the gap created is "
        "transported by $F_0$ with a positive factor $e^{-\\int k}$ down to $t = 0$, so $v(0) < \\sigma^2$.",
    ]
    notes = [
        "No schedule with $\\omega(t) \\ge 0$ (constant, interval, linear, ...) can prevent variance shrinkage: "
        "the best it can do is leave $v$ alone, by switching guidance off wherever branch G is active, which "
        "also removes its effect on $m$. Undoing the shrinkage needs $\\omega < 0$ somewhere in branch G (the "
        "schedule-design document).",
        "**Scope.** The comparison is complete within the mean-field drifts, i.e. at $d \\to \\infty$ and "
        "$T \\to \\infty$. At finite $T$ the ODE keeps the start's excess $a_T^2/\\Gamma_T$ in $v/\\Gamma$ (the "
        "SDE forgets it). At finite $d$ the exact-score sampler can break it: the part of the wrong-class "
        "posterior mean transverse to $x$ gives random-direction kicks of order $1/d$ per step, not small at "
        "small $d$. `cfg-distortion simulate --d 10 --K 2 --omega 3 --sigma2 1 --sampler ode --n 4000 --seed S` "
        "gives $v(0) = 0.928$-$0.952$ over seeds 0-3 (mean $0.937 \\pm 0.003$) against $0.884$-$0.911$ (mean "
        "$0.898 \\pm 0.003$) at `--omega 0` (standard error 0.007 per seed): guidance raises $v(0)$ above the "
        "unguided value $\\sigma^2 (d-1)/d = 0.9$ (the finite-$d$ counterpart of $\\sigma^2$: $v$ counts the "
        "$d - 1$ directions transverse to $\\mu_c$).",
    ]
    backing = [
        Backing(("eq:v-drift-m-independence", "eq:guidance-excess-G-sde", "eq:guidance-excess-G-ode",
                 "eq:guidance-excess-C-sde", "eq:guidance-excess-C-ode"), "symbolic identity",
                "derived from the drifts; the G excess is also rebuilt from the score's extra term "
                "$-\\omega\\kappa a_t x/\\Gamma_t$, and sympy decides its sign for $\\omega \\ge 0$",
                (pytest_cmd(_TEST_VAR),)),
        Backing(("eq:guidance-excess-G-sde",), "numerical integration",
                "random nonnegative schedules (hypothesis; fixed draws in "
                "`variance_never_exceeds_sigma2_for_nonnegative_schedules`) never give $v(0) > \\sigma^2$; guidance confined to "
                "branch C changes nothing",
                (VERIFY, pytest_cmd("tests/test_design.py", "test_nonnegative_schedules_never_exceed_sigma2"),
                 pytest_cmd(_TEST_DMF, "test_guidance_confined_to_branch_c_is_inert"))),
    ]
    assumptions = [
        "The mean-field drifts of step 6 ($d \\to \\infty$; branch G with $\\kappa \\ge 0$, annealed or frozen); "
        "$\\omega(t)$ piecewise continuous.",
        "Start from the noise, $T \\to \\infty$; $v \\ge 0$ along the trajectory.",
    ]
    return Content(body, assumptions, backing, notes)


DOCUMENT = Document(
    'step8-variance-theorem', 'Variance theorem', 'step 8', ('variance',),
    groups=(Group('variance-theorem', 'Variance theorem', _variance_theorem),),
    content=_variance_theorem_content,
)
