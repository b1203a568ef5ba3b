"""The registered engines by name: :func:`register`, :func:`engines`, :func:`get_engine`.

Below both :mod:`regions.engines.registry` (which chooses and runs an engine)
and :mod:`regions.execution` (whose workers look engines up by the name a
subproblem carries), so that neither imports the other's module to find an
engine.  Importing this module registers the four engines.
"""

from __future__ import annotations

from ..errors import RegionsError
from .base import Engine
from .line.engine import LineEngine
from .lp.engine import LPEngine
from .planar.engine import PlanarEngine
from .polytope.engine import PolytopeEngine

__all__ = ["engines", "get_engine", "register"]

_REGISTRY: dict[str, Engine] = {}


def register(engine: Engine, *, replace: bool = False) -> Engine:
    """Add ``engine`` to the registry under ``engine.name``; returns it."""
    if not isinstance(engine, Engine) or not engine.name:
        raise RegionsError(f"expected an Engine instance with a name, got {engine!r}")
    if engine.name in _REGISTRY and not replace:
        raise RegionsError(f"expected a new engine name, got {engine.name!r}, which is registered already")
    _REGISTRY[engine.name] = engine
    return engine


def engines() -> dict[str, Engine]:
    """The registered engines by name (a copy)."""
    return dict(_REGISTRY)


def get_engine(name: str) -> Engine:
    """The engine registered under ``name``."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise RegionsError(
            f"expected an engine name among {', '.join(sorted(_REGISTRY))}, got {name!r}"
        ) from None


for _engine in (LineEngine(), PlanarEngine(), PolytopeEngine(), LPEngine()):
    register(_engine)
