"""The finite-d side: the posterior kernel of the K-class mixture, the exact-score simulator,
the finite-d effective theory, and their validation against the DMF.

The model and the finite-d traps they handle: docs/theory.md."""
