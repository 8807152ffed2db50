"""The finite-d side: the posterior kernel of the K-class mixture, the exact-score simulator,
the finite-d effective theory, and their validation against the DMF."""
