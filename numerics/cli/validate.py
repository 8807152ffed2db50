"""`cfg-distortion validate`: simulation at several d against the DMF, extrapolated to d -> infinity; API: cd.validate."""
from __future__ import annotations

from cfg_distortion.cli.arguments import SCHEDULE_HELP, add_json, add_out
from cfg_distortion.cli.report import emit_json, table
from cfg_distortion.model.params import PROCESSES


def add_arguments(p):
    p.add_argument("--alpha", type=float, help="alpha = log K / d > 0 (one case; without it: the preset suite)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--omega", type=float, help="constant guidance strength omega (default 0 with --alpha)")
    g.add_argument("--schedule", help=SCHEDULE_HELP)
    p.add_argument("--sigma2", type=float, default=1.0, help="within-class variance sigma^2 > 0 (default: 1)")
    p.add_argument("--sampler", default="sde", choices=("sde", "ode"), help="reverse SDE or probability-flow ODE "
                   "(default: sde)")
    p.add_argument("--process", default="ou", choices=PROCESSES, help="forward process (default: ou)")
    p.add_argument("--d", default=None, help="comma-separated dimensions, at least two (default: 40,80,160)")
    p.add_argument("--draws", type=int, help="centroid draws per d, >= 2 (default: 4; --quick: 2)")
    p.add_argument("--n", type=int, help="samples per draw (default: 500; preset suite 1000, --quick 500)")
    p.add_argument("--steps", type=int, default=400, help="simulator and finite-d steps (default: 400)")
    p.add_argument("--quick", action="store_true", help="fewer draws and finite-d paths (preset suite: fewer "
                   "cases and dimensions, about a minute on 2 cores)")
    p.add_argument("--scheduler", help="run the simulations on Dask: 'local' (a LocalCluster) or a scheduler "
                   "address tcp://host:8786 (needs pip install \"cfg-distortion[distributed]\"; default: in-process)")
    add_out(p, "validate.csv and validate.png/.pdf")
    add_json(p)


def run(args) -> int:
    from pathlib import Path

    import matplotlib.pyplot as plt

    from cfg_distortion import api, io

    out = Path(args.out)
    files = io.OutputSet(out, ["validate.csv", "validate.png", "validate.pdf"], name="out")  # before any work
    if args.alpha is None and any(x is not None for x in (args.omega, args.schedule, args.d, args.draws)):
        raise ValueError("--alpha is required with --omega, --schedule, --d or --draws")
    res = api.validate(args.alpha, args.omega, schedule=args.schedule, sigma2=args.sigma2, sampler=args.sampler,
                       process=args.process, d=args.d, draws=args.draws, n=args.n, steps=args.steps,
                       quick=args.quick, scheduler=args.scheduler, progress=True)
    with files:  # the three files replace the old ones together, or not at all
        res.to_csv(files.path("validate.csv"))
        plt.close(res.plot(files.stem("validate")))
    csv_path, figures = str(out / "validate.csv"), [str(out / "validate.png"), str(out / "validate.pdf")]
    if args.json:
        emit_json({**res.to_json(), "csv": csv_path, "figure": figures, "quick": args.quick})
        return 0
    cols = ["alpha", "omega", "sampler", "d", "K", "draws", "m_sim", "m_sem", "m_finite_d", "m_dmf",
            "v_sim", "v_sem", "v_finite_d", "v_dmf"]
    shown = [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.to_json().items()} for r in res.rows]
    print(table(shown, cols))
    print()
    ext = []
    for cv in res.cases:
        e = cv.extrapolated
        for k in ("m", "v"):
            ext.append({"case": cv.label(), "quantity": k, "d -> inf": round(e[k], 4), "se": round(e[f"{k}_se"], 4),
                        "model": e["model"][k], "DMF": round(cv.dmf[k], 4),
                        "consistent": e[f"consistent_{k}"]})
    print(table(ext, ["case", "quantity", "d -> inf", "se", "model", "DMF", "consistent"]))
    print(f"sigma2 = {res.cases[0].sigma2:g}, {res.cases[0].process}, |mu_c|^2 = d; se over centroid draws x "
          f"samples; consistent: |extrapolated - DMF| <= 3 se; {res.seconds:.0f} s")
    print(f"wrote {csv_path}, {', '.join(figures)}")
    return 0
