"""``tune``: cross-validated hyperparameter search of a dataset, warm-started by autometa.

Every trial is scored on the same folds (seeded; their fingerprint is kept in the study's
user attributes), each configuration fitted exactly as the knowledge base's evaluations fit
it (:func:`autometa.harvest.evaluate.evaluate_config`). A study in RDB storage is resumed by
rerunning the same call: ``n_trials`` counts every finished trial of the study (also when
several processes share it), and a study of another dataset, metric, family or folds is
refused.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from optuna.trial import TrialState

from autometa.exceptions import SearchError
from autometa.optuna.rounds import MODES, stopped_param

SAMPLERS = ("meta", "tpe", "random", "ws-cmaes")
_FINISHED = (TrialState.COMPLETE, TrialState.FAIL)
_ATTR = "autometa"


@dataclass
class TuneResult:
    """The outcome of a search: the best configuration and every trial's value."""

    model: str
    metric: str
    direction: str
    task: dict[str, Any]
    best_params: dict[str, Any]  #: accepted as-is by the family's estimator
    best_config: dict[str, Any]  #: in the family's space
    best_value: float
    n_folds: int
    trials: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def tune(
    data: Any,
    y: Any = None,
    *,
    target: str | None = None,
    model: str = "lightgbm",
    metric: str | None = None,
    n_trials: int = 20,
    timeout: float | None = None,
    cv: int | Sequence[tuple[Any, Any]] = 5,
    sampler: str = "meta",
    warm_start: int = 5,
    storage: str | None = None,
    study_name: str | None = None,
    n_jobs: int = 1,
    seed: int = 0,
    recommender: Any = None,
    callbacks: list[Callable[..., None]] | None = None,
    early_stopping: str = "off",
    exclude_self: bool = False,
    handover: int | None = None,
    fixed: Mapping[str, Any] | None = None,
) -> TuneResult:
    """Search ``n_trials`` configurations of ``model`` on ``data`` by ``cv``-fold CV.

    ``sampler``: ``meta`` (:class:`~autometa.optuna.MetaSampler`, its first ``warm_start``
    trials the recommendations), ``tpe``, ``random`` or ``ws-cmaes`` (CMA-ES warm-started
    from the nearest stored tasks), each with the top ``warm_start`` recommendations
    enqueued first. ``cv``: a number of seeded folds, or the (train, test) index pairs
    themselves. ``storage``/``study_name``: an Optuna RDB study to create or continue.
    ``early_stopping`` (LightGBM: ``holdout`` or ``refit``; default ``off``): the trees
    are set by early stopping on each training fold, up to 4,096, instead of searched
    (:mod:`autometa.optuna.rounds`). ``exclude_self``: leave the dataset's own task group
    out of the knowledge base (benchmarks on stored datasets). ``handover``: MetaSampler's.
    ``fixed``: parameters of the family's space pinned by hand, not searched.
    """
    from autometa.recommendation.recommender import dataset_of

    _check(n_trials, sampler, warm_start, n_jobs, early_stopping)
    dataset = dataset_of(data, y, target=target)
    folds = _folds(cv, dataset, seed)
    rdb = _open_storage(storage)  # before the recommendation's work
    chosen, result = _sampler(
        dataset, model, metric, sampler, warm_start, seed, recommender, early_stopping,
        exclude_self, handover,
    )  # fmt: skip
    rounds = stopped_param(result.model, early_stopping)
    study = _study(rdb, study_name, chosen, result)
    _claim(study, _attrs(dataset, result, folds, rounds and early_stopping), result.direction)
    if sampler != "meta" and not study.trials:
        result.enqueue(study)  # the recommendations first (none with warm_start=0)
    objective = _objective(dataset, result, folds, seed, rounds, early_stopping == "refit", fixed)
    _optimize(study, objective, n_trials, timeout, n_jobs, callbacks or [])
    return _result(study, dataset, result, len(folds), rounds, fixed)


