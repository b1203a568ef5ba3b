"""Theory (published bounds as exact integers) and constructions with known counts."""

from . import constructions, theory

__all__ = ["constructions", "theory"]
