"""Derivation step 1a: the forward process x_t = a_t x0 + b_t z.

Given symbolic a(t) and b(t), sympy derives

- ``Gamma`` = a^2 sigma2 + b^2, the per-component variance of x_t given the class
  (x0 | c ~ N(mu_c, sigma2 I) and z ~ N(0, I) are independent);
- ``snr`` = a^2 / Gamma;
- the SDE coefficients of dx = f x dt + g dW with the same marginals:
  f = a'/a and g^2 = (b^2)' - 2 f b^2 (match the mean a_t and the variance b_t^2 of
  x_t given x0; :func:`sde_coefficients` derives them by solving those two ODEs).

Presets: ``ou`` (a = e^{-t}, b^2 = 1 - e^{-2t}), ``ve`` (a = 1, b = t) and ``flow``
(a = 1 - t, b = t, t in [0, 1)).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from .symbols import Gamma, a, b, f, g2, sigma2, snr, t

__all__ = ["ForwardProcess", "PRESETS", "forward_process", "sde_coefficients", "noise"]

noise = sp.Symbol("noise", positive=True)  # the EDM noise level sigma_t = b_t / a_t (not sigma2)


def sde_coefficients(a_t: sp.Expr, b_t: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """Drift f(t) and squared diffusion g^2(t) of dx = f x dt + g dW for which
    x_t | x0 ~ N(a_t x0, b_t^2 I).

    Mean: d/dt E[x_t|x0] = f E[x_t|x0] gives a' = f a. Variance: d/dt Var = 2 f Var + g^2
    gives (b^2)' = 2 f b^2 + g^2. Both are solved here for f and g^2.
    """
    f_, g2_ = sp.symbols("f g2")
    sol = sp.solve(
        [sp.Eq(sp.diff(a_t, t), f_ * a_t), sp.Eq(sp.diff(b_t**2, t), 2 * f_ * b_t**2 + g2_)],
        [f_, g2_],
        dict=True,
    )[0]
    return sp.simplify(sol[f_]), sp.simplify(sol[g2_])


@dataclass(frozen=True)
class ForwardProcess:
    """A forward process given by a(t) and b(t) on 0 <= t < t_max."""

    name: str
    a: sp.Expr
    b: sp.Expr
    t_max: sp.Expr = sp.oo

    @cached_property
    def Gamma(self) -> sp.Expr:
        """Per-component variance of x_t given the class."""
        return sp.simplify(self.a**2 * sigma2 + self.b**2)

    @cached_property
    def snr(self) -> sp.Expr:
        """Signal-to-noise ratio a_t^2 / Gamma_t."""
        return sp.simplify(self.a**2 / self.Gamma)

    @cached_property
    def f(self) -> sp.Expr:
        """Drift coefficient f = a'/a of the forward SDE."""
        return sde_coefficients(self.a, self.b)[0]

    @cached_property
    def g2(self) -> sp.Expr:
        """Squared diffusion g^2 = (b^2)' - 2 f b^2 of the forward SDE."""
        return sde_coefficients(self.a, self.b)[1]

    @cached_property
    def noise_level(self) -> sp.Expr:
        """sigma_t = b_t / a_t, the noise level of the EDM convention (x_t / a_t = x0 + sigma_t z)."""
        return sp.simplify(self.b / self.a)

    @cached_property
    def t_of_noise_level(self) -> sp.Expr:
        """The forward time t at which b_t / a_t equals ``noise`` (the unique root on 0 <= t < t_max)."""
        roots = [r for r in sp.solve(sp.Eq(self.noise_level, noise), t) if r.is_real is not False]
        if len(roots) != 1:
            raise RuntimeError(f"{self.name}: b/a = noise has roots {roots}; need exactly one")
        return sp.simplify(roots[0])

    def specialise(self, expr: sp.Expr) -> sp.Expr:
        """Substitute every process symbol of a derivation (a, b, Gamma, snr, f, g2) by this process's
        functions of t (simultaneously: Gamma's own a and b are not substituted twice)."""
        return expr.subs({Gamma: self.Gamma, snr: self.snr, a: self.a, b: self.b, f: self.f, g2: self.g2},
                         simultaneous=True)


def forward_process(a_t: sp.Expr, b_t: sp.Expr, name: str = "custom", t_max=sp.oo) -> ForwardProcess:
    """A user-defined forward process from symbolic a(t) and b(t) in the symbol ``t``."""
    return ForwardProcess(name, sp.sympify(a_t), sp.sympify(b_t), sp.sympify(t_max))


PRESETS: dict[str, ForwardProcess] = {
    "ou": ForwardProcess("ou", sp.exp(-t), sp.sqrt(1 - sp.exp(-2 * t))),
    "ve": ForwardProcess("ve", sp.Integer(1), t),
    "flow": ForwardProcess("flow", 1 - t, t, sp.Integer(1)),
}