def _optimize(
    study: Any,
    objective: Callable[[Any], float],
    n_trials: int,
    timeout: float | None,
    n_jobs: int,
    callbacks: list[Callable[..., None]],
) -> None:
    """Run the trials the study still lacks (counted across processes sharing it)."""
    import optuna

    remaining = n_trials - len(_finished(study))
    if remaining > 0:
        stop = optuna.study.MaxTrialsCallback(n_trials, states=_FINISHED)
        study.optimize(
            objective, n_trials=remaining, timeout=timeout, n_jobs=n_jobs,
            callbacks=[stop, *callbacks], catch=(ValueError,),
        )  # fmt: skip


def _study(rdb: Any, name: str | None, sampler: Any, result: Any) -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        storage=rdb, study_name=name, direction=result.direction, sampler=sampler,
        load_if_exists=True,
    )  # fmt: skip


def _attrs(dataset: Any, result: Any, folds: list[Any], stopping: str | None) -> dict[str, Any]:
    """What a stored study must match to be continued by this search."""
    return {
        "fingerprint": dataset.fingerprint,
        "model": result.model,
        "metric": result.metric,
        "folds": _folds_hash(folds),
        "early_stopping": stopping or "off",
    }


def _check(n_trials: int, sampler: str, warm_start: int, n_jobs: int, early_stopping: str) -> None:
    if sampler not in SAMPLERS:
        raise SearchError(f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}")
    if n_trials < 1 or warm_start < 0 or n_jobs < 1:
        raise SearchError("n_trials and n_jobs must be >= 1 and warm_start >= 0")
    if early_stopping not in MODES:
        raise SearchError(f"early_stopping must be one of {', '.join(MODES)}")


def _folds(
    cv: int | Sequence[tuple[Any, Any]], dataset: Any, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``cv`` seeded folds of the dataset, or the given (train, test) pairs checked."""
    from autometa.harvest.evaluate import fold_indices

    if isinstance(cv, int | np.integer):
        if cv < 2:
            raise SearchError(f"cv must be at least 2 folds, got {cv}")
        return fold_indices(dataset.y, dataset.task_type, int(cv), seed)
    folds = [(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)) for a, b in cv]
    n = len(dataset.y)
    bad = any(len(a) == 0 or len(b) == 0 or min(a.min(), b.min()) < 0 for a, b in folds)
    if len(folds) < 2 or bad or max(max(a.max(), b.max()) for a, b in folds) >= n:
        raise SearchError(f"cv: give at least 2 (train, test) pairs of row positions < {n}")
    return folds


def _sampler(
    dataset: Any,
    model: str,
    metric: str | None,
    sampler: str,
    warm_start: int,
    seed: int,
    recommender: Any,
    early_stopping: str,
    exclude_self: bool = False,
    handover: int | None = None,
) -> tuple[Any, Any]:
    """The Optuna sampler and the recommendation the search starts from."""
    import optuna

    from autometa.optuna.warm import meta_sampler
    from autometa.recommendation.recommender import Recommender

    rec = recommender or Recommender()
    k = max(warm_start, 1)
    if sampler in ("meta", "ws-cmaes"):
        chosen, result = meta_sampler(
            dataset, model=model, metric=metric, k=k, recommender=rec, seed=seed,
            exclude_self=exclude_self, handover=handover,
        )  # fmt: skip
        if sampler == "meta":
            return chosen, result
        from autometa.optuna.wscmaes import ws_cmaes_sampler

        rounds = stopped_param(result.model, early_stopping)
        unsearched = frozenset({rounds} if rounds else ())
        return ws_cmaes_sampler(chosen.prior, result.direction, seed, exclude=unsearched), result
    result = rec.recommend(dataset, model=model, metric=metric, k=k, exclude_self=exclude_self)
    if warm_start == 0:
        result.recommendations.clear()
    if sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed), result
    return optuna.samplers.RandomSampler(seed=seed), result


def _objective(
    dataset: Any,
    result: Any,
    folds: list[tuple[np.ndarray, np.ndarray]],
    seed: int,
    rounds: str | None,
    refit: bool = False,
    fixed: Mapping[str, Any] | None = None,
) -> Callable[[Any], float]:
    """The trial's mean CV score; with ``rounds`` (the family's number-of-trees parameter)
    that parameter is set by early stopping and its median kept as a user attribute."""
    from autometa.optuna.rounds import early_stopped_fit
    from autometa.optuna.space import suggest
    from autometa.recommendation.race import fold_scores

    distributions = result.distributions()
    for name in [rounds, *(fixed or {})]:
        distributions.pop(name, None)

    def objective(trial: Any) -> float:
        config = {**suggest(trial, distributions), **(fixed or {})}
        fit, fitted = (None, [])
        if rounds:
            fit, fitted = early_stopped_fit(dataset.task_type, seed, refit=refit)
        errors: list[str] = []
        (values,) = fold_scores(
            (dataset.X, dataset.y), dataset.task_type, result.model, {0: config},
            result.metric, seed=seed, n_jobs=1, folds=folds, fit=fit, errors=errors,
        ).values()  # fmt: skip
        if any(v is None for v in values):
            failed = errors[0] if errors else f"no {result.metric} on a fold"
            raise ValueError(f"configuration failed on a fold: {failed}")
        if rounds:
            trial.set_user_attr(rounds, int(np.median(fitted)))
        return float(np.mean(values))

    return objective


def _open_storage(url: str | None) -> Any:
    """Optuna's RDB storage at ``url`` (None: in memory). Two processes opening a new
    database at once race to create its tables: the loser retries."""
    import optuna
    import sqlalchemy.exc

    if url is None:
        return None
    for attempt in range(5):
        try:
            return optuna.storages.RDBStorage(url)
        except sqlalchemy.exc.SQLAlchemyError as exc:
            if attempt == 4:
                first = str(exc).splitlines()[0]
                raise SearchError(f"cannot open the study storage {url!r}: {first}") from exc
            time.sleep(0.2 * (attempt + 1))
    return None  # never reached


def _claim(study: Any, attrs: dict[str, Any], direction: str) -> None:
    """Mark a new study as this search's, or check that a stored one is."""
    stored = study.user_attrs.get(_ATTR)
    if stored is None:
        study.set_user_attr(_ATTR, attrs)
        return
    stored_direction = study.direction.name.lower()
    if stored_direction != direction:
        raise SearchError(
            f"the stored study is set to {stored_direction}, this search to {direction}; "
            "use a new study name"
        )
    for key, value in attrs.items():
        if stored.get(key) != value:
            raise SearchError(
                f"the stored study was run with another {key} ({stored.get(key)!r}, here "
                f"{value!r}); use a new study name or the same data and options"
            )


