"""The ``cfg-distortion`` command line: a thin client of the public API."""
from cfg_distortion.cli.app import main

__all__ = ["main"]
