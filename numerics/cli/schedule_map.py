"""`cfg-distortion schedule-map`: the affine family omega = w0 + slope t over a grid, its
variance-preserving curve (root finder) and the least-divergence classified point; API: cd.schedule_map."""
from __future__ import annotations

import os

from cfg_distortion.cli.report import emit_json, fmt, table
from cfg_distortion.model.params import PROCESSES

STEM = "schedule_map"


def add_arguments(p):
    p.add_argument("--alpha", type=float, required=True, help="alpha = log K / d >= 0")
    p.add_argument("--sigma2", type=float, default=1.0, help="within-class variance sigma^2 > 0 (default 1)")
    p.add_argument("--process", default="ve", choices=PROCESSES,
                   help="forward process (default: ve, where t is the noise level)")
    p.add_argument("--sampler", default="sde", choices=("sde", "ode"), help="reverse SDE or probability-flow ODE "
                                                                            "(default: sde)")
    p.add_argument("--w0", default="-1:1:21", metavar="START:STOP:NUM",
                   help="grid of w0 = omega(t = 0), inclusive (default -1:1:21; a negative START needs --w0=-1:1:21)")
    p.add_argument("--slope", default="0:1:21", metavar="START:STOP:NUM", help="grid of slopes (default 0:1:21)")
    p.add_argument("--T", type=float, default=None, help="start time (default: per process and sampler)")
    p.add_argument("--omega", type=float, default=3.0,
                   help="guidance strength of the constant and designed schedules compared with (default 3)")
    p.add_argument("--no-compare", action="store_true",
                   help="skip the constant and designed schedules (the designed window costs many trajectories)")
    p.add_argument("--out", default="out", help="output folder (default ./out): schedule_map.csv, .png, .pdf")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")


def run(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cfg_distortion import api, io
    from cfg_distortion.model.params import linspace_range

    linspace_range(args.w0, "w0")  # bad input before the folder is touched
    linspace_range(args.slope, "slope")
    files_out = io.OutputSet(args.out, [f"{STEM}.csv", f"{STEM}.png", f"{STEM}.pdf"], name="out")  # before work
    res = api.schedule_map(args.alpha, sigma2=args.sigma2, process=args.process, sampler=args.sampler, w0=args.w0,
                           slope=args.slope, T=args.T, omega=args.omega, compare=not args.no_compare,
                           progress=True)
    with files_out:  # CSV and figure replace the old set together, or not at all
        res.to_csv(files_out.path(f"{STEM}.csv"))
        plt.close(res.plot(str(files_out.stem(STEM))))
    res.files.update({ext: os.path.join(args.out, f"{STEM}.{ext}") for ext in ("csv", "png", "pdf")})
    if args.json:
        emit_json(res.to_json())
    else:
        print(f"schedule map: omega = w0 + slope t, alpha = {fmt(res.alpha)}, sigma2 = {fmt(res.sigma2)}, "
              f"{res.sampler}, {res.process}; {res.w0s.size} x {res.slopes.size} grid, {res.seconds:.1f} s")
        print("variance-preserving curve v(0) = sigma2 (root in slope for each w0):")
        print(table([c.to_json() for c in res.curve.points], ["w0", "slope", "m_final", "kl", "w2", "classified"]))
        if res.best is not None:
            print(f"best (least kl, classified): {res.best.schedule}  kl = {fmt(res.best.kl)}, "
                  f"m(0) = {fmt(res.best.m_final)}")
        else:
            print(f"best: none ({res.best_reason})")
        for name, ref in res.references.items():
            print(f"{name}: {ref.get('schedule')}  kl = {fmt(ref.get('kl'))}, m(0) = {fmt(ref.get('m_final'))}, "
                  f"v(0) = {fmt(ref.get('v_final'))}")
        for note in res.notes:
            print(f"note: {note}")
        for path in res.files.values():
            print(f"wrote {path}")
    return 0 if res.success else 3
