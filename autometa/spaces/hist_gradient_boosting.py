"""scikit-learn ``HistGradientBoosting{Classifier,Regressor}`` search space."""

from __future__ import annotations

from typing import Any

from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution

from autometa.spaces.base import SearchSpace


class HistGradientBoostingSpace(SearchSpace):
    """Histogram gradient boosting; ``early_stopping=False`` so ``max_iter`` is what runs.

    The estimator has no ``n_jobs``: it uses OpenMP threads, limit them with
    ``threadpoolctl.threadpool_limits``.
    """

    family = "hist_gradient_boosting"
    version = "hist_gradient_boosting-1"
    zero_floor = frozenset({"l2_regularization"})
    preprocessing = "native"

    def _space(self, task_type: str) -> dict[str, BaseDistribution]:
        return {
            "learning_rate": FloatDistribution(0.01, 0.5, log=True),
            "max_iter": IntDistribution(16, 512, log=True),
            "max_leaf_nodes": IntDistribution(4, 128, log=True),
            "min_samples_leaf": IntDistribution(2, 100, log=True),
            "l2_regularization": FloatDistribution(1e-8, 10.0, log=True),
            "max_features": FloatDistribution(0.3, 1.0),
        }

    def _default(self, task_type: str) -> dict[str, Any]:
        return {
            "learning_rate": 0.1,
            "max_iter": 100,
            "max_leaf_nodes": 31,
            "min_samples_leaf": 20,
            "l2_regularization": 1e-8,  # stands for scikit-learn's 0.0 (see zero_floor)
            "max_features": 1.0,
        }

    def _estimator_kwargs(
        self, config: dict[str, Any], task_type: str, random_state: int, n_jobs: int
    ) -> dict[str, Any]:
        return {
            **config,
            "early_stopping": False,
            "categorical_features": "from_dtype",
            "random_state": random_state,
        }

    def estimator_class(self, task_type: str) -> type:
        """``HistGradientBoostingRegressor`` for regression, else the classifier."""
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        if task_type == "regression":
            return HistGradientBoostingRegressor
        return HistGradientBoostingClassifier
