"""`cfg-distortion phase-diagram`: switching time and distortion over (alpha, omega), the
boundary alpha_c(omega, sigma2), a CSV and a figure (PNG and PDF); API: cd.phase_diagram."""
from __future__ import annotations

import os
import sys

from cfg_distortion.cli.arguments import add_json, add_out, add_process, add_sampler, add_sigma2
from cfg_distortion.cli.report import emit_json, fmt, table

STEM = "phase_diagram"


def add_arguments(p):
    p.add_argument("--alpha", default="0.01:1:40", metavar="START:STOP:NUM",
                   help="alpha = log K / d grid, inclusive, NUM points like numpy.linspace (default 0.01:1:40)")
    p.add_argument("--omega", default="0:6:40", metavar="START:STOP:NUM",
                   help="constant guidance strength grid (default 0:6:40; a negative START needs --omega=-1:6:40)")
    add_sigma2(p)
    add_sampler(p)
    add_process(p)
    p.add_argument("--xtol", type=float, default=1e-6, help="tolerance of the boundary root in alpha (default 1e-6)")
    add_out(p, f"{STEM}.csv, .png and .pdf")
    add_json(p)


def run(args) -> int:
    from cfg_distortion import api, io
    from cfg_distortion.model import params as V

    V.linspace_range(args.alpha, "alpha", minimum=0.0)  # bad input before the folder is touched
    V.linspace_range(args.omega, "omega")
    V.positive("sigma2", args.sigma2)
    V.positive("xtol", args.xtol)
    files_out = io.OutputSet(args.out, [f"{STEM}.csv", f"{STEM}.png", f"{STEM}.pdf"], name="out")  # before work
    res = api.phase_diagram(args.alpha, args.omega, sigma2=args.sigma2, sampler=args.sampler, process=args.process,
                            xtol=args.xtol, progress=True)
    import matplotlib.pyplot as plt

    with files_out:  # CSV and figures replace the old set together, or not at all
        res.to_csv(files_out.path(f"{STEM}.csv"))
        plt.close(res.plot(files_out.stem(STEM)))
    files = {ext: os.path.join(args.out, f"{STEM}.{ext}") for ext in ("csv", "png", "pdf")}
    if args.json:
        emit_json({"files": files, **res.to_json()})
    else:
        p = res.grid.points
        print(f"phase diagram: {p.alpha.size} points ({res.alphas.size} alpha x {res.omegas.size} omega), sigma2 = "
              f"{fmt(res.sigma2)}, {res.sampler}, {res.process}; {p.fallback.sum()} per-point, {res.seconds:.1f} s")
        rows = [{"omega": b.omega, "alpha_c": b.alpha_c, "tolerance": b.tolerance, "note": b.note or None}
                for b in res.boundary[:: max(1, len(res.boundary) // 12)]]
        print(table(rows, ["omega", "alpha_c", "tolerance", "note"]))
        print(f"alpha_c(t=0) = {fmt(res.alpha_c_t0)} (unguided threshold log(1 + SNR_0)/2)")
        for path in files.values():
            print(f"wrote {path}")
    failed = res.failed
    for alpha, omega, msg in failed[:10]:
        print(f"cfg-distortion phase-diagram: integration failed at alpha={alpha:g}, omega={omega:g}: {msg}",
              file=sys.stderr)
    if len(failed) > 10:
        print(f"cfg-distortion phase-diagram: ... and {len(failed) - 10} more failed points "
              "(see the CSV status column)", file=sys.stderr)
    return 3 if failed else 0
