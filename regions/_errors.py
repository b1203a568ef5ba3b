"""The one exception class of the package."""

__all__ = ["RegionsError"]


class RegionsError(ValueError):
    """Raised for input that the toolkit cannot use.

    The message is one sentence that says what was expected and what was
    received.  It subclasses :class:`ValueError`, so ``except ValueError``
    catches it as well.
    """
