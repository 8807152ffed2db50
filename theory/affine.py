"""Affine guidance omega(t) = w0 + slope t on the variance-exploding process, and its variance-preserving curve.

For ``ve`` (a = 1, b = t, so t is the noise level) the weight with which guidance moves the variance
ratio rho = v / Gamma_t in branch G (:func:`.schedule_design.guidance_weight`) specialises to
:func:`guidance_weight_ve`. For the probability-flow ODE, d log rho / dtau = -omega k_t in branch G
and 0 in branch C, so with one switch G -> C at t_s and rho(T -> infinity) = 1,

    log(v(0)/sigma2) = -int_{t_s}^infinity (w0 + slope t) k_t dt = -(w0 I0(t_s) + slope I1(t_s)),

with I0 and I1 integrated by sympy (:func:`weight_moments`). v(0) = sigma2 is therefore the line
slope = -w0 I0/I1 at the switch time of that schedule (:func:`ode_preserving_slope`): a negative
w0 (negative guidance near the data) paid back by a positive slope (positive guidance early). Both
integrals converge as T -> infinity (k_t ~ 2/t^3), so the ODE's variance, unlike its m, has a
T -> infinity limit. For the SDE the same weight acts and the relaxation of
:mod:`.schedule_design` adds no omega, so the curve has the same sign structure; it is found
numerically (``cfg-distortion schedule-map``).
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from .dmf import f, g2
from .process import PRESETS
from .schedule_design import guidance_weight
from .symbols import sigma2, t

__all__ = ["t_s", "w0", "slope", "guidance_weight_ve", "weight_moments", "ode_log_ratio", "ode_preserving_slope",
           "equations", "content"]

t_s = sp.Symbol("t_s", positive=True)  # the switch time G -> C of the trajectory
w0, slope = sp.symbols("w_0 slope", real=True)


@cache
def guidance_weight_ve() -> sp.Expr:
    """k_t on the ve process."""
    p = PRESETS["ve"]
    return sp.factor(sp.simplify(p.specialise(guidance_weight().subs({f: p.f, g2: p.g2}))))


@cache
def weight_moments() -> tuple[sp.Expr, sp.Expr]:
    """(I0, I1) = (int_{t_s}^oo k_t dt, int_{t_s}^oo t k_t dt) on ve."""
    sp2 = sp.Symbol("sigma2_p", positive=True)  # sigma2 > 0 while integrating (partial fractions in s)
    k = guidance_weight_ve().subs(sigma2, sp2)
    s_ = sp.Symbol("s_", positive=True)
    out = []
    for power in (0, 1):
        # antiderivative of the partial fractions, then its limit at infinity (the log terms cancel there)
        F = sp.integrate(sp.apart(sp.expand(s_**power * k.subs(t, s_)), s_), s_)
        val = sp.limit(F, s_, sp.oo) - F.subs(s_, t_s)
        if val.has(sp.Integral) or val.has(sp.nan) or val.has(sp.oo):
            raise RuntimeError(f"moment {power} of k_t not in closed form: {val}")
        out.append(sp.simplify(val).subs(sp2, sigma2))
    return out[0], out[1]


@cache
def ode_log_ratio() -> sp.Expr:
    """log(v(0)/sigma2) of the ODE with one switch at t_s, omega = w0 + slope t in branch G."""
    I0, I1 = weight_moments()
    return -(w0 * I0 + slope * I1)


@cache
def ode_preserving_slope() -> sp.Expr:
    """The slope with v(0) = sigma2 for a given w0 and switch time t_s (ODE)."""
    (sol,) = sp.solve(sp.Eq(ode_log_ratio(), 0), slope)
    return sp.simplify(sol)


def equations():
    from .equations import Equation

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
    from .documents import Backing, Content, pytest_cmd

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
