"""Affine schedules and the variance-preserving curve (claim 6 of docs/theory.md): the equations of group
``affine`` and the document derivations/claim6-affine-schedules.md, printed from `theory/affine.py`."""
from __future__ import annotations

from ..affine import guidance_weight_ve, ode_log_ratio, ode_preserving_slope, weight_moments
from ..writing import Backing, Content, Document, Equation, Group, pytest_cmd


def equations():
    I0, I1 = weight_moments()
    return [
        Equation("eq:guidance-weight-ve", r"k_t\big|_{\mathrm{ve}}", guidance_weight_ve(),
                 "Weight of guidance on the variance ratio in branch G for the variance-exploding process "
                 "($t$ is the noise level).", "affine.guidance_weight_ve()"),
        Equation("eq:weight-moment-0", r"I_0(t_s)", I0, "$\\int_{t_s}^\\infty k_t\\,dt$.", "affine.weight_moments()[0]"),
        Equation("eq:weight-moment-1", r"I_1(t_s)", I1, "$\\int_{t_s}^\\infty t\\,k_t\\,dt$.",
                 "affine.weight_moments()[1]"),
        Equation("eq:ode-affine-log-ratio", r"\log\frac{v(0)}{\sigma^2}\Big|_{\mathrm{ode}}", ode_log_ratio(),
                 "Final log variance ratio of the ODE under $\\omega = w_0 + \\mathrm{slope}\\,t$ with one switch at "
                 "$t_s$.", "affine.ode_log_ratio()"),
        Equation("eq:ode-preserving-slope", r"\mathrm{slope}_{v(0) = \sigma^2}", ode_preserving_slope(),
                 "The slope that preserves the variance, given $w_0$ and the switch time (ODE).",
                 "affine.ode_preserving_slope()"),
    ]


_TEST = "tests/test_schedule_map.py"


def content():
    body = [
        "The source paper proposes, on the variance-exploding process with $t$ the noise level, guidance "
        "$\\omega(t) = w_0 + \\mathrm{slope}\\,t$ with $w_0 \\ge -1$ and slope $> 0$: negative near the data "
        "($t < -w_0/\\mathrm{slope}$), positive early, never below the unconditional score ($\\omega = -1$). "
        "The variance ratio $\\rho = v/\\Gamma_t$ of the mean field (claim-6 document) moves only in branch G, "
        "with a weight that for this process is",
        "eq:guidance-weight-ve",
        "Positive guidance in G lowers $\\rho$, negative guidance raises it. For the probability-flow ODE "
        "$d\\log\\rho/d\\tau = -\\omega k_t$ in G and 0 in C, so a trajectory that switches once, at $t_s$, ends with",
        "eq:weight-moment-0", "eq:weight-moment-1", "eq:ode-affine-log-ratio",
        "and $v(0) = \\sigma^2$ exactly on",
        "eq:ode-preserving-slope",
    ]
    notes = [
        "Why a negative late window restores the variance: every schedule with $\\omega \\ge 0$ ends with "
        "$v(0) \\le \\sigma^2$ (step 8), and the shrinkage is accumulated in branch G. The affine schedule "
        "is negative on $t < -w_0/\\mathrm{slope}$; the part of that window that lies in G (above the switch $t_s$) "
        "raises $\\rho$ by $-w_0 I_0$, the positive early part lowers it by slope $I_1$, and the two balance on the "
        "curve. Below $t_s$ (branch C) the negative part is inert: it costs nothing and restores nothing.",
        "What the curve means: each point is one schedule of the family that ends with the class variance; along it "
        "$w_0$ trades against the slope. A more negative $w_0$ needs a larger slope (more early guidance), which "
        "commits the class earlier (larger $t_s$) and shifts the mean further ($m(0) > 1$): the divergence along the "
        "curve is then all mean shift, $\\mathrm{kl} = (m(0) - 1)^2/(2\\sigma^2)$. The end $w_0 \\to 0^-$, slope "
        "$\\to 0$ is no guidance at all; where $\\alpha < \\alpha_c(0)$ it still classifies, so the least-divergence "
        "point sits there, and the question becomes how much guidance one wants. Where the trajectory would end "
        "unclassified (the schedule is too negative for too long) $v(0)$ jumps above $\\sigma^2$: a sign change "
        "that the root finder reports as a jump, not as a point of the curve.",
        "Beside the designed window of `schedule-design` ($\\omega = W$, then $-1$ on a window that ends at the "
        "constant-$W$ switch, then 0): both cancel the G-phase shrinkage with negative guidance inside G; the "
        "designed window keeps the full early strength $W$ and pays with a short strong window, the affine family "
        "spreads both over all noise levels. `cfg-distortion schedule-map --alpha 0.3` prints both divergences "
        "(references: constant and designed).",
    ]
    backing = [
        Backing(("eq:ode-affine-log-ratio", "eq:ode-preserving-slope"), "numerical integration",
                "the ODE trajectory (solve_ivp with events) of an affine schedule that switches once ends with "
                "$\\log(v(0)/\\sigma^2) = -(w_0 I_0(t_s) + \\mathrm{slope}\\, I_1(t_s))$ at its own switch time",
                (pytest_cmd(_TEST, "test_ode_log_ratio_of_an_affine_schedule"),)),
        Backing(("eq:ode-preserving-slope",), "root finder",
                "every point of the schedule map's curve, fed back to `trajectory --schedule affine:W0,SLOPE`, "
                "gives $v(0) = \\sigma^2$ within the root tolerance",
                (pytest_cmd(_TEST, "test_preserving_curve_points_give_v_equal_sigma2_through_trajectory"),)),
    ]
    assumptions = [
        "The $d \\to \\infty$ mean field of step 6 on the ve process; one switch G $\\to$ C (no return, no sliding) "
        "for the closed form; $\\rho(T) \\to 1$ as $T \\to \\infty$.",
    ]
    return Content(body, assumptions, backing, notes)


DOCUMENT = Document('claim6-affine-schedules', 'Affine schedules and the variance-preserving curve', 'claim 6', ('affine',),
                    groups=(Group('affine', 'Affine schedules and the variance-preserving curve', equations),), content=content)
