"""The model: forward processes, guidance schedules, parameter checks, the wrong-class rate
and the classification threshold, as numbers (from the generated functions of ``theory/``).

Model and notation: docs/theory.md."""
