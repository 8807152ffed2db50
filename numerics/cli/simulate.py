"""`cfg-distortion simulate`: guided sampling with the exact mixture score at finite d."""
from __future__ import annotations

from cfg_distortion.cli.arguments import add_classes, add_guidance
from cfg_distortion.cli.report import emit_json, fmt, table
from cfg_distortion.model.params import PROCESSES

SAMPLERS = ("sde", "ode")  # numerics.simulator.SAMPLERS (not imported: keeps --help fast)
TARGET_NORMS = ("fixed", "random")
PRECISIONS = ("auto", "float32", "float64")  # finite_d.posterior.PRECISIONS
BACKENDS = ("numpy", "numba", "torch")  # finite_d.backends.BACKENDS (an absent engine is reported, exit 2)


def add_arguments(p):
    p.add_argument("--d", type=int, required=True, help="dimension d >= 1")
    add_classes(p)
    add_guidance(p)
    p.add_argument("--sigma2", type=float, required=True, help="within-class variance sigma^2 >= 0")
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
    p.add_argument("--T", type=float, help="start time (default: ou 10, ve 1e4, flow 1 - 1e-4)")
    p.add_argument("--sampler", default="sde", choices=SAMPLERS, help="reverse SDE or probability-flow ODE (default: sde)")
    p.add_argument("--process", default="ou", choices=PROCESSES, help="forward process (default: ou)")
    p.add_argument("--target-norm", default="fixed", choices=TARGET_NORMS,
                   help="fixed: rescale |mu_c|^2 to d; random: keep the drawn norm (default: fixed)")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")


def run(args) -> int:
    from cfg_distortion.finite_d.simulator import simulate

    res = simulate(args.d, args.K, alpha=args.alpha, omega=args.omega, schedule=args.schedule, sigma2=args.sigma2,
                   n=args.n, seed=args.seed, steps=args.steps, T=args.T, sampler=args.sampler,
                   process=args.process, target_norm=args.target_norm, progress=True, order=args.order,
                   precision=args.precision, backend=args.backend)
    out = res.to_json()
    if args.json:
        emit_json(out)
        return 0
    rows = [{"quantity": "m = x.mu_c/|mu_c|^2", "mean": res.m_mean, "sem": res.m_sem},
            {"quantity": "v = |x - m mu_c|^2/d", "mean": res.v_mean, "sem": res.v_sem}]
    print(table(rows, ["quantity", "mean", "sem"]))
    print(f"classified fraction {fmt(res.classified_fraction)}   [d = {res.d}, K = {res.K}, n = {res.n}, "
          f"{res.sampler} with {res.steps_taken} exact-transition steps of order {res.order}, process {res.process}, "
          f"schedule {res.schedule}, sigma2 = {fmt(res.sigma2)}, |mu_c|^2/d = {fmt(res.target_norm2)}]")
    print(f"class law (omega = 0): m = 1, v = sigma2 (d - 1)/d = {fmt(res.sigma2 * (res.d - 1) / res.d)}")
    return 0
