"""LightGBM (``LGBMClassifier`` / ``LGBMRegressor``) search space."""

from __future__ import annotations

from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from autometa.spaces.base import SearchSpace

#: Finite depths first, unlimited (-1, LightGBM's sentinel) last: the index code is monotone.
MAX_DEPTH_CHOICES: tuple[int, ...] = (*range(3, 13), -1)


class LightGBMSpace(SearchSpace):
    """Gradient-boosted trees with LightGBM; the same space for all task types.

    ``subsample`` is bagging without a separate frequency parameter: ``subsample_freq``
    is derived (1 when ``subsample < 1``, else 0, LightGBM's default).
    """

    family = "lightgbm"
    version = "lightgbm-1"
    zero_floor = frozenset({"reg_alpha", "reg_lambda"})
    preprocessing = "native"

    def _space(self, task_type: str) -> dict[str, BaseDistribution]:
        return {
            "learning_rate": FloatDistribution(0.005, 0.5, log=True),
            "n_estimators": IntDistribution(16, 1024, log=True),
            "num_leaves": IntDistribution(4, 256, log=True),
            "max_depth": CategoricalDistribution(MAX_DEPTH_CHOICES),
            "min_child_samples": IntDistribution(2, 100, log=True),
            "subsample": FloatDistribution(0.5, 1.0),
            "colsample_bytree": FloatDistribution(0.3, 1.0),
            "reg_alpha": FloatDistribution(1e-8, 10.0, log=True),
            "reg_lambda": FloatDistribution(1e-8, 10.0, log=True),
        }

    def _default(self, task_type: str) -> dict[str, Any]:
        return {
            "learning_rate": 0.1,
            "n_estimators": 100,
            "num_leaves": 31,
            "max_depth": -1,
            "min_child_samples": 20,
            "subsample": 1.0,
            "colsample_bytree": 1.0,
            "reg_alpha": 1e-8,  # stands for LightGBM's 0.0 (see zero_floor)
            "reg_lambda": 1e-8,
        }

    def _estimator_kwargs(
        self, config: dict[str, Any], task_type: str, random_state: int, n_jobs: int
    ) -> dict[str, Any]:
        return {
            **config,
            "subsample_freq": 1 if config["subsample"] < 1.0 else 0,
            "random_state": random_state,
            "n_jobs": n_jobs,
            "verbosity": -1,
        }

    def estimator_class(self, task_type: str) -> type:
        """``LGBMRegressor`` for regression, else ``LGBMClassifier``."""
        import lightgbm

        if task_type == "regression":
            return lightgbm.LGBMRegressor
        return lightgbm.LGBMClassifier
