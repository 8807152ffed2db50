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
    if not 1 <= num <= 10**7:
        raise ValueError(f"{name}: NUM must satisfy 1 <= NUM <= 1e7 (got {num})")
    if minimum is not None and min(start, stop) < minimum:
        raise ValueError(f"{name}: {name} must be >= {minimum:g} (got {text!r})")
    return np.linspace(start, stop, num)


# Ranges the methods need (enforced here, stated in the CLI help). Each bound has its reason.
SIGMA2_MIN, SIGMA2_MAX = 1e-100, 1e100
SIGMA2_REASON = "the mean-field rates scale like 1/sigma2^2 and sampled |x|^2 like sigma2 d: both must stay in float range"
OMEGA_MIN, OMEGA_MAX = -100.0, 1e5
OMEGA_REASON = ("v(0) grows like 2^|omega| under negative guidance (1e30 at omega = -100); the flows stiffen like "
                "omega (the ODE at omega = 1e6 does not finish)")
START_TIME_MAX = {"ou": 300.0, "ve": 1e12, "flow": 1.0}
START_TIME_REASON = {"ou": "e^(2T) must stay in float range; T = 20 already is the T -> infinity limit",
                     "ve": "x_T ~ T must keep the O(1) class signal within float precision",
                     "flow": "the flow process ends at t = 1"}


def sigma2(value, allow_zero: bool = False) -> float:
    """A within-class variance in [SIGMA2_MIN, SIGMA2_MAX] (or 0 where the method allows point classes)."""
    zero = " or sigma2 = 0" if allow_zero else ""
    allowed = f"{SIGMA2_MIN:g} <= sigma2 <= {SIGMA2_MAX:g}{zero}"
    x = finite("sigma2", value, allowed)
    if not (SIGMA2_MIN <= x <= SIGMA2_MAX or (allow_zero and x == 0)):
        raise ValueError(f"sigma2 must satisfy {allowed} (got {x:g}): {SIGMA2_REASON}")
    return x


def omega_bound(value, name: str = "omega") -> float:
    """A guidance strength in [OMEGA_MIN, OMEGA_MAX]."""
    allowed = f"{OMEGA_MIN:g} <= {name} <= {OMEGA_MAX:g}"
    x = finite(name, value, allowed)
    if not OMEGA_MIN <= x <= OMEGA_MAX:
        raise ValueError(f"{name} must satisfy {allowed} (got {x:g}): {OMEGA_REASON}")
    return x


def start_time(value, process_name: str, name: str = "T") -> float:
    """A start time 0 < T <= START_TIME_MAX[process] (T < 1 for flow)."""
    process(process_name)
    t_max = START_TIME_MAX[process_name]
    allowed = f"0 < {name} < 1 for process flow" if process_name == "flow" else f"0 < {name} <= {t_max:g} for " \
              f"process {process_name}"
    x = finite(name, value, allowed)
    if not (x > 0 and (x < t_max if process_name == "flow" else x <= t_max)):
        raise ValueError(f"{name} must satisfy {allowed} (got {x:g}): {START_TIME_REASON[process_name]}")
    return x


def finite_result(what: str, **values) -> None:
    """Refuse to return numbers that left float range: ArithmeticError (exit 3) naming the quantity."""
    for key, x in values.items():
        if x is None:
            continue
        if not math.isfinite(float(x)):
            raise ArithmeticError(f"{what}: {key} = {float(x)!r} left the float range (no number is reported)")
        if key.startswith("v") and float(x) < 0:
            raise ArithmeticError(f"{what}: {key} = {float(x):.3g} < 0, a variance cannot be negative (no number "
                                  "is reported)")


XTOL_MIN, XTOL_MAX = 1e-12, 1e-3


def xtol(value) -> float:
    """The boundary's root tolerance in alpha: XTOL_MIN <= xtol <= XTOL_MAX."""
    allowed = f"{XTOL_MIN:g} <= xtol <= {XTOL_MAX:g}"
    x = finite("xtol", value, allowed)
    if not XTOL_MIN <= x <= XTOL_MAX:
        raise ValueError(f"xtol must satisfy {allowed} (got {x:g}): a tolerance in alpha, whose boundary values "
                         "are O(0.1-1); below, float64 cannot resolve it")
    return x


# Work that cannot finish: refused up front with the estimate (memory: of what is available now;
# time: at a deliberately optimistic rate, so a refusal is never a close call).
WORK_SECONDS_MAX = 2 * 3600.0
MEMORY_FRACTION = 0.8


def available_bytes() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 1 << 34


def budget(what: str, sizes: str, need_bytes: float, seconds: float) -> None:
    """ValueError (one line, with the estimate) when ``what`` at ``sizes`` cannot fit in memory or
    would run longer than WORK_SECONDS_MAX."""
    have = available_bytes()
    if need_bytes > MEMORY_FRACTION * have:
        raise ValueError(f"{sizes}: {what} needs about {need_bytes / 2**30:.3g} GiB, more than "
                         f"{MEMORY_FRACTION:.0%} of the {have / 2**30:.3g} GiB available; lower them")
    if seconds > WORK_SECONDS_MAX:
        raise ValueError(f"{sizes}: {what} would run about {seconds / 3600:.3g} h or more (limit "
                         f"{WORK_SECONDS_MAX / 3600:g} h); lower them")
