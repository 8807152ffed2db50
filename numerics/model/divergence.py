"""Distortion as one number: ``kl`` and ``w2`` per dimension from (m, v, sigma2).

Thin wrappers of the generated ``divergence_kl`` and ``divergence_w2``
(:mod:`cfg_distortion.theory.divergence`, derivations/numerics-divergence.md) that say where a
divergence is undefined instead of returning a non-number: ``kl`` needs v > 0 and sigma2 > 0
(it is +infinity otherwise), ``w2`` needs v >= 0 and sigma2 >= 0.
"""
from __future__ import annotations

import math

import numpy as np

from cfg_distortion import _generated as G


def kl_array(m, v, sigma2) -> np.ndarray:
    """kl over arrays; NaN where it is undefined or infinite (v <= 0 or sigma2 <= 0, or NaN inputs)."""
    m, v, s = (np.asarray(x, dtype=float) for x in (m, v, sigma2))
    ok = (v > 0) & (s > 0) & np.isfinite(m) & np.isfinite(v) & np.isfinite(s)
    with np.errstate(all="ignore"):
        out = G.divergence_kl(m, np.where(ok, v, 1.0), np.where(ok, s, 1.0))
    return np.where(ok, out, np.nan)


def w2_array(m, v, sigma2) -> np.ndarray:
    """w2 over arrays; NaN where it is undefined (v < 0 or sigma2 < 0, or NaN inputs)."""
    m, v, s = (np.asarray(x, dtype=float) for x in (m, v, sigma2))
    ok = (v >= 0) & (s >= 0) & np.isfinite(m) & np.isfinite(v) & np.isfinite(s)
    with np.errstate(all="ignore"):
        out = G.divergence_w2(m, np.where(ok, v, 0.0), np.where(ok, s, 0.0))
    return np.where(ok, out, np.nan)


def _scalar(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def kl(m, v, sigma2) -> float | None:
    """(1/d) KL(sampled || class law) at d -> infinity; None where infinite or undefined."""
    return _scalar(kl_array(m, v, sigma2))


def w2(m, v, sigma2) -> float | None:
    """(1/d) W2^2(sampled, class law) at d -> infinity; None where undefined."""
    return _scalar(w2_array(m, v, sigma2))


def divergences(m, v, sigma2, suffix: str = "") -> dict:
    """``{"kl" + suffix: ..., "w2" + suffix: ...}`` for a result's JSON (None where undefined)."""
    if m is None or v is None:
        return {f"kl{suffix}": None, f"w2{suffix}": None}
    return {f"kl{suffix}": kl(m, v, sigma2), f"w2{suffix}": w2(m, v, sigma2)}


__all__ = ["kl", "w2", "kl_array", "w2_array", "divergences"]
