"""Guidance rules side by side in the d -> infinity theory: ``cd.compare_rules``.

For each rule (:mod:`cfg_distortion.model.rules`) and each constant omega, one DMF trajectory
(:func:`.dmf.trajectory` with ``rule=``) gives the final overlap m(0), the transverse
variance v(0), the divergence ``kl`` from the class law (per dimension, d -> infinity) and
whether the sample ends classified; for each rule the boundary alpha_c(omega) comes from the
vectorised root finder of :mod:`.phase` run on that rule's drifts.
"""
from __future__ import annotations

import math

from cfg_distortion.meanfield import phase
from cfg_distortion.meanfield.dmf import trajectory, validate_inputs
from cfg_distortion.model import params as V
from cfg_distortion.model.divergence import kl
from cfg_distortion.model.rules import parse_rules
from cfg_distortion.result import json_number

DEFAULT_OMEGA = "0:6:7"  # START:STOP:NUM, inclusive: 0, 1, ..., 6
ROW_KEYS = ("rule", "omega", "m_final", "v_final", "kl", "classified")
BOUNDARY_KEYS = ("rule", "omega", "alpha_c", "tolerance", "note")


def csv_text(keys, rows) -> str:
    """CSV text of ``rows`` (dicts) with the columns ``keys``; None is empty, booleans true/false."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(keys)
    for r in rows:
        w.writerow(["" if r.get(k) is None else (str(r[k]).lower() if isinstance(r[k], bool) else r[k])
                    for k in keys])
    return buf.getvalue()


def compare_rules(alpha, sigma2=1.0, *, rules=None, omega=DEFAULT_OMEGA, sampler="sde", process="ou",
                  boundary=True, xtol=1e-6, progress=None) -> dict:
    """Each rule over the omegas at one alpha: m(0), v(0), kl, classified; alpha_c(omega) per rule.

    ``rules``: specs (a comma-separated string or a list; default: cfg, rescale:0.7, apg:0,
    zero-star, autoguidance:2). ``omega``: ``"START:STOP:NUM"`` or a sequence. ``alpha = inf`` is
    K -> infinity (branch G throughout; no boundary). ``progress``: a tqdm-like object updated
    once per trajectory and once per boundary. Returns the fields of :class:`cfg_distortion.api.RuleComparison`.
    Raises ValueError on bad input and ArithmeticError (ConvergenceError) when a trajectory
    cannot be integrated."""
    rules = parse_rules(rules)
    omegas = V.linspace_range(omega, "omega")
    for w in (omegas.min(), omegas.max()):
        V.omega_bound(w)
    alpha, sigma2, sampler, process, _ = validate_inputs(alpha, sigma2, sampler, process, None)
    xtol = V.xtol(xtol)
    rows, bnd, notes = [], {}, []
    for rule in rules:
        for w in omegas:
            tr = trajectory(alpha, float(w), sigma2, sampler=sampler, process=process, rule=rule)
            rows.append({"rule": rule.spec, "omega": float(w), "m_final": tr.m_final, "v_final": tr.v_final,
                         "kl": json_number(kl(tr.m_final, tr.v_final, sigma2)), "classified": bool(tr.classified)})
            notes += [f"{rule.spec}, omega = {w:g}: {n}" for n in tr.notes]
            if progress is not None:
                progress.update()
        if boundary and math.isfinite(alpha):
            pts = phase.boundary(omegas, sigma2, sampler=sampler, process=process, xtol=xtol, rule=rule)
            bnd[rule.spec] = [{"omega": float(p.omega), "alpha_c": json_number(p.alpha_c),
                               "tolerance": json_number(p.tolerance), "note": p.note} for p in pts]
            if progress is not None:
                progress.update()
    return dict(alpha=float(alpha), sigma2=float(sigma2), sampler=sampler, process=process,
                rules=[r.spec for r in rules], omegas=[float(w) for w in omegas], rows=rows, boundary=bnd, notes=notes)
