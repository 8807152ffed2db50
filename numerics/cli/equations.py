"""`cfg-distortion equations`: every derived result as numbered, labelled equations.

``--format latex`` writes a standalone article (amsmath) that compiles with pdflatex;
``--format markdown`` writes ``$$`` blocks that render on GitHub. Both are printed from the
sympy objects of :mod:`cfg_distortion.theory` by :mod:`cfg_distortion.theory.equations`.
"""
from __future__ import annotations

import sys


def add_arguments(p):
    p.add_argument("--format", choices=("latex", "markdown"), default="latex",
                   help="latex: standalone document for pdflatex (default); markdown: $$ blocks")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")


def run(args) -> int:
    from pathlib import Path

    from cfg_distortion.theory import equations  # sympy: imported only when this command runs

    text = equations.latex_document() if args.format == "latex" else equations.markdown_document()
    if args.out is None:
        sys.stdout.write(text)
        return 0
    out = Path(args.out)
    if out.is_dir() or not out.parent.is_dir():
        raise ValueError(f"--out {args.out}: not a file in an existing directory")
    out.write_text(text)
    print(f"wrote {len(equations.all_equations())} equations to {out}", file=sys.stderr)
    return 0
