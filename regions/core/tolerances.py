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
    domain and cannot be certified by any float64 engine.  The 1-D engine
    takes ``scale`` to be each crossing's own size (see ``BREAK_RTOL`` use in
    :mod:`regions.engines.line.kernel`), never the domain's.
``MESH_RTOL``
    The 2-D engine interpolates new vertices along edges that may be as
    long as the domain, so a vertex value carries an error of up to
    ``MESH_RTOL * diameter`` times the absolute weights on the way.  A sign
    decision between that error and the value's own rounding
    (``ZERO_RTOL`` times its magnitude) cannot be made by float64 at that
    domain size, and is refused with :class:`~regions.errors.NumericalError`
    rather than guessed.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BREAK_RTOL", "EPS", "MESH_RTOL", "ZERO_RTOL"]

EPS = float(np.finfo(np.float64).eps)
#: Relative size under which a sum is zero (see module docstring).
ZERO_RTOL = 256 * EPS  # ~5.7e-14
#: Relative distance under which two breakpoints coincide (see module docstring).
BREAK_RTOL = 64 * EPS  # ~1.4e-14
#: Relative error of interpolated vertex coordinates, per unit of the domain's diameter (see module docstring).
MESH_RTOL = 64 * EPS  # ~1.4e-14
