"""The phase-diagram figure: maps over (alpha, omega) and profiles with the limit lines.

Top row, maps over alpha (x) and omega (y): first switching time t_s, mean shift m(0) - 1,
variance ratio v(0)/sigma^2 and the divergence kl = (1/d) KL(sampled || class law), with the boundary alpha_c(omega) (root finder) and the unguided
threshold alpha_c(t = 0) = log(1 + SNR_0)/2. Bottom row, profiles: t_s against alpha with
the omega = 0 classification time t_c(alpha); mean shift, variance ratio and kl against omega for
a few grid alphas with the alpha -> 0 (alpha = 0, sub-exponential K) and K -> infinity
(alpha = inf, branch G throughout: CFG between two Gaussians) limits.
"""
from __future__ import annotations

import textwrap

import numpy as np

from cfg_distortion.plots.common import cell_edges as _edges

CAPTION = (
    "Guided DMF at d -> infinity over alpha = log K / d and constant omega. Solid white: boundary "
    "alpha_c(omega), the largest alpha whose guided trajectory ends classified (root finder). Dashed: "
    "alpha_c(t=0) = log(1 + SNR_0)/2, the unguided limit (omega = 0). Grey: no switch (never classified). "
    "Bottom: black solid = K -> infinity limit (alpha = inf, CFG between two Gaussians); black dashed = "
    "alpha -> 0 limit (alpha = 0, sub-exponential K: no distortion for omega >= 0); dotted = t_c(alpha), the "
    "classification time at omega = 0. kl = (1/d) KL(sampled || class law) = (v/sigma2 - 1 - log(v/sigma2) + "
    "(m - 1)^2/sigma2)/2 (derivations/numerics-divergence.md)."
)


def _pick(values, k=4):
    idx = np.unique(np.linspace(0, len(values) - 1, min(k, len(values))).round().astype(int))
    return idx


def draw(path_stem, grid, boundary, limits, *, sigma2, sampler, process, alpha_c0, t_c=None):
    """Write ``path_stem``.png and .pdf with :func:`figure`; returns the two paths."""
    import matplotlib.pyplot as plt

    fig = figure(grid, boundary, limits, sigma2=sigma2, sampler=sampler, process=process, alpha_c0=alpha_c0,
                 t_c=t_c)
    paths = [f"{path_stem}.png", f"{path_stem}.pdf"]
    fig.savefig(paths[0], dpi=100)
    fig.savefig(paths[1])
    plt.close(fig)
    return paths


