"""Exact reference for op graphs, written apart from the engines and from the lowering.

``forward_exact`` evaluates a :class:`regions.model.ops.Graph` in Fractions
(ties in max units resolved exactly, lowest index first); ``pattern_exact``
gives the activation pattern of the definition in :mod:`regions.model.ops`
at a point (max selections by exact comparison), for small nets.
"""

from __future__ import annotations

from fractions import Fraction

from regions.model.ops import Activation, Add, Affine, Clamp, Concat, Graph, MaxGroups, Node


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


def count_exact_lp(graph, lo, hi, *, radius=1e-9):
    """Activation regions of ``graph`` on the box ``[lo, hi]^d``, by brute force over patterns.

    ``lo=-inf, hi=inf`` counts all of ``R^d`` (the radius is then capped at
    1, so ``radius`` is absolute: use it for nets with features at scale ~1).

    Written from the definition, apart from the engines and from the
    lowering: every value is an affine expression ``(M, c)`` of the input;
    each non-linear unit branches on its states (ReLU-like: ``z > 0`` or
    ``z <= 0``; clamp: below / inside / above; max: candidate ``j`` with
    ``c_j > c_i`` for lower ``i`` and ``c_j >= c_i`` for higher ``i``), and a
    branch survives when its strict inequalities leave an interior
    (Chebyshev radius > ``radius`` with scipy's ``linprog``).  Constant
    inequalities (zero gradient) are decided by their constant.  Returns
    the number of surviving full patterns (regions are convex, so one per
    pattern).
    """
    import numpy as np
    from scipy.optimize import linprog

    d = graph.input_dim
    lo_v, hi_v = np.full(d, float(lo)), np.full(d, float(hi))

    def feasible(rows):
        A, b = [], []  # a x + beta >= 0 (with the radius): -a x - r|a| <= beta
        for a, beta, strict in rows:
            n = np.linalg.norm(a)
            if n <= 1e-12 * (1 + np.abs(a).sum()):
                if (beta <= 1e-12 if strict else beta < -1e-12):
                    return False
                continue
            A.append(np.append(-a, n)), b.append(beta)
        # finite box sides enter as rows too (radius inside the box); lo=-inf, hi=inf is all of R^d
        for i in range(d):
            e = np.zeros(d)
            e[i] = 1.0
            if np.isfinite(hi_v[i]):
                A.append(np.append(e, 1.0)), b.append(hi_v[i])
            if np.isfinite(lo_v[i]):
                A.append(np.append(-e, 1.0)), b.append(-lo_v[i])
        if not A:
            return True
        # the radius is free below (always feasible), capped at 1: HiGHS can stall on r >= 0 in R^d
        res = linprog(np.append(np.zeros(d), -1.0), A_ub=np.array(A), b_ub=np.array(b),
                      bounds=[(None, None)] * d + [(None, 1)], method="highs")
        return res.status == 0 and -res.fun > radius

    from regions.model.ops import Activation, Add, Affine, Clamp, Concat, MaxGroups

    # a branch: (rows, values) where values[j] = (M, c) of node j
    branches = [([], [(np.eye(d), np.zeros(d))])]
    for node in graph.nodes:
        op = node.op
        nxt = []
        for rows, vals in branches:
            ins = [vals[j] for j in node.inputs]
            M, c = ins[0]
            if isinstance(op, Affine):
                nxt.append((rows, vals + [(op.W @ M, op.W @ c + op.b)]))
                continue
            if isinstance(op, Add):
                nxt.append((rows, vals + [(sum(e[0] for e in ins), sum(e[1] for e in ins))]))
                continue
            if isinstance(op, Concat):
                nxt.append((rows, vals + [(np.vstack([e[0] for e in ins]), np.concatenate([e[1] for e in ins]))]))
                continue
            # branch unit by unit, pruning with LPs
            if isinstance(op, MaxGroups):
                units = [list(map(int, g)) for g in op.groups]
            else:
                units = list(range(M.shape[0]))
            parts = [(rows, [])]
            for q, unit in enumerate(units):
                grown = []
                for r0, outs in parts:
                    if isinstance(op, Activation):
                        neg, pos = op.slopes(M.shape[0])
                        opts = [([(M[unit], c[unit], True)], pos[unit])]
                        if neg[unit] != pos[unit]:
                            opts.append(([(-M[unit], -c[unit], False)], neg[unit]))
                        else:
                            opts = [([], pos[unit])]
                        for new, s in opts:
                            if feasible(r0 + new):
                                grown.append((r0 + new, outs + [(s * M[unit], s * c[unit])]))
                    elif isinstance(op, Clamp):
                        z = (M[unit], c[unit])
                        opts = [([(-z[0], op.lo - z[1], False)], (0 * z[0], op.lo)),
                                ([(z[0], z[1] - op.lo, True), (-z[0], op.hi - z[1], False)], z),
                                ([(z[0], z[1] - op.hi, True)], (0 * z[0], op.hi))]
                        for new, out in opts:
                            if feasible(r0 + new):
                                grown.append((r0 + new, outs + [out]))
                    else:
                        for j in unit:
                            new = [(M[j] - M[i], c[j] - c[i], i < j) for i in unit if i != j]
                            if feasible(r0 + new):
                                grown.append((r0 + new, outs + [(M[j], c[j])]))
                parts = grown
            for r0, outs in parts:
                nxt.append((r0, vals + [(np.array([o[0] for o in outs]), np.array([o[1] for o in outs]))]))
        branches = nxt
    return len(branches)


def value_scaled(g, c):
    """The graph with every value times ``c > 0``: the first Affine (reading the input) times ``c``, every
    later bias and clamp bound times ``c`` (ReLU, max and sums commute with positive scaling), so its
    regions are the original's (tests of positive rescaling)."""
    nodes = []
    for i, node in enumerate(g.nodes):
        op = node.op
        if isinstance(op, Affine):
            op = Affine(op.W * c, op.b * c) if i == 0 else Affine(op.W, op.b * c)
        elif isinstance(op, Clamp):
            op = Clamp(op.lo * c, op.hi * c)
        nodes.append(Node(op, node.inputs, node.name))
    return Graph(nodes, g.input_dim)
