"""The network model: affine layers and their activations."""

from .network import INIT_SCHEMES, Network, compose, parse_arch

__all__ = ["INIT_SCHEMES", "Network", "compose", "parse_arch"]
