"""The generated numeric module is fresh and equals plain lambdify of the theory."""
import numpy as np
import pytest
import scipy.special
import sympy as sp

from cfg_distortion.theory import codegen

# lambdifies every theory function: on the worker of the other symbolic tests, whose derivations it reuses
pytestmark = pytest.mark.xdist_group("sympy")


def test_generated_module_is_fresh(repo, generated):
    committed = (repo / "numerics" / "_generated.py").read_text()
    assert committed == generated["module"], (
        "numerics/_generated.py is stale: run `python -m cfg_distortion.theory.codegen`")


def test_cse_and_rewrites_preserve_values():
    """pydy-style check: the generated (cse, log1p/expm1) code equals a plain lambdify."""
    from cfg_distortion import _generated as G

    rng = np.random.default_rng(0)
    for fn in codegen.numeric_functions():
        expr = fn.build()
        if expr.has(sp.hyper):  # no numpy 2F1 in lambdify: evaluate sympy's own expression with evalf
            plain = np.vectorize(lambda *xs, e=expr: float(sp.re(e.subs(dict(zip(fn.args, xs))).evalf(30))))
        else:
            plain = sp.lambdify(fn.args, expr, modules=[{"exprel": scipy.special.exprel}, "numpy"])
        # inside every function's domain: alpha < alpha_c(0) >= 0.37 for sigma2 <= 0.9, flow t < 1
        ranges = {"t": (0.05, 0.9), "alpha": (0.01, 0.3), "sigma2": (0.05, 0.9), "omega": (-1.0, 4.0)}
        args = [rng.uniform(*ranges.get(s.name, (0.05, 2.0)), size=16) for s in fn.args]
        np.testing.assert_allclose(getattr(G, fn.name)(*args), plain(*args), rtol=1e-11, atol=1e-14,
                                   err_msg=fn.name)


def test_codegen_refuses_an_installed_copy(tmp_path, monkeypatch, capsys):
    """Outside a source checkout (no pyproject.toml and numerics/ beside theory/) it writes nothing."""
    monkeypatch.setattr(codegen, "CHECKOUT", tmp_path)
    monkeypatch.setattr(codegen, "GENERATED_PATH", tmp_path / "numerics" / "_generated.py")
    assert not codegen.in_checkout()
    assert codegen.main(["codegen"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "installed copy" in err[0] and "pip install -e" in err[0]
    assert not (tmp_path / "numerics").exists()


def test_codegen_help_is_help_not_a_file_name(tmp_path, monkeypatch, capsys):
    """``--help`` prints the usage and writes nothing (it once wrote the module to a file named --help)."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        codegen.main(["codegen", "--help"])
    assert info.value.code == 0 and "usage:" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_lookup_tables_hold_the_generated_functions():
    """Callers index tables, never build names: every table entry is the generated function itself."""
    from cfg_distortion import _generated as G

    assert G.DRIFTS[("G", "sde")] == (G.drift_G_sde_m, G.drift_G_sde_v)
    assert G.PROCESS["flow"]["g2"] is G.flow_g2 and set(G.PROCESS) == {"ou", "ve", "flow"}
    assert G.WRONG_CLASS_RATE["frozen"][0] is G.phi_frozen and G.GAUSSIAN_LIMIT["ode"][1] is G.gaussian_limit_v_ode


def test_derive_outside_the_repository_root_says_so_before_deriving(tmp_path, monkeypatch, capsys):
    from cfg_distortion.cli.app import main

    monkeypatch.chdir(tmp_path)
    assert main(["derive", "--check"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "repository root" in err[0]
