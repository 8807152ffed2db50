"""Symbolic layer of cfg-distortion: every formula is derived here, once, with sympy.

Modules follow the derivation path of THEORY.md:

- :mod:`.symbols`        the notation (``alpha``, ``omega``, ``sigma2``, ``m``, ``v``, ``q`` ...)
- :mod:`.process`        step 1a: forward process (a_t, b_t) -> Gamma, snr, f, g^2; presets
- :mod:`.scores`         step 1b: conditional, unconditional and guided scores, class weights
- :mod:`.free_energy`    step 2: large-d rate phi of the wrong-class partition function (REM)
- :mod:`.classification` steps 3-4: target term, classification boundary, alpha_c(t), t_c(alpha)
- :mod:`.codegen`        the one place that turns these expressions into numeric code

Every public function returns sympy objects that can be printed, substituted,
simplified and passed to :func:`sympy.latex`.
"""
