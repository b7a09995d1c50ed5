"""Portfolio member selection from meta-features (algorithm selection over the portfolio).

A greedy :class:`~autometa.meta.portfolio.Portfolio` of ``n_members`` is built on the
training tasks; one small LightGBM regressor per member predicts its normalised score
from the meta-features, and the predicted winner is the member with the highest score.
Per-member regression (rather than a classifier on the winner's label) keeps near-ties
informative and gives calibrated scores for stacking.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from autometa.meta._base import BasePrediction, MetaModel, nan_mean, register_model
from autometa.meta._columns import (
    columns_from_state,
    columns_state,
    fit_columns,
    predict_columns,
)
from autometa.meta.data import MetaData
from autometa.meta.portfolio import greedy_portfolio


@register_model
class PortfolioClassifier(MetaModel):
    """Predicts each portfolio member's normalised score; non-members get NaN.

    Args:
        n_members: portfolio size.
        n_estimators, learning_rate, num_leaves, min_child_samples: LightGBM's.
        features: meta-feature columns or set name (default: all covering half the tasks).
        seed: LightGBM seed.
    """

    name = "selector"

    def __init__(
        self,
        n_members: int = 8,
        n_estimators: int = 100,
        learning_rate: float = 0.05,
        num_leaves: int = 7,
        min_child_samples: int = 8,
        features: str | Sequence[str] | None = None,
        seed: int = 0,
    ) -> None:
        self.features = features
        self.n_members = n_members
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.seed = seed

    def _fit(self, data: MetaData, rows: np.ndarray, X: np.ndarray, Y: np.ndarray) -> None:
        self.members_, _ = greedy_portfolio(Y, self.n_members)
        self.fallback_ = nan_mean(Y[:, self.members_], axis=0)
        self.boosters_ = fit_columns(
            X,
            Y[:, self.members_],
            self.n_estimators,
            self.learning_rate,
            self.num_leaves,
            self.min_child_samples,
            self.seed,
        )

    @property
    def member_ids_(self) -> np.ndarray:
        return self.config_ids_[self.members_]

    def member_scores(self, X: np.ndarray) -> np.ndarray:
        """Predicted normalised score of each member (tasks × members)."""
        return predict_columns(self.boosters_, X, self.fallback_)

    def _predict(self, X: np.ndarray, idx: np.ndarray, enc: np.ndarray) -> BasePrediction:
        scores = self.member_scores(X)
        where = {int(m): j for j, m in enumerate(self.members_)}
        out = np.full((len(X), len(idx)), np.nan)
        for c, i in enumerate(idx):
            if int(i) in where:
                out[:, c] = scores[:, where[int(i)]]
        return BasePrediction(out)

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, str]]:
        n, boosters = columns_state(self.boosters_, "member")
        return {"n_fitted": n}, {"members": self.members_, "fallback": self.fallback_}, boosters

    def _set_state(
        self,
        config: Mapping[str, Any],
        arrays: Mapping[str, np.ndarray],
        boosters: Mapping[str, str],
    ) -> None:
        self.members_ = np.asarray(arrays["members"], dtype=int)
        self.fallback_ = arrays["fallback"]
        self.boosters_ = columns_from_state(int(config["n_fitted"]), boosters, "member")
