"""Numeric forward processes: the generated functions of one preset, by name."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from cfg_distortion import _generated as G
from cfg_distortion.model.params import T_MAX
from cfg_distortion.model.params import process as check_process


@dataclass(frozen=True)
class Process:
    """Vectorised a, b, Gamma, snr, f, g2, alpha_c, t_c, noise level of a preset (from theory/ via codegen)."""

    name: str
    t_max: float
    a: Callable
    b: Callable
    Gamma: Callable
    snr: Callable
    f: Callable
    g2: Callable
    alpha_c: Callable
    t_c: Callable
    noise_level: Callable  # sigma_t = b_t / a_t (EDM noise level)
    t_of_noise_level: Callable  # its inverse


def get_process(name: str) -> Process:
    check_process(name)
    fields = ("a", "b", "Gamma", "snr", "f", "g2", "alpha_c", "t_c", "noise_level", "t_of_noise_level")
    return Process(name, T_MAX[name], **{f: G.PROCESS[name][f] for f in fields})
