"""A broad LightGBM space written as a user would, for the cold-TPE reference of the search
benchmarks: the parameters and ranges of Optuna's LightGBM example (``lightgbm_simple.py``:
L1/L2 penalties, leaves, feature and bagging fractions, bagging frequency, leaf size) in
the scikit-learn API's names, with the learning rate and up to 2,000 trees added."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution

from autometa.benchmark.live.factories import common_kwargs, lgbm_class
from autometa.benchmark.live.folds import Factory
from autometa.benchmark.live.tasks import Task


def user_distributions() -> dict[str, BaseDistribution]:
    """The user's space, in ``LGBMClassifier``/``LGBMRegressor`` argument names."""
    return {
        "learning_rate": FloatDistribution(0.005, 0.3, log=True),
        "n_estimators": IntDistribution(50, 2000, log=True),
        "num_leaves": IntDistribution(2, 256),
        "min_child_samples": IntDistribution(5, 100),
        "colsample_bytree": FloatDistribution(0.4, 1.0),
        "subsample": FloatDistribution(0.4, 1.0),
        "subsample_freq": IntDistribution(1, 7),
        "reg_alpha": FloatDistribution(1e-8, 10.0, log=True),
        "reg_lambda": FloatDistribution(1e-8, 10.0, log=True),
    }


def user_factory(params: Mapping[str, Any], task: Task, seed: int, n_jobs: int) -> Factory:
    """An estimator with a trial's params of :func:`user_distributions`."""
    cls = lgbm_class(task.task_type)
    kwargs = {**params, **common_kwargs(seed, n_jobs)}
    return lambda X, y: cls(**kwargs)
