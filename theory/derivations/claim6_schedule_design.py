"""Schedule design (claim 6 of docs/theory.md): the equations of group ``schedule-design`` and the document
derivations/claim6-schedule-design.md, printed from `theory/schedule_design.py`."""
from __future__ import annotations

import sympy as sp

from ..dmf import BRANCHES, SAMPLERS
from ..symbols import a, m
from ..schedule_design import (guidance_weight, ode_log_ratio_rate, propagator_residual, ratio_drift,
                               ratio_sensitivity, relaxation_propagator, relaxation_rate, window_cost)
from ..writing import VERIFY, Backing, Content, Document, Equation, Group, pytest_cmd


def equations():
    """The equations of the schedule-design document."""
    out = []
    for b in BRANCHES:
        for smp in SAMPLERS:
            kind = "reverse SDE" if smp == "sde" else "probability-flow ODE"
            out.append(Equation(f"eq:ratio-drift-{b}-{smp}", rf"\dot\rho\big|_{{\mathrm{{{b}}},\,\mathrm{{{smp}}}}}",
                                ratio_drift(b, smp),
                                f"Reverse-time drift of the variance ratio $\\rho = v/\\Gamma_t$ in branch {b} for the "
                                f"{kind}.", f"schedule_design.ratio_drift({b!r}, {smp!r})"))
    out.append(Equation("eq:guidance-weight", r"k_t", guidance_weight(),
                        "Weight with which guidance moves the variance ratio in branch G.",
                        "schedule_design.guidance_weight()"))
    out.append(Equation("eq:ratio-sensitivity-G-sde", r"\partial_\omega \dot\rho\big|_{\mathrm{G},\,\mathrm{sde}}",
                        ratio_sensitivity("G", "sde"),
                        "Sensitivity of the SDE ratio drift to guidance in branch G (in branch C it is 0).",
                        "schedule_design.ratio_sensitivity('G', 'sde')"))
    out.append(Equation("eq:ode-log-ratio-rate-G", r"\tfrac{d}{d\tau}\log\rho\big|_{\mathrm{G},\,\mathrm{ode}}",
                        ode_log_ratio_rate("G"),
                        "For the ODE the log ratio moves only in branch G, by $-\\omega k_t$.",
                        "schedule_design.ode_log_ratio_rate('G')"))
    out.append(Equation("eq:relaxation-rate", r"\lambda_t", relaxation_rate(),
                        "Rate at which the SDE relaxes $\\rho$ to 1 once $\\omega = 0$, the same in both branches.",
                        "schedule_design.relaxation_rate()"))
    out.append(Equation("eq:relaxation-propagator", r"P_t", relaxation_propagator(),
                        "Propagator of $\\rho - 1$ from time $t$ to 0 with $\\omega = 0$ below $t$ (SDE).",
                        "schedule_design.relaxation_propagator()"))
    out.append(Equation("eq:propagator-residual", r"\tfrac{d}{dt}\log P_t + \lambda_t", propagator_residual(),
                        "With $\\dot a_t = f_t a_t$ and $\\dot\\Gamma_t = 2 f_t \\Gamma_t + g_t^2$ the propagator "
                        "solves the relaxation exactly.", "schedule_design.propagator_residual()"))
    out.append(Equation("eq:window-cost", r"c_t", window_cost("sde"),
                        "Overlap $m$ lost per unit of $\\rho$ gained by negative guidance in branch G (both samplers).",
                        "schedule_design.window_cost('sde')"))
    out.append(Equation("eq:window-cost-conditional", r"c_t\big|_{m = a_t}", sp.simplify(window_cost("sde").subs(m, a)),
                        "The same cost on the conditional path $m = a_t$.",
                        "schedule_design.window_cost('sde') at m = a"))
    return out


_TEST = "tests/test_design.py"


