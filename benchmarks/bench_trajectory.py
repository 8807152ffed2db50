"""Cold wall time of `cfg-distortion trajectory --alpha 0.3 --omega 3 --sigma2 1 --json`.

Python start-up included (a fresh process per run); target: median <= 3 s on 2 cores.
Baseline, measured in the same run: a bare `python -c pass`. Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import sys

from _timing import cold_wall_times, median


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--json", action="store_true", help="(the output is always one JSON line)")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "cfg_distortion.cli", "trajectory", "--alpha", "0.3", "--omega", "3",
           "--sigma2", "1", "--json"]
    runs = cold_wall_times(cli, args.repeats)
    t_py = median(cold_wall_times([sys.executable, "-c", "pass"], args.repeats))
    print(json.dumps({"benchmark": "trajectory_cold", "median_seconds": round(median(runs), 4),
                      "max_seconds": round(max(runs), 4), "target_seconds": 3.0,
                      "python_startup_seconds": round(t_py, 4), "ratio_to_startup": round(median(runs) / t_py, 2),
                      "repeats": args.repeats}))


if __name__ == "__main__":
    main()
