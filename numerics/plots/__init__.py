"""Figures (matplotlib): each ``*_figure`` function returns a Figure; the ``plot_*`` helpers write it
as PNG and PDF with labelled axes. Which figure backs which claim: docs/theory.md."""
