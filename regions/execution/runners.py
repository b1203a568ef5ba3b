"""Where tasks run: local worker processes or a Dask cluster.

Both runners take a *task function* ``fn(data) -> Iterator[dict]`` defined
at module level (so that it pickles by name) and plain data per task.  A task
streams *events*, dicts; its last event has ``"part"`` ``"end"`` (finished)
or ``"error"``.  Sweeps (one task per cell) and split counts (one task per
subproblem) share them.

:class:`LocalRunner`
    ``jobs`` worker processes started with the ``spawn`` method (safe beside
    threads) and reused; a task past ``max_seconds`` is killed with its
    worker, which is replaced; a worker that dies is replaced too.  Events
    come back through a pipe as they are produced.
:class:`DaskRunner`
    One Dask task per item on an existing cluster (an address such as
    ``tcp://host:8786`` or a connected ``distributed.Client``).  With keys
    that name the work (``pure`` tasks), a worker killed mid-task makes the
    scheduler run the task again elsewhere: the same key, the same result.
"""

from __future__ import annotations

import numbers
import os
import signal
import threading
import time
from typing import Any, Callable, Iterable, Iterator, Sequence

from ..errors import RegionsError

__all__ = ["DaskRunner", "LocalRunner", "check_jobs", "connect", "run_events"]

#: ``finish(token, events, seconds, interrupted)``: what a runner yields per task.
Finish = Callable[[Any, list, float, "str | None"], Any]


def check_jobs(jobs: Any) -> int:
    """``jobs`` as an int >= 0 (None: the number of CPUs); RegionsError otherwise."""
    if jobs is None:
        return os.cpu_count() or 1
    if isinstance(jobs, bool) or not isinstance(jobs, numbers.Integral) or jobs < 0:
        raise RegionsError(f"expected a number of jobs >= 0, got {jobs!r}")
    return int(jobs)


def run_events(fn: Callable[[Any], Iterable[dict]], data: Any) -> list[dict]:
    """All events of one task, run in this process; an exception becomes an ``error`` event."""
    events = []
    try:
        for ev in fn(data):
            events.append(ev)
    except Exception as exc:  # noqa: BLE001 -- reported as the task's error event
        events.append({"part": "error", "error": f"{type(exc).__name__}: {exc}"})
    return events


