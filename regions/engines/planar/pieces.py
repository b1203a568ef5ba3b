"""Affine pieces of a 2-D partition: neighbouring regions with one output map, merged.

:func:`pieces_from_maps` compares the neighbours' exact Jacobians (the
partition path, where every region's map exists); :func:`pieces_from_vertices`
decides almost every pair from the output values at the vertices and only
the rest from Jacobians (the count-only path).
"""

from __future__ import annotations

import numpy as np

from ...core import affine
from ...core.pieces import merge_pieces
from ...core.tolerances import PIECE_RTOL, ZERO_RTOL
from .rings import adjacent_pairs

__all__ = ["pieces_from_maps", "pieces_from_vertices"]


def pieces_from_maps(ring, nv, J, layers, mags, masks, slope) -> tuple[np.ndarray, int]:
    """Connected components of neighbouring regions with equal output Jacobians.

    Two neighbours are one piece when ``|J_r - J_s| <= PIECE_RTOL (|J|_r + |J|_s)``
    entrywise, ``|J|`` the Jacobian computed with absolute values.  The
    magnitudes are computed only for pairs that already agree to 1e-6.
    """
    R = ring.shape[0]
    r1, r2, _, _ = adjacent_pairs(ring, nv)
    d = np.abs(J[r1] - J[r2])
    loose = np.all(d <= 1e-6 * (np.abs(J[r1]) + np.abs(J[r2])).max(axis=(1, 2), keepdims=True), axis=(1, 2))
    r1, r2, d = r1[loose], r2[loose], d[loose]
    if r1.size:
        need = np.unique(np.concatenate([r1, r2]))
        JM, _ = affine.output_maps(layers, masks, slope, mags=mags, rows=need)
        where = np.searchsorted(need, r1), np.searchsorted(need, r2)
        eq = np.all(d <= PIECE_RTOL * (JM[where[0]] + JM[where[1]]), axis=(1, 2))
        r1, r2 = r1[eq], r2[eq]
    return merge_pieces(R, r1, r2)


def pieces_from_vertices(ring, nv, uv, HHm, layers, mags, masks, slope) -> tuple[np.ndarray, int]:
    """Affine pieces without every region's Jacobian (the count-only path).

    ``masks`` is a callable returning the per-layer masks of the final
    regions (built only if some pair needs its Jacobians).

    Two neighbours ``r``, ``s`` across the edge ``a b`` have one output map
    iff the output is affine on their union, i.e. iff its value at the
    vertex mean ``c_s`` of ``s`` is the affine extrapolation of its values
    at ``a``, ``b`` and the vertex mean ``c_r`` of ``r``:
    ``c_s = a + alpha (b - a) + beta (c_r - a)``.  The output at a vertex
    mean is the mean of the outputs at the vertices (the output is affine on
    the region), and those come from the walk.  Where the mismatch exceeds
    ``8 ZERO_RTOL`` times their magnitude times ``1 + |alpha| + |beta|``
    (the rounding of the extrapolation), the maps certainly differ.  The
    other pairs (none in a generic network) are decided exactly by their
    Jacobians, as in :func:`pieces_from_maps`.
    """
    R, K = ring.shape
    H, Hm = HHm
    Wout, bout = layers[-1]
    aWout, about = mags[-1]
    y = H @ Wout.T + bout  # (V, n_out) output at every vertex
    ym = (Hm.astype(np.float64) @ aWout.T + about).max(axis=1)  # (V,) its magnitude
    ar = np.arange(K)[None, :]
    valid = ar < nv[:, None]
    w = valid / nv[:, None]  # (R, K) weights of the vertex mean
    # alpha, beta below are ratios of 2x2 determinants: scale-free, so scale the vertices by a power of two
    # (exact) into [-1, 1], where products of coordinates near float64's largest neither overflow
    uv = np.ldexp(uv, -int(np.frexp(float(np.abs(uv).max(initial=1.0)))[1]))
    cen = np.einsum("rk,rkd->rd", w, uv[ring])  # (R, 2) vertex means
    ycen = np.einsum("rk,rkd->rd", w, y[ring])  # (R, n_out) output there
    ymag = ym[ring].max(axis=1)  # (R,) padding repeats a vertex: harmless
    r1, r2, ea, eb = adjacent_pairs(ring, nv)
    A = uv[ea]  # (P, 2)
    d = uv[eb] - A
    e1, e2 = cen[r1] - A, cen[r2] - A
    det = d[:, 0] * e1[:, 1] - d[:, 1] * e1[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = (e2[:, 0] * e1[:, 1] - e2[:, 1] * e1[:, 0]) / det
        beta = (d[:, 0] * e2[:, 1] - d[:, 1] * e2[:, 0]) / det
        ya = y[ea]
        pred = ya + alpha[:, None] * (y[eb] - ya) + beta[:, None] * (ycen[r1] - ya)
        mis = np.abs(ycen[r2] - pred).max(axis=1)
        mag = np.maximum(np.maximum(ym[ea], ym[eb]), np.maximum(ymag[r1], ymag[r2]))
        bound = 8 * ZERO_RTOL * mag * (1 + np.abs(alpha) + np.abs(beta))
    differ = np.isfinite(bound) & (mis > bound)
    r1, r2 = r1[~differ], r2[~differ]
    if r1.size:
        need = np.unique(np.concatenate([r1, r2]))
        mk = masks()
        J, _ = affine.output_maps(layers, mk, slope, rows=need)
        JM, _ = affine.output_maps(layers, mk, slope, mags=mags, rows=need)
        i1, i2 = np.searchsorted(need, r1), np.searchsorted(need, r2)
        eq = np.all(np.abs(J[i1] - J[i2]) <= PIECE_RTOL * (JM[i1] + JM[i2]), axis=(1, 2))
        r1, r2 = r1[eq], r2[eq]
    return merge_pieces(R, r1, r2)
