"""Vectorised bracketed root finding shared by the solvers (no Python loop over points)."""
from __future__ import annotations

import numpy as np


class ConvergenceError(ArithmeticError):
    """A root finder or integrator did not reach its tolerance; never returned as a number."""


def illinois(fn, lo, hi, f_lo, f_hi, xtol):
    """Vectorised Illinois regula falsi for roots of fn in [lo, hi] with f_lo, f_hi of opposite signs.

    fn(x, sel) evaluates the points ``sel`` (an index array) at x. Stops per point when the
    bracket is below ``xtol`` (an array) or the function vanishes; raises ConvergenceError if
    some point has not converged after 200 iterations.
    """
    lo, hi, f_lo, f_hi = (np.array(x, dtype=float) for x in (lo, hi, f_lo, f_hi))
    todo = np.flatnonzero((hi - lo > xtol) & (f_lo != 0) & (f_hi != 0))
    side = np.zeros(lo.size, dtype=int)  # which end was kept last time (Illinois halving)
    for _ in range(200):
        if todo.size == 0:
            return lo, hi, f_lo, f_hi
        l, r, fl, fr = lo[todo], hi[todo], f_lo[todo], f_hi[todo]
        x = r - fr * (r - l) / (fr - fl)
        mid = 0.5 * (l + r)
        x = np.where(np.isfinite(x) & (x > l) & (x < r), x, mid)
        fx = fn(x, todo)
        same_lo = np.sign(fx) == np.sign(fl)
        # the end that stays is halved when it stayed last time too (Illinois)
        keep_r = same_lo
        halve_r = keep_r & (side[todo] == 1)
        halve_l = ~keep_r & (side[todo] == -1)
        lo[todo] = np.where(keep_r, x, l)
        f_lo[todo] = np.where(keep_r, fx, np.where(halve_l, 0.5 * fl, fl))
        hi[todo] = np.where(keep_r, r, x)
        f_hi[todo] = np.where(keep_r, np.where(halve_r, 0.5 * fr, fr), fx)
        side[todo] = np.where(keep_r, 1, -1)
        done = (hi[todo] - lo[todo] <= xtol[todo]) | (fx == 0)
        exact = fx == 0
        lo[todo[exact]] = hi[todo[exact]] = x[exact]
        todo = todo[~done]
    raise ConvergenceError("Illinois root finder: no convergence in 200 iterations")
