"""Linear models: ``LogisticRegression`` (classification) and ``Ridge`` (regression)."""

from __future__ import annotations

from typing import Any

from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution

from autometa.spaces.base import SearchSpace

#: lbfgs iterations; 10x scikit-learn's 100 so strongly regularised-off fits converge.
MAX_ITER = 1000


class LinearSpace(SearchSpace):
    """Family ``"linear"``: L2 logistic regression (``C``, ``class_weight``) or ridge (``alpha``).

    Inputs are one-hot encoded, median-imputed and standardised. ``penalty`` is not passed
    (deprecated in scikit-learn 1.8; L2 is the default), nor ``n_jobs`` (no effect since 1.8).
    """

    family = "linear"
    version = "linear-1"
    preprocessing = "impute_scale"

    def _space(self, task_type: str) -> dict[str, BaseDistribution]:
        if task_type == "regression":
            return {"alpha": FloatDistribution(1e-4, 1e4, log=True)}
        return {
            "C": FloatDistribution(1e-4, 1e4, log=True),
            "class_weight": CategoricalDistribution((None, "balanced")),
        }

    def _default(self, task_type: str) -> dict[str, Any]:
        if task_type == "regression":
            return {"alpha": 1.0}
        return {"C": 1.0, "class_weight": None}

    def _estimator_kwargs(
        self, config: dict[str, Any], task_type: str, random_state: int, n_jobs: int
    ) -> dict[str, Any]:
        if task_type == "regression":
            return {**config, "random_state": random_state}
        return {**config, "solver": "lbfgs", "max_iter": MAX_ITER, "random_state": random_state}

    def estimator_class(self, task_type: str) -> type:
        """``Ridge`` for regression, else ``LogisticRegression``."""
        from sklearn.linear_model import LogisticRegression, Ridge

        return Ridge if task_type == "regression" else LogisticRegression
