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


def linspace_range(text, name: str, minimum: float | None = None):
    """'START:STOP:NUM' -> numpy.linspace(START, STOP, NUM) (inclusive); ValueError with one line otherwise.

    A sequence of numbers is taken as the grid itself (checked to be finite and non-empty)."""
    import numpy as np

    if not isinstance(text, str):
        try:
            values = np.asarray(text, dtype=float).ravel()
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be START:STOP:NUM or a sequence of numbers (got {text!r})") from None
        if values.size == 0 or not np.all(np.isfinite(values)):
            raise ValueError(f"{name} must be a non-empty sequence of finite numbers (got {text!r})")
        if minimum is not None and values.min() < minimum:
            raise ValueError(f"{name}: {name} must be >= {minimum:g} (got {values.min():g})")
        return values
    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(f"{name} must be START:STOP:NUM (got {text!r})")
    try:
        start, stop = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"{name}: START and STOP must be numbers (got {text!r})") from None
    try:
        num = int(parts[2])
    except ValueError:
        raise ValueError(f"{name}: NUM must be an integer >= 1 (got {parts[2]!r})") from None
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise ValueError(f"{name}: START and STOP must be finite (got {text!r})")
    if num < 1:
        raise ValueError(f"{name}: NUM must be >= 1 (got {num})")
    if minimum is not None and min(start, stop) < minimum:
        raise ValueError(f"{name}: {name} must be >= {minimum:g} (got {text!r})")
    return np.linspace(start, stop, num)
