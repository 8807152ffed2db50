"""Guidance rules as input: the ``--rule SPEC`` grammar and the rule's generated DMF drifts.

Grammar (omega is given separately, in the toolkit's convention: omega = 0 is the plain
conditional sampler)::

    cfg                      linear CFG (default)
    rescale:PHI[,SPACE]      CFG-rescale, 0 <= PHI <= 1, SPACE = eps | v (default v)
    apg:ETA[,RHO[,BETA]]     adaptive projected guidance; ETA the weight of the parallel part
                             (1: cfg), RHO > 0 the per-coordinate norm threshold r / sqrt(d)
                             (absent or 'none': no threshold), BETA the momentum of the running
                             buffer (absent or 0: none; the simulator only, it depends on the
                             step sequence)
    zero-star                CFG-Zero* (projection form) on the probability-flow velocity
    cfgpp                    CFG++ (Chung et al. 2025) with lambda = 1 + omega: re-noise with the
                             unconditional denoiser; a rule of the discrete samplers only (simulate
                             --integrator euler | euler-ancestral), per step CFG at
                             omega_i = lambda sigma_i / (sigma_i - sigma_{i+1}) - 1
    autoguidance:SIGMA2_BAD  the bad model is the same class with within-class variance SIGMA2_BAD > 0

The drifts come from ``theory/rules.py`` through ``_generated.py``; the rule formulas
themselves live there. :mod:`cfg_distortion.finite_d.rules` applies the same rules to
per-sample vectors in the simulator.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

from cfg_distortion import _generated as G
from cfg_distortion.model import params as V

FAMILIES = ("cfg", "rescale", "apg", "zero-star", "autoguidance", "cfgpp")
SPACES = ("eps", "v")  # of rescale (theory/rules.py RESCALE_SPACES)
GRAMMAR = ("cfg | rescale:PHI[,SPACE] | apg:ETA[,RHO[,BETA]] | zero-star | autoguidance:SIGMA2_BAD | cfgpp "
           "(SPACE = eps|v, default v)")
DEFAULT_RULES = ("cfg", "rescale:0.7", "apg:0", "zero-star", "autoguidance:2")


@dataclass(frozen=True)
class Rule:
    """A parsed guidance rule: family, space it acts in, numeric parameters, canonical spec."""

    family: str
    space: str = "eps"
    phi: float | None = None
    eta: float | None = None
    rho: float | None = None
    sigma2_bad: float | None = None
    beta: float | None = None  # APG momentum (None: no buffer)

    @property
    def spec(self) -> str:
        if self.family == "rescale":
            return f"rescale:{self.phi:g},{self.space}"
        if self.family == "apg":
            rho = "none" if self.rho is None else f"{self.rho:g}"
            if self.beta is not None:
                return f"apg:{self.eta:g},{rho},{self.beta:g}"
            return f"apg:{self.eta:g}" + ("" if self.rho is None else f",{rho}")
        if self.family == "autoguidance":
            return f"autoguidance:{self.sigma2_bad:g}"
        return self.family

    @property
    def is_cfg(self) -> bool:
        return self.family == "cfg"

    @property
    def has_momentum(self) -> bool:
        """APG with a momentum buffer: a function of the step sequence, not of (x, t) alone."""
        return self.beta is not None

    @property
    def key(self) -> str | None:
        """Name of the generated drift family (None for cfg, whose drifts are ``drift_*``)."""
        if self.family == "rescale":
            return f"rescale_{self.space}"
        if self.family == "apg":
            return "apg" if self.rho is None else "apg_clip"
        return {"zero-star": "zero_star", "autoguidance": "autoguidance"}.get(self.family)

    @property
    def params(self) -> tuple[float, ...]:
        """Numeric parameters in the order of the generated functions' trailing arguments."""
        return {"rescale": (self.phi,), "apg": (self.eta,) if self.rho is None else (self.eta, self.rho),
                "autoguidance": (self.sigma2_bad,)}.get(self.family, ())

    def drift_functions(self, sampler: str) -> dict:
        """branch -> (dm/dtau, dv/dtau) callables of (m, v, a, b, Gamma, f, g2, omega), with kappa
        (the wrong-class posterior mean M = kappa x: annealed, or kappa_eff where frozen) last in G."""
        if self.family == "cfgpp":
            raise ValueError("rule cfgpp (CFG++) is a rule of the discrete samplers: its guidance depends on the "
                             "step sizes (simulate --integrator euler or euler-ancestral), not on (x, t)")
        if self.has_momentum:
            raise ValueError(f"rule {self.spec}: APG momentum BETA depends on the step sequence; it runs in the "
                             "simulator only (simulate --rule), not in the mean field")
        out = {}
        for branch in "GC":
            fns = G.RULE_DRIFTS[(self.key, branch, sampler)]
            out[branch] = tuple(partial(_with_params, fn, self.params) for fn in fns)
        return out


