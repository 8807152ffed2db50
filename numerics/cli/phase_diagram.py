"""`cfg-distortion phase-diagram`: switching time and distortion over (alpha, omega), the
boundary alpha_c(omega, sigma2), a CSV and a figure (PNG and PDF); API: cd.phase_diagram."""
from __future__ import annotations

import os
import sys

from cfg_distortion.cli.arguments import add_json, add_out, add_process, add_rule, add_sampler, add_sigma2, add_xtol
from cfg_distortion.cli.report import emit_json, fmt, table

STEM = "phase_diagram"


def add_arguments(p):
    p.add_argument("--alpha", default=None, metavar="START:STOP:NUM",
                   help="alpha = log K / d grid, inclusive, NUM points like numpy.linspace (default: 40 or more "
                        "points in a round step up to 1.25 x the boundary's largest alpha for this sigma2, sampler "
                        "and omega range; 0.025:1.025:41 at sigma2 = 1)")
    p.add_argument("--omega", default="0:6:41", metavar="START:STOP:NUM",
                   help="constant guidance strength grid, -100 <= omega <= 1e5 (default 0:6:41, step 0.15; a "
                        "negative START needs --omega=-1:6:40)")
    add_sigma2(p)
    add_sampler(p)
    add_process(p)
    add_rule(p)
    add_xtol(p)
    add_out(p, f"{STEM}.csv, {STEM}_boundary.csv, .png and .pdf")
    add_json(p)


def run(args) -> int:
    from cfg_distortion import api, io
    from cfg_distortion.model import params as V

    if args.alpha is not None:
        V.linspace_range(args.alpha, "alpha", minimum=0.0)  # bad input before the folder is touched
    for w in V.linspace_range(args.omega, "omega")[[0, -1]]:
        V.omega_bound(w)
    V.sigma2(args.sigma2)
    V.xtol(args.xtol)
    names = {"csv": f"{STEM}.csv", "boundary": f"{STEM}_boundary.csv", "png": f"{STEM}.png", "pdf": f"{STEM}.pdf"}
    files_out = io.OutputSet(args.out, list(names.values()), name="out")  # before any work
    res = api.phase_diagram(args.alpha, args.omega, sigma2=args.sigma2, sampler=args.sampler, process=args.process,
                            xtol=args.xtol, progress=True, rule=args.rule)
    import time

    import matplotlib.pyplot as plt

    start = time.perf_counter()
    with files_out:  # CSVs and figures replace the old set together, or not at all
        files_out.path(names["csv"]).write_text(res.csv_text())
        files_out.path(names["boundary"]).write_text(res.boundary_csv_text())
        res.timings["csv"] = round(time.perf_counter() - start, 3)
        plt.close(res.plot(files_out.stem(STEM)))
        res.timings["figure"] = round(time.perf_counter() - start - res.timings["csv"], 3)
    files = {key: os.path.join(args.out, name) for key, name in names.items()}
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
    for line in res.warnings:
        print(f"cfg-distortion phase-diagram: warning: {line}", file=sys.stderr)
    failed = res.failed
    for alpha, omega, msg in failed[:10]:
        print(f"cfg-distortion phase-diagram: integration failed at alpha={alpha:g}, omega={omega:g}: {msg}",
              file=sys.stderr)
    if len(failed) > 10:
        print(f"cfg-distortion phase-diagram: ... and {len(failed) - 10} more failed points "
              "(see the CSV status column)", file=sys.stderr)
    return 3 if failed else 0
