"""The ``verify`` registry: checks of the derivations by independent routes (docs/theory.md lists
which check backs which claim)."""
