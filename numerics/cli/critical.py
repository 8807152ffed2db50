"""`cfg-distortion critical`: alpha_c(t) (with --t) or t_c(alpha) (with --alpha); API: cd.alpha_c, cd.t_c."""
from __future__ import annotations

from cfg_distortion.cli.arguments import add_json, add_process, add_sigma2
from cfg_distortion.cli.report import emit_json, fmt


def add_arguments(p):
    add_sigma2(p, ">= 0")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--t", type=float, help="forward time t >= 0 (flow: 0 <= t < 1): print alpha_c(t)")
    which.add_argument("--alpha", type=float, help="alpha = log K / d >= 0: print the classification time t_c")
    add_process(p)
    add_json(p)


def run(args) -> int:
    from cfg_distortion import api

    if args.t is not None:
        res = api.alpha_c(args.t, args.sigma2, args.process)
        human = (f"alpha_c(t={fmt(res.t)}) = {fmt(res.alpha_c)}   "
                 f"[process {res.process}, sigma2 = {fmt(res.sigma2)}; alpha_c = log(1 + SNR_t)/2]")
    else:
        res = api.t_c(args.alpha, args.sigma2, args.process)
        human = (f"t_c(alpha={fmt(res.alpha)}) = {fmt(res.t_c)}   "
                 f"[process {res.process}, sigma2 = {fmt(res.sigma2)}, alpha_c(0) = {fmt(res.alpha_c_at_0)}]")
    if args.json:
        emit_json(res.to_json())
        return 0
    print(human)
    if res.message:
        print(res.message)
    return 0
