"""``harvest_openml``: the library entry point of ``autometa harvest openml``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from autometa.exceptions import HarvestError
from autometa.harvest.openml._client import Client, openml_settings
from autometa.harvest.openml._download import DataUnavailable
from autometa.harvest.openml._harvest import (
    FUNCTIONS,
    PAGE_SIZE,
    OpenMLSummary,
    _Job,
    _Setups,
    resolve_flows,
    resolve_tasks,
)
from autometa.harvest.openml._tasks import NotSupervised, OpenMLTask, register, stored_tasks

if TYPE_CHECKING:
    from autometa.store.sql import Store


def check_function(function: str | None) -> None:
    """HarvestError for an evaluation function autometa has no metric for."""
    if function is not None and function not in FUNCTIONS:
        raise HarvestError(
            f"unknown --function {function!r}; valid: {', '.join(FUNCTIONS)} "
            "(default: area_under_roc_curve for classification, root_mean_squared_error "
            "for regression)"
        )


def harvest_openml(
    store: Store,
    *,
    tasks: Sequence[int] = (),
    suite: int | str | None = None,
    flows: Sequence[int | str] = (),
    function: str | None = None,
    max_evaluations: int | None = None,
    server: str | None = None,
    apikey: str | None = None,
    page_size: int = PAGE_SIZE,
    retries: int = 5,
    backoff: float = 2.0,
    progress: bool = False,
    download_data: bool = False,
) -> OpenMLSummary:
    """Harvest OpenML's evaluations of ``flows`` (ids or names; all flows when empty) on
    ``tasks`` and the tasks of ``suite`` into ``store``; with ``flows`` alone, on every
    task OpenML lists them on (with each default function unless ``function`` is given;
    tasks other than supervised classification/regression are counted as skipped).

    Tasks are stored with OpenML's data qualities as meta-features; setups of flows that
    map to an autometa family become configurations (see ``_translate``), other setups
    configurations of ``openml:<class>`` families (see ``_inferred``); evaluations are
    stored per fold (``fold = repeat x folds + fold``), or as fold -1 where OpenML lists
    only the run's score. Each page of evaluations (at most ``page_size``, OpenML's cap
    10,000) is one transaction, so an interrupted harvest loses at most the page in
    flight; a rerun writes only what is missing and does not download stored tasks again.
    ``max_evaluations`` caps the runs read. ``download_data``: each new task's data is
    downloaded and typed by autometa, which stores its own fingerprint and meta-features
    (the same task as a local harvest of that table) instead of OpenML's dataset id and
    qualities. A failing task is reported in
    ``summary.errors`` (one line) and the others go on; an error that stops every task
    (the server is gone, an unknown flow or suite) raises HarvestError.
    """
    _check(tasks, suite, flows, function, page_size)
    from autometa.metafeatures import metafeature_names

    summary = OpenMLSummary()
    with openml_settings(server, apikey) as cache:
        import openml

        client = Client(openml.config.server, retries=retries, backoff=backoff, cache_root=cache)
        try:
            flow_ids = resolve_flows(client, flows) if flows else None
            budget = math.inf if max_evaluations is None else max_evaluations
            setups = _Setups(store, client, summary)
            job = _Job(store, client, setups, summary, flow_ids, function, page_size, budget)
            job.download = download_data
            names = sorted({n for t in ("binary", "multiclass") for n in metafeature_names(t)})
            if tasks or suite is not None:
                _run(job, resolve_tasks(client, tasks, suite), names, progress)
            else:
                _run_flows(job, names, progress)
        finally:
            summary.requests_retried = client.retried
    return summary


def _check(
    tasks: Sequence[int],
    suite: int | str | None,
    flows: Sequence[int | str],
    function: str | None,
    page_size: int,
) -> None:
    check_function(function)
    if not tasks and suite is None and not flows:
        raise HarvestError("nothing to harvest: give OpenML task ids, a suite or flows")
    if not 1 <= page_size <= PAGE_SIZE:
        raise HarvestError(f"page_size must be within 1..{PAGE_SIZE}, got {page_size}")


def _run(job: _Job, task_ids: list[int], names: list[str], progress: bool) -> None:
    from tqdm.auto import tqdm

    known = stored_tasks(job.store)
    bar = tqdm(task_ids, desc="OpenML tasks", unit="task", disable=not progress)
    job.progress = bar
    try:
        for tid in bar:
            if job.budget <= 0:
                break
            try:
                job.task(_task(job, known, tid, names))
            except HarvestError as exc:
                if _unreachable(exc):
                    raise  # every other task would fail too
                job.summary.errors.append(str(exc))
    finally:
        bar.close()


def _run_flows(job: _Job, names: list[str], progress: bool) -> None:
    """The flows' evaluations on every task OpenML lists; tasks of other types than
    supervised classification and regression are skipped (counted), other failing tasks
    are reported once each and their runs left out."""
    from tqdm.auto import tqdm

    known = stored_tasks(job.store)
    seen: dict[int, OpenMLTask | None] = {}

    def task(tid: int) -> OpenMLTask | None:
        if tid not in seen:
            seen[tid] = None
            try:
                seen[tid] = _task(job, known, tid, names)
            except NotSupervised:
                job.summary.tasks_skipped += 1
            except HarvestError as exc:
                if _unreachable(exc):
                    raise
                job.summary.errors.append(str(exc))
        return seen[tid]

    with tqdm(desc="OpenML runs", unit="run", disable=not progress) as bar:
        job.progress = bar
        job.flows_everywhere(task)


def _task(job: _Job, known: dict[int, OpenMLTask], tid: int, names: list[str]) -> OpenMLTask:
    """The stored task of OpenML task ``tid``, registered first when new."""
    if tid in known:
        job.summary.tasks_stored += 1
    else:
        known[tid] = register(
            job.store, job.client, tid, server=job.client.server, names=names, download=job.download
        )
        job.summary.tasks_added += 1
    return known[tid]


def _unreachable(exc: HarvestError) -> bool:
    """The retries of a request ran out: the server is unreachable for every task (not so
    for one task's data file: the other tasks go on)."""
    if isinstance(exc, DataUnavailable):
        return False
    return "failed" in str(exc) and "times; last" in str(exc)
