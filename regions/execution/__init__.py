"""Running work in many processes and on many machines.

* :mod:`regions.execution.runners` -- :class:`LocalRunner` (local worker
  processes) and :class:`DaskRunner` (a Dask cluster), shared by sweeps
  and split counts;
* :mod:`regions.execution.split` -- one count split into independent
  subproblems, run on either runner, resumable from a state folder
  (:func:`count_split`);
* :mod:`regions.execution.prefix` -- what the engines' splits share
  (:class:`~regions.execution.prefix.PrefixSplit`: runs of prefix regions,
  keys, the per-process prefix cache, the merge);
* :mod:`regions.execution.hashes` -- sha256 of networks (op graphs by their
  lowered chain) and domains.
"""

from .runners import DaskRunner, LocalRunner

__all__ = ["DaskRunner", "LocalRunner"]
