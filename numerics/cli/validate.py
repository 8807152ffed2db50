"""`cfg-distortion validate`: simulation against the DMF and the finite-d theory at several d."""
from __future__ import annotations

from cfg_distortion.cli.report import emit_json, table


def add_arguments(p):
    p.add_argument("--quick", action="store_true",
                   help="fewer cases, dimensions, draws and samples (about a minute on 2 cores)")
    p.add_argument("--out", default="out", help="directory for validate.csv and validate.png/.pdf (default: ./out)")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout: rows and file paths")


def run(args) -> int:
    import time
    from pathlib import Path

    from cfg_distortion.finite_d import validation as VAL

    from cfg_distortion import io

    out = Path(args.out)
    files = io.OutputSet(out, ["validate.csv", "validate.png", "validate.pdf"], name="out")  # before any work
    mode = "quick" if args.quick else "full"
    cases = VAL.QUICK if args.quick else VAL.FULL
    start = time.perf_counter()
    rows, curves = VAL.run(cases, VAL.SETTINGS[mode], progress=True)
    with files:  # the three files replace the old ones together, or not at all
        VAL.write_csv(rows, files.path("validate.csv"))
        VAL.plot(rows, curves, cases, str(files.stem("validate")))
    csv_path, figures = out / "validate.csv", [out / "validate.png", out / "validate.pdf"]
    seconds = time.perf_counter() - start
    if args.json:
        emit_json({"rows": [r.to_json() for r in rows], "csv": str(csv_path), "figure": [str(f) for f in figures],
                   "quick": args.quick, "sigma2": 1.0, "process": "ou", "target_norm": "fixed",
                   "settings": VAL.SETTINGS[mode], "seconds": seconds})
        return 0
    cols = ["alpha", "omega", "sampler", "d", "K", "draws", "m_sim", "m_sem", "m_finite_d", "m_dmf",
            "v_sim", "v_sem", "v_finite_d", "v_dmf"]
    shown = [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.to_json().items()} for r in rows]
    print(table(shown, cols))
    print(f"sigma2 = 1, ou, |mu_c|^2 = d; sem over {rows[0].n}-sample runs pooled over centroid draws; "
          f"{seconds:.0f} s")
    print(f"wrote {csv_path}, {', '.join(str(f) for f in figures)}")
    return 0
