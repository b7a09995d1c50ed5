"""Run jobs in this process, in joblib worker processes or on a Dask cluster, yielding
each result as soon as it is ready."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from autometa.exceptions import HarvestError

T = TypeVar("T")
R = TypeVar("R")
#: How often a joblib worker checks that the harvest's process is still its parent.
WATCH_SECONDS = 0.5


def run_unordered(
    fn: Callable[[T], R], items: Sequence[T], *, workers: int = 1, scheduler: Any = None
) -> Iterator[R]:
    """``fn`` of each item, in this process, in joblib worker processes, or on a Dask
    cluster (``scheduler``: its address, or a connected ``distributed.Client``), yielding
    each result as soon as it is ready (in completion order)."""
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

        parallel = Parallel(n_jobs=workers, return_as="generator_unordered", batch_size=1)
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


def _run_dask(fn: Callable[[T], R], items: Sequence[T], client: Any) -> Iterator[R]:
    from distributed import as_completed

    futures = [client.submit(fn, item, pure=False) for item in items]
    for future in as_completed(futures):
        yield future.result()
        future.release()
