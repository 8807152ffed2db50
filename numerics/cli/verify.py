"""`cfg-distortion verify`: run every registered check; exit 1 if any fails."""
from __future__ import annotations

from cfg_distortion.cli.report import emit_json, table


def add_arguments(p):
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")


def run(args) -> int:
    from tqdm import tqdm

    from cfg_distortion.checks.registry import all_checks, run_checks

    with tqdm(total=len(all_checks()), desc="verify", unit="check", disable=None, leave=False) as bar:
        results = run_checks(progress=lambda name: (bar.set_postfix_str(name), bar.update()))
    passed = all(c.passed for c in results)
    independent = sum(c.backing for c in results)
    counts = {"independent": independent, "consistency": len(results) - independent}
    if args.json:
        emit_json({"passed": passed, "counts": counts, "checks": [c.to_json() for c in results]})
    else:
        print(table([c.to_json() for c in results], ["name", "passed", "route", "value", "reference", "tolerance"]))
        print(f"\n{sum(c.passed for c in results)} of {len(results)} checks passed "
              f"({counts['independent']} on independent routes, {counts['consistency']} consistency checks, "
              "which back no result)")
    return 0 if passed else 1
