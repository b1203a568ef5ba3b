"""The project's exceptions, classed by meaning.

Every one is a :class:`RegionsError` (itself a :class:`ValueError`), so
``except RegionsError`` catches them all.  Messages are one sentence that
says what was expected and what was received.
"""

__all__ = ["NumericalError", "RegionsError", "VerificationError"]


class RegionsError(ValueError):
    """Raised for input that the toolkit cannot use.

    The message is one sentence that says what was expected and what was
    received.  It subclasses :class:`ValueError`, so ``except ValueError``
    catches it as well.
    """


class VerificationError(RegionsError):
    """A partition failed one of its invariants in ``verify()``.

    The message names the invariant and the first offending regions.
    Raised explicitly, never through ``assert``, so it holds under
    ``python -O``.
    """


class NumericalError(RegionsError):
    """float64 cannot decide a predicate the count depends on, and no exact
    fallback applies (for example, values that overflow float64)."""
