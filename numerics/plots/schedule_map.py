"""The schedule-map figure: the affine family omega = w0 + slope t over (w0, slope).

Top row, maps: variance ratio v(0)/sigma^2 (with the level 1 contour from the grid, dotted, and
the root-found variance-preserving curve, white), mean shift m(0) - 1, and kl; hatched where
the sample ends unclassified. Bottom row: kl and m(0) along the preserving curve against w0 with
the best point; omega(t) of a few curve schedules against the noise level t (log axis), with
the constant and designed schedules' kl as reference lines when given.
"""
from __future__ import annotations

import textwrap

import numpy as np

from cfg_distortion.plots.common import cell_edges as _edges

CAPTION = (
    "DMF (d -> infinity) final state for affine guidance omega(t) = w0 + slope t, t the process time (for ve the "
    "noise level). White line: the variance-preserving curve v(0) = sigma^2, each point a bracketed root in slope "
    "(not the grid contour, dotted). Star: the point of least kl = (1/d) KL(sampled || class law) on the curve that "
    "still ends classified. Hatched: ends unclassified (branch G at t = 0). omega < 0 below t* = -w0/slope: the "
    "negative late window that restores the variance."
)


def figure(grid, curve, best, *, sigma2, sampler, process, references=None):
    """The figure (matplotlib Figure). grid: ``AffineGrid``; curve: ``Curve``; best: ``CurvePoint`` or None;
    references: {label: kl} drawn as horizontal lines on the kl-along-the-curve panel."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(17, 10.5))
    fig.subplots_adjust(left=0.05, right=0.97, top=0.92, bottom=0.13, wspace=0.3, hspace=0.32)
    maps = [
        (r"variance ratio $v(0)/\sigma^2$", grid.field("variance_ratio"), "coolwarm"),
        (r"mean shift $m(0) - 1$", grid.field("mean_shift"), "viridis"),
        (r"divergence $\frac{1}{d}\mathrm{KL}$(sampled $\|$ class)", grid.field("kl"), "magma"),
    ]
    for ax, (label, z, cmap) in zip(axes[0], maps):
        _map_panel(fig, ax, grid, curve, best, label, z, cmap)
    axes[0, 0].legend(loc="upper right", fontsize=8, framealpha=0.7)
    _kl_panel(axes[1, 0], curve, best, references)
    _overlap_panel(axes[1, 1], curve)
    _schedules_panel(axes[1, 2], curve, process)
    fig.suptitle(rf"Affine guidance schedules at $\alpha = {grid.alpha:g}$, $\sigma^2 = {sigma2:g}$, "
                 rf"{sampler.upper()} sampler, {process} process ($d \to \infty$ mean field)")
    fig.text(0.05, 0.06, textwrap.fill(CAPTION, 200), ha="left", va="top", fontsize=8.5)
    return fig


def _curve_xy(curve):
    return np.array([p.w0 for p in curve.points]), np.array([p.slope for p in curve.points])


def _map_panel(fig, ax, grid, curve, best, label, z, cmap):
    """One field over (w0, slope): unclassified cells hatched, v(0) = sigma2 dotted, the curve and the best point."""
    w0s, slopes = grid.w0s, grid.slopes
    ew, es = _edges(w0s), _edges(slopes)
    cw, cs = _curve_xy(curve)
    ax.set_facecolor("0.8")
    kw = {}
    if cmap == "coolwarm":
        span = np.nanmax(np.abs(np.log(z))) if np.isfinite(z).any() else 1.0
        from matplotlib.colors import LogNorm

        kw["norm"] = LogNorm(vmin=np.exp(-span), vmax=np.exp(span))
    mesh = ax.pcolormesh(ew, es, np.ma.masked_invalid(z.T), shading="flat", cmap=cmap, **kw)
    fig.colorbar(mesh, ax=ax, label=label)
    if w0s.size > 1 and slopes.size > 1:
        unclassified = ~grid.field("classified").astype(bool)
        if unclassified.any():
            ax.contourf(w0s, slopes, unclassified.T.astype(float), levels=[0.5, 1.5], colors="none",
                        hatches=["//"])
        ratio = grid.field("variance_ratio")
        if np.nanmin(ratio) < 1 < np.nanmax(ratio):
            ax.contour(w0s, slopes, ratio.T, levels=[1.0], colors="k", linestyles=":", linewidths=1)
    if cw.size:
        ax.plot(cw, cs, "w-", marker=".", lw=2, label=r"$v(0) = \sigma^2$ (root finder)")
    if best is not None:
        ax.plot([best.w0], [best.slope], "*", ms=16, color="gold", mec="k", label="least kl, classified")
    ax.set_xlim(ew[0], ew[-1])
    ax.set_ylim(es[0], es[-1])
    ax.set_xlabel(r"$w_0 = \omega(t{=}0)$")
    ax.set_ylabel(r"slope ($\omega = w_0 + \mathrm{slope}\; t$)")
    ax.set_title(label)


def _kl_panel(ax, curve, best, references):
    """kl along the variance-preserving curve, beside the reference schedules' kl."""
    cw, _ = _curve_xy(curve)
    if cw.size:
        kl = np.array([np.nan if p.kl is None else p.kl for p in curve.points])
        cls = np.array([p.classified for p in curve.points])
        ax.plot(cw, kl, "k-", marker="o", label=r"kl on the curve")
        ax.plot(cw[~cls], kl[~cls], "rx", ms=10, label="ends unclassified")
        if best is not None:
            ax.plot([best.w0], [best.kl], "*", ms=16, color="gold", mec="k", label="best")
    for i, (name, value) in enumerate((references or {}).items()):
        if value is not None:
            ax.axhline(value, ls="--", color=f"C{i}", label=f"{name}: kl = {value:.3g}")
    ax.set_xlabel(r"$w_0$")
    ax.set_ylabel(r"$\frac{1}{d}\mathrm{KL}$ at $v(0) = \sigma^2$")
    ax.set_title("divergence along the variance-preserving curve")
    ax.legend(fontsize=8)


