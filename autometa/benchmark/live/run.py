"""Run the live check: every method on every table, on the same folds, cell by cell, with
finished cells taken from (and written to) a resumable cache."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from autometa.benchmark.live.cache import Cache, protocol_id
from autometa.benchmark.live.factories import MethodUnavailable
from autometa.benchmark.live.folds import folds_id, make_folds
from autometa.benchmark.live.methods import (
    METHODS,
    CellContext,
    LiveSettings,
    Log,
    check_methods,
    method_runner,
)
from autometa.benchmark.live.report import LiveReport
from autometa.benchmark.live.single_best import single_best_configs
from autometa.benchmark.live.tasks import DEFAULT_DATASETS, Task, load_tasks

SingleBestParams = Mapping[str, Mapping[str, Any] | None]


def live_check(
    index: str | Path | Sequence[Task],
    methods: Sequence[str] = METHODS,
    *,
    datasets: Sequence[str] = DEFAULT_DATASETS,
    settings: LiveSettings | None = None,
    cache: Cache | str | Path | None = None,
    store: str | None = None,
    single_best: SingleBestParams | None = None,
    log: Log | None = None,
) -> LiveReport:
    """Score LightGBM hyperparameters chosen by each method on each table, all by the mean
    of the same cross-validation (ROC AUC, one-vs-rest macro for multiclass; RMSE).

    ``index``: a corpus index CSV (such as ``corpus/holdout_index.csv``; its ``datasets``
    are read, typed and subsampled) or tables made by :func:`make_task`. ``cache``: a
    :class:`Cache` or the path of its JSON file; cells computed under the same protocol are
    taken from it, new ones written as they finish (None: nothing is kept). The
    ``single_best`` configurations per task kind are read from the knowledge base (the
    shipped snapshot and the user's store, or ``store``) unless given. ``log`` receives
    progress lines. LightGBM's threads are limited to ``settings.n_jobs``.
    """
    from threadpoolctl import threadpool_limits

    settings = settings or LiveSettings()
    check_methods(methods)
    log = log or _silent
    if isinstance(index, str | Path):
        tasks = load_tasks(index, datasets, max_rows=settings.max_rows, seed=settings.seed)
        log(f"loaded {len(tasks)} datasets")
    else:
        tasks = list(index)
    info: dict[str, dict[str, Any] | None] = {}
    if single_best is None and "single_best" in methods:
        single_best, info = _single_best_from_kb(store, tasks)
        log(f"single best: {json.dumps(info)}")
    cache = cache if isinstance(cache, Cache) else Cache(cache)
    with threadpool_limits(settings.n_jobs):
        report = run_live_check(
            tasks, methods, settings=settings, single_best=single_best, cache=cache, log=log
        )
    return replace(report, single_best=info)


def _single_best_from_kb(
    store: str | None, tasks: Sequence[Task]
) -> tuple[dict[str, dict[str, Any] | None], dict[str, dict[str, Any] | None]]:
    """(params per task kind, what was chosen) from the knowledge base, the checked tables'
    groups left out."""
    from autometa.store.knowledge import knowledge_base

    kb = knowledge_base(store)
    chosen = single_best_configs(kb, exclude_groups=[t.group for t in tasks if t.group])
    params = {k: None if best is None else best.params for k, best in chosen.items()}
    return params, {k: None if best is None else asdict(best) for k, best in chosen.items()}


def run_live_check(
    tasks: Sequence[Task],
    methods: Sequence[str] = METHODS,
    *,
    settings: LiveSettings | None = None,
    single_best: SingleBestParams | None = None,
    cache: Cache | None = None,
    log: Log | None = None,
) -> LiveReport:
    """Score every method on every prepared table with the same folds (:func:`live_check`
    without the loading). A method that cannot run here is skipped with a note; a cell
    that fails holds its error and is not cached."""
    settings = settings or LiveSettings()
    cache = cache or Cache(None)
    folds = {t.name: make_folds(t, settings.n_folds, settings.seed) for t in tasks}
    cells: dict[str, dict[str, dict[str, Any]]] = {t.name: {} for t in tasks}
    notes: dict[str, str] = {}
    total, done = len(tasks) * len(methods), 0
    for method in methods:
        for task in tasks:
            done += 1
            ctx = CellContext(
                task=task,
                folds=folds[task.name],
                settings=settings,
                single_best=single_best or {},
                cache=cache,
                log=log or _silent,
                where=f"({done}/{total}) {task.name} {method}",
            )
            cell = _run_cell(method, ctx, notes)
            if cell is not None:
                cells[task.name][method] = cell
    return LiveReport(
        tasks=list(tasks),
        methods=list(methods),
        settings=settings,
        cells=cells,
        notes=notes,
        folds={name: folds_id(f) for name, f in folds.items()},
    )


def _run_cell(method: str, ctx: CellContext, notes: dict[str, str]) -> dict[str, Any] | None:
    """One cell: from the cache when complete under the same protocol, else computed and
    cached; ``{"error": ...}`` when it fails, None when the method is unavailable."""
    try:
        method_id, runner = method_runner(method, ctx)
    except MethodUnavailable as exc:
        notes.setdefault(method, str(exc))
        ctx.log(f"{ctx.where}: skipped: {exc}")
        return None
    s, name = ctx.settings, ctx.task.name
    protocol = protocol_id(ctx.task, method_id, n_folds=s.n_folds, seed=s.seed, n_jobs=s.n_jobs)
    cached = ctx.cache.get(name, method, protocol)
    if cached is not None and cached.get("complete"):
        ctx.log(f"{ctx.where}: cached {cached['score']:.6g}")
        return cached
    start = time.perf_counter()
    try:
        result = runner(protocol, cached)
    except Exception as exc:
        ctx.log(f"{ctx.where}: error {type(exc).__name__}: {exc}")
        return {"error": f"{type(exc).__name__}: {exc}"}
    seconds = time.perf_counter() - start + result.get("resumed_seconds", 0.0)
    cell = {
        **result,
        "protocol": protocol,
        "method_id": method_id,
        "complete": True,
        "wall_seconds": seconds,
    }
    ctx.cache.put(name, method, cell)
    ctx.log(f"{ctx.where}: {cell['score']:.6g} in {cell['wall_seconds']:.1f} s")
    return cell


def _silent(message: str) -> None:
    """A log that drops every line."""
