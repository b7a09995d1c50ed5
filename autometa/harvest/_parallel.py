"""Run jobs in this process, in joblib worker processes or on a Dask cluster, yielding
each result as soon as it is ready."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

from autometa.exceptions import HarvestError

T = TypeVar("T")
R = TypeVar("R")
#: How often a joblib worker checks that the harvest's process is still its parent.
WATCH_SECONDS = 0.5
#: Items in flight per worker (or Dask thread): one running, one queued behind it.
IN_FLIGHT_PER_WORKER = 2


def run_unordered(
    fn: Callable[[T], R], items: Iterable[T], *, workers: int = 1, scheduler: Any = None
) -> Iterator[R]:
    """``fn`` of each item, in this process, in joblib worker processes, or on a Dask
    cluster (``scheduler``: its address, or a connected ``distributed.Client``), yielding
    each result as soon as it is ready (in completion order).

    ``items`` is read lazily, a few items ahead of the workers: IN_FLIGHT_PER_WORKER per
    worker (or Dask thread) at first, then more as results come in. joblib reads them
    ``workers`` at a time from its result thread, so advancing ``items`` must not depend
    on the calling thread. Closing the iterator early stops the work in flight."""
    if isinstance(scheduler, str):
        with dask_client(scheduler) as client:
            yield from _run_dask(fn, items, client)
    elif scheduler is not None:
        yield from _run_dask(fn, items, scheduler)
    elif workers <= 1:
        for item in items:
            yield fn(item)
    else:
        from joblib import Parallel, delayed

        parallel = Parallel(
            n_jobs=workers,
            return_as="generator_unordered",
            batch_size=1,
            pre_dispatch=f"{IN_FLIGHT_PER_WORKER} * n_jobs",
        )
        guarded = _Orphanless(fn, os.getpid())
        yield from parallel(delayed(guarded)(item) for item in items)


class _Orphanless:
    """``fn`` run in a worker process that ends itself within a second of its parent's
    death (joblib's workers otherwise finish their work and idle for minutes)."""

    def __init__(self, fn: Callable[[Any], Any], parent: int) -> None:
        self.fn, self.parent = fn, parent

    def __call__(self, item: Any) -> Any:
        if os.getpid() != self.parent:
            _watch_parent(self.parent)
        return self.fn(item)


_WATCHED: set[int] = set()


def _watch_parent(parent: int) -> None:
    """Start (once per process) a thread that exits the process when ``parent`` is gone."""
    if parent in _WATCHED:
        return
    _WATCHED.add(parent)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_SECONDS)
        os._exit(1)  # the harvest's process died (kill -9): its work is lost anyway

    threading.Thread(target=watch, name="autometa-orphan-watch", daemon=True).start()


@contextlib.contextmanager
def dask_client(scheduler: str) -> Iterator[Any]:
    """A ``distributed.Client`` of the scheduler at ``scheduler`` (tcp://HOST:PORT), closed
    on exit; HarvestError when the address is malformed or the scheduler unreachable."""
    try:
        from distributed import Client
        from distributed.comm import get_address_host_port
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise HarvestError("--scheduler needs dask: pip install 'autometa[dask]'") from exc
    try:
        get_address_host_port(scheduler)  # what Client would trip on, without a half-made client
    except ValueError as exc:
        raise HarvestError(
            f"bad Dask scheduler address {scheduler!r} ({exc}); expected tcp://HOST:PORT"
        ) from exc
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, ValueError) as exc:
        raise HarvestError(f"cannot reach Dask scheduler {scheduler}: {exc}") from exc
    try:
        yield client
    finally:
        client.close()


def _run_dask(fn: Callable[[T], R], items: Iterable[T], client: Any) -> Iterator[R]:
    """Futures on the cluster, topped up to IN_FLIGHT_PER_WORKER per worker thread (the
    cluster's size is read again as each finishes); dropped when the iterator closes."""
    from distributed import as_completed

    source = iter(items)
    running = as_completed()

    def top_up() -> None:
        slots = IN_FLIGHT_PER_WORKER * max(1, sum(client.nthreads().values()))
        new = islice(source, max(0, slots - running.count()))
        running.update([client.submit(fn, item, pure=False) for item in new])

    try:
        top_up()
        for future in running:
            result = future.result()
            future.release()
            top_up()
            yield result
    finally:
        running.clear()  # the scheduler forgets futures nobody holds
