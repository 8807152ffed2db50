"""The one result shape of the public API, in the spirit of scipy's ``OdeResult``.

Every computation of :mod:`cfg_distortion` returns a subclass of :class:`Result`: attribute
access to its numbers, ``status`` (``"ok"`` or a word saying what went wrong), ``message``
(one line), ``notes`` (caveats a reader should see beside the numbers) and ``to_json()``,
the object the CLI prints with ``--json``. Gridded results (:class:`GridResult`) add the
arrays with their coordinates, ``to_csv(path)`` and ``plot(path=None)``, which returns the
matplotlib figure (and writes ``path.png`` and ``path.pdf`` when a path is given).

The theory behind every number is summarised in ``docs/theory.md``.
"""
from __future__ import annotations

import json
import math


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

    def _status_json(self) -> dict:
        """``status``, ``message`` and ``notes``: the keys every ``to_json()`` carries."""
        return {"status": self.status, "message": self.message, "notes": list(self.notes)}

    def to_json_string(self) -> str:
        """``to_json()`` as strict JSON text (no NaN or Infinity), as the CLI prints it."""
        return json.dumps(self.to_json(), allow_nan=False)

    def __repr__(self) -> str:
        """One line per key of ``to_json()`` (long lists shortened), like scipy's results."""
        try:
            items = self.to_json()
        except Exception:  # pragma: no cover - a half-built result
            return object.__repr__(self)
        width = max((len(k) for k in items), default=0)
        lines = []
        for key, value in items.items():
            text = repr(value)
            lines.append(f"{key:>{width}}: {text if len(text) <= 100 else text[:97] + '...'}")
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"


class GridResult(Result):
    """A result over a grid of inputs: arrays with their coordinates, a CSV and a figure."""

    def to_csv(self, path) -> str:  # pragma: no cover
        raise NotImplementedError

    def plot(self, path=None):  # pragma: no cover
        raise NotImplementedError


def json_number(x):
    """A float for JSON: None for NaN and +-inf (strict JSON has neither)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None
