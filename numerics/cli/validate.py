"""`cfg-distortion validate`: simulation against the DMF and the finite-d theory at several d; API: cd.validate."""
from __future__ import annotations

from cfg_distortion.cli.arguments import add_json, add_out
from cfg_distortion.cli.report import emit_json, table

STEM = "validate"


def add_arguments(p):
    p.add_argument("--quick", action="store_true",
                   help="fewer cases, dimensions, draws and samples (about a minute on 2 cores)")
    add_out(p, f"{STEM}.csv and {STEM}.png/.pdf")
    add_json(p)


def run(args) -> int:
    import os

    import matplotlib.pyplot as plt

    from cfg_distortion import api, io

    files = io.OutputSet(args.out, [f"{STEM}.csv", f"{STEM}.png", f"{STEM}.pdf"], name="out")  # before any work
    res = api.validate(args.quick, progress=True)
    with files:  # the three files replace the old ones together, or not at all
        res.to_csv(files.path(f"{STEM}.csv"))
        plt.close(res.plot(files.stem(STEM)))
    csv_path = os.path.join(args.out, f"{STEM}.csv")
    figures = [os.path.join(args.out, f"{STEM}.png"), os.path.join(args.out, f"{STEM}.pdf")]
    if args.json:
        emit_json({**res.to_json(), "csv": csv_path, "figure": figures})
        return 0
    cols = ["alpha", "omega", "sampler", "d", "K", "draws", "m_sim", "m_sem", "m_finite_d", "m_dmf",
            "v_sim", "v_sem", "v_finite_d", "v_dmf"]
    shown = [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.to_json().items()} for r in res.rows]
    print(table(shown, cols))
    print(f"sigma2 = 1, ou, |mu_c|^2 = d; sem over {res.rows[0].n}-sample runs pooled over centroid draws; "
          f"{res.seconds:.0f} s")
    print(f"wrote {csv_path}, {', '.join(figures)}")
    return 0
