import math
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# forward processes typed from their definitions (THEORY.md), independent of theory/
DEFINITIONS = {
    "ou": (lambda t: math.exp(-t), lambda t: math.sqrt(-math.expm1(-2 * t)), math.inf),
    "ve": (lambda t: 1.0, lambda t: t, math.inf),
    "flow": (lambda t: 1.0 - t, lambda t: t, 1.0),
}


@pytest.fixture(scope="session")
def repo():
    return REPO
