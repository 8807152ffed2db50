"""The d -> infinity mean-field solvers: the DMF flow and trajectory, the effective potential,
the vectorised phase grid with its boundary alpha_c(omega), and schedule design.

The theory they solve, and what backs each result: docs/theory.md."""
