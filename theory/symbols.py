"""The notation of THEORY.md as sympy symbols; import these, never re-create them.

Generic derivations are written in the process-agnostic symbols ``a``, ``b`` and
``Gamma`` (treated as positive numbers at a fixed time) and specialised to a
forward process with :func:`cfg_distortion.theory.process.ForwardProcess.specialise`.
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

# invariants of one sample x and one centroid mu_k (for the scores)
xx = sp.Symbol("xx", nonnegative=True)  # |x|^2
xmu = sp.Symbol("xmu", real=True)  # x . mu_k
mumu = sp.Symbol("mumu", nonnegative=True)  # |mu_k|^2
