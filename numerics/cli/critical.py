"""`cfg-distortion critical`: alpha_c(t) (with --t) or t_c(alpha) (with --alpha)."""
from __future__ import annotations

from cfg_distortion.model import critical
from cfg_distortion.cli.report import emit_json, fmt
from cfg_distortion.model.params import PROCESSES


def add_arguments(p):
    p.add_argument("--sigma2", type=float, required=True, help="within-class variance sigma^2 >= 0")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--t", type=float, help="forward time t >= 0 (flow: 0 <= t < 1): print alpha_c(t)")
    which.add_argument("--alpha", type=float, help="alpha = log K / d >= 0: print the classification time t_c")
    p.add_argument("--process", default="ou", choices=PROCESSES, help="forward process (default: ou)")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")


def run(args) -> int:
    if args.t is not None:
        res = critical.alpha_c(args.t, args.sigma2, args.process)
        out = res.to_json()
        human = (f"alpha_c(t={fmt(res.t)}) = {fmt(res.alpha_c)}   "
                 f"[process {res.process}, sigma2 = {fmt(res.sigma2)}; alpha_c = log(1 + SNR_t)/2]")
    else:
        res = critical.t_c(args.alpha, args.sigma2, args.process)
        out = res.to_json()
        human = (f"t_c(alpha={fmt(res.alpha)}) = {fmt(res.t_c)}   "
                 f"[process {res.process}, sigma2 = {fmt(res.sigma2)}, alpha_c(0) = {fmt(res.alpha_c_at_0)}]")
    if args.json:
        emit_json(out)
    else:
        print(human)
        if "message" in out:
            print(out["message"])
    return 0