def _with_params(fn, params, *args):
    return fn(*args, *params)


def _number(name: str, text: str, allowed: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise ValueError(f"rule {name} must be a number, {allowed} (got {text!r})") from None
    if not math.isfinite(x):
        raise ValueError(f"rule {name} must be finite, {allowed} (got {text!r})")
    return x


def parse_rule(spec) -> Rule:
    """A :class:`Rule` from a spec string (see the module doc), a Rule, or None (cfg)."""
    if spec is None:
        return Rule("cfg")
    if isinstance(spec, Rule):
        return spec
    if not isinstance(spec, str):
        raise ValueError(f"rule must be a string {GRAMMAR} (got {spec!r})")
    name, _, rest = spec.strip().partition(":")
    args = [x.strip() for x in rest.split(",")] if rest else []
    if name not in FAMILIES:
        raise ValueError(f"rule must be one of {GRAMMAR} (got {spec!r})")
    if name in ("cfg", "zero-star", "cfgpp"):
        if args:
            raise ValueError(f"rule {name} takes no parameters (got {spec!r})")
        return Rule(name, {"zero-star": "u", "cfgpp": "x0"}.get(name, "eps"))
    if name == "rescale":
        if not 1 <= len(args) <= 2:
            raise ValueError(f"rule rescale must be rescale:PHI[,SPACE] (got {spec!r})")
        phi = _number("PHI", args[0], "0 <= PHI <= 1")
        if not 0 <= phi <= 1:
            raise ValueError(f"rule PHI must satisfy 0 <= PHI <= 1 (got {phi:g})")
        space = args[1] if len(args) == 2 else "v"
        if space not in SPACES:
            raise ValueError(f"rule rescale SPACE must be one of {', '.join(SPACES)} (got {space!r})")
        return Rule("rescale", space, phi=phi)
    if name == "apg":
        if not 1 <= len(args) <= 3:
            raise ValueError(f"rule apg must be apg:ETA[,RHO[,BETA]] (got {spec!r})")
        eta = _number("ETA", args[0], "any real")
        rho = beta = None
        if len(args) >= 2 and args[1].lower() not in ("none", "inf"):
            rho = _number("RHO", args[1], "RHO > 0 or none")
            if rho <= 0:
                raise ValueError(f"rule RHO must be > 0 or none (got {rho:g})")
        if len(args) == 3:
            beta = _number("BETA", args[2], "-1 < BETA < 1")
            if not -1 < beta < 1:
                raise ValueError(f"rule BETA must satisfy -1 < BETA < 1 (got {beta:g}): the buffer's geometric sum "
                                 "converges only there")
            beta = None if beta == 0 else beta
        return Rule("apg", "x0", eta=eta, rho=rho, beta=beta)
    if len(args) != 1:
        raise ValueError(f"rule autoguidance must be autoguidance:SIGMA2_BAD (got {spec!r})")
    s2 = _number("SIGMA2_BAD", args[0], "SIGMA2_BAD > 0")
    if s2 <= 0:
        raise ValueError(f"rule SIGMA2_BAD must be > 0 (got {s2:g})")
    return Rule("autoguidance", "x0", sigma2_bad=s2)


def parse_rules(specs) -> list[Rule]:
    """Rules from a comma-separated string ("cfg,rescale:0.7,v,apg:0" is cfg, rescale:0.7,v and
    apg:0: a token that does not start with a family name continues the previous spec), from a
    list of specs, or None (the default set)."""
    if specs is None:
        specs = DEFAULT_RULES
    if isinstance(specs, str):
        merged: list[str] = []
        for token in (x.strip() for x in specs.split(",")):
            if merged and token.partition(":")[0] not in FAMILIES:
                merged[-1] += "," + token
            else:
                merged.append(token)
        specs = [x for x in merged if x]
    rules = [parse_rule(s) for s in specs]
    if not rules:
        raise ValueError(f"rules must name at least one rule: {GRAMMAR}")
    return rules
