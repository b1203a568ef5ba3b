"""One count split into independent subproblems, run anywhere, resumable.

The engine splits the job (:meth:`~regions.engines.base.Engine.split`):
every final region lies in exactly one region of the first layers, so the
prefix regions, grouped into subproblems, give counts that add up exactly
(:meth:`~regions.engines.base.Engine.merge` adds them and merges what crosses
their borders).  :func:`count_split` runs the subproblems in this process,
in local worker processes (``jobs``) or on a Dask cluster (``scheduler``)
and merges them; the answer does not depend on where, in which order or how
many times a subproblem ran.

Op networks (:class:`regions.model.ops.Graph`) split the same way with
the engines of :mod:`regions.engines.opgraph_split` (workers find them by
their ``ref``, ``"ops:line"`` or ``"ops:planar"``); their identity is the
sha256 of their lowered chain.

The split depends on the network, the domain, the engine and ``parts``
only (never on the number of workers), so a count started with 2 workers
can be finished with 16, on another cluster.

State folder
------------
With ``state=DIR`` every finished subproblem is recorded at once, one JSON
file per subproblem (``DIR/done/<index>.json``: its key and its result,
written atomically), next to ``DIR/manifest.json`` (the network's sha256,
the domain, the engine, the split).  Running the same count again skips the
recorded subproblems; a folder made for another network, domain, engine or
split is refused.  The folder is locked (``fcntl.flock`` on ``DIR/.lock``)
for as long as a run uses it, so a second writer is refused too.  A client
killed at any moment (SIGKILL included) loses at most the subproblems that
were running.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import numbers
import os
import time
from pathlib import Path
from typing import Any, Iterator

from ..core.io import write_text_atomic
from ..core.result import CountResult
from ..domains import Domain
from ..engines.base import Engine, Subproblem
from ..engines.catalog import get_engine
from ..errors import RegionsError
from ..model.network import Network
from .hashes import domain_sha256, network_sha256
from .runners import DaskRunner, LocalRunner, check_jobs

__all__ = ["DEFAULT_PARTS", "SplitState", "count_split", "domain_sha256", "network_sha256"]

#: Subproblems a count is split into by default (whatever the number of workers).
DEFAULT_PARTS = 64
_FORMAT = "regions-count-state"
_VERSION = 1


# ----------------------------------------------------------------- results
def _result_to_dict(r: CountResult) -> dict:
    return dataclasses.asdict(r)


def _result_from_dict(d: dict) -> CountResult:
    names = {f.name for f in dataclasses.fields(CountResult)}
    return CountResult(**{k: v for k, v in d.items() if k in names})


def _subproblem_task(data: tuple) -> Iterator[dict]:  # runs in the worker processes
    """Task function of the local runner: the count of one subproblem, as one ``end`` event."""
    net, domain, engine, sub = data
    yield {"part": "end", "key": sub.key, "result": _result_to_dict(_count_one(net, domain, engine, sub))}


def _count_one(net: Network, domain: Domain, engine: str, sub: Subproblem) -> CountResult:
    if engine.startswith("ops:"):  # an op network's engine (regions.engines.opgraph_split)
        from ..engines.opgraph_split import op_split_engine  # noqa: PLC0415 -- avoids an import cycle

        return op_split_engine(engine).count_subproblem(net, domain, sub)
    return get_engine(engine).count_subproblem(net, domain, sub)


def _ref(engine) -> str:
    """How workers find ``engine``: its registry name, or its ``ref`` (op networks' engines)."""
    return getattr(engine, "ref", engine.name)


def _dask_task(net: Network, domain: Domain, engine: str, sub: Subproblem) -> dict:
    """Dask task: the count of one subproblem as a dict (deterministic: the key names the work)."""
    return _result_to_dict(_count_one(net, domain, engine, sub))


# ------------------------------------------------------------------- state
class SplitState:
    """The state folder of one split count (see the module docstring).

    Parameters
    ----------
    path : path-like
        The folder; created if missing (its parent must exist).
    manifest : dict
        What the folder is for: network hash, domain, engine, split.
    """

    def __init__(self, path: str | os.PathLike, manifest: dict):
        import fcntl  # noqa: PLC0415 -- POSIX only, needed only with a state folder

        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise RegionsError(f"expected a folder for --state, got {str(self.path)!r}, which is a file")
        if not self.path.exists():
            if not self.path.parent.is_dir():
                raise RegionsError(
                    f"expected --state in an existing folder, got {str(self.path)!r} whose parent does not exist"
                )
            self.path.mkdir(exist_ok=True)
        self._lock = open(self.path / ".lock", "a")  # noqa: SIM115 -- held for the life of the state
        try:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            raise RegionsError(
                f"expected a state folder that no other run is using, got {str(self.path)!r}, "
                f"locked by another process"
            ) from None
        try:
            self._check_manifest(manifest)
        except BaseException:
            self.close()
            raise
        self.manifest = manifest
        (self.path / "done").mkdir(exist_ok=True)

    def _check_manifest(self, manifest: dict) -> None:
        mpath = self.path / "manifest.json"
        if not mpath.exists():
            others = [p.name for p in self.path.iterdir() if p.name not in (".lock", "done")]
            if others or any((self.path / "done").glob("*.json")):
                raise RegionsError(
                    f"expected an empty folder or a state folder of a split count for --state, got "
                    f"{str(self.path)!r}, which holds {sorted(others)[:3]} and no manifest.json"
                )
            write_text_atomic(mpath, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
            return
        try:
            old = json.loads(mpath.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise RegionsError(f"expected a readable manifest.json in {str(self.path)!r}, got {exc}") from None
        if old.get("format") != _FORMAT or old.get("version") != _VERSION:
            raise RegionsError(
                f"expected a state folder of format {_FORMAT} version {_VERSION}, got "
                f"{old.get('format')!r} version {old.get('version')!r} in {str(self.path)!r}"
            )
        for field, what in (("network_sha256", "network"), ("domain_sha256", "domain"), ("engine", "engine"),
                            ("split", "split")):
            if old.get(field) != manifest[field]:
                theirs = old.get(field) if field != "network_sha256" else f"sha256 {str(old.get(field))[:12]}"
                ours = manifest[field] if field != "network_sha256" else f"sha256 {manifest[field][:12]}"
                if field == "domain_sha256":
                    theirs, ours = old.get("domain"), manifest["domain"]
                raise RegionsError(
                    f"expected a state folder made for this count, got {str(self.path)!r}, made for "
                    f"another {what} ({theirs} instead of {ours})"
                )

    def done(self, keys: list[str]) -> dict[int, CountResult]:
        """The recorded results, by subproblem index (files of other keys are refused)."""
        out = {}
        for p in sorted((self.path / "done").glob("*.json")):
            try:
                rec = json.loads(p.read_text())
                i = int(p.stem)
            except (OSError, ValueError, json.JSONDecodeError):
                raise RegionsError(f"expected a readable subproblem record, got {str(p)!r}") from None
            if not (0 <= i < len(keys)) or rec.get("key") != keys[i]:
                raise RegionsError(
                    f"expected the record of subproblem {i} to hold key {keys[i] if 0 <= i < len(keys) else None!r}, "
                    f"got {rec.get('key')!r} in {str(p)!r}"
                )
            out[i] = _result_from_dict(rec["result"])
        return out

    def record(self, index: int, key: str, result: CountResult) -> None:
        """Record one finished subproblem (atomic: a killed run leaves the file whole or absent)."""
        rec = {"key": key, "result": _result_to_dict(result)}
        write_text_atomic(self.path / "done" / f"{index}.json", json.dumps(rec) + "\n")

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None


# -------------------------------------------------------------------- run
def _check_parts(parts: Any) -> int:
    if parts is None:
        return DEFAULT_PARTS
    if isinstance(parts, bool) or not isinstance(parts, numbers.Integral) or parts < 1:
        raise RegionsError(f"expected parts to be a positive integer, got {parts!r}")
    return int(parts)


def _progress_bar(enabled: bool, total: int, initial: int, engine: str):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm  # noqa: PLC0415 -- optional
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=total, initial=initial, desc=f"{engine} count", unit="subproblem", dynamic_ncols=True)


def count_split(net: Network, domain: Domain, engine: Engine, *, jobs: int | None = None, scheduler=None,
                state: str | os.PathLike | None = None, parts: int | None = None,
                progress: bool = False) -> CountResult:
    """The count of ``net`` on ``domain`` by ``engine``, split into subproblems and merged.

    Parameters
    ----------
    net, domain, engine
        Validated by the caller (:func:`regions.count`); ``net`` may be an
        op :class:`~regions.model.ops.Graph` with its split engine
        (:func:`regions.engines.opgraph_split.op_split_engine`).
    jobs : int, optional, keyword-only
        Local worker processes; ``0`` or None runs the subproblems in this
        process (still split, so resumable).
    scheduler : str or distributed.Client, optional, keyword-only
        A Dask scheduler's address (``tcp://host:8786``) or a client;
        excludes ``jobs``.
    state : path-like, optional, keyword-only
        State folder: finished subproblems are recorded there and skipped
        when the same count runs again.
    parts : int, optional, keyword-only
        Subproblems wanted; part of the state's identity.  By default
        :data:`DEFAULT_PARTS`, or fewer where the engine's subproblems each
        pay a fixed cost that would outweigh their work (the 2-D engine's
        runs hold at least ``PlanarSplit.min_run`` prefix regions).
    progress : bool, keyword-only
        A progress bar over subproblems (total and ETA), needs tqdm.

    Returns
    -------
    CountResult
        The merged count; ``extra["subproblems"]`` says how many,
        ``extra["resumed"]`` how many were read from ``state``.
    """
    if jobs is not None and scheduler is not None:
        raise RegionsError(f"expected either jobs or scheduler, got both (jobs={jobs!r}, scheduler={scheduler!r})")
    n_jobs = 0 if jobs is None else check_jobs(jobs)
    sized = parts is None  # the default: the engine may make fewer where subproblems would cost more than they do
    parts = _check_parts(parts)
    subs = engine.split(net, domain, parts=parts, sized=sized)
    if sized and len(subs) == 1 and scheduler is None:
        n_jobs = 0  # a job too small to split: counted here, not in a worker started for it
    keys = [s.key for s in subs]
    if len(set(keys)) != len(keys):  # pragma: no cover -- an engine bug
        raise RegionsError(f"expected unique subproblem keys from the {engine.name} engine, got duplicates")
    net_hash = network_sha256(net)
    st = None
    if state is not None:
        manifest = {
            "format": _FORMAT, "version": _VERSION,
            "network_sha256": net_hash, "arch": net.arch,
            "domain_sha256": domain_sha256(domain), "domain": domain.describe(),
            "engine": _ref(engine),
            "split": {"parts": parts, "subproblems": len(keys),
                      "keys_sha256": hashlib.sha256("\n".join(keys).encode()).hexdigest()},
        }
        st = SplitState(state, manifest)
    try:
        results = st.done(keys) if st is not None else {}
        resumed = len(results)
        todo = [i for i in range(len(subs)) if i not in results]
        bar = _progress_bar(progress, len(subs), len(results), engine.name)
        t0 = time.perf_counter()
        try:
            for i, res in _run(net, domain, engine, subs, todo, n_jobs, scheduler, net_hash):
                results[i] = res
                if st is not None:
                    st.record(i, keys[i], res)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(regions=sum(r.regions for r in results.values()), refresh=False)
        finally:
            if bar is not None:
                bar.close()
        merged = engine.merge([results[i] for i in range(len(subs))])
    finally:
        if st is not None:
            st.close()
    merged.extra = {k: v for k, v in merged.extra.items() if not k.startswith("_")}
    merged.extra["subproblems"] = len(subs)
    if state is not None:
        merged.extra["resumed"] = resumed
    merged.extra["split_seconds"] = round(time.perf_counter() - t0, 6)
    return merged


def _run(net, domain, engine, subs, todo, n_jobs, scheduler, net_hash) -> Iterator[tuple[int, CountResult]]:
    """Yield ``(index, result)`` for the subproblems ``todo``, as they finish."""
    if not todo:
        return
    if scheduler is not None:
        prefix = f"regions-count-{net_hash[:16]}-{domain_sha256(domain)[:8]}-{_ref(engine)}"
        index = {f"{prefix}-{subs[i].key}": i for i in todo}
        items = [(k, (subs[i],)) for k, i in index.items()]
        runner = DaskRunner(scheduler)
        for key, res in runner.results(_dask_task, items, pure=True, shared=(net, domain, _ref(engine))):
            yield index[key], _result_from_dict(res)
        return
    if n_jobs == 0:
        for i in todo:
            yield i, engine.count_subproblem(net, domain, subs[i])
        return
    retries: dict[int, int] = {}
    queue = list(todo)
    while queue:
        items = [(i, (net, domain, _ref(engine), subs[i])) for i in queue]
        queue = []
        for i, events, interrupted in LocalRunner(n_jobs).stream(_subproblem_task, items,
                                                                 lambda t, ev, s, why: (t, ev, why)):
            last = events[-1] if events else {}
            if interrupted is None and last.get("part") == "end":
                yield i, _result_from_dict(last["result"])
            elif interrupted is not None and retries.get(i, 0) < 2:  # a worker died: run it again
                retries[i] = retries.get(i, 0) + 1
                queue.append(i)
            else:
                why = last.get("error") if last.get("part") == "error" else interrupted
                raise RegionsError(f"expected subproblem {subs[i].key!r} to be counted, got {why}")
