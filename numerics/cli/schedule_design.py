"""`cfg-distortion schedule-design`: a negative-guidance window that restores v(0) = sigma2; API: cd.design_schedule.

Exit status: 0 designed; 2 bad input (one line); 1 no such window exists for the inputs
(the reason on stderr, and with --json an object with ``schedule: null`` on stdout).
"""
from __future__ import annotations

import sys

from cfg_distortion.cli.arguments import add_json, add_out, add_plot, add_process, add_sampler, add_sigma2
from cfg_distortion.cli.report import emit_json, fmt, table

STEM = "schedule-design"


def add_arguments(p):
    p.add_argument("--alpha", type=float, required=True, help="alpha = log K / d >= 0")
    add_sigma2(p)
    p.add_argument("--omega", type=float, required=True, help="early guidance strength W > 0")
    p.add_argument("--omega-window", type=float, default=-1.0,
                   help="strength of the negative window (< 0; default -1: the unconditional score); doubled "
                        "up to -64 if the sample would end unclassified")
    add_sampler(p)
    add_process(p)
    add_json(p)
    add_plot(p, f"{STEM}.png/.pdf: m(t), v(t), omega(t) of the designed and the constant schedule")
    add_out(p, "the figure")


def run(args) -> int:
    import os

    from cfg_distortion import api

    if args.plot:
        from cfg_distortion import io
        from cfg_distortion.plots.common import figure_paths

        figure_paths(os.path.join(io.check_dir(args.out, name="out"), STEM), name="out")  # before any work
    d = api.design_schedule(args.alpha, args.omega, sigma2=args.sigma2, omega_window=args.omega_window,
                            sampler=args.sampler, process=args.process, progress=True)
    out = d.to_json()
    if d.status == "no_window":
        if args.json:
            emit_json(out)
        print(f"cfg-distortion schedule-design: no window: {d.message}", file=sys.stderr)
        return 1
    outs = []
    if args.plot:
        from cfg_distortion.plots.design import plot_design

        outs = plot_design(d, os.path.join(args.out, STEM))
    if args.json:
        emit_json({**out, "plots": [str(p) for p in outs]})
        return 0
    _print_table(d, out)
    for p in outs:
        print(f"wrote {p}")
    return 0


def _print_table(d, out) -> None:
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
