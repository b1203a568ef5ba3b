"""Shapely and GeoJSON interop for 2-D partitions.

Coordinates are the domain's parameter coordinates ``(u, v)`` (the inputs
themselves for a 2-input network on a box or polygon).

>>> from regions import Network
>>> from regions.planar import partition_plane
>>> part = partition_plane(Network.from_arch("2-6-1", seed=0))
>>> polys = to_shapely(part)
>>> abs(sum(p.area for p in polys) - 4.0) < 1e-12
True
"""

from __future__ import annotations

import json
import os

import numpy as np

from ..errors import RegionsError
from ..core.io import write_text_atomic
from ..engines.planar.result import PlanarPartition

__all__ = ["to_shapely", "pieces_to_shapely", "to_geojson", "pattern_strings"]


def _check(part):
    if not isinstance(part, PlanarPartition):
        raise RegionsError(f"expected a regions.planar.PlanarPartition, got {type(part).__name__}")


def to_shapely(part) -> np.ndarray:
    """The regions as shapely polygons.

    Returns
    -------
    ndarray of shapely.Polygon, shape (R,)
        Region ``i`` is ``out[i]``, counter-clockwise, in parameter coordinates.
    """
    import shapely

    _check(part)
    coords = part.vertices[part.ring_vertices]  # (sum k, 2)
    ring_id = np.repeat(np.arange(part.n_regions), part.ring_lengths)
    rings = shapely.linearrings(coords, indices=ring_id)
    return shapely.polygons(rings)


def pieces_to_shapely(part) -> np.ndarray:
    """The affine pieces (unions of neighbouring regions with one output map) as shapely geometries, (P,)."""
    import shapely

    polys = to_shapely(part)
    order = np.argsort(part.piece_labels, kind="stable")
    starts = np.searchsorted(part.piece_labels[order], np.arange(part.n_pieces))
    groups = np.split(polys[order], starts[1:])
    return np.array([shapely.union_all(g) if len(g) > 1 else g[0] for g in groups], dtype=object)


def pattern_strings(part) -> list[str]:
    """Activation patterns as strings of ``0``/``1``, layers separated by ``|``."""
    P = part.patterns.astype(np.uint8) + ord("0")
    bounds = np.cumsum(part.network.widths)[:-1]
    out = []
    for row in P:
        parts = np.split(row, bounds)
        out.append("|".join(p.tobytes().decode() for p in parts))
    return out


def to_geojson(part, path: str | os.PathLike | None = None, *, outputs: bool = True) -> dict:
    """The regions as a GeoJSON ``FeatureCollection``.

    Each feature is one region (a closed polygon ring) with properties
    ``region`` (index), ``pattern`` (``0``/``1`` per hidden unit, layers
    joined by ``|``), ``area``, ``piece`` (affine piece label), ``witness``
    and, with ``outputs``, the output map ``jacobian`` and ``offset``.
    Coordinates are parameter coordinates ``(u, v)``; GeoJSON's planar
    reading of them is exact (no geographic projection is implied).

    Parameters
    ----------
    path : path-like, optional
        Also write the collection there (atomically).
    outputs : bool, keyword-only
        Include the per-region output maps.

    Returns
    -------
    dict
    """
    _check(part)
    pats = pattern_strings(part)
    maps = part.output_maps() if outputs and not part.partial else None
    feats = []
    for i, poly in enumerate(part.polygons()):
        ring = np.vstack([poly, poly[:1]]).tolist()
        props = {
            "region": i,
            "pattern": pats[i],
            "area": float(part.measures[i]),
            "piece": int(part.piece_labels[i]),
            "witness": part.witnesses[i].tolist(),
        }
        if outputs and not part.partial:
            props["jacobian"] = maps[0][i].tolist()
            props["offset"] = maps[1][i].tolist()
        feats.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                      "properties": props})
    out = {
        "type": "FeatureCollection",
        "features": feats,
        "properties": {
            "network": part.network.arch,
            "domain": part.domain.describe(),
            "regions": part.n_regions,
            "pieces": part.n_pieces,
            "layer_counts": [int(c) for c in part.layer_counts],
        },
    }
    if path is not None:
        write_text_atomic(path, json.dumps(out) + "\n")
    return out
