"""`cfg-distortion phase-diagram`: switching time and distortion over (alpha, omega), the
boundary alpha_c(omega, sigma2), a CSV and a figure (PNG and PDF)."""
from __future__ import annotations

import math
import os
import sys
import time

from cfg_distortion.cli.report import emit_json, fmt, table
from cfg_distortion.model.params import PROCESSES

STEM = "phase_diagram"


def add_arguments(p):
    p.add_argument("--alpha", default=None, metavar="START:STOP:NUM",
                   help="alpha = log K / d grid, inclusive, NUM points like numpy.linspace (default: 40 or more "
                        "points in a round step up to 1.25 x the boundary's largest alpha for this sigma2, sampler "
                        "and omega range; 0.025:1.025:41 at sigma2 = 1)")
    p.add_argument("--omega", default="0:6:41", metavar="START:STOP:NUM",
                   help="constant guidance strength grid, -100 <= omega <= 1e5 (default 0:6:41, step 0.15; a "
                        "negative START needs --omega=-1:6:40)")
    p.add_argument("--sigma2", type=float, default=1.0, help="within-class variance sigma^2, 1e-100 <= sigma2 <= 1e100 (default 1)")
    p.add_argument("--sampler", default="sde", choices=("sde", "ode"), help="reverse SDE or probability-flow ODE")
    p.add_argument("--process", default="ou", choices=PROCESSES, help="forward process (default: ou)")
    p.add_argument("--xtol", type=float, default=1e-6, help="tolerance of the boundary root in alpha, 1e-12 <= xtol <= 1e-3 (default 1e-6)")
    p.add_argument("--out", default="out", help="output folder (default ./out)")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")


def parse_range(text: str, name: str, minimum: float | None = None):
    """'START:STOP:NUM' -> numpy.linspace(START, STOP, NUM); ValueError with one line otherwise."""
    import numpy as np

    parts = str(text).split(":")
    if len(parts) != 3:
        raise ValueError(f"--{name} must be START:STOP:NUM (got {text!r})")
    try:
        start, stop = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"--{name}: START and STOP must be numbers (got {text!r})") from None
    try:
        num = int(parts[2])
    except ValueError:
        raise ValueError(f"--{name}: NUM must be an integer >= 1 (got {parts[2]!r})") from None
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise ValueError(f"--{name}: START and STOP must be finite (got {text!r})")
    if not 1 <= num <= 10**7:
        raise ValueError(f"--{name}: NUM must satisfy 1 <= NUM <= 1e7 (got {num})")
    if minimum is not None and min(start, stop) < minimum:
        raise ValueError(f"--{name}: {name} must be >= {minimum:g} (got {text!r})")
    return np.linspace(start, stop, num)



