"""`cfg-distortion schedules`: standard guidance schedules side by side with the designed one.

Constant omega, a guidance interval (Kynkaanniemi et al. 2024: guidance only while the EDM noise
level b_t/a_t is in (0.28, 5.42]), linear in t (0 at t = T up to omega at t = 0) and the schedule
of ``schedule-design``, each with its final mean shift m(0) - 1, variance ratio v(0)/sigma2
and whether the sample is classified at t = 0 (d -> infinity mean field).
"""
from __future__ import annotations

import math

from cfg_distortion.cli.report import emit_json, fmt, table
from cfg_distortion.model.params import PROCESSES

SAMPLERS = ("sde", "ode")


def add_arguments(p):
    p.add_argument("--alpha", type=float, required=True, help="alpha = log K / d >= 0")
    p.add_argument("--sigma2", type=float, required=True, help="within-class variance sigma^2 > 0")
    p.add_argument("--omega", type=float, default=3.0, help="guidance strength W > 0 of every schedule (default: 3)")
    p.add_argument("--sampler", default="sde", choices=SAMPLERS, help="reverse SDE or probability-flow ODE (default: sde)")
    p.add_argument("--process", default="ou", choices=PROCESSES, help="forward process (default: ou)")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")


def run(args) -> int:
    for name, value, allowed in (("omega", args.omega, "> 0"), ("sigma2", args.sigma2, "> 0")):
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"--{name} must be finite and {allowed} (got {value:g})")
    if math.isnan(args.alpha) or args.alpha < 0:
        raise ValueError(f"--alpha must be >= 0 (got {args.alpha:g})")
    from cfg_distortion.meanfield.design import compare_schedules

    rows = compare_schedules(args.alpha, args.sigma2, args.omega, args.sampler, args.process)
    if args.json:
        emit_json({"schedules": rows, "alpha": args.alpha, "sigma2": args.sigma2, "omega": args.omega,
                   "sampler": args.sampler, "process": args.process})
        return 0
    print(table(rows, ["name", "mean_shift", "variance_ratio", "kl", "w2", "classified", "t_switch", "schedule"]))
    print(f"\nalpha = {fmt(args.alpha)}, sigma2 = {args.sigma2:g}, omega = {args.omega:g}, {args.sampler}, "
          f"{args.process}; mean_shift = m(0) - 1, variance_ratio = v(0)/sigma2 (1 = class law), t_switch = "
          "first switch to the target branch; kl, w2 = KL and W2^2 to the class law per dimension")
    for r in rows:
        print(f"  {r['name']}: {r['description']}")
    return 0
