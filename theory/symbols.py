"""The notation of docs/theory.md as sympy symbols; import these, never re-create them.

Generic derivations are written in the process-agnostic symbols ``a``, ``b``, ``Gamma``,
``f`` and ``g2`` (treated as numbers at a fixed time) and specialised to a forward process
with :func:`cfg_distortion.theory.process.ForwardProcess.specialise`.

:data:`LATEX` is the one table of LaTeX forms: :func:`cfg_distortion.theory.latex.latex` and
the equation documents (:mod:`cfg_distortion.theory.equations`) both print with it, by
symbol name, so a symbol re-created elsewhere with other assumptions still prints right.
"""
import sympy as sp

t = sp.Symbol("t", nonnegative=True)  # forward-process time
d = sp.Symbol("d", positive=True, integer=True)  # dimension
K = sp.Symbol("K", positive=True, integer=True)  # number of classes
alpha = sp.Symbol("alpha", nonnegative=True)  # log K / d
sigma2 = sp.Symbol("sigma2", nonnegative=True)  # within-class variance
omega = sp.Symbol("omega", real=True)  # guidance strength

# process coefficients at a fixed time
a = sp.Symbol("a", positive=True)
b = sp.Symbol("b", positive=True)
Gamma = sp.Symbol("Gamma", positive=True)  # a^2 sigma2 + b^2
snr = sp.Symbol("snr", positive=True)  # a^2 / Gamma
f = sp.Symbol("f", real=True)  # forward drift coefficient a'/a
g2 = sp.Symbol("g2", nonnegative=True)  # forward squared diffusion (b^2)' - 2 f b^2

# order parameters (per-dimension, d -> infinity)
m = sp.Symbol("m", real=True)  # x . mu_c / d
v = sp.Symbol("v", nonnegative=True)  # |x - m mu_c|^2 / d
q = sp.Symbol("q", positive=True)  # |x|^2 / d = m^2 + v

# large-deviation variables of one wrong centroid mu_k, given the direction e = x/|x|
s = sp.Symbol("s", real=True)  # overlap: mu_k . e / sqrt(d)
n = sp.Symbol("n", positive=True)  # transverse norm: |mu_k - (mu_k . e) e|^2 / d
lam = sp.Symbol("lambda", real=True)  # Legendre (tilt) variable
theta = sp.Symbol("theta", positive=True)  # 1RSB / tilt temperature, 0 < theta <= 1
u = sp.Symbol("u", nonnegative=True)  # theta * a^2 / Gamma, frozen-branch parameter
kappa = sp.Symbol("kappa", real=True)  # wrong-class posterior mean along x in branch G: M = kappa x

# invariants of one sample x and one centroid mu_k (for the scores)
xx = sp.Symbol("xx", nonnegative=True)  # |x|^2
xmu = sp.Symbol("xmu", real=True)  # x . mu_k
mumu = sp.Symbol("mumu", nonnegative=True)  # |mu_k|^2

# LaTeX of every symbol whose name is not its LaTeX (docs/theory.md, "Notation"), by symbol name
LATEX: dict[str, str] = {
    "sigma2": r"\sigma^2",
    "Gamma": r"\Gamma_t",
    "a": "a_t",
    "b": "b_t",
    "snr": r"\mathrm{SNR}_t",
    "f": "f_t",
    "g2": "g_t^2",
    "xx": r"\lVert x\rVert^2",
    "xmu": r"x\cdot\mu_k",
    "mumu": r"\lVert\mu_k\rVert^2",
    "mu_c": r"\mu_c",
    "x_perp": r"x_\perp",
    "sigma2_bad": r"\sigma^2_{\mathrm{bad}}",  # theory/rules.py: autoguidance's bad model
    "c_par": r"c_\parallel",  # theory/rules.py: APG's parallel coefficient
}


def latex_names(expr) -> dict:
    """``symbol_names`` for :func:`sympy.latex`: the :data:`LATEX` form of every free symbol of ``expr``."""
    return {sym: LATEX[sym.name] for sym in getattr(expr, "free_symbols", ()) if getattr(sym, "name", None) in LATEX}
