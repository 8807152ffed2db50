"""Equations and derivation documents: printed from sympy, complete, up to date, compilable."""
import re
import shutil
import subprocess
import sys

import pytest
import sympy as sp

from cfg_distortion.cli.app import main
from cfg_distortion.theory import classification as C
from cfg_distortion.theory import documents as D
from cfg_distortion.theory import equations as EQ
from cfg_distortion.theory import free_energy as F
from cfg_distortion.theory.symbols import Gamma, a, lam, n, s
from cfg_distortion.theory.writing import VERIFY

# every equation is built once per process (~20 s of CPU): the symbolic tests share one pytest-xdist worker
pytestmark = pytest.mark.xdist_group("sympy")


@pytest.fixture
def fresh_equations(generated):
    """Clear the cached equations before and after a test that changes theory/ in memory; the
    session's regeneration (``generated``, computed in this process) is done before any such change."""
    EQ.clear_cache()
    yield
    EQ.clear_cache()


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
        if len(lines) == 1:
            assert lines[0] == EQ.expr_latex(e.expr), e.label
            continue
        den, terms = EQ.layout(e.expr)
        body = " ".join(lines)
        if den is None:
            assert sp.Add(*terms) == e.expr, e.label
        else:  # a fraction broken at its numerator's terms
            prefix, suffix = rf"\frac{{1}}{{{EQ.expr_latex(den)}}} \Big[", r" \Big]"
            assert body.startswith(prefix) and body.endswith(suffix), e.label
            body = body[len(prefix):-len(suffix)].strip()
            assert sp.simplify(sp.Add(*terms) / den - e.expr) == 0, e.label
        assert body == EQ.expr_latex(sp.Add(*terms)), e.label
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
    cgf_s, cgf_n = F.gaussian_cgfs()
    assert sp.simplify(cgf_s - lam**2 / 2) == 0
    assert sp.simplify(F._legendre(cgf_s, s) - F.overlap_rate()) == 0
    assert sp.simplify(F._legendre(cgf_n, n) - F.norm_rate()) == 0


@pytest.mark.parametrize("snr_", [0.01, 0.3, 1.0, 5.0])
def test_fixed_norm_threshold_is_below_capacity(snr_):
    """The fixed-norm (classic mistake) threshold is SNR / (2 (1 + SNR)), strictly below the capacity."""
    mistake = C.classic_mistake()["alpha_c"].subs({a: sp.sqrt(snr_), Gamma: 1})
    assert float(mistake) == pytest.approx(snr_ / (2 * (1 + snr_)), rel=1e-12)
    assert float(mistake) < 0.5 * float(sp.log(1 + snr_))


def test_derive_check_passes_on_the_committed_tree(generated):
    """The session's ``generated`` run (from the repository root, before any test changes theory/ in
    memory; the worker's random hash seed differs from the one that wrote the documents, so the
    output does not depend on set order)."""
    assert generated["derive_check_status"] == 0, generated["derive_check_stderr"]


