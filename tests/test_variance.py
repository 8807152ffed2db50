"""The symbolic facts behind the variance theorem (claim 5); the numerical side is in test_dmf.py."""
import pytest
import sympy as sp

from cfg_distortion.theory import variance
from cfg_distortion.theory.dmf import g2
from cfg_distortion.theory.symbols import Gamma, a, omega, v

# sympy derivations, built once per process: with the other symbolic tests on one pytest-xdist worker
pytestmark = pytest.mark.xdist_group("sympy")


def test_v_drift_does_not_involve_m():
    assert all(val == 0 for val in variance.v_drift_independent_of_m().values())


def test_guidance_only_lowers_the_v_drift_in_branch_g():
    for sampler in ("sde", "ode"):
        assert variance.guidance_excess("C", sampler) == 0
        excess = variance.guidance_excess("G", sampler)
        # independent reading: the G score has an extra -omega kappa a/Gamma x term (kappa = a/(Gamma+a^2)),
        # whose x_perp part contracts v at rate (drift weight) x 2 (d|x_perp|^2 = 2 x_perp . dx)
        weight = g2 if sampler == "sde" else g2 / 2
        expected = 2 * weight * (-omega * a / Gamma * a / (Gamma + a**2)) * v
        assert sp.simplify(excess - expected) == 0
        assert variance.excess_is_nonpositive("G", sampler) is True
