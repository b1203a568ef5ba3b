"""Exact reference for op graphs, written apart from the engines and from the lowering.

``forward_exact`` evaluates a :class:`regions.model.ops.Graph` in Fractions
(ties in max units resolved exactly, lowest index first); ``pattern_exact``
gives the activation pattern of the definition in :mod:`regions.model.ops`
at a point (max selections by exact comparison), for small nets.
"""

from __future__ import annotations

from fractions import Fraction

from regions.model.ops import Activation, Add, Affine, Clamp, Concat, MaxGroups


def _fr(x):
    return Fraction(float(x))


def forward_exact(graph, x):
    """Output of ``graph`` at the point ``x`` (list of numbers), as a list of Fractions, and the pattern."""
    vals = [[_fr(v) for v in x]]
    bits = []
    for node in graph.nodes:
        op, ins = node.op, [vals[j] for j in node.inputs]
        v = ins[0]
        if isinstance(op, Affine):
            out = [sum((_fr(w) * a for w, a in zip(row, v)), Fraction(0)) + _fr(bi) for row, bi in zip(op.W, op.b)]
        elif isinstance(op, Add):
            out = [sum(col, Fraction(0)) for col in zip(*ins)]
        elif isinstance(op, Concat):
            out = [a for part in ins for a in part]
        elif isinstance(op, Activation):
            neg, pos = op.slopes(len(v))
            out = [(_fr(p) if z > 0 else _fr(a)) * z for z, a, p in zip(v, neg, pos)]
            bits += [z > 0 for z, a, p in zip(v, neg, pos) if a != p]
        elif isinstance(op, Clamp):
            lo, hi = _fr(op.lo), _fr(op.hi)
            out = [min(max(z, lo), hi) for z in v]
            bits += [z - lo > 0 for z in v] + [z - hi > 0 for z in v]
        elif isinstance(op, MaxGroups):
            out = []
            for g in op.groups:
                cand = [v[int(i)] for i in g]
                top = max(cand)
                sel = cand.index(top)  # lowest index among exact ties
                out.append(top)
                if len(cand) > 1:
                    bits += [q == sel for q in range(len(cand))]
        else:  # pragma: no cover
            raise TypeError(type(op).__name__)
        vals.append(out)
    return vals[-1], bits