def test_derive_check_fails_after_a_theory_change(repo, monkeypatch, capsys, fresh_equations):
    """A changed result in theory/ (phi_annealed shifted, in memory) makes --check fail, one line per file."""
    original = F.phi_annealed()
    monkeypatch.setattr(F, "phi_annealed", lambda: original + sp.Rational(1, 7))
    EQ.clear_cache()
    status = main(["derive", "--check", "--dir", str(repo / "derivations")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1
    assert sorted(line.split(": ")[1] for line in err) == sorted(
        str(repo / "derivations" / name) for name in ("step2-wrong-class-free-energy.md", "equations.md"))


def test_write_then_check_in_a_temporary_directory(tmp_path):
    files = D.render_all()
    (tmp_path / "notes.md").write_text("hand-written note\n")  # not generated: left alone
    (tmp_path / "99-old.md").write_text(D.MARKER + "\n\nfrom an older theory\n")
    assert D.check(tmp_path, files)
    D.write(tmp_path, files)
    assert D.check(tmp_path, files) == []
    assert (tmp_path / "notes.md").exists() and not (tmp_path / "99-old.md").exists()
    (tmp_path / "step1-forward-process-and-scores.md").write_text("edited by hand\n")
    assert [p for p in D.check(tmp_path, files) if "step1-forward" in p]


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
    from cfg_distortion.checks.registry import all_checks

    checks = set(all_checks())
    for d in D.DOCUMENTS:
        for b in d.content().backing:
            for cmd in b.commands:
                if cmd == VERIFY:
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
    code = ("import sys; from cfg_distortion.cli.app import build_parser; build_parser(); "
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


# ---------------------------------------------------------------- claims the step 5-6 documents make


def test_branch_G_marginal_is_the_centroid_cloud():
    """In branch G, (1/d) log p_t(x) is the log density of a_t mu + sqrt(Gamma) z, mu ~ N(0, I):
    N(0, (a^2 + Gamma) I) per component, at |x|^2 = d (m^2 + v)."""
    from cfg_distortion.theory import potential as P
    from cfg_distortion.theory.symbols import m, v

    cloud = -sp.log(2 * sp.pi * (a**2 + Gamma)) / 2 - (m**2 + v) / (2 * (a**2 + Gamma))
    assert sp.simplify(sp.expand_log(P.log_marginal_density("G") - cloud, force=True)) == 0


def test_potential_minima_and_the_omega_zero_limit():
    """Without guidance both branch minima are the class law (m = a, v = Gamma); C stays there for
    every omega; for omega > 0 the G minimum is shifted up in m and shrunk in v."""
    from cfg_distortion.theory import potential as P
    from cfg_distortion.theory.symbols import m, omega, v

    for b in P.BRANCHES:
        mins = P.minimum(b)
        assert sp.simplify(mins[m].subs(omega, 0) - a) == 0 and sp.simplify(mins[v].subs(omega, 0) - Gamma) == 0
    assert P.minimum("C") == {m: a, v: Gamma}
    G = P.minimum("G")
    for a_, Gamma_, omega_ in [(0.3, 0.5, 0.5), (0.9, 0.2, 3.0), (0.05, 1.0, 10.0)]:
        vals = {a: a_, Gamma: Gamma_, omega: omega_}
        assert float(G[m].subs(vals)) > a_ and float(G[v].subs(vals)) < Gamma_


def test_dynamical_margin_at_omega_zero_is_the_threshold():
    from cfg_distortion.theory import classification as C
    from cfg_distortion.theory import potential as P
    from cfg_distortion.theory.symbols import alpha, omega

    margin = P.dynamical_margin().subs(omega, 0)
    assert sp.simplify(sp.expand_log(margin - (C.alpha_c_generic() - alpha), force=True)) == 0


def test_dmf_conditional_trajectory_is_exact():
    from cfg_distortion.theory import dmf as M

    for b in M.BRANCHES:
        for sampler in M.SAMPLERS:
            assert M.exactness_residual(b, sampler) == (0, 0), (b, sampler)


def test_dmf_branches_agree_without_guidance():
    from cfg_distortion.theory import dmf as M
    from cfg_distortion.theory.symbols import omega

    for sampler in M.SAMPLERS:
        for g_, c_ in zip(M.drifts("G", sampler), M.drifts("C", sampler)):
            assert sp.simplify(g_.subs(omega, 0) - c_) == 0, sampler


def test_branch_G_posterior_mean_is_gaussian_conditioning():
    """E[mu | a mu + sqrt(Gamma) z = x] = Cov(mu, x) / Var(x) x = a / (a^2 + Gamma) x."""
    from cfg_distortion.theory import dmf as M

    assert sp.simplify(M.posterior_mean_coefficient() - a / (a**2 + Gamma)) == 0
