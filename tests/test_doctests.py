"""The examples in the docstrings of the core modules run and print what they say."""

import doctest
import importlib

import pytest

MODULES = ["regions.model.network", "regions.analysis.theory", "regions.analysis.constructions", "regions.engines.line.kernel",
           "regions.experiments.report", "regions.plot.style"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    failures, tried = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0
