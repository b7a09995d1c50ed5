"""Nearest-task meta-model (auto-sklearn's meta-learning warm start, made a scorer).

Tasks are compared by the distance between their scaled meta-features; a candidate's
predicted normalised score is the distance-weighted mean of the k nearest training
tasks' normalised scores (a configuration none of them evaluated falls back to its mean
over all training tasks; an unknown encoding gets NaN).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist

from autometa.exceptions import MetaModelError
from autometa.meta._base import (
    BasePrediction,
    MetaFeatures,
    MetaModel,
    nan_mean,
    register_model,
    top1_regret,
)
from autometa.meta._distance import learn_weights
from autometa.meta.data import MetaData

_METRICS = {"l1": "cityblock", "l2": "euclidean"}
_WEIGHTS = ("uniform", "learned", "auto")


@dataclass(frozen=True)
class Novelty:
    """How far a task lies from the training tasks.

    ``distance`` to the nearest training task; ``ratio`` to the median of the training
    tasks' own nearest-other-group distances; ``percentile`` of ``distance`` among them.
    """

    distance: float
    ratio: float
    percentile: float


@register_model
class NearestTasks(MetaModel):
    """Distance-weighted k-nearest-task scores.

    Args:
        k: neighbours averaged.
        metric: "l1" or "l2" distance on the scaled meta-features.
        features: meta-feature columns, or a set name ("compact": size and landmarker
            qualities; "all" or None: every column covering half the tasks).
        robust: scale by median/IQR without logs (FLAML's zero-shot scaling).
        weighting: "inverse" distance weights or "uniform".
        weights: of the meta-features in the distance: "uniform", "learned" from which
            training tasks rank configurations alike (:mod:`autometa.meta._distance`), or
            "auto": the one with the lower top-1 regret in a 5-fold leave-group-out
            cross-validation on the training tasks (uniform on a tie).
    """

    name = "knn"
    stack_extras = ("std", "distance")

    def __init__(
        self,
        k: int = 20,
        metric: str = "l2",
        features: str | Sequence[str] | None = "compact",
        robust: bool = False,
        weighting: str = "inverse",
        weights: str = "uniform",
    ) -> None:
        self.k = k
        self.metric = metric
        self.features = features
        self.robust = robust
        self.weighting = weighting
        self.weights = weights

    def _fit(self, data: MetaData, rows: np.ndarray, X: np.ndarray, Y: np.ndarray) -> None:
        if self.metric not in _METRICS:
            raise MetaModelError(f"unknown metric {self.metric!r}; valid: {', '.join(_METRICS)}")
        if self.weighting not in ("inverse", "uniform"):
            raise MetaModelError(f"unknown weighting {self.weighting!r}; valid: inverse, uniform")
        if self.weights not in _WEIGHTS:
            raise MetaModelError(f"unknown weights {self.weights!r}; valid: {', '.join(_WEIGHTS)}")
        groups = data.groups(self.train_task_ids_)
        self.weights_ = self._choose_weights(data) if self.weights == "auto" else self.weights
        learned = self.weights_ == "learned"
        self.scale_ = np.sqrt(learn_weights(X, Y, groups)) if learned else np.ones(X.shape[1])
        X = X * self.scale_
        self.X_ = X
        self.Y_ = Y
        self.names_ = data.tasks["name"].to_numpy()[rows].astype(str)
        self.groups_ = groups
        self.config_mean_ = nan_mean(Y, axis=0)
        # each training task's distance to its nearest task of another group
        d = cdist(X, X, _METRICS[self.metric])
        d[self.groups_[:, None] == self.groups_[None, :]] = np.inf
        nearest = d.min(axis=1)
        self.reference_ = (
            np.sort(nearest[np.isfinite(nearest)]) if np.isfinite(nearest).any() else np.zeros(1)
        )

    def _choose_weights(self, data: MetaData, n_splits: int = 5) -> str:
        """ "uniform" or "learned", by inner leave-group-out top-1 regret."""
        from sklearn.model_selection import GroupKFold

        ids = self.train_task_ids_
        groups = data.groups(ids)
        n_splits = min(n_splits, len(np.unique(groups)))
        if n_splits < 2:
            return "uniform"
        folds = list(GroupKFold(n_splits, shuffle=True, random_state=0).split(ids, groups=groups))
        regret = {}
        for weights in ("uniform", "learned"):
            params = {**self.get_params(), "weights": weights}
            total = 0.0
            for train, test in folds:
                model = NearestTasks(**params).fit(data, ids[train])
                pred = model.predict_batch(data.metafeatures.loc[ids[test]]).score
                total += top1_regret(pred, data.normalised[data.rows(ids[test])]) * len(test)
            regret[weights] = total / len(ids)
        return "learned" if regret["learned"] < regret["uniform"] - 1e-12 else "uniform"

    def kneighbors(self, X: np.ndarray, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Distances and training-row positions of the ``k`` nearest tasks, nearest first."""
        d = cdist(np.atleast_2d(X) * self.scale_, self.X_, _METRICS[self.metric])
        k = min(k or self.k, len(self.X_))
        order = np.argsort(d, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(d, order, axis=1), order

    def _predict(self, X: np.ndarray, idx: np.ndarray, enc: np.ndarray) -> BasePrediction:
        dist, nbrs = self.kneighbors(X)
        scale = max(float(np.median(self.reference_)), 1e-9)
        w = 1.0 / (dist / scale + 0.05) if self.weighting == "inverse" else np.ones_like(dist)
        known = np.clip(idx, 0, None)
        S = self.Y_[nbrs][:, :, known]  # tasks × k × candidates
        W = np.where(np.isnan(S), 0.0, w[:, :, None])
        total = W.sum(axis=1)
        with np.errstate(all="ignore"):
            mean = np.nansum(W * np.nan_to_num(S), axis=1) / total
            var = np.nansum(W * (np.nan_to_num(S) - mean[:, None, :]) ** 2, axis=1) / total
        mean = np.where(total > 0, mean, self.config_mean_[known][None, :])
        unknown = idx < 0
        mean[:, unknown] = np.nan
        std = np.where(total > 0, np.sqrt(var), np.nan)
        std[:, unknown] = np.nan
        distance = np.broadcast_to(dist[:, :1], mean.shape)
        return BasePrediction(mean, {"std": std, "distance": distance})

    # ------------------------------------------------------------------ explanations
    def neighbours(self, metafeatures: MetaFeatures, n: int = 5) -> pd.DataFrame:
        """The ``n`` nearest training tasks of one task: task_id, name, group_key, distance."""
        self._check_fitted()
        dist, rows = self.kneighbors(self.transform_.transform(metafeatures)[:1], n)
        return pd.DataFrame(
            {
                "task_id": self.train_task_ids_[rows[0]],
                "name": self.names_[rows[0]],
                "group_key": self.groups_[rows[0]],
                "distance": dist[0],
            }
        )

    def novelty(self, metafeatures: MetaFeatures) -> list[Novelty]:
        """Distance of each task to the training tasks, relative to their own spacing."""
        self._check_fitted()
        dist, _ = self.kneighbors(self.transform_.transform(metafeatures), 1)
        ref = self.reference_
        median = max(float(np.median(ref)), 1e-12)
        return [
            Novelty(float(d), float(d / median), float(np.searchsorted(ref, d, "right") / len(ref)))
            for d in dist[:, 0]
        ]

    def neighbour_best_ranking(self, X: np.ndarray, style: str = "autosklearn") -> np.ndarray:
        """Rank scores (higher first) of every configuration for each task of ``X``.

        ``"autosklearn"``: the best configuration of the nearest task, then of the second
        nearest, ...; ``"flaml"``: the nearest task's configurations by its scores. Ties
        and the rest follow the training mean score.
        """
        n_cfg = len(self.config_ids_)
        _, nbrs = self.kneighbors(X, len(self.X_) if style == "autosklearn" else 1)
        prior = np.nan_to_num(self.config_mean_, nan=-1.0)
        out = np.empty((len(nbrs), n_cfg))
        for t, rows in enumerate(nbrs):
            if style == "flaml":
                y = np.nan_to_num(self.Y_[rows[0]], nan=-1.0)
                out[t] = 2.0 * y + 1e-6 * prior  # nearest task's scores, prior breaks ties
                continue
            rank = np.full(n_cfg, np.inf)
            pos = 0
            for r in rows:
                y = self.Y_[r]
                if np.isnan(y).all():
                    continue
                best = int(np.nanargmax(y))
                if np.isinf(rank[best]):
                    rank[best] = pos
                    pos += 1
            rest = np.isinf(rank)
            rank[rest] = pos + np.argsort(np.argsort(-prior[rest]))
            out[t] = -rank
        return out

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, str]]:
        config = {
            "names": self.names_.tolist(),
            "groups": self.groups_.tolist(),
            "weights": self.weights_,
        }
        arrays = {"X": self.X_, "Y": self.Y_, "config_mean": self.config_mean_}
        return config, arrays | {"reference": self.reference_, "scale": self.scale_}, {}

    def _set_state(
        self,
        config: Mapping[str, Any],
        arrays: Mapping[str, np.ndarray],
        boosters: Mapping[str, str],
    ) -> None:
        self.names_ = np.asarray(config["names"], dtype=object).astype(str)
        self.groups_ = np.asarray(config["groups"], dtype=object).astype(str)
        self.X_, self.Y_ = arrays["X"], arrays["Y"]
        self.config_mean_, self.reference_ = arrays["config_mean"], arrays["reference"]
        self.scale_, self.weights_ = arrays["scale"], config["weights"]
