"""Figure of ``compare-rules``: divergence against omega and the boundaries alpha_c(omega), per rule."""
from __future__ import annotations

import numpy as np


def figure(res):
    """Three panels, one colour per rule: kl(omega) and v(0)/sigma2 (omega) at the result's alpha
    (filled markers: classified, open: not), and the boundary alpha_c(omega). Returns the Figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for i, rule in enumerate(res.rules):
        rows = [r for r in res.rows if r["rule"] == rule]
        w = np.array([r["omega"] for r in rows])
        kl = np.array([np.nan if r["kl"] is None else r["kl"] for r in rows])
        ratio = np.array([r["v_final"] / res.sigma2 for r in rows])
        hit = np.array([bool(r["classified"]) for r in rows])
        color = f"C{i}"
        for ax, y in ((axes[0], kl), (axes[1], ratio)):
            ax.plot(w, y, "-", color=color, label=rule)
            ax.plot(w[hit], y[hit], "o", color=color)
            ax.plot(w[~hit], y[~hit], "o", color=color, mfc="none")
        pts = res.boundary.get(rule, [])
        if pts:
            wb = np.array([p["omega"] for p in pts])
            ab = np.array([np.nan if p["alpha_c"] is None else p["alpha_c"] for p in pts])
            axes[2].plot(wb, ab, "o-", color=color, label=rule)
    alpha = "\\infty" if np.isinf(res.alpha) else f"{res.alpha:g}"
    axes[0].set(xlabel=r"guidance strength $\omega$", ylabel=r"$\mathrm{KL}/d$ to the class law",
                title=rf"$\alpha = {alpha}$, $\sigma^2 = {res.sigma2:g}$ (open: not classified)")
    axes[1].set(xlabel=r"guidance strength $\omega$", ylabel=r"variance ratio $v(0)/\sigma^2$")
    axes[1].axhline(1.0, color="k", lw=0.6, ls=":")
    axes[2].set(xlabel=r"guidance strength $\omega$", ylabel=r"boundary $\alpha_c(\omega)$",
                title="classified below the line")
    if not np.isinf(res.alpha):
        axes[2].axhline(res.alpha, color="k", lw=0.6, ls=":")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig
