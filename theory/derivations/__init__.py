"""The derivation documents of ``derivations/``, one module each, in the order of the derivation path.

Every module here follows one pattern (:mod:`cfg_distortion.theory.writing`): functions that
return the :class:`~cfg_distortion.theory.writing.Equation` objects of its groups, printed from
the sympy results of the theory modules it names; ``content()``, the document's prose, assumptions
and backing; and ``DOCUMENT``, which ties them together. :data:`DOCUMENTS` is the one list that
``cfg-distortion equations`` (:mod:`..equations`) and ``cfg-distortion derive`` (:mod:`..documents`)
read. Adding a document: one module with that pattern, and one line here.
"""
from __future__ import annotations

from . import step1_forward_process_and_scores
from . import step2_wrong_class_free_energy
from . import step3_4_classification_threshold
from . import step5_effective_potential
from . import step6_mean_field_dynamics
from . import step7_gaussian_limits
from . import step8_variance_theorem
from . import claim6_schedule_design
from . import numerics_finite_d_theory
from . import numerics_divergence
from . import claim6_affine_schedules
from . import frozen_wrong_classes_and_capture
from . import rules_rescale
from . import rules_apg
from . import rules_zero_star
from . import rules_autoguidance

DOCUMENTS = [
    step1_forward_process_and_scores.DOCUMENT,
    step2_wrong_class_free_energy.DOCUMENT,
    step3_4_classification_threshold.DOCUMENT,
    step5_effective_potential.DOCUMENT,
    step6_mean_field_dynamics.DOCUMENT,
    step7_gaussian_limits.DOCUMENT,
    step8_variance_theorem.DOCUMENT,
    claim6_schedule_design.DOCUMENT,
    numerics_finite_d_theory.DOCUMENT,
    numerics_divergence.DOCUMENT,
    claim6_affine_schedules.DOCUMENT,
    frozen_wrong_classes_and_capture.DOCUMENT,
    rules_rescale.DOCUMENT,
    rules_apg.DOCUMENT,
    rules_zero_star.DOCUMENT,
    rules_autoguidance.DOCUMENT,
]
