"""`cfg-distortion finite-d`: the finite-d effective theory of guided sampling, m and v at t = 0; API: cd.finite_d."""
from __future__ import annotations

from cfg_distortion.cli.arguments import (add_classes, add_guidance, add_json, add_process, add_rule, add_sampler,
                                          add_sigma2)
from cfg_distortion.cli.report import emit_json, fmt, table


def add_arguments(p):
    p.add_argument("--d", type=int, required=True, help="dimension d >= 1")
    add_classes(p)
    add_guidance(p)
    add_rule(p)
    add_sigma2(p)
    add_sampler(p)
    p.add_argument("--paths", type=int, default=20000, help="number of (m, v) paths (default: 20000)")
    p.add_argument("--steps", type=int, default=1000, help="exact-transition steps (default: 1000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the paths (default: 0)")
    p.add_argument("--T", type=float, help="start time, 0 < T <= 300 (ou), 1e12 (ve), < 1 (flow) (default: as simulate: ou 10, ve 1e4, flow 1 - 1e-4)")
    add_process(p)
    add_json(p)


def run(args) -> int:
    from cfg_distortion import api

    res = api.finite_d(args.d, args.K, alpha=args.alpha, omega=args.omega, schedule=args.schedule,
                       sigma2=args.sigma2, sampler=args.sampler, process=args.process, paths=args.paths,
                       steps=args.steps, seed=args.seed, T=args.T, progress=True, rule=args.rule)
    if args.json:
        emit_json(res.to_json())
        return 0
    rows = [{"quantity": "m = x.mu_c/d", "mean": res.m_mean, "sd": res.m_sd, "sem": res.m_sem},
            {"quantity": "v = |x - m mu_c|^2/d", "mean": res.v_mean, "sd": res.v_sd, "sem": res.v_sem}]
    print(table(rows, ["quantity", "mean", "sd", "sem"]))
    K = "exp(alpha d)" if res.K is None else fmt(int(res.K))
    print(f"classified fraction (w_c > 1/2 at t = 0) {fmt(res.classified_fraction)}   [d = {res.d}, K = {K}, "
          f"alpha_d = log(K - 1)/d = {fmt(res.alpha_d)}, {res.paths} paths, {res.sampler} with {res.steps_taken} "
          f"exact-transition steps, process {res.process}, schedule {res.schedule}, sigma2 = {fmt(res.sigma2)}, "
          f"|mu_c|^2 = d]")
    return 0
