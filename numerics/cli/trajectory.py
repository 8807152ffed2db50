"""`cfg-distortion trajectory`: one DMF trajectory of guided sampling (d -> infinity)."""
from __future__ import annotations

from cfg_distortion.cli.arguments import add_guidance
from cfg_distortion.cli.report import emit_json, fmt, table
from cfg_distortion.model.params import PROCESSES


def add_arguments(p):
    p.add_argument("--alpha", type=float, required=True,
                   help="alpha = log K / d >= 0; 'inf' for K -> infinity at fixed d (branch G throughout)")
    add_guidance(p)
    p.add_argument("--sigma2", type=float, required=True, help="within-class variance sigma^2 > 0")
    p.add_argument("--sampler", default="sde", choices=("sde", "ode"), help="reverse SDE or probability-flow ODE")
    p.add_argument("--process", default="ou", choices=PROCESSES, help="forward process (default: ou)")
    p.add_argument("--T", type=float, default=None, help="start time (default: per process and sampler, "
                                                          "converged to the T -> end limit)")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--plot", metavar="FILE", help="write FILE.png and FILE.pdf: m(t), v(t), branch, minima of V")


def run(args) -> int:
    from cfg_distortion.meanfield.dmf import trajectory

    if args.plot:
        from cfg_distortion.plots.common import figure_paths

        figure_paths(args.plot)  # a bad path is bad input: refused before any work
    tr = trajectory(args.alpha, args.omega, args.sigma2, schedule=args.schedule, sampler=args.sampler,
                    process=args.process, T=args.T)
    out = tr.to_json()
    if args.plot:
        from cfg_distortion.plots.common import plot_trajectory

        out["plot"] = [str(p) for p in plot_trajectory(tr, args.plot)]
    if args.json:
        emit_json(out)
        return 0
    keys = ["m_final", "v_final", "mean_shift", "variance_ratio", "classified", "t_switch", "branches"]
    rows = [{"quantity": k, "value": fmt(out[k]) if not isinstance(out[k], list)
             else ", ".join(fmt(x) for x in out[k]) or "-"} for k in keys]
    print(f"DMF trajectory: alpha = {fmt(tr.alpha)}, schedule {tr.schedule}, sigma2 = {fmt(tr.sigma2)}, "
          f"{tr.sampler} sampler, {tr.process} process, T = {fmt(tr.T)}")
    print(table(rows, ["quantity", "value"]))
    for note in out["notes"]:
        print(f"note: {note}")
    if args.plot:
        print("wrote " + ", ".join(out["plot"]))
    return 0
