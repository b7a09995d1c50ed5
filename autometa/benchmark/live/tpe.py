"""The live check's search reference: cold Optuna TPE over the lightgbm space, each trial
scored by the shared cross-validation, resumable trial by trial."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from autometa.benchmark.live.factories import FAMILY, params_factory
from autometa.benchmark.live.folds import Fold, cross_validate
from autometa.benchmark.live.tasks import Task
from autometa.metrics import DEFAULT_METRICS, direction


def run_tpe(
    task: Task,
    folds: Sequence[Fold],
    n_trials: int,
    *,
    seed: int,
    n_jobs: int,
    fit_timeout: float | None = None,
    done: Sequence[Mapping[str, Any]] = (),
    on_trial: Callable[[dict[str, Any]], None] | None = None,
    sampler: Any = None,
    enqueue: Sequence[Mapping[str, Any]] = (),
    space: str = FAMILY,
) -> dict[str, Any]:
    """The best of ``n_trials`` TPE trials: its score, trial number and parameters.

    ``done`` holds the trials of an interrupted run (params, score); they are replayed into
    the study and only the missing trials are evaluated. ``on_trial`` sees each new trial's
    record. A failing or timed-out configuration fails its trial only; RuntimeError if
    every trial failed. ``sampler`` replaces TPE (e.g. a MetaSampler) and ``enqueue``
    queues configurations as the first trials. ``space``: the lightgbm space, or
    ``"user"``, a broad space written as a user would
    (:mod:`autometa.benchmark.live.user_space`).
    """
    import optuna
    from optuna.trial import TrialState

    from autometa.benchmark.live.user_space import user_distributions, user_factory
    from autometa.spaces import get_space

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if space == "user":
        dists, factory = user_distributions(), user_factory
    else:
        dists, factory = get_space(FAMILY).distributions(task.task_type), params_factory
    study = optuna.create_study(
        direction=direction(DEFAULT_METRICS[task.kind]),
        sampler=sampler or optuna.samplers.TPESampler(seed=seed),
    )
    _replay(study, dists, done)
    for config in enqueue if not done else ():
        study.enqueue_trial(dict(config))
    while len(study.trials) < n_trials:
        trial = study.ask(dists)
        record = _evaluate(study, trial, task, folds, seed, n_jobs, fit_timeout, factory)
        if on_trial is not None:
            on_trial(record)
    completed = [t for t in study.trials if t.state == TrialState.COMPLETE]
    if not completed:
        raise RuntimeError(f"all {len(study.trials)} TPE trials failed")
    best = study.best_trial
    return {"score": float(best.value), "best_trial": best.number, "best_params": best.params}


def _replay(study: Any, dists: Mapping[str, Any], done: Sequence[Mapping[str, Any]]) -> None:
    """Add the recorded trials of an earlier run to ``study``."""
    from optuna.trial import TrialState, create_trial

    for record in done:
        ok = record.get("score") is not None
        study.add_trial(
            create_trial(
                params=dict(record["params"]),
                distributions=dict(dists),
                value=record["score"] if ok else None,
                state=TrialState.COMPLETE if ok else TrialState.FAIL,
            )
        )


def _evaluate(
    study: Any,
    trial: Any,
    task: Task,
    folds: Sequence[Fold],
    seed: int,
    n_jobs: int,
    fit_timeout: float | None,
    make: Callable[..., Any] = params_factory,
) -> dict[str, Any]:
    """Cross-validate one asked trial, tell the study, and return the trial's record."""
    from optuna.trial import TrialState

    record: dict[str, Any] = {"number": trial.number, "params": dict(trial.params)}
    try:
        factory = make(trial.params, task, seed, n_jobs)
        result = cross_validate(factory, task, folds, fit_timeout=fit_timeout)
    except Exception as exc:  # a timeout or a failing configuration fails the trial only
        study.tell(trial, state=TrialState.FAIL)
        record.update(score=None, seconds=None, error=f"{type(exc).__name__}: {exc}")
        return record
    ok = math.isfinite(result["score"])
    study.tell(trial, result["score"] if ok else None, state=None if ok else TrialState.FAIL)
    record.update(
        score=result["score"] if ok else None,
        seconds=result["seconds"],
        fold_scores=result["fold_scores"],
    )
    return record
