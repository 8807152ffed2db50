"""Figure of ``cfg-distortion validate``: the exact-score simulation against the finite-d
theory and the DMF, m(0) and v(0) against 1/d (rows and curves of
:mod:`cfg_distortion.finite_d.validation`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cfg_distortion.plots.common import save


def plot_validation(rows, curves, cases, path: str) -> list[Path]:
    """Write :func:`validation_figure` to ``path``.png and .pdf; returns the two paths."""
    import matplotlib.pyplot as plt

    fig = validation_figure(rows, curves, cases)
    outs = save(fig, path)
    plt.close(fig)
    return outs


def validation_figure(rows, curves, cases):
    """m(0) and v(0) against 1/d per case: simulation (error bars), finite-d curve, DMF at 1/d = 0."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(cases), figsize=(3.6 * len(cases), 6.0), squeeze=False)
    for j, (case, curve) in enumerate(zip(cases, curves)):
        mine = [r for r in rows if (r.alpha, r.omega, r.sampler) == (case.alpha, case.omega, case.sampler)]
        inv = np.array([1.0 / r.d for r in mine])
        for i, (key, label) in enumerate((("m", "$m(0) = x\\cdot\\mu_c/d$"), ("v", "$v(0) = |x - m\\mu_c|^2/d$"))):
            ax = axes[i, j]
            ax.errorbar(inv, [getattr(r, f"{key}_sim") for r in mine], yerr=[2 * getattr(r, f"{key}_sem") for r in mine],
                        fmt="ko", ms=4, capsize=3, label="exact-score simulation ($\\pm 2$ s.e.)")
            ax.plot(1.0 / np.array(curve["d"]), curve[key], "C0-", label="finite-$d$ theory")
            ax.plot([0.0], [getattr(mine[0], f"{key}_dmf")], "C3s", ms=7, label="DMF ($d \\to \\infty$)")
            ax.axhline(getattr(mine[0], f"{key}_dmf"), color="C3", lw=0.8, ls="--")
            ax.axhline(1.0, color="0.6", lw=0.6, ls=":")
            ax.set_xlim(left=-0.002)
            ax.set_xlabel("$1/d$")
            if j == 0:
                ax.set_ylabel(label)
            if i == 0:
                ax.set_title(f"$\\alpha = {case.alpha:g}$, $\\omega = {case.omega:g}$, {case.sampler.upper()}",
                             fontsize=10)
    axes[0, 0].legend(fontsize=7, loc="best")
    fig.suptitle("Guided sampling at finite $d$ ($\\sigma^2 = 1$, ou): simulation, finite-$d$ theory, DMF",
                 fontsize=10)
    fig.tight_layout()
    return fig
