"""LaTeX of theory expressions in the notation of docs/theory.md (sigma2 -> \\sigma^2, g2 -> g_t^2, ...).

The LaTeX forms live in one table, :data:`cfg_distortion.theory.symbols.LATEX`, shared with the
equation documents.
"""
from __future__ import annotations

import sympy as sp

from . import symbols as S

SYMBOL_NAMES = {getattr(S, name): tex for name, tex in S.LATEX.items() if hasattr(S, name)}


def latex(expr: sp.Expr, **kwargs) -> str:
    """sympy.latex with the project's symbol names (every symbol of :data:`symbols.LATEX`, matched by name)."""
    names = {**S.latex_names(expr), **kwargs.pop("symbol_names", {})}
    return sp.latex(expr, symbol_names=names, **kwargs)
