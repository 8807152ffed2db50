"""`cfg-distortion derive [--check]`: regenerate the derivation documents of ``derivations/``.

The documents are built from the live sympy derivations by
:mod:`cfg_distortion.theory.documents`. With ``--check`` nothing is written: the command
exits 1, with one line per differing file on stderr, when the files in ``--dir`` differ from
what ``theory/`` produces now (CI runs it). ``--dir`` must be the ``derivations/`` folder of a
source checkout (checked before anything is derived): run it from the repository root.
"""
from __future__ import annotations

import sys


def add_arguments(p):
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if the documents differ from what theory/ produces now")
    p.add_argument("--dir", default="derivations", metavar="DIR",
                   help="directory of the documents (default: ./derivations, run from the repository root)")


def run(args) -> int:
    from pathlib import Path

    from cfg_distortion import io

    directory = Path(args.dir)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"dir {args.dir!r}: exists and is not a folder")
    root = directory.resolve().parent  # checked before sympy is imported and anything is derived
    if not ((root / "pyproject.toml").is_file() and (root / "theory").is_dir()):
        raise ValueError(f"dir {args.dir!r}: not the derivations/ folder of a source checkout (no pyproject.toml "
                         "and theory/ beside it); run from the repository root")
    if args.check:
        if not directory.is_dir():
            raise ValueError(f"dir {args.dir!r}: no such folder (run from the repository root)")
    else:
        io.check_dir(directory, name="dir")  # before the (slow) derivations
    from cfg_distortion.cli.report import derivations_with_progress
    from cfg_distortion.theory import documents  # sympy: imported only when this command runs

    derivations_with_progress("derive (sympy derivations)")
    files = documents.render_all()
    if args.check:
        problems = documents.check(directory, files)
        for line in problems:
            print(f"cfg-distortion derive: {line} (run `cfg-distortion derive`)", file=sys.stderr)
        if problems:
            return 1
        print(f"{directory}: {len(files)} documents up to date with theory/")
        return 0
    changed = [directory / n for n, text in sorted(files.items())
               if not (directory / n).is_file() or (directory / n).read_text() != text]
    out = io.OutputSet(directory, [p.name for p in changed], name="dir")
    with out:  # the documents that changed are replaced together, or none is
        for p in changed:
            out.path(p.name).write_text(files[p.name])
    changed += documents.write(directory, files)  # now only removes documents no longer produced
    print(f"{directory}: {len(files)} documents, {len(changed)} files written or removed")
    return 0
