"""The pieces a derivation document is written with, shared by every module of :mod:`.derivations`.

A document of ``derivations/`` is one module of :mod:`cfg_distortion.theory.derivations` with one
pattern: its equation groups (:class:`Group`, each a function returning :class:`Equation` objects
whose right-hand sides are the live sympy results of ``theory/``, never typed) and its ``content()``
(a :class:`Content`: prose paragraphs and equation labels in order, assumptions, what backs each
result), tied together by one :class:`Document` named ``DOCUMENT``. The list of documents is
:data:`cfg_distortion.theory.derivations.DOCUMENTS`; :mod:`.equations` prints the equations and
:mod:`.documents` renders the documents from it. The model and notation: docs/theory.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import sympy as sp

__all__ = ["Equation", "Group", "Backing", "Content", "Document", "pytest_cmd", "VERIFY", "DISPLAY_NAMES"]

VERIFY = "cfg-distortion verify"

# display-only symbols (vectors, indexed invariants, derivatives of a generic a(t), b(t))
VEC_X, VEC_MU_K, VEC_MU_C, VEC_MPOST = sp.symbols("vec_x vec_mu_k vec_mu_c vec_m_post")
XMU_J, MUMU_J = sp.Symbol("xmu_j", real=True), sp.Symbol("mumu_j", nonnegative=True)
ADOT, BDOT = sp.symbols("adot bdot", real=True)
J_INDEX = sp.Symbol("j", integer=True, positive=True)
DISPLAY_NAMES = {
    VEC_X: "x", VEC_MU_K: r"\mu_k", VEC_MU_C: r"\mu_c", VEC_MPOST: r"\textstyle\sum_{k} w_k \mu_k",
    XMU_J: r"x\cdot\mu_j", MUMU_J: r"\lVert\mu_j\rVert^2", ADOT: r"\dot a_t", BDOT: r"\dot b_t",
}


@dataclass(frozen=True)
class Equation:
    """``lhs = expr``: ``lhs`` is a LaTeX name, ``expr`` the sympy result of ``source``."""

    label: str  # "eq:..." (unique)
    lhs: str  # LaTeX of the name of the quantity, e.g. r"\phi_{\mathrm{ann}}"
    expr: sp.Basic  # the live sympy object
    description: str  # one sentence; inline math in $...$, no other LaTeX specials
    source: str  # the theory call that produced expr, e.g. "free_energy.phi_annealed()"


@dataclass(frozen=True)
class Group:
    """A titled list of equations (``cfg-distortion equations GROUP``, ``cd.equations(key)``)."""

    key: str
    title: str
    build: Callable[[], list[Equation]]


def pytest_cmd(path: str, test: str | None = None) -> str:
    """The command that runs one test (or one test file) from the repository root."""
    return f"python3 -m pytest {path}" + (f"::{test}" if test else "")


@dataclass(frozen=True)
class Backing:
    """What backs some results: the route (``kind``: closed form, limit, Monte Carlo, simulation,
    symbolic identity, ...), in words, and the commands that check it."""

    labels: tuple[str, ...]
    kind: str
    route: str
    commands: tuple[str, ...]


@dataclass(frozen=True)
class Content:
    """The body of a document: paragraphs and equation labels in order, assumptions, backing."""

    body: list[str]  # a Markdown paragraph, or an equation label "eq:..." of this document's groups
    assumptions: list[str]
    backing: list[Backing]
    notes: list[str] = field(default_factory=list)  # what the result means, after the derivation


@dataclass(frozen=True)
class Document:
    """One document of ``derivations/`` and the equation groups it prints."""

    slug: str  # file name without .md
    title: str
    steps: str  # the steps of the derivation path of docs/theory.md it covers ("step 2", "steps 3-4")
    modules: tuple[str, ...]  # theory modules it is generated from
    groups: tuple[Group, ...]  # its equations, in the order of `cfg-distortion equations`
    content: Callable[[], Content]
