"""Numbered, labelled equations built from the live sympy derivations of :mod:`cfg_distortion.theory`.

Every :class:`~.writing.Equation` stores the sympy object a theory function returns (never a typed
formula); its LaTeX is printed from that object when a document is rendered. The left-hand
side is only a name (``\\phi_{\\mathrm{ann}}``), the right-hand side is always sympy.

Equations come in groups, declared by the documents of :mod:`.derivations` (each document's
``DOCUMENT.groups``, in the order of :data:`.derivations.DOCUMENTS`); :func:`grouped` builds them
once, :func:`all_equations` and :func:`by_label` read them.

Renderers: :func:`latex_document` (standalone article, compiles with pdflatex; used by
``cfg-distortion equations --format latex``) and :func:`markdown_document`
(``--format markdown``; ``$$`` blocks that render on GitHub). Long sums are broken over
lines at their top-level terms (``split`` in LaTeX, ``aligned`` in Markdown).
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from .derivations import DOCUMENTS
from .symbols import latex_names
from .writing import DISPLAY_NAMES, Equation, Group

__all__ = ["Equation", "Group", "groups", "built", "clear_cache", "grouped", "all_equations", "by_label",
           "expr_latex", "layout", "equation_lines", "markdown_equation", "latex_equation", "latex_document", "markdown_document"]

LINE_WIDTH = 40  # displayed characters per line (see _visual_width) before a sum is broken


def expr_latex(expr: sp.Basic) -> str:
    """LaTeX of a sympy object in the project's notation (deterministic, no Dummy names)."""
    if any(isinstance(s, sp.Dummy) for s in expr.free_symbols):
        raise ValueError(f"expression has Dummy symbols, whose names are not stable: {expr}")
    names = {**latex_names(expr), **DISPLAY_NAMES}  # symbols.LATEX by name, then display-only symbols
    return sp.latex(expr, symbol_names=names)


def layout(expr: sp.Basic) -> tuple[sp.Expr | None, list[sp.Basic]]:
    """(denominator or None, top-level terms) with ``expr == Add(*terms) / denominator``.

    A sum is split at its terms (in the order sympy's printer uses); a fraction whose
    numerator is a sum is split at the numerator's terms; anything else is one term.
    """
    if isinstance(expr, sp.Add):
        return None, list(expr.as_ordered_terms())
    if isinstance(expr, sp.Expr):
        num, den = sp.fraction(expr)
        if den != 1 and isinstance(num, sp.Add):
            return den, list(num.as_ordered_terms())
    return None, [expr]


def _visual_width(tex: str) -> int:
    """Rough displayed width of LaTeX: a ``\\frac{A}{B}`` counts as the wider of A and B,
    ``\\left``/``\\right`` and braces count nothing, another command counts one."""
    def group(i: int) -> tuple[str, int]:  # content of the brace group opening at tex[i], and its end
        depth = 0
        for j in range(i, len(tex)):
            depth += {"{": 1, "}": -1}.get(tex[j], 0)
            if depth == 0:
                return tex[i + 1:j], j + 1
        return tex[i + 1:], len(tex)

    width, i = 0, 0
    while i < len(tex):
        if tex.startswith("\\frac{", i):
            num, i = group(i + 5)
            den, i = group(i) if i < len(tex) and tex[i] == "{" else ("", i)
            width += max(_visual_width(num), _visual_width(den))
        elif tex[i] == "\\":
            j = i + 1
            while j < len(tex) and tex[j].isalpha():
                j += 1
            name = tex[i + 1:j]
            width += 0 if name in ("left", "right", "textstyle", "quad") else 1
            i = max(j, i + 2) if j == i + 1 else j
        else:
            width += 0 if tex[i] in "{} " else 1
            i += 1
    return width


def equation_lines(eq: Equation, width: int = LINE_WIDTH) -> list[str]:
    """Right-hand side as display lines: one line, or a long expression broken at the
    top-level terms of :func:`layout` (a fraction as ``\\frac{1}{den} \\Big[ ... \\Big]``).

    The first line starts with the first term; each later line starts with its sign.
    Joined, the lines are sympy's LaTeX of ``expr`` (a sum) or of its numerator's terms.
    """
    whole = expr_latex(eq.expr)
    den, terms = layout(eq.expr)
    if _visual_width(whole) <= width or len(terms) == 1:
        return [whole]
    lines: list[str] = []
    current = rf"\frac{{1}}{{{expr_latex(den)}}} \Big[" if den is not None else ""
    for i, term in enumerate(terms):
        text = expr_latex(term)
        if i > 0:
            text = f"- {text[1:].lstrip()}" if text.startswith("-") else f"+ {text}"
        if current and _visual_width(current) + _visual_width(text) > width:
            lines.append(current)
            current = text
        else:
            current = f"{current} {text}".strip()
    lines.append(current + (r" \Big]" if den is not None else ""))
    return lines


