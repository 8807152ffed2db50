"""`cfg-distortion trajectory`: one DMF trajectory of guided sampling (d -> infinity); API: cd.trajectory."""
from __future__ import annotations

from cfg_distortion.cli.arguments import (add_guidance, add_json, add_out, add_plot, add_process, add_rule, add_sampler,
                                          add_sigma2)
from cfg_distortion.cli.report import emit_json, fmt, table

STEM = "trajectory"


def add_arguments(p):
    p.add_argument("--alpha", type=float, required=True,
                   help="alpha = log K / d >= 0; 'inf' for K -> infinity at fixed d (branch G throughout)")
    add_guidance(p)
    add_rule(p)
    add_sigma2(p)
    add_sampler(p)
    add_process(p)
    p.add_argument("--T", type=float, default=None, help="start time, 0 < T <= 300 (ou), 1e12 (ve), < 1 (flow) (default: per process and sampler, "
                                                          "converged to the T -> end limit)")
    add_json(p)
    add_plot(p, f"{STEM}.png/.pdf: m(t), v(t), branch, omega(t), minima of V")
    add_out(p, "the figure")


def run(args) -> int:
    import os

    from cfg_distortion import api

    if args.plot:
        from cfg_distortion import io
        from cfg_distortion.plots.common import figure_paths

        figure_paths(os.path.join(io.check_dir(args.out, name="out"), STEM), name="out")  # before any work
    tr = api.trajectory(args.alpha, args.omega, schedule=args.schedule, sigma2=args.sigma2, sampler=args.sampler,
                        process=args.process, T=args.T, rule=args.rule)
    out = tr.to_json()
    if args.plot:
        from cfg_distortion.plots.common import plot_trajectory

        out["plot"] = [str(p) for p in plot_trajectory(tr, os.path.join(args.out, STEM))]
    if args.json:
        emit_json(out)
        return 0
    keys = ["m_final", "v_final", "mean_shift", "variance_ratio", "classified", "t_switch", "branches",
            "captured_by_wrong_class", "t_capture"]
    rows = [{"quantity": k, "value": fmt(out[k]) if not isinstance(out[k], list)
             else ", ".join(fmt(x) for x in out[k]) or "-"} for k in keys]
    print(f"DMF trajectory: alpha = {fmt(tr.alpha)}, schedule {tr.schedule}, sigma2 = {fmt(tr.sigma2)}, "
          f"{tr.sampler} sampler, {tr.process} process, T = {fmt(tr.T)}")
    print(table(rows, ["quantity", "value"]))
    if out["status"] != "ok":
        print(f"{out['status']}: {out['message']}")
    for note in out["notes"]:
        print(f"note: {note}")
    if args.plot:
        print("wrote " + ", ".join(out["plot"]))
    return 0
