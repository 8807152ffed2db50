"""`cfg-distortion switch-scan`: after which step of a discrete sampler should guidance switch to
omega = -1? DMF prediction and finite-d simulation for every switch step; API: cd.switch_scan."""
from __future__ import annotations

import os

from cfg_distortion.cli.arguments import add_classes
from cfg_distortion.cli.report import emit_json, fmt, table

STEM = "switch_scan"
INTEGRATORS = ("euler", "euler-ancestral", "heun")  # finite_d.samplers.DISCRETE (not imported: keeps --help fast)


def add_arguments(p):
    add_classes(p)
    p.add_argument("--sigma2", type=float, default=1.0, help="within-class variance sigma^2 > 0 (default 1)")
    p.add_argument("--omega", type=float, default=3.0, help="guidance strength before the switch (default 3)")
    p.add_argument("--omega-after", type=float, default=-1.0,
                   help="guidance strength from the switch step on (default -1: the unconditional denoiser)")
    p.add_argument("--steps", type=int, default=30, help="sampler steps N (default 30); k = 0..N")
    p.add_argument("--integrator", default="euler-ancestral", choices=INTEGRATORS,
                   help="discrete sampler, k-diffusion conventions on ve (default: euler-ancestral)")
    p.add_argument("--grid", default="karras", choices=("uniform", "karras"), help="noise levels (default: karras)")
    p.add_argument("--sigma-max", type=float, default=80.0, help="largest noise level (default 80)")
    p.add_argument("--sigma-min", type=float, default=0.002, help="smallest nonzero noise level (default 0.002)")
    p.add_argument("--rho", type=float, default=7.0, help="Karras grid exponent (default 7)")
    p.add_argument("--d", type=int, default=30, help="dimension of the simulation (default 30)")
    p.add_argument("--n", type=int, default=1000, help="samples (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the centroids and the samples (default 0)")
    p.add_argument("--out", default="out", help="output folder (default ./out): switch_scan.csv, .png, .pdf")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")


def run(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cfg_distortion import api, io
    from cfg_distortion.finite_d.samplers import sigma_grid

    sigma_grid(args.steps, args.grid, args.sigma_max, args.sigma_min, args.rho)  # bad input before the folder
    files_out = io.OutputSet(args.out, [f"{STEM}.csv", f"{STEM}.png", f"{STEM}.pdf"], name="out")  # before work
    res = api.switch_scan(args.d, args.K, alpha=args.alpha, omega=args.omega, omega_after=args.omega_after,
                          sigma2=args.sigma2, steps=args.steps, integrator=args.integrator, grid=args.grid,
                          sigma_max=args.sigma_max, sigma_min=args.sigma_min, rho=args.rho, n=args.n,
                          seed=args.seed, progress=True)
    with files_out:  # CSV and figure replace the old set together, or not at all
        res.to_csv(files_out.path(f"{STEM}.csv"))
        plt.close(res.plot(str(files_out.stem(STEM))))
    res.files.update({ext: os.path.join(args.out, f"{STEM}.{ext}") for ext in ("csv", "png", "pdf")})
    if args.json:
        emit_json(res.to_json())
        return 0
    print(f"switch scan: {res.integrator}, {res.sigmas.size - 1} {res.grid_kind} steps, omega = {fmt(res.omega)} "
          f"then {fmt(res.omega_after)} from step k; d = {res.d}, K = {res.K}, sigma2 = {fmt(res.sigma2)}, "
          f"n = {res.n}; DMF: {res.dmf_sampler}, {res.seconds:.1f} s")
    cols = ["k", "sigma_switch", "v_ratio_dmf", "m_dmf", "classified_dmf", "v_ratio_sim", "v_ratio_sem", "m_sim",
            "m_sem", "classified_fraction"]
    rows = [{c: (round(r[c], 4) if isinstance(r[c], float) else r[c]) for c in cols} for r in res.rows]
    print(table(rows, cols))
    b = res.baseline
    print(f"same sampler at omega = 0: v_ratio = {b['v_ratio_sim']:.4f} +- {b['v_ratio_sem']:.4f}, "
          f"m = {b['m_sim']:.4f} +- {b['m_sem']:.4f} (discretisation bias)")
    print(f"best switch step (least kl, classified): DMF k = {fmt(res.best_k_dmf)}, simulator k = {fmt(res.best_k_sim)}")
    for path in res.files.values():
        print(f"wrote {path}")
    return 0
