"""Presentation helper: put derived rates in a readable canonical form.

Collects the logarithms and the powers of ``alpha`` and cancels each coefficient.
It only rearranges; tests hold the tidy form equal to the raw derivation.
"""
from __future__ import annotations

import sympy as sp

from .symbols import alpha


def tidy(expr: sp.Expr) -> sp.Expr:
    e = sp.expand(sp.expand_log(expr, force=True))
    keys = sorted(e.atoms(sp.log), key=str) + [alpha]
    parts = sp.collect(e, keys, evaluate=False)
    logs, rest = sp.Integer(0), sp.Integer(0)
    for key, coeff in parts.items():
        coeff = sp.factor(sp.cancel(coeff))
        if isinstance(key, sp.log):
            logs += coeff * key
        else:
            rest += coeff * key
    logs = sp.simplify(sp.logcombine(sp.factor(logs), force=True))
    return logs + rest
