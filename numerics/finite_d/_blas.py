"""Limit the BLAS thread count while our own worker threads run (no dependency).

The simulator splits its matmuls into cache-sized tiles and runs them on one Python
thread per core (numpy releases the GIL in BLAS and in ``exp``). That only pays if each
BLAS call stays on its own core; OpenBLAS would otherwise start its own threads inside
every call and oversubscribe the machine. This module finds the OpenBLAS that numpy
loaded (Linux: ``/proc/self/maps``) and sets its global thread count through ``ctypes``
for the duration of a ``with`` block, the way threadpoolctl does. Where that is not
possible (another BLAS, another OS) :func:`single_threaded_blas` yields False and the
caller runs its tiles serially with a multi-threaded BLAS instead.
"""
from __future__ import annotations

import ctypes
import os
from contextlib import contextmanager
from functools import cache

_PREFIXES = ("scipy_openblas", "openblas")
_SUFFIXES = ("64_", "_64", "")


def _symbol(lib, stem: str):
    for prefix in _PREFIXES:
        for suffix in _SUFFIXES:
            fn = getattr(lib, f"{prefix}_{stem}{suffix}", None)
            if fn is not None:
                return fn
    return None


@cache
def _controls() -> tuple:
    """(get, set) pairs of every loaded OpenBLAS, or () if none can be controlled."""
    import numpy  # noqa: F401  (loads numpy's BLAS)

    try:
        with open("/proc/self/maps") as fh:
            paths = sorted({line.split()[-1] for line in fh if "openblas" in line.lower() and ".so" in line})
    except OSError:
        return ()
    out = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        get, set_ = _symbol(lib, "get_num_threads"), _symbol(lib, "set_num_threads")
        if get is not None and set_ is not None:
            get.restype, set_.argtypes, set_.restype = ctypes.c_int, [ctypes.c_int], None
            out.append((get, set_))
    return tuple(out)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextmanager
def single_threaded_blas():
    """Inside the block every BLAS call uses one thread; yields whether that was possible."""
    controls = _controls()
    if not controls:
        yield False
        return
    saved = [get() for get, _ in controls]
    for _, set_ in controls:
        set_(1)
    try:
        yield True
    finally:
        for (_, set_), n in zip(controls, saved):
            set_(n)