def content():
    drifts_ = [f"eq:ratio-drift-{b}-{smp}" for b in BRANCHES for smp in SAMPLERS]
    body = [
        "Constant guidance shrinks the variance (claim 4) and no schedule with $\\omega(t) \\ge 0$ avoids it "
        "(claim 5; the variance theorem, step 8). To see what a negative window can do, measure the transverse variance against the class law: "
        "$\\rho = v/\\Gamma_t$ is 1 on the exact conditional trajectory at every $t$, and $\\rho(0) = v(0)/\\sigma^2$ is the "
        "final variance ratio. From the mean-field drifts of step 6 and $\\dot\\Gamma_t = 2 f_t\\Gamma_t + g_t^2$, "
        "$\\dot\\rho = (\\dot v + \\rho(2 f_t \\Gamma_t + g_t^2))/\\Gamma_t$ at $v = \\rho\\Gamma_t$ (reverse time):",
        *drifts_,
        "Guidance appears only in branch G, with one weight and one sign:",
        "eq:guidance-weight", "eq:ratio-sensitivity-G-sde",
        "Since $k_t > 0$, $\\omega > 0$ in G lowers $\\rho$ and $\\omega < 0$ raises it, at any $m$: the $v$ equation does "
        "not involve $m$. For the ODE this is exact and explicit:",
        "eq:ode-log-ratio-rate-G",
        "so, integrating from $t = T$ (where $\\rho \\to 1$) to 0, $\\log(v(0)/\\sigma^2) = -\\int \\omega(t) k_t\\,dt$ over "
        "the times the trajectory spends in branch G. A negative window inside the G phase adds a positive "
        "contribution and can cancel the shrinkage exactly; outside it contributes nothing.",
        "Once guidance stops ($\\omega = 0$ below some $t_2$) both branches have the conditional drift, and the SDE "
        "relaxes the ratio to 1 at a rate that does not depend on $m$ or on the branch:",
        "eq:relaxation-rate", "eq:relaxation-propagator", "eq:propagator-residual",
        "so $\\rho(0) - 1 = (\\rho(t_2) - 1) P_{t_2}$, i.e. $v(0) - \\sigma^2 = \\sigma^4 a_{t_2}^2 (v(t_2) - \\Gamma_{t_2})"
        "/\\Gamma_{t_2}^2$, and for the ODE $\\rho(0) = \\rho(t_2)$. Either way $v(0) = \\sigma^2$ exactly when "
        "$v(t_2) = \\Gamma_{t_2}$: the design condition is local to the end of the window.",
        "What a window costs: negative guidance also lowers the overlap $m$, which the class needs in order to be "
        "classified at $t = 0$. Per unit of $\\rho$ gained it costs",
        "eq:window-cost", "eq:window-cost-conditional",
        "For the OU process this falls as $t$ decreases towards the switch (at every $t$ when $\\sigma^2 \\le 2$): "
        "late windows are cheaper than early ones, and a strong short window just before the switch is cheaper "
        "than a weak long one.",
    ]
    notes = [
        "Where the window must sit: inside the G phase of the guided trajectory, i.e. before its switch to the "
        "target branch (larger $t$). In branch C the drifts carry no $\\omega$ (rows C above): guidance is inert "
        "there, so a negative window after the switch changes neither $v(0)$ nor $m(0)$.",
        "The design (`numerics/meanfield/design.py`, `cfg-distortion schedule-design`): the schedule "
        "`piecewise:inf:W,t1:w,t2:0` ends its window at $t_2 = t_s(W)$, the switch time of constant guidance "
        "$W$. Up to $t_s$ that trajectory is in G; the window lowers $m$, which only delays the switch, so the "
        "window lies in G. The strength is fixed, $w = -1$ (there the guided score is the unconditional score "
        "$\\nabla\\log p_t(x)$), and the start $t_1$ is the root of $v(0) - \\sigma^2$ by brentq, bracketed between "
        "no window ($t_1 = t_2$: the constant-$W$ shrinkage, $v(0) < \\sigma^2$) and a window long enough to "
        "overshoot. If the sample then ends unclassified the window is made stronger and shorter ($|w|$ doubled "
        "up to 64), which by the cost above spends less overlap; if no strength works there is no such window, "
        "and the command says so (exit 1).",
        "Check it: `cfg-distortion schedule-design --alpha 0.3 --sigma2 1 --omega-max 3` and "
        "`cfg-distortion schedules --alpha 0.3 --sigma2 1`.",
    ]
    backing = [
        Backing(tuple(drifts_), "symbolic identity",
                "at $\\omega = 0$ the ratio $\\rho = 1$ solves every branch's drift, and branch C carries no $\\omega$",
                (pytest_cmd(_TEST, "test_ratio_drift_is_exact_on_the_class_law"),)),
        Backing(("eq:guidance-weight", "eq:ode-log-ratio-rate-G"), "numerical integration",
                "$\\log(v(0)/\\sigma^2)$ of the ODE trajectory (solve_ivp with branch switching) equals $-\\omega$ "
                "times the quadrature of $k_t = g_t^2 a_t^2 / (\\Gamma_t (\\Gamma_t + a_t^2))$, typed in the check, over the G phase (check "
                "`ode_log_variance_ratio_is_the_weighted_guidance_integral`)",
                (VERIFY,)),
        Backing(("eq:ratio-sensitivity-G-sde",), "numerical integration",
                "random schedules with $\\omega \\ge 0$ never end with $v(0) > \\sigma^2$, $v(0)$ from the $v$-equation "
                "of two typed Gaussian scores along the DMF's branch history (check "
                "`variance_never_exceeds_sigma2_for_nonnegative_schedules`; hypothesis sweep in the tests)",
                (VERIFY, pytest_cmd(_TEST, "test_nonnegative_schedules_never_exceed_sigma2"))),
        Backing(("eq:relaxation-rate", "eq:relaxation-propagator"), "numerical integration",
                "$v(0)$ of an SDE trajectory with $\\omega = 0$ below $t_2$ equals the typed $v$-equation integrated "
                "along the same branch history (check `sde_variance_relaxes_once_guidance_stops`); the propagator "
                "$v(0) - \\sigma^2 = \\sigma^4 a_{t_2}^2 (v(t_2) - \\Gamma_{t_2})/\\Gamma_{t_2}^2$ solves that "
                "equation (symbolic identity below)",
                (VERIFY,)),
        Backing(("eq:propagator-residual",), "symbolic identity", "the residual simplifies to 0 and $P_0 = 1$",
                (pytest_cmd(_TEST, "test_propagator_solves_the_relaxation"),)),
        Backing(("eq:window-cost", "eq:window-cost-conditional"), "numerical integration",
                "a stronger, shorter window designed at $(\\alpha, \\sigma^2, W) = (0.3, 1, 3)$ ends with a larger "
                "$m(0)$ than the default one",
                (pytest_cmd(_TEST, "test_stronger_window_costs_less_overlap"),)),
    ]
    assumptions = [
        "The $d \\to \\infty$ mean field of step 6: branch G (annealed wrong classes, guidance acts) and branch C "
        "(target dominates, guidance inert); the switch is decided by the quenched margin in `numerics/meanfield/dmf.py`.",
        "$\\rho(T) \\to 1$ at the start: $v(T) - \\Gamma_T = a_T^2$, negligible at the default horizons.",
        "Schedules in the grammar of `numerics/model/schedules.py`; the designed one is piecewise constant.",
    ]
    return Content(body, assumptions, backing, notes)


DOCUMENT = Document('claim6-schedule-design', 'Schedule design', 'claim 6', ('schedule_design',),
                    groups=(Group('schedule-design', 'Schedule design (claim 6)', equations),), content=content)
