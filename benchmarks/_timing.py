"""Shared helper: median cold wall time of a command, in fresh processes."""
from __future__ import annotations

import statistics
import subprocess
import time


def cold_wall_times(cmd: list[str], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def median(xs):
    return statistics.median(xs)
