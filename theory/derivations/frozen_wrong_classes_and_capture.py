"""Frozen wrong classes and capture (steps 5-7 (branch G frozen) of docs/theory.md): the equations of group
``frozen`` and the document derivations/frozen-wrong-classes-and-capture.md, printed from
`theory/dmf.py`, `theory/capture.py`, `theory/potential.py`, `theory/gaussian_limit.py`."""
from __future__ import annotations

import sympy as sp

from ..writing import VERIFY, Backing, Content, Document, Equation, Group, pytest_cmd

_TEST = "tests/test_frozen_g.py"


def equations() -> list:
    from .. import capture as CAP
    from .. import dmf as DMF
    from .. import free_energy as F
    from .. import gaussian_limit as GL
    from .. import potential as P
    from ..symbols import omega, sigma2, v

    k = DMF.kappa_effective()
    out = [
        Equation("eq:kappa-eff-annealed", r"\kappa_{\mathrm{ann}} = \tfrac{2\Gamma_t}{a_t}\,\partial_q\phi_{\mathrm{ann}}",
                 k["annealed"], "Coefficient of the wrong-class posterior mean $M = \\kappa x$ from the annealed rate: "
                 "the centroid-cloud value.", "dmf.kappa_effective()['annealed']"),
        Equation("eq:kappa-eff-frozen", r"\kappa_{\mathrm{eff}} = \tfrac{2\Gamma_t}{a_t}\,\partial_q\phi_{\mathrm{frozen}}",
                 k["frozen"], "The same from the frozen rate, by the envelope theorem, at $u = \\theta^* a_t^2/\\Gamma_t$ "
                 "with $\\Sigma(\\theta^*) = 0$; equal to $\\kappa_{\\mathrm{ann}}$ at $\\theta^* = 1$.",
                 "dmf.kappa_effective()['frozen']"),
    ]
    for sampler in DMF.SAMPLERS:
        for i, var in enumerate("mv"):
            out.append(Equation(f"eq:drift-Gk-{sampler}-{var}",
                                rf"\dot {var}\big|_{{\mathrm{{G}},\,\kappa,\,\mathrm{{{sampler}}}}}",
                                DMF.drifts("G", sampler, DMF.KAPPA)[i],
                                f"Branch-G drift of ${var}$ with the wrong-class coefficient $\\kappa$ left free "
                                f"({sampler}).", f"dmf.drifts('G', {sampler!r}, KAPPA)[{i}]"))
    st = CAP.capture_state()
    out += [
        Equation("eq:capture-r", r"r_{\mathrm{capture}}", st["r"],
                 "Overlap $x\\cdot\\mu_w/d$ of the capturing centroid at the capture ($\\sqrt{q}\\,s^*$).",
                 "capture.capture_state()['r']"),
        Equation("eq:capture-nu", r"\nu", st["nu"],
                 "Its squared norm per dimension $\\lVert\\mu_w\\rVert^2/d = s^{*2} + n^*$.",
                 "capture.capture_state()['nu']"),
        Equation("eq:capture-logit-residual", r"E_w(r_{\mathrm{capture}}) - \phi_{\mathrm{frozen}}",
                 sp.simplify(CAP.captured_logit().subs({CAP.r: st["r"], CAP.nu: st["nu"]}) - F.phi_frozen()),
                 "At the capture the captured class's logit is the frozen rate: nothing jumps.",
                 "capture.captured_logit() - free_energy.phi_frozen()"),
        Equation("eq:capture-margin", r"T(m) - E_w(r)", CAP.margin(),
                 "Target against the captured class, per dimension: branch W where negative, C where positive.",
                 "capture.margin()"),
    ]
    for sampler in DMF.SAMPLERS:
        for i, var in enumerate("mvr"):
            out.append(Equation(f"eq:capture-drift-W-{sampler}-{var}",
                                rf"\dot {var}\big|_{{\mathrm{{W}},\,\mathrm{{{sampler}}}}}", CAP.drifts("W", sampler)[i],
                                f"Two-class drift of ${var}$ while the captured class dominates ({sampler}).",
                                f"capture.drifts('W', {sampler!r})[{i}]"))
    mk = P.minimum_kappa()
    out += [
        Equation("eq:potential-min-kappa-m", r"m^*_{\mathrm{G}}(\kappa)", mk[sp.Symbol("m", real=True)],
                 "Overlap at the G minimum of $F = V - \\frac12\\log v$ for a wrong-class slope "
                 "$\\partial_q\\phi = a_t\\kappa/(2\\Gamma_t)$.", "potential.minimum_kappa()[m]"),
        Equation("eq:potential-min-kappa-v", r"v^*_{\mathrm{G}}(\kappa)", mk[v],
                 "Variance at the same minimum; the quenched one solves $\\kappa = \\kappa_{\\mathrm{eff}}(q^*(\\kappa))$.",
                 "potential.minimum_kappa()[v]"),
        Equation("eq:gauss-v-sde-stable", r"v(0)\big|_{K=\infty,\,\mathrm{sde}}", GL.final_moment_stable(v, "sde"),
                 "The SDE closed form with its removable singularity at $\\omega = -1/2$ written through "
                 "$\\mathrm{exprel}(x) = (e^x - 1)/x$.", "gaussian_limit.final_moment_stable(v, 'sde')"),
        Equation("eq:gauss-v-sde-half", r"v(0)\big|_{K=\infty,\,\mathrm{sde},\,\omega=-1/2}",
                 sp.limit(GL.final_moment(v, "sde"), omega, -sp.Rational(1, 2)),
                 "Its value at $\\omega = -1/2$ (sympy's limit of the closed form).",
                 "limit(gaussian_limit.final_moment(v, 'sde'), omega, -1/2)"),
    ]
    del sigma2
    return out


