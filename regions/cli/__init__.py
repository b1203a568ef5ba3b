"""The ``regions`` command line (installed as the package ``regions.cli``).

It only parses options and calls the public API of :mod:`regions`.
"""
