"""Argument groups shared by several subcommands (one definition, one help text)."""
from __future__ import annotations

SCHEDULE_HELP = ("guidance schedule in forward time t: const:W | affine:W0,SLOPE (W0 + SLOPE t) | "
                 "interval:W,t_lo,t_hi | interval-sigma:W,sigma_lo,sigma_hi (noise level b_t/a_t) | linear:w_T,w_0 | "
                 "piecewise:t1:w1,t2:w2,...")


def add_guidance(p):
    """--omega W | --schedule SPEC (exactly one)."""
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--omega", type=float, help="constant guidance strength omega")
    g.add_argument("--schedule", help=SCHEDULE_HELP)


def add_classes(p):
    """--alpha A | --K K (exactly one): the number of classes at finite d."""
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--alpha", type=float, help="alpha = log K / d >= 0 (K = round(exp(alpha d)) >= 2)")
    g.add_argument("--K", type=int, help="number of classes K >= 2")