def _overlap_panel(ax, curve):
    """m(0) and the first switch time along the curve."""
    cw, _ = _curve_xy(curve)
    if cw.size:
        ax.plot(cw, [p.m_final for p in curve.points], "k-", marker="o", label=r"$m(0)$ on the curve")
        ts = [np.nan if p.t_switch is None else p.t_switch for p in curve.points]
        ax2 = ax.twinx()
        ax2.plot(cw, ts, "C1--", marker=".", label=r"switch time $t_s$")
        ax2.set_ylabel(r"first switch time $t_s$", color="C1")
    ax.axhline(1.0, color="0.5", lw=0.8)
    ax.set_xlabel(r"$w_0$")
    ax.set_ylabel(r"$m(0)$ (1 = class law)")
    ax.set_title("overlap along the curve (the cost of the negative window)")
    ax.legend(fontsize=8, loc="upper left")


def _schedules_panel(ax, curve, process):
    """omega(t) of up to four schedules of the curve."""
    t = np.geomspace(1e-3, 1e2, 400)
    pick = np.unique(np.linspace(0, len(curve.points) - 1, min(4, len(curve.points))).round().astype(int)) \
        if curve.points else []
    for k in pick:
        p = curve.points[k]
        ax.plot(t, p.w0 + p.slope * t, label=rf"$w_0 = {p.w0:.3g}$, slope $= {p.slope:.3g}$")
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.axhline(-1.0, color="0.5", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_ylim(-1.5, 4)
    ax.set_xlabel("process time $t$" + (" (= noise level $\\sigma_t$)" if process == "ve" else ""))
    ax.set_ylabel(r"$\omega(t)$")
    ax.set_title(r"curve schedules: negative for $t < -w_0/\mathrm{slope}$")
    ax.legend(fontsize=8)
