"""LightGBM surrogate: (task meta-features, configuration encoding) -> normalised score.

Unlike the other base models it scores any encoding, including configurations no task
has evaluated. ``objective="lambdarank"`` learns the order within each task instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np

from autometa.exceptions import MetaModelError
from autometa.meta._base import BasePrediction, MetaModel, lgb_params, register_model
from autometa.meta.data import MetaData

_OBJECTIVES = ("regression", "lambdarank")
_GRADES = 30  # relevance levels of the lambdarank label


def pair_features(X: np.ndarray, enc: np.ndarray) -> np.ndarray:
    """Rows [task meta-features, configuration encoding] for every task × candidate."""
    n_t, n_c = len(X), len(enc)
    return np.hstack([np.repeat(X, n_c, axis=0), np.tile(enc, (n_t, 1))])


@register_model
class Surrogate(MetaModel):
    """Gradient-boosted regressor (or LambdaRank ranker) over task × configuration pairs.

    Args:
        objective: "regression" (predicts the normalised score) or "lambdarank".
        n_estimators, learning_rate, num_leaves, min_child_samples: LightGBM's.
        features: meta-feature columns (default: all covering half the tasks).
        n_jobs: LightGBM threads.
        seed: LightGBM seed (bagging and feature sampling).
    """

    name = "surrogate"

    def __init__(
        self,
        objective: str = "regression",
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 50,
        features: str | Sequence[str] | None = None,
        n_jobs: int = 1,
        seed: int = 0,
    ) -> None:
        self.objective = objective
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.features = features
        self.n_jobs = n_jobs
        self.seed = seed

    @property
    def calibrated(self) -> bool:  # type: ignore[override]
        return self.objective == "regression"

    def _fit(self, data: MetaData, rows: np.ndarray, X: np.ndarray, Y: np.ndarray) -> None:
        if self.objective not in _OBJECTIVES:
            raise MetaModelError(
                f"unknown objective {self.objective!r}; valid: {', '.join(_OBJECTIVES)}"
            )
        F = pair_features(X, self.encodings_)
        y = Y.ravel()
        ok = np.isfinite(y)
        params = lgb_params(
            objective=self.objective,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_data_in_leaf=self.min_child_samples,
            feature_fraction=0.8,
            bagging_fraction=0.8,
            bagging_freq=1,
            lambda_l2=1.0,
            num_threads=self.n_jobs,
            seed=self.seed,
        )
        if self.objective == "lambdarank":
            label = np.rint(y[ok] * _GRADES).astype(int)
            group = (~np.isnan(Y)).sum(axis=1)
            params |= {"label_gain": list(range(_GRADES + 1)), "lambdarank_truncation_level": 10}
            train = lgb.Dataset(F[ok], label, group=group[group > 0])
        else:
            train = lgb.Dataset(F[ok], y[ok])
        self.booster_ = lgb.train(params, train, num_boost_round=self.n_estimators)

    def _predict(self, X: np.ndarray, idx: np.ndarray, enc: np.ndarray) -> BasePrediction:
        raw = self.booster_.predict(pair_features(X, enc))
        return BasePrediction(np.asarray(raw, dtype=float).reshape(len(X), len(enc)))

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, str]]:
        return {}, {}, {"booster": self.booster_.model_to_string()}

    def _set_state(
        self,
        config: Mapping[str, Any],
        arrays: Mapping[str, np.ndarray],
        boosters: Mapping[str, str],
    ) -> None:
        self.booster_ = lgb.Booster(model_str=boosters["booster"])
