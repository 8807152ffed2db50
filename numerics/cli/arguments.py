"""Argument groups shared by several subcommands (one flag name, one default, one help text per quantity).

The defaults are those of the API (:mod:`cfg_distortion.api`): ``--sigma2 1``, ``--sampler sde``,
``--process ou``, ``--out out``. Figures and tables go to ``--out DIR``; ``--plot`` asks for a
figure where one is optional.
"""
from __future__ import annotations

PROCESSES = ("ou", "ve", "flow")  # cfg_distortion.model.params.PROCESSES (not imported: keeps --help fast)
SAMPLERS = ("sde", "ode")
SCHEDULE_HELP = ("guidance schedule in forward time t: const:W | affine:W0,SLOPE (W0 + SLOPE t) | "
                 "interval:W,t_lo,t_hi | interval-sigma:W,sigma_lo,sigma_hi (noise level b_t/a_t) | linear:w_T,w_0 | "
                 "piecewise:t1:w1,t2:w2,...")


def add_guidance(p):
    """--omega W | --schedule SPEC (exactly one)."""
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--omega", type=float, help="constant guidance strength omega, -100 <= omega <= 1e5 (schedules: "
                                                "omega(t) in that range on [0, T])")
    g.add_argument("--schedule", help=SCHEDULE_HELP)


def add_classes(p):
    """--alpha A | --K K (exactly one): the number of classes at finite d."""
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--alpha", type=float, help="alpha = log K / d >= 0 (K = round(exp(alpha d)) >= 2)")
    g.add_argument("--K", type=int, help="number of classes K >= 2")


def add_sigma2(p, allowed: str = "in [1e-100, 1e100]"):
    p.add_argument("--sigma2", type=float, default=1.0, help=f"within-class variance sigma^2 {allowed} (default: 1)")


def add_sampler(p):
    p.add_argument("--sampler", default="sde", choices=SAMPLERS,
                   help="sde: reverse SDE; ode: probability-flow ODE (default: sde)")


def add_process(p):
    p.add_argument("--process", default="ou", choices=PROCESSES, help="forward process (default: ou)")


def add_xtol(p):
    p.add_argument("--xtol", type=float, default=1e-6,
                   help="tolerance of the boundary root in alpha, 1e-12 <= xtol <= 1e-3 (default 1e-6)")


def add_json(p):
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")


def add_out(p, what: str):
    p.add_argument("--out", default="out", metavar="DIR", help=f"output folder for {what} (default: ./out)")


def add_plot(p, what: str):
    p.add_argument("--plot", action="store_true", help=f"also draw the figure {what} in --out DIR")


RULE_GRAMMAR = ("cfg | rescale:PHI[,SPACE] | apg:ETA[,RHO[,BETA]] | zero-star | "
                "autoguidance:SIGMA2_BAD | cfgpp")  # model.rules.GRAMMAR
RULE_HELP = (f"guidance rule: {RULE_GRAMMAR} (0 <= PHI <= 1, SPACE = eps|v, default v; RHO > 0 the per-coordinate "
             "norm threshold or none (default); -1 < BETA < 1 APG's momentum, simulate only; SIGMA2_BAD > 0; "
             "cfgpp: CFG++ with lambda = 1 + omega, simulate --integrator euler|euler-ancestral only) (default: cfg)")


def add_rule(p):
    """--rule SPEC: the guidance rule (cfg_distortion.model.rules)."""
    p.add_argument("--rule", default="cfg", metavar="SPEC", help=RULE_HELP)
