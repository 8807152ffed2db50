"""The ``verify`` registry: checks of the derivations by independent routes."""
