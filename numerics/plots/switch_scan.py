"""The switch-scan figure: DMF prediction and finite-d discrete sampler against the switch step k."""
from __future__ import annotations

import textwrap

import numpy as np

CAPTION = (
    "Guidance omega for steps 0..k-1, then omega_after from step k (noise level sigma_k) on. Lines: d -> infinity "
    "mean field (continuous time, switch at sigma_k). Points with error bars (1 SEM over samples): the discrete "
    "sampler with the exact mixture denoiser at finite d. Dashed: the same sampler without guidance (its "
    "discretisation bias alone). Stars: least kl among classified switch steps (DMF: ends classified; simulator: "
    "classified majority)."
)


def figure(scan):
    """The figure (a matplotlib Figure) of an ``api.SwitchScan``."""
    import matplotlib.pyplot as plt

    rows = scan.rows
    k = np.array([r["k"] for r in rows])
    get = lambda key: np.array([np.nan if r[key] is None else float(r[key]) for r in rows])  # noqa: E731
    fig, axes = plt.subplots(2, 2, figsize=(13, 9.5))
    fig.subplots_adjust(left=0.07, right=0.97, top=0.9, bottom=0.15, wspace=0.25, hspace=0.3)
    panels = [
        (axes[0, 0], "v_ratio_dmf", "v_ratio_sim", "v_ratio_sem", r"variance ratio $v(0)/\sigma^2$", 1.0),
        (axes[0, 1], "m_dmf", "m_sim", "m_sem", r"overlap $m(0)$", 1.0),
        (axes[1, 1], "kl_dmf", "kl_sim", None, r"divergence $\frac{1}{d}\mathrm{KL}$(sampled $\|$ class)", 0.0),
    ]
    for ax, dkey, skey, ekey, label, ref in panels:
        ax.plot(k, get(dkey), "k-", marker=".", label=r"DMF ($d \to \infty$)")
        err = get(ekey) if ekey else None
        ax.errorbar(k, get(skey), yerr=err, fmt="o", ms=4, color="C0", capsize=2, label=f"simulator, d = {scan.d}")
        ax.axhline(ref, color="0.5", lw=0.8)
        ax.set_xlabel("switch step $k$")
        ax.set_ylabel(label)
        ax.set_title(label)
    base = scan.baseline
    axes[0, 0].axhline(base["v_ratio_sim"], color="C0", ls="--", lw=1,
                       label=rf"simulator at $\omega = 0$: {base['v_ratio_sim']:.3f}")
    for key, color, name in (("best_k_dmf", "k", "DMF"), ("best_k_sim", "C0", "simulator")):
        best = getattr(scan, key)
        if best is not None:
            r = rows[best]
            axes[1, 1].plot([best], [r["kl_dmf" if name == "DMF" else "kl_sim"]], "*", ms=16, color="gold",
                            mec=color, label=f"best {name}: k = {best}")
    ax = axes[1, 0]
    ax.plot(k, get("classified_fraction"), "o-", color="C0", ms=4, label="simulator: classified fraction")
    ax.step(k, get("classified_dmf"), "k-", where="mid", label="DMF: ends classified (1) or not (0)")
    ax.set_xlabel("switch step $k$")
    ax.set_ylabel("classified")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title("classification at t = 0")
    for ax in axes.flat:
        ax.legend(fontsize=8)
        sec = ax.secondary_xaxis("top", functions=(lambda x: x, lambda x: x))
        ticks = k[:: max(1, len(k) // 6)]
        sec.set_xticks(ticks)
        sec.set_xticklabels([f"{scan.sigmas[int(t)]:.3g}" for t in ticks], fontsize=7)
        sec.set_xlabel(r"$\sigma_k$", fontsize=8)
    alpha = f"alpha = {scan.alpha:g}" if scan.alpha is not None else f"K = {scan.K}"
    fig.suptitle(f"Switch scan: {scan.integrator}, {scan.sigmas.size - 1} {scan.grid_kind} steps, omega = "
                 f"{scan.omega:g} then {scan.omega_after:g}; {alpha}, sigma2 = {scan.sigma2:g}, ve")
    fig.text(0.07, 0.07, textwrap.fill(CAPTION, 160), ha="left", va="top", fontsize=8.5)
    return fig
