"""The estimators each live-check method fits: LightGBM with the library defaults, FLAML's
zero-shot choice, a fixed configuration, or autometa's recommendation on the training fold.

Every estimator gets the same seed, thread count and ``verbosity=-1``. FLAML is optional: it
is imported when its method runs, and :class:`MethodUnavailable` says why it cannot.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import pandas as pd

from autometa.benchmark.live.folds import Factory
from autometa.benchmark.live.tasks import Task
from autometa.exceptions import AutometaError

#: The model family every method configures.
FAMILY = "lightgbm"


class MethodUnavailable(AutometaError):
    """A method cannot run here (a missing optional package or API); its column is skipped."""


def lgbm_class(task_type: str) -> type:
    """``LGBMRegressor`` or ``LGBMClassifier``."""
    from autometa.spaces import get_space

    return get_space(FAMILY).estimator_class(task_type)


def common_kwargs(seed: int, n_jobs: int) -> dict[str, Any]:
    """What every method's estimator gets: same seed, threads and silence."""
    return {"random_state": seed, "n_jobs": n_jobs, "verbosity": -1}


def default_factory(task: Task, seed: int, n_jobs: int) -> Factory:
    """LightGBM's library defaults."""
    cls = lgbm_class(task.task_type)
    return lambda X, y: cls(**common_kwargs(seed, n_jobs))


def flaml_factory(task: Task, seed: int, n_jobs: int) -> Factory:
    """FLAML's zero-shot estimator (it picks hyperparameters from the training fold in
    ``fit``); MethodUnavailable when ``flaml.default`` cannot be imported (FLAML, or the
    XGBoost it imports, missing: ``pip install 'autometa[bench]'``)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from flaml.default import LGBMClassifier, LGBMRegressor
    except Exception as exc:  # ImportError, or flaml.automl failing on its xgboost import
        raise MethodUnavailable(
            f"flaml.default cannot be imported: {type(exc).__name__}: {exc}"
        ) from exc
    cls = LGBMRegressor if task.kind == "regression" else LGBMClassifier
    return lambda X, y: cls(**common_kwargs(seed, n_jobs))


def flaml_version() -> str:
    """The installed FLAML's version (the method's cache key)."""
    import flaml

    return str(flaml.__version__)


def params_factory(params: Mapping[str, Any], task: Task, seed: int, n_jobs: int) -> Factory:
    """A fixed configuration of the ``lightgbm`` space (space names, e.g. from the store)."""
    from autometa.spaces import get_space

    kwargs = get_space(FAMILY).estimator_params(
        params, task.task_type, random_state=seed, n_jobs=n_jobs
    )
    cls = lgbm_class(task.task_type)
    return lambda X, y: cls(**kwargs)


def resolve_recommend() -> Callable[..., Any]:
    """``autometa.recommend`` (the function), or MethodUnavailable saying why not."""
    import autometa

    try:
        found = autometa.recommend
    except AttributeError as exc:
        raise MethodUnavailable(f"autometa.recommend does not exist ({exc})") from exc
    if isinstance(found, ModuleType):  # a submodule named recommend shadows the function
        found = getattr(found, "recommend", None)
    if not callable(found):
        raise MethodUnavailable(f"autometa.recommend is not a function: {found!r}")
    return found


def autometa_factory(
    task: Task, seed: int, n_jobs: int, default_margin: float | None = None, race: int = 0
) -> Factory:
    """The top-1 of ``autometa.recommend(X_train, y_train, model="lightgbm", k=5)`` asked on
    each training fold (with ``default_margin`` and ``race`` when given)."""
    recommend = resolve_recommend()
    cls = lgbm_class(task.task_type)
    extra: dict[str, Any] = {} if default_margin is None else {"default_margin": default_margin}
    if race:
        extra["race"] = race

    def make(X: pd.DataFrame, y: pd.Series) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = recommend(X, y, model=FAMILY, k=5, **extra)
        params = dict(result.recommendations[0].params)
        return cls(**{**params, **common_kwargs(seed, n_jobs)})

    return make