def figure(grid, boundary, limits, *, sigma2, sampler, process, alpha_c0, t_c=None):
    """The phase-diagram figure (a matplotlib Figure; the caller saves or closes it).

    grid: ``phase.PhaseGrid``; boundary: list of ``phase.BoundaryPoint``; limits: dict of
    ``PointsResult`` keyed "alpha_0", "K_infinite" at grid.omegas; t_c: callable alpha -> t_c or None.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(21, 10.5))
    fig.subplots_adjust(left=0.04, right=0.98, top=0.92, bottom=0.13, wspace=0.3, hspace=0.32)
    _maps(fig, axes[0], grid, boundary, alpha_c0)
    _switch_profile(axes[1, 0], grid, alpha_c0, t_c)
    _omega_profiles(axes[1, 1:], grid, limits)
    fig.suptitle(rf"Phase diagram of guided sampling: $\sigma^2 = {sigma2:g}$, {sampler.upper()} sampler, "
                 rf"{process} process ($d \to \infty$ mean field)")
    fig.text(0.04, 0.06, textwrap.fill(CAPTION, 250), ha="left", va="top", fontsize=8.5)
    return fig


def _maps(fig, axes, grid, boundary, alpha_c0) -> None:
    """Top row: t_s, mean shift, variance ratio and kl over (alpha, omega), with the boundary."""
    alphas, omegas = grid.alphas, grid.omegas
    maps = [
        ("t_switch", r"first switching time $t_s$ (forward time)", grid.field("t_switch")),
        ("mean_shift", r"mean shift $m(0) - 1$", grid.field("mean_shift")),
        ("variance_ratio", r"variance ratio $v(0)/\sigma^2$", grid.field("variance_ratio")),
        ("kl", r"divergence $\frac{1}{d}\mathrm{KL}$(sampled $\|$ class)", grid.field("kl")),
    ]
    ea, eo = _edges(alphas), _edges(omegas)
    unclassified = ~grid.field("classified").astype(bool)
    b_om = np.array([b.omega for b in boundary if b.alpha_c is not None])
    b_al = np.array([b.alpha_c for b in boundary if b.alpha_c is not None])
    for ax, (name, label, z) in zip(axes, maps):
        ax.set_facecolor("0.8")
        # rasterised: a vector PDF of a 10^5-cell mesh took a minute to write and to open
        mesh = ax.pcolormesh(ea, eo, np.ma.masked_invalid(z.T), shading="flat", cmap="viridis", rasterized=True)
        fig.colorbar(mesh, ax=ax, label=label)
        if b_al.size:
            ax.plot(b_al, b_om, color="white", lw=2, label=r"$\alpha_c(\omega)$: classification boundary")
        ax.axvline(alpha_c0, color="white", ls="--", lw=1.5, label=r"$\alpha_c(t{=}0)=\frac{1}{2}\log(1+1/\sigma^2)$")
        if unclassified.any() and alphas.size > 1 and omegas.size > 1:
            hatched = ax.contourf(alphas, omegas, unclassified.T.astype(float), levels=[0.5, 1.5], colors="none",
                                  hatches=["//"])
            hatched.set_rasterized(True)
            ax.plot([], [], color="none", label="hatched: ends unclassified (branch G)")
        captured = grid.field("captured").astype(bool)
        if captured.any():
            A, W = np.meshgrid(alphas, omegas, indexing="ij")
            ax.plot(A[captured], W[captured], "rx", ms=4, label="x: captured by a wrong class")
        ax.set_xlim(ea[0], ea[-1])
        ax.set_ylim(eo[0], eo[-1])
        ax.set_xlabel(r"$\alpha = \log K / d$")
        ax.set_ylabel(r"guidance strength $\omega$")
        ax.set_title(label)
    axes[0].legend(loc="upper right", fontsize=8, framealpha=0.6)


def _switch_profile(ax, grid, alpha_c0, t_c) -> None:
    """t_s against alpha for a few omegas, with the omega = 0 classification time t_c(alpha)."""
    alphas, omegas = grid.alphas, grid.omegas
    ts = grid.field("t_switch")
    for j in _pick(omegas):
        ax.plot(alphas, ts[:, j], marker=".", label=rf"$\omega = {omegas[j]:.3g}$")
    if t_c is not None:
        fine = np.linspace(max(alphas.min(), 1e-4), min(alphas.max(), alpha_c0), 200)
        fine = fine[fine < alpha_c0]
        if fine.size:
            ax.plot(fine, [t_c(a) for a in fine], "k:", label=r"$t_c(\alpha)$, $\omega = 0$ (closed form)")
    ax.axvline(alpha_c0, color="k", ls="--", lw=1)
    ax.set_xlabel(r"$\alpha = \log K / d$")
    ax.set_ylabel(r"$t_s$ (forward time)")
    ax.set_title(r"switching time ($t_s \to \infty$ as $\alpha \to 0$)")
    ax.legend(fontsize=8)


def _omega_profiles(axes, grid, limits) -> None:
    """Mean shift, variance ratio and kl against omega for a few alphas, with the two limit lines."""
    alphas, omegas = grid.alphas, grid.omegas
    for ax, key, label, ref in ((axes[0], "mean_shift", r"mean shift $m(0) - 1$", 0.0),
                                (axes[1], "variance_ratio", r"variance ratio $v(0)/\sigma^2$", 1.0),
                                (axes[2], "kl", r"divergence $\frac{1}{d}\mathrm{KL}$", 0.0)):
        z = grid.field(key)
        for i in _pick(alphas):
            ax.plot(omegas, z[i], marker=".", label=rf"$\alpha = {alphas[i]:.3g}$")
        ax.plot(omegas, getattr(limits["K_infinite"], key), "k-", lw=2,
                label=r"$K \to \infty$ ($\alpha = \infty$, Gaussian CFG)")
        ax.plot(omegas, getattr(limits["alpha_0"], key), "k--", lw=2,
                label=r"$\alpha \to 0$ (sub-exponential $K$)")
        ax.axhline(ref, color="0.5", lw=0.8)
        ax.set_xlabel(r"guidance strength $\omega$")
        ax.set_ylabel(label)
        ax.set_title(label + r" against $\omega$")
        ax.legend(fontsize=8)
