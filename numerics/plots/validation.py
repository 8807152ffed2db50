"""Figure of a validation: m(0) and v(0) against 1/d, the fit to d -> infinity and the DMF."""
from __future__ import annotations

import numpy as np


def plot_validation(result, path=None):
    """One column per case, rows m and v: simulation (+- 1 se; open: rows with K < 50, not fitted), the
    weighted fit in 1/d with its +- 3 se band (the verdict's width), the DMF at 1/d = 0 and the
    finite-d theory.

    Returns the matplotlib Figure; with ``path`` also writes ``path.png`` and ``path.pdf``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cfg_distortion.finite_d.validation import CONSISTENT_SE, band
    from cfg_distortion.plots.common import save

    cases = result.cases
    fig, axes = plt.subplots(2, len(cases), figsize=(3.8 * len(cases), 6.2), squeeze=False)
    for j, cv in enumerate(cases):
        inv = np.array([1.0 / r.d for r in cv.rows])
        grid = np.linspace(0.0, inv.max() * 1.08, 120)
        for i, (key, label) in enumerate((("m", "$m(0) = x\\cdot\\mu_c/d$"), ("v", "$v(0) = |x - m\\mu_c|^2/d$"))):
            ax = axes[i, j]
            fit = cv.fits[key]
            y, se = band(fit, grid)
            ax.fill_between(grid, y - CONSISTENT_SE * se, y + CONSISTENT_SE * se, color="0.8",
                            label=f"fit ${fit['model']}$ $\\pm {CONSISTENT_SE:g}$ s.e.")
            ax.plot(grid, y, color="0.3", lw=1.0)
            used = np.array([r.d in fit.get("d", [r.d]) for r in cv.rows])
            ys, es = (np.array([getattr(r, f"{key}_{s}") for r in cv.rows]) for s in ("sim", "sem"))
            ax.errorbar(inv[used], ys[used], yerr=es[used], fmt="ko", ms=4, capsize=3,
                        label="exact-score simulation ($\\pm 1$ s.e.)")
            if not used.all():
                ax.errorbar(inv[~used], ys[~used], yerr=es[~used], fmt="o", mfc="white", mec="k", ecolor="k", ms=4,
                            capsize=3, label="not fitted ($K < 50$)")
            cinv = 1.0 / np.array(cv.curve["d"], float)
            ax.plot(cinv, cv.curve[key], "C0.-", ms=3, label="finite-$d$ theory")
            ax.plot([0.0], [cv.dmf[key]], "C3s", ms=7, label="DMF ($d \\to \\infty$)")
            ax.errorbar([0.0], [fit["value"]], yerr=[fit["se"]], fmt="none", ecolor="C2", capsize=4, lw=2,
                        label="extrapolated ($\\pm 1$ s.e.)")
            ax.set_xlim(-0.04 * grid.max(), grid.max())
            ax.set_xlabel("$1/d$")
            if j == 0:
                ax.set_ylabel(label)
            if i == 0:
                ax.set_title(cv.label().replace("alpha", "$\\alpha$").replace("omega", "$\\omega$"), fontsize=9)
    axes[0, 0].legend(fontsize=6.5, loc="best")
    c0 = cases[0]
    fig.suptitle(f"Guided sampling at finite $d$ ($\\sigma^2 = {c0.sigma2:g}$, {c0.process}): simulation, "
                 f"extrapolation in $1/d$, DMF, finite-$d$ theory", fontsize=9)
    fig.tight_layout()
    if path is not None:
        save(fig, str(path), name="path")
    return fig
