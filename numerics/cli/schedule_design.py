"""`cfg-distortion schedule-design`: a negative-guidance window that restores v(0) = sigma2.

Exit status: 0 designed; 2 bad input (one line); 1 no such window exists for the inputs
(the reason on stderr, and with --json an object with ``schedule: null`` on stdout).
"""
from __future__ import annotations

import math
import sys

from cfg_distortion.cli.report import emit_json, fmt, table
from cfg_distortion.model.params import PROCESSES

SAMPLERS = ("sde", "ode")  # numerics.dmf.SAMPLERS (not imported: keeps --help fast)


def add_arguments(p):
    p.add_argument("--alpha", type=float, required=True, help="alpha = log K / d >= 0")
    p.add_argument("--sigma2", type=float, required=True, help="within-class variance sigma^2 > 0")
    p.add_argument("--omega-max", type=float, required=True, help="early guidance strength W > 0")
    p.add_argument("--omega-window", type=float, default=-1.0,
                   help="strength of the negative window (< 0; default -1: the unconditional score); doubled "
                        "up to -64 if the sample would end unclassified")
    p.add_argument("--sampler", default="sde", choices=SAMPLERS, help="reverse SDE or probability-flow ODE (default: sde)")
    p.add_argument("--process", default="ou", choices=PROCESSES, help="forward process (default: ou)")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--plot", metavar="FILE", help="draw m(t), v(t), omega(t) of the designed and the constant "
                                                  "schedule to FILE with .png and .pdf")


def _check(args) -> None:
    """Bad input, before any solving (ValueError: one line, exit 2)."""
    for name, value, ok, allowed in (("omega-max", args.omega_max, lambda x: x > 0, "> 0"),
                                     ("alpha", args.alpha, lambda x: x >= 0, ">= 0"),
                                     ("sigma2", args.sigma2, lambda x: x > 0, "> 0")):
        if math.isnan(value) or not ok(value):
            raise ValueError(f"--{name} must be {allowed} (got {value:g})")
    if not math.isfinite(args.omega_max) or not math.isfinite(args.sigma2):
        raise ValueError("--omega-max and --sigma2 must be finite")


def run(args) -> int:
    _check(args)
    from cfg_distortion.meanfield.design import NoWindowError, design_schedule
    from cfg_distortion.plots.design import plot_design, plot_path

    if args.plot:
        plot_path(args.plot)  # a bad path is bad input: fail before solving
    try:
        d = design_schedule(args.alpha, args.sigma2, args.omega_max, args.sampler, args.process,
                            omega_window=args.omega_window)
    except NoWindowError as exc:
        if args.json:
            emit_json({"schedule": None, "no_window": True, "reason": str(exc),
                       "alpha": None if math.isinf(args.alpha) else args.alpha, "K_infinite": math.isinf(args.alpha),
                       "sigma2": args.sigma2, "omega_max": args.omega_max, "sampler": args.sampler,
                       "process": args.process})
        print(f"cfg-distortion schedule-design: no window: {exc}", file=sys.stderr)
        return 1
    out = d.to_json()
    outs = plot_design(d, args.plot) if args.plot else []
    if args.json:
        emit_json({**out, "plots": [str(p) for p in outs]})
        return 0
    print(f"designed schedule: {d.schedule}")
    rows = [{"schedule": f"constant omega = {fmt(d.omega_max)}", "m(0)": d.baseline.m_final,
             "v(0)": d.baseline.v_final, "v(0)/sigma2": d.baseline.variance_ratio, "classified": d.baseline.classified,
             "t_switch": ", ".join(f"{x:.6g}" for x in d.baseline.t_switch) or "-"},
            {"schedule": "designed", "m(0)": d.m_final, "v(0)": d.v_final, "v(0)/sigma2": d.trajectory.variance_ratio,
             "classified": d.classified, "t_switch": ", ".join(f"{x:.6g}" for x in d.trajectory.t_switch) or "-"}]
    print(table(rows, ["schedule", "m(0)", "v(0)", "v(0)/sigma2", "classified", "t_switch"]))
    if d.omega_window is not None:
        print(f"window omega = {fmt(d.omega_window)} on ({d.t_window_end:.10g}, {d.t_window_start:.10g}] "
              f"(ends at the constant-omega switch; start from brentq, xtol = {d.root_xtol:g}); "
              f"v(0) - sigma2 = {d.v_final - d.sigma2:.2e}")
    for note in out["notes"]:
        print(f"note: {note}")
    for p in outs:
        print(f"wrote {p}")
    return 0
