"""Equations and derivation documents: printed from sympy, complete, up to date, compilable."""
import os
import re
import shutil
import subprocess
import sys

import pytest
import sympy as sp

from cfg_distortion.numerics.cli import main
from cfg_distortion.theory import documents as D
from cfg_distortion.theory import equations as EQ
from cfg_distortion.theory import free_energy as F
from cfg_distortion.theory.symbols import Gamma, a, lam, n, s


@pytest.fixture
def fresh_equations():
    """Clear the cached equations before and after a test that changes theory/ in memory."""
    EQ.grouped.cache_clear()
    yield
    EQ.grouped.cache_clear()


def test_equation_count_and_unique_labels():
    eqs = EQ.all_equations()
    labels = [e.label for e in eqs]
    assert len(eqs) >= 15
    assert len(labels) == len(set(labels))
    assert all(re.fullmatch(r"eq:[A-Za-z0-9-]+", lab) for lab in labels)
    assert all(e.description.strip().endswith(".") and e.source for e in eqs)


def test_printed_latex_is_the_stored_sympy_object():
    """Each equation's lines, joined, are sympy's LaTeX of the stored object (breaking only
    splits a sum at its top-level terms), and the object is what theory/ returns."""
    for e in EQ.all_equations():
        assert isinstance(e.expr, sp.Basic), e.label
        lines = EQ.equation_lines(e)
        assert " ".join(lines) == EQ.expr_latex(e.expr), e.label
        if len(lines) > 1:
            assert sp.Add(*EQ._split_terms(e.expr)) == e.expr
    eqs = EQ.by_label()
    assert eqs["eq:phi-annealed"].expr is F.phi_annealed()
    assert eqs["eq:phi-frozen"].expr is F.phi_frozen()
    assert any(len(EQ.equation_lines(e)) > 1 for e in eqs.values()), "no long expression was broken"


def test_latex_document_labels_every_equation_once():
    tex = EQ.latex_document()
    assert tex.startswith(r"\documentclass") and r"\begin{document}" in tex and tex.rstrip().endswith(r"\end{document}")
    labels = re.findall(r"\\label\{(eq:[^}]*)\}", tex)
    assert labels == [e.label for e in EQ.all_equations()]
    assert "Dummy" not in tex and "_Dummy" not in tex


def test_displayed_cgfs_give_the_rates():
    """The cumulant generating functions integrated for the document have the rates of free_energy
    as Legendre transforms."""
    cgf_s, cgf_n = EQ._gaussian_cgfs()
    assert sp.simplify(cgf_s - lam**2 / 2) == 0
    assert sp.simplify(F._legendre(cgf_s, s) - F.overlap_rate()) == 0
    assert sp.simplify(F._legendre(cgf_n, n) - F.norm_rate()) == 0


@pytest.mark.parametrize("snr_", [0.01, 0.3, 1.0, 5.0])
def test_fixed_norm_threshold_is_below_capacity(snr_):
    """The fixed-norm (classic mistake) threshold is SNR / (2 (1 + SNR)), strictly below the capacity."""
    mistake = EQ.classic_mistake()["alpha_c"].subs({a: sp.sqrt(snr_), Gamma: 1})
    assert float(mistake) == pytest.approx(snr_ / (2 * (1 + snr_)), rel=1e-12)
    assert float(mistake) < 0.5 * float(sp.log(1 + snr_))


