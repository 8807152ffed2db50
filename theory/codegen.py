"""The one place where sympy becomes numbers: generate ``numerics/_generated.py``.

Every numeric function of the toolkit that a formula defines is produced here from the
derivations of :mod:`cfg_distortion.theory` (common subexpressions eliminated with
:func:`sympy.cse`, log(1 + x) and exp(x) - 1 rewritten to log1p / expm1 by
:func:`sympy.codegen.rewriting.optimize`, printed by sympy's NumPy printer). The module
is committed so that a CLI call imports numpy code only, never sympy; a test regenerates
it and fails if the committed file is stale. Besides the functions, the module exports lookup
tables (:func:`lookup_tables`: drifts by branch and sampler, process functions by name,
Gaussian limits by sampler, ...), so callers index a table instead of building function
names as strings. Regenerate, from a source checkout (``pip install -e .``), with::

    python -m cfg_distortion.theory.codegen        # writes numerics/_generated.py of this checkout

It refuses, with one line, to write into an installed (site-packages) copy. The theory
behind every function is summarised in docs/theory.md.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import sympy as sp
from sympy.codegen.cfunctions import log1p
from sympy.codegen.rewriting import expm1_opt, log1p_opt, optimize
from sympy.printing.numpy import SciPyPrinter

from . import classification as C
from . import free_energy as F
from . import scores as S
from .latex import latex
from .process import PRESETS, noise
from .symbols import Gamma, a, alpha, m, mumu, omega, q, sigma2, snr, t, theta, u, xmu

CHECKOUT = Path(__file__).resolve().parent.parent  # the source checkout, when this file is in one
GENERATED_PATH = CHECKOUT / "numerics" / "_generated.py"
PROCESS_FIELDS = ("a", "b", "Gamma", "snr", "f", "g2", "alpha_c", "t_c", "noise_level", "t_of_noise_level", "da",
                  "dGamma")


@dataclass(frozen=True)
class NumericFunction:
    name: str
    args: tuple[sp.Symbol, ...]
    build: Callable[[], sp.Expr]
    doc: str


# sympy's C99 rewrites that buy accuracy here: exp(x) - 1 -> expm1(x), log(1 + x) -> log1p(x). Its
# other three (exp2, log2, log2const) are about base-2 logarithms, which this theory never produces:
# without them every generated function is the same expression, and their pattern searches were
# about a third of the generation's time.
STABLE_REWRITES = (expm1_opt, log1p_opt)


def _stable(expr: sp.Expr) -> sp.Expr:
    """log1p / expm1 rewrites for accuracy near 0."""
    return optimize(expr, STABLE_REWRITES)


def _log1p_form(expr: sp.Expr) -> sp.Expr:
    """log(y) -> log1p(y - 1) with y - 1 simplified: accurate where y -> 1 (t_c -> 0 for ou)."""
    return expr.replace(lambda e: isinstance(e, sp.log), lambda e: log1p(sp.factor(sp.cancel(e.args[0] - 1))))


def _alpha_c_numeric(name: str) -> sp.Expr:
    # (1/2) log1p(snr) is exact to the last bit even where snr ~ e^{-2t} is tiny
    return _stable(_stable(C.alpha_c_snr()).subs(snr, PRESETS[name].snr))


def _generic() -> list[NumericFunction]:
    coef = S.guided_score_coefficients()
    sad = F.tilted_saddle()
    return [
        NumericFunction("score_coef_x", (a, Gamma), lambda: S.score_coefficients()[0],
                        "coefficient of x in every score (conditional, unconditional, guided)"),
        NumericFunction("score_coef_mu", (a, Gamma), lambda: S.score_coefficients()[1],
                        "coefficient of the (posterior-mean) centroid in the class score"),
        NumericFunction("guided_coef_target", (a, Gamma, omega), lambda: coef["coef_target"],
                        "coefficient of mu_c in the guided score"),
        NumericFunction("guided_coef_post", (a, Gamma, omega), lambda: coef["coef_post"],
                        "coefficient of sum_k w_k mu_k in the guided score"),
        NumericFunction("class_logit", (xmu, mumu, a, Gamma), S.class_logit,
                        "k-dependent part of log p_t(x|k); posterior weights are its softmax"),
        NumericFunction("phi_annealed", (alpha, q, a, Gamma), F.phi_annealed,
                        "annealed (paramagnetic) wrong-class rate lim (1/d) log E Z"),
        NumericFunction("entropy_saddle", (alpha, q, a, Gamma), lambda: F.entropy_at_saddle().subs(theta, 1),
                        "entropy Sigma(1) of the annealed saddle; < 0 means frozen"),
        NumericFunction("freezing_alpha", (q, a, Gamma), F.freezing_alpha,
                        "alpha at which the annealed saddle's entropy vanishes"),
        NumericFunction("saddle_s", (theta, q, a, Gamma), lambda: sad[sp.Symbol("s", real=True)],
                        "overlap s of the tilted saddle"),
        NumericFunction("saddle_n", (theta, q, a, Gamma), lambda: sad[sp.Symbol("n", positive=True)],
                        "transverse norm n of the tilted saddle"),
        NumericFunction("frozen_constraint", (u, alpha, q, a, Gamma), F.frozen_constraint,
                        "Sigma(theta = u Gamma / a^2); the frozen branch solves it = 0 for u"),
        NumericFunction("phi_frozen", (u, q, a, Gamma), F.phi_frozen,
                        "frozen (condensed) wrong-class rate at the root u of frozen_constraint"),
        NumericFunction("target_term", (m, a, Gamma), C.target_term,
                        "(1/d) logit of the target class"),
        NumericFunction("boundary_m_annealed", (alpha, q, a, Gamma), C.boundary_m_annealed,
                        "m on the classification boundary, annealed branch"),
        NumericFunction("alpha_c_of_snr", (snr,), lambda: _stable(C.alpha_c_snr()),
                        "classification threshold as a function of the SNR"),
    ]


def _per_process() -> list[NumericFunction]:
    out = []
    for name, p in PRESETS.items():
        out += [
            NumericFunction(f"{name}_a", (t,), lambda p=p: p.a, f"a_t of the {name} process"),
            NumericFunction(f"{name}_b", (t,), lambda p=p: p.b, f"b_t of the {name} process"),
            NumericFunction(f"{name}_Gamma", (t, sigma2), lambda p=p: p.Gamma, f"Gamma_t of the {name} process"),
            NumericFunction(f"{name}_snr", (t, sigma2), lambda p=p: p.snr, f"SNR_t of the {name} process"),
            NumericFunction(f"{name}_f", (t,), lambda p=p: p.f, f"forward drift f = a'/a of the {name} process"),
            NumericFunction(f"{name}_g2", (t,), lambda p=p: p.g2, f"forward g^2 of the {name} process"),
            NumericFunction(f"{name}_alpha_c", (t, sigma2), lambda name=name: _alpha_c_numeric(name),
                            f"alpha_c(t) of the {name} process"),
            NumericFunction(f"{name}_t_c", (alpha, sigma2), lambda name=name: _log1p_form(C.t_c(name)),
                            f"t_c(alpha) of the {name} process, valid for 0 < alpha < alpha_c(0)"),
            NumericFunction(f"{name}_noise_level", (t,), lambda p=p: p.noise_level,
                            f"noise level sigma_t = b_t/a_t of the {name} process (EDM convention)"),
            NumericFunction(f"{name}_t_of_noise_level", (noise,), lambda p=p: p.t_of_noise_level,
                            f"forward time t with b_t/a_t = noise for the {name} process"),
        ]
    return out


# theory modules that contribute generated functions: each defines
# ``numeric_functions() -> list[NumericFunction]`` (imported lazily, in this order)
EXTRA_MODULES: list[str] = ["dmf", "potential", "transition", "gaussian_limit", "finite_d", "divergence", "capture",
                            "rules"]


def numeric_functions() -> list[NumericFunction]:
    import importlib

    out = _generic() + _per_process()
    for name in EXTRA_MODULES:
        out += importlib.import_module(f"cfg_distortion.theory.{name}").numeric_functions()
    names = [fn.name for fn in out]
    if len(names) != len(set(names)):
        raise RuntimeError(f"duplicate generated function names: {sorted({n for n in names if names.count(n) > 1})}")
    return out


def latex_table() -> dict[str, dict[str, str]]:
    """LaTeX of the closed forms the CLI reports, by quantity and process."""
    return {
        "alpha_c": {name: latex(C.alpha_c(name)) for name in PRESETS},
        "t_c": {name: latex(C.t_c(name)) for name in PRESETS},
        "alpha_c_snr": {"any": latex(C.alpha_c_snr())},
    }


class _Printer(SciPyPrinter):
    """SciPy printer that also prints the Gauss hypergeometric 2F1 (scipy.special.hyp2f1)."""

    def _print_Pi(self, expr):
        return "numpy.pi"

    def _print_exprel(self, expr):
        return f"scipy.special.exprel({self._print(expr.args[0])})"

    def _print_Max(self, expr):  # the parent prints functools.reduce(...), which the module does not import
        return self._fold("numpy.maximum", expr.args)

    def _print_Min(self, expr):
        return self._fold("numpy.minimum", expr.args)

    def _fold(self, fn, args):
        first, *rest = args
        return f"{fn}({self._print(first)}, {self._fold(fn, rest)})" if rest else self._print(first)

    def _print_hyper(self, expr):
        if len(expr.ap) != 2 or len(expr.bq) != 1:
            return self._print_not_supported(expr)
        z = sp.unpolarify(expr.argument)  # sympy keeps 2F1 arguments on the polar (Riemann) surface
        args = ", ".join(self._print(x) for x in (*expr.ap, *expr.bq, z))
        return f"scipy.special.hyp2f1({args})"


def _function_source(fn: NumericFunction, printer: SciPyPrinter) -> str:
    expr = _stable(sp.sympify(fn.build()))
    argnames = [str(s) for s in fn.args]
    stray = expr.free_symbols - set(fn.args)
    if stray:
        raise RuntimeError(f"{fn.name}: expression has symbols {stray} that are not arguments {argnames}")
    subexprs, (reduced,) = sp.cse([expr], symbols=sp.numbered_symbols("_x"))
    lines = [f"def {fn.name}({', '.join(argnames)}):", f'    """{fn.doc}."""']
    for sym, sub in subexprs:
        lines.append(f"    {sym} = {printer.doprint(sub)}")
    body = printer.doprint(reduced)
    if not (reduced.free_symbols & set(fn.args)) and not subexprs:
        body = f"_broadcast({body}, {', '.join(argnames)})"
    lines.append(f"    return {body}")
    if any("scipy.special." in line for line in lines):  # imported where used: keeps CLI start-up lean
        lines.insert(2, "    import scipy.special")
    return "\n".join(lines)


def lookup_tables(names: list[str]) -> list[tuple[str, str, dict]]:
    """(name, description, {key: function name | tuple of names | nested dict}) of every lookup
    table of the generated module, read off the generated ``names`` in their order (each entry is
    checked to exist when the module is written)."""
    import re

    def table(pattern: str, partners) -> dict:  # {key: (name, its partners)} for every name matching pattern
        out = {}
        for name in names:
            match = re.fullmatch(pattern, name)
            if match:
                key = match.groups() if len(match.groups()) > 1 else match.group(1)
                out[key] = (name, *(partner(name) for partner in partners))
        return out

    rate = ("", "_dq", "_da", "_dGamma")
    return [
        ("PROCESS", "the functions of each forward process, by process name and quantity",
         {p: {q: f"{p}_{q}" for q in PROCESS_FIELDS} for p in PRESETS}),
        ("DRIFTS", "(dm/dtau, dv/dtau) of the mean-field dynamics, by (branch, sampler)",
         table(r"drift_([GC])_([a-z]+)_m", [lambda n: n[:-1] + "v"])),
        ("WRONG_CLASS_RATE", "phi and its partial derivatives (phi, d/dq, d/da, d/dGamma), by branch",
         {br: tuple(f"phi_{br}{x}" for x in rate) for br in ("annealed", "frozen")}),
        ("GAUSSIAN_LIMIT", "(m(0), v(0)) of the K -> infinity limit at constant omega (OU), by sampler",
         table(r"gaussian_limit_m_([a-z]+)", [lambda n: n.replace("_m_", "_v_")])),
        ("FINITE_D_DRIFTS", "(dm/dtau, dv/dtau) of the finite-d theory, by sampler",
         table(r"drift_fd_([a-z]+)_m", [lambda n: n[:-1] + "v"])),
        ("FINITE_D_STEPS", "(slope, shift) of the finite-d exact step in m, by sampler",
         table(r"fd_step_([a-z]+)_slope", [lambda n: n.replace("_slope", "_shift")])),
        ("RULE_DRIFTS", "(dm/dtau, dv/dtau) of a guidance rule form, by (rule form, branch, sampler)",
         table(r"rule_([a-z_]+)_([GC])_([a-z]+)_m", [lambda n: n[:-1] + "v"])),
        ("KAPPA_DRIFTS", "(dm/dtau, dv/dtau) of branch G with the wrong-class coefficient kappa an argument "
         "(frozen G: kappa_eff), by sampler",
         table(r"drift_Gk_([a-z]+)_m", [lambda n: n[:-1] + "v"])),
        ("FINITE_K_STEP_SLOPE", "slope of the finite-d exact step in m with the exact finite-K wrong-class mean, "
         "by sampler",
         {s: f"fk_step_{s}_slope" for s in ("sde", "ode")}),
        ("CAPTURE_DRIFTS", "(dm/dtau, dv/dtau, dr/dtau) of the two-class problem after a capture, by (branch, sampler)",
         table(r"capture_drift_([A-Z])_([a-z]+)_m", [lambda n: n[:-1] + "v", lambda n: n[:-1] + "r"])),
        ("PREDICTION_COEF", "(A, B) of the prediction P = A s + B x of a space, by space",
         table(r"prediction_coef_score_([a-z0-9]+)", [lambda n: n.replace("_score_", "_x_")])),
    ]


def _table_source(name: str, doc: str, table: dict, known: set[str]) -> str:
    def value(x, indent):
        if isinstance(x, str):
            if x not in known:
                raise RuntimeError(f"lookup table {name}: {x} is not a generated function")
            return x
        if isinstance(x, tuple):
            return "(" + ", ".join(value(y, indent) for y in x) + ("," if len(x) == 1 else "") + ")"
        pad = " " * (indent + 4)
        items = [f"{pad}{k!r}: {value(v, indent + 4)}," for k, v in x.items()]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"

    return f"# {doc}\n{name} = {value(table, 0)}"


def generate_module() -> str:
    """Source text of numerics/_generated.py."""
    printer = _Printer({"fully_qualified_modules": True, "inline": True})
    header = [
        '"""GENERATED by cfg_distortion.theory.codegen from the sympy derivations. Do not edit.',
        "",
        "Regenerate with `python -m cfg_distortion.theory.codegen`; tests/test_codegen.py fails",
        'when this file is stale."""',
        "import numpy",
        "",
        "",
        "def _broadcast(value, *args):",
        '    """A constant with the broadcast shape of the arguments (nan where one is inf or nan)."""',
        "    if all(isinstance(x, float) for x in args):  # scalars: the same sum without array overhead",
        "        return numpy.float64(value + 0.0 * sum(args))",
        "    return value + 0.0 * sum(numpy.asarray(x, dtype=float) for x in args)",
    ]
    parts = ["\n".join(header)]
    functions = numeric_functions()
    for fn in functions:
        parts.append(_function_source(fn, printer))
    known = [fn.name for fn in functions]
    parts += [_table_source(name, doc, table, set(known)) for name, doc, table in lookup_tables(known)]
    parts.append("LATEX = " + repr(latex_table()))
    return "\n\n\n".join(parts) + "\n"


def in_checkout() -> bool:
    """This module sits in a source checkout (pyproject.toml and numerics/ beside theory/), not in an
    installed copy under site-packages."""
    return (CHECKOUT / "pyproject.toml").is_file() and (CHECKOUT / "numerics" / "__init__.py").is_file()


def write_module(path: Path = GENERATED_PATH) -> Path:
    """Write the module atomically (a temporary file beside it, then a rename)."""
    text = generate_module()
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m cfg_distortion.theory.codegen", description=(
        "Regenerate numerics/_generated.py of this source checkout from the sympy derivations of theory/ "
        "(a few minutes of CPU). Refuses to write into an installed (site-packages) copy."))
    parser.add_argument("target", nargs="?", type=Path, default=None,
                        help="write the module here instead (e.g. to compare it with the committed one)")
    args = parser.parse_args(argv[1:])
    if args.target is not None:
        target = args.target
    elif in_checkout():
        target = GENERATED_PATH
    else:
        print(f"cfg_distortion.theory.codegen: {Path(__file__).resolve().parent} is an installed copy, not a "
              "source checkout: run it from a clone installed with `pip install -e .`", file=sys.stderr)
        return 2
    print(f"wrote {write_module(target)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