def run(args) -> int:
    import numpy as np
    from tqdm import tqdm

    from cfg_distortion.meanfield import phase
    from cfg_distortion.plots import phase as phase_figure
    from cfg_distortion.model.process import get_process

    from cfg_distortion import io
    from cfg_distortion.model import params as V

    alphas = None if args.alpha is None else parse_range(args.alpha, "alpha", minimum=0.0)
    omegas = parse_range(args.omega, "omega")
    V.sigma2(args.sigma2), V.xtol(args.xtol)
    for w in (omegas.min(), omegas.max()):
        V.omega_bound(w)
    names = {"csv": f"{STEM}.csv", "boundary": f"{STEM}_boundary.csv", "png": f"{STEM}.png", "pdf": f"{STEM}.pdf"}
    files_out = io.OutputSet(args.out, list(names.values()), name="out")  # before any work
    files = {key: os.path.join(args.out, name) for key, name in names.items()}
    kw = dict(sampler=args.sampler, process=args.process)
    start = time.perf_counter()
    timings, last = {}, [start]

    def lap(name):  # seconds since the previous lap, for the JSON "timings"
        now = time.perf_counter()
        timings[name], last[0] = round(now - last[0], 3), now

    if alphas is None:
        alphas = phase.default_alphas(omegas, args.sigma2, **kw)
        lap("default_alpha")
    with tqdm(total=1000, desc="grid", unit="‰", disable=None, leave=False, file=sys.stderr) as bar:
        grid = phase.phase_grid(alphas, omegas, args.sigma2, progress=bar, **kw)
    res = grid.points
    lap("grid")
    with tqdm(desc="boundary (integrations)", disable=None, leave=False, file=sys.stderr) as bar:
        bnd = phase.boundary(omegas, args.sigma2, xtol=args.xtol, progress=bar, **kw)
    lap("boundary")
    lim = phase.limits(omegas, args.sigma2, **kw)
    lap("limits")
    alpha_c0 = float(get_process(args.process).alpha_c(0.0, args.sigma2))
    warnings = phase.boundary_warnings(bnd, alphas)
    failed = {i: msg for i, msg in res.failed}

    from cfg_distortion.model import critical

    def t_c(alpha):
        value = critical.t_c(alpha, args.sigma2, args.process).t_c
        return np.nan if value is None else value

    with files_out:  # CSVs and figures replace the old set together, or not at all
        files_out.path(names["csv"]).write_text(phase.grid_csv_text(res))
        files_out.path(names["boundary"]).write_text(phase.boundary_csv_text(bnd))
        lap("csv")
        phase_figure.draw(str(files_out.stem(STEM)), grid, bnd, lim, sigma2=args.sigma2, alpha_c0=alpha_c0,
                          t_c=t_c, **kw)
        lap("figure")
    seconds = time.perf_counter() - start
    finite = [b for b in bnd if b.alpha_c is not None]
    summary = {
        "files": files,
        "points": int(res.alpha.size), "alpha": [float(alphas[0]), float(alphas[-1]), int(alphas.size)],
        "omega": [float(omegas[0]), float(omegas[-1]), int(omegas.size)],
        "sigma2": args.sigma2, "sampler": args.sampler, "process": args.process,
        "boundary": [b.to_json() for b in bnd],
        "boundary_tolerance": max((b.tolerance for b in finite), default=args.xtol),
        "boundary_method": "bracketed Illinois regula falsi in alpha on the signed final margin, vectorised over omega",
        "alpha_c_t0": alpha_c0,
        "classified_fraction": float(np.mean(res.classified)),
        "per_point_fallback": int(res.fallback.sum()), "steps": res.steps,
        "failed": [{"alpha": float(res.alpha[i]), "omega": float(res.omega[i]), "error": m} for i, m in failed.items()],
        "warnings": warnings, "seconds": round(seconds, 3), "timings": timings,
    }
    if args.json:
        emit_json(summary)
    else:
        print(f"phase diagram: {res.alpha.size} points ({alphas.size} alpha x {omegas.size} omega), sigma2 = "
              f"{fmt(args.sigma2)}, {args.sampler}, {args.process}; {res.fallback.sum()} per-point, {seconds:.1f} s")
        rows = [{"omega": b.omega, "alpha_c": b.alpha_c, "tolerance": b.tolerance, "note": b.note or None}
                for b in bnd[:: max(1, len(bnd) // 12)]]
        print(table(rows, ["omega", "alpha_c", "tolerance", "note"]))
        print(f"alpha_c(t=0) = {fmt(alpha_c0)} (unguided threshold log(1 + SNR_0)/2)")
        for key, path in files.items():
            print(f"wrote {path}")
    for line in warnings:
        print(f"cfg-distortion phase-diagram: warning: {line}", file=sys.stderr)
    for i, msg in list(failed.items())[:10]:
        print(f"cfg-distortion phase-diagram: integration failed at alpha={res.alpha[i]:g}, omega={res.omega[i]:g}: "
              f"{msg}", file=sys.stderr)
    if len(failed) > 10:
        print(f"cfg-distortion phase-diagram: ... and {len(failed) - 10} more failed points "
              "(see the CSV status column)", file=sys.stderr)
    return 3 if failed else 0
