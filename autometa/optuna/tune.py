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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from optuna.trial import TrialState

from autometa.exceptions import SearchError

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
    cv: int = 5,
    sampler: str = "meta",
    warm_start: int = 5,
    storage: str | None = None,
    study_name: str | None = None,
    n_jobs: int = 1,
    seed: int = 0,
    recommender: Any = None,
    callbacks: list[Callable[..., None]] | None = None,
) -> TuneResult:
    """Search ``n_trials`` configurations of ``model`` on ``data`` by ``cv``-fold CV.

    ``sampler``: ``meta`` (:class:`~autometa.optuna.MetaSampler`, its first ``warm_start``
    trials the recommendations), ``tpe``, ``random`` or ``ws-cmaes`` (CMA-ES warm-started
    from the nearest stored tasks), each with the top ``warm_start`` recommendations
    enqueued first. ``storage``/``study_name``: an Optuna
    RDB study to create or continue.
    """
    import optuna

    from autometa.harvest.evaluate import fold_indices
    from autometa.recommendation.recommender import dataset_of

    _check(n_trials, cv, sampler, warm_start, n_jobs)
    dataset = dataset_of(data, y, target=target)
    rdb = _open_storage(storage)  # before the recommendation's work
    chosen, result = _sampler(dataset, model, metric, sampler, warm_start, seed, recommender)
    folds = fold_indices(dataset.y, dataset.task_type, cv, seed)
    attrs = {
        "fingerprint": dataset.fingerprint,
        "model": result.model,
        "metric": result.metric,
        "folds": _folds_hash(folds),
    }
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        storage=rdb, study_name=study_name, direction=result.direction,
        sampler=chosen, load_if_exists=True,
    )  # fmt: skip
    _claim(study, attrs, result.direction)
    if sampler != "meta" and not study.trials:
        result.enqueue(study)  # the recommendations first (none with warm_start=0)
    remaining = n_trials - len(_finished(study))
    if remaining > 0:
        stop = optuna.study.MaxTrialsCallback(n_trials, states=_FINISHED)  # across processes
        study.optimize(
            _objective(dataset, result, folds, seed), n_trials=remaining, timeout=timeout,
            n_jobs=n_jobs, callbacks=[stop, *(callbacks or [])], catch=(ValueError,),
        )  # fmt: skip
    return _result(study, dataset, result, cv)


def _check(n_trials: int, cv: int, sampler: str, warm_start: int, n_jobs: int) -> None:
    if sampler not in SAMPLERS:
        raise SearchError(f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}")
    if n_trials < 1 or warm_start < 0 or n_jobs < 1:
        raise SearchError("n_trials and n_jobs must be >= 1 and warm_start >= 0")
    if cv < 2:
        raise SearchError(f"cv must be at least 2 folds, got {cv}")


def _sampler(
    dataset: Any,
    model: str,
    metric: str | None,
    sampler: str,
    warm_start: int,
    seed: int,
    recommender: Any,
) -> tuple[Any, Any]:
    """The Optuna sampler and the recommendation the search starts from."""
    import optuna

    from autometa.optuna.warm import meta_sampler
    from autometa.recommendation.recommender import Recommender

    rec = recommender or Recommender()
    k = max(warm_start, 1)
    if sampler in ("meta", "ws-cmaes"):
        chosen, result = meta_sampler(
            dataset, model=model, metric=metric, k=k, recommender=rec, seed=seed
        )
        if sampler == "meta":
            return chosen, result
        from autometa.optuna.wscmaes import ws_cmaes_sampler

        return ws_cmaes_sampler(chosen.prior, result.direction, seed=seed), result
    result = rec.recommend(dataset, model=model, metric=metric, k=k)
    if warm_start == 0:
        result.recommendations.clear()
    if sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed), result
    return optuna.samplers.RandomSampler(seed=seed), result


def _objective(
    dataset: Any, result: Any, folds: list[tuple[np.ndarray, np.ndarray]], seed: int
) -> Callable[[Any], float]:
    from autometa.harvest.evaluate import evaluate_config
    from autometa.optuna.space import suggest

    distributions = result.distributions()

    def objective(trial: Any) -> float:
        config = suggest(trial, distributions)
        scores = evaluate_config(
            dataset.X, dataset.y, dataset.task_type, result.model, config, seed=seed,
            folds=folds,
        )  # fmt: skip
        values = [r.scores.get(result.metric) for r in scores if r.status == "ok"]
        if len(values) < len(folds) or any(v is None or not np.isfinite(v) for v in values):
            failed = next((r.message for r in scores if r.status != "ok"), "no score")
            raise ValueError(f"configuration failed on a fold: {failed}")
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


def _result(study: Any, dataset: Any, result: Any, cv: int) -> TuneResult:
    from optuna.trial import TrialState

    from autometa.spaces import get_space

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        raise SearchError("no trial finished: every configuration failed or the time ran out")
    best = study.best_trial
    space = get_space(result.model)
    return TuneResult(
        model=result.model,
        metric=result.metric,
        direction=result.direction,
        task=result.task,
        best_params=space.estimator_params(best.params, dataset.task_type, random_state=0),
        best_config=dict(best.params),
        best_value=float(best.value),
        n_folds=cv,
        trials=[
            {"number": t.number, "value": t.value, "state": t.state.name.lower()}
            for t in _finished(study)
        ],
    )
