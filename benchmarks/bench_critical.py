"""Cold wall time of `cfg-distortion critical --sigma2 1 --alpha 0.2 --json`.

Baseline, measured in the same run: a bare `python -c pass` (interpreter start-up).
Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import sys

from _timing import cold_wall_times, median


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--json", action="store_true", help="(the output is always one JSON line)")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "cfg_distortion.cli", "critical", "--sigma2", "1", "--alpha", "0.2", "--json"]
    t_cli = median(cold_wall_times(cli, args.repeats))
    t_py = median(cold_wall_times([sys.executable, "-c", "pass"], args.repeats))
    print(json.dumps({"benchmark": "critical_cold", "median_seconds": round(t_cli, 4),
                      "python_startup_seconds": round(t_py, 4), "ratio_to_startup": round(t_cli / t_py, 2),
                      "repeats": args.repeats}))


if __name__ == "__main__":
    main()