def content():
    """The document (a documents.Content), registered in documents.DOCUMENTS."""

    drifts_k = [f"eq:drift-Gk-{s}-{x}" for s in ("sde", "ode") for x in "mv"]
    drifts_w = [f"eq:capture-drift-W-{s}-{x}" for s in ("sde", "ode") for x in "mvr"]
    body = [
        "In branch G the unconditional score needs the wrong-class posterior mean "
        "$M = \\sum_{k \\ne c} w_k\\mu_k$. Since $w_k \\propto e^{\\ell_k}$ with "
        "$\\ell_k = a_t x\\cdot\\mu_k/\\Gamma_t - \\dots$, $M = \\frac{\\Gamma_t}{a_t}\\nabla_x \\log Z$, and at large "
        "$d$, $\\log Z = d\\,\\phi(\\lVert x\\rVert^2/d)$, so the part of $M$ along $x$ is $\\kappa x$ with "
        "$\\kappa = \\frac{2\\Gamma_t}{a_t}\\partial_q\\phi$ for the quenched $\\phi$. The annealed rate gives the "
        "centroid-cloud coefficient of the mean-field document; where the wrong classes are frozen "
        "($\\Sigma(1) < 0$) the frozen rate, differentiated by the envelope theorem (the constraint "
        "$\\Sigma(\\theta^*) = 0$ does not involve $q$), gives a smaller one:",
        "eq:kappa-eff-annealed", "eq:kappa-eff-frozen",
        "The branch-G drifts take $\\kappa$ as an argument; the numeric layer passes $\\kappa_{\\mathrm{ann}}$ or "
        "$\\kappa_{\\mathrm{eff}}$ by the sign of $\\Sigma(1)$ and labels the segments G and Gf:",
        *drifts_k,
        "The part of $M$ transverse to $x$ is a sum over the few condensed centroids of random directions. "
        "For $\\omega > 0$ guidance pushes $x$ away from them, the dominant centroid changes, and their "
        "transverse pulls average out: they change $v$ only at order $1/d$.",
        "**Capture.** For $\\omega < 0$ the guided score contains $+|\\omega|\\frac{a_t}{\\Gamma_t}M$, an "
        "attraction. Its pull on the logit of a condensed centroid is proportional to $w_k\\lVert\\mu_k\\rVert^2$, "
        "so the largest weight grows fastest and, within a time $O(1/d)$, one centroid $\\mu_w$ carries all "
        "the wrong-class weight: the sample is captured by a wrong class. What follows is two-class CFG between "
        "$\\mu_c$ and $\\mu_w$, closed at $d \\to \\infty$ on $m$, $v$ and $r = x\\cdot\\mu_w/d$, started from the "
        "frozen saddle:",
        "eq:capture-r", "eq:capture-nu", "eq:capture-logit-residual", "eq:capture-margin",
        *drifts_w,
        "The captured class stays on top (branch W) until the target's term overtakes $E_w(r)$ (branch C, "
        "guidance inert). The other wrong classes see only $\\lVert x\\rVert^2$; where their rate $\\phi(q)$ "
        "exceeds both, a second capture would follow, which the solver reports but does not follow.",
        "**The potential with the quenched rate.** Step 5's $F_G$ depends on $\\phi$ only through "
        "$\\partial_q\\phi$ in its stationarity conditions, so its G minimum is closed-form at given $\\kappa$ and "
        "the quenched one is a scalar fixed point:",
        "eq:potential-min-kappa-m", "eq:potential-min-kappa-v",
        "**Small items.** The Gaussian-limit $v(0)$ of the SDE has a removable singularity at $\\omega = -1/2$; "
        "written with $\\mathrm{exprel}$ it is finite there, with the value of sympy's limit:",
        "eq:gauss-v-sde-stable", "eq:gauss-v-sde-half",
    ]
    notes = [
        "**Where it matters** (phase-diagram scan `--alpha 0.01:2:60 --omega=-0.9:60:61`): never for the SDE "
        "with $\\omega \\ge 0$; for the ODE at $\\alpha \\approx 0.59$-$0.82$ and $\\omega \\ge 4.5$; for $\\omega < 0$ "
        "with both samplers (capture). `cfg-distortion trajectory --alpha 0.7 --omega 10 --sigma2 1 --sampler ode` "
        "moves from $m(0) = 2.744$, switch $t = 0.252$ (annealed $\\kappa$, `trajectory(..., quenched=False)`) to "
        "$m(0) = 2.830$, switch $t = 0.206$ with $\\kappa_{\\mathrm{eff}}$ in the Gf segment $t \\in [0.206, 0.630]$; "
        "at $(0.6, 20)$ $m(0)$ goes from 3.50 to 3.87. The boundary $\\alpha_c(\\omega = 10)$ does not move "
        "(its final switch is at $t \\to 0$, where nothing is frozen).",
        "**Capture.** `cfg-distortion trajectory --alpha 0.2 --omega=-0.5 --sigma2 1 --json` reports "
        "`captured_by_wrong_class: true`, `t_capture` $= 0.307$, status `captured`, and the two-class end state "
        "$m(0) = 0.529$, $v(0) = 1.40$, $r(0) = 0.713$ (SDE) in branch W: the sample ends in the wrong class. "
        "The annealed DMF instead reports the cloud values $m = 0.586$, $v = 1.386$. For the SDE the other wrong "
        "classes overtake the captured one again from $t \\approx 0.27$ (the note says so): the $d \\to \\infty$ "
        "theory of that regime is a sequence of captures, of which the solver follows the first.",
        "**What the simulator says** (exact score, the largest $d$ that runs on two cores) is in the issue's "
        "closing note and `tests/test_frozen_g.py::test_simulator_frozen_g_direction` (slow).",
        "**Tangency of the switch.** After a G-to-C switch the C flow leaves the boundary at the rate "
        "$\\dot h_C > 0$, so the trajectory does not slide. For the SDE this rate falls like $c/\\omega$ "
        "($\\omega\\dot h_C \\to 0.18$ at $\\alpha = 0.3$, $\\sigma^2 = 1$, $\\omega = 10$-$100$): the no-sliding "
        "statement holds for every finite $\\omega$, but at large $\\omega$ the switch is nearly tangent and at "
        "finite $d$ the $O(d^{-1/2})$ noise of $m$ can re-cross it. For the ODE $\\dot h_C$ stays near 0.23 "
        "up to $\\omega = 100$.",
        "**Tiny ODE variances.** The ODE in a long G phase at large $\\omega$ gives $v(0)$ as small as "
        "$10^{-10}$; the $d \\to \\infty$ theory is accurate only to $O(1/d)$, so such numbers mean "
        "\"of order $1/d$ or less\" at finite $d$ (the trajectory notes say so where $v(0) < 10^{-3}\\sigma^2$).",
    ]
    backing = [
        Backing(("eq:kappa-eff-annealed", "eq:kappa-eff-frozen"), "finite difference",
                "$\\kappa$ against $\\frac{2\\Gamma_t}{a_t}$ times a central difference of the quenched $\\phi(q)$, "
                "in both branches (relative error $< 10^{-7}$): `kappa_eff_matches_finite_difference`",
                (VERIFY, pytest_cmd(_TEST, "test_kappa_eff_against_finite_difference_of_quenched_rate"))),
        Backing(("eq:kappa-eff-frozen",), "limit",
                "equal to the annealed value on the freezing line $\\theta^* = 1$; the free-$\\kappa$ drifts give "
                "the annealed ones back at $\\kappa_{\\mathrm{ann}}$",
                (pytest_cmd(_TEST, "test_kappa_annealed_is_the_cloud_coefficient_and_frozen_meets_it_on_the_freezing_line"),
                 pytest_cmd(_TEST, "test_g_drift_with_annealed_kappa_is_the_old_drift"))),
        Backing(("eq:capture-logit-residual",) + tuple(drifts_w), "symbolic identity",
                "the residual is 0; the two-class drifts of $(m, v)$ equal the one-class ones in branch C and, "
                "at $\\omega = 0$, in branch W",
                (pytest_cmd(_TEST, "test_captured_logit_at_capture_is_the_frozen_rate"),
                 pytest_cmd(_TEST, "test_two_class_drifts_reduce_to_one_class_ones"))),
        Backing(("eq:gauss-v-sde-half",), "limit",
                "the generated function is finite at $\\omega = -1/2$ and continuous through it",
                (pytest_cmd(_TEST, "test_gaussian_sde_variance_at_omega_minus_half"),)),
    ]
    assumptions = [
        "$d \\to \\infty$, $K = e^{\\alpha d}$; the quenched (1RSB) rate of step 2 for the wrong classes.",
        "Only the part of $M$ along $x$ enters the drifts; its transverse part changes $v$ at $O(1/d)$ for "
        "$\\omega > 0$.",
        "Capture: one centroid takes all the wrong-class weight on the time scale $1/d$; "
        "$\\mu_c\\cdot\\mu_w/d \\to 0$; the other wrong classes are checked, not followed.",
    ]
    return Content(body, assumptions, backing, notes)


DOCUMENT = Document('frozen-wrong-classes-and-capture', 'Frozen wrong classes and capture', 'steps 5-7 (branch G frozen)',
                    ('dmf', 'capture', 'potential', 'gaussian_limit'),
                    groups=(Group('frozen', 'Frozen wrong classes and capture', equations),), content=content)
