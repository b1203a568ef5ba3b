"""Composition of networks and op graphs: ``regions.compose``.

A module above both :mod:`regions.model.network` and :mod:`regions.model.ops`,
so that neither imports the other's composition.
"""

from __future__ import annotations

from .network import Network
from .network import compose as compose_networks
from .ops import Graph, compose_graphs

__all__ = ["compose"]


def compose(f: Network | Graph, g: Network | Graph) -> Network | Graph:
    """The network computing ``g(f(x))``.

    Two :class:`~regions.model.network.Network` chains give a ``Network``
    with ``f.depth + g.depth`` hidden layers
    (:func:`regions.model.network.compose`); if either is an op graph
    (:class:`~regions.model.ops.Graph`, e.g. from :func:`regions.from_torch`)
    the result is an op graph (:func:`regions.model.ops.compose_graphs`).

    Examples
    --------
    >>> from regions import Network
    >>> compose(Network.from_arch("1-3-1", seed=1), Network.from_arch("1-3-1", seed=2)).arch
    '1-3-3-1'
    """
    if isinstance(f, Network) and isinstance(g, Network):
        return compose_networks(f, g)
    return compose_graphs(f, g)
