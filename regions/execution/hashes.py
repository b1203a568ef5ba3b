"""sha256 of networks and domains: the identity of split counts, their caches and state folders."""

from __future__ import annotations

import hashlib

import numpy as np

from ..domains import Domain
from ..model.network import Network

__all__ = ["domain_sha256", "network_sha256"]


def network_sha256(net: Network) -> str:
    """sha256 of the network's weights and biases (little-endian float64 bytes) and activation."""
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