def _aligned(eq: Equation, env: str) -> str:
    lines = equation_lines(eq)
    if len(lines) == 1:
        return f"{eq.lhs} = {lines[0]}"
    body = [f"{eq.lhs} &= {lines[0]}"] + [rf"&\quad {line}" for line in lines[1:]]
    return f"\\begin{{{env}}}\n" + " \\\\\n".join(body) + f"\n\\end{{{env}}}"


def latex_equation(eq: Equation) -> str:
    """A numbered, labelled amsmath ``equation`` (``split`` for long sums)."""
    return f"\\begin{{equation}}\\label{{{eq.label}}}\n{_aligned(eq, 'split')}\n\\end{{equation}}"


def markdown_equation(eq: Equation, number: int) -> str:
    """Number, label, sentence and source, then a ``$$`` display block (``aligned`` for long sums)."""
    head = f"**({number})** `{eq.label}`: {eq.description} *From `{eq.source}`.*"
    return f"{head}\n\n$$\n{_aligned(eq, 'aligned')}\n$$"


# ---------------------------------------------------------------- the groups, from the documents


def groups() -> list[Group]:
    """Every equation group, in document order (nothing is built)."""
    return [g for doc in DOCUMENTS for g in doc.groups]


@cache
def built(key: str) -> tuple[Equation, ...]:
    """The equations of one group, built once per process (``cd.equations(KEY)`` needs no other)."""
    for g in groups():
        if g.key == key:
            return tuple(g.build())
    raise KeyError(key)


def clear_cache() -> None:
    """Forget every built equation (after theory/ changed in memory, as a test does)."""
    built.cache_clear()
    grouped.cache_clear()


@cache
def grouped() -> tuple[tuple[Group, tuple[Equation, ...]], ...]:
    """Each group with its equations; labels are checked to be unique."""
    out = tuple((g, built(g.key)) for g in groups())
    labels = [e.label for _, eqs in out for e in eqs]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise RuntimeError(f"duplicate equation labels: {dup}")
    return out


def all_equations() -> list[Equation]:
    return [e for _, eqs in grouped() for e in eqs]


def by_label() -> dict[str, Equation]:
    return {e.label: e for e in all_equations()}


# ---------------------------------------------------------------- whole documents

_TITLE = "cfg-distortion: derived equations"
_INTRO = ("Every equation below is printed from the sympy object that the toolkit's theory layer "
          "derives; none is typed by hand. Regenerate with cfg-distortion equations. The notation is that of "
          "the theory note docs/theory.md of the repository.")


def _latex_text(text: str) -> str:
    """Escape LaTeX specials outside $...$ (descriptions and sources are plain text otherwise)."""
    parts = text.split("$")
    for i in range(0, len(parts), 2):
        parts[i] = (parts[i].replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("&", r"\&")
                    .replace("%", r"\%").replace("#", r"\#").replace("^", r"\^{}").replace("{", r"\{")
                    .replace("}", r"\}"))
    return "$".join(parts)


def latex_document() -> str:
    """A standalone article (amsmath only) with every equation numbered and labelled."""
    out = [r"\documentclass[11pt]{article}", r"\usepackage{amsmath,amssymb}", r"\allowdisplaybreaks",
           rf"\title{{{_latex_text(_TITLE)}}}", r"\author{}", r"\date{}", r"\begin{document}", r"\maketitle", r"\raggedright", _latex_text(_INTRO)]
    for group, eqs in grouped():
        out.append(rf"\section{{{_latex_text(group.title)}}}")
        for e in eqs:
            out.append(f"{_latex_text(e.description)} (From \\texttt{{{_latex_text(e.source)}}}.)")
            out.append(latex_equation(e))
    out.append(r"\end{document}")
    return "\n\n".join(out) + "\n"


def markdown_document() -> str:
    """The same equations as Markdown with ``$$`` blocks, numbered in order."""
    out = [f"# {_TITLE}", _INTRO]
    number = 0
    for group, eqs in grouped():
        out.append(f"## {group.title}")
        for e in eqs:
            number += 1
            out.append(markdown_equation(e, number))
    return "\n\n".join(out) + "\n"
