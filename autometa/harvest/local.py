"""Local harvest: evaluate a fixed design of configurations on every task of a corpus.

Resumable and idempotent: every finished (configuration, task) unit is written to the store
in one transaction as soon as it arrives, and a re-run skips units already in the store.
Workers never touch the store; only this process writes, so any number of workers
(joblib processes or a Dask cluster) is safe. Each unit is claimed in the store just before
it is dispatched, so concurrent harvests of one store share the work instead of repeating it.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

from autometa.exceptions import AutometaError, HarvestError, StoreError
from autometa.harvest._claims import claimed, owner_name, stale_after, unit_claim
from autometa.harvest._parallel import dask_client, run_unordered
from autometa.harvest._register import _load, register_task
from autometa.harvest.corpus import CorpusEntry
from autometa.harvest.evaluate import FoldResult, evaluate_config

if TYPE_CHECKING:
    from autometa.store.sql import Store

DEFAULT_FAMILIES: dict[str, int] = {
    "lightgbm": 128,
    "random_forest": 32,
    "extra_trees": 32,
    "hist_gradient_boosting": 32,
    "linear": 32,
}


@dataclass(frozen=True)
class Unit:
    """One configuration to cross-validate on one task (all folds)."""

    task_id: int
    config_id: int
    entry: CorpusEntry
    task_type: str
    family: str
    params: dict[str, Any]
    n_folds: int
    seed: int
    timeout: float | None
    repeat: int = 0
    fingerprint: str = ""  # the task's; a worker refuses data that no longer has it

    @property
    def folds(self) -> range:
        """The stored fold numbers of this unit: repeat r holds r * n_folds ... + n_folds - 1."""
        return range(self.repeat * self.n_folds, (self.repeat + 1) * self.n_folds)


@dataclass
class HarvestSummary:
    """What a harvest run did."""

    tasks: int = 0
    n_folds: int = 3
    units_total: int = 0
    units_skipped: int = 0
    units_claimed_elsewhere: int = 0  # left to another harvest running on the same store
    units_run: int = 0
    rows_written: int = 0
    errors: int = 0
    timeouts: int = 0
    seconds: float = 0.0
    failed_tasks: dict[str, str] = field(default_factory=dict)

    @property
    def evaluations_per_minute(self) -> float:
        """Configuration-fold evaluations (one fit and its scores) finished per wall minute."""
        return 60.0 * self.units_run * self.n_folds / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "evaluations_per_minute": self.evaluations_per_minute}


def design(family: str, task_type: str, n: int, seed: int) -> list[dict[str, Any]]:
    """The library default followed by ``n - 1`` space-filling configurations."""
    from autometa.spaces import get_space

    space = get_space(family)
    return [space.default(task_type), *space.design(task_type, max(n - 1, 0), seed=seed)]


def run_unit(unit: Unit) -> tuple[Unit, list[FoldResult]]:
    """Worker entry point: load the task (cached) and cross-validate the configuration.

    Repeat r of the cross-validation splits the rows, and seeds the estimator, with
    ``seed + r`` (repeat 0 is the plain k-fold of ``seed``). BLAS/OpenMP pools are held to
    one thread: parallelism comes from the workers, and oversubscribed OpenMP
    (HistGradientBoosting) is many times slower on a busy machine."""
    from threadpoolctl import threadpool_limits

    dataset = _load(unit.entry.path, unit.entry.target, unit.task_type)
    if unit.fingerprint and dataset.fingerprint != unit.fingerprint:
        raise HarvestError(
            f"{unit.entry.path} changed during the harvest (fingerprint {unit.fingerprint} "
            f"when it was registered, {dataset.fingerprint} now); nothing of it after the "
            "change was stored: run the harvest again"
        )
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = evaluate_config(
            dataset.X,
            dataset.y,
            unit.task_type,
            unit.family,
            unit.params,
            n_folds=unit.n_folds,
            seed=unit.seed + unit.repeat,
            timeout=unit.timeout,
        )
    return unit, results


def plan_units(
    store: Store,
    corpus: Sequence[CorpusEntry],
    families: Mapping[str, int],
    *,
    n_folds: int,
    seed: int,
    timeout: float | None,
    summary: HarvestSummary,
    progress: Callable[[str], None] | None = None,
    repeats: int = 1,
) -> list[Unit]:
    """Register tasks and configurations; return the units not yet in the store.

    Units are ordered family by family (the first family on every task before the next),
    so a partial harvest is dense for the most important family first; a unit is one
    configuration on one task for one repeat of the cross-validation.
    """
    from autometa.spaces import get_space

    tasks = _register_tasks(store, corpus, seed=seed, summary=summary, progress=progress)
    units: list[Unit] = []
    config_ids: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = {}
    for family, n_configs in families.items():
        space = get_space(family)
        for task_id, task_type, entry, fingerprint in tasks:
            key = (family, task_type)
            if key not in config_ids:
                config_ids[key] = [
                    (
                        store.add_configuration(
                            family, params, space.version, space.config_hash(params)
                        ),
                        params,
                    )
                    for params in design(family, task_type, n_configs, seed)
                ]
            done = store.completed(task_id, family)
            for config_id, params in config_ids[key]:
                for repeat in range(repeats):
                    unit = Unit(
                        task_id,
                        config_id,
                        entry,
                        task_type,
                        family,
                        params,
                        n_folds,
                        seed,
                        timeout,
                        repeat,
                        fingerprint,
                    )
                    summary.units_total += 1
                    if all((config_id, fold) in done for fold in unit.folds):
                        summary.units_skipped += 1
                    else:
                        units.append(unit)
    return units


def _register_tasks(
    store: Store,
    corpus: Sequence[CorpusEntry],
    *,
    seed: int,
    summary: HarvestSummary,
    progress: Callable[[str], None] | None,
) -> list[tuple[int, str, CorpusEntry, str]]:
    """(task id, task type, entry, fingerprint) of each corpus task that loads; the others
    are noted in ``summary.failed_tasks`` (raises when none loads, see :func:`_no_task_loaded`)."""
    tasks: list[tuple[int, str, CorpusEntry, str]] = []
    failures: list[tuple[str, Exception]] = []
    described = store.metafeature_names()
    for entry in corpus:
        if progress:
            progress(entry.name)
        try:
            task_id, task_type, fingerprint = register_task(
                store, entry, seed=seed, described=described
            )
        except Exception as exc:  # one unreadable dataset must not stop the harvest
            summary.failed_tasks[entry.name] = f"{type(exc).__name__}: {exc}"
            failures.append((entry.name, exc))
            continue
        tasks.append((task_id, task_type, entry, fingerprint))
    summary.tasks = len(tasks)
    if failures and not tasks:
        _no_task_loaded(failures)
    return tasks


def _no_task_loaded(failures: Sequence[tuple[str, Exception]]) -> None:
    """Raise when every corpus task failed to load: HarvestError when each failure is a
    user mistake (bad target, unreadable file, ...), else the first error itself."""
    name, first = failures[0]
    message = f"no task could be loaded ({len(failures)} of {len(failures)} failed); {name}"
    if all(isinstance(exc, AutometaError | OSError) for _, exc in failures):
        raise HarvestError(f"{message}: {first}") from first
    first.add_note(f"{message} failed with this error")
    raise first


def rows_for(unit: Unit, results: Iterable[FoldResult]) -> list[Any]:
    """Store rows (one per fold and metric) for a finished unit."""
    from autometa.store import EvaluationRecord

    rows = []
    for result in results:
        for metric, value in result.scores.items():
            rows.append(
                EvaluationRecord(
                    task_id=unit.task_id,
                    config_id=unit.config_id,
                    fold=unit.folds[result.fold],
                    metric=metric,
                    value=value,
                    fit_seconds=result.fit_seconds,
                    status=result.status,
                    message=result.message,
                    source="local",
                )
            )
    return rows


def harvest_local(
    store: Store,
    corpus: Sequence[CorpusEntry],
    families: Mapping[str, int] | None = None,
    *,
    n_folds: int = 3,
    seed: int = 0,
    workers: int = 1,
    scheduler: str | None = None,
    timeout: float | None = 300.0,
    max_units: int | None = None,
    progress: bool = True,
    repeats: int = 1,
    summary: HarvestSummary | None = None,
) -> HarvestSummary:
    """Evaluate the design of each family on every corpus task and record it in ``store``.

    ``repeats`` > 1 runs repeated k-fold cross-validation (see :func:`run_unit`); the
    stored fold numbers then run from 0 to ``repeats * n_folds - 1``, and a store
    harvested with fewer repeats only gets the missing ones. ``summary``, when given, is
    filled in as the run goes (so a caller that interrupts it knows what was saved).
    A malformed or unreachable ``scheduler`` raises HarvestError before any task is
    loaded; so does a corpus none of whose tasks loads. A unit another running harvest
    has claimed is left to it (``summary.units_claimed_elsewhere``); ``max_units`` counts
    the units this run evaluates.
    """
    from tqdm.auto import tqdm

    families = _checked(families, max_units)
    summary = summary if summary is not None else HarvestSummary()
    summary.n_folds = n_folds
    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        # connect first: a bad address fails before any task is loaded
        client = stack.enter_context(dask_client(scheduler)) if scheduler else None
        with tqdm(total=len(corpus), desc="tasks", unit="task", disable=not progress) as bar:
            units = plan_units(
                store,
                corpus,
                families,
                n_folds=n_folds,
                seed=seed,
                timeout=timeout,
                summary=summary,
                repeats=repeats,
                progress=lambda name: (bar.set_postfix_str(name[-30:]), bar.update(1)),
            )
        _run_claimed(
            store,
            units,
            summary,
            client,
            workers=workers,
            stale=stale_after(timeout, n_folds),
            max_units=max_units,
            progress=progress,
        )
    summary.seconds = time.perf_counter() - start
    return summary


def _checked(families: Mapping[str, int] | None, max_units: int | None) -> dict[str, int]:
    """The families to harvest (the defaults when none); SpaceError naming the valid
    families for an unknown one, HarvestError for a max_units below 1."""
    from autometa.spaces import get_space

    families = dict(families or DEFAULT_FAMILIES)
    for family in families:
        get_space(family)
    if max_units is not None and max_units < 1:
        raise HarvestError(f"max_units must be at least 1, got {max_units}")
    return families


def _run_claimed(
    store: Store,
    units: Sequence[Unit],
    summary: HarvestSummary,
    client: Any,
    *,
    workers: int,
    stale: float,
    max_units: int | None,
    progress: bool,
) -> None:
    """Claim each unit just before it is dispatched, evaluate it, record it; on the way out
    (done, Ctrl-C or an error) stop the work in flight and release this run's claims."""
    from tqdm.auto import tqdm

    owner = owner_name()
    total = len(units) if max_units is None else min(len(units), max_units)
    with contextlib.ExitStack() as stack:
        bar = stack.enter_context(
            tqdm(total=total, desc="evaluations", unit="cfg", disable=not progress)
        )
        stack.callback(_release, store, owner)
        todo = claimed(store, units, owner, summary, stale=stale, on_skip=bar.update)
        work = run_unordered(run_unit, islice(todo, max_units), workers=workers, scheduler=client)
        results = stack.enter_context(contextlib.closing(work))
        _record(store, results, summary, owner, on_unit=bar.update)


def _release(store: Store, owner: str) -> None:
    """Release the claims ``owner`` still holds (units dispatched and not written, after an
    interruption or an error); a store that cannot be reached lets them go stale instead."""
    with contextlib.suppress(StoreError):
        store.release_claims(owner)


def _record(
    store: Store,
    results: Iterator[tuple[Unit, list[FoldResult]]],
    summary: HarvestSummary,
    owner: str,
    on_unit: Callable[[], Any],
) -> None:
    """Write each finished unit's rows to the store as it arrives, releasing its claim in
    the same transaction, counting in ``summary``."""
    for unit, folds in results:
        summary.rows_written += store.add_evaluations(
            rows_for(unit, folds), release=unit_claim(unit, owner)
        )
        summary.units_run += 1
        summary.errors += sum(r.status == "error" for r in folds)
        summary.timeouts += sum(r.status == "timeout" for r in folds)
        on_unit()