def _worker_main(conn) -> None:  # pragma: no cover -- runs in the worker processes
    """Loop of a local worker process: receive ``(fn, data)``, send its events."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    from ..engines import catalog  # noqa: F401 -- warm up the engines before the first task
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        fn, data = msg
        try:
            for ev in fn(data):
                conn.send(ev)
        except Exception as exc:  # noqa: BLE001 -- reported to the parent
            conn.send({"part": "error", "error": f"{type(exc).__name__}: {exc}"})


def _default_timeout_note(seconds: float) -> str:
    return f"stopped after {seconds:g} s (max_seconds per task)"


class LocalRunner:
    """Runs tasks in ``jobs`` local worker processes, killing a task at its deadline.

    Parameters
    ----------
    jobs : int, optional
        Worker processes (default: the number of CPUs); ``0`` runs the tasks
        in this process (no time limit).
    max_seconds : float, optional, keyword-only
        Per-task limit.
    timeout_note : callable, optional, keyword-only
        ``timeout_note(max_seconds)``: the ``interrupted`` text of a task
        stopped at its deadline.
    """

    def __init__(self, jobs: int | None = None, *, max_seconds: float | None = None,
                 timeout_note: Callable[[float], str] = _default_timeout_note):
        self.jobs = check_jobs(jobs)
        if max_seconds is not None and not (max_seconds > 0):
            raise RegionsError(f"expected max_seconds > 0, got {max_seconds!r}")
        self.max_seconds = max_seconds
        self.timeout_note = timeout_note
        self._slots: list = []

    def _start(self):
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker_main, args=(child,), daemon=True, name="regions-worker")
        # The worker must ignore Ctrl-C from its first instruction (the terminal signals the
        # whole process group; the parent stops the workers itself): an ignored SIGINT is
        # inherited through exec, and Python then installs no KeyboardInterrupt handler.
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            proc.start()
        finally:
            if main:
                signal.signal(signal.SIGINT, previous)
        child.close()
        return [proc, parent]

    def _stop(self, slot, *, kill: bool = False):
        proc, conn = slot
        try:
            if not kill:
                conn.send(None)
        except (OSError, BrokenPipeError):
            kill = True
        conn.close()
        if kill:
            proc.kill()
        proc.join(timeout=5)
        if proc.is_alive():  # pragma: no cover
            proc.kill()
            proc.join()

    def close(self) -> None:
        """Stop every worker (killing busy ones)."""
        for slot in self._slots:
            self._stop(slot, kill=True)
        self._slots = []

    def stream(self, fn: Callable[[Any], Iterable[dict]], items: Sequence[tuple[Any, Any]],
               finish: Finish) -> Iterator:
        """Yield ``finish(token, events, seconds, interrupted)`` per ``(token, data)`` item, as tasks end.

        ``interrupted`` is None for a task that ended by itself (its last
        event is ``end`` or ``error``), else why it stopped (a worker that
        died, ``max_seconds``).  Results come in completion order.
        """
        if self.jobs == 0 or not items:
            for token, data in items:
                t0 = time.perf_counter()
                events = run_events(fn, data)
                yield finish(token, events, time.perf_counter() - t0, None)
            return
        from multiprocessing.connection import wait

        pending = list(reversed(items))
        n = min(self.jobs, len(items))
        try:
            self._slots = [self._start() for _ in range(n)]
            busy: dict = {}  # slot index -> [token, t0, events]
            idle = list(range(n))
            while pending or busy:
                while pending and idle:
                    i = idle.pop()
                    token, data = pending.pop()
                    self._slots[i][1].send((fn, data))
                    busy[i] = [token, time.perf_counter(), []]
                timeout = None
                if self.max_seconds is not None:
                    now = time.perf_counter()
                    timeout = max(0.0, min(t0 + self.max_seconds - now for _, t0, _ in busy.values()))
                ready = wait([self._slots[i][1] for i in busy], timeout=timeout)
                for i in list(busy):
                    conn = self._slots[i][1]
                    if conn not in ready:
                        continue
                    token, t0, events = busy[i]
                    done, died = False, False
                    try:
                        while conn.poll():
                            ev = conn.recv()
                            events.append(ev)
                            if ev.get("part") in ("end", "error"):
                                done = True
                                break
                    except (EOFError, OSError):
                        died = True
                    if done:
                        del busy[i]
                        idle.append(i)
                        yield finish(token, events, time.perf_counter() - t0, None)
                    elif died:
                        del busy[i]
                        code = self._slots[i][0].exitcode
                        self._stop(self._slots[i], kill=True)
                        self._slots[i] = self._start()
                        idle.append(i)
                        yield finish(token, events, time.perf_counter() - t0,
                                     f"worker process died (exit code {code})")
                if self.max_seconds is not None:
                    now = time.perf_counter()
                    for i in list(busy):
                        token, t0, events = busy[i]
                        if now - t0 >= self.max_seconds:
                            del busy[i]
                            self._stop(self._slots[i], kill=True)
                            self._slots[i] = self._start()
                            idle.append(i)
                            yield finish(token, events, now - t0, self.timeout_note(self.max_seconds))
        finally:
            self.close()


def _distributed():
    """The ``distributed`` module, or the project's error saying which extra to install."""
    try:
        import distributed  # noqa: PLC0415 -- optional: only Dask runs need it
    except ImportError:
        raise RegionsError(
            "expected the dask extra for --scheduler (pip install 'regions[dask]'), "
            "got no module 'distributed'"
        ) from None
    return distributed


def connect(scheduler):
    """``(client, own)``: a Dask client for ``scheduler`` (an address or a Client), and whether we made it."""
    Client = _distributed().Client
    if isinstance(scheduler, Client):
        return scheduler, False
    try:
        return Client(scheduler, timeout="20s"), True
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise RegionsError(
            f"expected a reachable Dask scheduler, got {scheduler!r} ({type(exc).__name__})"
        ) from None


class DaskRunner:
    """Runs tasks on a Dask distributed cluster.

    Parameters
    ----------
    scheduler : str or distributed.Client
        The scheduler's address (``tcp://host:8786``) or a connected client.
    max_seconds : float, optional, keyword-only
        Kept for the caller's task function (Dask itself sets no limit).
    """

    def __init__(self, scheduler, *, max_seconds: float | None = None):
        _distributed()
        if max_seconds is not None and not (max_seconds > 0):
            raise RegionsError(f"expected max_seconds > 0, got {max_seconds!r}")
        self.scheduler = scheduler
        self.max_seconds = max_seconds

    def results(self, fn: Callable, items: Sequence[tuple[str, tuple]], *, pure: bool,
                shared: tuple = ()) -> Iterator:
        """Yield ``(key, fn(*shared, *args))`` per ``(key, args)`` item, in completion order.

        ``key`` is the Dask key of the task: with ``pure=True`` it must name
        the work (the same key, the same result), so a rerun or a retry
        after a lost worker is harmless.  ``shared`` arguments (a network)
        are sent to the cluster once, not with every task.
        """
        from distributed import as_completed

        client, own = connect(self.scheduler)
        futures = {}
        try:
            common = [client.scatter(x, broadcast=False) for x in shared] if shared else []
            for key, args in items:
                fut = client.submit(fn, *common, *args, key=key, pure=pure)
                futures[fut.key] = (key, fut)
            for fut in as_completed([f for _, f in futures.values()]):
                yield futures[fut.key][0], fut.result()
        finally:
            for _, fut in futures.values():
                if not fut.done():
                    fut.cancel()
            if own:
                client.close()
