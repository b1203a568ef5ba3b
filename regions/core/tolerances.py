"""Named tolerances shared by every engine.

Tolerances
----------
``ZERO_RTOL``
    A pre-activation (or its slope along a region) is taken to be exactly
    zero when its absolute value is at most ``ZERO_RTOL`` times its
    *magnitude*: the same sum computed with absolute values,
    ``|W| |h| + |b|``.  This absorbs the rounding of cancelling sums
    (duplicate neurons, a neuron minus its copy, dead units).  It never
    decides a count alone: a value taken to be zero where a region is left
    uncut is confirmed in exact integer arithmetic (n-D walk:
    :mod:`regions.engines.polytope.exact`; the 2-D mesh confirms snapped
    vertices through that walk); a real feature that thin is refused.
``BREAK_RTOL``
    The rounding bound of a crossing on a line, in units of its own
    magnitudes (``BREAK_RTOL * (|Z|_abs + |t| |S|_abs) / |S|``, see
    :mod:`regions.engines.line.kernel`), never of the domain's size.  Two
    crossings whose bounds overlap are not merged: the region is decided
    again in extended precision, then exactly in integer arithmetic
    (:mod:`regions.engines.line.exact`), and a region with no float64 number
    inside is refused.  The 1-D op walk carries its own certified bounds
    (:mod:`regions.engines.line.ops`).
``MESH_RTOL``
    The 2-D engine interpolates new vertices along edges that may be as
    long as the domain, so a vertex value carries an error of up to
    ``MESH_RTOL * diameter`` times the absolute weights on the way.  A sign
    decision between that error and the value's own rounding
    (``ZERO_RTOL`` times its magnitude) cannot be made by float64 at that
    domain size, and is refused with :class:`~regions.errors.NumericalError`
    rather than guessed.  The check cannot see every loss: beyond about
    ``1e15`` feature radii a vertex interpolated along a domain-long edge is
    off by more than the features near the origin, with no sign in doubt.
    Counts on boxes wider than ``SHELL_TRIGGER`` feature radii therefore
    run on a cover by geometric shells (:mod:`regions.engines.shells`:
    ``SHELL_TRIGGER``, ``SHELL_INNER``, ``SHELL_RATIO``, ``WITNESS_EPS``),
    or take the count of all of ``R^k`` where the box holds every vertex;
    plane and k-D slices and polygons likewise, in their own parameters;
    partitions of such domains are refused (``PARTITION_WIDE`` of each engine).
``VERTEX_RTOL`` (n-D walk, :mod:`regions.engines.polytope.kernel`)
    A unit's value at a generator of a region (vertex, ray or lineality
    vector) within ``VERTEX_RTOL`` of its magnitude is taken to be zero:
    that generator goes to both sides of a cut, or, where the unit does not
    cut the region, the zero is confirmed in exact rational arithmetic
    (:mod:`regions.engines.polytope.exact`: a vertex's exact point, a ray's
    exact direction, the region's exact lines) and a value of the other
    sign refuses the count (:class:`~regions.errors.NumericalError`); no
    region is merged with a neighbour by this tolerance.  A generator made
    by an ill-conditioned cut (both ends' values far below their
    magnitudes) carries its own larger tolerance for the error of its
    position (``_ILL_CUT``), confirmed the same way.
``PIECE_RTOL``
    Two neighbouring regions have one output map when their Jacobians agree
    to ``PIECE_RTOL`` of their absolute-value magnitude.
``MEASURE_RTOL``, ``MAP_RTOL``
    The checks of ``verify()`` (:mod:`regions.core.verify`), the same in
    every engine: measures sum to the domain's, output maps agree with a
    forward pass at the witnesses, relative to the magnitudes compared.

Engine-specific tolerances live beside their kernels and are documented
there (``VERTEX_RTOL`` of the n-D engine, summarised above).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BREAK_RTOL",
    "CHEB_RTOL",
    "EPS",
    "MAP_RTOL",
    "MEASURE_RTOL",
    "MESH_RTOL",
    "PIECE_RTOL",
    "ZERO_RTOL",
]

EPS = float(np.finfo(np.float64).eps)
#: Relative size under which a sum is zero (see module docstring).
ZERO_RTOL = 256 * EPS  # ~5.7e-14
#: Relative distance under which two breakpoints coincide (see module docstring).
BREAK_RTOL = 64 * EPS  # ~1.4e-14
#: Relative error of interpolated vertex coordinates, per unit of the domain's diameter (see module docstring).
MESH_RTOL = 64 * EPS  # ~1.4e-14


# --------------------------------------------------------------- shared by engines
#: Relative tolerance under which two neighbouring regions' output maps are
#: equal (the regions then belong to one affine piece):
#: ``|J_r - J_s| <= PIECE_RTOL * (|J|_r + |J|_s)`` entrywise, with ``|J|`` the
#: Jacobian computed with absolute values of the weights (the size of the
#: rounding of ``J``).  Used by the 2-D and n-D engines.
PIECE_RTOL = 4 * ZERO_RTOL  # ~2.3e-13

# ----------------------------------------------------------- verification checks
#: ``verify()``: the measures (lengths, areas, volumes) of a complete partition
#: of a bounded domain sum to the domain's measure within ``MEASURE_RTOL`` of it
#: (the rounding of summing many small cells, and of qhull's volumes in n-D).
MEASURE_RTOL = 1e-8
#: ``verify()``: the per-region output maps agree with a forward pass of the
#: network at the witnesses within ``MAP_RTOL`` times the output's magnitude
#: there (the same sums with absolute values, ``|W| |h| + |b|``); and a
#: vertex of an n-D region violates none of its region's inequalities by more
#: than ``MAP_RTOL`` times the inequality's magnitude.  Far above rounding of
#: well-conditioned sums, far below any real disagreement.
MAP_RTOL = 1e-7

#: Chebyshev radius (relative to the domain scale) above which a region has an interior (LP engine).
CHEB_RTOL = 1e-8