def test_derive_check_passes_on_the_committed_tree(repo):
    """In a fresh interpreter with another hash seed: the output does not depend on set order."""
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    r = subprocess.run([sys.executable, "-m", "cfg_distortion.numerics.cli", "derive", "--check"], cwd=repo,
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr


def test_derive_check_fails_after_a_theory_change(repo, monkeypatch, capsys, fresh_equations):
    """A changed result in theory/ (phi_annealed shifted, in memory) makes --check fail, one line per file."""
    original = F.phi_annealed()
    monkeypatch.setattr(F, "phi_annealed", lambda: original + sp.Rational(1, 7))
    EQ.grouped.cache_clear()
    status = main(["derive", "--check", "--dir", str(repo / "derivations")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1
    assert sorted(line.split(": ")[1] for line in err) == sorted(
        str(repo / "derivations" / name) for name in ("02-wrong-class-free-energy.md", "equations.md"))


def test_write_then_check_in_a_temporary_directory(tmp_path):
    files = D.render_all()
    (tmp_path / "notes.md").write_text("hand-written note\n")  # not generated: left alone
    (tmp_path / "99-old.md").write_text(D.MARKER + "\n\nfrom an older theory\n")
    assert D.check(tmp_path, files)
    D.write(tmp_path, files)
    assert D.check(tmp_path, files) == []
    assert (tmp_path / "notes.md").exists() and not (tmp_path / "99-old.md").exists()
    (tmp_path / "01-forward-process-and-scores.md").write_text("edited by hand\n")
    assert [p for p in D.check(tmp_path, files) if "01-forward" in p]


def test_documents_are_complete_markdown():
    files = D.render_all()
    assert {f"{d.slug}.md" for d in D.DOCUMENTS} | {D.INDEX, D.EQUATIONS_FILE} == set(files)
    for name, text in files.items():
        assert text.startswith(D.MARKER)
        assert text.count("\n$$\n") % 2 == 0 and "Dummy" not in text, name
    for d in D.DOCUMENTS:
        text = files[f"{d.slug}.md"]
        assert "## Assumptions" in text and "## What backs each result" in text and "**(1)**" in text
        assert all(f"`theory/{m}.py`" in text for m in d.modules)


def test_documents_cite_tests_and_checks_that_exist(repo):
    """Every command a document gives runs something that exists: a test function, or checks of
    `cfg-distortion verify` named in its route."""
    from cfg_distortion.numerics.checks import all_checks

    checks = set(all_checks())
    for d in D.DOCUMENTS:
        for b in d.build().backing:
            for cmd in b.commands:
                if cmd == D.VERIFY:
                    named = re.findall(r"`([^`]+)`", b.route)
                    assert named and set(named) <= checks, (d.slug, named)
                    continue
                m = re.fullmatch(r"python3 -m pytest (\S+?)(?:::(\w+))?", cmd)
                assert m, cmd
                path = repo / m.group(1)
                assert path.exists(), cmd
                assert m.group(2) is None or f"def {m.group(2)}(" in path.read_text(), cmd


def test_equations_command_writes_both_formats(tmp_path):
    n_eq = len(EQ.all_equations())
    assert main(["equations", "--format", "markdown", "--out", str(tmp_path / "eq.md")]) == 0
    md = (tmp_path / "eq.md").read_text()
    assert md.count("\n$$\n") == 2 * n_eq and f"**({n_eq})**" in md
    assert main(["equations", "--out", str(tmp_path / "eq.tex")]) == 0
    assert (tmp_path / "eq.tex").read_text() == EQ.latex_document()


def test_cli_does_not_import_sympy_to_build_its_parser():
    code = ("import sys; from cfg_distortion.numerics.cli import build_parser; build_parser(); "
            "print('sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def _pdflatex(tmp_path, name, tex):
    (tmp_path / f"{name}.tex").write_text(tex)
    r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    errors = [line for line in r.stdout.splitlines() if line.startswith("!")]
    assert r.returncode == 0 and (tmp_path / f"{name}.pdf").exists(), errors or r.stdout[-2000:]


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason=(
    "pdflatex not on PATH (Debian: apt-get install texlive-latex-base texlive-latex-recommended)"))
def test_pdflatex_compiles_the_equations_and_the_document_math(tmp_path):
    """The standalone document compiles as written; so does every formula of derivations/*.md
    (display blocks and inline math, wrapped in a minimal amsmath document)."""
    _pdflatex(tmp_path, "equations", EQ.latex_document())
    math = []
    for text in D.render_all().values():
        for block in re.findall(r"\n\$\$\n(.*?)\n\$\$\n", text, flags=re.S):
            math.append(f"\\[\n{block}\n\\]")
        prose = re.sub(r"\n\$\$\n.*?\n\$\$\n", "\n", text, flags=re.S)
        math += [f"${m}$\\par" for m in re.findall(r"(?<!\$)\$([^$\n]+)\$(?!\$)", prose)]
    body = "\n".join(math)
    _pdflatex(tmp_path, "documents", "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n"
              f"\\begin{{document}}\n{body}\n\\end{{document}}\n")
