"""Partition engines behind one entry point (:mod:`regions.engines.registry`)."""
