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
    p.add_argument("--out", metavar="DIR", help="write equations.tex (or .md) to the folder DIR instead of stdout "
                                                "(a path ending in .tex or .md names the file itself)")


def run(args) -> int:
    from pathlib import Path

    from cfg_distortion import io

    if args.out is not None:  # checked before the (slow) rendering
        out = Path(args.out)
        if out.suffix not in (".tex", ".md"):  # a folder: equations.tex or equations.md in it
            out = io.check_dir(out, name="out") / ("equations.tex" if args.format == "latex" else "equations.md")
        out = io.check_file(out, name="out")
    from cfg_distortion.cli.report import derivations_with_progress
    from cfg_distortion.theory import equations  # sympy: imported only when this command runs

    derivations_with_progress("equations (sympy derivations)")

    text = equations.latex_document() if args.format == "latex" else equations.markdown_document()
    if args.out is None:
        sys.stdout.write(text)
        return 0
    io.write_text(out, text, name="out")
    print(f"wrote {len(equations.all_equations())} equations to {out}", file=sys.stderr)
    return 0
