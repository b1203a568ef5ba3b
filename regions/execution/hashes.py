"""sha256 of networks and domains: the identity of split counts, their caches and state folders."""

from __future__ import annotations

import hashlib

import numpy as np

from ..domains import Domain
from ..model.network import Network

__all__ = ["domain_sha256", "lowered_sha256", "network_sha256"]


def _arr(h, a) -> None:
    a = np.ascontiguousarray(a, dtype="<f8")
    h.update(repr(a.shape).encode())
    h.update(a.tobytes())


def lowered_sha256(low) -> str:
    """sha256 of a lowered op chain (:class:`regions.model.ops.Lowered`): every layer's weights and
    biases, every hidden layer's per-unit slopes and max groups (little-endian float64/int64 bytes)."""
    h = hashlib.sha256(b"regions-lowered-1")
    for l, (W, b) in enumerate(low.layers):
        _arr(h, W)
        _arr(h, b)
        if l < len(low.units):
            u = low.units[l]
            _arr(h, u.negative)
            _arr(h, u.positive)
            if u.groups is None:
                h.update(b"elementwise")
            else:
                h.update(repr(len(u.groups)).encode())
                for g in u.groups:
                    h.update(np.ascontiguousarray(g, dtype="<i8").tobytes() + b";")
    return h.hexdigest()


def network_sha256(net) -> str:
    """sha256 of the network's weights and biases (little-endian float64 bytes) and activation.

    An op graph (:class:`regions.model.ops.Graph`) is hashed by its lowered
    chain (:func:`lowered_sha256`): what the engines compute from.
    """
    from ..model.ops import Graph, Lowered, lower  # noqa: PLC0415 -- avoids an import cycle

    if isinstance(net, Graph):
        return lowered_sha256(lower(net))
    if isinstance(net, Lowered):
        return lowered_sha256(net)
    h = hashlib.sha256(b"regions-network-1")
    h.update(repr(float(net.negative_slope)).encode())
    for W, b in net.layers:
        W = np.ascontiguousarray(W, dtype="<f8")
        b = np.ascontiguousarray(b, dtype="<f8")
        h.update(repr(W.shape).encode())
        h.update(W.tobytes())
        h.update(b.tobytes())
    return h.hexdigest()


def domain_sha256(domain: Domain) -> str:
    """sha256 of the domain's kind, bounds, polygon and slice (origin, basis), as float64 bytes."""
    h = hashlib.sha256(b"regions-domain-1")
    h.update(str(domain.kind).encode())
    for name in ("lo", "hi", "vertices", "origin", "basis"):
        a = getattr(domain, name, None)
        h.update(name.encode())
        if a is not None:
            a = np.ascontiguousarray(a, dtype="<f8")
            h.update(repr(a.shape).encode())
            h.update(a.tobytes())
    return h.hexdigest()
