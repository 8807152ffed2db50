"""The ``cfg-distortion`` command line: a thin client of the public API (:mod:`cfg_distortion.api`).

Which command reproduces which claim of the theory: docs/theory.md."""
from cfg_distortion.cli.app import main

__all__ = ["main"]
