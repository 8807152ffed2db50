"""The one result shape of the public API, in the spirit of scipy's ``OdeResult``.

Every computation of :mod:`cfg_distortion` returns a subclass of :class:`Result`: attribute
access to its numbers, ``status`` (``"ok"`` or a word saying what went wrong), ``message``
(one line), ``notes`` (caveats a reader should see beside the numbers) and ``to_json()``,
the object the CLI prints with ``--json``. Gridded results (:class:`GridResult`) add
``to_csv(path)`` and ``plot(path=None)``, which returns the matplotlib figure.
"""
from __future__ import annotations

import json


class Result:
    """Base of every API result. Subclasses are dataclasses that may override the defaults."""

    status: str = "ok"
    message: str = ""
    notes: tuple | list = ()

    @property
    def success(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def to_json_string(self) -> str:
        """``to_json()`` as strict JSON text (no NaN or Infinity), as the CLI prints it."""
        return json.dumps(self.to_json(), allow_nan=False)


class GridResult(Result):
    """A result over a grid of inputs: arrays with their coordinates, a CSV and a figure."""

    def to_csv(self, path) -> str:  # pragma: no cover
        raise NotImplementedError

    def plot(self, path=None):  # pragma: no cover
        raise NotImplementedError
