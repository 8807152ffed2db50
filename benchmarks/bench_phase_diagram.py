"""Vectorised phase-diagram grid against the per-point solve_ivp loop, in the same run.

Grid: alpha in [0.01, 1] (NA points) x omega in [0, 6] (NW points), sigma2 = 1, OU, SDE, all
integrated together by `phase.phase_grid`. Loop: `dmf.trajectory` (solve_ivp DOP853 with
events) on every STRIDE-th point of the same grid, at the same rtol/atol as the grid. Prints
one JSON line: grid_points, grid_seconds, loop_points, loop_seconds, speedup (points per second
of the grid over points per second of the loop) and max_abs_diff (over m(0), v(0), t_switch on
the loop's points).
"""
from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np

from cfg_distortion.meanfield import dmf
from cfg_distortion.meanfield import phase


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-alpha", type=int, default=200)
    parser.add_argument("--n-omega", type=int, default=100)
    parser.add_argument("--stride", type=int, default=97, help="loop over every STRIDE-th grid point")
    parser.add_argument("--sampler", default="sde", choices=("sde", "ode"))
    parser.add_argument("--json", action="store_true", help="(the output is always one JSON line)")
    args = parser.parse_args()
    alphas, omegas = np.linspace(0.01, 1.0, args.n_alpha), np.linspace(0.0, 6.0, args.n_omega)

    phase.integrate_points([0.2], [1.0], 1.0, sampler=args.sampler)  # warm-up (imports, caches)
    start = time.perf_counter()
    grid = phase.phase_grid(alphas, omegas, 1.0, sampler=args.sampler)
    grid_seconds = time.perf_counter() - start
    res = grid.points

    subset = np.arange(0, res.alpha.size, args.stride)
    start = time.perf_counter()
    trajs = [dmf.trajectory(res.alpha[i], float(res.omega[i]), 1.0, sampler=args.sampler, rtol=phase.RTOL,
                            atol=phase.ATOL) for i in subset]
    loop_seconds = time.perf_counter() - start

    diff = 0.0
    for i, tr in zip(subset, trajs):
        ts = tr.t_switch[0] if tr.t_switch else math.nan
        dts = 0.0 if (math.isnan(ts) and math.isnan(res.t_switch[i])) else abs(ts - res.t_switch[i])
        diff = max(diff, abs(tr.m_final - res.m_final[i]), abs(tr.v_final - res.v_final[i]), dts)
    speedup = (res.alpha.size / grid_seconds) / (subset.size / loop_seconds)
    print(json.dumps({
        "benchmark": "phase_diagram", "grid_points": int(res.alpha.size), "grid_seconds": round(grid_seconds, 3),
        "loop_points": int(subset.size), "loop_seconds": round(loop_seconds, 3), "speedup": round(speedup, 1),
        "max_abs_diff": float(f"{diff:.3g}"), "rtol": phase.RTOL, "atol": phase.ATOL, "sampler": args.sampler,
        "per_point_fallback": int(res.fallback.sum()), "steps": res.steps,
    }))


if __name__ == "__main__":
    main()
