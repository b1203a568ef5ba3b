"""Geometry of the 2-D engine's convex rings: the domain's ring, areas and centroids, shared edges.

Used by the kernel (:mod:`.kernel`), the partition (:mod:`.result`) and
the affine pieces (:mod:`.pieces`).
"""

from __future__ import annotations

import numpy as np

from ...domains import Domain

__all__ = ["EDGE_KEY", "adjacent_pairs", "boundary_edges", "domain_ring", "ring_geometry"]

#: Vertex-pair keys of undirected edges: ``lo * EDGE_KEY + hi``.
EDGE_KEY = np.int64(1) << 31


def ring_geometry(uv: np.ndarray, ring: np.ndarray, nv: np.ndarray):
    """Areas (R,) and area centroids (R, 2) of the convex rings."""
    R, K = ring.shape
    P = uv[ring]  # (R, K, 2)
    base = P[:, :1, :]
    Q = P - base  # coordinates relative to the first vertex (well conditioned)
    ar = np.arange(K)[None, :]
    nxt = np.where(ar + 1 < nv[:, None], ar + 1, 0)
    valid = ar < nv[:, None]
    # in a power-of-two unit near each ring's size (exact): no product under- or overflows at 1e-300 or 1e300
    size = np.where(valid[..., None], np.abs(Q), 0.0).max(axis=(1, 2))
    with np.errstate(divide="ignore"):
        unit = np.where(size > 0, np.exp2(np.round(np.log2(np.where(size > 0, size, 1.0)))), 1.0)
    Q = Q / unit[:, None, None]
    Qn = np.take_along_axis(Q, nxt[:, :, None], axis=1)
    cr = np.where(valid, Q[..., 0] * Qn[..., 1] - Q[..., 1] * Qn[..., 0], 0.0)  # (R, K)
    area2 = cr.sum(axis=1)
    cx = (cr * (Q[..., 0] + Qn[..., 0])).sum(axis=1)
    cy = (cr * (Q[..., 1] + Qn[..., 1])).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cen = np.stack([cx, cy], axis=1) / (3.0 * area2[:, None])
    mean = np.where(valid[..., None], Q, 0.0).sum(axis=1) / nv[:, None]
    bad = ~np.isfinite(cen).all(axis=1) | (area2 <= 0)
    cen[bad] = mean[bad]
    with np.errstate(over="ignore", under="ignore"):  # an area beyond float64 is 0 or inf here; verify
        area = 0.5 * area2 * unit * unit  # compares areas in its own unit (core.verify.scaled_measures)
    return area, cen * unit[:, None] + base[:, 0, :]




def domain_ring(domain: Domain) -> np.ndarray:
    """Corners of the domain in parameter space, counter-clockwise, (m, 2)."""
    if domain.vertices is not None:
        return np.asarray(domain.vertices, dtype=np.float64)
    (u0, v0), (u1, v1) = domain.lo, domain.hi
    return np.array([[u0, v0], [u1, v0], [u1, v1], [u0, v1]], dtype=np.float64)




def _sorted_edges(ring: np.ndarray, nv: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every ring edge as ``(key, region, a, b)``, sorted by the undirected key."""
    R, K = ring.shape
    ar = np.arange(K)[None, :]
    valid = ar < nv[:, None]
    nxt = np.where(ar + 1 < nv[:, None], ar + 1, 0)
    a = ring[valid].astype(np.int64)
    b = np.take_along_axis(ring, nxt, axis=1)[valid].astype(np.int64)
    region = np.broadcast_to(np.arange(R)[:, None], ring.shape)[valid]
    key = np.minimum(a, b) * EDGE_KEY + np.maximum(a, b)
    order = np.argsort(key)
    return key[order], region[order], a[order], b[order]


def adjacent_pairs(ring: np.ndarray, nv: np.ndarray) -> tuple[np.ndarray, ...]:
    """Pairs of regions sharing an edge and that edge's end vertices, four arrays (P,)."""
    key, region, a, b = _sorted_edges(ring, nv)
    same = np.flatnonzero(key[1:] == key[:-1])
    return region[same], region[same + 1], a[same], b[same]


def boundary_edges(ring: np.ndarray, nv: np.ndarray) -> tuple[np.ndarray, ...]:
    """Edges of one region only (the boundary of the rings' union): region and end vertices, (E,) each."""
    key, region, a, b = _sorted_edges(ring, nv)
    once = np.ones(key.shape[0], dtype=bool)
    dup = key[1:] == key[:-1]
    once[1:] &= ~dup
    once[:-1] &= ~dup
    return region[once], a[once], b[once]
