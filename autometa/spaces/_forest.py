"""Shared space of the bagged-tree ensembles (random forest, extra trees)."""

from __future__ import annotations

from typing import Any, ClassVar

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from autometa.spaces.base import SearchSpace

#: Finite depths on a roughly log grid, unlimited (None) last: the index code is monotone.
MAX_DEPTH_CHOICES: tuple[int | None, ...] = (4, 6, 8, 12, 16, 24, 32, None)
#: ``max_features`` default for classification: scikit-learn's "sqrt" cannot be a fixed
#: fraction; 0.25 equals it at 16 features (see docs/spaces.md).
CLASSIFICATION_MAX_FEATURES = 0.25


class ForestSpace(SearchSpace):
    """Random-forest-like ensembles; subclasses set the estimator classes and bootstrap default."""

    preprocessing = "impute"
    bootstrap_default: ClassVar[bool]

    def _space(self, task_type: str) -> dict[str, BaseDistribution]:
        space: dict[str, BaseDistribution] = {
            "n_estimators": IntDistribution(16, 256, log=True),
            "max_features": FloatDistribution(0.05, 1.0, log=True),
            "min_samples_leaf": IntDistribution(1, 32, log=True),
            "min_samples_split": IntDistribution(2, 32, log=True),
            "max_depth": CategoricalDistribution(MAX_DEPTH_CHOICES),
            "bootstrap": CategoricalDistribution((False, True)),
        }
        if task_type != "regression":
            space["criterion"] = CategoricalDistribution(("gini", "entropy"))
        return space

    def _default(self, task_type: str) -> dict[str, Any]:
        default: dict[str, Any] = {
            "n_estimators": 100,
            "max_features": 1.0 if task_type == "regression" else CLASSIFICATION_MAX_FEATURES,
            "min_samples_leaf": 1,
            "min_samples_split": 2,
            "max_depth": None,
            "bootstrap": self.bootstrap_default,
        }
        if task_type != "regression":
            default["criterion"] = "gini"
        return default

    def _estimator_kwargs(
        self, config: dict[str, Any], task_type: str, random_state: int, n_jobs: int
    ) -> dict[str, Any]:
        return {**config, "random_state": random_state, "n_jobs": n_jobs}
