"""Speed of one exact-score simulator step against the machine's float64 matmul rate.

One guided step at n = 512 samples, d = 100, K = 10^5 classes does 4 n K d flops in its two
matmuls (logits, then the weighted centroid sums); ``sim_gflops`` is that count over the
best measured time of the posterior evaluation plus the transition (one full step).
``gemm_gflops`` is the best rate of a 2048 x 2048 float64 matmul in the same run, and
``fraction_of_gemm_peak`` their ratio (target >= 0.5). ``--full`` also times the CLI run
``simulate --d 20 --K 1000000 --n 1000 --steps 400 --omega 3 --sigma2 1`` (target < 10 min).
Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from cfg_distortion.finite_d import simulator as S
from cfg_distortion.finite_d._blas import cores, single_threaded_blas
from cfg_distortion.finite_d.posterior import MixturePosterior, centroid_rows
from cfg_distortion.model.process import get_process


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def gemm_gflops(size: int = 2048, repeats: int = 5) -> float:
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((size, size)), rng.standard_normal((size, size))
    return 2 * size**3 / best_time(lambda: A @ B, repeats) / 1e9


def step_gflops(n=512, d=100, K=100_000, repeats=5, omega=3.0, t=0.5, s=0.49, sigma2=1.0) -> float:
    """Rate of one guided SDE step of the simulator (posterior over K classes + exact transition)."""
    mu = S.draw_centroids(K, d, 0)
    rows, mu_c = centroid_rows(mu), mu[S.TARGET].copy()
    p = get_process("ou")
    x = np.random.default_rng(1).standard_normal((n, d)) + float(p.a(t)) * mu_c
    noise = np.random.default_rng(2)
    with single_threaded_blas() as parallel, ThreadPoolExecutor(cores()) as pool:
        post = MixturePosterior(rows, pool if parallel else None)

        def step():
            C = S._frozen_centroid(post, x, mu_c, float(p.a(t)), float(p.Gamma(t, sigma2)), omega)
            kx, kC, var = S._step_coefficients(p, "sde", t, s, sigma2)
            return kx * x + kC * C + math.sqrt(var) * noise.standard_normal((n, d))

        seconds = best_time(step, repeats)
    return 4 * n * K * d / seconds / 1e9


def cli_wall_seconds() -> float:
    import subprocess

    cmd = [sys.executable, "-m", "cfg_distortion.cli", "simulate", "--d", "20", "--K", "1000000",
           "--n", "1000", "--steps", "400", "--omega", "3", "--sigma2", "1", "--json"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="also time the K = 10^6, d = 20 CLI run (minutes)")
    parser.add_argument("--json", action="store_true", help="(the output is always one JSON line)")
    args = parser.parse_args()
    gemm = gemm_gflops(repeats=args.repeats)
    sim = step_gflops(repeats=args.repeats)
    gemm = max(gemm, gemm_gflops(repeats=args.repeats))  # best of before and after
    out = {"benchmark": "simulator_step", "n": 512, "d": 100, "K": 100_000, "sim_gflops": round(sim, 2),
           "gemm_gflops": round(gemm, 2), "fraction_of_gemm_peak": round(sim / gemm, 3), "cores": cores()}
    if args.full:
        out["simulate_d20_K1e6_n1000_steps400_seconds"] = round(cli_wall_seconds(), 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
