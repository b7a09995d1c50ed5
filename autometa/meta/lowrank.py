"""Latent factors: a low-rank model of the task × configuration score matrix.

Collaborative filtering for algorithm selection (in the spirit of Fusi et al., "Probabilistic
matrix factorization for automated machine learning", 2018, and of Misir & Sebag's
"Alors"): the training tasks' normalised scores, centred per configuration, are factorised
by a truncated SVD, ``Y ≈ mean + Z @ V``; the configurations' factors ``V`` say which of them
rise and fall together across tasks, and one small LightGBM regressor per factor predicts a
new task's loading ``Z`` from its meta-features. Unlike the portfolio selector it scores
every known configuration; unlike the surrogate it needs no configuration encoding (a new
encoding scores NaN).
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


@register_model
class LatentFactors(MetaModel):
    """Predicts every known configuration's normalised score through low-rank factors.

    Args:
        n_components: factors kept (at most the training matrix's rank).
        n_estimators, learning_rate, num_leaves, min_child_samples: LightGBM's, per factor.
        features: meta-feature columns or set name (default: all covering half the tasks).
        seed: LightGBM seed.
    """

    name = "lowrank"

    def __init__(
        self,
        n_components: int = 8,
        n_estimators: int = 100,
        learning_rate: float = 0.05,
        num_leaves: int = 7,
        min_child_samples: int = 8,
        features: str | Sequence[str] | None = None,
        seed: int = 0,
    ) -> None:
        self.n_components = n_components
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.features = features
        self.seed = seed

    def _fit(self, data: MetaData, rows: np.ndarray, X: np.ndarray, Y: np.ndarray) -> None:
        mean = np.nan_to_num(nan_mean(Y, axis=0), nan=0.0)
        centred = np.where(np.isnan(Y), 0.0, Y - mean)  # a missing score sits at the mean
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        rank = int((s > 1e-9 * max(float(s[0]), 1e-300)).sum()) if s.size else 0
        keep = max(0, min(self.n_components, rank))
        self.mean_ = mean
        self.components_ = vt[:keep]
        loadings = centred @ self.components_.T
        self.boosters_ = fit_columns(
            X,
            loadings,
            self.n_estimators,
            self.learning_rate,
            self.num_leaves,
            self.min_child_samples,
            self.seed,
        )

    def loadings(self, X: np.ndarray) -> np.ndarray:
        """Predicted factor loadings (tasks × factors) of scaled meta-features ``X``; a
        factor without a model (too few tasks) gets the mean loading, 0."""
        return predict_columns(self.boosters_, X, np.zeros(len(self.boosters_)))

    def _predict(self, X: np.ndarray, idx: np.ndarray, enc: np.ndarray) -> BasePrediction:
        known = idx >= 0
        pos = np.where(known, idx, 0)
        full = self.mean_[pos][None, :] + self.loadings(X) @ self.components_[:, pos]
        return BasePrediction(np.where(known[None, :], full, np.nan))

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, str]]:
        n, boosters = columns_state(self.boosters_, "factor")
        return {"n_fitted": n}, {"mean": self.mean_, "components": self.components_}, boosters

    def _set_state(
        self,
        config: Mapping[str, Any],
        arrays: Mapping[str, np.ndarray],
        boosters: Mapping[str, str],
    ) -> None:
        self.mean_ = np.asarray(arrays["mean"], dtype=float)
        self.components_ = np.asarray(arrays["components"], dtype=float)
        self.boosters_ = columns_from_state(int(config["n_fitted"]), boosters, "factor")
