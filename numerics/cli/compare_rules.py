"""`cfg-distortion compare-rules`: guidance rules side by side in the d -> infinity theory; API: cd.compare_rules.

For each rule (cfg, CFG-rescale, APG, CFG-Zero*, autoguidance; ``--rule`` grammar) and each
constant omega: the final m(0), v(0), kl to the class law and whether the sample is
classified, and the boundary alpha_c(omega) per rule; a CSV of the rows, a CSV of the
boundaries and a figure (PNG and PDF) in --out.
"""
from __future__ import annotations

import os

from cfg_distortion.cli.arguments import (RULE_GRAMMAR, add_json, add_out, add_process, add_sampler, add_sigma2,
                                          add_xtol)
from cfg_distortion.cli.report import emit_json, fmt, table

STEM = "compare_rules"


def add_arguments(p):
    p.add_argument("--alpha", type=float, required=True, help="alpha = log K / d >= 0; 'inf' for K -> infinity")
    add_sigma2(p)
    p.add_argument("--rules", default=None, metavar="SPEC,SPEC,...",
                   help=f"comma-separated rules, each {RULE_GRAMMAR}; a token that is not a rule name continues the "
                        "previous spec, as in rescale:0.7,eps (default: cfg,rescale:0.7,apg:0,zero-star,autoguidance:2)")
    p.add_argument("--omega", default="0:6:7", metavar="START:STOP:NUM",
                   help="constant guidance strengths, inclusive like numpy.linspace, -100 <= omega <= 1e5 "
                        "(default 0:6:7; one value: 3:3:1)")
    add_sampler(p)
    add_process(p)
    p.add_argument("--no-boundary", action="store_true", help="skip the boundary alpha_c(omega) per rule (faster)")
    add_xtol(p)
    add_out(p, f"{STEM}.csv, {STEM}_boundary.csv, .png and .pdf")
    add_json(p)


def run(args) -> int:
    import matplotlib.pyplot as plt

    from cfg_distortion import api, io
    from cfg_distortion.model import params as V
    from cfg_distortion.model.rules import parse_rules

    parse_rules(args.rules)  # bad input before the folder is touched
    V.linspace_range(args.omega, "omega")
    V.xtol(args.xtol)
    names = {"csv": f"{STEM}.csv", "boundary": f"{STEM}_boundary.csv", "png": f"{STEM}.png", "pdf": f"{STEM}.pdf"}
    files_out = io.OutputSet(args.out, list(names.values()), name="out")  # before any work
    res = api.compare_rules(args.alpha, sigma2=args.sigma2, rules=args.rules, omega=args.omega, sampler=args.sampler,
                            process=args.process, boundary=not args.no_boundary, xtol=args.xtol, progress=True)
    with files_out:  # CSVs and figures replace the old set together, or not at all
        files_out.path(names["csv"]).write_text(res.csv_text())
        files_out.path(names["boundary"]).write_text(res.boundary_csv_text())
        plt.close(res.plot(files_out.stem(STEM)))
    files = {key: os.path.join(args.out, name) for key, name in names.items()}
    if args.json:
        emit_json({"files": files, **res.to_json()})
        return 0
    print(f"guidance rules at alpha = {fmt(res.alpha)}, sigma2 = {fmt(res.sigma2)} ({res.sampler} sampler, "
          f"process {res.process}; mean field, d -> infinity)")
    print(table(res.rows, ["rule", "omega", "m_final", "v_final", "kl", "classified"]))
    if res.boundary:
        print("\nboundary alpha_c(omega) (classified below it):")
        rows = [{"rule": r, **{f"omega={p['omega']:g}": p["alpha_c"] for p in pts}} for r, pts in res.boundary.items()]
        print(table(rows, list(rows[0])))
    for note in res.notes:
        print(f"note: {note}")
    for path in files.values():
        print(f"wrote {path}")
    return 0
