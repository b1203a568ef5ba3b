"""Experiments built on the engines: sweeps over depth and width, slices through data,
checkpoint series, the bundled digits."""