def _folds_hash(folds: list[tuple[np.ndarray, np.ndarray]]) -> str:
    digest = hashlib.sha256()
    for _, test in folds:
        digest.update(np.asarray(test, dtype=np.int64).tobytes())
    return digest.hexdigest()[:16]


def _finished(study: Any) -> list[Any]:
    return study.get_trials(deepcopy=False, states=_FINISHED)


def _result(
    study: Any,
    dataset: Any,
    result: Any,
    cv: int,
    rounds: str | None,
    fixed: Mapping[str, Any] | None = None,
) -> TuneResult:
    from optuna.trial import TrialState

    from autometa.spaces import get_space

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        raise SearchError("no trial finished: every configuration failed or the time ran out")
    best = study.best_trial
    space = get_space(result.model)
    config = {**best.params, **(fixed or {})}
    params = space.hyperparameters(config, dataset.task_type, random_state=0)
    if rounds and rounds in best.user_attrs:
        params[rounds] = int(best.user_attrs[rounds])
    return TuneResult(
        model=result.model,
        metric=result.metric,
        direction=result.direction,
        task=result.task,
        best_params=params,
        best_config=config,
        best_value=float(best.value),
        n_folds=cv,
        trials=[_trial(t, rounds) for t in _finished(study)],
    )


def _trial(trial: Any, rounds: str | None) -> dict[str, Any]:
    """A finished trial's number, value, state and params (with early-stopped trees)."""
    params = dict(trial.params)
    if rounds and rounds in trial.user_attrs:
        params[rounds] = trial.user_attrs[rounds]
    return {
        "number": trial.number,
        "value": trial.value,
        "state": trial.state.name.lower(),
        "params": params,
    }
