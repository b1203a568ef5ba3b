"""The 2-D engine's partition: regions as convex polygons sharing vertices."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...core.patterns import lookup, pack, unpack
from ...core.result import CountResult
from ...core.tolerances import MAP_RTOL
from ...core.verify import check_maps, forward_certain, measure_unit, verify_common
from ...domains import Domain
from ...errors import RegionsError, VerificationError
from ...model.network import Network
from .rings import EDGE_KEY, domain_ring

__all__ = ["PlanarPartition"]


@dataclass(eq=False)
class PlanarPartition:
    """The activation regions of a network on a convex 2-D domain.

    Coordinates are the domain's parameter coordinates ``(u, v)`` (for a
    2-input network on a box or polygon, the inputs themselves);
    :meth:`points` maps them to the input space.

    Attributes
    ----------
    network : Network
    domain : Domain
    vertices : ndarray, shape (V, 2)
        All vertices of the subdivision (shared between regions).
    ring_offsets : ndarray, shape (R + 1,)
    ring_vertices : ndarray, shape (sum of ring lengths,)
        Region ``i`` is the convex polygon
        ``vertices[ring_vertices[ring_offsets[i]:ring_offsets[i+1]]]``,
        counter-clockwise.
    packed_patterns : ndarray of uint8, shape (R, ceil(n_hidden / 8))
        Activation patterns, bits packed big-endian
        (:func:`regions.core.patterns.pack`); see :attr:`patterns` for the
        bool array.
    measures : ndarray, shape (R,)
        Areas of the regions (also :attr:`areas`).
    witnesses : ndarray, shape (R, 2)
        One interior point per region (its area centroid).
    layer_counts : tuple of int
        Regions after the first l hidden layers.
    piece_labels : ndarray of int, shape (R,)
        Affine piece of each region (0 .. n_pieces - 1).
    n_pieces : int or None
        None when ``partial``.
    partial : bool
        True when ``max_regions`` stopped the partition early.
    layer_parents : tuple of ndarray of int
        ``layer_parents[l][i]``: the region after ``l`` hidden layers that
        holds region ``i`` after ``l + 1`` (layer ``0``'s are all 0); see
        :meth:`ancestors`.
    maps : tuple (J, c) or None
        Output maps (see :meth:`output_maps`); None when ``partial``.
    stats : dict
        Diagnostics (``unsplit``: rounding anomalies left uncut, see
        :mod:`regions.engines.planar.kernel`; ``seconds``).
    """

    network: Network
    domain: Domain
    vertices: np.ndarray
    ring_offsets: np.ndarray
    ring_vertices: np.ndarray
    packed_patterns: np.ndarray
    measures: np.ndarray
    witnesses: np.ndarray
    layer_counts: tuple
    piece_labels: np.ndarray
    n_pieces: int | None
    partial: bool = False
    layer_parents: tuple = field(default=(), repr=False)
    maps: tuple | None = field(default=None, repr=False)
    stats: dict = field(default_factory=dict)
    engine: str = "planar"

    # ------------------------------------------------------------ basics
    @property
    def n_regions(self) -> int:
        return int(self.ring_offsets.shape[0] - 1)

    @property
    def n_hidden(self) -> int:
        return self.network.n_hidden

    @property
    def patterns(self) -> np.ndarray:
        """Activation patterns, bool ``(R, n_hidden)``, layers concatenated."""
        n = sum(self.network.widths[: len(self.layer_parents)]) if self.layer_parents else self.n_hidden
        return unpack(self.packed_patterns, n)

    @property
    def areas(self) -> np.ndarray:
        """Areas of the regions, shape (R,) (the :attr:`measures`)."""
        return self.measures

    def output_maps(self) -> tuple[np.ndarray, np.ndarray]:
        """``(J, c)``: output ``= J[i] @ (u, v) + c[i]`` on region ``i``, shapes (R, n_out, 2), (R, n_out)."""
        if self.maps is None:
            raise RegionsError("expected a complete partition for the output maps, got a partial one "
                               "(stopped at max_regions)")
        return self.maps

    def ancestors(self, layer: int) -> np.ndarray:
        """The region after the first ``layer`` hidden layers that holds each region, shape (R,).

        Regions after ``layer`` layers are numbered ``0 .. layer_counts[layer - 1] - 1``
        (``layer = 0``: the whole domain, 0).  The engine records these links
        as it subdivides, so no forward pass is needed.
        """
        L = len(self.layer_parents)
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not (0 <= layer <= L):
            raise RegionsError(f"expected a layer in 0..{L}, got {layer!r}")
        anc = np.arange(self.n_regions)
        for l in range(L - 1, int(layer) - 1, -1):
            anc = self.layer_parents[l][anc]
        return anc

    @property
    def ring_lengths(self) -> np.ndarray:
        return np.diff(self.ring_offsets)

    def polygon(self, i: int) -> np.ndarray:
        """Vertices of region ``i``, counter-clockwise, shape (k, 2)."""
        i = int(i)
        if not (-self.n_regions <= i < self.n_regions):
            raise RegionsError(f"expected a region index in [0, {self.n_regions}), got {i}")
        i %= self.n_regions
        return self.vertices[self.ring_vertices[self.ring_offsets[i] : self.ring_offsets[i + 1]]]

    def polygons(self) -> list[np.ndarray]:
        """All regions as a list of ``(k, 2)`` vertex arrays."""
        return np.split(self.vertices[self.ring_vertices], self.ring_offsets[1:-1])

    def points(self) -> np.ndarray:
        """Witness points in the network's input space, shape (R, input_dim)."""
        return self.domain.to_input(self.witnesses)

    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        """Undirected edges of the subdivision.

        Returns
        -------
        edges : ndarray, shape (E, 2)
            Vertex ids ``(a, b)``.
        faces : ndarray, shape (E, 2)
            The region on the left of ``a -> b`` and the one on its right
            (``-1`` outside the domain).
        """
        off, rv = self.ring_offsets, self.ring_vertices
        region = np.repeat(np.arange(self.n_regions), np.diff(off))
        idx = np.arange(rv.shape[0])
        nxt = idx + 1
        last = off[1:] - 1
        nxt[last] = off[:-1]
        a, b = rv.astype(np.int64), rv[nxt].astype(np.int64)  # directed, region on the left
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        key = lo * EDGE_KEY + hi
        order = np.argsort(key, kind="stable")
        key, a, b, region = key[order], a[order], b[order], region[order]
        first = np.concatenate([[True], key[1:] != key[:-1]])
        starts = np.flatnonzero(first)
        E = starts.shape[0]
        edges = np.stack([a[starts], b[starts]], axis=1)
        faces = np.full((E, 2), -1, dtype=np.int64)
        faces[:, 0] = region[starts]
        second = np.flatnonzero(~first)
        eid = np.cumsum(first) - 1
        faces[eid[second], 1] = region[second]
        return edges, faces

    def region_of(self, U) -> np.ndarray:
        """Region index of parameter points ``U`` (n, 2) by their activation pattern; -1 if none."""
        U = np.atleast_2d(np.asarray(U, dtype=np.float64))
        return lookup(self.packed_patterns, pack(self.network.patterns(self.domain.to_input(U))))

    def outputs(self, U) -> np.ndarray:
        """The network's output at parameter points ``U`` (n, 2) through the per-region maps."""
        U = np.atleast_2d(np.asarray(U, dtype=np.float64))
        r = self.region_of(U)
        J, c = self.output_maps()
        return np.einsum("nij,nj->ni", J[r], U) + c[r]

    def count(self) -> CountResult:
        return CountResult(self.n_regions, self.n_pieces, list(self.layer_counts), self.engine,
                           partial=self.partial)

    # -------------------------------------------------------------- checks
    def verify(self) -> dict:
        """Check the partition's invariants; raise :class:`~regions.errors.VerificationError` if one fails.

        The shared checks (:func:`regions.core.verify.verify_common`): areas
        positive and summing to the domain's, witness patterns, unique
        patterns, output maps at the witnesses; and here:

        * each witness lies inside its (convex, counter-clockwise) ring;
        * Euler's relation ``V - E + F = 1`` for the planar graph (every
          interior edge shared by exactly two regions, no T-junction), and
          edges of one region lie on the domain's boundary;
        * the output maps agree with the network at every region's vertices.

        Returns
        -------
        dict
            ``regions``, ``pieces``, ``measure``, ``vertices``, ``edges``, ``unsplit``, ``ok``.
        """
        out = verify_common(self)
        off, rv = self.ring_offsets, self.ring_vertices
        region = np.repeat(np.arange(self.n_regions), np.diff(off))
        nxt = np.arange(rv.shape[0]) + 1
        nxt[off[1:] - 1] = off[:-1]
        u = measure_unit(self.domain)  # differences in a unit near the domain's size: no over/underflow
        Pa, Pb = self.vertices[rv], self.vertices[rv[nxt]]
        w = self.witnesses[region]
        e, q = (Pb - Pa) / u, (w - Pa) / u
        cross = e[:, 0] * q[:, 1] - e[:, 1] * q[:, 0]
        bad = np.unique(region[~(cross > 0)])
        if bad.size:
            raise VerificationError(f"expected every witness inside its ring, got {bad.size} regions whose ring "
                                    f"does not hold it (first regions: {bad[:5].tolist()})")
        edges, faces = self.edges()
        used = np.unique(self.ring_vertices).shape[0]
        E = edges.shape[0]
        euler = used - E + self.n_regions
        if euler != 1:
            raise VerificationError(f"expected Euler's relation V - E + F = 1, got {used} - {E} + "
                                    f"{self.n_regions} = {euler}")
        outer = faces[:, 1] < 0
        corners = domain_ring(self.domain)
        Ce = (np.roll(corners, -1, axis=0) - corners) / u
        mid = 0.5 * (self.vertices[edges[outer, 0]] + self.vertices[edges[outer, 1]])
        rel = (mid[:, None, :] - corners[None]) / u
        dist = np.abs(Ce[None, :, 0] * rel[..., 1] - Ce[None, :, 1] * rel[..., 0]) / np.linalg.norm(Ce, axis=1)
        inside = np.flatnonzero(~(dist.min(axis=1) <= MAP_RTOL * self.domain.scale / u))
        if inside.size:
            raise VerificationError(f"expected edges of one region on the domain's boundary, got {inside.size} "
                                    f"inside the domain")
        if not self.partial:  # output maps against the network at all ring vertices
            J, c = self.output_maps()
            Vx = self.vertices[rv]
            _, _, y, ymag = forward_certain(self.network, self.domain.to_input(Vx), self.domain.scale)
            check_maps(J[region], c[region], Vx, y, ymag)
        out.update({"vertices": used, "edges": E, "unsplit": int(self.stats.get("unsplit", 0))})
        return out
