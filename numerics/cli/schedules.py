"""`cfg-distortion schedules`: standard guidance schedules side by side with the designed one; API:
cd.compare_schedules.

Constant omega, a guidance interval (Kynkaanniemi et al. 2024: guidance only while the EDM noise
level b_t/a_t is in (0.28, 5.42]), linear in t (0 at t = T up to omega at t = 0) and the schedule
of ``schedule-design``, each with its final mean shift m(0) - 1, variance ratio v(0)/sigma2
and whether the sample is classified at t = 0 (d -> infinity mean field).
"""
from __future__ import annotations

from cfg_distortion.cli.arguments import add_json, add_process, add_sampler, add_sigma2
from cfg_distortion.cli.report import emit_json, fmt, table


def add_arguments(p):
    p.add_argument("--alpha", type=float, required=True, help="alpha = log K / d >= 0")
    add_sigma2(p)
    p.add_argument("--omega", type=float, default=3.0, help="guidance strength W > 0 of every schedule (default: 3)")
    add_sampler(p)
    add_process(p)
    add_json(p)


def run(args) -> int:
    from cfg_distortion import api

    res = api.compare_schedules(args.alpha, args.omega, sigma2=args.sigma2, sampler=args.sampler,
                                process=args.process)
    if args.json:
        emit_json(res.to_json())
        return 0
    print(table(res.rows, ["name", "mean_shift", "variance_ratio", "kl", "w2", "classified", "t_switch", "schedule"]))
    print(f"\nalpha = {fmt(args.alpha)}, sigma2 = {args.sigma2:g}, omega = {args.omega:g}, {args.sampler}, "
          f"{args.process}; mean_shift = m(0) - 1, variance_ratio = v(0)/sigma2 (1 = class law), t_switch = "
          "first switch to the target branch; kl, w2 = KL and W2^2 to the class law per dimension")
    for r in res.rows:
        print(f"  {r['name']}: {r['description']}")
    return 0
