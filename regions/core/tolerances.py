"""Named tolerances shared by every engine.

Tolerances
----------
``ZERO_RTOL``
    A pre-activation (or its slope along a region) is taken to be exactly
    zero when its absolute value is at most ``ZERO_RTOL`` times its
    *magnitude*: the same sum computed with absolute values,
    ``|W| |h| + |b|``.  This absorbs the rounding of cancelling sums
    (duplicate neurons, a neuron minus its copy, dead units) and nothing
    else: a real value that small is below the resolution of float64 sums.
``BREAK_RTOL``
    Two breakpoints on a line closer than ``BREAK_RTOL * max(scale, |t|)``
    are one breakpoint (coincident hyperplanes computed by different
    roundings); ``scale`` is :attr:`regions.domains.Domain.scale`.  Real
    regions narrower than that are below float64's resolution of the
    domain and cannot be certified by any float64 engine.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BREAK_RTOL", "CHEB_RTOL", "EPS", "ZERO_RTOL"]

EPS = float(np.finfo(np.float64).eps)
#: Relative size under which a sum is zero (see module docstring).
ZERO_RTOL = 256 * EPS  # ~5.7e-14
#: Relative distance under which two breakpoints coincide (see module docstring).
BREAK_RTOL = 64 * EPS  # ~1.4e-14
#: Chebyshev radius (relative to the domain scale) above which a region has an interior (LP engine).
CHEB_RTOL = 1e-8
