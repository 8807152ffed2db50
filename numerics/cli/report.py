"""Plain-text tables and JSON output for the CLI."""
from __future__ import annotations

import json
import math
import sys


def fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isinf(value):
            return "infinite"
        return f"{value:.10g}"
    return str(value)


def table(rows: list[dict], columns: list[str]) -> str:
    cells = [[fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()  # noqa: E731
    return "\n".join([line(columns), line(["-" * w for w in widths]), *map(line, cells)])


def derivations_with_progress(desc: str) -> None:
    """Run the sympy derivations step by step under a progress bar on stderr (20-40 s cold). They
    are cached, so the document built next reuses them."""
    from tqdm import tqdm

    from cfg_distortion.theory import equations

    for group in tqdm(equations.groups(), desc=desc, unit="step", disable=None, leave=False, file=sys.stderr):
        group.build()


def emit_json(obj: dict) -> None:
    """One JSON object on stdout (strict JSON: no NaN or Infinity)."""
    sys.stdout.write(json.dumps(obj, allow_nan=False) + "\n")
