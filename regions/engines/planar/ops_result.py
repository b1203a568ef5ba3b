"""The partition of the 2-D op mesh (:mod:`.ops`): patterns, exact output maps, pieces, checks.

Output maps are computed exactly from each region's selections (slopes
of elementwise units, picked candidates of max groups), pushed forward
over the lowered layers when the output is wider than the plane, pulled
backward otherwise; neighbouring regions whose output Jacobians agree to
``PIECE_RTOL`` of their absolute-value magnitudes are one affine piece.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...core.patterns import lookup, pack, unpack
from ...core.pieces import merge_pieces
from ...core.tolerances import MAP_RTOL, PIECE_RTOL
from ...errors import VerificationError
from ...model.ops import Lowered, lower
from .result import PlanarPartition
from .rings import adjacent_pairs

__all__ = ["OpPlanarPartition"]


# ------------------------------------------------------- maps and patterns
def _ancestry(parents: list) -> list:
    """``anc[l]``: the region after layer ``l`` holding each final region."""
    anc = [np.arange(parents[-1].shape[0])]
    for p in parents[:0:-1]:
        anc.append(p[anc[-1]])
    return anc[::-1]


def _patterns(low: Lowered, states: list, anc: list) -> np.ndarray:
    bits = []
    for u, st, a in zip(low.units, states, anc):
        s = st[a]
        if u.groups is None:
            bits.append(s)
        else:
            multi = [g for g in u.groups if g.size > 1]
            for q, g in enumerate(multi):
                bits.append(s[:, q : q + 1] == g[None, :])
    R = anc[-1].shape[0] if anc else 1
    return np.concatenate(bits, axis=1) if bits else np.zeros((R, 0), dtype=bool)


def _selections(u, st: np.ndarray, R: int):
    """Per-region slopes (elementwise layer, (R, n_units)) or picked units (max layer, (R, n_groups))."""
    if u.groups is None:
        slope = np.broadcast_to(u.positive, (R, u.n_units)).copy()
        split = np.flatnonzero(u.splitting)
        slope[:, split] = np.where(st, u.positive[split], u.negative[split])
        return slope
    pick = np.empty((R, len(u.groups)), dtype=np.int64)
    q = 0
    for k, grp in enumerate(u.groups):
        if grp.size > 1:
            pick[:, k] = st[:, q]
            q += 1
        else:
            pick[:, k] = grp[0]
    return pick


def _left(W: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``W @ M[r]`` for every region ``r`` of ``M`` (R, n, k): a gather when every row of ``W`` has one
    non-zero entry (the identities and selections that lowering puts before max units and carries),
    else one BLAS product."""
    nz = W != 0
    if (nz.sum(axis=1) == 1).all():
        idx = nz.argmax(axis=1)
        return W[np.arange(W.shape[0]), idx][None, :, None] * M[:, idx, :]
    return np.tensordot(W, M, axes=(1, 1)).transpose(1, 0, 2)


def _output_maps(low: Lowered, layers: list, mags: list, states: list, anc: list):
    """``(J, c, Jabs)`` of every final region on the parameter plane, exactly from the selections.

    Pushed forward (state maps ``(R, n, 2)``) when the output has more than
    two entries, pulled backward (output rows ``(R, n_out, n)``) otherwise:
    the cheaper of the two.
    """
    R = anc[-1].shape[0]
    Wo, bo = layers[-1]
    o = Wo.shape[0]
    L = len(low.units)
    if o > 2:
        M = Ma = c = None
        for l in range(L):
            W, b = layers[l]
            aW = mags[l][0]
            u = low.units[l]
            sel = _selections(u, states[l][anc[l]], R)
            nz = W != 0
            if u.groups is not None and M is not None and (nz.sum(axis=1) == 1).all():
                # a max over selected entries of the state: gather only the picked rows
                idx = nz.argmax(axis=1)
                w = W[np.arange(W.shape[0]), idx]
                rr = np.arange(R)[:, None]
                src = idx[sel]
                M, Ma = w[sel][..., None] * M[rr, src], np.abs(w[sel])[..., None] * Ma[rr, src]
                c = w[sel] * c[rr, src] + b[sel]
                continue
            if M is None:
                Z, Za, zc = np.broadcast_to(W, (R, *W.shape)), np.broadcast_to(aW, (R, *W.shape)), \
                    np.broadcast_to(b, (R, b.shape[0]))
            else:
                Z, Za, zc = _left(W, M), _left(aW, Ma), c @ W.T + b
            if u.groups is None:
                M, Ma, c = sel[:, :, None] * Z, np.abs(sel)[:, :, None] * Za, sel * zc
            else:
                rr = np.arange(R)[:, None]
                M, Ma, c = Z[rr, sel], Za[rr, sel], zc[rr, sel]
        return _left(Wo, M), c @ Wo.T + bo, _left(np.abs(Wo), Ma)
    g, ga, c = Wo[None], np.abs(Wo)[None], np.broadcast_to(bo, (R, o))
    for l in range(L - 1, -1, -1):
        u = low.units[l]
        W, b = layers[l]
        aW = mags[l][0]
        sel = _selections(u, states[l][anc[l]], R)
        if u.groups is None:
            g = g * sel[:, None, :]
            ga = ga * np.abs(sel)[:, None, :]
        else:
            gb, gab = np.broadcast_to(g, (R, *g.shape[1:])), np.broadcast_to(ga, (R, *ga.shape[1:]))
            gz = np.zeros((R, u.n_units, o))
            gaz = np.zeros((R, u.n_units, o))
            rr = np.broadcast_to(np.arange(R)[:, None], sel.shape)
            np.add.at(gz, (rr, sel), gb.transpose(0, 2, 1))  # pools may share a unit between groups
            np.add.at(gaz, (rr, sel), gab.transpose(0, 2, 1))
            g, ga = gz.transpose(0, 2, 1), gaz.transpose(0, 2, 1)
        c = c + g @ b
        g = g @ W
        ga = ga @ aW
    return np.broadcast_to(g, (R, *g.shape[1:])).copy(), c, np.broadcast_to(ga, (R, *ga.shape[1:])).copy()


