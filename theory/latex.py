"""LaTeX of theory expressions in the notation of THEORY.md (sigma2 -> \\sigma^2 ...)."""
from __future__ import annotations

import sympy as sp

from . import symbols as S

SYMBOL_NAMES = {
    S.sigma2: r"\sigma^2",
    S.Gamma: r"\Gamma_t",
    S.a: "a_t",
    S.b: "b_t",
    S.snr: r"\mathrm{SNR}_t",
    S.xx: r"\lVert x\rVert^2",
    S.xmu: r"x\cdot\mu_k",
    S.mumu: r"\lVert\mu_k\rVert^2",
}


def latex(expr: sp.Expr, **kwargs) -> str:
    """sympy.latex with the project's symbol names."""
    return sp.latex(expr, symbol_names=SYMBOL_NAMES, **kwargs)
