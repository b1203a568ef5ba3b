"""The 1-D kernel's rounding bounds against exact rational crossings.

Independent value: every crossing ``t* = -Z / S`` that the float64 kernel
computes for a region is compared with the region's exact breakpoints
(:class:`regions.engines.line.exact.ExactLine`, rational arithmetic on the
float64 weights): the error must lie within the bound the kernel decides
with, both the screen's (``cmax l1``, ``amax l1``) and the second look's
(each sum's own magnitude, :func:`regions.engines.line.kernel._fine_tol`).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from regions import Network, constructions
from regions.domains import whole
from regions.engines.line import kernel as K


def _crossing_errors(net: Network, *, rows_per_layer: int, seed: int):
    """Largest ``|t*_float - t*_exact| / bound`` over sampled regions of every layer, (screen, fine)."""
    rng = np.random.default_rng(seed)
    dom = whole(1)
    pulled, left, ltol, end, rep, C, A, cmax, amax = K._start(net, dom)
    exact = K._exact(pulled, dom)
    worst = [0.0, 0.0]
    hidden = pulled.layers[:-1]
    for layer, (W, b) in enumerate(hidden):
        Wt = W.T
        with np.errstate(all="ignore"):
            Z, S = C @ Wt + b, A @ Wt
            T = -Z / S
            screen = np.abs(K.BREAK_RTOL * ((np.abs(T) * amax[:, None] + cmax[:, None]) * np.abs(W).sum(axis=1)
                                            + np.abs(b)) / S)
            fine = K._fine_tol(T, S, C, A, Wt, np.abs(b))
        right = np.append(left[1:], end)
        for r in rng.choice(left.shape[0], size=min(rows_per_layer, left.shape[0]), replace=False):
            brk, _ = exact.children(layer, float(rep[r]))
            for u in np.flatnonzero(np.isfinite(T[r]) & (T[r] > left[r]) & (T[r] < right[r])):
                if not brk:
                    continue
                err = float(min(abs(Fraction(float(T[r, u])) - x) for x in brk))
                worst[0] = max(worst[0], err / screen[r, u])
                worst[1] = max(worst[1], err / fine[r, u])
        left, ltol, rep, C, A, cmax, amax, _, _ = K._split_layer(
            left, ltol, end, rep, C, A, cmax, amax, W, b, pulled.negative_slope, exact=exact, layer=layer)
    return worst


@pytest.mark.parametrize("net", [
    constructions.sawtooth(depth=5, width=10),  # crossings ~1e-9 apart near t = 1, slopes ~1e7
    Network.from_arch("1-8-8-8-8-1", seed=0),
    Network.from_arch("1-16-16-16-1", init="he", seed=1),
], ids=["sawtooth-5x10", "random-1-8x4", "he-1-16x3"])
def test_float64_crossings_lie_within_both_bounds(net):
    screen, fine = _crossing_errors(net, rows_per_layer=12, seed=0)
    assert fine <= 1.0 and screen <= fine
