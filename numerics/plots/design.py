"""Figure of a designed schedule: m(t), v(t) and omega(t), designed against constant guidance.

matplotlib (Agg), written as PNG and PDF with labelled axes by :func:`.plots.save`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cfg_distortion.plots.common import _stem, save


def plot_path(path: str) -> Path:
    """The stem of ``path`` (a .png/.pdf suffix is dropped); ValueError if its directory is missing."""
    return _stem(path)


def plot_design(design, path: str) -> list[Path]:
    """Write :func:`design_figure` to ``path``.png and .pdf; returns the two paths."""
    import matplotlib.pyplot as plt

    plot_path(path)
    fig = design_figure(design)
    outs = save(fig, path)
    plt.close(fig)
    return outs


def design_figure(design):
    """Three panels (m, v, omega against forward time t, sampling running right to left in t):
    the designed schedule (solid) and constant omega = W (dashed), with the window shaded and the
    class values m = 1, v = sigma2 at t = 0 marked."""
    import matplotlib.pyplot as plt

    from cfg_distortion.model.schedules import as_schedule

    d, tr, base = design, design.trajectory, design.baseline
    marks = [x for x in (d.t_window_start, *base.t_switch, *tr.t_switch) if x is not None]
    upper = min(tr.T, 2.0 * max(marks, default=1.0))
    fig, axes = plt.subplots(3, 1, figsize=(7, 8), sharex=True, gridspec_kw={"height_ratios": [3, 3, 2]})
    grid = np.linspace(0.0, upper, 1200)
    for traj, style, label in ((tr, "k-", "designed"), (base, "C3--", f"constant $\\omega = {d.omega_max:g}$")):
        m, v, _ = traj.sample(grid)  # the solver's dense output
        axes[0].plot(grid, m, style, lw=1.8, label=label)
        axes[1].plot(grid, v, style, lw=1.8, label=label)
        omega = traj.omega_of_t or as_schedule(traj.schedule, traj.T, traj.process)
        axes[2].plot(grid, np.asarray(omega(grid), dtype=float), style, lw=1.5, label=label)
    axes[0].axhline(1.0, color="0.6", lw=0.8, ls=":")
    axes[1].axhline(d.sigma2, color="0.6", lw=0.8, ls=":", label="$\\sigma^2$")
    axes[0].set_ylabel("$m = x\\cdot\\mu_c/d$")
    axes[1].set_ylabel("$v = |x - m\\mu_c|^2/d$")
    axes[2].set_ylabel("$\\omega(t)$")
    axes[2].axhline(0.0, color="0.6", lw=0.5)
    for ax in axes:
        if d.omega_window is not None:
            ax.axvspan(d.t_window_end, d.t_window_start, color="C0", alpha=0.12, lw=0)
        for ts in tr.t_switch:
            ax.axvline(ts, color="k", lw=0.6, ls=":")
        for ts in base.t_switch:
            ax.axvline(ts, color="C3", lw=0.6, ls=":")
    axes[0].legend(loc="best", fontsize=8)
    axes[1].legend(loc="best", fontsize=8)
    axes[2].set_xlabel("forward time $t$ (sampling runs from $t = T$ down to $0$; dotted: branch switches, "
                       "shaded: window)")
    axes[2].invert_xaxis()
    alpha = "\\infty" if not np.isfinite(d.alpha) else f"{d.alpha:g}"
    fig.suptitle(f"$\\alpha = {alpha}$, $\\sigma^2 = {d.sigma2:g}$, {d.sampler.upper()}, {d.process}: "
                 f"v(0) = {tr.v_final:.4f} (constant: {base.v_final:.4f}), m(0) = {tr.m_final:.4f} "
                 f"(constant: {base.m_final:.4f})", fontsize=9)
    return fig
