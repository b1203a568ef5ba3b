"""Operations of piecewise-linear networks and their lowering to a chain of layers.

A network is a small DAG of operations on flat state vectors (:class:`Graph`):
affine maps (:class:`Affine`), elementwise activations with per-unit slopes
(:class:`Activation`: ReLU, LeakyReLU, PReLU; :class:`Clamp`: Hardtanh,
ReLU6), max units (:class:`MaxGroups`: max pooling, maxout) and skip
connections (:class:`Add`, :class:`Concat`).

Lowering
--------
:func:`lower` turns a graph into the chain that engines consume: hidden
layers ``z = W s + b`` each followed by :class:`Units`, then an output
affine map.  A :class:`Units` is either *elementwise* (unit ``i`` outputs
``positive[i] * z`` where ``z > 0`` and ``negative[i] * z`` where
``z <= 0``; units with equal slopes are *linear*, never split, and carry
skip-connection state exactly) or *max* (output ``g`` is the max of the
units in group ``g``; a group of one is a linear carry).  ``Clamp`` lowers
to two ReLU units with one direction, ``lo + relu(z - lo) - relu(z - hi)``,
whose pieces are exactly those of the clamp.

Activation regions
------------------
A maximal set on which every non-linear unit's side (``z > 0`` or not) and
every max unit's selected candidate are constant; a max unit whose
candidates compute the same affine function on a region does not split it
(the lowest index wins).  Pattern bits: one per non-linear elementwise unit,
and a one-hot over the candidates of every group of two or more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..core.tolerances import ZERO_RTOL
from ..errors import RegionsError
from .network import Network

__all__ = [
    "Activation",
    "Add",
    "Affine",
    "Clamp",
    "Concat",
    "Graph",
    "Lowered",
    "MaxGroups",
    "Node",
    "Units",
    "compose_graphs",
    "graph_from_network",
    "lower",
]


class Op:
    """Base class: an operation on flat state vectors."""

    #: Parameters of the trained module this op came from.
    n_params: int = 0

    def out_dim(self, dims: Sequence[int]) -> int:
        raise NotImplementedError

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Affine(Op):
    """``x -> W x + b``; ``n_params`` defaults to ``W.size + b.size`` (pass a conv's own count)."""

    def __init__(self, W, b=None, *, n_params: int | None = None):
        self.W = np.array(W, dtype=np.float64)
        if self.W.ndim != 2 or self.W.size == 0:
            raise RegionsError(f"expected W shaped (out, in), got shape {self.W.shape}")
        self.b = np.zeros(self.W.shape[0]) if b is None else np.array(b, dtype=np.float64).reshape(-1)
        if self.b.shape != (self.W.shape[0],):
            raise RegionsError(f"expected b of length {self.W.shape[0]}, got shape {self.b.shape}")
        if not (np.isfinite(self.W).all() and np.isfinite(self.b).all()):
            raise RegionsError("expected finite weights, got NaN or inf")
        self.n_params = int(self.W.size + self.b.size) if n_params is None else int(n_params)

    def out_dim(self, dims):
        if dims[0] != self.W.shape[1]:
            raise RegionsError(f"expected an input of {self.W.shape[1]} entries for Affine, got {dims[0]}")
        return self.W.shape[0]

    def forward(self, x):
        return x @ self.W.T + self.b


class Activation(Op):
    """Elementwise ``positive * z`` (z > 0), ``negative * z`` (z <= 0); scalars or per-unit arrays.

    ``Activation.relu()``, ``.leaky_relu(a)``, ``.prelu(slopes)`` build the usual ones.
    """

    def __init__(self, negative=0.0, positive=1.0, *, name: str = "activation", n_params: int = 0):
        self.negative = np.array(negative, dtype=np.float64)
        self.positive = np.array(positive, dtype=np.float64)
        if not (np.isfinite(self.negative).all() and np.isfinite(self.positive).all()):
            raise RegionsError(f"expected finite slopes for {name}, got {negative!r}, {positive!r}")
        self.name, self.n_params = name, int(n_params)

    @classmethod
    def relu(cls) -> "Activation":
        return cls(0.0, 1.0, name="relu")

    @classmethod
    def leaky_relu(cls, slope: float) -> "Activation":
        return cls(float(slope), 1.0, name=f"leaky_relu({slope:g})")

    @classmethod
    def prelu(cls, slopes, *, n_params: int | None = None) -> "Activation":
        s = np.asarray(slopes, dtype=np.float64).reshape(-1)
        return cls(s, 1.0, name="prelu", n_params=s.size if n_params is None else n_params)

    def slopes(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        try:
            return (np.broadcast_to(self.negative, (n,)).astype(np.float64),
                    np.broadcast_to(self.positive, (n,)).astype(np.float64))
        except ValueError:
            raise RegionsError(
                f"expected {self.name} slopes for {n} units, got shapes {self.negative.shape}, {self.positive.shape}"
            ) from None

    def out_dim(self, dims):
        self.slopes(dims[0])
        return dims[0]

    def forward(self, x):
        neg, pos = self.slopes(x.shape[1])
        return np.where(x > 0, pos * x, neg * x)


class Clamp(Op):
    """``min(max(z, lo), hi)`` elementwise (Hardtanh; ReLU6 is ``Clamp(0, 6)``)."""

    def __init__(self, lo: float = -1.0, hi: float = 1.0):
        self.lo, self.hi = float(lo), float(hi)
        if not (np.isfinite(self.lo) and np.isfinite(self.hi) and self.lo < self.hi):
            raise RegionsError(f"expected finite lo < hi for a clamp, got {lo!r}, {hi!r}")

    def out_dim(self, dims):
        return dims[0]

    def forward(self, x):
        return np.clip(x, self.lo, self.hi)


class MaxGroups(Op):
    """Output ``g`` is the max of the inputs ``groups[g]`` (max pooling, maxout)."""

    def __init__(self, groups: Sequence[Sequence[int]]):
        self.groups = tuple(np.asarray(g, dtype=np.intp).reshape(-1) for g in groups)
        if not self.groups or any(g.size == 0 or g.min() < 0 for g in self.groups):
            raise RegionsError("expected non-empty groups of non-negative input indices, got an empty group")

    @classmethod
    def maxout(cls, n: int, rank: int) -> "MaxGroups":
        """Groups of ``rank`` consecutive units out of ``n``."""
        if rank < 1 or n % rank:
            raise RegionsError(f"expected a rank dividing the {n} units, got {rank!r}")
        return cls(np.arange(n).reshape(-1, rank))

    @classmethod
    def pool(cls, shape: Sequence[int], kernel, stride=None, padding=0, dilation=1,
             ceil_mode: bool = False) -> tuple["MaxGroups", tuple[int, ...]]:
        """Max pooling (torch semantics) of a ``(C, L)`` or ``(C, H, W)`` tensor, row-major.

        Returns the op and the output shape.  Padded positions are never candidates.
        """
        shape = tuple(int(s) for s in shape)
        sp = len(shape) - 1
        if sp not in (1, 2):
            raise RegionsError(f"expected a (C, L) or (C, H, W) shape for max pooling, got {shape}")

        def tup(v, name):
            t = (int(v),) * sp if np.ndim(v) == 0 else tuple(int(x) for x in v)
            if len(t) != sp:
                raise RegionsError(f"expected {sp} values for {name}, got {v!r}")
            return t

        k = tup(kernel, "kernel")
        s = k if stride is None else tup(stride, "stride")
        p, d = tup(padding, "padding"), tup(dilation, "dilation")
        outs, axes = [], []
        for n, kk, ss, pp, dd in zip(shape[1:], k, s, p, d):
            span = n + 2 * pp - dd * (kk - 1) - 1
            o = (-(-span // ss) if ceil_mode else span // ss) + 1
            if ceil_mode and (o - 1) * ss >= n + pp:
                o -= 1
            if o < 1:
                raise RegionsError(f"expected a pooling window that fits the input {shape}, got kernel {k}")
            axes.append([[i * ss - pp + j * dd for j in range(kk) if 0 <= i * ss - pp + j * dd < n]
                         for i in range(o)])
            outs.append(o)
        strides = np.cumprod((1, *shape[:0:-1]))[::-1]  # row-major strides of (C, ...)
        groups = []
        for c in range(shape[0]):
            if sp == 1:
                for win in axes[0]:
                    groups.append([c * strides[0] + w for w in win])
            else:
                for wr in axes[0]:
                    for wc in axes[1]:
                        groups.append([c * strides[0] + r * strides[1] + q for r in wr for q in wc])
        return cls(groups), (shape[0], *outs)

    def out_dim(self, dims):
        top = max(int(g.max()) for g in self.groups)
        if top >= dims[0]:
            raise RegionsError(f"expected group indices below the input size {dims[0]}, got {top}")
        return len(self.groups)

    def forward(self, x):
        return np.stack([x[:, g].max(axis=1) for g in self.groups], axis=1)


class Add(Op):
    """Sum of its inputs (a skip connection)."""

    def out_dim(self, dims):
        if len(set(dims)) != 1:
            raise RegionsError(f"expected inputs of one size to Add, got sizes {list(dims)}")
        return dims[0]

    def forward(self, *xs):
        return sum(xs[1:], xs[0])


class Concat(Op):
    """Concatenation of its inputs."""

    def out_dim(self, dims):
        return int(sum(dims))

    def forward(self, *xs):
        return np.concatenate(xs, axis=1)


@dataclass(frozen=True)
class Node:
    """``op`` applied to the values of the nodes ``inputs`` (0 is the network's input)."""

    op: Op
    inputs: tuple[int, ...]
    name: str = ""


class Graph:
    """A small DAG of operations; node 0 is the input, node ``i`` is ``nodes[i - 1]``; the last is the output.

    ``nodes`` may hold bare ops, each applied to the node before it.
    """

    def __init__(self, nodes: Sequence, input_dim: int):
        self.input_dim = int(input_dim)
        if self.input_dim < 1:
            raise RegionsError(f"expected input_dim >= 1, got {input_dim!r}")
        out, dims = [], [self.input_dim]
        for i, node in enumerate(nodes, start=1):
            if isinstance(node, Op):
                node = Node(node, (i - 1,))
            if not isinstance(node, Node) or not node.inputs or any(not 0 <= j < i for j in node.inputs):
                raise RegionsError(f"expected node {i} to be an Op or a Node reading earlier nodes, got {node!r}")
            if not isinstance(node.op, (Add, Concat)) and len(node.inputs) != 1:
                raise RegionsError(f"expected one input for {type(node.op).__name__} at node {i}, got {node.inputs}")
            dims.append(node.op.out_dim([dims[j] for j in node.inputs]))
            out.append(node)
        if not out:
            raise RegionsError("expected at least one operation, got none")
        self.nodes, self.dims = tuple(out), tuple(dims)

    @property
    def output_dim(self) -> int:
        return self.dims[-1]

    @property
    def n_params(self) -> int:
        return sum(n.op.n_params for n in self.nodes)

    @property
    def arch(self) -> str:
        """Sizes through the graph, non-linear operations named: ``"2-relu4-add4-leaky_relu4-1"``."""
        parts = [str(self.input_dim)]
        for i, node in enumerate(self.nodes, start=1):
            op = node.op
            if isinstance(op, Activation):
                parts.append(f"{op.name.split('(')[0]}{self.dims[i]}")
            elif isinstance(op, Clamp):
                parts.append(f"clamp{self.dims[i]}")
            elif isinstance(op, MaxGroups):
                parts.append(f"max{self.dims[i]}")
            elif isinstance(op, (Add, Concat)):
                parts.append(f"{type(op).__name__.lower()}{self.dims[i]}")
        parts.append(str(self.output_dim))
        return "-".join(parts)

    def __repr__(self) -> str:
        return f"Graph({self.arch!r}, params={self.n_params})"

    def forward(self, X) -> np.ndarray:
        """The graph evaluated directly in float64 at points ``X`` (n, input_dim)."""
        vals = [np.atleast_2d(np.asarray(X, dtype=np.float64))]
        for node in self.nodes:
            vals.append(node.op.forward(*[vals[j] for j in node.inputs]))
        return vals[-1]


@dataclass(frozen=True, eq=False)
class Units:
    """How one lowered hidden layer turns its pre-activations into outputs (see module docstring)."""

    negative: np.ndarray
    positive: np.ndarray
    groups: tuple | None = None
    label: str = ""

    @property
    def n_units(self) -> int:
        return int(self.negative.shape[0])

    @property
    def n_out(self) -> int:
        return self.n_units if self.groups is None else len(self.groups)

    @property
    def splitting(self) -> np.ndarray:
        """Elementwise units that bend (unequal slopes), bool (n_units,)."""
        if self.groups is not None:
            return np.zeros(self.n_units, dtype=bool)
        return self.negative != self.positive

    @property
    def n_bits(self) -> int:
        if self.groups is None:
            return int(self.splitting.sum())
        return sum(g.size for g in self.groups if g.size > 1)

    def apply(self, Z: np.ndarray) -> np.ndarray:
        if self.groups is None:
            return np.where(Z > 0, self.positive * Z, self.negative * Z)
        return np.stack([Z[:, g].max(axis=1) for g in self.groups], axis=1)

    def bits(self, Z: np.ndarray, mag: np.ndarray) -> np.ndarray:
        """Pattern bits at points with pre-activations ``Z`` and magnitudes ``mag`` (``|W||s| + |b|``).

        A max group selects its largest candidate; candidates within
        ``ZERO_RTOL`` of the magnitudes of the largest tie, the lowest index wins.
        """
        if self.groups is None:
            return Z[:, self.splitting] > 0
        out = []
        for g in self.groups:
            if g.size < 2:
                continue
            v, m = Z[:, g], mag[:, g]
            top = v.argmax(axis=1)
            vmax = np.take_along_axis(v, top[:, None], 1)
            mmax = np.take_along_axis(m, top[:, None], 1)
            tie = np.abs(v - vmax) <= ZERO_RTOL * (m + mmax)
            sel = tie.argmax(axis=1)  # lowest tied index
            out.append(np.arange(g.size)[None, :] == sel[:, None])
        return np.concatenate(out, axis=1) if out else np.zeros((Z.shape[0], 0), dtype=bool)


@dataclass(frozen=True, eq=False)
class Lowered:
    """A lowered chain: hidden ``layers[l]`` followed by ``units[l]``, then the output ``layers[-1]``."""

    layers: tuple
    units: tuple
    n_params: int

    def _walk(self, X):
        H = np.atleast_2d(np.asarray(X, dtype=np.float64))
        for (W, b), u in zip(self.layers[:-1], self.units):
            Z = H @ W.T + b
            yield Z, np.abs(H) @ np.abs(W).T + np.abs(b), u
            H = u.apply(Z)
        W, b = self.layers[-1]
        yield H @ W.T + b, None, None

    def __call__(self, X) -> np.ndarray:
        return list(self._walk(X))[-1][0]

    def patterns(self, X) -> np.ndarray:
        bits = [u.bits(Z, mag) for Z, mag, u in self._walk(X) if u is not None]
        n = np.atleast_2d(X).shape[0]
        return np.concatenate(bits, axis=1) if bits else np.zeros((n, 0), dtype=bool)


def lower(graph: Graph) -> Lowered:
    """The chain of layers computing ``graph`` (see the module docstring).

    Every value is kept as an affine expression ``M s + c`` of the current
    carrier ``s`` (the last layer's output).  A non-linear op starts a layer
    whose units are the op's units plus linear carries of every value still
    needed later; the carried values become selections of the new carrier.
    """
    nodes = graph.nodes
    N = len(nodes)
    last_use = {0: 0}
    for i, node in enumerate(nodes, start=1):
        for j in node.inputs:
            last_use[j] = max(last_use.get(j, 0), i)
    last_use[N] = N + 1
    expr: dict[int, tuple[np.ndarray, np.ndarray]] = {0: (np.eye(graph.input_dim), np.zeros(graph.input_dim))}
    layers, units = [], []
    for i, node in enumerate(nodes, start=1):
        op = node.op
        ins = [expr[j] for j in node.inputs]
        if isinstance(op, Affine):
            M, c = ins[0]
            expr[i] = (op.W @ M, op.W @ c + op.b)
        elif isinstance(op, Add):
            expr[i] = (sum(e[0] for e in ins[1:]) + ins[0][0], sum(e[1] for e in ins[1:]) + ins[0][1])
        elif isinstance(op, Concat):
            expr[i] = (np.vstack([e[0] for e in ins]), np.concatenate([e[1] for e in ins]))
        else:
            M, c = ins[0]
            n = M.shape[0]
            live = [j for j in sorted(expr) if last_use.get(j, 0) > i and expr[j][0].any()]
            rows, offs, neg, pos = [], [], [], []
            if isinstance(op, Activation):
                a, p = op.slopes(n)
                rows.append(M), offs.append(c), neg.append(a), pos.append(p)
                out_sel = (np.eye(n), np.zeros(n), 0)
            elif isinstance(op, Clamp):
                rows += [M, M]
                offs += [c - op.lo, c - op.hi]
                neg += [np.zeros(2 * n)]
                pos += [np.ones(2 * n)]
                out_sel = (np.hstack([np.eye(n), -np.eye(n)]), np.full(n, op.lo), 0)
            else:  # MaxGroups
                rows.append(M), offs.append(c)
                out_sel = (np.eye(len(op.groups)), np.zeros(len(op.groups)), 0)
            groups = list(op.groups) if isinstance(op, MaxGroups) else None
            width = sum(r.shape[0] for r in rows)
            n_op_out = width if groups is None else len(groups)
            carry_at = {}
            for j in live:
                Mj, cj = expr[j]
                carry_at[j] = (width, width if groups is None else n_op_out)
                if groups is not None:
                    groups += [np.array([width + q]) for q in range(Mj.shape[0])]
                    n_op_out += Mj.shape[0]
                rows.append(Mj), offs.append(cj)
                neg.append(np.ones(Mj.shape[0])), pos.append(np.ones(Mj.shape[0]))
                width += Mj.shape[0]
            W, b = np.vstack(rows), np.concatenate(offs)
            total = width if groups is None else len(groups)
            neg_a = np.concatenate(neg) if groups is None else np.ones(width)
            pos_a = np.concatenate(pos) if groups is None else np.ones(width)
            label = node.name or f"{type(op).__name__} (node {i})"
            units.append(Units(neg_a, pos_a, None if groups is None else tuple(groups), label))
            layers.append((W, b))
            # expressions over the new carrier
            for j in list(expr):
                if j not in carry_at:
                    Mj, cj = expr[j]
                    if Mj.any() or last_use.get(j, 0) <= i:
                        del expr[j]
                    else:
                        expr[j] = (np.zeros((Mj.shape[0], total)), cj)
            for j, (_, start) in carry_at.items():
                m = expr[j][0].shape[0]
                sel = np.zeros((m, total))
                sel[np.arange(m), start + np.arange(m)] = 1.0
                expr[j] = (sel, np.zeros(m))
            P, q, _ = out_sel
            Mi = np.zeros((P.shape[0], total))
            Mi[:, : P.shape[1]] = P
            expr[i] = (Mi, q)
        for j in node.inputs:  # drop values nobody needs any more
            if last_use.get(j, 0) <= i and j in expr and j != i:
                del expr[j]
    M, c = expr[N]
    layers.append((M, c))
    return Lowered(tuple(layers), tuple(units), graph.n_params)


def graph_from_network(net) -> Graph:
    """The op :class:`Graph` computing a plain :class:`~regions.model.network.Network` (same patterns)."""
    nodes: list = []
    for W, b in net.layers[:-1]:
        nodes += [Affine(W, b), Activation(net.negative_slope, 1.0, name="relu" if not net.negative_slope
                                           else f"leaky_relu({net.negative_slope:g})")]
    nodes.append(Affine(*net.layers[-1]))
    return Graph(nodes, net.input_dim)


def compose_graphs(f, g) -> Graph:
    """The op graph computing ``g(f(x))``; either may be a :class:`~regions.model.network.Network`.

    ``g``'s nodes read ``f``'s output where they read ``g``'s input;
    parameters add up.
    """
    f = graph_from_network(f) if isinstance(f, Network) else f
    g = graph_from_network(g) if isinstance(g, Network) else g
    if not isinstance(f, Graph) or not isinstance(g, Graph):
        raise RegionsError(f"expected Networks or op graphs, got {type(f).__name__} and {type(g).__name__}")
    if f.output_dim != g.input_dim:
        raise RegionsError(f"expected f's output dimension to equal g's input dimension, "
                           f"got {f.output_dim} and {g.input_dim}")
    shift = len(f.nodes)
    nodes = list(f.nodes) + [Node(n.op, tuple(j + shift for j in n.inputs), n.name) for n in g.nodes]
    return Graph(nodes, f.input_dim)
