"""Guidance schedules omega(t), in forward time t, with one grammar everywhere.

- ``const:W``                      omega = W
- ``affine:W0,SLOPE``              omega = W0 + SLOPE t in the process's own time t (independent of T;
                                   for ``ve``, t is the EDM noise level b_t/a_t)
- ``interval:W,t_lo,t_hi``         W for t_lo <= t <= t_hi, 0 elsewhere
- ``interval-sigma:W,s_lo,s_hi``   W while the noise level sigma_t = b_t/a_t is in [s_lo, s_hi], 0
                                   elsewhere (the guidance interval as published; needs the process)
- ``linear:w_T,w_0``               linear in t from w_T at t = T to w_0 at t = 0
- ``piecewise:t1:w1,t2:w2,...``    t1 > t2 > ... (t1 may be ``inf``); w_k for t_{k+1} < t <= t_k;
                                   0 above t1, w_last below t_last

Example: ``piecewise:inf:3,1.2:-1,0.4:0`` is 3 for t > 1.2, -1 for 0.4 < t <= 1.2, then 0.
The API also accepts a Python callable omega(t): vectorised (numpy in, numpy out) or
scalar-only (then evaluated point by point with ``numpy.vectorize``). A callable is treated
as smooth: the integrators do not know its jump times (write a ``piecewise:`` spec for those),
and its spec is ``callable:<name>``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from cfg_distortion.model.params import OMEGA_MAX, OMEGA_MIN, OMEGA_REASON, omega_bound

GRAMMAR = ("const:W | affine:W0,SLOPE | interval:W,t_lo,t_hi | interval-sigma:W,sigma_lo,sigma_hi | "
           "linear:w_T,w_0 | piecewise:t1:w1,t2:w2,...")


@dataclass(frozen=True)
class Schedule:
    """omega(t) with its jump times (integrators restart there) and canonical spec."""

    spec: str
    func: Callable[[np.ndarray], np.ndarray] = field(repr=False, compare=False)
    breakpoints: tuple[float, ...] = ()

    def __call__(self, t):
        return self.func(np.asarray(t, dtype=float))

    def nonnegative_on(self, T: float, samples: int = 2001) -> bool:
        """omega(t) >= 0 on [0, T] (exact for the grammar: checked at samples and breakpoints)."""
        ts = np.concatenate([np.linspace(0.0, T, samples), [b for b in self.breakpoints if b <= T]])
        return bool(np.all(self(ts) >= 0))


def _number(text: str, what: str, spec: str, allow_inf: bool = False) -> float:
    try:
        x = float(text)
    except ValueError:
        raise ValueError(f"schedule {spec!r}: {what} {text!r} is not a number ({GRAMMAR})") from None
    if math.isnan(x) or (math.isinf(x) and not allow_inf):
        raise ValueError(f"schedule {spec!r}: {what} must be finite (got {text})")
    return x


def _parts(body: str, n: int, names: str, spec: str) -> list[str]:
    parts = body.split(",")
    if len(parts) != n or any(p.strip() == "" for p in parts):
        raise ValueError(f"schedule {spec!r}: expected {n} comma-separated values {names}")
    return [p.strip() for p in parts]


def parse_schedule(spec: str, T: float = 10.0, process: str | None = None) -> Schedule:
    """Parse a schedule string; ``T`` is the start time (used by ``linear``), ``process`` the forward
    process (used by ``interval-sigma``, which converts noise levels to times)."""
    if not isinstance(spec, str) or ":" not in spec:
        raise ValueError(f"schedule {spec!r}: expected KIND:VALUES, one of {GRAMMAR}")
    kind, body = spec.split(":", 1)
    kind = kind.strip()
    if kind == "const":
        (w,) = [_number(p, "W", spec) for p in _parts(body, 1, "W", spec)]
        return Schedule(spec, lambda t: np.full_like(t, w))
    if kind == "affine":
        w0, slope = (_number(p, n, spec) for p, n in zip(_parts(body, 2, "W0,SLOPE", spec), ("W0", "SLOPE")))
        return Schedule(spec, lambda t: w0 + slope * t)
    if kind == "interval-sigma":
        names = ("W", "sigma_lo", "sigma_hi")
        w, s_lo, s_hi = (_number(p, n, spec) for p, n in zip(_parts(body, 3, ",".join(names), spec), names))
        if s_lo < 0 or s_hi <= s_lo:
            raise ValueError(f"schedule {spec!r}: need 0 <= sigma_lo < sigma_hi (got sigma_lo={s_lo:g}, "
                             f"sigma_hi={s_hi:g})")
        if process is None:
            raise ValueError(f"schedule {spec!r}: interval-sigma needs the forward process (noise level b_t/a_t)")
        from cfg_distortion.model.process import get_process

        p = get_process(process)
        lo, hi = (float(p.t_of_noise_level(s)) if s > 0 else 0.0 for s in (s_lo, s_hi))
        return Schedule(spec, lambda t: np.where((t >= lo) & (t <= hi), w, 0.0), (hi, lo) if lo > 0 else (hi,))
    if kind == "interval":
        w, lo, hi = (_number(p, n, spec) for p, n in zip(_parts(body, 3, "W,t_lo,t_hi", spec), ("W", "t_lo", "t_hi")))
        if lo < 0 or hi <= lo:
            raise ValueError(f"schedule {spec!r}: need 0 <= t_lo < t_hi (got t_lo={lo:g}, t_hi={hi:g})")
        return Schedule(spec, lambda t: np.where((t >= lo) & (t <= hi), w, 0.0), (hi, lo))
    if kind == "linear":
        wT, w0 = (_number(p, n, spec) for p, n in zip(_parts(body, 2, "w_T,w_0", spec), ("w_T", "w_0")))
        return Schedule(spec, lambda t: w0 + (wT - w0) * t / T)
    if kind == "piecewise":
        items = [p.strip() for p in body.split(",")]
        times, values = [], []
        for item in items:
            if item.count(":") != 1:
                raise ValueError(f"schedule {spec!r}: piece {item!r} must be t:w")
            tk, wk = item.split(":")
            times.append(_number(tk, "time", spec, allow_inf=True))
            values.append(_number(wk, "omega", spec))
        if any(tk < 0 for tk in times):
            raise ValueError(f"schedule {spec!r}: times must be >= 0")
        if any(t2 >= t1 for t1, t2 in zip(times, times[1:])):
            raise ValueError(f"schedule {spec!r}: times must be strictly decreasing (t1 > t2 > ...)")
        if any(math.isinf(tk) for tk in times[1:]):
            raise ValueError(f"schedule {spec!r}: only the first time may be inf")
        edges = np.array(times)
        vals = np.array(values + [0.0])

        def func(t):
            # index k such that t_{k+1} < t <= t_k; t > t1 -> 0 (vals[-1]); t <= t_last -> w_last
            if t.ndim == 0:  # one time (solve_ivp's calls): the same rule without array overhead
                t = float(t)
                return np.float64(0.0 if t > times[0] else
                                  values[min(max(sum(tk >= t for tk in times) - 1, 0), len(values) - 1)])
            k = np.searchsorted(-edges, -t, side="right") - 1  # number of t_k >= t, minus 1
            return np.where(t > edges[0], 0.0, vals[np.clip(k, 0, len(values) - 1)])

        return Schedule(spec, func, tuple(tk for tk in times if math.isfinite(tk)))
    raise ValueError(f"schedule {spec!r}: unknown kind {kind!r}; expected {GRAMMAR}")


def guidance(omega=None, schedule=None, T: float = 10.0, required: bool = False, process: str | None = None) -> Schedule:
    """The Schedule of an ``omega`` (constant) or ``schedule`` argument pair, checked.

    At most one may be given (exactly one if ``required``); neither means omega = 0."""
    if omega is not None and schedule is not None:
        raise ValueError(f"give {'exactly' if required else 'at most'} one of omega and schedule")
    if required and omega is None and schedule is None:
        raise ValueError("give exactly one of omega and schedule")
    if omega is not None:
        return parse_schedule(f"const:{omega_bound(omega)!r}", T)
    return within_range(as_schedule(schedule if schedule is not None else 0.0, T, process), T)


def within_range(sched: Schedule, T: float, samples: int = 1025) -> Schedule:
    """``sched`` if omega(t) stays in [OMEGA_MIN, OMEGA_MAX] on [0, T] (exact for the grammar, whose
    pieces are affine: checked at samples, at the ends and on both sides of every breakpoint)."""
    T = float(T) if math.isfinite(T) else 1e12
    edges = [b for b in sched.breakpoints if 0 <= b <= T]
    ts = np.concatenate([np.linspace(0.0, T, samples), edges, np.nextafter(edges, 0.0), np.nextafter(edges, T)])
    with np.errstate(all="ignore"):
        values = np.asarray(sched(ts), dtype=float)
    bad = ~((values >= OMEGA_MIN) & (values <= OMEGA_MAX))
    if bad.any():
        shown = f"{values[bad][0]:g}" if np.isfinite(values[bad][0]) else "a value out of float range"
        raise ValueError(f"schedule {sched.spec!r} reaches omega = {shown} at t = {ts[bad][0]:g} in "
                         f"[0, T = {T:g}]: omega must satisfy {OMEGA_MIN:g} <= omega <= {OMEGA_MAX:g} "
                         f"({OMEGA_REASON})")
    return sched


def _callable_func(obj) -> Callable[[np.ndarray], np.ndarray]:
    """omega(t) on arrays from a user callable, vectorised if it accepts arrays, else point by point."""
    scalar = np.vectorize(lambda x: float(obj(float(x))), otypes=[float])

    def func(t):
        t = np.asarray(t, dtype=float)
        try:
            out = np.asarray(obj(t), dtype=float)
            if out.shape not in (t.shape, ()):
                raise ValueError
        except (TypeError, ValueError):
            return scalar(t)
        return np.broadcast_to(out, t.shape).copy()

    return func


def as_schedule(obj, T: float = 10.0, process: str | None = None) -> Schedule:
    """A Schedule from a spec string, a number (constant) or a callable omega(t)."""
    if isinstance(obj, Schedule):
        return obj
    if isinstance(obj, str):
        return parse_schedule(obj, T, process)
    if callable(obj):
        return Schedule(f"callable:{getattr(obj, '__name__', type(obj).__name__)}", _callable_func(obj),
                        tuple(float(b) for b in getattr(obj, "breakpoints", ())))
    if isinstance(obj, (int, float)):
        return parse_schedule(f"const:{float(obj)!r}", T)
    raise ValueError(f"schedule must be a string ({GRAMMAR}), a number or a callable (got {type(obj).__name__})")
