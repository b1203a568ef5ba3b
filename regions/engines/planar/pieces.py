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

__all__ = ["pieces_from_maps", "pieces_from_vertices", "same_jacobians", "vertex_means", "vertex_outputs",
           "vertex_test_differs"]


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
    R = ring.shape[0]
    y, ym = vertex_outputs(HHm, layers, mags)
    # alpha, beta below are ratios of 2x2 determinants: scale-free, so scale the vertices by a power of two
    # (exact) into [-1, 1], where products of coordinates near float64's largest neither overflow
    uv = np.ldexp(uv, -int(np.frexp(float(np.abs(uv).max(initial=1.0)))[1]))
    cen, ycen, ymag = vertex_means(ring, nv, uv, y, ym)
    r1, r2, ea, eb = adjacent_pairs(ring, nv)
    differ = vertex_test_differs(uv[ea], uv[eb], y[ea], y[eb], ym[ea], ym[eb],
                                 cen[r1], cen[r2], ycen[r1], ycen[r2], ymag[r1], ymag[r2])
    r1, r2 = r1[~differ], r2[~differ]
    if r1.size:
        need = np.unique(np.concatenate([r1, r2]))
        mk = masks()
        J, _ = affine.output_maps(layers, mk, slope, rows=need)
        JM, _ = affine.output_maps(layers, mk, slope, mags=mags, rows=need)
        i1, i2 = np.searchsorted(need, r1), np.searchsorted(need, r2)
        eq = same_jacobians(J[i1], J[i2], JM[i1], JM[i2])
        r1, r2 = r1[eq], r2[eq]
    return merge_pieces(R, r1, r2)


def vertex_outputs(HHm: tuple, layers, mags) -> tuple[np.ndarray, np.ndarray]:
    """The output at every vertex (V, n_out) and its magnitude (V,), from the last hidden layer's values."""
    H, Hm = HHm
    Wout, bout = layers[-1]
    aWout, about = mags[-1]
    y = H @ Wout.T + bout
    ym = (Hm.astype(np.float64) @ aWout.T + about).max(axis=1)
    return y, ym


def vertex_means(ring, nv, uv, y, ym) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per region: the vertex mean (R, 2), the output there (R, n_out) and the largest vertex magnitude (R,)."""
    K = ring.shape[1]
    w = (np.arange(K)[None, :] < nv[:, None]) / nv[:, None]  # (R, K) weights of the vertex mean
    cen = np.einsum("rk,rkd->rd", w, uv[ring])
    ycen = np.einsum("rk,rkd->rd", w, y[ring])
    return cen, ycen, ym[ring].max(axis=1)  # padding repeats a vertex: harmless


def vertex_test_differs(A, B, yA, yB, ymA, ymB, cen1, cen2, ycen1, ycen2, ymag1, ymag2) -> np.ndarray:
    """Pairs of neighbours across the edges ``A B`` whose output maps certainly differ, bool (P,).

    The test of :func:`pieces_from_vertices`: the output at the vertex mean
    of region 2 against the affine extrapolation of its values at ``A``,
    ``B`` and the vertex mean of region 1.
    """
    d = B - A
    e1, e2 = cen1 - A, cen2 - A
    det = d[:, 0] * e1[:, 1] - d[:, 1] * e1[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = (e2[:, 0] * e1[:, 1] - e2[:, 1] * e1[:, 0]) / det
        beta = (d[:, 0] * e2[:, 1] - d[:, 1] * e2[:, 0]) / det
        pred = yA + alpha[:, None] * (yB - yA) + beta[:, None] * (ycen1 - yA)
        mis = np.abs(ycen2 - pred).max(axis=1)
        mag = np.maximum(np.maximum(ymA, ymB), np.maximum(ymag1, ymag2))
        bound = 8 * ZERO_RTOL * mag * (1 + np.abs(alpha) + np.abs(beta))
    return np.isfinite(bound) & (mis > bound)


def same_jacobians(J1, J2, JM1, JM2) -> np.ndarray:
    """Pairs whose output Jacobians agree within ``PIECE_RTOL`` of their magnitudes, bool (P,)."""
    return np.all(np.abs(J1 - J2) <= PIECE_RTOL * (JM1 + JM2), axis=(1, 2))
