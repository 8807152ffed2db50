"""`cfg-distortion simulate`: guided sampling with the exact mixture score at finite d; API: cd.simulate."""
from __future__ import annotations

from cfg_distortion.cli.arguments import (add_classes, add_guidance, add_json, add_process, add_rule, add_sampler,
                                          add_sigma2)
from cfg_distortion.cli.report import emit_json, fmt, table

TARGET_NORMS = ("fixed", "random")
PRECISIONS = ("auto", "float32", "float64")  # finite_d.posterior.PRECISIONS
BACKENDS = ("numpy", "numba", "torch")  # finite_d.backends.BACKENDS (an absent engine is reported, exit 2)


def add_arguments(p):
    p.add_argument("--d", type=int, required=True, help="dimension d >= 1")
    add_classes(p)
    add_guidance(p)
    add_rule(p)
    add_sigma2(p, "0 or in [1e-100, 1e100]")
    p.add_argument("--n", type=int, default=1000, help="number of samples (default: 1000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the centroids and of the samples (default: 0)")
    p.add_argument("--steps", type=int, help="integrator steps (default: 100 at --order 2, 400 at --order 1)")
    p.add_argument("--order", type=int, default=2, choices=(1, 2),
                   help="2: the posterior pull extrapolated to each step's middle (second order); "
                        "1: frozen at the step's start (default: 2)")
    p.add_argument("--precision", default="auto", choices=PRECISIONS,
                   help="posterior kernel tiles: float32 (float64 sums and state), float64, or auto: float32 "
                        "wherever its rounding is negligible (default: auto)")
    p.add_argument("--backend", default="numpy", choices=BACKENDS,
                   help="array engine of the posterior kernel: numpy; numba (fused kernel, extra [fast]); "
                        "torch (CPU or GPU, extra [gpu]) (default: numpy)")
    p.add_argument("--T", type=float, help="start time, 0 < T <= 300 (ou), 1e12 (ve), < 1 (flow) (default: ou 10, ve 1e4, flow 1 - 1e-4)")
    add_sampler(p)
    add_process(p)
    p.add_argument("--integrator", default="exact", choices=("exact", "euler", "euler-ancestral", "heun"),
                   help="exact: the exact transition of the frozen-centroid step (default); euler, euler-ancestral, "
                        "heun: discrete samplers with k-diffusion conventions on process ve")
    p.add_argument("--grid", default=None, choices=("uniform", "karras"),
                   help="noise levels of a discrete integrator (default karras)")
    p.add_argument("--sigma-max", type=float, default=None, help="discrete integrators: largest noise level (default 80)")
    p.add_argument("--sigma-min", type=float, default=None,
                   help="discrete integrators: smallest nonzero noise level (default 0.002)")
    p.add_argument("--rho", type=float, default=None, help="discrete integrators: Karras exponent (default 7)")
    p.add_argument("--target-norm", default="fixed", choices=TARGET_NORMS,
                   help="fixed: rescale |mu_c|^2 to d; random: keep the drawn norm (default: fixed)")
    add_json(p)


def run(args) -> int:
    from cfg_distortion import api

    res = api.simulate(args.d, args.K, alpha=args.alpha, omega=args.omega, schedule=args.schedule,
                       sigma2=args.sigma2, n=args.n, seed=args.seed, steps=args.steps, T=args.T, sampler=args.sampler,
                       process=args.process, target_norm=args.target_norm, order=args.order,
                       precision=args.precision, backend=args.backend, progress=True, integrator=args.integrator,
                       grid=args.grid, sigma_max=args.sigma_max, sigma_min=args.sigma_min, rho=args.rho,
                       rule=args.rule)
    if args.json:
        emit_json(res.to_json())
        return 0
    rows = [{"quantity": "m = x.mu_c/|mu_c|^2", "mean": res.m_mean, "sem": res.m_sem},
            {"quantity": "v = |x - m mu_c|^2/d", "mean": res.v_mean, "sem": res.v_sem}]
    print(table(rows, ["quantity", "mean", "sem"]))
    how = (f"{res.sampler} with {res.steps_taken} exact-transition steps of order {res.order}" if res.integrator == "exact" else
           f"{res.integrator}, {res.steps_taken} {res.grid_kind} steps from sigma = {fmt(res.T)}")
    print(f"classified fraction {fmt(res.classified_fraction)}   [d = {res.d}, K = {res.K}, n = {res.n}, "
          f"{how}, process {res.process}, "
          f"schedule {res.schedule}, rule {res.rule}, sigma2 = {fmt(res.sigma2)}, |mu_c|^2/d = {fmt(res.target_norm2)}]")
    print(f"class law (omega = 0): m = 1, v = sigma2 (d - 1)/d = {fmt(res.sigma2 * (res.d - 1) / res.d)}")
    return 0
