import numpy as np
import pytest


@pytest.fixture
def rng(request):
    """A seeded generator; tests parametrize `seed` where they need several."""
    seed = getattr(request, "param", 0)
    return np.random.default_rng(seed)