def _pieces(ring, nv, J, Jabs) -> tuple[np.ndarray, int]:
    r1, r2, _, _ = adjacent_pairs(ring, nv)
    R = J.shape[0]
    Jf, Af = J.reshape(R, -1), Jabs.reshape(R, -1)
    eq = np.all(np.abs(Jf[r1] - Jf[r2]) <= PIECE_RTOL * (Af[r1] + Af[r2]), axis=1)
    labels, n = merge_pieces(R, r1[eq], r2[eq])
    return labels, int(n)


# --------------------------------------------------------------- the result
@dataclass(eq=False)
class OpPlanarPartition(PlanarPartition):
    """The activation regions of an op network on a convex 2-D domain (the planar mesh engine).

    As :class:`~regions.engines.planar.result.PlanarPartition` (vertices,
    rings, areas, witnesses, pieces, output maps on the parameter plane),
    with ``network`` an op :class:`~regions.model.ops.Graph`, patterns in
    the lowered chain's bits (:meth:`regions.model.ops.Lowered.patterns`)
    and ``layer_counts`` the regions after each non-linear operation.
    """

    n_bits: int = 0
    _low: Lowered | None = field(default=None, repr=False)

    @property
    def n_hidden(self) -> int:
        return self.n_bits

    @property
    def patterns(self) -> np.ndarray:
        return unpack(self.packed_patterns, self.n_bits)

    def _lowered(self) -> Lowered:
        return lower(self.network) if self._low is None else self._low

    def hrep(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Region ``i`` as ``A t <= b`` (parameter coordinates): one row per edge of its ring.

        Rows have unit norm; collinear vertices of a ring give repeated rows.
        """
        P = self.polygon(i)
        E = np.roll(P, -1, axis=0) - P
        N = np.stack([E[:, 1], -E[:, 0]], axis=1)  # outward normals of a counter-clockwise ring
        n = np.linalg.norm(N, axis=1)
        keep = n > 0
        A = N[keep] / n[keep, None]
        return A, np.einsum("ij,ij->i", A, P[keep])

    def region_of(self, U) -> np.ndarray:
        """Region index of parameter points ``U`` (n, 2) by their activation pattern; -1 if none."""
        U = np.atleast_2d(np.asarray(U, dtype=np.float64))
        return lookup(self.packed_patterns, pack(self._lowered().patterns(self.domain.to_input(U))))

    def verify(self, low: Lowered | None = None) -> dict:
        """Check the invariants; raise :class:`~regions.errors.VerificationError` if one fails.

        Patterns unique; each witness inside its ring and reproducing its
        pattern (the lowered chain at the witness); areas positive and
        summing to the domain's; Euler's relation ``V - E + F = 1``; the
        output maps against the graph's forward pass at every ring vertex.
        """
        low = self._lowered() if low is None else low
        pats = self.patterns
        got = low.patterns(self.points())
        bad = int(np.count_nonzero(np.any(got != pats, axis=1))) if not self.partial else 0
        unique = len({p.tobytes() for p in pack(pats)}) == self.n_regions
        out = {"regions": self.n_regions, "pieces": self.n_pieces, "witness_mismatches": bad,
               "unique_patterns": unique}
        if not self.partial:
            out["measure_rel_error"] = abs(float(self.measures.sum()) - self.domain.measure) / self.domain.measure
        edges, _ = self.edges()
        used = np.unique(self.ring_vertices).shape[0]
        out.update(vertices=used, edges=int(edges.shape[0]), euler=used - int(edges.shape[0]) + self.n_regions)
        off, rv = self.ring_offsets, self.ring_vertices
        region = np.repeat(np.arange(self.n_regions), np.diff(off))
        nxt = np.arange(rv.shape[0]) + 1
        nxt[off[1:] - 1] = off[:-1]
        Pa, Pb = self.vertices[rv], self.vertices[rv[nxt]]
        w = self.witnesses[region]
        cr = (Pb[:, 0] - Pa[:, 0]) * (w[:, 1] - Pa[:, 1]) - (Pb[:, 1] - Pa[:, 1]) * (w[:, 0] - Pa[:, 0])
        out["witnesses_outside"] = int(np.unique(region[~(cr >= 0)]).size)
        map_err = 0.0
        if not self.partial:
            J, c = self.output_maps()
            Vx = self.vertices[rv]
            y = self.network.forward(self.domain.to_input(Vx))
            ym = np.einsum("nok,nk->no", J[region], Vx) + c[region]
            map_err = float(np.max(np.abs(ym - y) / (1.0 + np.abs(y)))) if y.size else 0.0
        out["map_rel_error"] = map_err
        fine = (bad == 0 and unique and out["euler"] == 1 and out["witnesses_outside"] == 0
                and out.get("measure_rel_error", 0.0) <= 1e-9 and map_err <= MAP_RTOL and (self.measures > 0).all())
        if not fine:
            raise VerificationError(f"expected a consistent partition, got {out}")
        out["ok"] = True
        return out
