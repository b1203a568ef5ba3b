"""The network model: affine layers and their activations."""

from .compose import compose
from .network import INIT_SCHEMES, Network, parse_arch

__all__ = ["INIT_SCHEMES", "Network", "compose", "parse_arch"]
