"""Parameter checks shared by the API and the CLI.

Each check raises ValueError with one line that names the parameter and its allowed
range; the CLI prints that line and exits with status 2.
"""
from __future__ import annotations

import math
import operator

PROCESSES = ("ou", "ve", "flow")
T_MAX = {"ou": math.inf, "ve": math.inf, "flow": 1.0}


def finite(name: str, value, allowed: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, {allowed} (got {value!r})") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, {allowed} (got {value})")
    return x


def nonnegative(name: str, value) -> float:
    x = finite(name, value, f"{name} >= 0")
    if x < 0:
        raise ValueError(f"{name} must be >= 0 (got {x:g})")
    return x


def positive(name: str, value) -> float:
    x = finite(name, value, f"{name} > 0")
    if x <= 0:
        raise ValueError(f"{name} must be > 0 (got {x:g})")
    return x


def process(name) -> str:
    if name not in PROCESSES:
        raise ValueError(f"process must be one of {', '.join(PROCESSES)} (got {name!r})")
    return name


def time(value, process_name: str, name: str = "t") -> float:
    """A forward-process time: t >= 0, and t < 1 for the flow process."""
    process(process_name)
    t_max = T_MAX[process_name]
    allowed = f"0 <= {name} < 1 for process flow" if t_max < math.inf else f"{name} >= 0"
    x = finite(name, value, allowed)
    if x < 0 or x >= t_max:
        raise ValueError(f"{name} must satisfy {allowed} (got {x:g})")
    return x


def integer(name: str, value, minimum: int) -> int:
    """An integer >= minimum (Python or numpy int; bools and floats are refused)."""
    try:
        if isinstance(value, bool):
            raise TypeError
        x = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer >= {minimum} (got {value!r})") from None
    if x < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum} (got {x})")
    return x


def choice(name: str, value, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)} (got {value!r})")
    return value
