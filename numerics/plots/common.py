"""Figures (matplotlib, Agg): PNG and PDF with labelled axes."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cfg_distortion import io


def cell_edges(c):
    """Cell edges around grid centres c (for pcolormesh); one centre gets a cell of +-5 %."""
    c = np.asarray(c, dtype=float)
    if c.size == 1:
        w = 0.05 * max(abs(c[0]), 1.0)
        return np.array([c[0] - w, c[0] + w])
    mid = 0.5 * (c[1:] + c[:-1])
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])


def figure_paths(path, name: str = "plot") -> list[Path]:
    """``[FILE.png, FILE.pdf]`` for ``path`` (a .png/.pdf suffix is dropped), both checked writable
    now, before any work (ValueError naming ``name`` otherwise)."""
    p = Path(path)
    stem = p.with_suffix("") if p.suffix.lower() in (".png", ".pdf") else p
    outs = [Path(f"{stem}.png"), Path(f"{stem}.pdf")]
    for out in outs:
        io.check_file(out, name=name)
    return outs


def _stem(path: str) -> Path:
    return figure_paths(path)[0].with_suffix("")


def save(fig, path: str, name: str = "plot", **savefig) -> list[Path]:
    """Write ``fig`` as FILE.png and FILE.pdf, the two together atomically (old pair kept on failure)."""
    import matplotlib

    outs = figure_paths(path, name=name)
    savefig = {"dpi": 150, "bbox_inches": "tight", **savefig}
    if savefig["bbox_inches"] == "tight":
        # what savefig's "tight" computes (a layout pass, then the artists' extent), done once for both
        # formats instead of once per file: the same pixels, a quarter less time for a large figure
        dpi = fig.dpi
        fig.dpi = savefig["dpi"]  # text extents at the PNG's resolution, as savefig measures them
        try:
            fig.draw_without_rendering()
            bbox = fig.get_tightbbox()
        finally:
            fig.dpi = dpi
        pad = savefig.pop("pad_inches", None)
        savefig["bbox_inches"] = bbox.padded(matplotlib.rcParams["savefig.pad_inches"] if pad is None else pad)
    with io.OutputSet(paths=outs, name=name) as files:
        for out in outs:
            fig.savefig(files.path(str(out)), **savefig)
    return outs


def plot_trajectory(tr, path: str) -> list[Path]:
    """Write :func:`trajectory_figure` to ``path``.png and .pdf; returns the two paths."""
    import matplotlib.pyplot as plt

    _stem(path)
    fig = trajectory_figure(tr)
    outs = save(fig, path)
    plt.close(fig)
    return outs


def trajectory_figure(tr):
    """m(t) and v(t) of a DMF trajectory with the branch shaded and the minima of F = V - log(v)/2
    of each branch (dashed: G, dotted: C = the exact conditional law m = a_t, v = Gamma_t)."""
    import matplotlib.pyplot as plt

    from cfg_distortion.meanfield.potential import minima
    from cfg_distortion.model.schedules import as_schedule

    upper = max(3 * max(tr.t_switch, default=0.0), 3.0) if tr.process != "flow" else 1.0
    if tr.process == "ve":
        upper = max(upper, 30.0)
    grid = np.linspace(0.0, min(upper, tr.T), 600)
    m, v, branch = tr.sample(grid)
    omega = (tr.omega_of_t or as_schedule(tr.schedule, tr.T, tr.process))(grid)
    mins = minima(grid, tr.alpha, omega, tr.sigma2, tr.process)
    fig, axes = plt.subplots(4, 1, figsize=(7, 9), sharex=True, gridspec_kw={"height_ratios": [3, 3, 1, 1]})
    for ax, y, key, label in ((axes[0], m, "m", "$m = x\\cdot\\mu_c/d$"),
                              (axes[1], v, "v", "$v = |x - m\\mu_c|^2/d$")):
        ax.plot(grid, y, "k-", lw=2, label="DMF trajectory")
        ax.plot(grid, getattr(mins, f"{key}_G"), "C0--", label="minimum of $F_G$ (guided Gaussians)")
        ax.plot(grid, getattr(mins, f"{key}_C"), "C1:", label="minimum of $F_C$ (class law)")
        ax.set_ylabel(label)
        for ts in tr.t_switch:
            ax.axvline(ts, color="0.5", lw=0.8)
    axes[0].legend(loc="best", fontsize=8)
    codes = {"W": -0.5, "G": 0, "Gf": 0.25, "S": 0.5, "C": 1}  # W: captured by a wrong class; Gf: frozen G
    axes[2].step(grid, [codes[b] for b in branch], "k-", where="mid")
    shown = [b for b in codes if b in set(branch) or b in ("G", "C")]
    axes[2].set_yticks([codes[b] for b in shown], shown)
    axes[2].set_ylabel("branch")
    axes[3].plot(grid, omega, "C2-")
    axes[3].axhline(0, color="0.5", lw=0.5)
    axes[3].set_ylabel("$\\omega(t)$")
    axes[3].set_xlabel("forward time $t$ (sampling runs left to right, from $t = T$ to $0$)")
    axes[3].invert_xaxis()
    alpha = "\\infty" if not np.isfinite(tr.alpha) else f"{tr.alpha:g}"
    fig.suptitle(f"$\\alpha = {alpha}$, schedule {tr.schedule}, $\\sigma^2 = {tr.sigma2:g}$, "
                 f"{tr.sampler.upper()}, {tr.process}")
    return fig
